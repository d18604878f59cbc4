"""Encoder–decoder with attention: masks, decoding, beam search, shapes, errors, a tiny overfit."""

import itertools

import pytest
import torch
import torch.nn.functional as F

from course_lib.models.seq2seq import (
    AdditiveAttention,
    DotAttention,
    Seq2Seq,
    beam_search_step,
    collate_pairs,
    masked_softmax,
    seq2seq_step,
)

PAD, BOS, EOS = 0, 1, 2


pytestmark = pytest.mark.usefixtures("one_thread")

CONFIGS = [
    dict(kind="gru", attention="additive"),
    dict(kind="lstm", attention="dot"),
    dict(kind="gru", attention=None),
    dict(kind="lstm", attention="additive", bidirectional=True, num_layers=2),
    dict(kind="gru", attention="dot", bidirectional=True),
]


def make_model(seed=0, src_v=9, tgt_v=8, **kw) -> Seq2Seq:
    torch.manual_seed(seed)
    model = Seq2Seq(src_v, tgt_v, BOS, EOS, embed_dim=8, hidden_size=12, **kw)
    return model.eval()


def batch(seed=1, N=5, S=7, src_v=9, lengths=(7, 3, 1, 5, 2)):
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(1, src_v, (N, S), generator=g)
    lengths = torch.tensor(lengths[:N])
    src[torch.arange(S)[None, :] >= lengths[:, None]] = PAD
    return src, lengths


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_attention_weights_sum_to_one_and_ignore_padding(cfg):
    model = make_model(**cfg)
    src, lengths = batch()
    tgt_in = torch.randint(3, 8, (5, 4))
    logits, weights = model(src, lengths, tgt_in)
    assert logits.shape == (5, 4, 8)
    if cfg["attention"] is None:
        assert weights is None
        return
    assert weights.shape == (5, 4, 7)
    pad = torch.arange(7)[None, :] >= lengths[:, None]  # (N, S)
    assert torch.all(weights.masked_select(pad[:, None, :].expand_as(weights)) == 0.0)  # exactly zero
    torch.testing.assert_close(weights.sum(-1), torch.ones(5, 4))
    assert torch.all(weights[2, :, 0] == 1.0)  # a length-1 source: all weight on its only step


@pytest.mark.parametrize("impl", ["torch", "scratch"])
@pytest.mark.parametrize("cfg", CONFIGS[:4], ids=lambda c: "-".join(str(v) for v in c.values()))
def test_padding_garbage_changes_nothing(cfg, impl):
    model = make_model(impl=impl, **cfg)
    src, lengths = batch()
    garbage = src.clone()
    pad = torch.arange(7)[None, :] >= lengths[:, None]
    garbage[pad] = torch.randint(1, 9, (int(pad.sum()),), generator=torch.Generator().manual_seed(5))
    assert not torch.equal(garbage, src)
    tgt_in = torch.randint(3, 8, (5, 4))
    logits_a, w_a = model(src, lengths, tgt_in)
    logits_b, w_b = model(garbage, lengths, tgt_in)
    torch.testing.assert_close(logits_a, logits_b, rtol=0, atol=1e-6)
    if w_a is not None:
        torch.testing.assert_close(w_a, w_b, rtol=0, atol=1e-6)
    # gradients do not see the garbage either
    loss_a = seq2seq_step(model, (src, lengths, tgt_in, tgt_in))[0]
    grads_a = torch.autograd.grad(loss_a, list(model.parameters()), allow_unused=True)
    loss_b = seq2seq_step(model, (garbage, lengths, tgt_in, tgt_in))[0]
    grads_b = torch.autograd.grad(loss_b, list(model.parameters()), allow_unused=True)
    for ga, gb in zip(grads_a, grads_b, strict=True):
        if ga is not None:
            torch.testing.assert_close(ga, gb, rtol=0, atol=1e-6)
    assert model.greedy_decode(src, lengths, 6).tokens == model.greedy_decode(garbage, lengths, 6).tokens
    # a longer pad (one more column of garbage) changes nothing either
    wider = torch.cat([garbage, torch.full((5, 1), 4)], dim=1)
    torch.testing.assert_close(model(wider, lengths, tgt_in)[0], logits_a, rtol=0, atol=1e-6)


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_step_by_step_decoding_equals_teacher_forcing(cfg):
    """Luong arrangement: running the decoder one step at a time gives the teacher-forced logits."""
    model = make_model(**cfg)
    src, lengths = batch()
    tgt_in = torch.cat([torch.full((5, 1), BOS), torch.randint(3, 8, (5, 4))], dim=1)
    logits, weights = model(src, lengths, tgt_in)
    memory = model.encode(src, lengths)
    state = memory.state
    for t in range(tgt_in.shape[1]):
        log_probs, state, w = model.decode_step(tgt_in[:, t], state, memory)
        torch.testing.assert_close(log_probs, F.log_softmax(logits[:, t], -1), rtol=1e-5, atol=1e-5)
        if weights is not None:
            torch.testing.assert_close(w, weights[:, t])


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_beam_width_one_is_greedy(cfg):
    for seed in range(3):
        model = make_model(seed=seed, **cfg)
        with torch.no_grad():
            model.decoder.out.bias[EOS] += 1.5  # make <eos> likely enough that some outputs end early
        src, lengths = batch(seed=seed + 10)
        greedy = model.greedy_decode(src, lengths, max_len=8)
        beam = model.beam_search(src, lengths, beam_width=1, max_len=8)
        assert greedy.tokens == beam.tokens
        torch.testing.assert_close(torch.tensor(greedy.scores), torch.tensor(beam.scores), rtol=1e-5, atol=1e-5)
        lens = [len(t) for t in greedy.tokens]
        if seed == 0 and cfg["attention"] == "additive" and cfg["kind"] == "gru":
            assert min(lens) < 8 and any(t[-1] == EOS for t in greedy.tokens)
        if cfg["attention"] is not None:
            for n, (toks, w) in enumerate(zip(greedy.tokens, greedy.weights, strict=True)):
                assert w.shape == (len(toks), int(lengths[n]))
                torch.testing.assert_close(beam.weights[n], w)


def test_beam_width_one_is_greedy_when_eos_is_a_close_second():
    """An <eos> that is only the second-best candidate must not end a width-1 beam (greedy would go on)."""
    src, lengths = torch.randint(3, 9, (6, 5), generator=torch.Generator().manual_seed(0)), torch.tensor([5, 4, 3, 2, 1, 5])
    for seed in range(40):
        model = make_model(seed=seed, attention=["additive", "dot", None][seed % 3])
        with torch.no_grad():
            model.decoder.out.bias[EOS] += float(torch.rand(1, generator=torch.Generator().manual_seed(seed))) * 3
        assert model.greedy_decode(src, lengths, 10).tokens == model.beam_search(src, lengths, 1, 10).tokens


@torch.no_grad()
def _sequence_log_prob(model, src, length, seq):
    tgt_in = torch.tensor([[BOS, *seq[:-1]]])
    logits, _ = model(src, torch.tensor([length]), tgt_in)
    return float(F.log_softmax(logits[0], -1).gather(1, torch.tensor(seq)[:, None]).sum())


def test_wide_beam_finds_the_most_likely_output():
    """With a beam as wide as the whole search space, beam search is exact search."""
    model = make_model(seed=3, tgt_v=5, attention="additive")
    with torch.no_grad():
        model.decoder.out.bias[EOS] += 1.0
    src, lengths = batch(N=2, lengths=(6, 3))
    max_len = 4
    beam = model.beam_search(src, lengths, beam_width=5**max_len, max_len=max_len)
    for n in range(2):
        best, best_seq = -float("inf"), None
        for L in range(1, max_len + 1):  # every sequence that ends with <eos> at step L
            for body in itertools.product([t for t in range(5) if t != EOS], repeat=L - 1):
                seq = [*body, EOS]
                lp = _sequence_log_prob(model, src[n : n + 1], int(lengths[n]), seq)
                if lp > best:
                    best, best_seq = lp, seq
        assert beam.tokens[n] == best_seq
        assert beam.scores[n] == pytest.approx(best, abs=1e-5)
    # a narrower beam can only be as good or worse than exact search
    narrow = model.beam_search(src, lengths, beam_width=2, max_len=max_len)
    assert all(s <= b + 1e-6 for s, b in zip(narrow.scores, beam.scores, strict=True))


def test_beam_search_step_by_hand():
    scores = torch.tensor([-1.0, -2.0], dtype=torch.float64)
    log_probs = torch.log(torch.tensor([[0.5, 0.3, 0.2], [0.9, 0.05, 0.05]], dtype=torch.float64))
    new, beam_idx, tok = beam_search_step(scores, log_probs, 3)
    # candidates: -1+ln.5=-1.693, -1+ln.3=-2.204, -2+ln.9=-2.105, -1+ln.2=-2.609, ...
    assert beam_idx.tolist() == [0, 1, 0] and tok.tolist() == [0, 0, 1]
    torch.testing.assert_close(new, torch.tensor([-1 + torch.log(torch.tensor(0.5)).item(),
                                                  -2 + torch.log(torch.tensor(0.9)).item(),
                                                  -1 + torch.log(torch.tensor(0.3)).item()], dtype=torch.float64))
    with pytest.raises(ValueError, match="n_best"):
        beam_search_step(scores, log_probs, 7)
    with pytest.raises(ValueError, match="log_probs"):
        beam_search_step(scores, log_probs[:1], 1)


def test_masked_softmax_exact_zeros_and_errors():
    scores = torch.tensor([[1.0, 2.0, 30.0], [0.0, 0.0, 0.0]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    w = masked_softmax(scores, mask)
    assert w[0, 2].item() == 0.0 and w[1, 1].item() == 0.0 and w[1, 0].item() == 1.0
    torch.testing.assert_close(w[0, :2], torch.softmax(torch.tensor([1.0, 2.0]), 0))
    with pytest.raises(ValueError, match="at least one True"):
        masked_softmax(scores, torch.tensor([[True, True, True], [False, False, False]]))
    with pytest.raises(TypeError, match="bool"):
        masked_softmax(scores, mask.int())
    with pytest.raises(ValueError, match="shape"):
        masked_softmax(scores, mask[:, :2])


@pytest.mark.parametrize("attn", [AdditiveAttention(6, 4, 5), DotAttention(6, 4), DotAttention(4, 4)])
def test_attention_modules_one_query_or_many(attn):
    torch.manual_seed(0)
    q_size = 6 if not (isinstance(attn, DotAttention) and attn.key_proj is None) else 4
    keys, mask = torch.randn(3, 5, 4), torch.tensor([[1, 1, 1, 0, 0], [1] * 5, [1, 0, 0, 0, 0]]).bool()
    queries = torch.randn(3, 2, q_size)
    ctx, w = attn(queries, keys, mask)
    assert ctx.shape == (3, 2, 4) and w.shape == (3, 2, 5)
    ctx1, w1 = attn(queries[:, 1], keys, mask)
    assert ctx1.shape == (3, 4) and w1.shape == (3, 5)
    torch.testing.assert_close(w1, w[:, 1])
    torch.testing.assert_close(ctx1, torch.einsum("ns,nsh->nh", w1, keys))
    with pytest.raises(ValueError, match="query"):
        attn(torch.randn(q_size), keys, mask)


def test_bad_inputs_are_named():
    model = make_model()
    src, lengths = batch()
    tgt = torch.randint(3, 8, (5, 4))
    with pytest.raises(TypeError, match="src"):
        model(src.float(), lengths, tgt)
    with pytest.raises(ValueError, match="src token ids"):
        model(src + 20, lengths, tgt)
    with pytest.raises(ValueError, match="src_lengths"):
        model(src, torch.tensor([8, 3, 1, 5, 2]), tgt)
    with pytest.raises(ValueError, match="src_lengths"):
        model(src, torch.tensor([7, 3, 0, 5, 2]), tgt)
    with pytest.raises(ValueError, match="src_lengths"):
        model(src, lengths[:3], tgt)
    with pytest.raises(ValueError, match="tgt_in has 2 rows"):
        model(src, lengths, tgt[:2])
    with pytest.raises(ValueError, match="tgt_in token ids"):
        model(src, lengths, tgt + 10)
    with pytest.raises(ValueError, match="beam_width"):
        model.beam_search(src, lengths, beam_width=0)
    with pytest.raises(ValueError, match="max_len"):
        model.greedy_decode(src, lengths, max_len=0)
    with pytest.raises(ValueError, match="length_penalty"):
        model.beam_search(src, lengths, length_penalty=-1.0)
    with pytest.raises(ValueError, match="attention"):
        Seq2Seq(9, 8, BOS, EOS, attention="cosine")
    with pytest.raises(ValueError, match="must differ"):
        Seq2Seq(9, 8, BOS, BOS)
    with pytest.raises(ValueError, match="eos_idx"):
        Seq2Seq(9, 8, BOS, 8)
    with pytest.raises(ValueError, match="batch must be"):
        seq2seq_step(model, (src, lengths, tgt))
    with pytest.raises(ValueError, match="same shape"):
        seq2seq_step(model, (src, lengths, tgt, tgt[:, :2]))
    with pytest.raises(ValueError, match="at least one token"):
        collate_pairs([([1], [3]), ([], [4])], BOS, EOS)


def test_collate_pairs_layout():
    src, lengths, tgt_in, tgt_out = collate_pairs([([5, 6, 7], [3, 4]), ([8], [])], BOS, EOS)
    assert src.tolist() == [[5, 6, 7], [8, 0, 0]] and lengths.tolist() == [3, 1]
    assert tgt_in.tolist() == [[BOS, 3, 4], [BOS, 0, 0]]
    assert tgt_out.tolist() == [[3, 4, EOS], [EOS, 0, 0]]


def test_greedy_restores_training_mode_and_needs_no_grad():
    model = make_model(dropout=0.2).train()
    src, lengths = batch()
    out = model.greedy_decode(src, lengths, 5)
    assert model.training and len(out.tokens) == 5


@pytest.mark.parametrize("attention", ["additive", None])
def test_tiny_overfit_reverses_sequences(attention):
    """Eight source sequences, reversed: a model with attention learns them exactly in seconds."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    pairs = []
    for _ in range(8):
        s = torch.randint(3, 9, (int(torch.randint(2, 6, (1,), generator=g)),), generator=g).tolist()
        pairs.append((s, s[::-1]))
    model = Seq2Seq(9, 9, BOS, EOS, embed_dim=16, hidden_size=32, attention=attention)
    b = collate_pairs(pairs, BOS, EOS)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(150):
        opt.zero_grad()
        loss = seq2seq_step(model, b)[0]
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.05
    out = model.greedy_decode(b[0], b[1], max_len=8)
    assert out.tokens == [t + [EOS] for _, t in pairs]
