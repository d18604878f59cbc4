"""Tests of course_lib.reference: NumPy forward/backward passes.

Each backward is checked twice, in float64 on tiny shapes with fixed seeds:
- against centred finite differences (``numerical_gradient``), relative error <= 1e-7;
- against torch.autograd on the same numbers (torch.nn cells and layers with the weights
  copied in, F.cross_entropy, F.embedding, F.linear), to 1e-10.
Forwards are checked against torch to 1e-10 as well.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_lib.reference import (
    AffineCache,
    GRUCache,
    LSTMCache,
    RNNCache,
    affine_backward,
    affine_forward,
    embedding_backward,
    embedding_forward,
    gru_backward,
    gru_forward,
    gru_step_backward,
    gru_step_forward,
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
    numerical_gradient,
    rel_error,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
    sigmoid,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
)

SEED = 231  # CS231n's seed; every test draws from its own generator seeded with it
GRAD_TOL = 1e-7  # analytic vs centred differences (rel_error)
TORCH_TOL = 1e-10  # NumPy vs torch.autograd, same float64 numbers (rel_error)
# Fourth-order centred differences: error ~ h**4 + 1e-16 / h, about 1e-13 absolute at h = 1e-3.
# CS231n's order 2 with h = 1e-5 leaves ~1e-11 absolute, i.e. 1e-7 relative on a gradient entry
# of 1e-4. Measured on these cases over seeds 0-29: order 2 broke 1e-7 on 13 of 180 checks (GRU
# and LSTM only, worst 1.8e-5); order 4 on 1 (3.8e-7, a GRU entry of 2.3e-7 whose absolute error
# was 1.7e-13). With seed 231, order 4 gives at most 2.8e-9 and order 2 at most 1.3e-7.
FD = {"h": 1e-3, "order": 4}

N, T, D, H, V = 3, 4, 5, 6, 7
GATES = {"rnn": 1, "lstm": 4, "gru": 3}
STEP = {
    "rnn": (rnn_step_forward, rnn_step_backward),
    "lstm": (lstm_step_forward, lstm_step_backward),
    "gru": (gru_step_forward, gru_step_backward),
}
SEQ = {
    "rnn": (rnn_forward, rnn_backward),
    "lstm": (lstm_forward, lstm_backward),
    "gru": (gru_forward, gru_backward),
}
TORCH_CELL = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}
TORCH_SEQ = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
PARAM_NAMES = ("W_ih", "W_hh", "b_ih", "b_hh")


def make_params(rng: np.random.Generator, kind: str, scale: float = 0.5) -> list[np.ndarray]:
    """W_ih (G*H, D), W_hh (G*H, H), b_ih (G*H,), b_hh (G*H,), about nn's init scale."""
    G = GATES[kind]
    shapes = [(G * H, D), (G * H, H), (G * H,), (G * H,)]
    return [scale * rng.standard_normal(s) for s in shapes]


def to_torch(a: np.ndarray) -> torch.Tensor:
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def load_torch(kind: str, params: list[np.ndarray], cell: bool) -> nn.Module:
    """A torch.nn cell (cell=True) or one-layer batch-first module holding our weights."""
    if cell:
        module, suffix = TORCH_CELL[kind](D, H, dtype=torch.float64), ""
    else:
        module, suffix = TORCH_SEQ[kind](D, H, batch_first=True, dtype=torch.float64), "_l0"
    with torch.no_grad():
        for name, a in zip(("weight_ih", "weight_hh", "bias_ih", "bias_hh"), params, strict=True):
            getattr(module, name + suffix).copy_(torch.from_numpy(a))
    return module


def torch_param_grads(module: nn.Module, suffix: str) -> list[np.ndarray]:
    names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    return [getattr(module, n + suffix).grad.numpy() for n in names]


def check_close(ours: np.ndarray, theirs, what: str, tol: float) -> None:
    err = rel_error(ours, theirs)
    assert err <= tol, f"{what}: rel_error {err:.2e} > {tol:.0e}"


# --------------------------------------------------------------------------- gradcheck


def test_rel_error_matches_the_cs231n_formula():
    x = np.array([1.0, 2.0, 0.0])
    y = np.array([1.0, 2.2, 0.0])
    assert rel_error(x, y) == pytest.approx(0.2 / 4.2)
    assert rel_error(x, x) == 0.0
    # The 1e-8 floor: two near-zero entries do not count as a large relative error.
    assert rel_error(np.array([1e-12]), np.array([0.0])) == pytest.approx(1e-4)
    assert rel_error(torch.tensor([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0


def test_rel_error_refuses_mismatched_shapes():
    with pytest.raises(ValueError, match=r"x and y must have the same shape"):
        rel_error(np.zeros((3, 4)), np.zeros(4))


def test_numerical_gradient_scalar_and_array_forms():
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((3, 4))
    x_before = x.copy()
    num = numerical_gradient(lambda a: np.sum(a**3), x)
    check_close(num, 3 * x**2, "d sum(x^3)/dx", GRAD_TOL)
    df = rng.standard_normal((3, 4))
    num = numerical_gradient(np.sin, x, df)
    check_close(num, np.cos(x) * df, "d sin(x)/dx . df", GRAD_TOL)
    assert np.array_equal(x, x_before), "numerical_gradient must restore x"


def test_numerical_gradient_order_4_is_exact_on_a_cubic():
    # Order 2 is off by exactly h**2 for x**3; order 4 cancels that term.
    x = np.linspace(-2.0, 2.0, 9)
    err2 = np.abs(numerical_gradient(lambda a: np.sum(a**3), x, h=1e-3) - 3 * x**2)
    err4 = np.abs(numerical_gradient(lambda a: np.sum(a**3), x, h=1e-3, order=4) - 3 * x**2)
    np.testing.assert_allclose(err2, 1e-6, rtol=1e-4)
    assert err4.max() < 1e-10


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.arange(4.0)

    def f(a):
        if a[0] != 0.0:
            raise RuntimeError("boom")
        return a.sum()

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    assert np.array_equal(x, np.arange(4.0))


def test_numerical_gradient_bad_input():
    x = np.ones(3)
    with pytest.raises(TypeError, match="f must be callable"):
        numerical_gradient(3.0, x)
    with pytest.raises(TypeError, match="x must be a NumPy array"):
        numerical_gradient(np.sum, [1.0, 2.0])
    with pytest.raises(TypeError, match="x must have a floating dtype"):
        numerical_gradient(np.sum, np.arange(3))
    with pytest.raises(ValueError, match="x must not be empty"):
        numerical_gradient(np.sum, np.zeros(0))
    with pytest.raises(ValueError, match="h must be a finite number > 0"):
        numerical_gradient(np.sum, x, h=0.0)
    with pytest.raises(ValueError, match="order must be 2 or 4"):
        numerical_gradient(np.sum, x, order=3)
    with pytest.raises(ValueError, match="f must return a scalar when df is None"):
        numerical_gradient(lambda a: a * 2, x)
    with pytest.raises(ValueError, match=r"f\(x\) has shape \(3,\), but df has shape \(2,\)"):
        numerical_gradient(lambda a: a * 2, x, np.ones(2))


# --------------------------------------------------------------------------- recurrent steps


def step_case(kind: str):
    """Inputs, outputs, upstream gradients and analytic gradients of one step."""
    rng = np.random.default_rng(SEED)
    x, prev_h, prev_c = (rng.standard_normal((N, n)) for n in (D, H, H))
    params = make_params(rng, kind)
    fwd, bwd = STEP[kind]
    state = [prev_h, prev_c] if kind == "lstm" else [prev_h]
    *outs, cache = fwd(x, *state, *params)
    douts = [rng.standard_normal(o.shape) for o in outs]
    grads = bwd(*douts, cache)
    inputs = [x, *state, *params]
    names = ["x", "prev_h", "prev_c"][: 1 + len(state)] + list(PARAM_NAMES)

    def forward(_):
        *o, _cache = fwd(*inputs)
        return np.concatenate(o)  # stack next_h (and next_c) so one df covers both

    return inputs, names, outs, douts, grads, forward


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_step_backward_matches_numerical_gradient(kind):
    inputs, names, _, douts, grads, forward = step_case(kind)
    assert len(grads) == len(inputs)
    df = np.concatenate(douts)
    for name, a, g in zip(names, inputs, grads, strict=True):
        assert g.shape == a.shape, f"d{name} has shape {g.shape}, expected {a.shape}"
        check_close(g, numerical_gradient(forward, a, df, **FD), f"{kind} step d{name}", GRAD_TOL)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_step_forward_backward_match_torch_cell(kind):
    inputs, names, outs, douts, grads, _ = step_case(kind)
    cell = load_torch(kind, inputs[-4:], cell=True)
    x_t = to_torch(inputs[0])
    state_t = [to_torch(s) for s in inputs[1:-4]]
    out_t = cell(x_t, tuple(state_t)) if kind == "lstm" else cell(x_t, state_t[0])
    out_t = list(out_t) if kind == "lstm" else [out_t]
    for o, o_t in zip(outs, out_t, strict=True):
        check_close(o, o_t, f"{kind} step forward", TORCH_TOL)
    loss = sum((o_t * torch.from_numpy(d)).sum() for o_t, d in zip(out_t, douts, strict=True))
    loss.backward()
    theirs = [x_t.grad, *(s.grad for s in state_t), *torch_param_grads(cell, "")]
    for name, g, g_t in zip(names, grads, theirs, strict=True):
        check_close(g, g_t, f"{kind} step d{name} vs autograd", TORCH_TOL)


# --------------------------------------------------------------------------- sequences


def seq_case(kind: str):
    rng = np.random.default_rng(SEED)
    x = rng.standard_normal((N, T, D))
    h0, c0 = rng.standard_normal((N, H)), rng.standard_normal((N, H))
    params = make_params(rng, kind)
    fwd, bwd = SEQ[kind]
    kw = {"c0": c0} if kind == "lstm" else {}
    h, cache = fwd(x, h0, *params, **kw)
    dh = rng.standard_normal(h.shape)
    grads = bwd(dh, cache)
    inputs = [x, h0, c0, *params] if kind == "lstm" else [x, h0, *params]
    names = ["x", "h0", "c0"][: 3 if kind == "lstm" else 2] + list(PARAM_NAMES)

    def forward(_):
        return fwd(x, h0, *params, **kw)[0]

    return inputs, names, h, cache, dh, grads, forward


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_sequence_backward_matches_numerical_gradient(kind):
    inputs, names, _, _, dh, grads, forward = seq_case(kind)
    assert len(grads) == len(inputs)
    for name, a, g in zip(names, inputs, grads, strict=True):
        assert g.shape == a.shape, f"d{name} has shape {g.shape}, expected {a.shape}"
        check_close(g, numerical_gradient(forward, a, dh, **FD), f"{kind} d{name}", GRAD_TOL)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_sequence_forward_backward_match_torch_module(kind):
    inputs, names, h, cache, dh, grads, _ = seq_case(kind)
    module = load_torch(kind, inputs[-4:], cell=False)
    x_t = to_torch(inputs[0])
    # nn.RNN/LSTM/GRU take states as (L*dirs, N, H); ours are (N, H).
    state_t = [to_torch(s[None]) for s in inputs[1:-4]]
    out_t, final_t = module(x_t, tuple(state_t) if kind == "lstm" else state_t[0])
    check_close(h, out_t, f"{kind} outputs", TORCH_TOL)
    if kind == "lstm":
        check_close(h[:, -1], final_t[0][0], "lstm h_n", TORCH_TOL)
        check_close(cache.c[:, -1], final_t[1][0], "lstm c_n", TORCH_TOL)
    else:
        check_close(h[:, -1], final_t[0], f"{kind} h_n", TORCH_TOL)
    (out_t * torch.from_numpy(dh)).sum().backward()
    theirs = [x_t.grad, *(s.grad[0] for s in state_t), *torch_param_grads(module, "_l0")]
    for name, g, g_t in zip(names, grads, theirs, strict=True):
        check_close(g, g_t, f"{kind} d{name} vs autograd", TORCH_TOL)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_sequence_equals_a_loop_of_steps(kind):
    inputs, _, h, _, _, _, _ = seq_case(kind)
    step_fwd = STEP[kind][0]
    x, state, params = inputs[0], inputs[1:-4], inputs[-4:]
    for t in range(T):
        *state, _ = step_fwd(x[:, t], *state, *params)
        np.testing.assert_array_equal(h[:, t], state[0])


def test_lstm_cache_exposes_gates_and_cells():
    inputs, _, h, cache, _, _, _ = seq_case("lstm")
    assert isinstance(cache, LSTMCache)
    for field in ("i", "f", "g", "o", "c"):
        assert getattr(cache, field).shape == (N, T, H), field
    for gate in ("i", "f", "o"):
        v = getattr(cache, gate)
        assert np.all((v > 0) & (v < 1)), f"{gate} must be a sigmoid output"
    assert np.all(np.abs(cache.g) < 1)
    np.testing.assert_allclose(h, cache.o * np.tanh(cache.c), rtol=0, atol=1e-14)
    c_prev = np.concatenate([inputs[2][:, None], cache.c[:, :-1]], axis=1)  # (N, T, H)
    np.testing.assert_allclose(cache.c, cache.f * c_prev + cache.i * cache.g, rtol=0, atol=1e-14)


def test_lstm_c0_none_means_zeros():
    x, h0, _, *params = seq_case("lstm")[0]
    h_none, cache_none = lstm_forward(x, h0, *params)
    h_zero, _ = lstm_forward(x, h0, *params, c0=np.zeros_like(h0))
    np.testing.assert_array_equal(h_none, h_zero)
    assert lstm_backward(np.ones_like(h_none), cache_none)[2].shape == (N, H)


def test_gru_cache_exposes_gates():
    _, _, _, cache, _, _, _ = seq_case("gru")
    assert isinstance(cache, GRUCache)
    for field in ("r", "z", "n"):
        assert getattr(cache, field).shape == (N, T, H), field
    assert np.all((cache.z > 0) & (cache.z < 1))


# --------------------------------------------------------------------------- layers


@pytest.mark.filterwarnings("error")  # no overflow warning at +-1000
def test_sigmoid_is_stable_and_matches_torch():
    x = np.array([-1000.0, -50.0, -1.0, 0.0, 1e-3, 3.0, 50.0, 1000.0])
    s = sigmoid(x)
    check_close(s, torch.sigmoid(torch.from_numpy(x)), "sigmoid", TORCH_TOL)
    assert s[0] == 0.0 and s[-1] == 1.0 and s[3] == 0.5
    assert sigmoid(np.zeros((2, 3))).shape == (2, 3)


def test_affine_forward_backward():
    rng = np.random.default_rng(SEED)
    x, W, b = rng.standard_normal((N, D)), rng.standard_normal((V, D)), rng.standard_normal(V)
    out, cache = affine_forward(x, W, b)
    assert isinstance(cache, AffineCache) and out.shape == (N, V)
    dout = rng.standard_normal(out.shape)
    grads = affine_backward(dout, cache)
    tensors = [to_torch(a) for a in (x, W, b)]
    out_t = F.linear(*tensors)
    check_close(out, out_t, "affine forward", TORCH_TOL)
    (out_t * torch.from_numpy(dout)).sum().backward()
    for name, a, g, a_t in zip("xWb", (x, W, b), grads, tensors, strict=True):
        check_close(g, a_t.grad, f"affine d{name} vs autograd", TORCH_TOL)
        num = numerical_gradient(lambda _: affine_forward(x, W, b)[0], a, dout, **FD)
        check_close(g, num, f"affine d{name}", GRAD_TOL)


def test_temporal_affine_forward_backward():
    rng = np.random.default_rng(SEED)
    x, W, b = rng.standard_normal((N, T, H)), rng.standard_normal((V, H)), rng.standard_normal(V)
    out, cache = temporal_affine_forward(x, W, b)
    assert out.shape == (N, T, V)
    dout = rng.standard_normal(out.shape)
    grads = temporal_affine_backward(dout, cache)
    tensors = [to_torch(a) for a in (x, W, b)]
    out_t = F.linear(*tensors)
    check_close(out, out_t, "temporal affine forward", TORCH_TOL)
    (out_t * torch.from_numpy(dout)).sum().backward()
    for name, a, g, a_t in zip("xWb", (x, W, b), grads, tensors, strict=True):
        check_close(g, a_t.grad, f"temporal affine d{name} vs autograd", TORCH_TOL)
        num = numerical_gradient(lambda _: temporal_affine_forward(x, W, b)[0], a, dout, **FD)
        check_close(g, num, f"temporal affine d{name}", GRAD_TOL)


def test_embedding_forward_backward():
    rng = np.random.default_rng(SEED)
    idx = np.array([[0, 3, 3, 1], [6, 0, 2, 3], [1, 1, 1, 5]])  # repeats: gradients must add up
    W = rng.standard_normal((V, D))
    out, cache = embedding_forward(idx, W)
    assert out.shape == (N, T, D)
    dout = rng.standard_normal(out.shape)
    dW = embedding_backward(dout, cache)
    W_t = to_torch(W)
    out_t = F.embedding(torch.from_numpy(idx), W_t)
    check_close(out, out_t, "embedding forward", TORCH_TOL)
    (out_t * torch.from_numpy(dout)).sum().backward()
    check_close(dW, W_t.grad, "embedding dW vs autograd", TORCH_TOL)
    num = numerical_gradient(lambda _: embedding_forward(idx, W)[0], W, dout, **FD)
    check_close(dW, num, "embedding dW", GRAD_TOL)
    assert np.all(dW[4] == 0), "a token that never appears gets no gradient"


# --------------------------------------------------------------------------- loss


def loss_case():
    rng = np.random.default_rng(SEED)
    scores = rng.standard_normal((N, T, V))
    y = rng.integers(0, V, size=(N, T))
    lengths = np.array([4, 2, 3])
    mask = np.arange(T)[None, :] < lengths[:, None]  # (N, T), post-padding
    return scores, y, mask


@pytest.mark.parametrize("reduction", ["mean", "sum_over_batch"])
def test_temporal_softmax_loss_gradient(reduction):
    scores, y, mask = loss_case()
    loss, dscores = temporal_softmax_loss(scores, y, mask, reduction=reduction)
    num = numerical_gradient(
        lambda _: temporal_softmax_loss(scores, y, mask, reduction=reduction)[0], scores, **FD
    )
    check_close(dscores, num, f"dscores ({reduction})", GRAD_TOL)
    assert np.all(dscores[~mask] == 0), "masked positions must get zero gradient"

    # torch: pads become ignore_index; "mean" is F.cross_entropy's default reduction.
    scores_t = to_torch(scores)
    target = torch.from_numpy(np.where(mask, y, -100))
    flat = F.cross_entropy(
        scores_t.reshape(-1, V),
        target.reshape(-1),
        ignore_index=-100,
        reduction="mean" if reduction == "mean" else "sum",
    )
    loss_t = flat if reduction == "mean" else flat / N
    loss_t.backward()
    check_close(loss, loss_t, f"loss ({reduction}) vs F.cross_entropy", TORCH_TOL)
    check_close(dscores, scores_t.grad, f"dscores ({reduction}) vs autograd", TORCH_TOL)


@pytest.mark.parametrize("reduction", ["mean", "sum_over_batch"])
def test_garbage_in_padding_changes_nothing(reduction):
    scores, y, mask = loss_case()
    loss, dscores = temporal_softmax_loss(scores, y, mask, reduction=reduction)
    rng = np.random.default_rng(SEED + 1)
    garbage = scores.copy()
    garbage[~mask] = 1e6 * rng.standard_normal((int((~mask).sum()), V))  # huge scores
    assert not mask[1, 2] and not mask[1, 3]  # row 1 has length 2
    garbage[1, 2, :] = np.nan
    garbage[1, 3, :] = np.inf
    y_garbage = np.where(mask, y, -100)  # e.g. ignore_index, out of [0, V)
    loss_g, dscores_g = temporal_softmax_loss(garbage, y_garbage, mask, reduction=reduction)
    assert loss_g == loss
    np.testing.assert_array_equal(dscores_g, dscores)


def test_initial_loss_is_about_log_v():
    rng = np.random.default_rng(SEED)
    n, t, v = 6, 5, 6
    scores = 1e-3 * rng.standard_normal((n, t, v))
    y = rng.integers(0, v, size=(n, t))
    mask = np.ones((n, t), dtype=bool)
    loss, _ = temporal_softmax_loss(scores, y, mask)
    assert abs(loss - math.log(v)) < 1e-2
    # CS231n's reduction sums over time: about T log V.
    loss_sum, _ = temporal_softmax_loss(scores, y, mask, reduction="sum_over_batch")
    assert abs(loss_sum - t * math.log(v)) < 5e-2


def test_loss_bad_input():
    scores, y, mask = loss_case()
    with pytest.raises(ValueError, match="reduction must be one of"):
        temporal_softmax_loss(scores, y, mask, reduction="sum")
    with pytest.raises(ValueError, match=r"scores must have shape \(N, T, V\), got \(3, 4\)"):
        temporal_softmax_loss(scores[..., 0], y, mask)
    with pytest.raises(ValueError, match=r"mask must be an array of shape \(N, T\) = \(3, 4\)"):
        temporal_softmax_loss(scores, y, mask[:, :2])
    with pytest.raises(TypeError, match="y must be an integer NumPy array"):
        temporal_softmax_loss(scores, y.astype(float), mask)
    with pytest.raises(ValueError, match=r"y must hold targets in \[0, V\) = \[0, 7\)"):
        temporal_softmax_loss(scores, np.full_like(y, V), mask)
    with pytest.raises(ValueError, match="mask selects no tokens"):
        temporal_softmax_loss(scores, y, np.zeros_like(mask))


# --------------------------------------------------------------------------- bad input


def test_sequence_bad_input_names_the_argument():
    x, h0, *params = seq_case("rnn")[0]
    W_ih, W_hh, b_ih, b_hh = params
    with pytest.raises(ValueError, match=r"x must have shape \(N, T, D\), got \(3, 4\)"):
        rnn_forward(x[:, :, 0], h0, *params)
    with pytest.raises(ValueError, match=r"empty sequence"):
        rnn_forward(x[:, :0], h0, *params)
    with pytest.raises(ValueError, match=r"W_hh must have shape \(H, H\) = \(6, 6\), got \(6, 5\)"):
        rnn_forward(x, h0, W_ih, W_hh[:, :5], b_ih, b_hh)
    with pytest.raises(ValueError, match=r"h0 must have shape \(N, H\) = \(3, 6\), got \(2, 6\)"):
        rnn_forward(x, h0[:2], *params)
    with pytest.raises(ValueError, match=r"W_ih must have shape \(H, D\) = \(6, 5\), got \(6, 4\)"):
        rnn_forward(x, h0, W_ih[:, :4], W_hh, b_ih, b_hh)
    with pytest.raises(ValueError, match=r"b_hh must have shape \(H,\) = \(6,\), got \(5,\)"):
        rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh[:5])
    with pytest.raises(TypeError, match=r"x must have a floating dtype, got int64"):
        rnn_forward(x.astype(np.int64), h0, *params)
    with pytest.raises(TypeError, match=r"h0 must be a NumPy array"):
        rnn_forward(x, torch.from_numpy(h0), *params)
    h, cache = rnn_forward(x, h0, *params)
    assert isinstance(cache, RNNCache)
    with pytest.raises(ValueError, match=r"dh must have shape \(N, T, H\) = \(3, 4, 6\)"):
        rnn_backward(h[:, :2], cache)
    with pytest.raises(TypeError, match=r"cache must be the RNNCache returned by rnn_forward"):
        rnn_backward(h, tuple(cache))


def test_gated_bad_input_names_the_argument():
    x, h0, c0, *params = seq_case("lstm")[0]
    W_ih, W_hh, b_ih, b_hh = params
    with pytest.raises(
        ValueError, match=r"W_ih must have shape \(4H, D\) = \(24, 5\), got \(18, 5\)"
    ):
        lstm_forward(x, h0, W_ih[:18], W_hh, b_ih, b_hh)
    with pytest.raises(ValueError, match=r"c0 must have shape \(N, H\) = \(3, 6\), got \(3, 5\)"):
        lstm_forward(x, h0, *params, c0=c0[:, :5])
    with pytest.raises(ValueError, match=r"prev_c must have shape \(N, H\)"):
        lstm_step_forward(x[:, 0], h0, c0[:, :, None], *params)
    with pytest.raises(ValueError, match="empty sequence"):
        lstm_forward(x[:, :0], h0, *params)
    _, _, cache = lstm_step_forward(x[:, 0], h0, c0, *params)
    with pytest.raises(ValueError, match=r"dnext_c must have shape \(N, H\) = \(3, 6\)"):
        lstm_step_backward(h0, c0[:2], cache)
    gx, gh0, *gparams = seq_case("gru")[0]
    with pytest.raises(
        ValueError, match=r"W_hh must have shape \(3H, H\) = \(18, 6\), got \(18, 5\)"
    ):
        gru_forward(gx, gh0, gparams[0], gparams[1][:, :5], *gparams[2:])
    with pytest.raises(ValueError, match=r"x must have shape \(N, D\), got \(3, 4, 5\)"):
        gru_step_forward(gx, gh0, *gparams)
    with pytest.raises(ValueError, match="empty sequence"):
        gru_forward(gx[:, :0], gh0, *gparams)
