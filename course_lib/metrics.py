"""Numbers the lessons report: perplexity, bits per character, forecast errors, accuracy.

Every function accepts NumPy arrays, torch tensors (any device, with or without grad) or
plain Python numbers, computes in float64 on the CPU and returns a Python ``float``, so the
result can be printed, glued into the prose or compared in a test without conversions.

Shapes are checked strictly: ``mae(y_true, y_pred)`` with shapes ``(N,)`` and ``(N, 1)`` is an
error here, not a silent broadcast to ``(N, N)`` (a classic forecasting bug).
"""

from __future__ import annotations

import math

import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor | float | int | list | tuple

__all__ = ["accuracy", "bits_per_char", "mae", "mase", "perplexity", "rmse"]


def _to_numpy(x: ArrayLike, name: str) -> np.ndarray:
    """Return ``x`` as a NumPy array (tensors are detached and copied to the CPU)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    if isinstance(x, (np.ndarray, list, tuple, float, int, np.number)):
        return np.asarray(x)
    raise TypeError(f"{name} must be a NumPy array, a torch tensor or a number, got {type(x).__name__}")


def _check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {tuple(a.shape)} and "
            f"{tuple(b.shape)} (reshape one of them; broadcasting is refused on purpose)"
        )
    if a.size == 0:
        raise ValueError(f"{name_a} and {name_b} are empty; there is nothing to average")


def _mean_nll(nll: ArrayLike, name: str) -> float:
    """Mean of a negative log-likelihood (a number or an array of per-token values)."""
    arr = _to_numpy(nll, name).astype(np.float64)
    if arr.size == 0:
        raise ValueError(f"{name} is empty; pass at least one negative log-likelihood")
    value = float(arr.mean())
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got mean {value}")
    if value < 0:
        raise ValueError(f"{name} is a negative log-likelihood and must be >= 0, got mean {value}")
    return value


def perplexity(nll: ArrayLike) -> float:
    """Perplexity ``exp(mean NLL)`` of a language model.

    Inputs:
    - nll: mean negative log-likelihood per token in nats (what ``F.cross_entropy`` returns),
      or an array of per-token values of any shape (they are averaged first).

    Returns:
    - a float >= 1; a uniform guess over V symbols gives exactly V.
    """
    return math.exp(_mean_nll(nll, "nll"))


def bits_per_char(nll_nats: ArrayLike) -> float:
    """Bits per character ``mean NLL / ln 2`` of a character-level model.

    Inputs:
    - nll_nats: mean negative log-likelihood per character in nats (natural log, as
      ``F.cross_entropy``), or an array of per-character values.

    Returns:
    - a float >= 0; a uniform guess over V symbols gives ``log2(V)``.
    """
    return _mean_nll(nll_nats, "nll_nats") / math.log(2.0)


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error.

    Inputs:
    - y_true: targets, any shape S.
    - y_pred: predictions, the same shape S.

    Returns:
    - ``mean(|y_true - y_pred|)`` as a float.
    """
    t = _to_numpy(y_true, "y_true").astype(np.float64)
    p = _to_numpy(y_pred, "y_pred").astype(np.float64)
    _check_same_shape(t, p, "y_true", "y_pred")
    return float(np.mean(np.abs(t - p)))


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error.

    Inputs:
    - y_true: targets, any shape S.
    - y_pred: predictions, the same shape S.

    Returns:
    - ``sqrt(mean((y_true - y_pred)^2))`` as a float.
    """
    t = _to_numpy(y_true, "y_true").astype(np.float64)
    p = _to_numpy(y_pred, "y_pred").astype(np.float64)
    _check_same_shape(t, p, "y_true", "y_pred")
    return float(np.sqrt(np.mean((t - p) ** 2)))


def mase(y_true: ArrayLike, y_pred: ArrayLike, y_train: ArrayLike, season: int = 1) -> float:
    """Mean absolute scaled error (Hyndman & Koehler, 2006).

    The forecast's MAE divided by the in-sample MAE of the (seasonal) naive forecast
    ``y[t] = y[t - season]`` on the training series. Below 1: better than naive on the
    training data's scale; above 1: worse.

    Inputs:
    - y_true: targets of the forecast period, any shape S.
    - y_pred: forecasts, the same shape S.
    - y_train: the training series in time order, shape (T_train,) or (T_train, ...) with
      time on axis 0; needs T_train > season.
    - season: the seasonal period m (1 = the plain naive forecast).

    Returns:
    - the MASE as a float.
    """
    if isinstance(season, bool) or not isinstance(season, (int, np.integer)) or season < 1:
        raise ValueError(f"season must be an integer >= 1, got {season!r}")
    train = _to_numpy(y_train, "y_train").astype(np.float64)
    if train.ndim == 0 or train.shape[0] <= season:
        raise ValueError(
            f"y_train needs more than season={season} time steps on axis 0, got shape {tuple(train.shape)}"
        )
    scale = float(np.mean(np.abs(train[season:] - train[:-season])))
    if not scale > 0:
        raise ValueError(
            "the naive forecast is perfect on y_train (scale 0), so MASE is undefined; "
            "check that y_train is not constant"
        )
    return mae(y_true, y_pred) / scale


def accuracy(logits_or_labels: ArrayLike, targets: ArrayLike, ignore_index: int | None = None) -> float:
    """Fraction of correct predictions.

    Inputs:
    - logits_or_labels: either scores of shape (*S, C) (the class is the argmax over the last
      axis; logits, log-probabilities and probabilities all work), or predicted labels of
      shape S (integers).
    - targets: integer labels of shape S, e.g. (N,) for classification or (N, T) per token.
    - ignore_index: a target value to leave out (e.g. the padding index); None counts all.

    Returns:
    - correct / counted as a float in [0, 1].
    """
    pred = _to_numpy(logits_or_labels, "logits_or_labels")
    tgt = _to_numpy(targets, "targets")
    if tgt.dtype.kind not in "iub":
        raise TypeError(f"targets must hold integer labels, got dtype {tgt.dtype}")
    if pred.ndim == tgt.ndim + 1:
        if pred.shape[:-1] != tgt.shape:
            raise ValueError(
                f"logits of shape {tuple(pred.shape)} need targets of shape {tuple(pred.shape[:-1])}, "
                f"got {tuple(tgt.shape)}"
            )
        pred = pred.argmax(axis=-1)
    elif pred.ndim == tgt.ndim:
        if pred.shape != tgt.shape:
            raise ValueError(
                f"labels and targets must have the same shape, got {tuple(pred.shape)} and {tuple(tgt.shape)}"
            )
        if pred.dtype.kind not in "iub":
            raise TypeError(
                f"same-shape predictions must be integer labels, got dtype {pred.dtype}; "
                "pass logits with a trailing class axis instead"
            )
    else:
        raise ValueError(
            f"logits_or_labels must have shape targets.shape + (C,) or targets.shape; "
            f"got {tuple(pred.shape)} for targets {tuple(tgt.shape)}"
        )
    keep = np.ones(tgt.shape, dtype=bool) if ignore_index is None else tgt != ignore_index
    counted = int(keep.sum())
    if counted == 0:
        raise ValueError("no targets left to count (empty input, or every target equals ignore_index)")
    return float((pred[keep] == tgt[keep]).sum() / counted)
