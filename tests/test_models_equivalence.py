"""course_lib.models against torch.nn: same weights -> same outputs, states and gradients.

float64 comparisons at 1e-10 (the implementations differ only in summation order), float32
at 1e-5. Both paths are covered: the default fused path (hand-derived BPTT) and the readable
step loop (fused=False).
"""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from course_lib.models import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from course_lib.models.fused import GRUFunction, LSTMFunction, RNNFunction

F64 = torch.float64
TOL64 = {"rtol": 1e-10, "atol": 1e-10}
D, H, N, T = 4, 3, 3, 5
LENGTHS = torch.tensor([4, 5, 2])  # unsorted on purpose: exercises sorted/unsorted indices

# (name, our class, torch class, extra constructor kwargs)
KINDS = {
    "rnn_tanh": (RNN, nn.RNN, {}),
    "rnn_relu": (RNN, nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (LSTM, nn.LSTM, {}),
    "gru": (GRU, nn.GRU, {}),
}


def make_pair(kind: str, dtype=F64, fused: bool = True, **kw):
    """A torch.nn model and ours with the same weights (loaded theirs -> ours)."""
    ours_cls, torch_cls, extra = KINDS[kind]
    theirs = torch_cls(D, H, **extra, **kw).to(dtype)
    ours = ours_cls(D, H, **extra, **kw, fused=fused).to(dtype)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def random_state(kind: str, shape: tuple[int, ...], dtype=F64):
    """A leaf initial state (tuple for LSTM) that requires grad, and its list of leaves."""
    if kind == "lstm":
        hx = (
            torch.randn(shape, dtype=dtype, requires_grad=True),
            torch.randn(shape, dtype=dtype, requires_grad=True),
        )
        return hx, list(hx)
    hx = torch.randn(shape, dtype=dtype, requires_grad=True)
    return hx, [hx]


def as_list(state) -> list[torch.Tensor]:
    return list(state) if isinstance(state, tuple) else [state]


def run(model, x, hx, ragged: str, batch_first: bool, *, ours: bool):
    """Forward on padded x; ragged is "none", "packed" (both models) or "lengths" (ours only,
    torch then gets the packed batch). Returns the padded output and the final state list."""
    if ragged == "none":
        out, state = model(x, hx)
        return out, as_list(state)
    if ragged == "lengths" and ours:
        out, state = model(x, hx, lengths=LENGTHS)
        return out, as_list(state)
    packed = pack_padded_sequence(x, LENGTHS, batch_first=batch_first, enforce_sorted=False)
    out, state = model(packed, hx)
    assert isinstance(out, PackedSequence)
    out, _ = pad_packed_sequence(out, batch_first=batch_first, total_length=T)
    return out, as_list(state)


def loss_of(out, states, weights):
    """A scalar that depends on every output and state entry with distinct weights."""
    loss = (out * weights[0]).sum()
    for s, w in zip(states, weights[1:], strict=False):
        loss = loss + (s * w).sum()
    return loss


def compare(ours, theirs, kind, x, hx_shape, ragged, batch_first, dtype=F64, tol=TOL64):
    """Assert equal outputs, final states and gradients of parameters, input and hx."""
    results = []
    weights = None
    for model, is_ours in ((theirs, False), (ours, True)):
        torch.manual_seed(1)  # same x grad leaf and hx for both models
        xl = x.detach().clone().requires_grad_(True)
        hx, hx_leaves = random_state(kind, hx_shape, dtype) if hx_shape else (None, [])
        out, states = run(model, xl, hx, ragged, batch_first, ours=is_ours)
        if weights is None:
            g = torch.Generator().manual_seed(2)
            weights = [torch.randn(t.shape, generator=g, dtype=dtype) for t in [out, *states]]
        names, params = zip(*model.named_parameters(), strict=True)
        grads = torch.autograd.grad(loss_of(out, states, weights), [xl, *hx_leaves, *params])
        keys = ["x", *(f"hx{i}" for i in range(len(hx_leaves))), *names]
        results.append((out, states, dict(zip(keys, grads, strict=True))))
    (o1, s1, g1), (o2, s2, g2) = results
    torch.testing.assert_close(o2, o1, **tol, msg="output")
    assert len(s1) == len(s2)
    for a, b in zip(s2, s1, strict=True):
        torch.testing.assert_close(a, b, **tol, msg="final state")
    assert g1.keys() == g2.keys()
    for name in g1:
        torch.testing.assert_close(g2[name], g1[name], **tol, msg=f"gradient of {name}")


RAGGED = ("none", "packed", "lengths")
# The full grid for tanh RNN, LSTM and GRU; the relu RNN differs only in its activation, so it
# gets the deep bidirectional slice (it also runs in the step-loop, cell, bias and float32 tests).
GRID = list(
    itertools.product(("rnn_tanh", "lstm", "gru"), (1, 2, 3), (False, True), (False, True), RAGGED)
)
GRID += list(itertools.product(("rnn_relu",), (3,), (True,), (False, True), RAGGED))


@pytest.mark.parametrize("with_hx", [False, True], ids=["no_hx", "hx"])
@pytest.mark.parametrize("kind,layers,bidirectional,batch_first,ragged", GRID)
def test_matches_torch_fused(kind, layers, bidirectional, batch_first, ragged, with_hx):
    torch.manual_seed(0)
    ours, theirs = make_pair(
        kind, num_layers=layers, bidirectional=bidirectional, batch_first=batch_first
    )
    x = torch.randn((N, T, D) if batch_first else (T, N, D), dtype=F64)
    hx_shape = (layers * (2 if bidirectional else 1), N, H) if with_hx else None
    compare(ours, theirs, kind, x, hx_shape, ragged, batch_first)


@pytest.mark.parametrize(
    "kind,layers,bidirectional,ragged",
    list(itertools.product(KINDS, (1, 2), (False, True), ("none", "packed", "lengths"))),
)
def test_matches_torch_step_loop(kind, layers, bidirectional, ragged):
    """The readable fused=False path equals torch.nn too."""
    torch.manual_seed(0)
    ours, theirs = make_pair(kind, fused=False, num_layers=layers, bidirectional=bidirectional)
    x = torch.randn(T, N, D, dtype=F64)
    compare(ours, theirs, kind, x, (layers * (2 if bidirectional else 1), N, H), ragged, False)


@pytest.mark.parametrize("kind", KINDS)
def test_no_bias_matches_torch(kind):
    torch.manual_seed(0)
    ours, theirs = make_pair(kind, num_layers=2, bias=False, bidirectional=True)
    assert not any("bias" in name for name, _ in ours.named_parameters())
    compare(ours, theirs, kind, torch.randn(T, N, D, dtype=F64), (4, N, H), "lengths", False)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fused", [True, False])
@pytest.mark.parametrize("with_hx", [False, True])
def test_unbatched_input(kind, fused, with_hx):
    torch.manual_seed(0)
    ours, theirs = make_pair(kind, fused=fused, num_layers=2, bidirectional=True)
    x = torch.randn(T, D, dtype=F64)  # (T, D): no batch dimension
    if with_hx:
        hx, _ = random_state(kind, (4, H))
        hx = tuple(h.detach() for h in hx) if kind == "lstm" else hx.detach()
    else:
        hx = None
    out1, s1 = theirs(x, hx)
    out2, s2 = ours(x, hx)
    assert out2.shape == (T, 2 * H)
    torch.testing.assert_close(out2, out1, **TOL64)
    for a, b in zip(as_list(s2), as_list(s1), strict=True):
        assert a.shape == (4, H)
        torch.testing.assert_close(a, b, **TOL64)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fused", [True, False])
def test_single_step_single_sequence(kind, fused):
    """T = 1 and N = 1: the edge of every loop and of the weight-gradient matmuls."""
    torch.manual_seed(0)
    ours, theirs = make_pair(kind, fused=fused, num_layers=2, bidirectional=True)
    assert LSTM(D, H).fused  # the fast path is the default
    results = []
    for model in (theirs, ours):
        x = torch.linspace(-1, 1, D, dtype=F64).view(1, 1, D).requires_grad_(True)
        out, state = model(x)
        loss = out.pow(2).sum() + sum(s.sum() for s in as_list(state))
        results.append([out, *as_list(state), *torch.autograd.grad(loss, [x, *model.parameters()])])
    for a, b in zip(results[1], results[0], strict=True):
        torch.testing.assert_close(a, b, **TOL64)


def test_packed_output_fields_equal_torch():
    torch.manual_seed(0)
    ours, theirs = make_pair("lstm", num_layers=2, bidirectional=True)
    x = torch.randn(T, N, D, dtype=F64)
    for enforce_sorted, lengths in ((False, LENGTHS), (True, torch.tensor([5, 4, 2]))):
        packed = pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
        out1, _ = theirs(packed)
        out2, _ = ours(packed)
        assert torch.equal(out2.batch_sizes, out1.batch_sizes)
        for field in ("sorted_indices", "unsorted_indices"):
            a, b = getattr(out2, field), getattr(out1, field)
            assert (a is None and b is None) or torch.equal(a, b)
        torch.testing.assert_close(out2.data, out1.data, **TOL64)


def test_lengths_zero_outputs_and_no_gradient_past_length():
    torch.manual_seed(0)
    ours, _ = make_pair("gru", num_layers=2, bidirectional=True)
    x = torch.randn(T, N, D, dtype=F64, requires_grad=True)
    out, h_n = ours(x, lengths=LENGTHS)
    pad = torch.arange(T).unsqueeze(1) >= LENGTHS  # (T, N) True past each length
    assert pad.any()
    assert torch.all(out[pad] == 0)
    (out.sum() + h_n.sum()).backward()
    assert torch.all(x.grad[pad] == 0)  # padding cannot influence anything
    assert torch.all(x.grad[~pad].abs().sum(-1) > 0)
    # garbage in the padding changes nothing
    x2 = x.detach().clone()
    x2[pad] = 1e3
    out2, h_n2 = ours(x2, lengths=LENGTHS.tolist())  # a list works too
    torch.testing.assert_close(out2, out.detach(), **TOL64)
    torch.testing.assert_close(h_n2, h_n.detach(), **TOL64)


# ----------------------------------------------------------------------------- cells
CELLS = {
    "rnn_tanh": (RNNCell, nn.RNNCell, {}),
    "rnn_relu": (RNNCell, nn.RNNCell, {"nonlinearity": "relu"}),
    "lstm": (LSTMCell, nn.LSTMCell, {}),
    "gru": (GRUCell, nn.GRUCell, {}),
}


@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_hx", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_cells_match_torch(kind, batched, with_hx, bias):
    ours_cls, torch_cls, extra = CELLS[kind]
    torch.manual_seed(0)
    theirs = torch_cls(D, H, bias=bias, **extra).double()
    torch.manual_seed(0)
    ours = ours_cls(D, H, bias=bias, **extra).double()
    for (n1, p1), (n2, p2) in zip(theirs.named_parameters(), ours.named_parameters(), strict=True):
        assert n1 == n2 and torch.equal(p1, p2)  # same names, shapes and seeded init
    shape = (N, H) if batched else (H,)
    grads = []
    for model in (theirs, ours):
        torch.manual_seed(1)
        x = torch.randn((N, D) if batched else (D,), dtype=F64, requires_grad=True)
        hx, leaves = (
            random_state("lstm" if kind == "lstm" else kind, shape) if with_hx else (None, [])
        )
        out = model(x, hx)
        outs = list(out) if kind == "lstm" else [out]
        assert all(o.shape == shape for o in outs)
        loss = sum(
            (o * torch.linspace(-1, 2, o.numel(), dtype=F64).view(o.shape)).sum() for o in outs
        )
        grads.append([*outs, *torch.autograd.grad(loss, [x, *leaves, *model.parameters()])])
    for a, b in zip(grads[1], grads[0], strict=True):
        torch.testing.assert_close(a, b, **TOL64)


# ----------------------------------------------------------------------------- parameters
@pytest.mark.parametrize("kind", KINDS)
def test_state_dict_round_trip_and_seeded_init(kind):
    ours_cls, torch_cls, extra = KINDS[kind]
    kw = {"num_layers": 3, "bidirectional": True, **extra}
    torch.manual_seed(0)
    theirs = torch_cls(D, H, **kw)
    torch.manual_seed(0)
    ours = ours_cls(D, H, **kw)
    # same names, shapes, order and (same seed) values: registration order and init as torch's
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for (name, a), (_, b) in zip(
        ours.state_dict().items(), theirs.state_dict().items(), strict=True
    ):
        assert a.shape == b.shape, name
        assert torch.equal(a, b), name
    G = ours.num_gates
    assert ours.weight_ih_l1_reverse.shape == (G * H, 2 * H)  # deeper layers read both directions
    # both directions of load_state_dict, strict
    fresh_theirs = torch_cls(D, H, **kw)
    fresh_theirs.load_state_dict(ours_cls(D, H, **kw).state_dict())
    fresh_ours = ours_cls(D, H, **kw)
    fresh_ours.load_state_dict(fresh_theirs.state_dict())
    for name, value in fresh_theirs.state_dict().items():
        assert torch.equal(fresh_ours.state_dict()[name], value)
    bound = 1 / H**0.5
    assert all(p.abs().max() <= bound for p in ours.parameters())


# ----------------------------------------------------------------------------- dropout
@pytest.mark.parametrize("kind", KINDS)
def test_dropout_eval_matches_torch_and_train_drops_between_layers_only(kind):
    torch.manual_seed(0)
    ours, theirs = make_pair(kind, num_layers=2, dropout=0.5)
    x = torch.randn(T, N, D, dtype=F64)
    ours.eval()
    theirs.eval()
    out_eval, _ = ours(x)
    torch.testing.assert_close(out_eval, theirs(x)[0], **TOL64)
    _, _, gates_eval = ours(x, return_gates=True)
    ours.train()
    out_train, _, gates_train = ours(x, return_gates=True)
    assert not torch.allclose(out_train, out_eval)  # the second layer saw dropped inputs
    torch.testing.assert_close(
        gates_train["h"][0], gates_eval["h"][0], **TOL64
    )  # layer 0 untouched
    # no dropout after the last layer: with one layer, training equals eval
    ours_cls, torch_cls, extra = KINDS[kind]
    with pytest.warns(UserWarning, match="dropout acts between layers only"):
        single = ours_cls(D, H, dropout=0.5, **extra).double()
    single_t = torch_cls(D, H, **extra).double()
    single.load_state_dict(single_t.state_dict())
    single.train()
    torch.testing.assert_close(single(x)[0], single_t.eval()(x)[0], **TOL64)


# ----------------------------------------------------------------------------- gates
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh"])
@pytest.mark.parametrize("fused", [True, False])
def test_return_gates_shapes_and_recombination(kind, fused):
    torch.manual_seed(0)
    ours, theirs = make_pair(kind, fused=fused, num_layers=2, bidirectional=True, batch_first=True)
    x = torch.randn(N, T, D, dtype=F64)
    out, state, gates = ours(x, return_gates=True)
    out_plain, state_plain = ours(x)  # default return: torch's structure, same values
    torch.testing.assert_close(out, out_plain, **TOL64)
    torch.testing.assert_close(out, theirs(x)[0], **TOL64)
    expected = {"lstm": "ifgoch", "gru": "rznh", "rnn_tanh": "h"}[kind]
    assert sorted(gates) == sorted(expected)
    for value in gates.values():
        assert value.shape == (4, N, T, H)  # (num_layers*dirs, N, T, H)
        assert not value.requires_grad
    h = gates["h"]
    # the last layer's hidden states are the output: forward direction, then reverse
    torch.testing.assert_close(torch.cat([h[2], h[3]], dim=-1), out.detach(), **TOL64)
    h_n = state[0] if kind == "lstm" else state
    torch.testing.assert_close(h[:, :, -1][0::2], h_n.detach()[0::2], **TOL64)  # forward: last step
    torch.testing.assert_close(h[:, :, 0][1::2], h_n.detach()[1::2], **TOL64)  # reverse: first step
    # previous state in each direction's own time order
    zeros = torch.zeros(4, N, 1, H, dtype=F64)
    fwd_prev = torch.cat([zeros, h[:, :, :-1]], dim=2)
    rev_prev = torch.cat([h[:, :, 1:], zeros], dim=2)
    h_prev = torch.where(torch.tensor([0, 1, 0, 1]).view(4, 1, 1, 1).bool(), rev_prev, fwd_prev)
    if kind == "lstm":
        i, f, g, o, c = (gates[k] for k in "ifgoc")
        assert (0 < i).all() and (i < 1).all() and (g.abs() < 1).all()
        torch.testing.assert_close(h, o * torch.tanh(c), **TOL64)
        c_prev = torch.where(
            torch.tensor([0, 1, 0, 1]).view(4, 1, 1, 1).bool(),
            torch.cat([c[:, :, 1:], zeros], dim=2),
            torch.cat([zeros, c[:, :, :-1]], dim=2),
        )
        torch.testing.assert_close(c, f * c_prev + i * g, **TOL64)
        torch.testing.assert_close(c[:, :, -1][0::2], state[1].detach()[0::2], **TOL64)
    elif kind == "gru":
        z, n = gates["z"], gates["n"]
        torch.testing.assert_close(h, (1 - z) * n + z * h_prev, **TOL64)


def test_gates_zero_past_lengths_and_unbatched_shape():
    torch.manual_seed(0)
    ours, _ = make_pair("lstm", num_layers=2)
    _, _, gates = ours(torch.randn(T, N, D, dtype=F64), lengths=LENGTHS, return_gates=True)
    pad = torch.arange(T) >= LENGTHS.unsqueeze(1)  # (N, T)
    for value in gates.values():
        assert torch.all(value[:, pad] == 0) and torch.all(value[:, ~pad] != 0)
    _, _, gates = ours(torch.randn(T, D, dtype=F64), return_gates=True)
    assert all(v.shape == (2, T, H) for v in gates.values())


# ----------------------------------------------------------------------------- float32
@pytest.mark.parametrize("kind", KINDS)
def test_float32_matches_torch(kind):
    torch.manual_seed(0)
    ours, theirs = make_pair(kind, dtype=torch.float32, num_layers=2, bidirectional=True)
    x = torch.randn(T, N, D)
    compare(
        ours,
        theirs,
        kind,
        x,
        (4, N, H),
        "packed",
        False,
        dtype=torch.float32,
        tol={"rtol": 1e-5, "atol": 1e-5},
    )


# ----------------------------------------------------------------------------- gradcheck
@pytest.mark.parametrize("bias", [True, False])
def test_fused_backward_passes_gradcheck(bias):
    """The hand-derived backward passes against finite differences, independently of torch.nn."""
    torch.manual_seed(0)

    def leaf(*shape):
        return torch.randn(*shape, dtype=F64, requires_grad=True)

    x, h0, c0 = leaf(3, 2, D), leaf(2, H), leaf(2, H)
    for G, fn, extra in (
        (1, RNNFunction, ("tanh",)),
        (1, RNNFunction, ("relu",)),
        (4, LSTMFunction, ()),
        (3, GRUFunction, ()),
    ):
        w_ih, w_hh = leaf(G * H, D), leaf(G * H, H)
        b_ih, b_hh = (leaf(G * H), leaf(G * H)) if bias else (None, None)
        states = (h0, c0) if fn is LSTMFunction else (h0,)

        def f(*args, fn=fn, extra=extra):
            outs = fn.apply(*args, *extra)
            outs = outs if isinstance(outs, tuple) else (outs,)
            return tuple(o for o in outs if o.requires_grad)  # drop the gate activations

        assert torch.autograd.gradcheck(f, (x, *states, w_ih, w_hh, b_ih, b_hh))


# ----------------------------------------------------------------------------- bad input
def _lstm():
    return LSTM(D, 8, num_layers=2, batch_first=True).double()


def _x(*shape):
    return torch.randn(*shape, dtype=F64)


BAD_CALLS = [
    ("rank", lambda: _lstm()(_x(2, 3, 5, D)), ValueError, r"input must have shape \(N, T, D\)"),
    (
        "features",
        lambda: _lstm()(_x(N, T, D + 1)),
        ValueError,
        r"D = input_size = 4; got \(3, 5, 5\)",
    ),
    ("empty", lambda: _lstm()(_x(N, 0, D)), ValueError, "at least one step"),
    ("dtype", lambda: _lstm()(torch.randn(N, T, D)), TypeError, "input dtype torch.float32"),
    ("not a tensor", lambda: _lstm()([[1.0]]), TypeError, "input must be a torch.Tensor"),
    (
        "lengths > T",
        lambda: _lstm()(_x(N, T, D), lengths=[5, 6, 2]),
        ValueError,
        r"1 <= lengths\[n\] <= T = 5 .* got lengths\[1\] = 6",
    ),
    (
        "lengths 0",
        lambda: _lstm()(_x(N, T, D), lengths=torch.tensor([5, 0, 2])),
        ValueError,
        r"got lengths\[1\] = 0",
    ),
    (
        "lengths batch",
        lambda: _lstm()(_x(N, T, D), lengths=[5, 2]),
        ValueError,
        r"lengths must be a 1-D tensor of N = 3 .* got shape \(2,\)",
    ),
    (
        "lengths float",
        lambda: _lstm()(_x(N, T, D), lengths=torch.tensor([5.0, 1.0, 2.0])),
        TypeError,
        "lengths must hold integers",
    ),
    (
        "lengths unbatched",
        lambda: _lstm()(_x(T, D), lengths=[5]),
        ValueError,
        "needs batched input",
    ),
    (
        "lengths and packed",
        lambda: _lstm()(
            pack_padded_sequence(_x(N, T, D), [5, 4, 2], batch_first=True), lengths=[5, 4, 2]
        ),
        ValueError,
        "not both",
    ),
    (
        "hx layers",
        lambda: GRU(D, 8, num_layers=2).double()(_x(T, N, D), _x(1, N, 8)),
        ValueError,
        r"hx must have shape \(num_layers\*num_directions, N, H\) = \(2, 3, 8\), got \(1, 3, 8\)",
    ),
    (
        "hx batch",
        lambda: RNN(D, 8, num_layers=2).double()(_x(T, N, D), _x(2, 4, 8)),
        ValueError,
        r"= \(2, 3, 8\), got \(2, 4, 8\)",
    ),
    (
        "hx hidden",
        lambda: RNN(D, 8, bidirectional=True).double()(_x(T, N, D), _x(2, N, 7)),
        ValueError,
        r"= \(2, 3, 8\), got \(2, 3, 7\)",
    ),
    (
        "hx unbatched",
        lambda: GRU(D, 8).double()(_x(T, D), _x(1, N, 8)),
        ValueError,
        r"\(num_layers\*num_directions, H\) for unbatched input = \(1, 8\), got \(1, 3, 8\)",
    ),
    (
        "lstm hx not tuple",
        lambda: _lstm()(_x(N, T, D), _x(2, N, 8)),
        TypeError,
        r"tuple \(h_0, c_0\)",
    ),
    (
        "lstm c0",
        lambda: _lstm()(_x(N, T, D), (_x(2, N, 8), _x(2, N, 9))),
        ValueError,
        r"hx\[1\] \(c_0\) must have shape .* = \(2, 3, 8\), got \(2, 3, 9\)",
    ),
    (
        "hx dtype",
        lambda: GRU(D, 8).double()(_x(T, N, D), torch.zeros(1, N, 8)),
        TypeError,
        "hx must have the input's dtype",
    ),
    (
        "cell features",
        lambda: LSTMCell(D, H).double()(_x(N, D + 2)),
        ValueError,
        r"input must have shape \(N, D\) or unbatched \(D,\) with D = input_size = 4, got \(3, 6\)",
    ),
    (
        "cell hx",
        lambda: GRUCell(D, H).double()(_x(N, D), _x(N + 1, H)),
        ValueError,
        r"hx must have shape \(N, H\) = \(3, 3\), got \(4, 3\)",
    ),
    (
        "cell lstm c",
        lambda: LSTMCell(D, H).double()(_x(D), (_x(H), _x(N, H))),
        ValueError,
        r"hx\[1\] \(c\) must have shape \(H,\) for unbatched input = \(3,\), got \(3, 3\)",
    ),
    ("nonlinearity", lambda: RNN(D, H, nonlinearity="sigmoid"), ValueError, "'tanh' or 'relu'"),
    (
        "cell nonlinearity",
        lambda: RNNCell(D, H, nonlinearity="gelu"),
        ValueError,
        "'tanh' or 'relu'",
    ),
    ("hidden_size", lambda: LSTM(D, 0), ValueError, "hidden_size must be >= 1"),
    ("num_layers", lambda: GRU(D, H, num_layers=0), ValueError, "num_layers must be an int >= 1"),
    (
        "dropout",
        lambda: GRU(D, H, num_layers=2, dropout=1.5),
        ValueError,
        r"dropout must be in \[0, 1\]",
    ),
]


@pytest.mark.parametrize(
    "call,error,message", [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS]
)
def test_bad_input_raises_clear_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()
