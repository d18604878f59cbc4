"""Task models (course_lib.models.tasks): padding invariance, shapes, state, sampling."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_lib.models.tasks import (
    CharLM,
    SequenceClassifier,
    SequenceRegressor,
    last_valid_output,
    make_recurrent,
    run_recurrent,
)
from course_lib.train import TrainConfig, fit

IMPLS = ["torch", "scratch"]
KINDS = ["rnn", "lstm", "gru"]
LENGTHS = torch.tensor([5, 3, 1, 6])  # T = 6, deliberately unsorted
T = 6


@pytest.fixture(autouse=True, scope="module")
def single_thread():
    """Tiny tensors: one thread is faster than two fighting over the 2-core CI runner."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def padded_tokens(vocab: int = 11, pad: int = 0, seed: int = 0) -> torch.Tensor:
    """(4, 6) token ids, pad id at every padded position."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randint(1, vocab, (len(LENGTHS), T), generator=g)
    mask = torch.arange(T)[None, :] < LENGTHS[:, None]  # (N, T) True at valid steps
    return torch.where(mask, x, torch.full_like(x, pad))


def with_garbage_tokens(x: torch.Tensor, vocab: int = 11, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    mask = torch.arange(T)[None, :] < LENGTHS[:, None]
    return torch.where(mask, x, torch.randint(1, vocab, x.shape, generator=g))


def with_garbage_features(x: torch.Tensor, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    mask = (torch.arange(T)[None, :] < LENGTHS[:, None])[..., None]  # (N, T, 1)
    return torch.where(mask, x, 100 * torch.randn(x.shape, generator=g, dtype=x.dtype))


# ----------------------------------------------------------------------------- building blocks


@pytest.mark.parametrize("kind", KINDS)
def test_make_recurrent_torch_classes_and_batch_first(kind):
    layer = make_recurrent(kind, "torch", input_size=3, hidden_size=4)
    assert type(layer) is {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[kind]
    assert layer.batch_first is True
    out, _ = layer(torch.randn(2, 5, 3))
    assert out.shape == (2, 5, 4)


def test_make_recurrent_rejects_unknown_names():
    with pytest.raises(ValueError, match="kind must be one of"):
        make_recurrent("transformer", input_size=3, hidden_size=4)
    with pytest.raises(ValueError, match="impl must be one of"):
        make_recurrent("lstm", "cuda", input_size=3, hidden_size=4)


def test_last_valid_output_picks_the_right_steps():
    out = torch.arange(2 * 4 * 4, dtype=torch.float32).view(2, 4, 4)  # (N=2, T=4, 2H=4)
    lengths = torch.tensor([2, 4])
    uni = last_valid_output(out, lengths)
    torch.testing.assert_close(uni, torch.stack([out[0, 1], out[1, 3]]))
    bi = last_valid_output(out, lengths, bidirectional=True)
    torch.testing.assert_close(bi[:, :2], torch.stack([out[0, 1, :2], out[1, 3, :2]]))
    torch.testing.assert_close(bi[:, 2:], out[:, 0, 2:])
    torch.testing.assert_close(last_valid_output(out, None), out[:, -1])


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kind", KINDS)
def test_run_recurrent_final_state_is_at_the_last_valid_step(impl, kind):
    torch.manual_seed(0)
    layer = make_recurrent(kind, impl, input_size=3, hidden_size=4)
    x = torch.randn(len(LENGTHS), T, 3)
    out, state = run_recurrent(layer, x, LENGTHS)
    h = state[0] if kind == "lstm" else state  # (1, N, H)
    for i, n in enumerate(LENGTHS.tolist()):
        alone, alone_state = layer(x[i : i + 1, :n])
        torch.testing.assert_close(out[i, :n], alone[0], atol=1e-6, rtol=1e-5)
        torch.testing.assert_close(h[:, i], (alone_state[0] if kind == "lstm" else alone_state)[:, 0],
                                   atol=1e-6, rtol=1e-5)


# ----------------------------------------------------------------------------- classifier


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("kind", KINDS)
def test_classifier_ignores_padding(kind, bidirectional, impl):
    torch.manual_seed(0)
    model = SequenceClassifier(vocab_size=11, embed_dim=5, hidden_size=6, num_classes=3, kind=kind,
                               num_layers=2, bidirectional=bidirectional, impl=impl, pad_idx=0).eval()
    x = padded_tokens()
    logits = model(x, LENGTHS)
    assert logits.shape == (4, 3)
    # Garbage in the padded positions must not change anything ...
    torch.testing.assert_close(model(with_garbage_tokens(x), LENGTHS), logits, atol=1e-6, rtol=1e-5)
    # ... and each row equals the same sequence classified alone, without any padding.
    for i, n in enumerate(LENGTHS.tolist()):
        torch.testing.assert_close(model(x[i : i + 1, :n])[0], logits[i], atol=1e-6, rtol=1e-5)
    # The check has teeth: without lengths the padded rows read the padding and change.
    assert not torch.allclose(model(x)[1], logits[1], atol=1e-4)


def test_classifier_padding_gets_no_gradient_influence():
    torch.manual_seed(0)
    model = SequenceClassifier(vocab_size=11, embed_dim=5, hidden_size=6, num_classes=3, kind="lstm",
                               bidirectional=True)
    y = torch.tensor([0, 1, 2, 1])
    grads = []
    for x in (padded_tokens(), with_garbage_tokens(padded_tokens())):
        model.zero_grad()
        F.cross_entropy(model(x, LENGTHS), y).backward()
        grads.append([p.grad.clone() for p in model.rnn.parameters()])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("impl", IMPLS)
def test_classifier_on_features_ignores_padding(impl):
    torch.manual_seed(0)
    model = SequenceClassifier(input_size=3, hidden_size=5, num_classes=2, kind="gru", bidirectional=True,
                               impl=impl).eval()
    x = torch.randn(len(LENGTHS), T, 3)
    logits = model(x, LENGTHS)
    torch.testing.assert_close(model(with_garbage_features(x), LENGTHS), logits, atol=1e-6, rtol=1e-5)


def test_classifier_input_errors():
    with pytest.raises(ValueError, match="exactly one of vocab_size"):
        SequenceClassifier(vocab_size=5, embed_dim=3, input_size=4)
    with pytest.raises(ValueError, match="embed_dim"):
        SequenceClassifier(vocab_size=5)
    model = SequenceClassifier(vocab_size=11, embed_dim=5, hidden_size=6)
    x = padded_tokens()
    with pytest.raises(ValueError, match=r"lengths must have shape \(N,\) = \(4,\)"):
        model(x, LENGTHS[:3])
    with pytest.raises(ValueError, match=r"every length must be in 1..T \(T=6\)"):
        model(x, torch.tensor([0, 1, 2, 3]))
    with pytest.raises(ValueError, match="every length"):
        model(x, torch.tensor([7, 1, 2, 3]))
    with pytest.raises(TypeError, match="integers"):
        model(x, LENGTHS.float())
    with pytest.raises(ValueError, match=r"token ids must be in 0..10"):
        model(x + 20)
    with pytest.raises(TypeError, match="integer token ids"):
        model(x.float())
    feat = SequenceClassifier(input_size=3, hidden_size=4)
    with pytest.raises(ValueError, match=r"\(N, T, D=3\)"):
        feat(torch.randn(2, 5, 4))


def test_classifier_learns_with_fit():
    # Label = whether token 1 occurs anywhere in a padded sequence: needs the padding handled.
    g = torch.Generator().manual_seed(0)
    N, V = 128, 6
    lengths = torch.randint(2, 9, (N,), generator=g)
    x = torch.randint(2, V, (N, 8), generator=g)
    has = torch.rand(N, generator=g) < 0.5
    pos = (torch.rand(N, generator=g) * lengths).long()
    x[has, pos[has]] = 1
    x[torch.arange(8)[None, :] >= lengths[:, None]] = 0
    y = has.long()
    loader = DataLoader(TensorDataset(x, y, lengths), batch_size=32, shuffle=True)
    torch.manual_seed(0)
    model = SequenceClassifier(vocab_size=V, embed_dim=8, hidden_size=16, num_classes=2, kind="gru")
    history = fit(model, loader, loader, F.cross_entropy, TrainConfig(epochs=6, lr=0.03, progress=False, seed=0),
                  metrics={"acc": lambda out, t: float((out.argmax(-1) == t).float().mean())})
    assert history.metrics["acc"][-1] > 0.95


# ----------------------------------------------------------------------------- regressor


@pytest.mark.parametrize("impl", IMPLS)
def test_regressor_shapes_and_padding(impl):
    torch.manual_seed(0)
    x = torch.randn(len(LENGTHS), T, 2)
    one = SequenceRegressor(input_size=2, hidden_size=5, horizon=3, impl=impl).eval()
    y = one(x, LENGTHS)
    assert y.shape == (4, 3)
    torch.testing.assert_close(one(with_garbage_features(x), LENGTHS), y, atol=1e-6, rtol=1e-5)
    multi = SequenceRegressor(input_size=2, hidden_size=5, output_size=2, horizon=3, kind="gru", impl=impl)
    assert multi(x).shape == (4, 3, 2)
    seq = SequenceRegressor(input_size=2, hidden_size=5, output_size=2, kind="rnn", many_to_many=True, impl=impl)
    out = seq(x)
    assert out.shape == (4, T, 2)
    # Causal: changing step 4 changes nothing before it.
    x2 = x.clone()
    x2[:, 4] += 10
    out2 = seq(x2)
    torch.testing.assert_close(out2[:, :4], out[:, :4])
    assert not torch.allclose(out2[:, 4], out[:, 4])


def test_regressor_errors():
    with pytest.raises(ValueError, match="horizon=1"):
        SequenceRegressor(input_size=1, horizon=2, many_to_many=True)
    with pytest.raises(ValueError, match="horizon"):
        SequenceRegressor(input_size=1, horizon=0)
    with pytest.raises(ValueError, match="dropout"):
        SequenceRegressor(input_size=1, dropout=1.5)
    model = SequenceRegressor(input_size=1)
    with pytest.raises(ValueError, match="T >= 1"):
        model(torch.zeros(2, 0, 1))
    with pytest.raises(TypeError, match="float"):
        model(torch.zeros(2, 3, 1, dtype=torch.long))


# ----------------------------------------------------------------------------- language model


def sharp_lm(kind: str = "lstm", impl: str = "torch", V: int = 7) -> CharLM:
    """A random LM whose logits are spread out, so greedy choices have clear margins."""
    torch.manual_seed(0)
    model = CharLM(V, embed_dim=6, hidden_size=8, kind=kind, num_layers=2, impl=impl)
    with torch.no_grad():
        model.head.weight.mul_(20)
    return model


def greedy_path(model: CharLM, prompt: torch.Tensor, n: int) -> tuple[torch.Tensor, float]:
    """Greedy continuation by re-reading the whole text each step; also the smallest top-2 margin."""
    idx, margin = prompt.clone(), float("inf")
    with torch.no_grad():
        for _ in range(n):
            logits, _ = model(idx)
            top2 = logits[:, -1].topk(2, dim=-1).values
            margin = min(margin, float((top2[:, 0] - top2[:, 1]).min()))
            idx = torch.cat([idx, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    return idx, margin


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("kind", KINDS)
def test_lm_forward_shapes_and_carried_state(kind, impl):
    model = sharp_lm(kind, impl).eval()
    idx = torch.randint(0, 7, (3, 10))
    logits, state = model(idx)
    assert logits.shape == (3, 10, 7)
    h = state[0] if kind == "lstm" else state
    assert h.shape == (2, 3, 8)
    # Reading in two chunks with the state carried equals reading at once.
    a, s = model(idx[:, :4])
    b, _ = model(idx[:, 4:], s)
    torch.testing.assert_close(torch.cat([a, b], dim=1), logits, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("impl", IMPLS)
def test_generate_greedy_limits(impl):
    model = sharp_lm("gru", impl)
    prompt = torch.tensor([[1, 2, 3], [4, 5, 6]])
    expected, margin = greedy_path(model.eval(), prompt, 12)
    assert margin > 1e-3  # so a tiny temperature really makes the argmax certain
    torch.testing.assert_close(model.generate(prompt, 12, top_k=1), expected, rtol=0, atol=0)
    cold = model.generate(prompt, 12, temperature=1e-5, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(cold, expected, rtol=0, atol=0)


def test_generate_sampling_properties():
    model = sharp_lm("lstm")
    model.train()
    prompt = torch.tensor([3, 1])
    out = model.generate(prompt, 30, temperature=1.5, generator=torch.Generator().manual_seed(7))
    assert out.shape == (32,) and out.dtype == torch.int64
    assert torch.equal(out[:2], prompt)
    assert model.training is True  # mode restored
    again = model.generate(prompt, 30, temperature=1.5, generator=torch.Generator().manual_seed(7))
    assert torch.equal(out, again)
    other = model.generate(prompt, 30, temperature=1.5, generator=torch.Generator().manual_seed(8))
    assert not torch.equal(out, other)
    # top_k=2: every sampled token is one of the two most likely at its position.
    sampled = model.generate(prompt, 30, top_k=2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits, _ = model.eval()(sampled[None, :-1])
    top2 = logits[0, 1:].topk(2, dim=-1).indices  # predictions for positions 2..31
    assert all(int(t) in top2[i].tolist() for i, t in enumerate(sampled[2:]))
    assert torch.equal(model.generate(prompt, 0), prompt)


def test_generate_errors():
    model = sharp_lm("rnn")
    prompt = torch.tensor([1, 2])
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="temperature must be > 0"):
            model.generate(prompt, 5, temperature=bad)
    with pytest.raises(ValueError, match="top_k must be an integer >= 1"):
        model.generate(prompt, 5, top_k=0)
    with pytest.raises(ValueError, match="n must be"):
        model.generate(prompt, -1)
    with pytest.raises(ValueError, match="prompt_idx must have shape"):
        model.generate(torch.tensor([], dtype=torch.long), 5)
    with pytest.raises(ValueError, match=r"prompt_idx token ids must be in 0..6"):
        model.generate(torch.tensor([9]), 5)


def test_tied_weights():
    model = CharLM(9, embed_dim=8, hidden_size=8, tie_weights=True)
    assert model.head.weight is model.embedding.weight
    with pytest.raises(ValueError, match="tie_weights"):
        CharLM(9, embed_dim=4, hidden_size=8, tie_weights=True)
