"""KJV corpus, n-gram baselines, sampling distributions, numbers in words."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_lib.metrics import bits_per_char, perplexity
from course_lib.models.tasks import CharLM
from course_lib.text import (
    NGramModel,
    kjv_books,
    load_kjv,
    next_token_distribution,
    number_to_tokens,
    tokens_to_text,
)


def test_kjv_books_and_text():
    books = kjv_books()
    assert len(books) == 66 and books[0] == "Genesis" and books[-1] == "Revelation"
    genesis = load_kjv(["Genesis"])
    assert genesis.startswith("In the beginning God created")
    assert not any(ch.isdigit() for ch in genesis)  # verse numbers are stripped
    lines = genesis.split("\n")
    assert len(lines) == 1220 and lines[2] == "And God said, Let there be light: and there was light."
    two = load_kjv(["Ruth", "Jonah"])
    assert two == load_kjv(["Ruth"]) + "\n" + load_kjv(["Jonah"])
    with pytest.raises(ValueError, match="unknown book"):
        load_kjv(["Genesys"])
    with pytest.raises(TypeError, match="books"):
        load_kjv("Genesis")


@pytest.mark.parametrize("order", [1, 2, 3, 5])
@pytest.mark.parametrize("k", [0.01, 1.0])
def test_ngram_probabilities_sum_to_one(order, k):
    rng = np.random.default_rng(order)
    ids = rng.integers(0, 6, 500)
    model = NGramModel(order, 6, k).fit(ids)
    for ctx in ([0, 1, 2, 3, 4], [5, 5, 5, 5, 5], list(ids[:4])):
        p = model.probs(ctx)
        assert p.shape == (6,) and np.all(p > 0)
        assert p.sum() == pytest.approx(1.0, abs=1e-12)


def test_ngram_counts_by_hand():
    ids = [0, 1, 0, 1, 0, 2]  # bigrams: 0->1 twice, 1->0 twice, 0->2 once
    m = NGramModel(2, 3, k=0.5).fit(ids)
    np.testing.assert_allclose(m.probs([0]), [(0 + 0.5) / 4.5, (2 + 0.5) / 4.5, (1 + 0.5) / 4.5])
    np.testing.assert_allclose(m.probs([2]), [1 / 3] * 3)  # context never seen: uniform
    nll = m.nll([0, 1, 2])  # scores 1 after 0, 2 after 1
    np.testing.assert_allclose(nll, [-math.log(2.5 / 4.5), -math.log(0.5 / 3.5)])
    uni = NGramModel(1, 3, k=1.0).fit(ids)  # counts 3, 2, 1 over 6 tokens
    np.testing.assert_allclose(uni.probs([]), [4 / 9, 3 / 9, 2 / 9])


def test_uniform_model_has_log2_v_bits_and_perplexity_v():
    V = 61
    logits = torch.zeros(4, 10, V)  # a model that knows nothing
    y = torch.randint(0, V, (4, 10))
    nll = F.cross_entropy(logits.transpose(1, 2), y)
    assert bits_per_char(nll) == pytest.approx(math.log2(V))
    assert perplexity(nll) == pytest.approx(V)
    # the n-gram model with an enormous k is uniform too
    ngram = NGramModel(3, V, k=1e12).fit(np.arange(200) % V)
    assert bits_per_char(ngram.nll(np.arange(50) % V)) == pytest.approx(math.log2(V), rel=1e-6)


def test_ngram_beats_uniform_on_real_text_and_higher_order_helps_with_data():
    text = load_kjv(["Ruth"])
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text])
    cut = int(0.9 * len(ids))
    bpc = {n: bits_per_char(NGramModel(n, len(chars), 0.1).fit(ids[:cut]).nll(ids[cut:])) for n in (1, 2, 3)}
    assert bpc[1] < math.log2(len(chars)) and bpc[3] < bpc[2] < bpc[1]


def test_ngram_errors_and_sampling():
    with pytest.raises(RuntimeError, match="fit"):
        NGramModel(2, 4).probs([1])
    with pytest.raises(ValueError, match="order"):
        NGramModel(0, 4)
    with pytest.raises(ValueError, match="k must be"):
        NGramModel(2, 4, k=0)
    m = NGramModel(3, 4).fit([0, 1, 2, 3] * 10)
    with pytest.raises(ValueError, match="context needs"):
        m.probs([1])
    with pytest.raises(ValueError, match="ids must be in"):
        m.fit([0, 9, 1])
    with pytest.raises(TypeError, match="integer"):
        m.nll(np.array([0.5, 1.0, 2.0]))
    # a deterministic cycle with tiny k: sampling follows it
    sharp = NGramModel(2, 4, k=1e-9).fit([0, 1, 2, 3] * 10)
    assert sharp.sample([2], 5, np.random.default_rng(0)) == [3, 0, 1, 2, 3]


def test_next_token_distribution_temperature_and_top_k():
    logits = torch.tensor([[2.0, 1.0, 0.0, -1.0]])
    torch.testing.assert_close(next_token_distribution(logits), torch.softmax(logits, -1))
    torch.testing.assert_close(next_token_distribution(logits, 0.5), torch.softmax(2 * logits, -1))
    cold, hot = next_token_distribution(logits, 0.1), next_token_distribution(logits, 10.0)
    assert cold[0, 0] > 0.99 and hot.max() - hot.min() < 0.1
    top2 = next_token_distribution(logits, 1.0, top_k=2)
    assert top2[0, 2] == 0 and top2[0, 3] == 0
    torch.testing.assert_close(top2[0, :2], torch.softmax(torch.tensor([2.0, 1.0]), -1))
    with pytest.raises(ValueError, match="temperature"):
        next_token_distribution(logits, 0.0)
    with pytest.raises(ValueError, match="top_k"):
        next_token_distribution(logits, 1.0, top_k=0)


def test_charlm_samples_from_next_token_distribution():
    """Sampled frequencies of CharLM's sampler match next_token_distribution (chi-square-free check)."""
    torch.manual_seed(0)
    logits = torch.randn(1, 6).repeat(20000, 1)
    g = torch.Generator().manual_seed(0)
    draws = CharLM._sample(logits, 0.7, 3, g)[:, 0]
    freq = torch.bincount(draws, minlength=6).float() / len(draws)
    torch.testing.assert_close(freq, next_token_distribution(logits[0], 0.7, 3), atol=0.015, rtol=0)


def test_number_tokens_round_trip():
    from num2words import num2words

    assert number_to_tokens(12345) == ["twelve", "thousand", ",", "three", "hundred", "and", "forty", "-", "five"]
    for n in (0, 7, 21, 100, 101, 1001, 99999, 123456, 10**6):
        assert tokens_to_text(number_to_tokens(n)) == num2words(n)
    with pytest.raises(ValueError, match="n must be"):
        number_to_tokens(-1)
