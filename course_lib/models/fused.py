"""Whole-sequence RNN/LSTM/GRU layers with a hand-derived backward pass (BPTT of chapter 03).

A Python loop of ``*_step`` calls lets autograd record about ten small operations per time
step and replay them backwards. The functions here skip that bookkeeping and do three things
instead (on the course's 2-core CPU: 0.8-0.97x the speed of ``torch.nn.LSTM``'s oneDNN
kernel against 0.7-0.9x for the step loop, and faster than ``torch.nn.RNN``/``GRU``; much
faster than the loop for short sequences; see benchmarks/README.md):

1. the input projection x_t W_ih^T of every step is ONE matmul over all T*N rows, done
   before the time loop (it does not depend on h);
2. the time loop does one matmul per step (h_{t-1} W_hh^T) and writes the gate activations
   in place into preallocated (T, N, G*H) buffers, which the backward pass reuses;
3. the backward pass is BPTT written by hand: per step only what depends on the step before
   (the gradient carried through h and c); everything that does not (derivatives of the
   activations, weight gradients) is computed for all steps at once, the weight gradients as
   ONE matmul over all T*N rows at the end.

Per-step views of the buffers are made once, before the loop (``unbind``), because every
index or slice inside the loop is one more dispatched operation per step.

Dimension letters: T time, N batch, D input, H hidden, G gates (1 RNN, 4 LSTM, 3 GRU).
Every function is time-major: x is (T, N, D). Gradients are exact (tests compare them with
autograd through ``torch.nn`` at 1e-10 in float64); double backward is not supported (use
``fused=False`` in ``recurrent.py`` for that).
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable


def _project(x: Tensor, w_ih: Tensor, bias: Tensor | None) -> Tensor:
    """x W_ih^T + bias for all steps at once: (T, N, D) -> (T, N, G*H), a fresh buffer."""
    T, N, D = x.shape
    x2 = x.reshape(T * N, D)  # (T*N, D)
    if bias is None:
        out = x2 @ w_ih.t()  # (T*N, G*H)
    else:
        out = torch.addmm(bias, x2, w_ih.t())  # (T*N, G*H)
    return out.view(T, N, -1)  # (T, N, G*H)


def _input_grads(ctx, dxp: Tensor, x: Tensor, w_ih: Tensor) -> tuple[Tensor | None, Tensor | None]:
    """Gradients of x and W_ih from the gradient of the projection, ONE matmul each."""
    T, N, D = x.shape
    dxp2 = dxp.reshape(T * N, -1)  # (T*N, G*H)
    dx = (dxp2 @ w_ih).view(T, N, D) if ctx.needs_input_grad[0] else None  # (T, N, D)
    dw_ih = dxp2.t() @ x.reshape(T * N, D) if ctx.needs_input_grad[3] else None  # (G*H, D)
    return dx, dw_ih


def _hidden_weight_grad(dhp: Tensor, h0: Tensor, hs: Tensor) -> Tensor:
    """dW_hh = sum_t dhp_t^T h_{t-1}, ONE matmul over steps 1..T-1 plus step 0 (h_{-1} = h0)."""
    T, N, H = hs.shape
    dw_hh = dhp[0].t() @ h0  # (G*H, H) step 0
    if T == 1:
        return dw_hh
    dhp2 = dhp[1:].reshape((T - 1) * N, dhp.shape[2])  # ((T-1)*N, G*H)
    return dw_hh.addmm_(dhp2.t(), hs[:-1].reshape((T - 1) * N, H))  # (G*H, H) + steps 1..T-1


def _sum_bias(dhp: Tensor, needed: bool) -> Tensor | None:
    """Bias gradient: the pre-activation gradient summed over time and batch, (G*H,)."""
    return dhp.sum(dim=(0, 1)) if needed else None


class RNNFunction(torch.autograd.Function):
    """Vanilla RNN layer over a whole sequence: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh).

    Inputs (to ``apply``): x (T, N, D), h0 (N, H), w_ih (H, D), w_hh (H, H),
    b_ih and b_hh (H,) or None, nonlinearity "tanh" or "relu".

    Returns: hs (T, N, H), the hidden state after every step.
    """

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, nonlinearity):
        T, N, D = x.shape
        bias = None if b_ih is None else b_ih + b_hh  # (H,) both biases act the same way
        hs = _project(x, w_ih, bias)  # (T, N, H) holds a_t, then h_t in place
        activation = torch.tanh_ if nonlinearity == "tanh" else torch.relu_
        w_hh_t = w_hh.t()  # (H, H) a view, no copy
        h_seq = hs.unbind(0)  # T views (N, H), made once: indexing in the loop would cost more
        h = h0
        for t in range(T):
            h = activation(h_seq[t].addmm_(h, w_hh_t))  # (N, H) h_t = act(a_t + h_{t-1} W_hh^T)
        ctx.nonlinearity = nonlinearity
        ctx.save_for_backward(x, h0, w_ih, w_hh, hs)
        return hs

    @staticmethod
    @once_differentiable
    def backward(ctx, dhs):
        x, h0, w_ih, w_hh, hs = ctx.saved_tensors
        T = hs.shape[0]
        if ctx.nonlinearity == "tanh":
            da = (hs * hs).neg_().add_(1)  # (T, N, H) tanh'(a_t) = 1 - h_t^2, for all steps at once
        else:
            da = (hs > 0).to(hs.dtype)  # (T, N, H) relu'(a_t)
        da_seq, dhs_seq = da.unbind(0), dhs.unbind(0)  # T views (N, H) each
        dh = torch.zeros_like(h0)  # (N, H) gradient reaching h_t from step t+1
        for t in range(T - 1, -1, -1):
            dh = dh + dhs_seq[t]  # (N, H) plus the loss's own gradient at step t
            da_seq[t].mul_(dh)  # (N, H) da_t = dh_t * act'(a_t), in place
            dh = da_seq[t] @ w_hh  # (N, H) through W_hh to h_{t-1}
        dx, dw_ih = _input_grads(ctx, da, x, w_ih)
        dw_hh = _hidden_weight_grad(da, h0, hs) if ctx.needs_input_grad[3] else None
        db = _sum_bias(da, ctx.needs_input_grad[4] or ctx.needs_input_grad[5])
        return dx, dh, dw_ih, dw_hh, db, db, None


class LSTMFunction(torch.autograd.Function):
    """LSTM layer over a whole sequence (gates i, f, g, o as ``torch.nn.LSTM``).

    Inputs (to ``apply``): x (T, N, D), h0 and c0 (N, H), w_ih (4H, D), w_hh (4H, H),
    b_ih and b_hh (4H,) or None.

    Returns: hs (T, N, H) and cs (T, N, H), the states after every step, and acts
    (T, N, 4H), the gate activations [i, f, g, o] (not differentiable; for plots).
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        ctx.set_materialize_grads(False)
        T, N, D = x.shape
        H = h0.shape[1]
        # One sigmoid call per step for all four gates: tanh(a) = 2 sigmoid(2a) - 1, so the
        # g rows of the weights and biases are doubled here and g is fixed up after the
        # sigmoid. (Three activation calls on column slices of a (N, 4H) row-major block
        # cost about twice as much: strided memory access.)
        scale = x.new_ones(4 * H, 1)  # (4H, 1)
        scale[2 * H : 3 * H] = 2.0
        bias = None if b_ih is None else (b_ih + b_hh) * scale[:, 0]  # (4H,) both biases add
        acts = _project(x, w_ih * scale, bias)  # (T, N, 4H) pre-activations, activated in place
        hs = x.new_empty(T, N, H)  # (T, N, H) h_t
        cs = x.new_empty(T, N, H)  # (T, N, H) c_t
        tanh_cs = x.new_empty(T, N, H)  # (T, N, H) tanh(c_t), reused by the backward pass
        w_hh_t = (w_hh * scale).t()  # (H, 4H)
        # Per-step views of the buffers, made once (slicing inside the loop costs more).
        a_seq = acts.unbind(0)  # T x (N, 4H)
        i_seq, f_seq, g_seq, o_seq = (b.unbind(0) for b in acts.view(T, N, 4, H).unbind(2))
        h_seq, c_seq, tc_seq = hs.unbind(0), cs.unbind(0), tanh_cs.unbind(0)  # T x (N, H) each
        h, c = h0, c0
        for t in range(T):
            # (N, 4H): a_t = x_t W_ih^T + b + h_{t-1} W_hh^T, then i, f, o = sigmoid(a_t)
            a_seq[t].addmm_(h, w_hh_t).sigmoid_()
            g_seq[t].mul_(2).sub_(1)  # (N, H) g = 2 sigmoid(2 a_g) - 1 = tanh(a_g)
            # c_t = f c_{t-1} + i g and h_t = o tanh(c_t), each (N, H), written into the buffers
            c = torch.mul(f_seq[t], c, out=c_seq[t]).addcmul_(i_seq[t], g_seq[t])
            h = torch.mul(o_seq[t], torch.tanh(c, out=tc_seq[t]), out=h_seq[t])
        ctx.mark_non_differentiable(acts)
        ctx.save_for_backward(x, h0, c0, w_ih, w_hh, acts, hs, cs, tanh_cs)
        return hs, cs, acts

    @staticmethod
    @once_differentiable
    def backward(ctx, dhs, dcs, _dacts):
        x, h0, c0, w_ih, w_hh, acts, hs, cs, tanh_cs = ctx.saved_tensors
        T, N, H = hs.shape
        gates = acts.view(T, N, 4, H)  # (T, N, 4, H) blocks i, f, g, o
        i, f, g, o = gates.unbind(dim=2)  # 4 x (T, N, H)
        # What does not depend on the carried gradients, for all steps at once: k[t, :, j]
        # turns dc_t (j = i, f, g) or dh_t (j = o) into the gradient of pre-activation j:
        #   da_i = dc * g * i(1-i)     da_f = dc * c_{t-1} * f(1-f)
        #   da_g = dc * i * (1-g^2)    da_o = dh * tanh(c_t) * o(1-o)
        k = torch.addcmul(gates, gates, gates, value=-1)  # (T, N, 4, H) s - s^2 = sigmoid'
        torch.mul(g, g, out=k[:, :, 2]).neg_().add_(1)  # (T, N, H) 1 - g^2 = tanh' for g
        k[:, :, 0] *= g
        k[1:, :, 1] *= cs[:-1]
        k[0, :, 1] *= c0  # c_{-1} = c0
        k[:, :, 2] *= i
        k[:, :, 3] *= tanh_cs
        dc_dh = (tanh_cs * tanh_cs).neg_().add_(1).mul_(o)  # (T, N, H) o (1 - tanh^2 c_t)
        da = k.view(T, N, 4 * H)  # (T, N, 4H) becomes every step's pre-activation gradient
        # Per-step views, made once: T x (N, 3, H), T x (N, H), T x (N, 4H), ...
        k_ifg_seq, k_o_seq, da_seq = k[:, :, :3].unbind(0), k[:, :, 3].unbind(0), da.unbind(0)
        dc_dh_seq, f_seq = dc_dh.unbind(0), f.unbind(0)
        dhs_seq = None if dhs is None else dhs.unbind(0)  # None: h outputs unused
        dcs_seq = None if dcs is None else dcs.unbind(0)  # None: c outputs unused
        dh = torch.zeros_like(h0)  # (N, H) gradient reaching h_t from step t+1
        dc = torch.zeros_like(c0)  # (N, H) gradient reaching c_t from step t+1
        for t in range(T - 1, -1, -1):
            if dhs is not None:
                dh = dh + dhs_seq[t]  # (N, H) plus the loss's own gradient at step t
            dc = torch.addcmul(dc, dh, dc_dh_seq[t])  # (N, H) plus the path through h_t
            if dcs is not None:
                dc = dc + dcs_seq[t]
            k_ifg_seq[t].mul_(dc.unsqueeze(1))  # (N, 3, H) da for i, f, g, in place
            k_o_seq[t].mul_(dh)  # (N, H) da for o
            dh = da_seq[t] @ w_hh  # (N, H) through W_hh to h_{t-1}
            dc = dc * f_seq[t]  # (N, H) through the forget gate to c_{t-1}
        dx, dw_ih = _input_grads(ctx, da, x, w_ih)
        dw_hh = _hidden_weight_grad(da, h0, hs) if ctx.needs_input_grad[4] else None
        db = _sum_bias(da, ctx.needs_input_grad[5] or ctx.needs_input_grad[6])
        return dx, dh, dc, dw_ih, dw_hh, db, db


class GRUFunction(torch.autograd.Function):
    """GRU layer over a whole sequence (gates r, z, n as ``torch.nn.GRU``).

    Inputs (to ``apply``): x (T, N, D), h0 (N, H), w_ih (3H, D), w_hh (3H, H),
    b_ih and b_hh (3H,) or None.

    Returns: hs (T, N, H), the hidden state after every step, and acts (T, N, 3H), the
    gate activations [r, z, n] (not differentiable; for plots).
    """

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh):
        ctx.set_materialize_grads(False)
        T, N, D = x.shape
        H = h0.shape[1]
        acts = _project(x, w_ih, b_ih)  # (T, N, 3H) x W_ih^T + b_ih, activated in place
        hps = x.new_empty(T, N, 3 * H)  # (T, N, 3H) h_{t-1} W_hh^T + b_hh, kept for backward
        hs = x.new_empty(T, N, H)  # (T, N, H) h_t
        w_hh_t = w_hh.t()  # (H, 3H) a view, no copy
        # Per-step views of the buffers, made once (slicing inside the loop costs more).
        rz_seq = acts[:, :, : 2 * H].unbind(0)  # T x (N, 2H): r and z side by side
        r_seq, z_seq, n_seq = (b.unbind(0) for b in acts.view(T, N, 3, H).unbind(2))
        hp_seq = hps.unbind(0)  # T x (N, 3H)
        hp_rz_seq, hp_n_seq = hps[:, :, : 2 * H].unbind(0), hps[:, :, 2 * H :].unbind(0)
        h_seq = hs.unbind(0)  # T x (N, H)
        h = h0
        for t in range(T):
            if b_hh is None:
                torch.mm(h, w_hh_t, out=hp_seq[t])  # (N, 3H) h_{t-1} W_hh^T
            else:
                torch.addmm(b_hh, h, w_hh_t, out=hp_seq[t])  # (N, 3H) h_{t-1} W_hh^T + b_hh
            rz_seq[t].add_(hp_rz_seq[t]).sigmoid_()  # (N, 2H) r, z
            n_seq[t].addcmul_(r_seq[t], hp_n_seq[t]).tanh_()  # (N, H) n = tanh(x_n + r h_n)
            # h_t = (1 - z) n + z h_{t-1} = n + z (h_{t-1} - n), (N, H)
            h = torch.sub(h, n_seq[t], out=h_seq[t]).mul_(z_seq[t]).add_(n_seq[t])
        ctx.mark_non_differentiable(acts)
        ctx.save_for_backward(x, h0, w_ih, w_hh, acts, hps, hs)
        return hs, acts

    @staticmethod
    @once_differentiable
    def backward(ctx, dhs, _dacts):
        x, h0, w_ih, w_hh, acts, hps, hs = ctx.saved_tensors
        T, N, H = hs.shape
        gates = acts.view(T, N, 3, H)  # (T, N, 3, H) blocks r, z, n
        r, z, n = gates.unbind(dim=2)  # 3 x (T, N, H)
        h_prev = torch.cat([h0.unsqueeze(0), hs[:-1]])  # (T, N, H) h_{t-1}
        # Per unit of dh_t, the gradient of each pre-activation, for all steps at once:
        # dn_pre = dh (1 - z)(1 - n^2); dz_pre = dh (h_{t-1} - n) z (1 - z);
        # dr_pre = dn_pre * h_n * r (1 - r), where h_n = W_hn h_{t-1} + b_hn.
        kx = torch.empty_like(gates)  # (T, N, 3, H) for the x-side pre-activations
        torch.mul(1 - z, 1 - n * n, out=kx[:, :, 2])
        torch.mul(h_prev - n, z * (1 - z), out=kx[:, :, 1])
        torch.mul(kx[:, :, 2] * hps.view(T, N, 3, H)[:, :, 2], r * (1 - r), out=kx[:, :, 0])
        kh = kx.clone()  # (T, N, 3, H) the h-side ones: the n block is also multiplied by r
        kh[:, :, 2] *= r
        dxp = kx.view(T, N, 3 * H)  # (T, N, 3H) becomes d(x-side pre-activations)
        dhp = kh.view(T, N, 3 * H)  # (T, N, 3H) becomes d(h_{t-1} W_hh^T + b_hh)
        kx_seq, kh_seq = kx.unbind(0), kh.unbind(0)  # T x (N, 3, H) per-step views
        dhp_seq, z_seq = dhp.unbind(0), z.unbind(0)  # T x (N, 3H), T x (N, H)
        dhs_seq = None if dhs is None else dhs.unbind(0)  # None: outputs unused
        dh = torch.zeros_like(h0)  # (N, H) gradient reaching h_t from step t+1
        for t in range(T - 1, -1, -1):
            if dhs is not None:
                dh = dh + dhs_seq[t]  # (N, H) plus the loss's own gradient at step t
            kx_seq[t].mul_(dh.unsqueeze(1))  # (N, 3, H) x-side pre-activation gradients
            kh_seq[t].mul_(dh.unsqueeze(1))  # (N, 3, H) h-side ones
            dh = torch.addmm(dh * z_seq[t], dhp_seq[t], w_hh)  # (N, H) z dh + through W_hh
        dx, dw_ih = _input_grads(ctx, dxp, x, w_ih)
        dw_hh = _hidden_weight_grad(dhp, h0, hs) if ctx.needs_input_grad[3] else None
        db_ih = _sum_bias(dxp, ctx.needs_input_grad[4])
        db_hh = _sum_bias(dhp, ctx.needs_input_grad[5])
        return dx, dh, dw_ih, dw_hh, db_ih, db_hh
