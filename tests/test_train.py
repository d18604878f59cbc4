"""The training loop (course_lib.train) and the reported numbers (course_lib.metrics)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_lib import metrics
from course_lib.train import (
    DivergenceError,
    History,
    TBPTTStep,
    TrainConfig,
    detach_state,
    evaluate,
    fit,
    grad_global_norm,
    unpack_batch,
)

QUIET = {"progress": False}


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    """Tiny tensors: one thread is faster than two fighting over the 2-core CI runner."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def regression_loader(n: int = 64, batch_size: int = 16, scale: float = 1.0, seed: int = 0) -> DataLoader:
    """y = x @ w_true with 4 features."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = scale * (x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]]))
    return DataLoader(TensorDataset(x, y), batch_size=batch_size)


# ----------------------------------------------------------------------------- fit basics


def test_training_a_tiny_model_reduces_the_loss():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    loader = regression_loader()
    history = fit(model, loader, loss_fn=F.mse_loss, config=TrainConfig(epochs=15, lr=0.1, **QUIET))
    assert len(history.train_loss) == 15
    assert history.train_loss[-1] < 0.05 * history.train_loss[0]
    # The epoch loss is the sample-weighted mean of that epoch's step losses (equal batches here).
    assert history.train_loss[0] == pytest.approx(np.mean(history.step_loss[:4]))


def test_history_fields_are_filled_and_serialisable():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(60, 5, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()  # 3 classes
    train = DataLoader(TensorDataset(x[:40], y[:40]), batch_size=10)
    val = DataLoader(TensorDataset(x[40:], y[40:]), batch_size=7)  # uneven last batch on purpose
    model = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 3))
    cfg = TrainConfig(epochs=3, lr=0.01, **QUIET)
    history = fit(model, train, val, F.cross_entropy, cfg, metrics={"acc": metrics.accuracy})
    assert isinstance(history, History)
    assert len(history.train_loss) == len(history.val_loss) == len(history.lr) == len(history.epoch_time) == 3
    assert len(history.step_loss) == len(history.grad_norm) == len(history.grad_norm_clipped) == 3 * 4
    assert history.grad_norm == history.grad_norm_clipped  # no clipping configured
    assert all(t > 0 for t in history.epoch_time)
    assert history.lr == [0.01] * 3
    assert len(history.metrics["acc"]) == 3 and all(0 <= a <= 1 for a in history.metrics["acc"])
    assert history.best_epoch == int(np.argmin(history.val_loss))
    assert history.stopped_early is False
    # The recorded val loss and accuracy equal what evaluate reports on the final model.
    final = evaluate(model, val, F.cross_entropy, metrics={"acc": metrics.accuracy})
    assert final["loss"] == pytest.approx(history.val_loss[-1])
    with torch.no_grad():
        assert final["acc"] == pytest.approx(metrics.accuracy(model(x[40:]), y[40:]))
    d = history.to_dict()
    assert set(d) >= {"train_loss", "val_loss", "step_loss", "grad_norm", "metrics", "lr", "epoch_time",
                      "best_epoch", "stopped_early"}
    json.dumps(d)  # plain floats and lists only


def test_recorded_grad_norm_is_the_global_norm_before_the_step():
    torch.manual_seed(0)
    model = nn.Linear(4, 1)
    loader = regression_loader(n=16, batch_size=16)
    x, y = next(iter(loader))
    reference = nn.Linear(4, 1)
    reference.load_state_dict(model.state_dict())
    F.mse_loss(reference(x), y).backward()
    expected = math.sqrt(sum(float(p.grad.pow(2).sum()) for p in reference.parameters()))
    history = fit(model, loader, loss_fn=F.mse_loss, config=TrainConfig(epochs=1, optimizer="sgd", **QUIET))
    assert history.grad_norm[0] == pytest.approx(expected, rel=1e-6)
    assert grad_global_norm(reference.parameters()) == pytest.approx(expected, rel=1e-6)


def test_clip_norm_caps_the_post_clip_norm():
    torch.manual_seed(0)
    loader = regression_loader(scale=100.0)  # big targets -> big gradients
    cfg = TrainConfig(epochs=2, lr=0.01, optimizer="sgd", clip_norm=0.5, **QUIET)
    history = fit(nn.Linear(4, 1), loader, loss_fn=F.mse_loss, config=cfg)
    before, after = np.array(history.grad_norm), np.array(history.grad_norm_clipped)
    assert before.max() > 10 * 0.5  # the clipping really had something to do
    assert np.all(after <= 0.5 * (1 + 1e-5))
    np.testing.assert_allclose(after, np.minimum(before, 0.5), rtol=1e-4)


def test_clip_value_caps_every_gradient_entry():
    seen = []

    class MaxGrad:
        def on_step_end(self, state):
            seen.append(max(float(p.grad.abs().max()) for p in state.model.parameters()))

    torch.manual_seed(0)
    cfg = TrainConfig(epochs=1, lr=0.01, optimizer="sgd", clip_value=0.1, **QUIET)
    history = fit(nn.Linear(4, 1), regression_loader(scale=100.0), loss_fn=F.mse_loss, config=cfg,
                  callbacks=[MaxGrad()])
    assert len(seen) == 4
    assert max(seen) <= 0.1 + 1e-7
    assert max(history.grad_norm) > 1.0  # unclipped norms were much larger


def test_early_stopping_stops_and_restores_the_best_weights(tmp_path):
    # Train on y = 2x but validate on y = x: starting from w = 0, full-batch gradient descent
    # moves w toward 2 by 20% of the gap per epoch (w_e = 2 (1 - 0.8^e)), so the validation
    # loss falls until w passes 1 (epoch index 2, w = 0.976) and then rises.
    x = torch.linspace(-1, 1, 32).unsqueeze(1)
    ex2 = float((x**2).mean())
    train = DataLoader(TensorDataset(x, 2 * x), batch_size=32)
    val = DataLoader(TensorDataset(x, x), batch_size=32)
    model = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(model.weight)
    snapshots = []
    cfg = TrainConfig(epochs=20, lr=0.1 / ex2, optimizer="sgd", patience=2,
                      checkpoint_path=tmp_path / "best.pt", **QUIET)
    history = fit(model, train, val, F.mse_loss, cfg,
                  callbacks=[lambda s: snapshots.append(s.model.weight.detach().clone())])
    assert history.best_epoch == 2
    assert history.stopped_early is True
    assert len(history.val_loss) == history.best_epoch + cfg.patience + 1 == 5
    assert float(snapshots[-1]) == pytest.approx(2 * (1 - 0.8**5), rel=1e-5)  # trained past the best
    torch.testing.assert_close(model.weight.detach(), snapshots[2], rtol=0, atol=0)
    assert model.weight.item() == pytest.approx(2 * (1 - 0.8**3), rel=1e-5)
    saved = torch.load(tmp_path / "best.pt")
    torch.testing.assert_close(saved["weight"], snapshots[2], rtol=0, atol=0)


def test_without_restore_best_the_last_weights_stay():
    x = torch.linspace(-1, 1, 32).unsqueeze(1)
    train = DataLoader(TensorDataset(x, 2 * x), batch_size=32)
    val = DataLoader(TensorDataset(x, x), batch_size=32)
    model = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(model.weight)
    cfg = TrainConfig(epochs=20, lr=0.1 / float((x**2).mean()), optimizer="sgd", patience=2,
                      restore_best=False, **QUIET)
    fit(model, train, val, F.mse_loss, cfg)
    assert model.weight.item() == pytest.approx(2 * (1 - 0.8**5), rel=1e-5)


def test_huge_learning_rate_raises_divergence_error_with_advice():
    torch.manual_seed(0)
    cfg = TrainConfig(epochs=50, lr=1e4, optimizer="sgd", **QUIET)
    with pytest.raises(DivergenceError) as info:
        fit(nn.Linear(4, 1), regression_loader(), loss_fn=F.mse_loss, config=cfg)
    assert isinstance(info.value, RuntimeError)
    msg = str(info.value)
    assert "epoch" in msg and "step" in msg
    assert "last finite loss: " in msg and "last finite loss: none" not in msg
    assert "clip" in msg and "learning rate" in msg and "lr=1e+04" in msg


def test_nan_on_the_first_step_is_reported():
    def nan_loss(out, y):
        return (out - y).pow(2).mean() * float("nan")

    with pytest.raises(DivergenceError, match=r"epoch 1 of 1, step 1 of 4.*none"):
        fit(nn.Linear(4, 1), regression_loader(), loss_fn=nan_loss, config=TrainConfig(epochs=1, **QUIET))


# ----------------------------------------------------------------------------- evaluate, batches


class Probe(nn.Module):
    """Records the mode and grad state it was called in; accepts lengths."""

    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 1)
        self.calls: list[tuple[bool, bool, bool]] = []

    def forward(self, x, lengths=None):
        self.calls.append((self.training, torch.is_grad_enabled(), lengths is not None))
        return self.lin(x)


def test_evaluate_uses_eval_mode_no_grad_and_restores_the_mode():
    loader = regression_loader(n=20, batch_size=8)
    model = Probe()
    model.train()
    result = evaluate(model, loader, F.mse_loss)
    assert model.training is True
    assert model.calls and all(c[:2] == (False, False) for c in model.calls)
    model.eval()
    evaluate(model, loader, F.mse_loss)
    assert model.training is False  # restores the mode it found, not always train
    # Loss is a mean weighted by batch size (8, 8, 4), i.e. the full-data mean.
    x, y = loader.dataset.tensors
    with torch.no_grad():
        assert result["loss"] == pytest.approx(float(F.mse_loss(model.lin(x), y)), rel=1e-6)


def test_evaluate_restores_mode_after_an_error():
    model = Probe()
    model.train()
    with pytest.raises(ValueError, match="batch"):
        evaluate(model, [(torch.zeros(2, 4),)], F.mse_loss)
    assert model.training is True


def test_dict_and_lengths_batches_reach_the_model():
    x, y = torch.randn(8, 4), torch.randn(8, 1)
    model = Probe()
    fit(model, [{"x": x, "y": y, "lengths": torch.ones(8)}], loss_fn=F.mse_loss,
        config=TrainConfig(epochs=1, **QUIET))
    fit(model, [(x, y)], loss_fn=F.mse_loss, config=TrainConfig(epochs=1, **QUIET))
    assert [c[2] for c in model.calls] == [True, False]
    assert model.calls[0][:2] == (True, True)  # trained in train mode with gradients
    assert unpack_batch((x, y))[2] is None
    with pytest.raises(ValueError, match="'x' and 'y'"):
        unpack_batch({"inputs": x})
    with pytest.raises(ValueError, match="length 1"):
        unpack_batch((x,))


def test_models_returning_tuples_use_the_first_element():
    class WithState(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 1)

        def forward(self, x):
            return self.lin(x), "state"

    history = fit(WithState(), regression_loader(), loss_fn=F.mse_loss, config=TrainConfig(epochs=2, **QUIET))
    assert len(history.train_loss) == 2


def test_detach_state():
    h = torch.randn(1, 2, 3, requires_grad=True) * 2
    c = torch.randn(1, 2, 3, requires_grad=True) * 2
    assert detach_state(None) is None
    d = detach_state(h)
    assert not d.requires_grad and torch.equal(d, h)
    pair = detach_state((h, c))
    assert isinstance(pair, tuple) and len(pair) == 2
    assert not pair[0].requires_grad and not pair[1].requires_grad
    assert torch.equal(pair[1], c)
    nested = detach_state([(h, c), h])
    assert isinstance(nested, list) and not nested[0][1].requires_grad
    with pytest.raises(TypeError, match="state"):
        detach_state("h")


class TinyLM(nn.Module):
    def __init__(self, V=5, H=8):
        super().__init__()
        self.emb = nn.Embedding(V, H)
        self.rnn = nn.GRU(H, H, batch_first=True)
        self.head = nn.Linear(H, V)

    def forward(self, idx, state=None):
        out, state = self.rnn(self.emb(idx), state)
        return self.head(out), state


def test_truncated_bptt_step_fn_with_detach_state():
    # Consecutive chunks of one long sequence; the state flows from chunk to chunk.
    torch.manual_seed(0)
    seq = torch.arange(0, 161) % 5  # a periodic sequence: easy to learn
    chunks = [(seq[None, i : i + 20], seq[None, i + 1 : i + 21]) for i in range(0, 140, 20)]
    model = TinyLM()

    def make_step(detach: bool):
        state = None

        def step(model, batch):  # an explicit closure: what TBPTTStep packages
            nonlocal state
            x, y = batch
            if detach:
                state = detach_state(state)
            logits, state = model(x, state)  # (1, 20, V)
            return F.cross_entropy(logits.transpose(1, 2), y)

        return step

    cfg = TrainConfig(epochs=8, lr=0.02, **QUIET)
    history = fit(model, chunks, step_fn=make_step(detach=True), config=cfg)
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    # The library's TBPTTStep does the same, and its state is reset before each epoch and validation.
    torch.manual_seed(0)
    tbptt = TBPTTStep(lambda logits, y: F.cross_entropy(logits.transpose(1, 2), y))
    starts = []

    class Watch:
        def on_validation_begin(self, state):
            starts.append(tbptt.state)

    again = fit(TinyLM(), chunks, chunks[:2], step_fn=tbptt, config=cfg, callbacks=[tbptt, Watch()],
                metrics={"acc": metrics.accuracy})
    # Epoch 1 is the same computation; epoch 2 differs because TBPTTStep starts it from zeros.
    assert again.step_loss[:7] == pytest.approx(history.step_loss[:7], rel=1e-5)
    assert again.step_loss[7] != pytest.approx(history.step_loss[7], rel=1e-4)
    assert starts == [None] * 8
    assert tbptt.state is not None and not tbptt.state.requires_grad
    assert again.metrics["acc"][-1] > 0.9
    # Without detaching, the second chunk's backward runs into the freed graph of the first.
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        fit(TinyLM(), chunks, step_fn=make_step(detach=False), config=TrainConfig(epochs=1, **QUIET))


def test_seed_makes_runs_identical_and_scheduler_changes_lr():
    def run(global_seed: int, seed: int | None):
        torch.manual_seed(123)  # the same data and initial weights every time
        x, y = torch.randn(40, 4), torch.randn(40, 1)
        model = nn.Linear(4, 1)
        loader = DataLoader(TensorDataset(x, y), batch_size=8, shuffle=True)
        cfg = TrainConfig(epochs=3, lr=0.1, optimizer="sgd", momentum=0.9, seed=seed,
                          scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5),
                          **QUIET)
        torch.manual_seed(global_seed)  # scramble the global RNG that drives the shuffling
        return fit(model, loader, loss_fn=F.mse_loss, config=cfg)

    a, b = run(1, seed=7), run(2, seed=7)
    assert a.step_loss == b.step_loss  # fit's seed fixed the shuffle order
    assert run(1, seed=None).step_loss != run(2, seed=None).step_loss
    assert a.lr == pytest.approx([0.1, 0.05, 0.025])


def test_optimizer_names_and_factory():
    for name in ("sgd", "adam", "adamw", "rmsprop", "adagrad"):
        h = fit(nn.Linear(4, 1), regression_loader(), loss_fn=F.mse_loss,
                config=TrainConfig(epochs=1, optimizer=name, **QUIET))
        assert len(h.step_loss) == 4
    made = []

    def factory(params):
        made.append(torch.optim.SGD(params, lr=0.0))
        return made[-1]

    model = nn.Linear(4, 1)
    before = model.weight.detach().clone()
    fit(model, regression_loader(), loss_fn=F.mse_loss, config=TrainConfig(epochs=1, optimizer=factory, **QUIET))
    assert len(made) == 1 and torch.equal(model.weight, before)  # lr 0: nothing moved


def test_callback_can_stop_training():
    class StopAfterTwo:
        def on_epoch_end(self, state):
            state.stop = state.epoch == 1

    h = fit(nn.Linear(4, 1), regression_loader(), loss_fn=F.mse_loss,
            config=TrainConfig(epochs=10, **QUIET), callbacks=[StopAfterTwo()])
    assert len(h.train_loss) == 2


def test_bad_configuration_is_refused_with_clear_messages():
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="adamm")
    with pytest.raises(ValueError, match="clip_norm"):
        TrainConfig(clip_norm=0)
    with pytest.raises(ValueError, match="patience"):
        TrainConfig(patience=0)
    loader = regression_loader()
    with pytest.raises(ValueError, match="val_loader"):
        fit(nn.Linear(4, 1), loader, loss_fn=F.mse_loss, config=TrainConfig(patience=3, **QUIET))
    with pytest.raises(ValueError, match="loss_fn"):
        fit(nn.Linear(4, 1), loader, config=TrainConfig(**QUIET))
    with pytest.raises(ValueError, match="no batches"):
        fit(nn.Linear(4, 1), [], loss_fn=F.mse_loss, config=TrainConfig(**QUIET))
    with pytest.raises(TypeError, match="TrainConfig"):
        fit(nn.Linear(4, 1), loader, loss_fn=F.mse_loss, config={"epochs": 1})


def test_progress_bar_and_log_lines(capsys):
    fit(nn.Linear(4, 1), regression_loader(), loss_fn=F.mse_loss,
        config=TrainConfig(epochs=1, progress=False, log_every=2))
    out = capsys.readouterr()
    assert out.out.count("epoch 1 step") == 2  # steps 2 and 4
    fit(nn.Linear(4, 1), regression_loader(), loss_fn=F.mse_loss, config=TrainConfig(epochs=1, progress=True))
    assert "4/4" in capsys.readouterr().err  # tqdm writes the bar to stderr


# ----------------------------------------------------------------------------- metrics


def test_perplexity_and_bits_per_char():
    assert metrics.perplexity(math.log(27)) == pytest.approx(27.0)
    assert metrics.perplexity(torch.tensor([0.0, 2.0])) == pytest.approx(math.e)  # exp of the mean
    assert metrics.bits_per_char(math.log(2)) == pytest.approx(1.0)
    assert metrics.bits_per_char(np.array([math.log(4)])) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="nll"):
        metrics.perplexity(-0.1)
    with pytest.raises(ValueError, match="finite"):
        metrics.bits_per_char(float("nan"))
    with pytest.raises(TypeError, match="nll"):
        metrics.perplexity("1.0")


def test_mae_rmse_by_hand():
    t, p = np.array([1.0, 2.0, 3.0, 4.0]), np.array([2.0, 2.0, 1.0, 4.0])
    assert metrics.mae(t, p) == pytest.approx(3 / 4)
    assert metrics.rmse(t, p) == pytest.approx(math.sqrt(5 / 4))
    assert metrics.mae(torch.tensor(t), torch.tensor(p, requires_grad=True)) == pytest.approx(0.75)
    with pytest.raises(ValueError, match=r"same shape.*\(4,\).*\(4, 1\)"):
        metrics.rmse(t, p[:, None])
    with pytest.raises(ValueError, match="empty"):
        metrics.mae(np.array([]), np.array([]))


def test_mase_by_hand():
    y_train = np.array([1.0, 2.0, 4.0, 7.0])  # naive errors 1, 2, 3 -> scale 2
    y_true, y_pred = np.array([8.0, 10.0]), np.array([9.0, 8.0])  # MAE 1.5
    assert metrics.mase(y_true, y_pred, y_train) == pytest.approx(0.75)
    assert metrics.mase(y_true, y_pred, y_train, season=2) == pytest.approx(1.5 / 4)  # errors 3, 5
    with pytest.raises(ValueError, match="season"):
        metrics.mase(y_true, y_pred, y_train, season=0)
    with pytest.raises(ValueError, match="y_train"):
        metrics.mase(y_true, y_pred, y_train, season=4)
    with pytest.raises(ValueError, match="constant"):
        metrics.mase(y_true, y_pred, np.ones(5))


def test_accuracy_with_logits_labels_and_ignore_index():
    logits = torch.tensor([[2.0, 1.0, 0.0], [0.0, 0.0, 5.0], [1.0, 3.0, 0.0], [0.0, 0.0, 1.0]])
    targets = torch.tensor([0, 2, 0, 2])
    assert metrics.accuracy(logits, targets) == pytest.approx(0.75)
    assert metrics.accuracy(np.array([0, 2, 1, 2]), targets.numpy()) == pytest.approx(0.75)
    per_token = logits.reshape(2, 2, 3)  # (N, T, V) with targets (N, T)
    assert metrics.accuracy(per_token, targets.reshape(2, 2)) == pytest.approx(0.75)
    assert metrics.accuracy(logits, torch.tensor([0, 2, -1, -1]), ignore_index=-1) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="targets of shape"):
        metrics.accuracy(logits, targets[:3])
    with pytest.raises(TypeError, match="integer"):
        metrics.accuracy(logits, targets.float())
    with pytest.raises(TypeError, match="integer labels"):
        metrics.accuracy(torch.rand(4), targets)
    with pytest.raises(ValueError, match="ignore_index"):
        metrics.accuracy(logits, torch.full((4,), -1), ignore_index=-1)
