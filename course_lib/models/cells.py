"""One time step of a vanilla RNN, an LSTM and a GRU, written out gate by gate.

Dimension letters: N batch, D input features, H hidden units, G gates (1 RNN, 4 LSTM, 3 GRU).

The parameters have exactly the names, shapes, gate order and initialisation of
``torch.nn.RNNCell`` / ``LSTMCell`` / ``GRUCell``:

- ``weight_ih`` (G*H, D), ``weight_hh`` (G*H, H), ``bias_ih`` (G*H,), ``bias_hh`` (G*H,)
- LSTM gate blocks in the order i, f, g, o; GRU blocks in the order r, z, n
- every parameter drawn from U(-1/sqrt(H), 1/sqrt(H))

so ``ours.load_state_dict(nn.LSTMCell(...).state_dict())`` gives the same numbers. The step
functions (``rnn_step``, ``lstm_step``, ``gru_step``) are what the cell modules call and what
the multi-layer ``RNN``/``LSTM``/``GRU`` of ``recurrent.py`` call when ``fused=False``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

NONLINEARITIES = ("tanh", "relu")


class LSTMStep(NamedTuple):
    """What one LSTM step computes, every tensor (N, H): new state and the four gates."""

    h: Tensor  # hidden state h_t = o * tanh(c_t)
    c: Tensor  # cell state c_t = f * c_{t-1} + i * g
    i: Tensor  # input gate, in (0, 1)
    f: Tensor  # forget gate, in (0, 1)
    g: Tensor  # candidate cell values, in (-1, 1)
    o: Tensor  # output gate, in (0, 1)


class GRUStep(NamedTuple):
    """What one GRU step computes, every tensor (N, H): new state and the three gates."""

    h: Tensor  # hidden state h_t = (1 - z) * n + z * h_{t-1}
    r: Tensor  # reset gate, in (0, 1)
    z: Tensor  # update gate, in (0, 1): 1 keeps the old state
    n: Tensor  # candidate state, in (-1, 1)


def rnn_step(
    x: Tensor,
    h: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
) -> Tensor:
    """One vanilla RNN step: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).

    Inputs:
    - x: input at this step, (N, D)
    - h: previous hidden state, (N, H)
    - w_ih: (H, D); w_hh: (H, H); b_ih, b_hh: (H,) or None
    - nonlinearity: "tanh" or "relu"

    Returns:
    - h: the new hidden state, (N, H)
    """
    a = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)  # (N, H) pre-activation
    return torch.tanh(a) if nonlinearity == "tanh" else torch.relu(a)  # (N, H)


def lstm_step(
    x: Tensor,
    h: Tensor,
    c: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> LSTMStep:
    """One LSTM step with torch's gate layout (one 4H-wide matmul per weight, then ``chunk(4)``).

    Inputs:
    - x: input at this step, (N, D)
    - h, c: previous hidden and cell state, (N, H) each
    - w_ih: (4H, D); w_hh: (4H, H); b_ih, b_hh: (4H,) or None

    Returns:
    - an ``LSTMStep(h, c, i, f, g, o)``, every field (N, H)
    """
    gates = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)  # (N, 4H) all pre-activations
    i, f, g, o = gates.chunk(4, dim=-1)  # 4 x (N, H), torch's order i, f, g, o
    i = torch.sigmoid(i)  # (N, H) how much of the candidate to write
    f = torch.sigmoid(f)  # (N, H) how much of the old cell to keep
    g = torch.tanh(g)  # (N, H) candidate values
    o = torch.sigmoid(o)  # (N, H) how much of the cell to expose
    c = f * c + i * g  # (N, H) additive update: the path gradients flow along
    h = o * torch.tanh(c)  # (N, H)
    return LSTMStep(h, c, i, f, g, o)


def gru_step(
    x: Tensor,
    h: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
) -> GRUStep:
    """One GRU step as ``torch.nn.GRU`` computes it (the reset gate multiplies W_hn h + b_hn).

    Inputs:
    - x: input at this step, (N, D)
    - h: previous hidden state, (N, H)
    - w_ih: (3H, D); w_hh: (3H, H); b_ih, b_hh: (3H,) or None

    Returns:
    - a ``GRUStep(h, r, z, n)``, every field (N, H)
    """
    x_r, x_z, x_n = F.linear(x, w_ih, b_ih).chunk(3, dim=-1)  # 3 x (N, H) input parts
    h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, dim=-1)  # 3 x (N, H) hidden parts
    r = torch.sigmoid(x_r + h_r)  # (N, H) reset gate
    z = torch.sigmoid(x_z + h_z)  # (N, H) update gate
    n = torch.tanh(x_n + r * h_n)  # (N, H) reset applied AFTER the hidden matmul, as nn.GRU
    h = (1 - z) * n + z * h  # (N, H) interpolate between candidate and old state
    return GRUStep(h, r, z, n)


def _shape(t: Tensor | tuple[int, ...]) -> str:
    """Format a shape as ``(2, 3, 8)`` for error messages."""
    dims = tuple(t.shape) if isinstance(t, Tensor) else tuple(t)
    return "(" + ", ".join(str(d) for d in dims) + ("," if len(dims) == 1 else "") + ")"


def check_state(state: object, name: str, want: tuple[int, ...], layout: str, like: Tensor) -> Tensor:
    """Validate a hidden/cell state: a tensor of shape ``want`` with ``like``'s dtype and device.

    ``layout`` names the expected shape in words for the error, e.g. ``"(N, H)"``.
    """
    if not isinstance(state, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(state).__name__}")
    if tuple(state.shape) != want:
        raise ValueError(f"{name} must have shape {layout} = {_shape(want)}, got {_shape(state)}")
    if state.dtype != like.dtype or state.device != like.device:
        raise TypeError(
            f"{name} must have the input's dtype and device ({like.dtype}, {like.device}), "
            f"got ({state.dtype}, {state.device})"
        )
    return state


def check_sizes(input_size: int, hidden_size: int) -> None:
    """Raise a clear error unless both sizes are positive integers (shared with recurrent.py)."""
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < 1:
            raise ValueError(f"{name} must be >= 1, got {value}")


def init_uniform_(module: nn.Module) -> None:
    """Draw every parameter of ``module`` from U(-1/sqrt(H), 1/sqrt(H)), in registration order:
    torch.nn's initialisation, with the same use of the random generator (same seed, same weights)."""
    bound = 1.0 / math.sqrt(module.hidden_size)
    for p in module.parameters():
        nn.init.uniform_(p, -bound, bound)


class _CellBase(nn.Module):
    """Parameters, initialisation and input checks shared by the three cells."""

    num_gates = 1  # G: blocks of H rows stacked in weight_ih / weight_hh

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        check_sizes(input_size, hidden_size)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gh = self.num_gates * hidden_size
        kw = {"device": device, "dtype": dtype}
        self.weight_ih = nn.Parameter(torch.empty(gh, input_size, **kw))  # (G*H, D)
        self.weight_hh = nn.Parameter(torch.empty(gh, hidden_size, **kw))  # (G*H, H)
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(gh, **kw))  # (G*H,)
            self.bias_hh = nn.Parameter(torch.empty(gh, **kw))  # (G*H,)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_uniform_(self)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        return s if self.bias else s + ", bias=False"

    def _check_input(self, input: Tensor) -> bool:
        """Validate ``input`` (N, D) or (D,); return True when it is unbatched."""
        if not isinstance(input, Tensor):
            raise TypeError(f"input must be a torch.Tensor, got {type(input).__name__}")
        D = self.input_size
        if input.dim() not in (1, 2) or input.shape[-1] != D:
            raise ValueError(
                f"input must have shape (N, D) or unbatched (D,) with D = input_size = {D}, "
                f"got {_shape(input)}"
            )
        if input.dtype != self.weight_ih.dtype:
            raise TypeError(
                f"input dtype {input.dtype} differs from the parameters' {self.weight_ih.dtype}; "
                "convert one of them (e.g. model.double() or input.float())"
            )
        return input.dim() == 1

    def _check_state(self, state: Tensor, name: str, input: Tensor) -> None:
        """Validate one state tensor: (N, H) for batched input, (H,) for unbatched."""
        H = self.hidden_size
        want = (input.shape[0], H) if input.dim() == 2 else (H,)
        layout = "(N, H)" if input.dim() == 2 else "(H,) for unbatched input"
        check_state(state, name, want, layout, input)


class RNNCell(_CellBase):
    """Vanilla RNN cell, equal to ``torch.nn.RNNCell``: h' = act(W_ih x + b_ih + W_hh h + b_hh).

    Inputs (to ``forward``):
    - input: (N, D), or (D,) for one unbatched sequence element
    - hx: previous hidden state (N, H) or (H,); zeros when None

    Returns:
    - h': (N, H), or (H,) for unbatched input
    """

    num_gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, device, dtype)

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + f", nonlinearity={self.nonlinearity!r}"

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        unbatched = self._check_input(input)
        x = input.unsqueeze(0) if unbatched else input  # (N, D)
        if hx is None:
            h = x.new_zeros(x.shape[0], self.hidden_size)  # (N, H)
        else:
            self._check_state(hx, "hx", input)
            h = hx.unsqueeze(0) if unbatched else hx  # (N, H)
        h = rnn_step(
            x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, self.nonlinearity
        )
        return h.squeeze(0) if unbatched else h


class LSTMCell(_CellBase):
    """LSTM cell, equal to ``torch.nn.LSTMCell`` (gates i, f, g, o in that order).

    Inputs (to ``forward``):
    - input: (N, D), or (D,) for one unbatched sequence element
    - hx: a tuple (h, c) of previous states, each (N, H) or (H,); zeros when None

    Returns:
    - (h', c'): each (N, H), or (H,) for unbatched input
    """

    num_gates = 4

    def forward(
        self, input: Tensor, hx: tuple[Tensor, Tensor] | None = None
    ) -> tuple[Tensor, Tensor]:
        unbatched = self._check_input(input)
        x = input.unsqueeze(0) if unbatched else input  # (N, D)
        if hx is None:
            h = c = x.new_zeros(x.shape[0], self.hidden_size)  # (N, H)
        else:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"hx must be a tuple (h, c) for LSTMCell, got {type(hx).__name__}")
            self._check_state(hx[0], "hx[0] (h)", input)
            self._check_state(hx[1], "hx[1] (c)", input)
            h, c = (s.unsqueeze(0) for s in hx) if unbatched else hx  # (N, H) each
        step = lstm_step(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        if unbatched:
            return step.h.squeeze(0), step.c.squeeze(0)
        return step.h, step.c


class GRUCell(_CellBase):
    """GRU cell, equal to ``torch.nn.GRUCell`` (gates r, z, n; reset after the hidden matmul).

    Inputs (to ``forward``):
    - input: (N, D), or (D,) for one unbatched sequence element
    - hx: previous hidden state (N, H) or (H,); zeros when None

    Returns:
    - h': (N, H), or (H,) for unbatched input
    """

    num_gates = 3

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        unbatched = self._check_input(input)
        x = input.unsqueeze(0) if unbatched else input  # (N, D)
        if hx is None:
            h = x.new_zeros(x.shape[0], self.hidden_size)  # (N, H)
        else:
            self._check_state(hx, "hx", input)
            h = hx.unsqueeze(0) if unbatched else hx  # (N, H)
        h = gru_step(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh).h
        return h.squeeze(0) if unbatched else h
