"""The learning claims of chapter 5, re-measured with the lessons' seeds and settings.

Each test repeats one experiment of a lesson in chapters/05_tuning/ (same data, model, seed and
budget) and asserts what the lesson's prose says. If a change to the library moves a result,
this file says which sentence of which lesson is no longer true.
"""

from __future__ import annotations

import math
from functools import partial

import numpy as np
import optuna
import pytest
import torch
import torch.nn.functional as F
from optuna.distributions import CategoricalDistribution, FloatDistribution
from sklearn.model_selection import KFold
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_lib import augment, tuning
from course_lib.data import (
    ADDING_BASELINE_MSE,
    Standardizer,
    adding_problem,
    load_sunspots,
    noisy_sine,
    sine_wave,
    sliding_windows,
    time_split,
)
from course_lib.device import set_seed
from course_lib.metrics import accuracy
from course_lib.models import SequenceClassifier, SequenceRegressor
from course_lib.train import DivergenceError, TrainConfig, evaluate, fit, unpack_batch

torch.set_num_threads(1)


def _batches(X, Y, size):
    return [(X[i:i + size], Y[i:i + size]) for i in range(0, len(X), size)]


# ----------------------------------------------------------------------------- 5.1 losses, optimisers


@pytest.fixture(scope="module")
def freq():
    X_tr, y_tr = tuning.frequency_task(384, seed=0)
    X_va, y_va = tuning.frequency_task(512, seed=1)
    return X_tr, y_tr, _batches(X_tr, y_tr, 32), [(X_va, y_va)]


def _classifier():
    set_seed(0)
    return SequenceClassifier(input_size=1, hidden_size=16, num_classes=4, kind="gru")


def _mse_on_probs(logits, y):
    return F.mse_loss(torch.softmax(logits, -1), F.one_hot(y, 4).float())


def test_5_1_mse_gradient_is_smaller_and_only_sgd_suffers(freq):
    X_tr, y_tr, train, val = freq
    norms = {}
    for name, fn in [("ce", F.cross_entropy), ("mse", _mse_on_probs),
                     ("double", lambda z, y: F.cross_entropy(torch.softmax(z, -1), y))]:
        model = _classifier()
        fn(model(X_tr), y_tr).backward()
        norms[name] = float(torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters())))
    assert norms["ce"] / norms["mse"] > 3 and norms["double"] < norms["ce"]
    acc = {}
    for opt, kw in [("sgd", dict(optimizer="sgd", momentum=0.9, lr=0.3)), ("adam", dict(optimizer="adam", lr=1e-2))]:
        for name, fn in [("ce", F.cross_entropy), ("mse", _mse_on_probs)]:
            h = fit(_classifier(), train, val, fn, TrainConfig(epochs=12, progress=False, **kw), metrics={"acc": accuracy})
            acc[(opt, name)] = h.metrics["acc"][-1]
    assert acc[("sgd", "ce")] > 0.9 and acc[("sgd", "mse")] < 0.4
    assert acc[("adam", "ce")] > 0.9 and acc[("adam", "mse")] > 0.9


@pytest.mark.slow
def test_5_1_optimisers_and_the_range_test(freq):
    _, _, train, val = freq
    grid = {"SGD": (dict(optimizer="sgd"), [0.3, 1.0, 3.0]),
            "SGD + momentum": (dict(optimizer="sgd", momentum=0.9), [0.1, 0.3, 1.0]),
            "Adagrad": (dict(optimizer="adagrad"), [0.03, 0.1, 0.3]),
            "RMSprop": (dict(optimizer="rmsprop"), [3e-3, 1e-2, 3e-2]),
            "Adam": (dict(optimizer="adam"), [1e-2, 3e-2, 1e-1])}
    best, best_lr = {}, {}
    for name, (kw, lrs) in grid.items():
        finals = {}
        for lr in lrs:
            try:
                finals[lr] = fit(_classifier(), train, val, F.cross_entropy,
                                 TrainConfig(epochs=10, lr=lr, progress=False, **kw)).val_loss[-1]
            except DivergenceError:
                finals[lr] = math.inf
        best_lr[name] = min(finals, key=finals.get)
        best[name] = finals[best_lr[name]]
    assert best["SGD"] > 0.95 * math.log(4)
    assert max(best[n] for n in ("Adagrad", "RMSprop", "Adam")) < best["SGD + momentum"] < best["SGD"]
    result = tuning.lr_range_test(_classifier(), train, F.cross_entropy, lr_min=1e-4, lr_max=3.0, steps=100)
    assert best_lr["Adam"] / 10 <= result.suggestion <= best_lr["Adam"] * 10


def test_5_1_clipping_turns_a_diverging_run_into_a_finished_one():
    X, y = adding_problem(1024, 40, seed=0)
    Xv, yv = adding_problem(512, 40, seed=1)
    train, val = _batches(X, y, 32), [(Xv, yv)]
    outcome = {}
    for clip in (None, 1.0):
        set_seed(0)
        model = SequenceRegressor(input_size=2, hidden_size=32, kind="rnn")
        config = TrainConfig(epochs=8, lr=0.1, optimizer="sgd", momentum=0.9, clip_norm=clip, progress=False)
        try:
            outcome[clip] = fit(model, train, val, F.mse_loss, config)
        except DivergenceError as err:
            outcome[clip] = err
    assert isinstance(outcome[None], DivergenceError)
    assert len(outcome[1.0].val_loss) == 8 and outcome[1.0].val_loss[-1] < 1.2 * ADDING_BASELINE_MSE


# ----------------------------------------------------------------------------- 5.2 schedules, batch, capacity


@pytest.fixture(scope="module")
def sine_windows():
    X, Y = sliding_windows(noisy_sine(700, period=30, noise_std=0.2, seed=0), window=24)
    Y = Y[:, :, 0]
    return X[:500], Y[:500], [(X[524:], Y[524:])]


def _lstm(hidden=16, layers=1, dropout=0.0):
    set_seed(0)
    return SequenceRegressor(input_size=1, hidden_size=hidden, num_layers=layers, dropout=dropout, kind="lstm")


def test_5_2_every_schedule_ends_below_a_constant_lr(sine_windows):
    X, Y, val = sine_windows
    schedules = {
        "constant": None,
        "step": lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=5, gamma=0.3),
        "cosine": lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=16),
        "plateau": lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, factor=0.3, patience=1),
    }
    final = {name: fit(_lstm(), _batches(X, Y, 32), val, F.mse_loss,
                       TrainConfig(epochs=16, lr=0.05, scheduler=s, progress=False)).val_loss[-1]
             for name, s in schedules.items()}
    assert all(final[name] < final["constant"] for name in ("step", "cosine", "plateau"))


def test_5_2_batch_size_trades_time_per_epoch_against_progress(sine_windows):
    X, Y, val = sine_windows
    sec, loss = {}, {}
    for b in (8, 32, 128, 500):
        h = fit(_lstm(), _batches(X, Y, b), val, F.mse_loss, TrainConfig(epochs=10, lr=1e-2, progress=False))
        sec[b], loss[b] = float(np.median(h.epoch_time)), h.val_loss[-1]
    assert sec[8] > 3 * sec[500]
    assert min(loss, key=loss.get) not in (8, 500) and max(loss, key=loss.get) == 500


@pytest.fixture(scope="module")
def small_data():
    series = noisy_sine(700, period=23, noise_std=0.3, seed=0) + 0.5 * sine_wave(700, period=9, phase=1.0)
    X, Y = sliding_windows(series, window=24)
    Y = Y[:, :, 0]
    return _batches(X[:120], Y[:120], 32), [(X[144:], Y[144:])]


@pytest.mark.slow
def test_5_2_capacity_under_and_overfitting(small_data):
    train, val = small_data
    floor = 0.09
    runs = {key: fit(_lstm(*key), train, val, F.mse_loss, TrainConfig(epochs=60, lr=1e-2, progress=False))
            for key in [(2, 1), (8, 1), (32, 1), (128, 1), (32, 2)]}
    tiny = runs[(2, 1)]
    assert tiny.train_loss[-1] > 1.5 * floor and tiny.val_loss[-1] < 1.5 * tiny.train_loss[-1]
    for key in [(128, 1), (32, 2)]:
        assert runs[key].train_loss[-1] < floor and runs[key].val_loss[-1] > 1.15 * min(runs[key].val_loss)
    best = {h: min(runs[(h, 1)].val_loss) for h in (2, 8, 32, 128)}
    chosen = min(h for h, v in best.items() if v <= 1.1 * min(best.values()))
    assert best[2] == max(best.values()) and chosen < 128


# ----------------------------------------------------------------------------- 5.3 regularisation, augmentation


def _l1_step(lam):
    def step(model, batch):
        x, y, _ = unpack_batch(batch)
        out = model(x)
        loss = F.mse_loss(out, y)
        return (loss + lam * tuning.l1_penalty(model) if model.training else loss), out, y
    return step


def _weights(model):
    return torch.cat([p.detach().flatten() for n, p in model.named_parameters() if "weight" in n])


@pytest.mark.slow
def test_5_3_every_regulariser_returns_a_better_model(small_data):
    train, val = small_data
    base = dict(epochs=60, lr=1e-2, progress=False)
    variants = {
        "baseline": (_lstm(32, 2), dict(), None),
        "l2": (_lstm(32, 2), dict(weight_decay=1e-3), None),
        "adamw": (_lstm(32, 2), dict(optimizer="adamw", weight_decay=1.0), None),
        "l1": (_lstm(32, 2), dict(), 1e-4),
        "dropout": (_lstm(32, 2, dropout=0.3), dict(), None),
        "early": (_lstm(32, 2), dict(patience=8), None),
    }
    score, weights, hist = {}, {}, {}
    for name, (model, extra, lam) in variants.items():
        config = TrainConfig(**base, **extra)
        if lam is None:
            hist[name] = fit(model, train, val, F.mse_loss, config)
        else:
            hist[name] = fit(model, train, val, config=config, step_fn=_l1_step(lam))
        score[name] = evaluate(model, val, F.mse_loss)["loss"]
        weights[name] = _weights(model)
    assert all(score[n] < score["baseline"] for n in variants if n != "baseline")
    zero = {n: float((w.abs() < 1e-3).float().mean()) for n, w in weights.items()}
    assert zero["l1"] > 10 * zero["baseline"]
    assert float(weights["l2"].norm()) < 0.5 * float(weights["baseline"].norm())
    assert len(hist["early"].val_loss) < 60 and score["early"] == pytest.approx(min(hist["early"].val_loss), abs=1e-6)


def test_5_3_layer_norm_fits_faster_but_does_not_validate_better(small_data):
    train, val = small_data
    runs = {}
    for use_ln in (False, True):
        set_seed(0)
        model = SequenceRegressor(input_size=1, hidden_size=32, kind="rnn")
        model.rnn = tuning.LayerNormRNN(1, 32, layer_norm=use_ln)
        runs[use_ln] = fit(model, train, val, F.mse_loss, TrainConfig(epochs=60, lr=3e-3, progress=False))
    assert runs[True].train_loss[-1] < runs[False].train_loss[-1]
    assert min(runs[True].val_loss) > 0.95 * min(runs[False].val_loss)


def test_5_3_batch_norm_depends_on_time_step_and_batch(small_data):
    train, _ = small_data
    x = torch.cat([b[0] for b in train])[:120]
    set_seed(0)
    rnn = nn.RNN(1, 16, batch_first=True)
    with torch.no_grad():
        h, _ = rnn(x)
        h_prev = torch.cat([torch.zeros_like(h[:, :1]), h[:, :-1]], dim=1)
        pre = x @ rnn.weight_ih_l0.T + rnn.bias_ih_l0 + h_prev @ rnn.weight_hh_l0.T + rnn.bias_hh_l0
        std = pre.std(dim=0).mean(dim=1)
        a = pre[:, 10]
        batch_a, batch_b = a[:32], torch.cat([a[:1], a[60:91]])
        bn, ln = nn.BatchNorm1d(16).train(), nn.LayerNorm(16)
        bn_diff = float((bn(batch_a)[0] - bn(batch_b)[0]).abs().max())
        ln_diff = float((ln(batch_a)[0] - ln(batch_b)[0]).abs().max())
    ratio = float(std[5:].mean() / std[0])
    assert ratio > 1.2 or ratio < 1 / 1.2
    assert bn_diff > 0.05 and ln_diff == 0.0


def _augmented_accuracy(task, transform, n_classes):
    X_tr, y_tr = task(40, seed=0)
    X_va, y_va = task(512, seed=1)
    loader = _batches(X_tr, y_tr, 8)
    if transform is not None:
        loader = augment.AugmentedLoader(loader, transform, seed=0)
    set_seed(0)
    model = SequenceClassifier(input_size=1, hidden_size=16, num_classes=n_classes, kind="gru")
    h = fit(model, loader, [(X_va, y_va)], F.cross_entropy, TrainConfig(epochs=40, lr=1e-2, progress=False),
            metrics={"acc": accuracy})
    return h.metrics["acc"][-1], min(h.val_loss)


@pytest.mark.slow
def test_5_3_reversal_helps_the_frequency_task_and_breaks_the_trend_task():
    reverse = partial(augment.random_reverse, p=0.5)
    acc_none, loss_none = _augmented_accuracy(tuning.frequency_task, None, 4)
    acc_rev, loss_rev = _augmented_accuracy(tuning.frequency_task, reverse, 4)
    assert acc_rev > acc_none + 0.03 and loss_rev < loss_none
    assert _augmented_accuracy(tuning.trend_task, None, 2)[0] > 0.95
    assert _augmented_accuracy(tuning.trend_task, reverse, 2)[0] < 0.6


def test_5_3_a_window_of_the_tiled_sequence_is_a_roll():
    demo = torch.randn(3, 24, 2)
    for s in (0, 5, 23):
        assert torch.equal(augment.tile(demo, 2)[:, s:s + 24], torch.roll(demo, -s, dims=1))


# ----------------------------------------------------------------------------- 5.4 search


@pytest.fixture(scope="module")
def sunspots():
    series = load_sunspots()
    train_part, val_part, _ = time_split(series, train=0.7, val=0.15)
    scaler = Standardizer().fit(train_part)
    z = torch.tensor(scaler.transform(series.to_numpy()), dtype=torch.float32)
    X, Y = sliding_windows(z, window=20)
    Y = Y[:, :, 0]
    n_train, n_dev = len(train_part) - 20, len(train_part) + len(val_part) - 20
    return dict(train=_batches(X[:n_train], Y[:n_train], 32), val=[(X[n_train:n_dev], Y[n_train:n_dev])],
                X_dev=X[:n_dev], Y_dev=Y[:n_dev], X_test=X[n_dev:], Y_test=Y[n_dev:])


def _build(params, epochs=20):
    return SequenceRegressor(input_size=1, hidden_size=params["hidden_size"], kind="lstm"), \
        TrainConfig(epochs=epochs, lr=params["lr"])


@pytest.mark.slow
def test_5_4_searches_pruning_and_the_held_out_test(sunspots):
    space = {"lr": FloatDistribution(1e-3, 1e-1, log=True), "hidden_size": CategoricalDistribution([4, 16, 64])}
    objective = tuning.make_objective(space, _build, (sunspots["train"], sunspots["val"]), F.mse_loss)
    set_seed(0)
    default_val = min(fit(SequenceRegressor(input_size=1, kind="lstm"), sunspots["train"], sunspots["val"],
                          F.mse_loss, TrainConfig(progress=False)).val_loss)
    studies = {
        "grid": tuning.run_study(objective, 9, sampler="grid", grid=tuning.grid_from_space(space, 3)),
        "random": tuning.run_study(objective, 9, sampler="random"),
        "tpe": tuning.run_study(objective, 9, sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=4)),
        "pruned": tuning.run_study(objective, 9, sampler=optuna.samplers.TPESampler(seed=0, n_startup_trials=4),
                                   pruner="median"),
    }
    assert all(s.best_value < default_val for s in studies.values())
    assert len({round(t.params["lr"], 12) for t in studies["grid"].trials}) == 3
    assert len({round(t.params["lr"], 12) for t in studies["random"].trials}) == 9
    epochs = {n: int(tuning.trials_table(s)["epochs"].sum()) for n, s in studies.items()}
    assert epochs["pruned"] < 0.75 * epochs["tpe"]
    assert [t.params for t in studies["tpe"].trials[:4]] == [t.params for t in studies["random"].trials[:4]]

    # time-ordered CV is less optimistic than a shuffled split
    tuned = studies["pruned"].best_params
    X_dev, Y_dev = sunspots["X_dev"], sunspots["Y_dev"]
    ts = tuning.cross_validate(lambda: _build(tuned), X_dev, Y_dev, tuning.time_series_cv(len(X_dev), 4), F.mse_loss)
    shuffled = list(KFold(4, shuffle=True, random_state=0).split(np.zeros((len(X_dev), 1))))
    sh = tuning.cross_validate(lambda: _build(tuned), X_dev, Y_dev, shuffled, F.mse_loss)
    assert sh.mean() < ts.mean()

    # the tuned model beats the naive forecast, which beats the library defaults
    def train_on_dev(hidden, config):
        set_seed(0)
        model = SequenceRegressor(input_size=1, hidden_size=hidden, kind="lstm")
        loader = DataLoader(TensorDataset(X_dev, Y_dev), batch_size=32, shuffle=True,
                            generator=torch.Generator().manual_seed(0))
        fit(model, loader, None, F.mse_loss, config)
        with torch.no_grad():
            return float(F.mse_loss(model(sunspots["X_test"]), sunspots["Y_test"]))

    mse_tuned = train_on_dev(tuned["hidden_size"], TrainConfig(epochs=20, lr=tuned["lr"], progress=False))
    mse_default = train_on_dev(32, TrainConfig(progress=False))
    mse_naive = float(F.mse_loss(sunspots["X_test"][:, -1], sunspots["Y_test"]))
    assert mse_tuned < mse_naive < mse_default


def test_5_4_tpe_beats_random_search_with_a_larger_budget():
    best = {s: np.mean([tuning.run_study(tuning.quadratic_objective, 40, sampler=s, seed=seed).best_value
                        for seed in range(5)]) for s in ("random", "tpe")}
    assert best["tpe"] < best["random"]


def test_5_4_shuffled_splits_leak_overlapping_windows(sunspots):
    n, W = len(sunspots["X_dev"]), 20

    def leak(splits):
        hits = total = 0
        for tr, te in splits:
            seen = set(tr.tolist())
            hits += sum(any(j in seen for j in range(i + 1, i + W + 1)) for i in te)
            total += len(te)
        return hits / total

    assert leak(tuning.time_series_cv(n, 4)) == 0
    assert leak(list(KFold(4, shuffle=True, random_state=0).split(np.zeros((n, 1))))) > 0.9
