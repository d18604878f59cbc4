"""LSTM in NumPy with a hand-written backward pass, in the exact layout of ``torch.nn.LSTM``.

    a   = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh        (N, 4H), split in gate order i, f, g, o
    i   = sigmoid(a_i)    input gate
    f   = sigmoid(a_f)    forget gate
    g   = tanh(a_g)       candidate cell values
    o   = sigmoid(a_o)    output gate
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

Parameters as ``torch.nn.LSTM``: ``weight_ih_l0`` = W_ih (4H, D), ``weight_hh_l0`` = W_hh (4H, H),
``bias_ih_l0`` = b_ih (4H,), ``bias_hh_l0`` = b_hh (4H,); rows [0:H] belong to i, [H:2H] to f,
[2H:3H] to g, [3H:4H] to o. (CS231n uses (D, 4H) and the order i, f, o, g; we do not.)
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


class LSTMStepCache(NamedTuple):
    x: np.ndarray  # (N, D)
    prev_h: np.ndarray  # (N, H)
    prev_c: np.ndarray  # (N, H)
    W_ih: np.ndarray  # (4H, D)
    W_hh: np.ndarray  # (4H, H)
    i: np.ndarray  # (N, H) gate activations, kept post-nonlinearity:
    f: np.ndarray  # (N, H)   sigmoid' = s (1 - s), tanh' = 1 - t**2
    g: np.ndarray  # (N, H)
    o: np.ndarray  # (N, H)
    tanh_c: np.ndarray  # (N, H) tanh(next_c)


class LSTMCache(NamedTuple):
    """Everything ``lstm_backward`` needs; also what a lesson plots (gates, cells over time)."""

    x: np.ndarray  # (N, T, D)
    h0: np.ndarray  # (N, H)
    c0: np.ndarray  # (N, H)
    W_ih: np.ndarray  # (4H, D)
    W_hh: np.ndarray  # (4H, H)
    h: np.ndarray  # (N, T, H) hidden states
    c: np.ndarray  # (N, T, H) cell states; c[:, -1] is nn.LSTM's c_n
    i: np.ndarray  # (N, T, H) input gate
    f: np.ndarray  # (N, T, H) forget gate
    g: np.ndarray  # (N, T, H) candidate
    o: np.ndarray  # (N, T, H) output gate
    tanh_c: np.ndarray  # (N, T, H)


def lstm_step_forward(
    x: np.ndarray,
    prev_h: np.ndarray,
    prev_c: np.ndarray,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, LSTMStepCache]:
    """One time step of an LSTM (``torch.nn.LSTMCell``).

    Inputs:
    - x: input at this step, shape (N, D).
    - prev_h: previous hidden state, shape (N, H).
    - prev_c: previous cell state, shape (N, H).
    - W_ih: input-to-hidden weights of the gates i, f, g, o stacked, shape (4H, D).
    - W_hh: hidden-to-hidden weights, shape (4H, H).
    - b_ih: input biases, shape (4H,).
    - b_hh: hidden biases, shape (4H,).

    Returns a tuple of:
    - next_h: next hidden state, shape (N, H).
    - next_c: next cell state, shape (N, H).
    - cache: ``LSTMStepCache`` for ``lstm_step_backward``.
    """
    _float_array("x", x, "N, D")
    N, D = x.shape
    _float_array("prev_h", prev_h, "N, H")
    H = prev_h.shape[1]
    _check_shape("prev_h", prev_h, "N, H", (N, H))
    _check_shape("prev_c", prev_c, "N, H", (N, H))
    _check_cell_params(W_ih, W_hh, b_ih, b_hh, G=4, D=D, H=H)

    a = x @ W_ih.T + b_ih + prev_h @ W_hh.T + b_hh  # (N, 4H) all gates in one matmul each
    a_i, a_f, a_g, a_o = np.split(a, 4, axis=1)  # 4 x (N, H)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), np.tanh(a_g), sigmoid(a_o)
    next_c = f * prev_c + i * g  # (N, H): the additive path that keeps gradients alive
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c  # (N, H)
    return next_h, next_c, LSTMStepCache(x, prev_h, prev_c, W_ih, W_hh, i, f, g, o, tanh_c)


def lstm_step_backward(
    dnext_h: np.ndarray, dnext_c: np.ndarray, cache: LSTMStepCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of ``lstm_step_forward``.

    Inputs:
    - dnext_h: gradient of the loss with respect to ``next_h``, shape (N, H).
    - dnext_c: gradient of the loss with respect to ``next_c``, shape (N, H).
    - cache: the ``LSTMStepCache`` from ``lstm_step_forward``.

    Returns a tuple of:
    - dx: shape (N, D).
    - dprev_h: shape (N, H).
    - dprev_c: shape (N, H).
    - dW_ih: shape (4H, D).
    - dW_hh: shape (4H, H).
    - db_ih: shape (4H,).
    - db_hh: shape (4H,).
    """
    _check_cache(cache, LSTMStepCache, "lstm_step_forward")
    x, prev_h, prev_c, W_ih, W_hh, i, f, g, o, tanh_c = cache
    _check_shape("dnext_h", dnext_h, "N, H", prev_h.shape)
    _check_shape("dnext_c", dnext_c, "N, H", prev_h.shape)

    # next_c reaches the loss directly (dnext_c) and through next_h = o * tanh(next_c).
    dc = dnext_c + dnext_h * o * (1.0 - tanh_c**2)  # (N, H)
    do = dnext_h * tanh_c
    di = dc * g
    dg = dc * i
    df = dc * prev_c
    dprev_c = dc * f

    # Back through the nonlinearities, using the stored outputs.
    da = np.concatenate(
        [di * i * (1.0 - i), df * f * (1.0 - f), dg * (1.0 - g**2), do * o * (1.0 - o)], axis=1
    )  # (N, 4H), gate order i, f, g, o like the rows of W_ih
    dx = da @ W_ih  # (N, D)
    dprev_h = da @ W_hh  # (N, H)
    dW_ih = da.T @ x  # (4H, D)
    dW_hh = da.T @ prev_h  # (4H, H)
    db_ih = da.sum(axis=0)  # (4H,)
    return dx, dprev_h, dprev_c, dW_ih, dW_hh, db_ih, db_ih.copy()


def lstm_forward(
    x: np.ndarray,
    h0: np.ndarray,
    W_ih: np.ndarray,
    W_hh: np.ndarray,
    b_ih: np.ndarray,
    b_hh: np.ndarray,
    c0: np.ndarray | None = None,
) -> tuple[np.ndarray, LSTMCache]:
    """Run an LSTM over a whole batch-first sequence (``torch.nn.LSTM``, one layer).

    Inputs:
    - x: input sequence, shape (N, T, D), T >= 1.
    - h0: initial hidden state, shape (N, H).
    - W_ih: shape (4H, D).
    - W_hh: shape (4H, H).
    - b_ih: shape (4H,).
    - b_hh: shape (4H,).
    - c0: initial cell state, shape (N, H); None means zeros (as ``nn.LSTM`` without a state).

    Returns a tuple of:
    - h: hidden state at every step, shape (N, T, H).
    - cache: ``LSTMCache``; besides what ``lstm_backward`` needs it exposes the gate
      activations ``cache.i``, ``cache.f``, ``cache.g``, ``cache.o`` and the cell states
      ``cache.c``, each (N, T, H), for plotting. The final cell state is ``cache.c[:, -1]``.
    """
    _check_sequence("x", x, "N, T, D")
    N, T, D = x.shape
    _float_array("h0", h0, "N, H")
    H = h0.shape[1]
    _check_shape("h0", h0, "N, H", (N, H))
    if c0 is None:
        c0 = np.zeros_like(h0)
    _check_shape("c0", c0, "N, H", (N, H))
    _check_cell_params(W_ih, W_hh, b_ih, b_hh, G=4, D=D, H=H)

    dtype = np.result_type(x, h0, c0, W_ih, W_hh)
    h, c, i, f, g, o, tanh_c = (np.empty((N, T, H), dtype=dtype) for _ in range(7))
    prev_h, prev_c = h0, c0
    for t in range(T):
        prev_h, prev_c, step = lstm_step_forward(x[:, t], prev_h, prev_c, W_ih, W_hh, b_ih, b_hh)
        h[:, t], c[:, t] = prev_h, prev_c
        i[:, t], f[:, t], g[:, t], o[:, t], tanh_c[:, t] = (
            step.i,
            step.f,
            step.g,
            step.o,
            step.tanh_c,
        )
    return h, LSTMCache(x, h0, c0, W_ih, W_hh, h, c, i, f, g, o, tanh_c)


def lstm_backward(
    dh: np.ndarray, cache: LSTMCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backpropagation through time for ``lstm_forward``.

    Inputs:
    - dh: upstream gradients of ALL hidden states, shape (N, T, H). NOTE: ``dh[:, t]`` is the
      gradient that reaches h_t from above, not the gradient passed between time steps; this
      function adds the two. The cell states get no upstream gradient of their own (as for
      the output of ``nn.LSTM``).
    - cache: the ``LSTMCache`` from ``lstm_forward``.

    Returns a tuple of:
    - dx: shape (N, T, D).
    - dh0: shape (N, H).
    - dc0: shape (N, H) (also when ``c0`` was None, i.e. zeros).
    - dW_ih: shape (4H, D).
    - dW_hh: shape (4H, H).
    - db_ih: shape (4H,).
    - db_hh: shape (4H,).
    """
    _check_cache(cache, LSTMCache, "lstm_forward")
    x, h0, c0, W_ih, W_hh, h, c = cache[:7]
    N, T, D = x.shape
    _check_shape("dh", dh, "N, T, H", h.shape)

    dx = np.empty_like(x, dtype=dh.dtype)
    dW_ih, dW_hh = np.zeros_like(W_ih), np.zeros_like(W_hh)
    db_ih = np.zeros(W_ih.shape[0], dtype=dh.dtype)
    db_hh = np.zeros_like(db_ih)
    dprev_h = np.zeros_like(h0, dtype=dh.dtype)  # carried back from step t + 1
    dprev_c = np.zeros_like(c0, dtype=dh.dtype)
    for t in reversed(range(T)):
        step = LSTMStepCache(
            x[:, t],
            h0 if t == 0 else h[:, t - 1],
            c0 if t == 0 else c[:, t - 1],
            W_ih,
            W_hh,
            cache.i[:, t],
            cache.f[:, t],
            cache.g[:, t],
            cache.o[:, t],
            cache.tanh_c[:, t],
        )
        dx[:, t], dprev_h, dprev_c, dW_ih_t, dW_hh_t, db_ih_t, db_hh_t = lstm_step_backward(
            dh[:, t] + dprev_h, dprev_c, step
        )
        dW_ih += dW_ih_t  # shared weights: gradients add up over time
        dW_hh += dW_hh_t
        db_ih += db_ih_t
        db_hh += db_hh_t
    return dx, dprev_h, dprev_c, dW_ih, dW_hh, db_ih, db_hh
