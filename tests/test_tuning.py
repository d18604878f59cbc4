"""course_lib.tuning: studies in memory, on SQLite with two worker processes, and on a real
PostgreSQL server started on a unix socket by this file; time-ordered CV against scikit-learn;
the learning-rate range test.

The PostgreSQL test needs the server binaries (Debian: ``postgresql``) and the driver
(``psycopg2-binary``). Without them it is skipped with the reason, unless the environment sets
``COURSE_REQUIRE_POSTGRES=1`` (CI does), in which case it fails.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib
import numpy as np
import optuna
import pytest
import torch
import torch.nn.functional as F
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from sklearn.model_selection import TimeSeriesSplit

from course_lib import tuning as tu
from course_lib.data import noisy_sine, sliding_windows
from course_lib.models import SequenceRegressor
from course_lib.train import TrainConfig

matplotlib.use("Agg")
torch.set_num_threads(1)  # tiny models: one thread is faster, and the workers need the other core
REPO = Path(__file__).resolve().parent.parent
COMPLETE = optuna.trial.TrialState.COMPLETE
PRUNED = optuna.trial.TrialState.PRUNED


# ----------------------------------------------------------------------------- time-ordered CV


CV_CASES = [
    dict(n=20, n_splits=3),
    dict(n=20, n_splits=4, test_size=2),
    dict(n=23, n_splits=5, gap=2),
    dict(n=30, n_splits=3, max_train_size=5),
    dict(n=30, n_splits=3, test_size=4, gap=3, max_train_size=10),
    dict(n=7, n_splits=6),
    dict(n=100, n_splits=2, test_size=1),
]


@pytest.mark.parametrize("case", CV_CASES, ids=str)
def test_time_series_cv_agrees_with_sklearn(case):
    case = dict(case)
    n = case.pop("n")
    ours = tu.time_series_cv(n, **case)
    theirs = list(TimeSeriesSplit(**case).split(np.zeros((n, 1))))
    assert len(ours) == len(theirs) == case["n_splits"]
    for (tr, te), (tr2, te2) in zip(ours, theirs, strict=True):
        assert np.array_equal(tr, tr2) and np.array_equal(te, te2)
        assert tr.max() < te.min()  # never trains on the future


@pytest.mark.parametrize("case", [
    dict(n=5, n_splits=5),                 # more folds than samples
    dict(n=10, n_splits=3, test_size=4),   # nothing left to train on
    dict(n=10, n_splits=2, gap=6),         # the gap eats the training set
], ids=str)
def test_time_series_cv_rejects_what_sklearn_rejects(case):
    case = dict(case)
    n = case.pop("n")
    with pytest.raises(ValueError):
        list(TimeSeriesSplit(**case).split(np.zeros((n, 1))))
    with pytest.raises(ValueError):
        tu.time_series_cv(n, **case)


def test_time_series_cv_bad_arguments():
    with pytest.raises(ValueError, match="n_splits"):
        tu.time_series_cv(10, n_splits=1)
    with pytest.raises(TypeError, match="n must be an int"):
        tu.time_series_cv(10.0, n_splits=2)
    with pytest.raises(ValueError, match="test_size"):
        tu.time_series_cv(10, n_splits=2, test_size=0)


# ----------------------------------------------------------------------------- in-memory studies


def test_in_memory_study_samplers_and_table():
    study = tu.run_study(tu.quadratic_objective, 30, sampler="random", seed=0)
    assert len(study.trials) == 30 and all(t.state == COMPLETE for t in study.trials)
    again = tu.run_study(tu.quadratic_objective, 30, sampler="random", seed=0)
    assert [t.params for t in again.trials] == [t.params for t in study.trials]  # seeded

    table = tu.trials_table(study)
    assert list(table.columns[:5]) == ["number", "value", "state", "seconds", "epochs"]
    assert {"x", "y"} <= set(table.columns) and len(table) == 30
    ranked = tu.trials_table(study, sort=True)
    assert ranked["value"].iloc[0] == study.best_value and ranked["value"].is_monotonic_increasing

    best = tu.best_so_far(study)
    assert best.shape == (30,) and np.all(np.diff(best) <= 0) and best[-1] == study.best_value

    tpe = tu.run_study(tu.quadratic_objective, 40, sampler="tpe", seed=0)
    assert tpe.best_value < 0.5  # TPE homes in on the minimum at (2, -1)
    imp = tu.param_importances(tpe)
    assert set(imp) == {"x", "y"} and imp["x"] > imp["y"]  # x matters ten times more
    for plot in (tu.plot_search_history, tu.plot_importances):
        ax = plot(tpe)
        assert isinstance(ax, matplotlib.axes.Axes)
        matplotlib.pyplot.close("all")


def test_grid_sampler_covers_the_grid_exactly_once():
    space = {"lr": FloatDistribution(1e-3, 1e-1, log=True), "h": IntDistribution(4, 16),
             "cell": CategoricalDistribution(["gru", "lstm"])}
    grid = tu.grid_from_space(space, points={"lr": 3, "h": 2, "cell": 1})
    assert grid == {"lr": pytest.approx([1e-3, 1e-2, 1e-1]), "h": [4, 16], "cell": ["gru", "lstm"]}
    seen = []

    def objective(trial):
        p = tu.sample_params(trial, space)
        seen.append((round(p["lr"], 6), p["h"], p["cell"]))
        return p["lr"]

    study = tu.run_study(objective, 50, sampler="grid", grid=grid)  # stops when the grid is done
    assert len(study.trials) == 12 and len(set(seen)) == 12


def test_sample_params_accepts_a_suggest_function():
    def suggest(trial):
        layers = trial.suggest_int("layers", 1, 2)
        dropout = trial.suggest_float("dropout", 0.0, 0.5) if layers > 1 else 0.0
        return {"layers": layers, "dropout": dropout}

    study = tu.run_study(lambda t: tu.sample_params(t, suggest)["dropout"], 10, sampler="random")
    assert all(("dropout" in t.params) == (t.params["layers"] == 2) for t in study.trials)
    with pytest.raises(TypeError, match="Distribution"):
        tu.run_study(lambda t: tu.sample_params(t, {"lr": (1e-3, 1e-1)}), 1)


def _windows():
    X, Y = sliding_windows(noisy_sine(240, period=20, noise_std=0.1, seed=0), window=12)
    train = [(X[i:i + 32], Y[i:i + 32, :, 0]) for i in range(0, 160, 32)]
    return train, [(X[170:], Y[170:, :, 0])]


def test_objective_reports_every_epoch_prunes_and_records_divergence():
    data = _windows()
    space = {"lr": CategoricalDistribution([3e-2, 1e-5, 1e5])}

    def build(p):
        return SequenceRegressor(input_size=1, hidden_size=8, kind="lstm"), TrainConfig(epochs=4, lr=p["lr"], optimizer="sgd")

    objective = tu.make_objective(space, build, data, F.mse_loss)
    grid = {"lr": [3e-2, 3e-2, 3e-2, 1e-5, 1e5]}  # 3 good trials, then a hopeless one, then a diverging one
    sampler = optuna.samplers.GridSampler({"lr": [3e-2, 1e-5, 1e5]}, seed=0)
    pruner = optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0)
    study = optuna.create_study(sampler=sampler, pruner=pruner)
    for lr in grid["lr"]:
        study.enqueue_trial({"lr": lr})
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study.optimize(objective, n_trials=5)
    good, slow, wild = study.trials[0], study.trials[3], study.trials[4]
    assert good.state == COMPLETE and len(good.intermediate_values) == 4
    assert good.value == pytest.approx(min(good.intermediate_values.values()))
    assert good.user_attrs["best_epoch"] in range(4)
    # identical configurations give identical results: the objective seeds every trial
    assert study.trials[1].value == good.value == study.trials[2].value
    assert slow.state == PRUNED and len(slow.intermediate_values) < 4
    assert wild.state == PRUNED and "diverged" in wild.user_attrs

    with pytest.raises(ValueError, match="value must be"):
        tu.make_objective(space, build, data, F.mse_loss, value="mean")
    with pytest.raises(ValueError, match="loss_fn or step_fn"):
        tu.make_objective(space, build, data)


def test_sine_objective_runs_a_real_training():
    study = tu.run_study(tu.sine_objective, 2, sampler="random", seed=0)
    assert all(t.state == COMPLETE and len(t.intermediate_values) == 5 for t in study.trials)
    assert 0 < study.best_value < 0.5  # the series has variance 0.5: the model learnt something


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="sampler must be"):
        tu.make_sampler("bayes")
    with pytest.raises(ValueError, match="needs grid"):
        tu.make_sampler("grid")
    with pytest.raises(ValueError, match="pruner must be"):
        tu.make_pruner("early")
    with pytest.raises(ValueError, match="storage must be"):
        tu.make_storage("study.db")
    with pytest.raises(ValueError, match="n_trials"):
        tu.run_study(tu.quadratic_objective, 0)
    with pytest.raises(ValueError, match="database URL"):
        tu.run_workers("course_lib.tuning:quadratic_objective", None, "s", 4)
    with pytest.raises(ValueError, match="n_trials must be an integer >= n_workers"):
        tu.run_workers("course_lib.tuning:quadratic_objective", "sqlite:///x.db", "s", 1, 2)
    with pytest.raises(ValueError, match="no callable"):
        tu.load_objective("course_lib.tuning:nothing_here")


# ----------------------------------------------------------------------------- worker processes


def _check_two_workers(study: optuna.Study, n_trials: int) -> None:
    assert len(study.trials) == n_trials  # exact: fixed shares, no race at the end
    assert all(t.state == COMPLETE for t in study.trials)
    workers = {t.user_attrs["worker"] for t in study.trials}
    pids = {t.user_attrs["pid"] for t in study.trials}
    assert workers == {0, 1} and len(pids) == 2 and os.getpid() not in pids
    assert sorted(t.number for t in study.trials) == list(range(n_trials))


@pytest.mark.slow
def test_two_worker_processes_share_one_sqlite_study(tmp_path, capsys):
    """The command line: `run` starts two worker processes on one SQLite study, `show` reads it."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    objective_file = tmp_path / "objective.py"
    objective_file.write_text("def objective(trial):\n    return trial.suggest_float('x', -5.0, 5.0) ** 2\n")
    proc = subprocess.run(
        [sys.executable, "-m", "course_lib.tuning", "run", "--objective", f"{objective_file}:objective",
         "--storage", url, "--study-name", "shared", "--n-trials", "12", "--workers", "2", "--sampler", "random"],
        capture_output=True, text=True, timeout=300, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "best value" in proc.stdout and proc.stdout.count("COMPLETE") == 12
    study = optuna.load_study(study_name="shared", storage=url)
    _check_two_workers(study, 12)
    assert tu.main(["show", "--storage", url, "--study-name", "shared"]) == 0
    shown = capsys.readouterr().out
    assert shown.count("COMPLETE") == 12 and f"best value {study.best_value:.6g}" in shown


def _postgres_bindir() -> Path | None:
    """Directory of initdb/pg_ctl: $COURSE_PG_BIN, then PATH, then Debian's /usr/lib/postgresql/*/bin."""
    candidates = [os.environ.get("COURSE_PG_BIN")]
    if shutil.which("initdb"):
        candidates.append(str(Path(shutil.which("initdb")).parent))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for c in candidates:
        if c and (Path(c) / "initdb").exists() and (Path(c) / "pg_ctl").exists():
            return Path(c)
    return None


def _unavailable(reason: str):
    if os.environ.get("COURSE_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"COURSE_REQUIRE_POSTGRES=1 but {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """A throwaway PostgreSQL server listening only on a unix socket in a temporary folder."""
    bindir = _postgres_bindir()
    if bindir is None:
        _unavailable("the PostgreSQL server binaries (initdb, pg_ctl) are not installed "
                     "(Debian: apt-get install postgresql)")
    try:
        import psycopg2  # noqa: F401
    except ImportError:
        _unavailable("the PostgreSQL driver psycopg2 is not installed (pip install psycopg2-binary)")

    base = Path(tempfile.mkdtemp(prefix="pg"))  # short path: unix socket paths are limited to ~100 bytes
    prefix: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root: run it as an unprivileged user
        user = "postgres" if _has_user("postgres") else "nobody"
        prefix = ["runuser", "-u", user, "--"]
        shutil.chown(base, user=user)
    data, log, port = base / "data", base / "server.log", _free_port()

    def run(*cmd: str) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=120)

    init = run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync",
               "-E", "UTF8", "--locale=C")
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"initdb failed: {init.stderr[-2000:]}")
    options = f"-c listen_addresses='' -k {base} -p {port} -c fsync=off -c max_connections=30"
    start = run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start")
    if start.returncode != 0:
        text = log.read_text() if log.exists() else ""
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"pg_ctl start failed: {start.stderr[-1000:]}\n{text[-2000:]}")
    try:
        yield f"postgresql+psycopg2://postgres@/postgres?host={base}&port={port}"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.mark.slow
def test_two_worker_processes_share_one_postgresql_study(postgres_url):
    study = tu.run_workers("course_lib.tuning:quadratic_objective", postgres_url, "pg-shared", 10,
                           n_workers=2, sampler="tpe", seed=0)
    _check_two_workers(study, 10)
    # the in-process API talks to the same server: continue the study with 2 more trials
    more = tu.run_study(tu.quadratic_objective, 2, storage=postgres_url, study_name="pg-shared")
    assert len(more.trials) == 12
    assert tu.trials_table(more)["number"].tolist() == list(range(12))


# ----------------------------------------------------------------------------- learning-rate range test


def test_lr_range_test_restores_the_model_and_finds_the_blow_up():
    torch.manual_seed(0)
    train, _ = _windows()
    model = SequenceRegressor(input_size=1, hidden_size=8, kind="lstm")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    result = tu.lr_range_test(model, train, F.mse_loss, lr_min=1e-4, lr_max=10.0, steps=60, optimizer="sgd",
                              momentum=0.9)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # untouched
    assert result.stopped_early and len(result.losses) < 60  # lr = 10 with momentum blows up
    assert np.all(np.diff(result.lrs) > 0) and result.lrs[0] == pytest.approx(1e-4)
    i = int(np.argmin(result.smoothed))
    assert result.suggestion == pytest.approx(result.lrs[i] / 10)
    assert min(result.smoothed) < result.smoothed[0]  # the loss did fall in the useful range
    with pytest.raises(ValueError, match="lr_min"):
        tu.lr_range_test(model, train, F.mse_loss, lr_min=1.0, lr_max=0.1)


# ----------------------------------------------------------------------------- pieces the lessons measure


def test_layer_norm_rnn_without_norm_is_torch_rnn_and_with_norm_is_per_sample():
    torch.manual_seed(0)
    ours = tu.LayerNormRNN(3, 5, layer_norm=False)
    ref = torch.nn.RNN(3, 5, batch_first=True)
    ref.load_state_dict(ours.state_dict())  # same names and shapes as torch.nn.RNN
    x, h0 = torch.randn(4, 7, 3), torch.randn(1, 4, 5)
    out, h = ours(x, h0)
    out_ref, h_ref = ref(x, h0)
    assert torch.allclose(out, out_ref, atol=1e-6) and torch.allclose(h, h_ref, atol=1e-6)
    out.sum().backward()
    out_ref.sum().backward()
    for name, p in ours.named_parameters():
        assert torch.allclose(p.grad, dict(ref.named_parameters())[name].grad, atol=1e-5), name

    normed = tu.LayerNormRNN(3, 5)
    a, _ = normed(x)
    b, _ = normed(torch.cat([x[:1], torch.randn(9, 7, 3)]))
    assert torch.allclose(a[0], b[0], atol=1e-6)  # a sample's output never depends on its batch
    with pytest.raises(ValueError, match="shape"):
        normed(torch.randn(4, 7, 2))
    with pytest.raises(ValueError, match="hidden_size"):
        tu.LayerNormRNN(3, 0)


def test_l1_penalty_sums_weight_matrices_only():
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.LayerNorm(3))
    expected = model[0].weight.abs().sum()
    assert torch.allclose(tu.l1_penalty(model), expected)
    tu.l1_penalty(model).backward()
    assert torch.equal(model[0].weight.grad, torch.sign(model[0].weight.detach()))
    with pytest.raises(ValueError, match="no weight matrices"):
        tu.l1_penalty(torch.nn.LayerNorm(3))


def test_cross_validate_one_score_per_split_and_reproducible():
    X, Y = sliding_windows(noisy_sine(200, period=20, noise_std=0.1, seed=0), window=10)
    Y = Y[:, :, 0]

    def build():
        return SequenceRegressor(input_size=1, hidden_size=8, kind="lstm"), TrainConfig(epochs=3, lr=1e-2)

    splits = tu.time_series_cv(len(X), 3)
    scores = tu.cross_validate(build, X, Y, splits, F.mse_loss)
    assert scores.shape == (3,) and np.all(scores > 0)
    assert np.array_equal(scores, tu.cross_validate(build, X, Y, splits, F.mse_loss))
    with pytest.raises(ValueError, match="patience"):
        tu.cross_validate(lambda: (build()[0], TrainConfig(patience=2)), X, Y, splits, F.mse_loss)
    with pytest.raises(ValueError, match="same number of samples"):
        tu.cross_validate(build, X, Y[:-1], splits, F.mse_loss)


def test_toy_tasks_shapes_labels_and_symmetry():
    X, y = tu.frequency_task(64, T=30, seed=3)
    assert X.shape == (64, 30, 1) and X.dtype == torch.float32 and y.dtype == torch.int64
    assert set(y.tolist()) == {0, 1, 2, 3}
    assert torch.equal(X, tu.frequency_task(64, T=30, seed=3)[0])
    clean, labels = tu.frequency_task(4, T=60, periods=(5.0, 12.0), noise_std=0.0, seed=0)
    for x, k in zip(clean[:, :, 0], labels, strict=True):  # the dominant period is the class's
        spectrum = torch.fft.rfft(x).abs()
        period = 60 / int(spectrum[1:].argmax() + 1)
        assert abs(period - (5.0, 12.0)[int(k)]) < 1.5
    Xt, yt = tu.trend_task(200, seed=0)
    slope = (Xt[:, -6:, 0].mean(1) - Xt[:, :6, 0].mean(1))
    assert torch.equal((slope > 0).long(), yt)  # rising means label 1
    with pytest.raises(ValueError, match="periods"):
        tu.frequency_task(4, periods=(5.0,))
