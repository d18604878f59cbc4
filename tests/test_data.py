"""course_lib.data and course_lib.datasets: behaviour, shapes, and the errors on bad input."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from course_lib import data as D
from course_lib import datasets as DS

# --- Vocab -----------------------------------------------------------------------------------------


def test_vocab_ids_specials_frequency_order_and_roundtrip():
    v = D.Vocab("abracadabra")  # a: 5, b: 2, r: 2, c: 1, d: 1
    assert v.itos == ["<pad>", "<unk>", "a", "b", "r", "c", "d"]  # ties keep first appearance
    assert v.pad_id == 0 and v.unk_id == 1 and len(v) == 7
    assert v.stoi["a"] == 2 and "z" not in v and "a" in v
    ids = v.encode("cab")
    assert ids == [5, 2, 3]
    assert "".join(v.decode(ids)) == "cab"
    assert v.encode("zap") == [1, 2, 1]  # unknown -> <unk>
    assert v.decode(torch.tensor([2, 0, 0]), skip_pad=True) == ["a"]


def test_vocab_min_freq_max_size_and_words():
    v = D.Vocab("the cat and the dog and the end".split(), min_freq=2)
    assert v.itos == ["<pad>", "<unk>", "the", "and"]
    assert v.encode(["the", "cat"]) == [2, 1]
    assert D.Vocab("aaabbc", max_size=2).itos == ["<pad>", "<unk>", "a", "b"]


def test_vocab_from_sequences_counts_characters_of_each_string():
    v = D.Vocab.from_sequences(["ab", "ba", "c"])
    assert set(v.itos[2:]) == {"a", "b", "c"} and v.itos[4] == "c"


def test_vocab_without_unk_raises_on_unknown():
    v = D.Vocab("ab", specials=("<pad>",), unk=None)
    assert v.unk_id is None and v.encode("ba") == [2, 1]
    with pytest.raises(KeyError, match="'z'"):
        v.encode("z")


def test_vocab_errors():
    with pytest.raises(ValueError, match="min_freq"):
        D.Vocab("ab", min_freq=0)
    with pytest.raises(TypeError, match="min_freq"):
        D.Vocab("ab", min_freq=1.5)
    with pytest.raises(ValueError, match="specials"):
        D.Vocab("ab", specials=("<unk>", "<pad>"))
    with pytest.raises(ValueError, match="unk"):
        D.Vocab("ab", specials=("<pad>",))
    with pytest.raises(TypeError, match="tokens"):
        D.Vocab(5)
    with pytest.raises(TypeError, match="sequences"):
        D.Vocab.from_sequences("abc")
    with pytest.raises(TypeError, match=r"sequences\[1\]"):
        D.Vocab.from_sequences(["ab", 3])
    v = D.Vocab("ab")
    with pytest.raises(ValueError, match="ids"):
        v.decode([7])
    with pytest.raises(TypeError, match="ids"):
        v.decode([1.0])
    with pytest.raises(ValueError, match="ids"):
        v.decode(torch.zeros(2, 2, dtype=torch.long))
    with pytest.raises(TypeError, match="tokens"):
        v.encode(3)


# --- masks and padding -------------------------------------------------------------------------


def test_lengths_to_mask_post_pre_and_zero_length():
    m = D.lengths_to_mask([3, 1, 0], max_len=4)
    assert m.dtype == torch.bool and m.shape == (3, 4)
    assert m.tolist() == [[1, 1, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0]]
    pre = D.lengths_to_mask(torch.tensor([3, 1]), padding="pre")
    assert pre.tolist() == [[1, 1, 1], [0, 0, 1]]


def test_lengths_to_mask_errors():
    with pytest.raises(ValueError, match="lengths"):
        D.lengths_to_mask([])
    with pytest.raises(ValueError, match="lengths"):
        D.lengths_to_mask([2, -1])
    with pytest.raises(TypeError, match="lengths"):
        D.lengths_to_mask([1.5, 2.0])
    with pytest.raises(ValueError, match="lengths"):
        D.lengths_to_mask([[1, 2]])
    with pytest.raises(ValueError, match="max_len"):
        D.lengths_to_mask([3, 1], max_len=2)
    with pytest.raises(ValueError, match="padding"):
        D.lengths_to_mask([3], padding="left")


def test_pad_sequences_post_and_pre_ids():
    padded, lengths, mask = D.pad_sequences([[5, 6, 7], [8], [9, 10]])
    assert padded.tolist() == [[5, 6, 7], [8, 0, 0], [9, 10, 0]] and padded.dtype == torch.int64
    assert lengths.tolist() == [3, 1, 2] and lengths.dtype == torch.int64
    assert torch.equal(mask, D.lengths_to_mask(lengths))
    padded, lengths, mask = D.pad_sequences([[5, 6, 7], [8]], padding="pre", value=-1)
    assert padded.tolist() == [[5, 6, 7], [-1, -1, 8]]
    assert mask.tolist() == [[True, True, True], [False, False, True]]


def test_pad_sequences_truncation_keeps_head_or_tail():
    seqs = [torch.arange(1, 6), torch.tensor([7])]
    post, lengths, _ = D.pad_sequences(seqs, max_len=3)
    assert post.tolist() == [[1, 2, 3], [7, 0, 0]] and lengths.tolist() == [3, 1]
    pre, _, _ = D.pad_sequences(seqs, max_len=3, truncating="pre")
    assert pre.tolist() == [[3, 4, 5], [7, 0, 0]]
    both, _, mask = D.pad_sequences(seqs, max_len=3, truncating="pre", padding="pre")
    assert both.tolist() == [[3, 4, 5], [0, 0, 7]] and mask[1].tolist() == [False, False, True]
    longer, lengths, _ = D.pad_sequences(seqs, max_len=7)
    assert longer.shape == (2, 7) and lengths.tolist() == [5, 1]


def test_pad_sequences_features_numpy_empty_rows_and_dtype_promotion():
    a = np.ones((4, 3), dtype=np.float32)
    b = torch.full((2, 3), 2.0, dtype=torch.float64)
    padded, lengths, mask = D.pad_sequences([a, b, []])
    assert padded.shape == (3, 4, 3) and padded.dtype == torch.float64
    assert lengths.tolist() == [4, 2, 0] and not mask[2].any()
    assert torch.all(padded[1, 2:] == 0) and torch.all(padded[1, :2] == 2)
    mixed, _, _ = D.pad_sequences([[1, 2], [0.5]])
    assert mixed.is_floating_point() and mixed[1].tolist() == [0.5, 0.0]


def test_pad_sequences_agrees_with_torch_pad_sequence_and_packs():
    seqs = [torch.randn(n, 2, generator=torch.Generator().manual_seed(n)) for n in (4, 1, 3)]
    ours, lengths, _ = D.pad_sequences(seqs)
    theirs = torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True)
    assert torch.equal(ours, theirs)
    packed = torch.nn.utils.rnn.pack_padded_sequence(ours, lengths, batch_first=True, enforce_sorted=False)
    assert packed.data.shape == (int(lengths.sum()), 2)


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="seqs is empty"):
        D.pad_sequences([])
    with pytest.raises(ValueError, match="every sequence"):
        D.pad_sequences([[], []])
    with pytest.raises(TypeError, match=r"seqs\[1\]"):
        D.pad_sequences([[1, 2], "ab"])
    with pytest.raises(TypeError, match="seqs"):
        D.pad_sequences("abc")
    with pytest.raises(ValueError, match=r"seqs\[1\]"):
        D.pad_sequences([np.ones((2, 3)), np.ones((2, 4))])
    with pytest.raises(ValueError, match=r"seqs\[1\]"):
        D.pad_sequences([[1, 2], [[1, 2]]])
    with pytest.raises(ValueError, match="1-D"):
        D.pad_sequences([np.ones((2, 2, 2))])
    with pytest.raises(ValueError, match="max_len"):
        D.pad_sequences([[1, 2]], max_len=0)
    with pytest.raises(ValueError, match="padding"):
        D.pad_sequences([[1]], padding="both")
    with pytest.raises(ValueError, match="truncating"):
        D.pad_sequences([[1]], truncating="middle")
    with pytest.raises(ValueError, match="value"):
        D.pad_sequences([[1]], value=0.5)
    with pytest.raises(ValueError, match="value"):
        D.pad_sequences([[1]], value=float("nan"))


def test_masked_mean_ignores_whatever_the_pads_hold():
    x = torch.tensor([[1.0, 3.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 0.0]])
    mask = D.lengths_to_mask([2, 1, 0], max_len=3)
    assert D.masked_mean(x, mask).tolist() == [2.0, 2.0, 0.0]
    garbage = x.clone()
    garbage[~mask] = float("nan")
    assert torch.equal(D.masked_mean(garbage, mask), D.masked_mean(x, mask))
    x3 = torch.randn(3, 3, 4)
    out = D.masked_mean(x3, mask)
    assert out.shape == (3, 4)
    assert torch.allclose(out[0], x3[0, :2].mean(0)) and torch.all(out[2] == 0)


def test_masked_mean_errors():
    mask = torch.ones(2, 3, dtype=torch.bool)
    with pytest.raises(TypeError, match="mask"):
        D.masked_mean(torch.zeros(2, 3), mask.float())
    with pytest.raises(ValueError, match="mask"):
        D.masked_mean(torch.zeros(2, 4), mask)
    with pytest.raises(ValueError, match="x"):
        D.masked_mean(torch.zeros(2), mask)
    with pytest.raises(TypeError):
        D.masked_mean([[1.0]], mask)


def test_gather_last_picks_last_real_step():
    x = torch.arange(2 * 4 * 1).reshape(2, 4, 1).float()
    assert D.gather_last(x, [2, 4]).squeeze(-1).tolist() == [1.0, 7.0]
    assert D.gather_last(x, [2, 4], padding="pre").squeeze(-1).tolist() == [3.0, 7.0]
    with pytest.raises(ValueError, match="lengths"):
        D.gather_last(x, [0, 4])
    with pytest.raises(ValueError, match="lengths"):
        D.gather_last(x, [5, 4])
    with pytest.raises(ValueError, match="lengths"):
        D.gather_last(x, [1, 2, 3])
    with pytest.raises(TypeError, match="x"):
        D.gather_last(np.zeros((2, 4)), [1, 1])


# --- windows, splits, scaling ------------------------------------------------------------------


def test_sliding_windows_shapes_and_values():
    s = torch.arange(10.0)
    X, Y = D.sliding_windows(s, window=3, horizon=2, stride=2)
    assert X.shape == (3, 3, 1) and Y.shape == (3, 2, 1)  # N = (10 - 3 - 2) // 2 + 1
    assert X[1, :, 0].tolist() == [2.0, 3.0, 4.0] and Y[1, :, 0].tolist() == [5.0, 6.0]
    X, Y = D.sliding_windows(np.stack([np.arange(6), -np.arange(6)], axis=1), window=5)
    assert X.shape == (1, 5, 2) and Y[0].tolist() == [[5, -5]]
    X[0, 0, 0] = 100  # windows are independent copies, not views of one buffer
    X2, _ = D.sliding_windows(torch.arange(5.0), window=2)
    X2[0, 1, 0] = -1
    assert X2[1, 0, 0] == 1.0


def test_sliding_windows_accepts_pandas():
    X, Y = D.sliding_windows(pd.Series([1.0, 2.0, 3.0, 4.0]), window=2)
    assert X.dtype == torch.float64 and Y[:, 0, 0].tolist() == [3.0, 4.0]


def test_sliding_windows_errors():
    with pytest.raises(ValueError, match="window"):
        D.sliding_windows(torch.arange(5.0), window=5)
    with pytest.raises(ValueError, match="window"):
        D.sliding_windows(torch.arange(5.0), window=0)
    with pytest.raises(ValueError, match="horizon"):
        D.sliding_windows(torch.arange(5.0), window=2, horizon=0)
    with pytest.raises(ValueError, match="stride"):
        D.sliding_windows(torch.arange(5.0), window=2, stride=0)
    with pytest.raises(TypeError, match="window"):
        D.sliding_windows(torch.arange(5.0), window=2.0)
    with pytest.raises(ValueError, match="series"):
        D.sliding_windows(torch.zeros(2, 2, 2), window=1)
    with pytest.raises(ValueError, match="series"):
        D.sliding_windows([], window=1)
    with pytest.raises(TypeError, match="series"):
        D.sliding_windows("abc", window=1)


def test_time_split_keeps_time_order_and_gaps():
    s = np.arange(100)
    tr, va, te = D.time_split(s)
    assert (len(tr), len(va), len(te)) == (70, 15, 15)
    assert np.array_equal(np.concatenate([tr, va, te]), s)
    tr, va, te = D.time_split(torch.arange(100), train=0.29, val=0.3, gap=5)
    assert (len(tr), len(va), len(te)) == (29, 30, 31)  # floor(0.29 * 100) is 29, not 28
    assert tr[-1] == 28 and va[0] == 34 and va[-1] == 63 and te[0] == 69
    tr, va, te = D.time_split(list(range(10)), train=0.5, val=0.0)
    assert tr == [0, 1, 2, 3, 4] and va == [] and te == [5, 6, 7, 8, 9]


def test_time_split_slices_pandas_by_position():
    s = pd.Series(np.arange(10.0), index=np.arange(100, 110))
    tr, va, te = D.time_split(s, train=0.6, val=0.2)
    assert tr.index[0] == 100 and va.index.tolist() == [106, 107] and te.index[-1] == 109


def test_time_split_errors():
    with pytest.raises(ValueError, match="train"):
        D.time_split(np.arange(10), train=0.0)
    with pytest.raises(ValueError, match="train"):
        D.time_split(np.arange(10), train=1.2)
    with pytest.raises(ValueError, match="val"):
        D.time_split(np.arange(10), val=-0.1)
    with pytest.raises(ValueError, match="below 1"):
        D.time_split(np.arange(10), train=0.7, val=0.3)
    with pytest.raises(ValueError, match="too short"):
        D.time_split(np.arange(5), train=0.5, val=0.1)
    with pytest.raises(ValueError, match="too short"):
        D.time_split(np.arange(10), gap=3)
    with pytest.raises(ValueError, match="gap"):
        D.time_split(np.arange(10), gap=-1)
    with pytest.raises(TypeError, match="train"):
        D.time_split(np.arange(10), train="0.7")
    with pytest.raises(TypeError, match="series"):
        D.time_split(3)


def test_standardizer_uses_training_statistics_and_inverts():
    train = torch.tensor([[1.0, 10.0], [3.0, 10.0]])
    sc = D.Standardizer().fit(train)
    assert np.allclose(sc.mean_, [2.0, 10.0]) and np.allclose(sc.std_, [1.0, 1.0])  # constant -> std 1
    test = torch.tensor([[5.0, 12.0]], dtype=torch.float64)
    z = sc.transform(test)
    assert z.dtype == torch.float64 and z.tolist() == [[3.0, 2.0]]
    assert torch.allclose(sc.inverse_transform(z), test)
    arr = sc.transform(np.array([[2.0, 10.0]]))
    assert isinstance(arr, np.ndarray) and np.allclose(arr, 0)
    s = pd.Series([1.0, 2.0, 3.0])
    zs = D.Standardizer().fit_transform(s)
    assert isinstance(zs, pd.Series) and abs(zs.mean()) < 1e-12
    windows = torch.randn(4, 5, 1)
    assert D.Standardizer().fit(np.arange(5.0)).transform(windows).shape == (4, 5, 1)
    assert D.Standardizer().fit([1, 2, 3]).transform(torch.tensor([2])).tolist() == [0.0]


def test_standardizer_errors():
    with pytest.raises(RuntimeError, match="fit"):
        D.Standardizer().transform(np.ones(3))
    with pytest.raises(RuntimeError, match="fit"):
        D.Standardizer().inverse_transform(np.ones(3))
    with pytest.raises(ValueError, match="empty"):
        D.Standardizer().fit(np.array([]))
    with pytest.raises(ValueError, match="NaN"):
        D.Standardizer().fit(np.array([1.0, np.nan]))
    sc = D.Standardizer().fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="D=2"):
        sc.transform(np.ones((3, 3)))
    with pytest.raises(TypeError, match="x"):
        D.Standardizer().fit("abc")


def test_autocorrelation_matches_statsmodels_and_finds_the_sunspot_cycle():
    from statsmodels.tsa.stattools import acf

    s = D.load_sunspots()
    ours = D.autocorrelation(s, 20)
    assert ours.shape == (21,) and ours[0] == 1.0
    assert np.allclose(ours, acf(s.to_numpy(), nlags=20, fft=False))
    assert 9 <= int(np.argmax(ours[5:])) + 5 <= 12  # the ~11-year solar cycle


def test_autocorrelation_errors():
    with pytest.raises(ValueError, match="max_lag"):
        D.autocorrelation(np.arange(5.0), 5)
    with pytest.raises(ValueError, match="constant"):
        D.autocorrelation(np.ones(5), 2)
    with pytest.raises(ValueError, match="NaN"):
        D.autocorrelation(np.array([1.0, np.nan, 2.0]), 1)
    with pytest.raises(ValueError, match="1-D"):
        D.autocorrelation(np.ones((3, 2)), 1)
    with pytest.raises(ValueError, match="2 steps"):
        D.autocorrelation(np.ones(1), 0)


# --- language-model batching -------------------------------------------------------------------


def test_batchify_rows_are_contiguous_stretches():
    data = D.batchify(torch.arange(23), batch_size=4)
    assert data.shape == (4, 5) and data.dtype == torch.int64
    assert data[1].tolist() == [5, 6, 7, 8, 9]  # the last 3 tokens are dropped
    with pytest.raises(ValueError, match="batch_size"):
        D.batchify(torch.arange(5), batch_size=3)
    with pytest.raises(ValueError, match="batch_size"):
        D.batchify(torch.arange(5), batch_size=0)
    with pytest.raises(ValueError, match="ids"):
        D.batchify(torch.zeros(2, 5, dtype=torch.long), batch_size=1)
    with pytest.raises(TypeError, match="ids"):
        D.batchify(torch.zeros(10), batch_size=1)


def test_lm_chunks_are_contiguous_and_shifted_by_one():
    data = D.batchify(torch.arange(40), batch_size=2)  # rows 0..19 and 20..39
    chunks = list(D.lm_chunks(data, bptt=6))
    assert len(chunks) == math.ceil((20 - 1) / 6)
    assert [x.shape[1] for x, _ in chunks] == [6, 6, 6, 1]
    for x, y in chunks:
        assert torch.equal(y, x + 1)  # next-token targets
    # row n of chunk k+1 continues row n of chunk k (what carrying the hidden state assumes)
    for (x0, _), (x1, _) in zip(chunks, chunks[1:], strict=False):
        assert torch.equal(x1[:, 0], x0[:, -1] + 1)
    assert len(list(D.lm_chunks(data, bptt=6, drop_last=True))) == 3


def test_lm_chunks_validates_before_iterating():
    with pytest.raises(ValueError, match="bptt"):
        D.lm_chunks(torch.zeros(2, 5, dtype=torch.long), bptt=0)
    with pytest.raises(ValueError, match="data"):
        D.lm_chunks(torch.zeros(10, dtype=torch.long), bptt=2)
    with pytest.raises(ValueError, match="data"):
        D.lm_chunks(torch.zeros(2, 1, dtype=torch.long), bptt=2)
    with pytest.raises(TypeError, match="data"):
        D.lm_chunks([[1, 2, 3]], bptt=2)


# --- synthetic tasks ---------------------------------------------------------------------------


def test_sine_wave_and_noisy_sine():
    s = D.sine_wave(101, period=20.0, amplitude=2.0)
    assert s.shape == (101,) and s.dtype == torch.float32
    assert abs(float(s[5]) - 2.0) < 1e-6 and abs(float(s[100])) < 1e-5
    a = D.noisy_sine(200, noise_std=0.5, seed=3)
    assert torch.equal(a, D.noisy_sine(200, noise_std=0.5, seed=3))
    assert not torch.equal(a, D.noisy_sine(200, noise_std=0.5, seed=4))
    resid = a - D.sine_wave(200)
    assert 0.4 < float(resid.std()) < 0.6
    assert torch.equal(D.noisy_sine(50, noise_std=0.0), D.sine_wave(50))
    with pytest.raises(ValueError, match="period"):
        D.sine_wave(10, period=0)
    with pytest.raises(ValueError, match="length"):
        D.sine_wave(0)
    with pytest.raises(ValueError, match="noise_std"):
        D.noisy_sine(10, noise_std=-1.0)
    with pytest.raises(ValueError, match="seed or generator"):
        D.noisy_sine(10, seed=1, generator=torch.Generator())
    with pytest.raises(TypeError, match="generator"):
        D.noisy_sine(10, generator=1)


def test_adding_problem_structure_and_baseline():
    X, y = D.adding_problem(4000, 30, seed=0)
    assert X.shape == (4000, 30, 2) and y.shape == (4000, 1)
    markers = X[..., 1]
    assert torch.all(markers.sum(1) == 2)
    assert torch.all(markers[:, :15].sum(1) == 1)  # one marker in each half
    assert torch.allclose((X[..., 0] * markers).sum(1, keepdim=True), y)
    baseline = float(((y - 1.0) ** 2).mean())
    assert abs(baseline - D.ADDING_BASELINE_MSE) < 0.01 and abs(D.ADDING_BASELINE_MSE - 0.1667) < 1e-4
    assert torch.equal(X, D.adding_problem(4000, 30, seed=0)[0])
    torch.manual_seed(1)
    a = D.adding_problem(3, 4)[0]
    torch.manual_seed(1)
    assert torch.equal(a, D.adding_problem(3, 4)[0])  # no seed: torch's global generator
    with pytest.raises(ValueError, match="T"):
        D.adding_problem(3, 1)
    with pytest.raises(ValueError, match="n"):
        D.adding_problem(0, 5)


def test_copy_task_layout_and_baseline():
    inputs, targets = D.copy_task(5, T_seq=4, delay=3, n_symbols=6, seed=0)
    assert inputs.shape == targets.shape == (5, 11) and inputs.dtype == torch.int64
    assert torch.all((inputs[:, :4] >= 1) & (inputs[:, :4] <= 6))
    assert torch.all(inputs[:, 4:7] == 0) and torch.all(inputs[:, 7] == 7) and torch.all(inputs[:, 8:] == 0)
    assert torch.all(targets[:, :7] == 0) and torch.equal(targets[:, 7:], inputs[:, :4])
    assert math.isclose(D.copy_task_baseline(4, 3, 6), 4 * math.log(6) / 11)
    # the baseline is the cross-entropy of "blank, then uniform over the symbols"
    logits = torch.full((5, 11, 8), -1e9)
    logits[:, :7, 0] = 0.0
    logits[:, 7:, 1:7] = 0.0
    ce = torch.nn.functional.cross_entropy(logits.reshape(-1, 8), targets.reshape(-1))
    assert math.isclose(float(ce), D.copy_task_baseline(4, 3, 6), rel_tol=1e-5)
    with pytest.raises(ValueError, match="n_symbols"):
        D.copy_task(2, 3, 1, n_symbols=1)
    with pytest.raises(ValueError, match="delay"):
        D.copy_task(2, 3, -1)
    with pytest.raises(ValueError, match="T_seq"):
        D.copy_task_baseline(0, 1)


# --- real data -----------------------------------------------------------------------------------


def test_load_sunspots():
    s = D.load_sunspots()
    assert len(s) == 309 and s.index[0] == 1700 and s.index[-1] == 2008
    assert s.name == "sunspots" and not s.isna().any() and s.iloc[0] == 5.0


def test_load_co2_keeps_missing_values_and_fill_missing_removes_them():
    c = D.load_co2()
    assert len(c) == 2284 and c.name == "co2"
    report = D.missing_summary(c)
    assert report["n_missing"] == 59 == int(c.isna().sum()) and report["longest_gap"] >= 2
    assert math.isclose(report["fraction"], 59 / 2284)
    for method in ("linear", "time", "ffill"):
        filled = D.fill_missing(c, method)
        assert not filled.isna().any() and filled.index.equals(c.index)
        assert filled[c.notna()].equals(c[c.notna()])  # observed values untouched


def test_fill_missing_methods_and_errors():
    s = pd.Series([np.nan, 1.0, np.nan, 3.0, np.nan])
    assert D.fill_missing(s).tolist() == [1.0, 1.0, 2.0, 3.0, 3.0]
    assert D.fill_missing(s, "ffill").tolist() == [1.0, 1.0, 1.0, 3.0, 3.0]
    assert D.missing_summary(s)["first_missing"] == 0
    assert D.missing_summary(pd.Series([1.0]))["first_missing"] is None
    with pytest.raises(ValueError, match="method"):
        D.fill_missing(s, "cubic")
    with pytest.raises(ValueError, match="DatetimeIndex"):
        D.fill_missing(s, "time")
    with pytest.raises(ValueError, match="no observed"):
        D.fill_missing(pd.Series([np.nan, np.nan]))
    with pytest.raises(TypeError, match="series"):
        D.missing_summary(np.array([1.0]))
    with pytest.raises(ValueError, match="empty"):
        D.missing_summary(pd.Series([], dtype=float))


def test_load_surnames_is_deterministic_and_deduplicated():
    names, langs = D.load_surnames()
    assert len(names) == len(langs) > 3000
    assert set(langs) == {DS.LOCALE_LANGUAGES[loc] for loc in DS.DEFAULT_SURNAME_LOCALES}
    assert len(set(names)) == len(names)  # no surname carries two labels
    assert (names, langs) == D.load_surnames()
    two, two_langs = D.load_surnames(["de_DE", "fr_FR"])
    assert two_langs[0] == "German" and two_langs[-1] == "French"
    assert two == sorted(two[: two_langs.count("German")]) + sorted(two[two_langs.count("German"):])
    with pytest.raises(ValueError, match="locales"):
        D.load_surnames(["xx_XX"])
    with pytest.raises(ValueError, match="locales"):
        D.load_surnames([])
    with pytest.raises(ValueError, match="locales"):
        D.load_surnames(["de_DE", "de_DE"])
    with pytest.raises(TypeError, match="locales"):
        D.load_surnames("de_DE")


def test_load_surnames_drops_names_shared_between_locales():
    from faker.providers.person.de_DE import Provider as De
    from faker.providers.person.en_US import Provider as En

    shared = set(De.last_names) & set(En.last_names)
    assert shared, "the test needs a surname listed in both locales"
    names, _ = D.load_surnames(["de_DE", "en_US"])
    assert not shared & set(names)


def test_load_zen_of_python():
    text = D.load_zen_of_python()
    assert text.startswith("The Zen of Python, by Tim Peters")
    assert "Beautiful is better than ugly." in text and len(text.splitlines()) == 21
