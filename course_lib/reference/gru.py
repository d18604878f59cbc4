"""GRU in NumPy with a hand-written backward pass, computing exactly what ``torch.nn.GRU`` does.

    r   = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)          reset gate
    z   = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)          update gate
    n   = tanh(W_in x_t + b_in + r * (W_hn h_{t-1} + b_hn))       candidate state
    h_t = (1 - z) * n + z * h_{t-1}

The reset gate multiplies ``W_hn h + b_hn`` AFTER the matmul (as ``nn.GRU``; the original paper
and d2l's scratch GRU apply it to h before the matmul, which is a different function).
Parameters as ``torch.nn.GRU``: ``weight_ih_l0`` = W_ih (3H, D), ``weight_hh_l0`` = W_hh (3H, H),
``bias_ih_l0`` = b_ih (3H,), ``bias_hh_l0`` = b_hh (3H,); row blocks in gate order r, z, n.
Minibatch N, sequence length T, input size D, hidden size H.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .layers import (
    _check_cache,
    _check_cell_params,
    _check_sequence,
    _check_shape,
    _float_array,
    sigmoid,
)


class GRUStepCache(NamedTuple):
    x: np.ndarray  # (N, D)
    prev_h: np.ndarray  # (N, H)
    W_ih: np.ndarray  # (3H, D)
    W_hh: np.ndarray  # (3H, H)
    r: np.ndarray  # (N, H) reset gate (sigmoid output)
    z: np.ndarray  # (N, H) update gate (sigmoid output)
    n: np.ndarray  # (N, H) candidate (tanh output)
    hn: np.ndarray  # (N, H) W_hn prev_h + b_hn, the term the reset gate scales


class GRUCache(NamedTuple):
    """Everything ``gru_backward`` needs; the gates are (N, T, H) arrays ready to plot."""

    x: np.ndarray  # (N, T, D)
    h0: np.ndarray  # (N, H)
    W_ih: np.ndarray  # (3H, D)
    W_hh: np.ndarray  # (3H, H)
    h: np.ndarray  # (N, T, H)
    r: np.ndarray  # (N, T, H)
    z: np.ndarray  # (N, T, H)
    n: np.ndarray  # (N, T, H)
    hn: np.ndarray  # (N, T, H)


def gru_step_forward(
    x: np.ndarray,
    prev_h: np.ndarray,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
) -> tuple[np.ndarray, GRUStepCache]:
    """One time step of a GRU (``torch.nn.GRUCell``).

    Inputs:
    - x: input at this step, shape (N, D).
    - prev_h: previous hidden state, shape (N, H).
    - W_ih: input-to-hidden weights of r, z, n stacked, shape (3H, D).
    - W_hh: hidden-to-hidden weights, shape (3H, H).
    - b_ih: input biases, shape (3H,).
    - b_hh: hidden biases, shape (3H,). Unlike the LSTM's, b_hn is not interchangeable with
      b_in: it sits inside the reset gate's product.

    Returns a tuple of:
    - next_h: next hidden state, shape (N, H).
    - cache: ``GRUStepCache`` for ``gru_step_backward``.
    """
    _float_array("x", x, "N, D")
    N, D = x.shape
    _float_array("prev_h", prev_h, "N, H")
    H = prev_h.shape[1]
    _check_shape("prev_h", prev_h, "N, H", (N, H))
    _check_cell_params(W_ih, W_hh, b_ih, b_hh, G=3, D=D, H=H)

    gi_r, gi_z, gi_n = np.split(x @ W_ih.T + b_ih, 3, axis=1)  # 3 x (N, H)
    gh_r, gh_z, hn = np.split(prev_h @ W_hh.T + b_hh, 3, axis=1)  # 3 x (N, H)
    r = sigmoid(gi_r + gh_r)
    z = sigmoid(gi_z + gh_z)
    n = np.tanh(gi_n + r * hn)
    next_h = (1.0 - z) * n + z * prev_h  # (N, H): z = 1 copies the old state through
    return next_h, GRUStepCache(x, prev_h, W_ih, W_hh, r, z, n, hn)


def gru_step_backward(
    dnext_h: np.ndarray, cache: GRUStepCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of ``gru_step_forward``.

    Inputs:
    - dnext_h: gradient of the loss with respect to ``next_h``, shape (N, H).
    - cache: the ``GRUStepCache`` from ``gru_step_forward``.

    Returns a tuple of:
    - dx: shape (N, D).
    - dprev_h: shape (N, H).
    - dW_ih: shape (3H, D).
    - dW_hh: shape (3H, H).
    - db_ih: shape (3H,).
    - db_hh: shape (3H,).
    """
    _check_cache(cache, GRUStepCache, "gru_step_forward")
    x, prev_h, W_ih, W_hh, r, z, n, hn = cache
    _check_shape("dnext_h", dnext_h, "N, H", prev_h.shape)

    dn = dnext_h * (1.0 - z)
    dz = dnext_h * (prev_h - n)
    da_n = dn * (1.0 - n**2)  # gradient of n's pre-activation gi_n + r * hn
    dr = da_n * hn
    da_r = dr * r * (1.0 - r)
    da_z = dz * z * (1.0 - z)
    # The x-side and h-side pre-activations share r and z, but differ for n: the h-side
    # term hn is scaled by r.
    dgi = np.concatenate([da_r, da_z, da_n], axis=1)  # (N, 3H)
    dgh = np.concatenate([da_r, da_z, da_n * r], axis=1)  # (N, 3H)

    dx = dgi @ W_ih  # (N, D)
    dprev_h = dnext_h * z + dgh @ W_hh  # (N, H): direct path through z plus the matmuls
    dW_ih = dgi.T @ x  # (3H, D)
    dW_hh = dgh.T @ prev_h  # (3H, H)
    db_ih = dgi.sum(axis=0)  # (3H,)
    db_hh = dgh.sum(axis=0)  # (3H,)
    return dx, dprev_h, dW_ih, dW_hh, db_ih, db_hh


def gru_forward(
    x: np.ndarray,
    h0: np.ndarray,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
) -> tuple[np.ndarray, GRUCache]:
    """Run a GRU over a whole batch-first sequence (``torch.nn.GRU``, one layer).

    Inputs:
    - x: input sequence, shape (N, T, D), T >= 1.
    - h0: initial hidden state, shape (N, H).
    - W_ih: shape (3H, D).
    - W_hh: shape (3H, H).
    - b_ih: shape (3H,).
    - b_hh: shape (3H,).

    Returns a tuple of:
    - h: hidden state at every step, shape (N, T, H).
    - cache: ``GRUCache``; exposes the gates ``cache.r``, ``cache.z`` and the candidate
      ``cache.n``, each (N, T, H), for plotting.
    """
    _check_sequence("x", x, "N, T, D")
    N, T, D = x.shape
    _float_array("h0", h0, "N, H")
    H = h0.shape[1]
    _check_shape("h0", h0, "N, H", (N, H))
    _check_cell_params(W_ih, W_hh, b_ih, b_hh, G=3, D=D, H=H)

    dtype = np.result_type(x, h0, W_ih, W_hh)
    h, r, z, n, hn = (np.empty((N, T, H), dtype=dtype) for _ in range(5))
    prev_h = h0
    for t in range(T):
        prev_h, step = gru_step_forward(x[:, t], prev_h, W_ih, W_hh, b_ih, b_hh)
        h[:, t] = prev_h
        r[:, t], z[:, t], n[:, t], hn[:, t] = step.r, step.z, step.n, step.hn
    return h, GRUCache(x, h0, W_ih, W_hh, h, r, z, n, hn)


def gru_backward(
    dh: np.ndarray, cache: GRUCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagation through time for ``gru_forward``.

    Inputs:
    - dh: upstream gradients of ALL hidden states, shape (N, T, H). NOTE: ``dh[:, t]`` is the
      gradient that reaches h_t from above, not the gradient passed between time steps; this
      function adds the two.
    - cache: the ``GRUCache`` from ``gru_forward``.

    Returns a tuple of:
    - dx: shape (N, T, D).
    - dh0: shape (N, H).
    - dW_ih: shape (3H, D).
    - dW_hh: shape (3H, H).
    - db_ih: shape (3H,).
    - db_hh: shape (3H,).
    """
    _check_cache(cache, GRUCache, "gru_forward")
    x, h0, W_ih, W_hh, h, r, z, n, hn = cache
    N, T, D = x.shape
    _check_shape("dh", dh, "N, T, H", h.shape)

    dx = np.empty_like(x, dtype=dh.dtype)
    dW_ih, dW_hh = np.zeros_like(W_ih), np.zeros_like(W_hh)
    db_ih = np.zeros(W_ih.shape[0], dtype=dh.dtype)
    db_hh = np.zeros_like(db_ih)
    dprev_h = np.zeros_like(h0, dtype=dh.dtype)  # carried back from step t + 1
    for t in reversed(range(T)):
        prev_h = h0 if t == 0 else h[:, t - 1]
        step = GRUStepCache(x[:, t], prev_h, W_ih, W_hh, r[:, t], z[:, t], n[:, t], hn[:, t])
        dx[:, t], dprev_h, dW_ih_t, dW_hh_t, db_ih_t, db_hh_t = gru_step_backward(
            dh[:, t] + dprev_h, step
        )
        dW_ih += dW_ih_t  # shared weights: gradients add up over time
        dW_hh += dW_hh_t
        db_ih += db_ih_t
        db_hh += db_hh_t
    return dx, dprev_h, dW_ih, dW_hh, db_ih, db_hh
