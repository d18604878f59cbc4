"""Multi-layer, optionally bidirectional ``RNN``, ``LSTM`` and ``GRU`` equal to ``torch.nn``'s.

Dimension letters: T time, N batch, D input, H hidden, L layers, G gates (1/4/3).

Same constructor arguments, parameter names (``weight_ih_l0``, ``bias_hh_l1_reverse``, ...),
shapes, initialisation and ``forward`` contract as ``torch.nn.RNN/LSTM/GRU`` (``batch_first``
defaults to False as in torch), so ``load_state_dict`` works both ways and gives the same
outputs and gradients. Extensions, all keyword-only:

- ``lengths=``: per-sequence lengths of a padded batch; outputs past a length are zero and the
  final state is taken at the last valid step -- what torch gives for the packed batch;
- ``return_gates=True``: a third return value, a dict of gate activations for plots;
- ``fused`` (constructor): True runs each layer as one ``torch.autograd.Function`` with the
  hand-derived BPTT of ``fused.py``; False loops over the readable ``*_step`` functions of
  ``cells.py`` and lets autograd differentiate them (slower; supports double backward).

How one layer handles ragged batches: it runs every sequence for all T steps and then reads
each sequence's final state at its own last valid step. Steps past a length never influence
earlier ones, so the valid outputs, the final state and all gradients are exactly those of
the packed computation. The reverse direction first reverses each sequence within its own
length (a gather), runs forwards, and reverses back.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from .cells import (
    NONLINEARITIES,
    _shape,
    check_sizes,
    check_state,
    gru_step,
    init_uniform_,
    lstm_step,
    rnn_step,
)
from .fused import GRUFunction, LSTMFunction, RNNFunction

# Gate names per cell type, in the order of the blocks of weight_ih / weight_hh.
GATE_NAMES = {"RNN": (), "LSTM": ("i", "f", "g", "o"), "GRU": ("r", "z", "n")}


class _RecurrentBase(nn.Module):
    """Parameters, input checks and the layer/direction loop shared by RNN, LSTM and GRU."""

    mode = "RNN"  # "RNN", "LSTM" or "GRU"
    num_gates = 1  # G

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,  # torch's default: time-major (T, N, D)
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        fused: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        check_sizes(input_size, hidden_size)
        if isinstance(num_layers, bool) or not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f"num_layers must be an int >= 1, got {num_layers!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
            raise TypeError(f"dropout must be a float in [0, 1], got {type(dropout).__name__}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"dropout must be in [0, 1], got {dropout}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout acts between layers only (never after the last one), so with "
                f"num_layers=1 dropout={dropout} has no effect",
                UserWarning,
                stacklevel=2,
            )
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.fused = fused
        dirs = 2 if bidirectional else 1
        gh = self.num_gates * hidden_size
        kw = {"device": device, "dtype": dtype}
        # Registration order = torch's, so reset_parameters draws the same random numbers.
        for layer in range(num_layers):
            d_in = (
                input_size if layer == 0 else hidden_size * dirs
            )  # layer l>0 reads both directions
            for direction in range(dirs):
                sfx = f"_l{layer}" + ("_reverse" if direction else "")
                self.register_parameter(
                    "weight_ih" + sfx, nn.Parameter(torch.empty(gh, d_in, **kw))
                )
                self.register_parameter(
                    "weight_hh" + sfx, nn.Parameter(torch.empty(gh, hidden_size, **kw))
                )
                if bias:
                    self.register_parameter("bias_ih" + sfx, nn.Parameter(torch.empty(gh, **kw)))
                    self.register_parameter("bias_hh" + sfx, nn.Parameter(torch.empty(gh, **kw)))
        self.reset_parameters()

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    def reset_parameters(self) -> None:
        init_uniform_(self)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        for name, default in (
            ("bias", True),
            ("batch_first", False),
            ("dropout", 0.0),
            ("bidirectional", False),
            ("fused", True),
        ):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s

    def _weights(self, layer: int, direction: int) -> tuple[Tensor, ...]:
        """(w_ih, w_hh, b_ih, b_hh) of one layer and direction; biases None when bias=False."""
        sfx = f"_l{layer}" + ("_reverse" if direction else "")
        return tuple(
            getattr(self, n + sfx, None) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        )

    # ----------------------------------------------------------------- input checks
    def _check_input(self, input: Tensor) -> None:
        if not isinstance(input, Tensor):
            raise TypeError(
                f"input must be a torch.Tensor or a PackedSequence, got {type(input).__name__}"
            )
        D = self.input_size
        layout = "(N, T, D)" if self.batch_first else "(T, N, D)"
        if input.dim() not in (2, 3) or input.shape[-1] != D:
            raise ValueError(
                f"input must have shape {layout} (batch_first={self.batch_first}) or unbatched "
                f"(T, D), with D = input_size = {D}; got {_shape(input)}"
            )
        if input.numel() == 0:
            raise ValueError(
                f"input must hold at least one step of one sequence, got {_shape(input)}"
            )
        w = self.weight_ih_l0
        if input.dtype != w.dtype:
            raise TypeError(
                f"input dtype {input.dtype} differs from the parameters' {w.dtype}; "
                "convert one of them (e.g. model.double() or input.float())"
            )

    def _check_lengths(self, lengths: Tensor | Sequence[int], T: int, N: int) -> Tensor:
        """Validate per-sequence lengths and return them as an int64 tensor on the CPU."""
        if not isinstance(lengths, Tensor):
            lengths = torch.as_tensor(lengths)
        if (
            lengths.dtype.is_floating_point
            or lengths.dtype.is_complex
            or lengths.dtype == torch.bool
        ):
            raise TypeError(f"lengths must hold integers, got dtype {lengths.dtype}")
        if lengths.dim() != 1 or lengths.shape[0] != N:
            raise ValueError(
                f"lengths must be a 1-D tensor of N = {N} per-sequence lengths, got shape {_shape(lengths)}"
            )
        lengths = lengths.to(device="cpu", dtype=torch.long)
        bad = ((lengths < 1) | (lengths > T)).nonzero()
        if len(bad):
            n = int(bad[0])
            raise ValueError(
                f"lengths must satisfy 1 <= lengths[n] <= T = {T} (a sequence needs at least "
                f"one step and cannot be longer than the input), got lengths[{n}] = {int(lengths[n])}"
            )
        return lengths

    def _check_state(
        self, state: object, name: str, want: tuple[int, ...], x: Tensor, unbatched: bool
    ) -> Tensor:
        layout = (
            "(num_layers*num_directions, H) for unbatched input"
            if unbatched
            else "(num_layers*num_directions, N, H)"
        )
        check_state(state, name, want, layout, x)
        return state.unsqueeze(1) if unbatched else state  # (L*dirs, N, H)

    def _initial_state(
        self, hx: object, x: Tensor, unbatched: bool
    ) -> tuple[Tensor, Tensor | None]:
        """Check hx and return (h0, c0), each (L*dirs, N, H); c0 is None unless LSTM."""
        LD, N, H = self.num_layers * self.num_directions, x.shape[1], self.hidden_size
        if hx is None:
            zeros = x.new_zeros(LD, N, H)  # (L*dirs, N, H) on the input's device and dtype
            return zeros, (zeros if self.mode == "LSTM" else None)
        want = (LD, H) if unbatched else (LD, N, H)
        if self.mode == "LSTM":
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"hx must be a tuple (h_0, c_0) for LSTM, got {type(hx).__name__}")
            h0 = self._check_state(hx[0], "hx[0] (h_0)", want, x, unbatched)
            c0 = self._check_state(hx[1], "hx[1] (c_0)", want, x, unbatched)
            return h0, c0
        return self._check_state(hx, "hx", want, x, unbatched), None

    # ----------------------------------------------------------------- one layer
    def _layer(
        self, x: Tensor, h0: Tensor, c0: Tensor | None, weights: tuple, keep_gates: bool
    ) -> tuple:
        """Run one layer in one direction over x (T, N, D_l).

        Returns (hs, cs, acts): hidden states (T, N, H), cell states (T, N, H) or None, and
        gate activations (T, N, G*H) or None (RNN; or step loop without keep_gates), the
        latter not differentiable.
        """
        w_ih, w_hh, b_ih, b_hh = weights
        if self.fused:
            if self.mode == "LSTM":
                return LSTMFunction.apply(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
            if self.mode == "GRU":
                hs, acts = GRUFunction.apply(x, h0, w_ih, w_hh, b_ih, b_hh)
                return hs, None, acts
            return RNNFunction.apply(x, h0, w_ih, w_hh, b_ih, b_hh, self.nonlinearity), None, None
        # The readable path: one step function per time step; autograd does the backward.
        hs, cs, acts = [], [], []
        h, c = h0, c0
        for x_t in x:  # x_t: (N, D_l)
            if self.mode == "LSTM":
                step = lstm_step(x_t, h, c, w_ih, w_hh, b_ih, b_hh)
                h, c = step.h, step.c
                cs.append(c)
                if keep_gates:
                    acts.append(
                        torch.cat([step.i, step.f, step.g, step.o], dim=1).detach()
                    )  # (N, 4H)
            elif self.mode == "GRU":
                step = gru_step(x_t, h, w_ih, w_hh, b_ih, b_hh)
                h = step.h
                if keep_gates:
                    acts.append(torch.cat([step.r, step.z, step.n], dim=1).detach())  # (N, 3H)
            else:
                h = rnn_step(x_t, h, w_ih, w_hh, b_ih, b_hh, self.nonlinearity)
            hs.append(h)
        stack = torch.stack  # (T, N, ...) from T tensors (N, ...)
        return stack(hs), (stack(cs) if cs else None), (stack(acts) if acts else None)

    # ----------------------------------------------------------------- forward
    def forward(
        self,
        input: Tensor | PackedSequence,
        hx: Tensor | tuple[Tensor, Tensor] | None = None,
        *,
        lengths: Tensor | Sequence[int] | None = None,
        return_gates: bool = False,
    ):
        """Run every layer and direction over the whole sequence, as torch.nn.RNN/LSTM/GRU.

        Inputs:
        - input: (T, N, D), or (N, T, D) when batch_first=True, or unbatched (T, D), or a
          ``PackedSequence`` (then output is one too, with the same batch order)
        - hx: initial state, (L*dirs, N, H) ((L*dirs, H) for unbatched input), a tuple
          (h_0, c_0) of two such tensors for LSTM; zeros when None. Rows go layer by layer,
          forward direction first.
        - lengths (keyword): (N,) integer lengths of a padded batch, 1 <= lengths[n] <= T
        - return_gates (keyword): also return a dict of detached activations, each
          (L*dirs, N, T, H) ((L*dirs, T, H) unbatched), zero past each length: "h" (hidden
          state of every layer), LSTM "i", "f", "g", "o", "c"; GRU "r", "z", "n"

        Returns:
        - output: the last layer's hidden states, both directions concatenated, (T, N, dirs*H)
          ((N, T, dirs*H) when batch_first), zero past each length
        - h_n (LSTM: (h_n, c_n)): the state after each sequence's last valid step, (L*dirs, N, H)
        - gates: the dict above, only when return_gates=True
        """
        packed = isinstance(input, PackedSequence)
        if packed:
            if lengths is not None:
                raise ValueError("pass either a PackedSequence or lengths=, not both")
            self._check_input(input.data.unsqueeze(0))
            x, lengths = pad_packed_sequence(input)  # (T, N, D), lengths (N,) in batch order
            unbatched = False
        else:
            self._check_input(input)
            unbatched = input.dim() == 2
            if unbatched:
                if lengths is not None:
                    raise ValueError(
                        "lengths= needs batched input; an unbatched (T, D) input has one length, T"
                    )
                x = input.unsqueeze(1)  # (T, 1, D)
            else:
                x = input.transpose(0, 1) if self.batch_first else input  # (T, N, D)
        T, N, _ = x.shape
        if lengths is not None:
            lengths = self._check_lengths(lengths, T, N)
        h0, c0 = self._initial_state(hx, x, unbatched)  # (L*dirs, N, H) each
        output, h_n, c_n, gates = self._forward_layers(
            x.contiguous(), h0, c0, lengths, return_gates
        )

        if packed:
            output = _pack_like(output, lengths, input)
        elif unbatched:
            output, h_n = output.squeeze(1), h_n.squeeze(1)  # (T, dirs*H), (L*dirs, H)
            c_n = None if c_n is None else c_n.squeeze(1)
            gates = {k: v.squeeze(1) for k, v in gates.items()}  # (L*dirs, T, H)
        elif self.batch_first:
            output = output.transpose(0, 1)  # (N, T, dirs*H)
        state = (h_n, c_n) if self.mode == "LSTM" else h_n
        return (output, state, gates) if return_gates else (output, state)

    def _forward_layers(
        self, x: Tensor, h0: Tensor, c0: Tensor | None, lengths: Tensor | None, return_gates: bool
    ) -> tuple:
        """The layer/direction loop on time-major x (T, N, D).

        Returns output (T, N, dirs*H), h_n and c_n (L*dirs, N, H; c_n None unless LSTM), and
        a dict of gate activations (L*dirs, N, T, H) (empty unless return_gates).
        """
        T, N, _ = x.shape
        batch = torch.arange(N, device=x.device)
        if lengths is None:
            last, reverse_index, mask = -1, None, None
        else:
            lengths = lengths.to(x.device)
            last = lengths - 1  # (N,) index of each sequence's last valid step
            steps = torch.arange(T, device=x.device).unsqueeze(1)  # (T, 1)
            mask = steps < lengths  # (T, N) True at valid steps
            reverse_index = torch.where(mask, last - steps, steps)  # (T, N) reverse within length
        names = GATE_NAMES[self.mode] + (("c",) if self.mode == "LSTM" else ()) + ("h",)
        gates: dict[str, list[Tensor]] = {k: [] for k in names} if return_gates else {}
        h_n, c_n = [], []
        layer_input = x  # (T, N, D_l)
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                k = layer * self.num_directions + direction  # row of h0 / h_n
                xin = layer_input if direction == 0 else _reverse(layer_input, reverse_index)
                c0_k = None if c0 is None else c0[k]
                hs, cs, acts = self._layer(
                    xin, h0[k], c0_k, self._weights(layer, direction), return_gates
                )
                h_n.append(_at(hs, last, batch))  # (N, H) state after each sequence's last step
                if cs is not None:
                    c_n.append(_at(cs, last, batch))
                if direction == 1:  # back to input time order
                    hs = _reverse(hs, reverse_index)
                    if return_gates:
                        cs = None if cs is None else _reverse(cs, reverse_index)
                        acts = None if acts is None else _reverse(acts, reverse_index)
                outputs.append(hs)
                if return_gates:
                    blocks = () if acts is None else acts.detach().chunk(self.num_gates, dim=2)
                    per_step = dict(zip(GATE_NAMES[self.mode], blocks, strict=True))
                    per_step["h"] = hs.detach()
                    if cs is not None:
                        per_step["c"] = cs.detach()
                    for name, value in per_step.items():
                        gates[name].append(value)  # (T, N, H)
            layer_output = (
                torch.cat(outputs, dim=2) if len(outputs) > 1 else outputs[0]
            )  # (T, N, dirs*H)
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                layer_output = F.dropout(
                    layer_output, self.dropout, training=True
                )  # between layers only
            layer_input = layer_output
        output = layer_input  # (T, N, dirs*H)
        if mask is not None:
            output = output * mask.unsqueeze(2).to(
                output.dtype
            )  # zeros past each length, as packing
        stacked = {}
        for name, values in gates.items():
            v = torch.stack(values).transpose(1, 2)  # (L*dirs, N, T, H)
            stacked[name] = v if mask is None else v * mask.t().unsqueeze(-1).to(v.dtype)
        return output, torch.stack(h_n), (torch.stack(c_n) if c_n else None), stacked


def _at(seq: Tensor, step: int | Tensor, batch: Tensor) -> Tensor:
    """seq[step[n], n] for every n: (T, N, H) -> (N, H); step is one int or (N,) indices."""
    return seq[step] if isinstance(step, int) else seq[step, batch]


def _reverse(seq: Tensor, index: Tensor | None) -> Tensor:
    """Reverse (T, N, C) in time, each sequence within its own length when index is given."""
    if index is None:
        return seq.flip(0)  # (T, N, C)
    return seq.gather(0, index.unsqueeze(2).expand_as(seq))  # (T, N, C)


def _pack_like(output: Tensor, lengths: Tensor, like: PackedSequence) -> PackedSequence:
    """Pack time-major output (T, N, C) with the batch order (sorted/unsorted indices) of ``like``."""
    if like.sorted_indices is not None:
        output = output.index_select(1, like.sorted_indices)  # (T, N, C) longest first
        lengths = lengths[like.sorted_indices.cpu()]
    packed = pack_padded_sequence(output, lengths, enforce_sorted=True)
    return PackedSequence(
        packed.data, packed.batch_sizes, like.sorted_indices, like.unsorted_indices
    )


class RNN(_RecurrentBase):
    """Elman RNN, equal to ``torch.nn.RNN``: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).

    Inputs (constructor, as torch.nn.RNN): input_size D, hidden_size H, num_layers L,
    nonlinearity "tanh" or "relu", bias, batch_first (False: time-major), dropout (between
    layers, training mode only), bidirectional; keyword-only: fused (True: the fast path of
    ``fused.py``; False: the step loop), device, dtype.

    Returns (from ``forward(input, hx=None, *, lengths=None, return_gates=False)``):
    - output (T, N, dirs*H) and h_n (L*dirs, N, H); plus a gates dict {"h"} when asked.
      See ``_RecurrentBase.forward`` for every shape.
    """

    mode = "RNN"
    num_gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        *,
        fused: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        if nonlinearity not in NONLINEARITIES:
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            fused=fused,
            device=device,
            dtype=dtype,
        )

    def extra_repr(self) -> str:
        s = super().extra_repr()
        return s if self.nonlinearity == "tanh" else s + f", nonlinearity={self.nonlinearity!r}"


class LSTM(_RecurrentBase):
    """Long short-term memory, equal to ``torch.nn.LSTM`` (gates i, f, g, o; no proj_size).

    Inputs (constructor, as torch.nn.LSTM): input_size D, hidden_size H, num_layers L, bias,
    batch_first (False: time-major), dropout (between layers, training mode only),
    bidirectional; keyword-only: fused (True: the fast path of ``fused.py``; False: the step
    loop), device, dtype.

    Returns (from ``forward(input, hx=None, *, lengths=None, return_gates=False)``):
    - output (T, N, dirs*H) and (h_n, c_n), each (L*dirs, N, H); plus a gates dict
      {"i", "f", "g", "o", "c", "h"} when asked. See ``_RecurrentBase.forward``.
    """

    mode = "LSTM"
    num_gates = 4


class GRU(_RecurrentBase):
    """Gated recurrent unit, equal to ``torch.nn.GRU`` (gates r, z, n; reset after the matmul).

    Inputs (constructor, as torch.nn.GRU): input_size D, hidden_size H, num_layers L, bias,
    batch_first (False: time-major), dropout (between layers, training mode only),
    bidirectional; keyword-only: fused (True: the fast path of ``fused.py``; False: the step
    loop), device, dtype.

    Returns (from ``forward(input, hx=None, *, lengths=None, return_gates=False)``):
    - output (T, N, dirs*H) and h_n (L*dirs, N, H); plus a gates dict {"r", "z", "n", "h"}
      when asked. See ``_RecurrentBase.forward``.
    """

    mode = "GRU"
    num_gates = 3
