"""One training loop for every notebook of the course.

Nothing in here knows which model it trains (as in minGPT's trainer): ``fit`` takes a model,
a loader of batches, a loss and a ``TrainConfig``, and returns a ``History``. Read it top to
bottom: config, history, batch helpers, optimiser, ``evaluate``, ``fit``.

Batches are ``(x, y)``, ``(x, y, lengths)`` or dicts with keys ``"x"``, ``"y"`` and optionally
``"lengths"``. The default step calls ``model(x)`` (or ``model(x, lengths=lengths)``), keeps the
first element when the model returns a tuple such as ``(logits, state)``, and applies
``loss_fn(outputs, y)``. Lessons that need something else (a masked loss, teacher forcing)
pass ``step_fn(model, batch) -> loss``. Truncated BPTT over consecutive chunks of one long
text is ``TBPTTStep``, which is both the step function and the callback that resets its state::

    tbptt = TBPTTStep(lambda logits, y: F.cross_entropy(logits.transpose(1, 2), y))
    history = fit(model, train_chunks, val_chunks, step_fn=tbptt, callbacks=[tbptt])

Its whole logic is three lines: ``state = detach_state(state)`` (cut the graph: gradients stop
at the chunk border), ``logits, state = model(x, state)``, ``loss = loss_fn(logits, y)``. The
state lives in the step object, passed in and out of the model explicitly, never on the model.

A loss that turns NaN or infinite stops training with a ``DivergenceError`` that says where it
happened and what to try, instead of silently training on NaNs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from course_lib.device import set_seed

__all__ = [
    "DivergenceError",
    "History",
    "TrainConfig",
    "TBPTTStep",
    "TrainState",
    "detach_state",
    "evaluate",
    "fit",
    "grad_global_norm",
    "make_optimizer",
    "move_to_device",
    "unpack_batch",
]

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")


# ----------------------------------------------------------------------------- config


@dataclass
class TrainConfig:
    """Everything ``fit`` can be told. Defaults train quietly-ish with Adam for 10 epochs."""

    epochs: int = 10  # passes over train_loader
    lr: float = 1e-3  # learning rate given to the optimiser (and the scheduler's start)
    optimizer: str | Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer] = "adam"  # a name in OPTIMIZERS, or params -> Optimizer
    momentum: float = 0.0  # used by "sgd" and "rmsprop" only (0.9 turns SGD into SGD with momentum)
    weight_decay: float = 0.0  # L2 penalty as the optimiser implements it ("adamw": decoupled)
    clip_norm: float | None = None  # rescale all gradients so their global L2 norm <= clip_norm; None = off
    clip_value: float | None = None  # clamp every gradient entry to [-clip_value, clip_value]; None = off
    patience: int | None = None  # early stopping: stop after this many epochs without val improvement; None = off
    min_delta: float = 0.0  # an epoch "improves" only if val loss < best - min_delta
    restore_best: bool = True  # with early stopping on, reload the best epoch's weights at the end
    checkpoint_path: str | Path | None = None  # also torch.save the best weights here (needs val_loader)
    scheduler: Callable[[torch.optim.Optimizer], Any] | None = None  # optimizer -> LR scheduler; None = constant lr
    scheduler_interval: str = "epoch"  # call scheduler.step() once per "epoch" or once per "step"
    progress: bool = True  # show a tqdm progress bar (turn off in tests and scripts)
    seed: int | None = None  # call set_seed(seed) before building the optimiser; None = leave RNGs alone
    device: str | torch.device | None = None  # move the model here first; None = keep it where it is
    log_every: int = 0  # print the step loss every log_every steps (0 = never; the bar shows it anyway)

    def __post_init__(self) -> None:
        # Fail at construction, where the typo is, not twenty minutes into training.
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 1:
            raise ValueError(f"epochs must be an integer >= 1, got {self.epochs!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        if isinstance(self.optimizer, str) and self.optimizer.lower() not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS} or a callable, got {self.optimizer!r}")
        if not isinstance(self.optimizer, str) and not callable(self.optimizer):
            raise TypeError(f"optimizer must be a name or a callable params -> Optimizer, got {self.optimizer!r}")
        for name in ("clip_norm", "clip_value"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ValueError(f"{name} must be > 0 or None, got {value!r}")
        if self.patience is not None and (not isinstance(self.patience, int) or self.patience < 1):
            raise ValueError(f"patience must be an integer >= 1 or None, got {self.patience!r}")
        if self.min_delta < 0:
            raise ValueError(f"min_delta must be >= 0, got {self.min_delta!r}")
        if self.scheduler_interval not in ("epoch", "step"):
            raise ValueError(f"scheduler_interval must be 'epoch' or 'step', got {self.scheduler_interval!r}")
        if self.log_every < 0:
            raise ValueError(f"log_every must be >= 0, got {self.log_every!r}")


@dataclass
class History:
    """What happened during ``fit``; every list is in plain Python floats.

    Epochs are counted from 0, so ``val_loss[best_epoch]`` is the best validation loss.
    """

    train_loss: list[float] = field(default_factory=list)  # per epoch, mean over samples
    val_loss: list[float] = field(default_factory=list)  # per epoch (empty without val_loader)
    step_loss: list[float] = field(default_factory=list)  # per optimiser step
    grad_norm: list[float] = field(default_factory=list)  # per step, global L2 norm BEFORE clipping
    grad_norm_clipped: list[float] = field(default_factory=list)  # per step, global norm AFTER clipping
    metrics: dict[str, list[float]] = field(default_factory=dict)  # name -> per-epoch value on validation
    lr: list[float] = field(default_factory=list)  # per epoch, the lr at the epoch's start (param group 0)
    epoch_time: list[float] = field(default_factory=list)  # per epoch, seconds (training + validation)
    best_epoch: int | None = None  # index of the lowest val_loss; None without val_loader
    stopped_early: bool = False  # True when early stopping ended training before config.epochs

    def to_dict(self) -> dict[str, Any]:
        """Return a plain dict (JSON-serialisable) of every field."""
        return asdict(self)


@dataclass
class TrainState:
    """What callbacks see. Set ``stop = True`` in a callback to end training after this epoch."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    config: TrainConfig
    history: History
    epoch: int = 0  # current epoch, from 0
    step: int = 0  # step within the epoch, from 0
    global_step: int = 0  # steps since fit started
    loss: float = math.nan  # last step's loss
    stop: bool = False


class DivergenceError(RuntimeError):
    """The loss (or the gradient norm) became NaN or infinite during training."""


# ----------------------------------------------------------------------------- batch helpers


def detach_state(state: Any) -> Any:
    """Cut the autograd graph behind a recurrent state (truncated BPTT).

    Inputs:
    - state: None, a tensor h of shape (L*dirs, N, H), or a tuple/list such as the LSTM's
      (h, c), possibly nested.

    Returns:
    - the same structure with every tensor detached (values kept, history dropped), so the
      next chunk's backward pass stops here instead of running back to the first chunk.
    """
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, (tuple, list)):
        return type(state)(detach_state(s) for s in state)
    raise TypeError(f"state must be None, a tensor or a tuple/list of tensors, got {type(state).__name__}")


def move_to_device(batch: Any, device: torch.device) -> Any:
    """Return ``batch`` with every tensor moved to ``device`` (tuples, lists and dicts are walked)."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {k: move_to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (tuple, list)):
        return type(batch)(move_to_device(v, device) for v in batch)
    return batch


def unpack_batch(batch: Any) -> tuple[Any, Any, torch.Tensor | None]:
    """Split a batch into inputs, targets and (optional) lengths.

    Inputs:
    - batch: ``(x, y)``, ``(x, y, lengths)`` or a dict with keys ``"x"``, ``"y"`` and
      optionally ``"lengths"``. x is (N, T, D) or (N, T) token ids; y is whatever the loss
      expects; lengths is (N,).

    Returns:
    - (x, y, lengths), lengths None when the batch has none.
    """
    if isinstance(batch, Mapping):
        missing = [k for k in ("x", "y") if k not in batch]
        if missing:
            raise ValueError(f"a dict batch needs keys 'x' and 'y' (and optionally 'lengths'); missing {missing}")
        return batch["x"], batch["y"], batch.get("lengths")
    if isinstance(batch, (tuple, list)) and len(batch) in (2, 3):
        return batch[0], batch[1], (batch[2] if len(batch) == 3 else None)
    raise ValueError(
        "a batch must be (x, y), (x, y, lengths) or a dict with 'x' and 'y'; "
        f"got {type(batch).__name__}{f' of length {len(batch)}' if isinstance(batch, (tuple, list)) else ''}. "
        "For anything else pass step_fn=..."
    )


class TBPTTStep:
    """Truncated BPTT: a ``step_fn`` that carries the recurrent state from chunk to chunk.

    Use it as ``fit(..., step_fn=tbptt, callbacks=[tbptt])``: as a callback it resets the
    state to None at the start of every epoch and before validation, so validation never
    starts from the training state (and the first chunk of an epoch starts from zeros).
    Consecutive batches must continue each other row by row (contiguous LM batching).

    Inputs (to ``__call__``):
    - model: ``model(x, state) -> (outputs, state)``, e.g. ``CharLM``.
    - batch: (x, y) (or a dict with "x", "y"): x (N, T) chunk, y (N, T) next tokens.

    Returns:
    - (loss, outputs, targets), so metrics work on validation.
    """

    def __init__(self, loss_fn: Callable[[Any, Any], torch.Tensor]) -> None:
        self.loss_fn = loss_fn
        self.state: Any = None

    def __call__(self, model: nn.Module, batch: Any) -> tuple[torch.Tensor, Any, Any]:
        x, y, _ = unpack_batch(batch)
        self.state = detach_state(self.state)  # keep the values, drop the graph of earlier chunks
        out, self.state = model(x, self.state)
        return self.loss_fn(out, y), out, y

    def reset(self, _state: Any = None) -> None:
        """Forget the carried state (the next chunk starts from zeros)."""
        self.state = None

    on_epoch_begin = reset
    on_validation_begin = reset


def _batch_size(batch: Any) -> int:
    """Number of samples in a batch: dim 0 of its first tensor (1 if it holds none)."""
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0]) if batch.dim() > 0 else 1
    values = batch.values() if isinstance(batch, Mapping) else batch if isinstance(batch, (tuple, list)) else ()
    for v in values:
        if isinstance(v, (torch.Tensor, tuple, list, Mapping)):
            return _batch_size(v)
    return 1


def _model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter (CPU for a model without parameters)."""
    try:
        return next(model.parameters()).device
    except StopIteration:
        return torch.device("cpu")


def _default_step(
    model: nn.Module, batch: Any, loss_fn: Callable[[Any, Any], torch.Tensor]
) -> tuple[torch.Tensor, Any, Any]:
    """Forward one batch the plain way; return (loss, outputs, targets)."""
    x, y, lengths = unpack_batch(batch)
    out = model(x) if lengths is None else model(x, lengths=lengths)
    if isinstance(out, (tuple, list)):  # e.g. (logits, state) from a language model
        out = out[0]
    return loss_fn(out, y), out, y


def _run_step(
    model: nn.Module, batch: Any, loss_fn: Callable | None, step_fn: Callable | None
) -> tuple[torch.Tensor, Any, Any]:
    """Run the user's step_fn or the default one; always return (loss, outputs, targets)."""
    if step_fn is None:
        return _default_step(model, batch, loss_fn)
    result = step_fn(model, batch)
    if isinstance(result, (tuple, list)):
        if len(result) != 3:
            raise ValueError(f"step_fn must return a loss or (loss, outputs, targets), got a {len(result)}-tuple")
        loss, out, y = result
    else:
        loss, out, y = result, None, None
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise TypeError(f"the loss must be a scalar tensor, got {type(loss).__name__} {getattr(loss, 'shape', '')}")
    return loss, out, y


# ----------------------------------------------------------------------------- optimiser, gradients


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """Build the optimiser named in ``config`` over the model's trainable parameters.

    Inputs:
    - model: the module to train.
    - config: uses ``optimizer``, ``lr``, ``momentum``, ``weight_decay``.

    Returns:
    - a ``torch.optim.Optimizer``.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no trainable parameters (all have requires_grad=False)")
    if callable(config.optimizer):
        return config.optimizer(params)
    name, lr, wd = config.optimizer.lower(), config.lr, config.weight_decay
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=config.momentum, weight_decay=wd)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, momentum=config.momentum, weight_decay=wd)
    return torch.optim.Adagrad(params, lr=lr, weight_decay=wd)  # the last name in OPTIMIZERS


def grad_global_norm(parameters: Iterable[nn.Parameter]) -> float:
    """Global L2 norm of all gradients: ``sqrt(sum_p ||grad_p||^2)``.

    Inputs:
    - parameters: e.g. ``model.parameters()``; parameters without a gradient are skipped.

    Returns:
    - the norm as a float (0.0 when no parameter has a gradient).
    """
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    return float(torch.nn.utils.get_total_norm(grads, norm_type=2.0))


# ----------------------------------------------------------------------------- evaluation


@torch.no_grad()
def evaluate(
    model: nn.Module,
    loader: Iterable,
    loss_fn: Callable[[Any, Any], torch.Tensor] | None = None,
    step_fn: Callable[[nn.Module, Any], Any] | None = None,
    metrics: Mapping[str, Callable[[Any, Any], float]] | None = None,
) -> dict[str, float]:
    """Average loss (and metrics) over a loader, in eval mode and without gradients.

    Inputs:
    - model: the module; it is put in eval mode (dropout off) and back to the mode it was in.
    - loader: iterable of batches, as for ``fit``.
    - loss_fn: ``loss_fn(outputs, targets) -> scalar`` (a mean over the batch).
    - step_fn: instead of loss_fn, ``step_fn(model, batch)`` returning a loss or
      (loss, outputs, targets); metrics need the 3-tuple.
    - metrics: name -> ``fn(outputs, targets) -> float``, e.g. ``{"acc": accuracy}``.

    Returns:
    - ``{"loss": mean loss weighted by batch size, **{name: value}}``. Metrics see all
      outputs and targets concatenated along dim 0 (on the CPU); when batches cannot be
      concatenated (padded to different lengths) each metric is averaged over batches,
      weighted by batch size.
    """
    if loss_fn is None and step_fn is None:
        raise ValueError("evaluate needs loss_fn or step_fn")
    was_training = model.training
    model.eval()
    device = _model_device(model)
    total, count = 0.0, 0
    outs, targets, sizes = [], [], []
    try:
        for batch in loader:
            batch = move_to_device(batch, device)
            loss, out, y = _run_step(model, batch, loss_fn, step_fn)
            n = _batch_size(batch)
            total += float(loss) * n
            count += n
            if metrics:
                if out is None or y is None:
                    raise ValueError("metrics need outputs and targets: make step_fn return (loss, outputs, targets)")
                outs.append(out.detach().cpu())
                targets.append(y.detach().cpu())
                sizes.append(n)
    finally:
        model.train(was_training)  # also when an exception escapes, so a notebook cell can be re-run
    if count == 0:
        raise ValueError("the loader yielded no batches")
    result = {"loss": total / count}
    if metrics:
        try:
            all_out, all_y = torch.cat(outs), torch.cat(targets)
        except RuntimeError:  # shapes differ after dim 0 (ragged padding): average per batch instead
            all_out = all_y = None
        for name, fn in metrics.items():
            if all_out is not None:
                result[name] = float(fn(all_out, all_y))
            else:
                result[name] = sum(float(fn(o, t)) * n for o, t, n in zip(outs, targets, sizes, strict=True)) / count
    return result


# ----------------------------------------------------------------------------- training


EVENTS = ("on_train_begin", "on_epoch_begin", "on_step_end", "on_validation_begin", "on_epoch_end", "on_train_end")


def _call(callbacks: list, event: str, state: TrainState) -> None:
    """Call ``event`` on every callback object that has it; plain functions run at epoch end."""
    for cb in callbacks:
        if hasattr(cb, event):
            getattr(cb, event)(state)
        elif event == "on_epoch_end" and callable(cb) and not any(hasattr(cb, e) for e in EVENTS):
            cb(state)


def _divergence(what: str, value: float, state: TrainState, n_steps: int | None, last_finite: float) -> DivergenceError:
    """Build the error a student sees when training blows up."""
    cfg = state.config
    of_steps = f" of {n_steps}" if n_steps else ""
    last = f"{last_finite:.4g}" if math.isfinite(last_finite) else "none (the very first loss was already bad)"
    hint = (
        f"Try gradient clipping (e.g. TrainConfig(clip_norm=1.0), now clip_norm={cfg.clip_norm}) "
        f"or a lower learning rate (now lr={state.optimizer.param_groups[0]['lr']:.3g})."
    )
    return DivergenceError(
        f"training diverged: the {what} became {value} at epoch {state.epoch + 1} of {cfg.epochs}, "
        f"step {state.step + 1}{of_steps} (global step {state.global_step + 1}); "
        f"last finite loss: {last}. {hint}"
    )


def fit(
    model: nn.Module,
    train_loader: Iterable,
    val_loader: Iterable | None = None,
    loss_fn: Callable[[Any, Any], torch.Tensor] | None = None,
    config: TrainConfig | None = None,
    step_fn: Callable[[nn.Module, Any], Any] | None = None,
    metrics: Mapping[str, Callable[[Any, Any], float]] | None = None,
    callbacks: list | None = None,
) -> History:
    """Train ``model`` and return its ``History``.

    Inputs:
    - model: any ``nn.Module``; batches are moved to the device of its parameters.
    - train_loader: iterable of batches ((x, y), (x, y, lengths) or dicts); re-iterated
      every epoch (a DataLoader with shuffle=True reshuffles).
    - val_loader: optional; gives val_loss, metrics, early stopping and the best epoch.
    - loss_fn: ``loss_fn(outputs, targets) -> scalar`` (a mean over the batch).
    - config: a ``TrainConfig`` (defaults when None).
    - step_fn: ``step_fn(model, batch) -> loss`` (or (loss, outputs, targets)) replaces the
      default forward; the loop still does backward, clipping and the optimiser step.
    - metrics: name -> ``fn(outputs, targets) -> float`` computed on val_loader each epoch.
    - callbacks: objects with any of ``on_train_begin``, ``on_epoch_begin``, ``on_step_end``,
      ``on_validation_begin``, ``on_epoch_end``, ``on_train_end`` (each gets a ``TrainState``),
      or plain functions called at each epoch's end.

    Returns:
    - a ``History``. Raises ``DivergenceError`` when the loss or gradient norm becomes NaN/inf.
    """
    cfg = config if config is not None else TrainConfig()
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"config must be a TrainConfig, got {type(cfg).__name__}")
    if loss_fn is None and step_fn is None:
        raise ValueError("fit needs loss_fn (e.g. torch.nn.functional.mse_loss) or step_fn")
    if cfg.patience is not None and val_loader is None:
        raise ValueError("early stopping (patience) watches the validation loss: pass val_loader")
    if cfg.checkpoint_path is not None and val_loader is None:
        raise ValueError("checkpoint_path saves the best epoch by validation loss: pass val_loader")
    if metrics and val_loader is None:
        raise ValueError("metrics are computed on the validation set: pass val_loader")
    if metrics and "loss" in metrics:
        raise ValueError("'loss' is reserved for the validation loss; name the metric differently")
    callbacks = list(callbacks or [])

    if cfg.seed is not None:
        set_seed(cfg.seed)
    if cfg.device is not None:
        model.to(cfg.device)
    device = _model_device(model)
    optimizer = make_optimizer(model, cfg)
    scheduler = cfg.scheduler(optimizer) if cfg.scheduler is not None else None
    params = [p for group in optimizer.param_groups for p in group["params"]]

    history = History(metrics={name: [] for name in (metrics or {})})
    state = TrainState(model=model, optimizer=optimizer, config=cfg, history=history)
    best_loss, best_state, bad_epochs = math.inf, None, 0
    last_finite = math.nan
    try:
        n_steps = len(train_loader)  # type: ignore[arg-type]
    except TypeError:  # a generator: no length, no total for the bar
        n_steps = None
    bar = tqdm(total=n_steps * cfg.epochs if n_steps else None, disable=not cfg.progress, unit="step")

    try:
        model.train()
        _call(callbacks, "on_train_begin", state)
        for epoch in range(cfg.epochs):
            state.epoch, t0 = epoch, time.perf_counter()
            history.lr.append(float(optimizer.param_groups[0]["lr"]))
            _call(callbacks, "on_epoch_begin", state)
            model.train()
            total, count = 0.0, 0
            for step, batch in enumerate(train_loader):
                state.step = step
                batch = move_to_device(batch, device)
                optimizer.zero_grad(set_to_none=True)
                loss, _, _ = _run_step(model, batch, loss_fn, step_fn)
                loss_value = float(loss.detach())
                if not math.isfinite(loss_value):
                    raise _divergence("loss", loss_value, state, n_steps, last_finite)
                loss.backward()

                norm = grad_global_norm(params)  # measured before clipping: what the lesson plots
                if not math.isfinite(norm):
                    raise _divergence("gradient norm", norm, state, n_steps, last_finite)
                if cfg.clip_value is not None:
                    torch.nn.utils.clip_grad_value_(params, cfg.clip_value)
                if cfg.clip_norm is not None:  # after clipping by value, so the norm bound holds at the end
                    torch.nn.utils.clip_grad_norm_(params, cfg.clip_norm)
                clipped = norm if cfg.clip_value is None and cfg.clip_norm is None else grad_global_norm(params)
                optimizer.step()
                if scheduler is not None and cfg.scheduler_interval == "step":
                    scheduler.step()

                last_finite = loss_value
                n = _batch_size(batch)
                total, count = total + loss_value * n, count + n
                history.step_loss.append(loss_value)
                history.grad_norm.append(norm)
                history.grad_norm_clipped.append(clipped)
                state.loss = loss_value
                _call(callbacks, "on_step_end", state)
                state.global_step += 1
                bar.update(1)
                bar.set_postfix(epoch=f"{epoch + 1}/{cfg.epochs}", loss=f"{loss_value:.4f}", refresh=False)
                if cfg.log_every and state.global_step % cfg.log_every == 0:
                    tqdm.write(f"epoch {epoch + 1} step {step + 1}: loss {loss_value:.4f}, grad norm {norm:.3g}")
            if count == 0:
                raise ValueError("train_loader yielded no batches")
            history.train_loss.append(total / count)

            if val_loader is not None:
                _call(callbacks, "on_validation_begin", state)
                result = evaluate(model, val_loader, loss_fn=loss_fn, step_fn=step_fn, metrics=metrics)
                val = result.pop("loss")
                if not math.isfinite(val):
                    raise _divergence("validation loss", val, state, n_steps, last_finite)
                history.val_loss.append(val)
                for name, value in result.items():
                    history.metrics[name].append(value)
                if val < best_loss - cfg.min_delta:
                    best_loss, history.best_epoch, bad_epochs = val, epoch, 0
                    # A copy, not a reference: state_dict tensors alias the live parameters.
                    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
                    if cfg.checkpoint_path is not None:
                        torch.save(best_state, cfg.checkpoint_path)
                else:
                    bad_epochs += 1
                bar.set_postfix(epoch=f"{epoch + 1}/{cfg.epochs}", train=f"{history.train_loss[-1]:.4f}", val=f"{val:.4f}")

            if scheduler is not None and cfg.scheduler_interval == "epoch":
                if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                    scheduler.step(history.val_loss[-1] if history.val_loss else history.train_loss[-1])
                else:
                    scheduler.step()
            history.epoch_time.append(time.perf_counter() - t0)
            _call(callbacks, "on_epoch_end", state)
            if cfg.patience is not None and bad_epochs >= cfg.patience and epoch < cfg.epochs - 1:
                history.stopped_early = True
                break
            if state.stop:
                break
    finally:
        bar.close()  # also when DivergenceError escapes, so the notebook output stays tidy

    if cfg.patience is not None and cfg.restore_best and best_state is not None:
        model.load_state_dict(best_state)
    _call(callbacks, "on_train_end", state)
    return history
