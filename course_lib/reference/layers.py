"""NumPy layers around a recurrent core: sigmoid, affine, embedding and the masked loss.

Same conventions as the recurrent modules: weights in the ``torch.nn`` layout (``nn.Linear``
stores ``W`` as (out, in)), forward returns ``(out, cache)``, backward takes ``(dout, cache)``
and returns one gradient per differentiable input, in input order.

Dimension letters: N batch, T time, D input, H hidden, V vocabulary, M affine outputs.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

# --------------------------------------------------------------------------- input checks
# Private helpers shared by rnn.py, lstm.py and gru.py: every public function validates its
# arguments so that a wrong shape fails here, with the argument's name, and not three matmuls
# later with "shapes (2,3) and (4,5) not aligned".


def _float_array(name: str, a: Any, letters: str) -> np.ndarray:
    """Check that ``a`` is a floating NumPy array with ``len(letters)`` dimensions."""
    dims = tuple(s.strip() for s in letters.split(","))
    if not isinstance(a, np.ndarray):
        raise TypeError(
            f"{name} must be a NumPy array of shape ({letters}), got {type(a).__name__}"
        )
    if not np.issubdtype(a.dtype, np.floating):
        raise TypeError(f"{name} must have a floating dtype, got {a.dtype}")
    if a.ndim != len(dims):
        raise ValueError(f"{name} must have shape ({letters}), got {a.shape}")
    return a


def _check_shape(name: str, a: Any, letters: str, expected: tuple[int, ...]) -> np.ndarray:
    """Check a float array against an exact shape; the message shows letters and numbers."""
    _float_array(name, a, letters)
    if a.shape != tuple(expected):
        comma = "," if len(expected) == 1 else ""
        raise ValueError(
            f"{name} must have shape ({letters}{comma}) = {tuple(expected)}, got {a.shape}"
        )
    return a


def _check_sequence(name: str, x: Any, letters: str = "N, T, D") -> np.ndarray:
    """Check a batch-first sequence (N, T, ...): right rank, at least one sequence and step."""
    _float_array(name, x, letters)
    if x.shape[1] == 0:
        raise ValueError(f"{name} is an empty sequence: T = 0 in shape {x.shape}; need T >= 1")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch: N = 0 in shape {x.shape}; need N >= 1")
    return x


def _check_cell_params(W_ih: Any, W_hh: Any, b_ih: Any, b_hh: Any, G: int, D: int, H: int) -> None:
    """Check recurrent weights in the torch.nn layout: (G*H, D), (G*H, H), (G*H,), (G*H,)."""
    gh = "H" if G == 1 else f"{G}H"
    _check_shape("W_ih", W_ih, f"{gh}, D", (G * H, D))
    _check_shape("W_hh", W_hh, f"{gh}, H", (G * H, H))
    _check_shape("b_ih", b_ih, gh, (G * H,))
    _check_shape("b_hh", b_hh, gh, (G * H,))


def _check_cache(cache: Any, cls: type, producer: str) -> None:
    """A backward pass needs its own forward's cache, not a tuple or another layer's cache."""
    if not isinstance(cache, cls):
        raise TypeError(
            f"cache must be the {cls.__name__} returned by {producer}, got {type(cache).__name__}"
        )


# --------------------------------------------------------------------------- activations


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Numerically stable logistic function ``1 / (1 + exp(-x))``.

    ``exp(-x)`` overflows for x < -709; so negative inputs use the equal form
    ``exp(x) / (1 + exp(x))``, where the exponential is at most 1.

    Inputs:
    - x: float array of any shape.

    Returns:
    - array of ``x``'s shape with values in [0, 1].
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    out[~pos] = e / (1.0 + e)
    return out


# --------------------------------------------------------------------------- affine


class AffineCache(NamedTuple):
    x: np.ndarray  # (N, D) or (N, T, H)
    W: np.ndarray  # (M, D) or (V, H)


def affine_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, AffineCache]:
    """Fully connected layer ``out = x W^T + b`` (the computation of ``nn.Linear`` / ``F.linear``).

    Inputs:
    - x: inputs, shape (N, D).
    - W: weight, shape (M, D) -- the ``nn.Linear.weight`` layout (out_features, in_features).
    - b: bias, shape (M,).

    Returns a tuple of:
    - out: shape (N, M).
    - cache: ``AffineCache`` for ``affine_backward``.
    """
    _float_array("x", x, "N, D")
    N, D = x.shape
    _float_array("W", W, "M, D")
    M = W.shape[0]
    _check_shape("W", W, "M, D", (M, D))
    _check_shape("b", b, "M", (M,))
    out = x @ W.T + b  # (N, M)
    return out, AffineCache(x, W)


def affine_backward(
    dout: np.ndarray, cache: AffineCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of ``affine_forward``.

    Inputs:
    - dout: upstream gradient, shape (N, M).
    - cache: the ``AffineCache`` from ``affine_forward``.

    Returns a tuple of:
    - dx: shape (N, D).
    - dW: shape (M, D).
    - db: shape (M,).
    """
    _check_cache(cache, AffineCache, "affine_forward")
    x, W = cache
    if x.ndim != 2:
        raise ValueError("cache comes from temporal_affine_forward; use temporal_affine_backward")
    _check_shape("dout", dout, "N, M", (x.shape[0], W.shape[0]))
    dx = dout @ W  # (N, D)
    dW = dout.T @ x  # (M, D)
    db = dout.sum(axis=0)  # (M,)
    return dx, dW, db


def temporal_affine_forward(
    x: np.ndarray, W: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, AffineCache]:
    """The same affine map applied at every time step, e.g. hidden states -> vocabulary scores.

    Inputs:
    - x: inputs, shape (N, T, H).
    - W: weight, shape (V, H) (``nn.Linear`` layout).
    - b: bias, shape (V,).

    Returns a tuple of:
    - out: shape (N, T, V).
    - cache: ``AffineCache`` for ``temporal_affine_backward``.
    """
    _check_sequence("x", x, "N, T, H")
    N, T, H = x.shape
    _float_array("W", W, "V, H")
    V = W.shape[0]
    _check_shape("W", W, "V, H", (V, H))
    _check_shape("b", b, "V", (V,))
    out = x @ W.T + b  # (N, T, V): matmul broadcasts over N and T
    return out, AffineCache(x, W)


def temporal_affine_backward(
    dout: np.ndarray, cache: AffineCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of ``temporal_affine_forward``.

    Inputs:
    - dout: upstream gradient, shape (N, T, V).
    - cache: the ``AffineCache`` from ``temporal_affine_forward``.

    Returns a tuple of:
    - dx: shape (N, T, H).
    - dW: shape (V, H), summed over every (n, t) since the weight is shared across time.
    - db: shape (V,).
    """
    _check_cache(cache, AffineCache, "temporal_affine_forward")
    x, W = cache
    if x.ndim != 3:
        raise ValueError("cache comes from affine_forward; use affine_backward")
    N, T, H = x.shape
    V = W.shape[0]
    _check_shape("dout", dout, "N, T, V", (N, T, V))
    dx = dout @ W  # (N, T, H)
    dW = dout.reshape(N * T, V).T @ x.reshape(N * T, H)  # (V, H)
    db = dout.sum(axis=(0, 1))  # (V,)
    return dx, dW, db


# --------------------------------------------------------------------------- embedding


def _check_indices(name: str, idx: Any, letters: str, V: int) -> np.ndarray:
    if not isinstance(idx, np.ndarray) or not np.issubdtype(idx.dtype, np.integer):
        got = idx.dtype if isinstance(idx, np.ndarray) else type(idx).__name__
        raise TypeError(f"{name} must be an integer NumPy array of shape ({letters}), got {got}")
    if idx.ndim != len(letters.split(",")):
        raise ValueError(f"{name} must have shape ({letters}), got {idx.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= V):
        raise ValueError(
            f"{name} must hold indices in [0, V) = [0, {V}), got values in [{idx.min()}, {idx.max()}]"
        )
    return idx


class EmbeddingCache(NamedTuple):
    idx: np.ndarray  # (N, T) int
    V: int  # vocabulary size (rows of W)


def embedding_forward(idx: np.ndarray, W: np.ndarray) -> tuple[np.ndarray, EmbeddingCache]:
    """Look up one row of ``W`` per token (``F.embedding``); same as one-hot(idx) @ W.

    Inputs:
    - idx: integer token ids, shape (N, T), each in [0, V).
    - W: embedding table, shape (V, D) (``nn.Embedding.weight`` layout).

    Returns a tuple of:
    - out: shape (N, T, D).
    - cache: ``EmbeddingCache`` for ``embedding_backward``.
    """
    _float_array("W", W, "V, D")
    V, D = W.shape
    _check_indices("idx", idx, "N, T", V)
    out = W[idx]  # (N, T, D): fancy indexing copies the rows
    return out, EmbeddingCache(idx, V)


def embedding_backward(dout: np.ndarray, cache: EmbeddingCache) -> np.ndarray:
    """Backward pass of ``embedding_forward``; the indices get no gradient.

    Inputs:
    - dout: upstream gradient, shape (N, T, D).
    - cache: the ``EmbeddingCache`` from ``embedding_forward``.

    Returns:
    - dW: shape (V, D). A token that appears k times receives the sum of its k gradients.
    """
    _check_cache(cache, EmbeddingCache, "embedding_forward")
    idx, V = cache
    N, T = idx.shape
    _float_array("dout", dout, "N, T, D")
    D = dout.shape[2]
    _check_shape("dout", dout, "N, T, D", (N, T, D))
    dW = np.zeros((V, D), dtype=dout.dtype)
    # np.add.at, not dW[idx] += dout: with fancy indexing a repeated index would be written
    # once instead of accumulated.
    np.add.at(dW, idx, dout)
    return dW


# --------------------------------------------------------------------------- loss

REDUCTIONS = ("mean", "sum_over_batch")


def temporal_softmax_loss(
    scores: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray | None,
    reduction: str = "mean",
) -> tuple[float, np.ndarray]:
    """Softmax cross-entropy at every time step, counting only the positions where ``mask`` is True.

    Masked (padded) positions neither change the loss nor receive gradient, whatever their
    scores or labels hold (even NaN scores or out-of-range labels).

    Inputs:
    - scores: unnormalised log-probabilities, shape (N, T, V).
    - y: integer targets, shape (N, T); each unmasked target in [0, V).
    - mask: bool (or 0/1) array, shape (N, T); True where the token counts. None counts all.
    - reduction: how the per-token losses are combined:
      ``"mean"`` -- average over the unmasked tokens; equals ``F.cross_entropy`` with the pads
      set to ``ignore_index``. Comparable across batches with different padding.
      ``"sum_over_batch"`` -- sum over every unmasked token, divided by N (CS231n's loss: it
      grows with T, about T log V at initialisation).

    Returns a tuple of:
    - loss: Python float.
    - dscores: gradient of the loss with respect to ``scores``, shape (N, T, V); zero at
      masked positions.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    _float_array("scores", scores, "N, T, V")
    N, T, V = scores.shape
    if V == 0:
        raise ValueError(f"scores must have V >= 1 classes, got shape {scores.shape}")
    if mask is None:
        mask = np.ones((N, T), dtype=bool)
    if not isinstance(mask, np.ndarray) or mask.shape != (N, T):
        got = mask.shape if isinstance(mask, np.ndarray) else type(mask).__name__
        raise ValueError(f"mask must be an array of shape (N, T) = {(N, T)}, got {got}")
    if mask.dtype != bool:
        if not np.all((mask == 0) | (mask == 1)):
            raise ValueError("mask must be boolean or hold only 0 and 1")
        mask = mask.astype(bool)
    if not isinstance(y, np.ndarray) or not np.issubdtype(y.dtype, np.integer):
        got = y.dtype if isinstance(y, np.ndarray) else type(y).__name__
        raise TypeError(f"y must be an integer NumPy array of shape (N, T), got {got}")
    if y.shape != (N, T):
        raise ValueError(f"y must have shape (N, T) = {(N, T)}, got {y.shape}")
    y_valid = y[mask]
    if y_valid.size and (y_valid.min() < 0 or y_valid.max() >= V):
        raise ValueError(
            f"y must hold targets in [0, V) = [0, {V}) where mask is True, got values in "
            f"[{y_valid.min()}, {y_valid.max()}]"
        )
    count = int(mask.sum())
    if reduction == "mean" and count == 0:
        raise ValueError("mask selects no tokens: the mean over zero tokens is undefined")

    # Replace padded scores and labels by harmless values first, so garbage there (inf, NaN,
    # a pad label of -100) can never leak into the loss through 0 * NaN = NaN.
    s = np.where(mask[..., None], scores, 0.0)  # (N, T, V)
    t = np.where(mask, y, 0)  # (N, T)

    shifted = s - s.max(axis=2, keepdims=True)  # log-sum-exp trick: exp() never overflows
    log_z = np.log(np.exp(shifted).sum(axis=2, keepdims=True))  # (N, T, 1)
    log_probs = shifted - log_z  # (N, T, V)
    nll = -np.take_along_axis(log_probs, t[..., None], axis=2)[..., 0]  # (N, T)

    denom = count if reduction == "mean" else N
    loss = float(np.sum(nll[mask]) / denom)

    # d(-log softmax(s)[t]) / ds = softmax(s) - onehot(t), per token, then the reduction.
    dscores = np.exp(log_probs)  # (N, T, V)
    np.put_along_axis(
        dscores, t[..., None], np.take_along_axis(dscores, t[..., None], axis=2) - 1.0, axis=2
    )
    dscores *= mask[..., None] / denom
    return loss, dscores
