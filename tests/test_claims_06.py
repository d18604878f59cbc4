"""The learning claims of chapter 6, re-measured outside the notebooks (seeded, CPU).

Each test repeats the measurement behind one claim of a lesson, at the lesson's settings or a
smaller budget that supports the same claim. Tests that train are marked slow (each well under
a minute on two cores).
"""

import math
import re
from functools import partial

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from course_lib.data import (
    Standardizer,
    Vocab,
    batchify,
    lm_chunks,
    load_co2,
    load_sunspots,
    load_surnames,
    pad_sequences,
    sliding_windows,
    time_split,
)
from course_lib.device import set_seed
from course_lib.forecast import (
    ArimaForecaster,
    RollingResult,
    WindowForecaster,
    naive_forecast,
    rolling_origin,
    score_table,
    seasonal_naive_forecast,
)
from course_lib.metrics import accuracy, bits_per_char
from course_lib.models.seq2seq import Seq2Seq, collate_pairs, seq2seq_step
from course_lib.models.tasks import CharLM, SequenceClassifier, SequenceRegressor
from course_lib.text import NGramModel, load_kjv, next_token_distribution, number_to_tokens
from course_lib.train import TBPTTStep, TrainConfig, fit

pytestmark = pytest.mark.usefixtures("one_thread")


# ----------------------------------------------------------------------------- 6.1 language model


def genesis():
    text = load_kjv(["Genesis"])
    cut = int(0.9 * len(text))
    vocab = Vocab(text[:cut], specials=("<pad>",), unk=None)
    return text[:cut], vocab, torch.tensor(vocab.encode(text[:cut])), torch.tensor(vocab.encode(text[cut:]))


def test_ngram_ladder_on_genesis():
    """Uniform > unigram > bigram > trigram > 4-gram in bits per character; the 5-gram is no better."""
    _, vocab, tr, va = genesis()
    V = len(vocab)
    bpc = {0: math.log2(V)}
    for n in (1, 2, 3, 4, 5):
        bpc[n] = min(bits_per_char(NGramModel(n, V, k).fit(tr).nll(va)) for k in (0.01, 0.03, 0.1, 0.3, 1.0))
    assert bpc[0] > bpc[1] > bpc[2] > bpc[3] > bpc[4]
    assert bpc[5] >= bpc[4] - 0.01


@pytest.mark.slow
def test_gru_language_model_beats_ngrams_and_temperature_orders_samples():
    """Three epochs already beat the best n-gram; hotter sampling gives fewer real words."""
    train_text, vocab, tr, va = genesis()
    V = len(vocab)
    best_ngram = min(bits_per_char(NGramModel(n, V, 0.03).fit(tr).nll(va)) for n in (3, 4, 5))
    set_seed(0)
    model = CharLM(V, 32, 128, kind="gru")
    tbptt = TBPTTStep(lambda logits, y: F.cross_entropy(logits.transpose(1, 2), y))
    history = fit(model, list(lm_chunks(batchify(tr, 32), 50)), list(lm_chunks(batchify(va, 8), 50)),
                  step_fn=tbptt, callbacks=[tbptt], config=TrainConfig(epochs=3, lr=5e-3, clip_norm=1.0,
                                                                       progress=False, seed=0))
    assert all(b < a for a, b in zip(history.val_loss, history.val_loss[1:], strict=False))
    assert bits_per_char(history.val_loss[-1]) < best_ngram

    known = set(re.findall(r"[A-Za-z]+", train_text))
    prompt = torch.tensor(vocab.encode("And God said unto "))
    shares, entropies = [], []
    with torch.no_grad():
        last = model.eval()(prompt[None])[0][0, -1]
    for temperature in (0.5, 1.0, 1.5):
        p = next_token_distribution(last, temperature)
        entropies.append(float(-(p[p > 0] * p[p > 0].log()).sum()))
        g = torch.Generator().manual_seed(0)
        out = model.generate(prompt, 400, temperature=temperature, generator=g)
        words = re.findall(r"[A-Za-z]+", "".join(vocab.decode(out[len(prompt):])))
        shares.append(sum(w in known for w in words) / len(words))
    assert entropies[0] < entropies[1] < entropies[2]
    assert shares[0] > shares[1] > shares[2]


# ----------------------------------------------------------------------------- 6.2 forecasting


@pytest.mark.slow
def test_sunspots_arima_wins_over_the_horizon_rnn_beats_naive_one_step():
    y = load_sunspots().to_numpy()
    y_train, y_val, _ = time_split(y, 0.7, 0.15)
    first, H, W = len(y_train) + len(y_val), 10, 22
    arima = min((ArimaForecaster(o).fit(y_train) for o in [(2, 0, 0), (9, 0, 0)]), key=lambda m: m.aic)
    results = {"naive": rolling_origin(y, naive_forecast, first, H),
               "snaive": rolling_origin(y, lambda p, h: seasonal_naive_forecast(p, h, 11), first, H),
               "arima": rolling_origin(y, arima, first, H)}
    scaler = Standardizer().fit(y_train)

    def windows(part, history=None):
        x = part if history is None else np.concatenate([history[-W:], part])
        X, Y = sliding_windows(torch.tensor(scaler.transform(x), dtype=torch.float32), W, H)
        return X, Y[..., 0]

    X_tr, Y_tr = windows(y_train)
    X_va, Y_va = windows(y_val, y_train)
    runs = []
    for seed in range(3):
        set_seed(seed)
        model = SequenceRegressor(1, 32, horizon=H, kind="gru")
        fit(model, DataLoader(TensorDataset(X_tr, Y_tr), batch_size=32, shuffle=True), [(X_va, Y_va)],
            loss_fn=F.mse_loss, config=TrainConfig(epochs=200, lr=1e-2, clip_norm=1.0, patience=20,
                                                   progress=False, seed=seed))
        runs.append(rolling_origin(y, WindowForecaster(model, W, scaler), first, H))
    results["gru"] = RollingResult(runs[0].origins, np.mean([r.forecasts for r in runs], 0), runs[0].truth)
    table = score_table(results, y_train, steps=(1,))
    assert table.loc["arima", "MAE h=1"] < table.loc[["naive", "snaive"], "MAE h=1"].min()
    assert table.loc["arima", "MAE all"] < table.loc[["naive", "snaive"], "MAE all"].min()
    assert table.loc["gru", "MAE h=1"] < table.loc[["naive", "snaive"], "MAE h=1"].min()
    assert table.loc["arima", "MAE all"] < table.loc["gru", "MAE all"]
    step_mae = {n: np.abs(r.truth - r.forecasts).mean(0) for n, r in results.items()}
    assert np.all(step_mae["gru"][1:] > step_mae["arima"][1:])  # from two steps ahead on, ARIMA is better


# ----------------------------------------------------------------------------- 6.3 gaps, parallel series


def _train_regressor(X, Y, X_val, Y_val, seed, epochs, output_size=1):
    set_seed(seed)
    model = SequenceRegressor(X.shape[2], 32, output_size=output_size, kind="gru")
    fit(model, DataLoader(TensorDataset(X, Y), batch_size=64, shuffle=True), [(X_val, Y_val)],
        loss_fn=F.mse_loss, config=TrainConfig(epochs=epochs, lr=3e-3, patience=5, progress=False, seed=seed))
    return model.eval()


@pytest.mark.slow
def test_time_deltas_beat_counting_observations_on_thinned_co2():
    values = load_co2().to_numpy()
    rng = np.random.default_rng(0)
    keep = ~np.isnan(values) & (rng.random(len(values)) < 0.5)
    times, obs = np.flatnonzero(keep).astype(float), values[keep]
    M = len(obs)
    ahead = rng.integers(1, 9, M)
    n_tr, n_va = int(0.7 * M), int(0.15 * M)
    sd = np.diff(obs[:n_tr]).std()
    C = 26

    def windows(lo, hi, with_time):
        X, Y = [], []
        for j in range(max(lo, C + 1), hi):
            target = j + ahead[j] - 1
            if target >= hi:
                continue
            past = slice(j - C, j)
            f = [(obs[past] - obs[j - 1]) / sd / 5]
            f += ([(times[past] - times[j - C - 1:j - 1]) / 4, (times[target] - times[past]) / 52] if with_time
                  else [np.full(C, ahead[j] / 8)])
            X.append(np.stack(f, -1))
            Y.append([(obs[target] - obs[j - 1]) / sd])
        return torch.tensor(np.array(X), dtype=torch.float32), torch.tensor(np.array(Y), dtype=torch.float32)

    mae = {}
    for with_time in (False, True):
        (X, Y), (Xv, Yv), (Xt, Yt) = (windows(a, b, with_time) for a, b in [(0, n_tr), (n_tr, n_tr + n_va),
                                                                           (n_tr + n_va, M)])
        models = [_train_regressor(X, Y, Xv, Yv, s, 30) for s in (0, 1)]
        with torch.no_grad():
            mae[with_time] = [float((m(Xt) - Yt).abs().mean()) for m in models]
    naive = float(Yt.abs().mean())
    assert max(mae[True]) < min(mae[False]) and np.mean(mae[False]) < naive


@pytest.mark.slow
def test_reading_a_leading_parallel_series_helps():
    rng = np.random.default_rng(1)
    T = 3000
    a = np.zeros(T)
    for t in range(2, T):
        a[t] = 1.5 * a[t - 1] - 0.8 * a[t - 2] + rng.normal()
    b = np.zeros(T)
    b[3:] = 0.9 * a[:-3] + 0.3 * rng.normal(size=T - 3)
    tr, va, te = time_split(np.stack([a, b], 1), 0.7, 0.15)
    scaler = Standardizer().fit(tr)

    def win(part, cols):
        X, Y = sliding_windows(torch.tensor(scaler.transform(part), dtype=torch.float32), 20, 1)
        return X[:, :, cols], Y[:, 0, 1:]

    mse = {}
    for cols in ([1], [0, 1]):
        (X, Y), (Xv, Yv), (Xt, Yt) = (win(p, cols) for p in (tr, va, te))
        model = _train_regressor(X, Y, Xv, Yv, 0, 15)
        with torch.no_grad():
            mse[len(cols)] = F.mse_loss(model(Xt), Yt).item()
    assert mse[2] < 0.5 * mse[1] < 0.5 * float((Yt ** 2).mean())


# ----------------------------------------------------------------------------- 6.4 classification


def _surname_split():
    from sklearn.model_selection import train_test_split

    names, languages = load_surnames()
    labels = sorted(set(languages))
    y = np.array([labels.index(lang) for lang in languages])
    tr, rest = train_test_split(np.arange(len(names)), test_size=0.3, stratify=y, random_state=0)
    va, te = train_test_split(rest, test_size=0.5, stratify=y[rest], random_state=0)
    return names, y, labels, tr, va, te


def test_bucketing_cuts_padding():
    names, _, _, tr, _, _ = _surname_split()
    lengths = np.array([len(n) for n in names])

    def share(order):
        total = real = 0
        for s in range(0, len(order), 64):
            ell = lengths[order[s:s + 64]]
            total, real = total + ell.max() * len(ell), real + ell.sum()
        return 1 - real / total

    shuffled = share(np.random.default_rng(0).permutation(tr))
    assert share(tr[np.argsort(lengths[tr], kind="stable")]) < shuffled / 4


@pytest.mark.slow
def test_surname_gru_close_to_ngram_baseline_and_naive_readout_fails():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    names, y, labels, tr, va, te = _surname_split()
    majority = float(np.mean(y[te] == np.bincount(y).argmax()))
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True)
    lr = LogisticRegression(C=10.0, solver="saga", max_iter=1000).fit(vec.fit_transform([names[i] for i in tr]), y[tr])
    lr_acc = lr.score(vec.transform([names[i] for i in te]), y[te])

    vocab = Vocab.from_sequences([names[i] for i in tr])

    def collate(batch):
        ids, ys = zip(*batch, strict=True)
        x, lens, _ = pad_sequences(list(ids))
        return x, torch.tensor(ys), lens

    data = {k: [(vocab.encode(names[i]), int(y[i])) for i in ii] for k, ii in (("tr", tr), ("va", va), ("te", te))}
    set_seed(0)
    gru = SequenceClassifier(len(vocab), 32, 64, len(labels), kind="gru", bidirectional=True, dropout=0.3)
    fit(gru, DataLoader(data["tr"], batch_size=64, shuffle=True, collate_fn=collate),
        DataLoader(data["va"], batch_size=512, collate_fn=collate), loss_fn=F.cross_entropy,
        config=TrainConfig(epochs=25, lr=3e-3, patience=6, progress=False, seed=0))
    x, yt, lens = collate(data["te"])
    gru.eval()
    with torch.no_grad():
        logits = gru(x, lens)
        wider = gru(torch.cat([x, torch.zeros(len(x), 10, dtype=x.dtype)], 1), lens)
        naive = gru.head(gru.rnn(gru.embedding(x))[0][:, -1])
    acc = accuracy(logits, yt)
    assert float((wider - logits).abs().max()) < 1e-5
    assert accuracy(naive, yt) < acc - 0.1
    assert abs(acc - lr_acc) < 0.05 and min(acc, lr_acc) > majority + 0.3


# ----------------------------------------------------------------------------- 6.5 seq2seq


@pytest.mark.slow
def test_attention_wins_on_unseen_numbers():
    """Six epochs on 3000 numbers: attention writes unseen numbers almost perfectly, and its maps are diagonal."""
    rng = np.random.default_rng(0)
    numbers = set()
    while len(numbers) < 3500:
        d = int(rng.integers(1, 7))
        numbers.add(int(rng.integers(10 ** (d - 1) if d > 1 else 0, 10 ** d)))
    numbers = rng.permutation(sorted(numbers)).tolist()
    train_nums, test_nums = numbers[:3000], numbers[3000:]
    src_vocab = Vocab("0123456789")
    tgt_vocab = Vocab.from_sequences([number_to_tokens(n) for n in train_nums],
                                     specials=("<pad>", "<unk>", "<bos>", "<eos>"))
    bos, eos = tgt_vocab["<bos>"], tgt_vocab["<eos>"]

    def pairs(ns):
        return [(src_vocab.encode(str(n)), tgt_vocab.encode(number_to_tokens(n))) for n in ns]

    collate = partial(collate_pairs, bos_idx=bos, eos_idx=eos)
    src, src_len, _, _ = collate(pairs(test_nums))
    em, corr = {}, None
    for attention in ("additive", None):
        set_seed(0)
        model = Seq2Seq(len(src_vocab), len(tgt_vocab), bos, eos, embed_dim=32, hidden_size=64, attention=attention)
        fit(model, DataLoader(pairs(train_nums), batch_size=64, shuffle=True, collate_fn=collate), None,
            step_fn=seq2seq_step, config=TrainConfig(epochs=6, lr=3e-3, clip_norm=1.0, progress=False, seed=0))
        out = model.greedy_decode(src, src_len, max_len=30)
        em[attention] = np.mean([o == t + [eos] for o, (_, t) in zip(out.tokens, pairs(test_nums), strict=True)])
        if attention:
            cs = []
            for w in out.weights:
                focus = w[:-1].argmax(1).numpy()
                if len(focus) >= 3 and focus.std() > 0:
                    cs.append(np.corrcoef(np.arange(len(focus)), focus)[0, 1])
            corr = float(np.mean(cs))
    assert em["additive"] > 0.9 and em["additive"] > em[None] + 0.3
    assert corr > 0.7


# ----------------------------------------------------------------------------- 6.6 video toy


def test_frame_order_matters_for_motion_direction():
    from torch import nn

    def squares(n, seed, T=8, size=12):
        g = np.random.default_rng(seed)
        v = np.zeros((n, T, size, size), dtype=np.float32)
        lab = g.integers(0, 2, n)
        for i in range(n):
            row, start = g.integers(0, size - 3), g.integers(0, size - 3 - T + 1)
            cols = start + np.arange(T)
            for k, c in enumerate(cols if lab[i] else cols[::-1]):
                v[i, k, row:row + 3, c:c + 3] = 1.0
        v += 0.2 * g.normal(size=v.shape).astype(np.float32)
        return torch.tensor(v.reshape(n, T, -1)), torch.tensor(lab)

    X, y = squares(800, 0)
    Xt, yt = squares(400, 1)

    class Model(nn.Module):
        def __init__(self, recurrent):
            super().__init__()
            self.frame = nn.Sequential(nn.Linear(144, 32), nn.ReLU())
            self.seq = SequenceClassifier(input_size=32, hidden_size=32, num_classes=2, kind="gru") if recurrent else None
            self.head = nn.Linear(32, 2)

        def forward(self, x):
            f = self.frame(x)
            return self.seq(f) if self.seq is not None else self.head(f.mean(1))

    acc = {}
    for recurrent in (False, True):
        set_seed(0)
        m = Model(recurrent)
        fit(m, [(X[i:i + 64], y[i:i + 64]) for i in range(0, 800, 64)], None, loss_fn=F.cross_entropy,
            config=TrainConfig(epochs=15, lr=3e-3, progress=False))
        with torch.no_grad():
            acc[recurrent] = accuracy(m.eval()(Xt), yt)
    assert acc[False] < 0.65 and acc[True] > 0.95
