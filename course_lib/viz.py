"""The plots the lessons use, one function per kind of figure.

Every function draws on the Matplotlib Axes it is given (``ax=...``) or on a new figure,
sets its labels and title, and returns the Axes (an array of Axes for multi-panel figures).
None calls ``plt.show()``: notebooks display figures at the end of the cell, and tests draw
them on the non-interactive Agg canvas.

Arrays may be NumPy arrays, torch tensors (any device; they are detached and copied) or lists.
Heatmaps follow one convention: rows are hidden units, columns are time steps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes

__all__ = [
    "plot_attention",
    "plot_forecast",
    "plot_gate_heatmaps",
    "plot_grad_norms",
    "plot_gradient_vs_lag",
    "plot_hidden_states",
    "plot_history",
    "plot_series",
]


def _array(x: Any, name: str) -> np.ndarray:
    """Return ``x`` as a float64 NumPy array."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be array-like (NumPy array, tensor or list), got {type(x).__name__}") from err


def _axes(ax: Axes | None, figsize: tuple[float, float] = (6.0, 3.5)) -> Axes:
    """The given Axes, or the Axes of a new figure."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _history_dict(history: Any) -> dict[str, Any]:
    """Accept a ``History`` or its ``to_dict()``."""
    if hasattr(history, "to_dict"):
        return history.to_dict()
    if isinstance(history, Mapping):
        return dict(history)
    raise TypeError(f"history must be a History or a dict from History.to_dict(), got {type(history).__name__}")


def _check_tokens(tokens: Sequence[str] | None, n: int, name: str, axis: str) -> None:
    if tokens is not None and len(tokens) != n:
        raise ValueError(f"{name} has {len(tokens)} entries but the {axis} has {n}")


# ----------------------------------------------------------------------------- training curves


def plot_history(history: Any, ax: Axes | None = None, log: bool = False, title: str = "Learning curves") -> Axes:
    """Training and validation loss per epoch, with the best epoch marked.

    Inputs:
    - history: a ``course_lib.train.History`` or its ``to_dict()``; needs ``train_loss``,
      may have ``val_loss`` and ``best_epoch`` (0-based).
    - ax: Axes to draw on; None makes a new figure.
    - log: log-scale y axis.

    Returns:
    - the Axes: one line for train, one for validation (if any), a dashed vertical line at
      the best epoch (epochs are numbered from 1 on the x axis).
    """
    h = _history_dict(history)
    train = _array(h.get("train_loss", []), "history.train_loss")
    if train.ndim != 1 or train.size == 0:
        raise ValueError("history.train_loss must be a non-empty list of per-epoch losses")
    ax = _axes(ax)
    epochs = np.arange(1, train.size + 1)
    ax.plot(epochs, train, marker="o", ms=3, label="train")
    val = _array(h.get("val_loss") or [], "history.val_loss")
    if val.size:
        ax.plot(np.arange(1, val.size + 1), val, marker="o", ms=3, label="validation")
        best = h.get("best_epoch")
        if best is not None:
            ax.axvline(best + 1, color="gray", ls="--", lw=1, label=f"best (epoch {best + 1})")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    return ax


def plot_grad_norms(
    history_or_norms: Any, clip: float | None = None, ax: Axes | None = None, log: bool = True,
    title: str = "Gradient norm per step",
) -> Axes:
    """Global gradient norm (before clipping) per optimiser step.

    Inputs:
    - history_or_norms: a ``History`` (its ``grad_norm``) or a 1-D array of norms, shape (S,).
    - clip: draw the clipping threshold as a horizontal line; None draws none.
    - ax: Axes to draw on; None makes a new figure.
    - log: log-scale y axis (norms span orders of magnitude when they explode).

    Returns:
    - the Axes: one line of norms, plus one horizontal line when ``clip`` is given.
    """
    if hasattr(history_or_norms, "grad_norm") or isinstance(history_or_norms, Mapping):
        norms = _array(_history_dict(history_or_norms).get("grad_norm", []), "history.grad_norm")
    else:
        norms = _array(history_or_norms, "history_or_norms")
    if norms.ndim != 1 or norms.size == 0:
        raise ValueError(f"gradient norms must be a non-empty 1-D array (S,), got shape {norms.shape}")
    ax = _axes(ax)
    ax.plot(np.arange(1, norms.size + 1), norms, lw=1, label="before clipping")
    if clip is not None:
        if not clip > 0:
            raise ValueError(f"clip must be > 0 or None, got {clip!r}")
        ax.axhline(clip, color="red", ls="--", lw=1, label=f"clip_norm = {clip:g}")
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("gradient norm")
    ax.set_title(title)
    ax.legend()
    return ax


def plot_gradient_vs_lag(
    lags: Any, norms_by_label: Mapping[str, Any], log: bool = True, ax: Axes | None = None,
    title: str = "Gradient norm vs time lag",
) -> Axes:
    """How much gradient reaches back k steps, one line per model or setting.

    Inputs:
    - lags: time lags k, shape (K,).
    - norms_by_label: label -> norms ``||dL/dh_{T-k}||``, each shape (K,), e.g.
      ``{"RNN": ..., "LSTM": ...}`` or ``{"rho=0.9": ..., "rho=1.1": ...}``.
    - log: log-scale y axis (vanishing gradients are straight lines there).
    - ax: Axes to draw on; None makes a new figure.

    Returns:
    - the Axes with one line per label.
    """
    k = _array(lags, "lags")
    if k.ndim != 1 or k.size == 0:
        raise ValueError(f"lags must be a non-empty 1-D array (K,), got shape {k.shape}")
    if not isinstance(norms_by_label, Mapping) or not norms_by_label:
        raise ValueError("norms_by_label must be a non-empty dict label -> norms of shape (K,)")
    ax = _axes(ax)
    for label, norms in norms_by_label.items():
        n = _array(norms, f"norms_by_label[{label!r}]")
        if n.shape != k.shape:
            raise ValueError(f"norms_by_label[{label!r}] has shape {n.shape}, expected {k.shape} like lags")
        ax.plot(k, n, marker="o", ms=3, label=str(label))
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("time lag k (steps back from the loss)")
    ax.set_ylabel("gradient norm")
    ax.set_title(title)
    ax.legend()
    return ax


# ----------------------------------------------------------------------------- heatmaps


_INVISIBLE = {"\n": "\\n", "\t": "\\t", " ": "\u2423"}  # newline, tab, space -> visible marks


def _token_label(token: Any) -> str:
    """A tick label for a token; whitespace characters get a visible mark."""
    token = str(token)
    return _INVISIBLE.get(token, token)


def _heatmap(ax: Axes, data: np.ndarray, tokens: Sequence[str] | None, vmin: float, vmax: float, cmap: str):
    """Draw units x time; tokens become the x tick labels."""
    im = ax.imshow(data, aspect="auto", interpolation="nearest", cmap=cmap, vmin=vmin, vmax=vmax)
    if tokens is not None:
        ax.set_xticks(np.arange(len(tokens)))
        ax.set_xticklabels([_token_label(t) for t in tokens], fontsize=8)
    ax.set_xlabel("time step" if tokens is None else "input")
    ax.set_ylabel("hidden unit")
    return im


# Titles for the short names that course_lib.models' return_gates=True uses; others print as given.
GATE_TITLES = {
    "i": "input gate i", "f": "forget gate f", "g": "candidate g", "o": "output gate o",
    "c": "cell state c", "h": "hidden state h",
    "r": "reset gate r", "z": "update gate z", "n": "candidate n",
}


def _as_time_by_units(x: Any, name: str) -> np.ndarray:
    """Accept (T, H) or (1, T, H) and return (T, H)."""
    a = _array(x, name)
    if a.ndim == 3 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 2 or 0 in a.shape:
        raise ValueError(
            f"{name} must have shape (T, H) for one sequence (or (1, T, H)), got {a.shape}; "
            "pick one sequence first: return_gates gives (L*dirs, N, T, H), so use gates['i'][layer, n]"
        )
    return a


def plot_gate_heatmaps(
    gates: Mapping[str, Any], tokens: Sequence[str] | None = None, ax: Sequence[Axes] | None = None,
    units: Sequence[int] | slice | None = None,
) -> np.ndarray:
    """LSTMVis-style heatmaps: one panel per gate, hidden units x time steps.

    Inputs:
    - gates: name -> activations of ONE sequence, shape (T, H) (or (1, T, H)), e.g. from
      ``_, _, gates = LSTM(..., batch_first=True)(x, return_gates=True)`` (each
      (L*dirs, N, T, H)): ``{k: v[layer, n] for k, v in gates.items()}``. Short names
      (i, f, g, o, c, h, r, z, n) get descriptive titles; other names are used as given.
    - tokens: the T input symbols, shown as x tick labels; None shows step numbers.
    - ax: one Axes per gate; None makes a figure with the panels stacked vertically.
    - units: which hidden units to show (indices or a slice); None shows all H.

    Returns:
    - a NumPy array of Axes, one per gate, in the order of ``gates``. Values inside [0, 1]
      (sigmoid gates) use the colour scale 0..1; others (tanh candidates, cell states) a
      symmetric scale around 0.
    """
    if not isinstance(gates, Mapping) or not gates:
        raise ValueError("gates must be a non-empty dict gate name -> array of shape (T, H)")
    arrays = {name: _as_time_by_units(a, f"gates[{name!r}]") for name, a in gates.items()}
    shapes = {a.shape for a in arrays.values()}
    if len(shapes) != 1:
        raise ValueError(f"every gate must have the same shape (T, H), got {sorted(shapes)}")
    T = next(iter(shapes))[0]
    _check_tokens(tokens, T, "tokens", "time axis of the gates")
    if ax is None:
        H = next(iter(shapes))[1]
        panel_height = 0.8 + min(3.0, 0.15 * H)  # inches; capped so H = 256 still fits a page
        _, ax = plt.subplots(len(arrays), 1, figsize=(max(6.0, 0.3 * T), panel_height * len(arrays)), squeeze=False, layout="constrained")
    axes = np.asarray(ax, dtype=object).ravel()
    if axes.size != len(arrays):
        raise ValueError(f"ax must hold one Axes per gate ({len(arrays)}), got {axes.size}")
    for a, (name, values) in zip(axes, arrays.items(), strict=True):
        data = values.T  # (H, T): rows are units, columns are time
        if units is not None:
            data = data[units]
        if values.min() >= 0 and values.max() <= 1:
            im = _heatmap(a, data, tokens, 0.0, 1.0, "viridis")
        else:
            m = float(np.abs(values).max()) or 1.0
            im = _heatmap(a, data, tokens, -m, m, "RdBu_r")
        a.set_title(GATE_TITLES.get(name, str(name)))
        a.figure.colorbar(im, ax=a, fraction=0.03, pad=0.01)
    return axes


def plot_hidden_states(
    h: Any, tokens: Sequence[str] | None = None, ax: Axes | None = None, title: str = "Hidden state"
) -> Axes:
    """Hidden-state activations of one sequence as a heatmap (units x time).

    Inputs:
    - h: hidden states, shape (T, H) (or (1, T, H)).
    - tokens: the T input symbols, shown as x tick labels.
    - ax: Axes to draw on; None makes a new figure.

    Returns:
    - the Axes with one image (colour scale symmetric around 0, as tanh units are).
    """
    a = _as_time_by_units(h, "h")
    _check_tokens(tokens, a.shape[0], "tokens", "time axis of h")
    ax = _axes(ax, figsize=(max(6.0, 0.3 * a.shape[0]), 3.5))
    m = float(np.abs(a).max()) or 1.0
    im = _heatmap(ax, a.T, tokens, -m, m, "RdBu_r")
    ax.figure.colorbar(im, ax=ax, fraction=0.03, pad=0.01)
    ax.set_title(title)
    return ax


def plot_attention(
    weights: Any, src_tokens: Sequence[str] | None = None, tgt_tokens: Sequence[str] | None = None,
    ax: Axes | None = None, title: str = "Attention",
) -> Axes:
    """Attention map of one example: which source positions each output step looked at.

    Inputs:
    - weights: shape (T_out, T_in); row t is the attention distribution of output step t.
    - src_tokens: T_in source symbols (x tick labels).
    - tgt_tokens: T_out output symbols (y tick labels).
    - ax: Axes to draw on; None makes a new figure.

    Returns:
    - the Axes with one image, colour scale 0..1.
    """
    w = _array(weights, "weights")
    if w.ndim == 3 and w.shape[0] == 1:
        w = w[0]
    if w.ndim != 2 or 0 in w.shape:
        raise ValueError(f"weights must have shape (T_out, T_in) for one example, got {w.shape}")
    _check_tokens(src_tokens, w.shape[1], "src_tokens", "input axis (T_in) of weights")
    _check_tokens(tgt_tokens, w.shape[0], "tgt_tokens", "output axis (T_out) of weights")
    ax = _axes(ax, figsize=(max(4.0, 0.4 * w.shape[1]), max(3.0, 0.4 * w.shape[0])))
    im = ax.imshow(w, aspect="auto", interpolation="nearest", cmap="viridis", vmin=0.0, vmax=1.0)
    if src_tokens is not None:
        ax.set_xticks(np.arange(w.shape[1]))
        ax.set_xticklabels([_token_label(t) for t in src_tokens], rotation=90)
    if tgt_tokens is not None:
        ax.set_yticks(np.arange(w.shape[0]))
        ax.set_yticklabels([_token_label(t) for t in tgt_tokens])
    ax.set_xlabel("source")
    ax.set_ylabel("output")
    ax.set_title(title)
    ax.figure.colorbar(im, ax=ax, fraction=0.04, pad=0.02)
    return ax


# ----------------------------------------------------------------------------- series


def plot_series(
    series: Any, time: Any = None, labels: Sequence[str] | None = None, ax: Axes | None = None,
    title: str = "", xlabel: str = "time step", ylabel: str = "value",
) -> Axes:
    """Raw time series: one line per series.

    Inputs:
    - series: shape (T,), or (T, K) for K parallel series, or a dict label -> (T,) array.
    - time: x values, shape (T,) (numbers or dates); None uses 0..T-1.
    - labels: K names for the legend (ignored for a dict, whose keys are the labels).
    - ax: Axes to draw on; None makes a new figure.

    Returns:
    - the Axes with one line per series.
    """
    if isinstance(series, Mapping):
        if not series:
            raise ValueError("series is an empty dict")
        names = [str(k) for k in series]
        cols = [_array(v, f"series[{k!r}]") for k, v in series.items()]
        for name, c in zip(names, cols, strict=True):
            if c.ndim != 1 or c.shape != cols[0].shape:
                raise ValueError(f"every series must be 1-D with the same length; {name!r} has shape {c.shape}")
        data = np.stack(cols, axis=1)
    else:
        data = _array(series, "series")
        if data.ndim == 1:
            data = data[:, None]
        if data.ndim != 2:
            raise ValueError(f"series must have shape (T,) or (T, K), got {data.shape}")
        names = list(labels) if labels is not None else None
        if names is not None and len(names) != data.shape[1]:
            raise ValueError(f"labels has {len(names)} names for {data.shape[1]} series")
    if data.shape[0] == 0:
        raise ValueError("series is empty (T = 0)")
    x = np.arange(data.shape[0]) if time is None else np.asarray(time)
    if x.shape[0] != data.shape[0]:
        raise ValueError(f"time has {x.shape[0]} values but the series has T={data.shape[0]}")
    ax = _axes(ax)
    for k in range(data.shape[1]):
        ax.plot(x, data[:, k], lw=1, label=None if names is None else names[k])
    if names is not None:
        ax.legend()
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return ax


def plot_forecast(
    history_series: Any, truth: Any, forecasts: Mapping[str, Any], time: Any = None,
    ax: Axes | None = None, title: str = "Forecast", xlabel: str = "time step", ylabel: str = "value",
) -> Axes:
    """The observed past, what really happened next, and each method's forecast.

    Inputs:
    - history_series: the observed past, shape (T_hist,).
    - truth: the true continuation, shape (T_h,) (T_h = forecast horizon).
    - forecasts: method name -> forecast of shape (T_h,), e.g. ``{"naive": ..., "LSTM": ...}``.
    - time: x values for past and future together, shape (T_hist + T_h,); None uses steps.
    - ax: Axes to draw on; None makes a new figure.

    Returns:
    - the Axes: lines for history and truth, one line per forecast, and a dotted vertical
      line where the forecast starts.
    """
    past = _array(history_series, "history_series")
    future = _array(truth, "truth")
    if past.ndim != 1 or past.size == 0:
        raise ValueError(f"history_series must be a non-empty 1-D array, got shape {past.shape}")
    if future.ndim != 1 or future.size == 0:
        raise ValueError(f"truth must be a non-empty 1-D array, got shape {future.shape}")
    if not isinstance(forecasts, Mapping):
        raise TypeError(f"forecasts must be a dict name -> array of shape (T_h,), got {type(forecasts).__name__}")
    n_past, n_future = past.size, future.size
    x = np.arange(n_past + n_future) if time is None else np.asarray(time)
    if x.shape[0] != n_past + n_future:
        raise ValueError(f"time must have T_hist + T_h = {n_past + n_future} values, got {x.shape[0]}")
    ax = _axes(ax, figsize=(7.0, 3.5))
    ax.plot(x[:n_past], past, color="black", lw=1, label="history")
    ax.plot(x[n_past:], future, color="black", lw=1.5, ls="--", label="truth")
    for name, f in forecasts.items():
        pred = _array(f, f"forecasts[{name!r}]")
        if pred.shape != future.shape:
            raise ValueError(f"forecasts[{name!r}] has shape {pred.shape}, expected {future.shape} like truth")
        ax.plot(x[n_past:], pred, lw=1.5, label=str(name))
    ax.axvline(x[n_past], color="gray", ls=":", lw=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend()
    return ax
