"""Vanilla (Elman) RNN in NumPy with a hand-written backward pass (backpropagation through time).

    h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)

exactly ``torch.nn.RNN`` (nonlinearity="tanh", batch_first=True) with its parameters
``weight_ih_l0`` = W_ih (H, D), ``weight_hh_l0`` = W_hh (H, H), ``bias_ih_l0`` = b_ih (H,),
``bias_hh_l0`` = b_hh (H,). Minibatch N, sequence length T, input size D, hidden size H.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .layers import _check_cache, _check_cell_params, _check_sequence, _check_shape, _float_array


class RNNStepCache(NamedTuple):
    x: np.ndarray  # (N, D) input at this step
    prev_h: np.ndarray  # (N, H)
    W_ih: np.ndarray  # (H, D)
    W_hh: np.ndarray  # (H, H)
    next_h: np.ndarray  # (N, H) = tanh(a); tanh'(a) = 1 - next_h**2, no need to keep a


class RNNCache(NamedTuple):
    x: np.ndarray  # (N, T, D)
    h0: np.ndarray  # (N, H)
    W_ih: np.ndarray  # (H, D)
    W_hh: np.ndarray  # (H, H)
    h: np.ndarray  # (N, T, H) every hidden state; step t reads h[:, t - 1] (or h0) and h[:, t]


def rnn_step_forward(
    x: np.ndarray,
    prev_h: np.ndarray,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
) -> tuple[np.ndarray, RNNStepCache]:
    """One time step of a tanh RNN (``torch.nn.RNNCell``).

    Inputs:
    - x: input at this step, shape (N, D).
    - prev_h: hidden state of the previous step, shape (N, H).
    - W_ih: input-to-hidden weight, shape (H, D).
    - W_hh: hidden-to-hidden weight, shape (H, H).
    - b_ih: input bias, shape (H,).
    - b_hh: hidden bias, shape (H,). (Two biases, as torch.nn: only their sum matters.)

    Returns a tuple of:
    - next_h: next hidden state, shape (N, H).
    - cache: ``RNNStepCache`` for ``rnn_step_backward``.
    """
    _float_array("x", x, "N, D")
    N, D = x.shape
    _float_array("prev_h", prev_h, "N, H")
    H = prev_h.shape[1]
    _check_shape("prev_h", prev_h, "N, H", (N, H))
    _check_cell_params(W_ih, W_hh, b_ih, b_hh, G=1, D=D, H=H)
    next_h = np.tanh(x @ W_ih.T + b_ih + prev_h @ W_hh.T + b_hh)  # (N, H)
    return next_h, RNNStepCache(x, prev_h, W_ih, W_hh, next_h)


def rnn_step_backward(
    dnext_h: np.ndarray, cache: RNNStepCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of ``rnn_step_forward``.

    Inputs:
    - dnext_h: gradient of the loss with respect to ``next_h``, shape (N, H).
    - cache: the ``RNNStepCache`` from ``rnn_step_forward``.

    Returns a tuple of:
    - dx: shape (N, D).
    - dprev_h: shape (N, H).
    - dW_ih: shape (H, D).
    - dW_hh: shape (H, H).
    - db_ih: shape (H,).
    - db_hh: shape (H,) (equal to db_ih: both biases enter through the same sum).
    """
    _check_cache(cache, RNNStepCache, "rnn_step_forward")
    x, prev_h, W_ih, W_hh, next_h = cache
    _check_shape("dnext_h", dnext_h, "N, H", next_h.shape)
    da = dnext_h * (1.0 - next_h**2)  # (N, H) gradient of the pre-activation
    dx = da @ W_ih  # (N, D)
    dprev_h = da @ W_hh  # (N, H)
    dW_ih = da.T @ x  # (H, D)
    dW_hh = da.T @ prev_h  # (H, H)
    db_ih = da.sum(axis=0)  # (H,)
    return dx, dprev_h, dW_ih, dW_hh, db_ih, db_ih.copy()


def rnn_forward(
    x: np.ndarray,
    h0: np.ndarray,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
) -> tuple[np.ndarray, RNNCache]:
    """Run a tanh RNN over a whole batch-first sequence (``torch.nn.RNN``, one layer).

    Inputs:
    - x: input sequence, shape (N, T, D), T >= 1.
    - h0: initial hidden state, shape (N, H). (``nn.RNN`` takes it as (1, N, H).)
    - W_ih: shape (H, D).
    - W_hh: shape (H, H).
    - b_ih: shape (H,).
    - b_hh: shape (H,).

    Returns a tuple of:
    - h: hidden state at every step, shape (N, T, H); ``h[:, -1]`` is the final state.
    - cache: ``RNNCache`` for ``rnn_backward``.
    """
    _check_sequence("x", x, "N, T, D")
    N, T, D = x.shape
    _float_array("h0", h0, "N, H")
    H = h0.shape[1]
    _check_shape("h0", h0, "N, H", (N, H))
    _check_cell_params(W_ih, W_hh, b_ih, b_hh, G=1, D=D, H=H)

    h = np.empty((N, T, H), dtype=np.result_type(x, h0, W_ih, W_hh))
    prev_h = h0
    for t in range(T):
        prev_h, _ = rnn_step_forward(x[:, t], prev_h, W_ih, W_hh, b_ih, b_hh)  # (N, H)
        h[:, t] = prev_h
    return h, RNNCache(x, h0, W_ih, W_hh, h)


def rnn_backward(
    dh: np.ndarray, cache: RNNCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagation through time for ``rnn_forward``.

    Inputs:
    - dh: upstream gradients of ALL hidden states, shape (N, T, H). NOTE: ``dh[:, t]`` is the
      gradient that reaches h_t from above (e.g. from the output layer at step t), not the
      gradient passed between time steps; this function adds the two at each step.
    - cache: the ``RNNCache`` from ``rnn_forward``.

    Returns a tuple of:
    - dx: shape (N, T, D).
    - dh0: gradient of the initial hidden state, shape (N, H).
    - dW_ih: shape (H, D).
    - dW_hh: shape (H, H).
    - db_ih: shape (H,).
    - db_hh: shape (H,).
    """
    _check_cache(cache, RNNCache, "rnn_forward")
    x, h0, W_ih, W_hh, h = cache
    N, T, D = x.shape
    _check_shape("dh", dh, "N, T, H", h.shape)

    dx = np.empty_like(x, dtype=dh.dtype)
    dW_ih, dW_hh = np.zeros_like(W_ih), np.zeros_like(W_hh)
    db_ih = np.zeros(W_ih.shape[0], dtype=dh.dtype)
    db_hh = np.zeros_like(db_ih)
    dprev_h = np.zeros_like(h0, dtype=dh.dtype)  # gradient flowing back from step t + 1
    for t in reversed(range(T)):
        prev_h = h0 if t == 0 else h[:, t - 1]
        step = RNNStepCache(x[:, t], prev_h, W_ih, W_hh, h[:, t])
        dx[:, t], dprev_h, dW_ih_t, dW_hh_t, db_ih_t, db_hh_t = rnn_step_backward(
            dh[:, t] + dprev_h, step
        )
        # The weights are shared by every step, so their gradients add up over time.
        dW_ih += dW_ih_t
        dW_hh += dW_hh_t
        db_ih += db_ih_t
        db_hh += db_hh_t
    return dx, dprev_h, dW_ih, dW_hh, db_ih, db_hh
