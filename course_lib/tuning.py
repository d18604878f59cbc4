"""Hyperparameter search for the course: a thin layer over Optuna.

Optuna does the searching (the samplers: grid, random, TPE; the pruners that stop hopeless
trials early; the storages that let many processes share one study). This module only
connects it to ``course_lib.train.fit`` and gives the lessons a few helpers. Read it top to
bottom:

1. search space: a dict ``name -> optuna distribution`` or a function ``suggest(trial) -> dict``
   (``sample_params``, ``grid_from_space``);
2. the objective: ``make_objective`` trains one configuration with ``fit``, reports the
   validation loss after every epoch (so that a pruner can stop the trial) and returns it;
3. the study: ``run_study`` (in one process; storage in memory, SQLite or any Optuna RDB URL
   such as PostgreSQL) and ``run_workers`` (several worker PROCESSES on one study through an
   RDB storage; also ``python -m course_lib.tuning run ...``);
4. reading the results: ``trials_table`` (a pandas DataFrame), ``best_so_far``,
   ``param_importances``, ``plot_search_history``, ``plot_importances``;
5. tools that are not searches: ``time_series_cv`` (expanding-window splits, the semantics of
   scikit-learn's ``TimeSeriesSplit``), ``cross_validate`` (score one configuration on such
   splits) and ``lr_range_test``;
6. what the chapter's lessons measure: two small tasks (``frequency_task``, ``trend_task``),
   ``LayerNormRNN`` and ``l1_penalty``.

A minimal study::

    space = {"lr": FloatDistribution(1e-4, 1e-1, log=True),
             "hidden_size": CategoricalDistribution([8, 16, 32])}
    def build(p):
        model = SequenceRegressor(input_size=1, hidden_size=p["hidden_size"], kind="gru")
        return model, TrainConfig(epochs=10, lr=p["lr"], progress=False)
    objective = make_objective(space, build, (train_loader, val_loader), F.mse_loss)
    study = run_study(objective, n_trials=20, sampler="tpe", pruner="median")
    print(trials_table(study).head())

Several processes on one study (each process: ``python -m course_lib.tuning worker ...``)::

    python -m course_lib.tuning run --objective course_lib.tuning:sine_objective \\
        --storage sqlite:///study.db --study-name demo --n-trials 20 --workers 2
    python -m course_lib.tuning show --storage sqlite:///study.db --study-name demo

For PostgreSQL use ``--storage postgresql+psycopg2://user:password@host:5432/dbname`` (the
driver ``psycopg2-binary`` must be installed); nothing else changes.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import functools
import importlib
import importlib.util
import json
import math
import os
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import optuna
import pandas as pd
import torch
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from torch import nn

from course_lib.device import set_seed
from course_lib.train import DivergenceError, TrainConfig, evaluate, fit

__all__ = [
    "LRRangeResult",
    "LayerNormRNN",
    "PruningCallback",
    "best_so_far",
    "cross_validate",
    "frequency_task",
    "grid_from_space",
    "l1_penalty",
    "load_objective",
    "lr_range_test",
    "main",
    "make_objective",
    "make_pruner",
    "make_sampler",
    "make_storage",
    "param_importances",
    "plot_importances",
    "plot_search_history",
    "quadratic_objective",
    "run_study",
    "run_workers",
    "sample_params",
    "sine_objective",
    "time_series_cv",
    "trend_task",
    "trials_table",
]

SearchSpace = Mapping[str, BaseDistribution] | Callable[[optuna.Trial], dict[str, Any]]
SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("none", "median", "halving", "hyperband")


# ----------------------------------------------------------------------------- search space


def sample_params(trial: optuna.Trial, space: SearchSpace) -> dict[str, Any]:
    """Draw one configuration from ``space`` through the trial (so the sampler decides).

    Inputs:
    - trial: the Optuna trial.
    - space: a dict ``name -> FloatDistribution | IntDistribution | CategoricalDistribution``,
      or a function ``suggest(trial) -> dict`` (for conditional spaces, e.g. dropout only
      when num_layers > 1).

    Returns:
    - ``{name: value}``.
    """
    if callable(space):
        params = space(trial)
        if not isinstance(params, Mapping):
            raise TypeError(f"suggest(trial) must return a dict of parameters, got {type(params).__name__}")
        return dict(params)
    if not isinstance(space, Mapping) or not space:
        raise ValueError("space must be a non-empty dict name -> optuna distribution, or a callable suggest(trial)")
    params: dict[str, Any] = {}
    for name, dist in space.items():
        if isinstance(dist, FloatDistribution):
            params[name] = trial.suggest_float(name, dist.low, dist.high, log=dist.log, step=dist.step)
        elif isinstance(dist, IntDistribution):
            params[name] = trial.suggest_int(name, dist.low, dist.high, log=dist.log, step=dist.step)
        elif isinstance(dist, CategoricalDistribution):
            params[name] = trial.suggest_categorical(name, dist.choices)
        else:
            raise TypeError(f"space[{name!r}] must be a Float-, Int- or CategoricalDistribution, got {type(dist).__name__}")
    return params


def grid_from_space(space: Mapping[str, BaseDistribution], points: int | Mapping[str, int] = 3) -> dict[str, list]:
    """Turn a search space into a grid for ``sampler="grid"``.

    Inputs:
    - space: dict ``name -> distribution`` (as for ``sample_params``).
    - points: values per numeric axis (one int for all, or a dict per name). Log-scaled floats
      get geometric spacing, others linear; ints are rounded and deduplicated; categorical
      axes keep all their choices.

    Returns:
    - ``{name: [values]}``; the grid has the product of the list lengths as its size.
    """
    if not isinstance(space, Mapping) or not space:
        raise ValueError("grid_from_space needs a non-empty dict name -> distribution")
    grid: dict[str, list] = {}
    for name, dist in space.items():
        k = points[name] if isinstance(points, Mapping) else points
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"points for {name!r} must be an int >= 1, got {k!r}")
        if isinstance(dist, CategoricalDistribution):
            grid[name] = list(dist.choices)
            continue
        if not isinstance(dist, (FloatDistribution, IntDistribution)):
            raise TypeError(f"space[{name!r}] must be a Float-, Int- or CategoricalDistribution, got {type(dist).__name__}")
        lo, hi = float(dist.low), float(dist.high)
        values = np.geomspace(lo, hi, k) if dist.log else np.linspace(lo, hi, k)
        if k == 1:
            values = np.array([math.sqrt(lo * hi) if dist.log else (lo + hi) / 2])
        if isinstance(dist, IntDistribution):
            grid[name] = sorted({int(round(v)) for v in values})
        else:
            grid[name] = [float(v) for v in values]
    return grid


# ----------------------------------------------------------------------------- objective


class PruningCallback:
    """A ``fit`` callback: report the validation loss to the trial after every epoch.

    Reporting is what lets a pruner compare this trial with earlier ones at the same epoch;
    when the pruner says so, the callback raises ``optuna.TrialPruned`` and training stops.

    Inputs (to the constructor):
    - trial: the Optuna trial.
    - prune: False only reports (the study still sees the curves), True also prunes.
    """

    def __init__(self, trial: optuna.Trial, prune: bool = True) -> None:
        self.trial, self.prune = trial, prune

    def on_epoch_end(self, state: Any) -> None:
        if not state.history.val_loss:
            raise ValueError("PruningCallback needs a validation loader: it reports the validation loss")
        value = state.history.val_loss[-1]
        self.trial.report(value, step=state.epoch)
        if self.prune and self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned after epoch {state.epoch + 1}: val loss {value:.4g}")


def make_objective(
    space: SearchSpace,
    build: Callable[[dict[str, Any]], tuple[nn.Module, TrainConfig]],
    data: tuple[Iterable, Iterable] | Callable[[dict[str, Any]], tuple[Iterable, Iterable]],
    loss_fn: Callable[[Any, Any], torch.Tensor] | None = None,
    *,
    step_fn: Callable[[nn.Module, Any], Any] | None = None,
    seed: int | None = 0,
    value: str = "best",
    prune: bool = True,
) -> Callable[[optuna.Trial], float]:
    """Build an Optuna objective that trains one configuration with ``course_lib.train.fit``.

    Each call: sample the parameters, ``set_seed(seed)`` (every trial starts from the same
    random state, so differences between trials come from the hyperparameters, not from the
    luck of the initialisation), ``model, config = build(params)``, train with a
    ``PruningCallback``, and return the validation loss.

    A run that diverges (``DivergenceError``: NaN loss) is recorded as PRUNED with the user
    attribute ``"diverged"``, so the study goes on and the sampler learns that region is bad.

    Inputs:
    - space: see ``sample_params``.
    - build: ``params -> (model, TrainConfig)``. The config's progress bar is switched off.
    - data: ``(train_loader, val_loader)``, or ``params -> (train_loader, val_loader)`` when
      the batch size (or the window length, ...) is a hyperparameter.
    - loss_fn, step_fn: as for ``fit``.
    - seed: seed set before every build; None leaves the random state alone.
    - value: "best" returns the lowest validation loss of the run (the epoch early stopping
      would keep), "last" the final epoch's.
    - prune: False reports intermediate values but never prunes.

    Returns:
    - ``objective(trial) -> float`` for ``run_study``. Also sets the trial's user attribute
      "best_epoch"; the epochs a trial trained are its number of reported intermediate values
      (the "epochs" column of ``trials_table``).
    """
    if value not in ("best", "last"):
        raise ValueError(f"value must be 'best' or 'last', got {value!r}")
    if not callable(build):
        raise TypeError(f"build must be a callable params -> (model, TrainConfig), got {type(build).__name__}")
    if not callable(data) and not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise TypeError("data must be (train_loader, val_loader) or a callable params -> (train_loader, val_loader)")
    if loss_fn is None and step_fn is None:
        raise ValueError("make_objective needs loss_fn or step_fn (as fit does)")

    def objective(trial: optuna.Trial) -> float:
        params = sample_params(trial, space)
        if seed is not None:
            set_seed(seed)
        built = build(params)
        if not (isinstance(built, tuple) and len(built) == 2 and isinstance(built[1], TrainConfig)):
            raise TypeError("build(params) must return (model, TrainConfig)")
        model, config = built
        train_loader, val_loader = data(params) if callable(data) else data
        if val_loader is None:
            raise ValueError("the objective returns a validation loss: give a val_loader")
        config = dataclasses.replace(config, progress=False)  # one bar per trial would flood the output
        try:
            history = fit(model, train_loader, val_loader, loss_fn, config, step_fn=step_fn,
                          callbacks=[PruningCallback(trial, prune)])
        except DivergenceError as err:
            trial.set_user_attr("diverged", str(err)[:300])
            raise optuna.TrialPruned(f"diverged: {err}") from None
        trial.set_user_attr("best_epoch", history.best_epoch)
        return float(min(history.val_loss) if value == "best" else history.val_loss[-1])

    return objective


# ----------------------------------------------------------------------------- samplers, pruners, storage


def make_sampler(
    sampler: str | optuna.samplers.BaseSampler = "tpe",
    seed: int | None = 0,
    grid: Mapping[str, Sequence] | None = None,
) -> optuna.samplers.BaseSampler:
    """An Optuna sampler by name.

    Inputs:
    - sampler: "tpe" (Bayesian: the Tree-structured Parzen Estimator; its first 10 trials are
      random), "random", "grid", or a sampler object (returned as is).
    - seed: the sampler's seed (a study with the same seed proposes the same points).
    - grid: ``{name: [values]}``, required by "grid" (see ``grid_from_space``).

    Returns:
    - an ``optuna.samplers.BaseSampler``.
    """
    if isinstance(sampler, optuna.samplers.BaseSampler):
        return sampler
    if sampler == "tpe":
        return optuna.samplers.TPESampler(seed=seed)
    if sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if sampler == "grid":
        if not grid:
            raise ValueError('sampler="grid" needs grid={name: [values]} (see grid_from_space)')
        return optuna.samplers.GridSampler({k: list(v) for k, v in grid.items()}, seed=seed)
    raise ValueError(f"sampler must be one of {SAMPLERS} or an optuna sampler, got {sampler!r}")


def make_pruner(pruner: str | optuna.pruners.BasePruner | None = None) -> optuna.pruners.BasePruner:
    """An Optuna pruner by name.

    Inputs:
    - pruner: None or "none" (never prune); "median" (stop a trial whose loss at epoch k is
      worse than the median of earlier trials at epoch k; starts after 3 complete trials and
      never before epoch 2); "halving" (successive halving); "hyperband"; or a pruner object.

    Returns:
    - an ``optuna.pruners.BasePruner``.
    """
    if isinstance(pruner, optuna.pruners.BasePruner):
        return pruner
    if pruner is None or pruner == "none":
        return optuna.pruners.NopPruner()
    if pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2)
    if pruner == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    if pruner == "hyperband":
        return optuna.pruners.HyperbandPruner()
    raise ValueError(f"pruner must be one of {PRUNERS}, None or an optuna pruner, got {pruner!r}")


def make_storage(storage: str | optuna.storages.BaseStorage | None) -> str | optuna.storages.BaseStorage | None:
    """Where a study keeps its trials.

    Inputs:
    - storage: None (in memory: this process only, gone when it ends); a database URL such as
      "sqlite:///study.db" or "postgresql+psycopg2://user:pw@host:5432/db" (any SQLAlchemy URL
      Optuna's RDBStorage accepts; shared by processes and machines); or a storage object.

    Returns:
    - None, or an ``optuna.storages.RDBStorage`` (SQLite gets a 60 s lock timeout, so that
      concurrent workers wait for each other instead of failing with "database is locked").
    """
    if storage is None or isinstance(storage, optuna.storages.BaseStorage):
        return storage
    if not isinstance(storage, str) or "://" not in storage:
        raise ValueError(f"storage must be None, a database URL such as 'sqlite:///study.db', or an "
                         f"optuna storage; got {storage!r}")
    if storage.startswith("sqlite:"):
        return optuna.storages.RDBStorage(storage, engine_kwargs={"connect_args": {"timeout": 60}})
    return optuna.storages.RDBStorage(storage)


@contextlib.contextmanager
def _quiet_optuna(verbose: bool) -> Iterator[None]:
    """Silence Optuna's one-line-per-trial INFO log unless ``verbose``."""
    before = optuna.logging.get_verbosity()
    if not verbose:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)


def run_study(
    objective: Callable[[optuna.Trial], float],
    n_trials: int,
    *,
    sampler: str | optuna.samplers.BaseSampler = "tpe",
    pruner: str | optuna.pruners.BasePruner | None = None,
    storage: str | optuna.storages.BaseStorage | None = None,
    study_name: str | None = None,
    n_jobs: int = 1,
    seed: int | None = 0,
    grid: Mapping[str, Sequence] | None = None,
    direction: str = "minimize",
    timeout: float | None = None,
    verbose: bool = False,
) -> optuna.Study:
    """Create (or continue) a study and run ``n_trials`` more trials in this process.

    Inputs:
    - objective: ``objective(trial) -> float`` (e.g. from ``make_objective``).
    - n_trials: trials to run now, >= 1 (a grid study stops early once its grid is done).
    - sampler, seed, grid: see ``make_sampler``. pruner: see ``make_pruner``.
    - storage: see ``make_storage``; with a URL and an existing ``study_name`` the study is
      continued (its earlier trials count for the sampler).
    - study_name: needed to find the study again in a database; None gets a generated name.
    - n_jobs: threads in this process (Optuna's n_jobs; they share the GIL and the global
      random state, so results are no longer reproducible: use ``run_workers`` for real
      parallelism).
    - direction: "minimize" (losses) or "maximize" (accuracies).
    - timeout: stop starting trials after this many seconds (None: no limit).
    - verbose: keep Optuna's log line per trial.

    Returns:
    - the ``optuna.Study`` (``study.best_params``, ``study.best_value``, ``study.trials``).
    """
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < 1:
        raise ValueError(f"n_trials must be an integer >= 1, got {n_trials!r}")
    if direction not in ("minimize", "maximize"):
        raise ValueError(f"direction must be 'minimize' or 'maximize', got {direction!r}")
    if not callable(objective):
        raise TypeError(f"objective must be a callable trial -> float, got {type(objective).__name__}")
    with _quiet_optuna(verbose):
        study = optuna.create_study(
            storage=make_storage(storage), sampler=make_sampler(sampler, seed, grid),
            pruner=make_pruner(pruner), study_name=study_name, direction=direction, load_if_exists=True,
        )
        study.optimize(objective, n_trials=n_trials, n_jobs=n_jobs, timeout=timeout)
    return study


# ----------------------------------------------------------------------------- several processes


def load_objective(ref: str) -> Callable[[optuna.Trial], float]:
    """Import an objective named ``"package.module:function"`` or ``"path/to/file.py:function"``.

    Worker processes cannot receive a Python function from their parent, only its name.
    """
    if not isinstance(ref, str) or ref.count(":") != 1:
        raise ValueError(f"objective must be 'module:function' or 'file.py:function', got {ref!r}")
    where, name = ref.split(":")
    if where.endswith(".py"):
        path = Path(where).resolve()
        if not path.is_file():
            raise ValueError(f"objective file {path} does not exist")
        spec = importlib.util.spec_from_file_location(f"_objective_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    else:
        module = importlib.import_module(where)
    fn = getattr(module, name, None)
    if not callable(fn):
        raise ValueError(f"{where} has no callable {name!r}")
    return fn


def _shares(n_trials: int, n_workers: int) -> list[int]:
    """Split n_trials into n_workers near-equal counts (their sum is exactly n_trials)."""
    return [n_trials // n_workers + (1 if i < n_trials % n_workers else 0) for i in range(n_workers)]


def run_workers(
    objective: str,
    storage: str,
    study_name: str,
    n_trials: int,
    n_workers: int = 2,
    *,
    sampler: str = "tpe",
    pruner: str | None = None,
    seed: int = 0,
    grid: Mapping[str, Sequence] | None = None,
    direction: str = "minimize",
    timeout: float | None = 600,
) -> optuna.Study:
    """Run one study with ``n_workers`` worker processes that share it through a database.

    Every worker is ``python -m course_lib.tuning worker ...``: it loads the study from
    ``storage``, asks the sampler (which reads every trial in the database, whichever process
    ran it) and writes its results back. The trials are split in fixed shares, so the study
    ends with exactly ``n_trials`` new trials. Worker i seeds its sampler with ``seed + i``
    and tags each trial with the user attributes "worker" (i) and "pid".

    Inputs:
    - objective: ``"module:function"`` or ``"file.py:function"`` (see ``load_objective``).
    - storage: a database URL ("sqlite:///study.db", "postgresql+psycopg2://..."); not None:
      separate processes cannot share memory.
    - study_name: the study to create or continue.
    - n_trials: total new trials, >= n_workers (every worker gets at least one).
    - n_workers: processes, >= 1.
    - sampler, pruner, seed, grid, direction: as for ``run_study`` (by name: objects cannot
      cross a process boundary).
    - timeout: seconds to wait for the workers before stopping them.

    Returns:
    - the study, loaded from ``storage`` after every worker has finished.
    """
    if not isinstance(storage, str) or "://" not in storage:
        raise ValueError(f"run_workers needs a database URL as storage (workers are separate processes), got {storage!r}")
    if not isinstance(study_name, str) or not study_name:
        raise ValueError("run_workers needs a study_name: the workers find the study by it")
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValueError(f"n_workers must be an integer >= 1, got {n_workers!r}")
    if isinstance(n_trials, bool) or not isinstance(n_trials, int) or n_trials < n_workers:
        raise ValueError(f"n_trials must be an integer >= n_workers = {n_workers}, got {n_trials!r}")
    if not isinstance(sampler, str) or (pruner is not None and not isinstance(pruner, str)):
        raise TypeError("run_workers takes the sampler and pruner by name (objects cannot cross processes)")
    # Fail here, with one clear message, rather than in every worker.
    load_objective(objective)
    make_sampler(sampler, seed, grid)
    make_pruner(pruner)
    with _quiet_optuna(False):  # create it once, so the workers do not race to create it
        optuna.create_study(storage=make_storage(storage), study_name=study_name,
                            direction=direction, load_if_exists=True)

    env = {**os.environ, "PYTHONHASHSEED": "0"}
    root = str(Path(__file__).resolve().parent.parent)  # so that `-m course_lib.tuning` imports this copy
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    procs = []
    for i, share in enumerate(_shares(n_trials, n_workers)):
        cmd = [sys.executable, "-m", "course_lib.tuning", "worker", "--objective", objective,
               "--storage", storage, "--study-name", study_name, "--n-trials", str(share),
               "--sampler", sampler, "--pruner", pruner or "none", "--seed", str(seed + i),
               "--worker-id", str(i), "--direction", direction]
        if grid is not None:
            cmd += ["--grid", json.dumps({k: list(v) for k, v in grid.items()})]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    failures = []
    for i, proc in enumerate(procs):
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            for p in procs:
                p.kill()
            raise RuntimeError(f"worker {i} did not finish within {timeout} s; all workers were stopped") from None
        if proc.returncode != 0:
            failures.append(f"worker {i} exited with {proc.returncode}:\n{err[-2000:]}")
    if failures:
        raise RuntimeError("\n".join(failures))
    return optuna.load_study(study_name=study_name, storage=make_storage(storage))


def _worker(args: argparse.Namespace) -> int:
    """One worker process: continue the shared study for ``args.n_trials`` trials."""
    # One intra-op thread per worker: n workers with torch's default thread pool each would
    # fight over the same cores (on a 2-core machine that made small models 10x slower).
    torch.set_num_threads(args.threads)
    objective = load_objective(args.objective)
    grid = json.loads(args.grid) if args.grid else None

    def tagged(trial: optuna.Trial) -> float:
        trial.set_user_attr("worker", args.worker_id)  # which process ran it: the test checks both did
        trial.set_user_attr("pid", os.getpid())
        return objective(trial)

    with _quiet_optuna(False):
        study = optuna.create_study(
            storage=make_storage(args.storage), study_name=args.study_name, load_if_exists=True,
            sampler=make_sampler(args.sampler, args.seed, grid), pruner=make_pruner(args.pruner),
            direction=args.direction,
        )
        study.optimize(tagged, n_trials=args.n_trials)
    return 0


# ----------------------------------------------------------------------------- reading results


def trials_table(study: optuna.Study, sort: bool = False) -> pd.DataFrame:
    """One row per trial, tidy: number, value, state, seconds, epochs, then parameters and attributes.

    Built on ``study.trials_dataframe()``: the columns "params_lr" and "user_attrs_worker"
    become "lr" and "worker", the duration becomes seconds, and "epochs" counts the
    intermediate values a trial reported (for a pruned trial: how far it got). Optuna gives a
    pruned trial the last value it reported; failed trials have NaN.

    Inputs:
    - study: an Optuna study.
    - sort: sort by value (best first, pruned and failed trials last) instead of trial number.

    Returns:
    - a ``pandas.DataFrame`` (empty, with the fixed columns, for a study without trials).
    """
    fixed = ["number", "value", "state", "seconds", "epochs"]
    if not study.trials:
        return pd.DataFrame(columns=fixed)
    df = study.trials_dataframe(attrs=("number", "value", "state", "duration", "params", "user_attrs"))
    df["seconds"] = df["duration"].dt.total_seconds() if "duration" in df else np.nan
    df["epochs"] = [len(t.intermediate_values) for t in study.trials]
    df = df.drop(columns=[c for c in ("duration",) if c in df])
    df = df.rename(columns=lambda c: c.removeprefix("params_").removeprefix("user_attrs_"))
    df["state"] = df["state"].astype(str)
    rest = [c for c in df.columns if c not in fixed]
    df = df[fixed + rest]
    if sort:
        ascending = study.direction == optuna.study.StudyDirection.MINIMIZE
        df = df.sort_values("value", ascending=ascending, na_position="last", kind="stable")
    return df.reset_index(drop=True)


def best_so_far(study: optuna.Study) -> np.ndarray:
    """The best value found after each trial, in trial order (what a search has bought so far).

    Returns:
    - (n_trials,) float array; NaN until the first completed trial; pruned and failed trials
      repeat the previous best.
    """
    sign = 1.0 if study.direction == optuna.study.StudyDirection.MINIMIZE else -1.0
    best, out = math.inf, []
    for t in sorted(study.trials, key=lambda t: t.number):
        if t.state == optuna.trial.TrialState.COMPLETE and t.value is not None:
            best = min(best, sign * t.value)
        out.append(sign * best if math.isfinite(best) else math.nan)
    return np.asarray(out, dtype=float)


def param_importances(study: optuna.Study, seed: int = 0) -> dict[str, float]:
    """How much of the variation of the objective each parameter explains (fANOVA; sums to 1).

    Needs at least two completed trials. Deterministic for a given ``seed``.
    """
    evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
    return dict(optuna.importance.get_param_importances(study, evaluator=evaluator))


def plot_search_history(study: optuna.Study) -> Any:
    """Objective value of every trial and the best so far (``optuna.visualization.matplotlib``).

    Returns:
    - the Matplotlib Axes (Optuna draws on a new figure).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.visualization.matplotlib.plot_optimization_history(study)


def plot_importances(study: optuna.Study, seed: int = 0) -> Any:
    """Bar chart of ``param_importances`` (``optuna.visualization.matplotlib``).

    Returns:
    - the Matplotlib Axes (Optuna draws on a new figure).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=seed)
        return optuna.visualization.matplotlib.plot_param_importances(study, evaluator=evaluator)


# ----------------------------------------------------------------------------- time-ordered CV


def time_series_cv(
    n: int,
    n_splits: int = 5,
    *,
    test_size: int | None = None,
    gap: int = 0,
    max_train_size: int | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Expanding-window cross-validation splits for a series of ``n`` time-ordered samples.

    The last ``n_splits * test_size`` samples are cut into ``n_splits`` consecutive test
    blocks. Split k trains on everything before its test block (minus ``gap`` samples right
    before it), so the model never sees the future of what it is tested on, and each split
    trains on more history than the previous one. Same semantics as scikit-learn's
    ``TimeSeriesSplit(n_splits, max_train_size=..., test_size=..., gap=...)``.

    Inputs:
    - n: number of samples (time steps or windows, in time order).
    - n_splits: number of splits, >= 2.
    - test_size: samples per test block; None: ``n // (n_splits + 1)``.
    - gap: samples dropped between the end of training and the test block (>= 0), e.g.
      ``window + horizon - 1`` when samples are overlapping windows.
    - max_train_size: keep only the most recent this-many training samples (a sliding
      instead of an expanding window); None: no limit.

    Returns:
    - a list of ``n_splits`` pairs ``(train_idx, test_idx)`` of int64 index arrays, in time
      order: ``train_idx`` all precede ``test_idx``.
    """
    for name, value, minimum in (("n", n, 1), ("n_splits", n_splits, 2), ("gap", gap, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
        if value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value}")
    for name, value in (("test_size", test_size), ("max_train_size", max_train_size)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1):
            raise ValueError(f"{name} must be None or an int >= 1, got {value!r}")
    n_folds = n_splits + 1
    if n_folds > n:
        raise ValueError(f"n_splits + 1 = {n_folds} folds cannot exceed the number of samples n = {n}")
    size = test_size if test_size is not None else n // n_folds
    if n - gap - size * n_splits <= 0:
        raise ValueError(f"too many splits: n_splits={n_splits} test blocks of {size} plus gap={gap} "
                         f"leave no training samples out of n={n}")
    indices = np.arange(n)
    splits = []
    for test_start in range(n - n_splits * size, n, size):
        train_end = test_start - gap
        train_start = max(0, train_end - max_train_size) if max_train_size else 0
        splits.append((indices[train_start:train_end], indices[test_start:test_start + size]))
    return splits


# ----------------------------------------------------------------------------- learning-rate range test


@dataclasses.dataclass
class LRRangeResult:
    """What ``lr_range_test`` measured; plot ``smoothed`` against ``lrs`` on a log x axis."""

    lrs: list[float]  # learning rate of each step (geometric from lr_min)
    losses: list[float]  # raw training loss of each step
    smoothed: list[float]  # exponential moving average of the loss (bias-corrected)
    suggestion: float  # lr at the lowest smoothed loss, divided by 10: a starting point
    stopped_early: bool  # True when the loss blew up before lr_max was reached


class _StopRange(Exception):
    """Raised inside fit to end the range test when the loss has blown up."""


class _Steps:
    """Yield exactly ``steps`` batches, cycling through ``loader`` as often as needed."""

    def __init__(self, loader: Iterable, steps: int) -> None:
        self.loader, self.steps = loader, steps

    def __len__(self) -> int:
        return self.steps

    def __iter__(self) -> Iterator[Any]:
        produced = 0
        while produced < self.steps:
            empty = True
            for batch in self.loader:
                empty = False
                yield batch
                produced += 1
                if produced == self.steps:
                    return
            if empty:
                raise ValueError("train_loader yielded no batches")


def lr_range_test(
    model: nn.Module,
    train_loader: Iterable,
    loss_fn: Callable[[Any, Any], torch.Tensor] | None = None,
    *,
    lr_min: float = 1e-5,
    lr_max: float = 1.0,
    steps: int = 100,
    optimizer: str = "adam",
    momentum: float = 0.0,
    step_fn: Callable[[nn.Module, Any], Any] | None = None,
    smoothing: float = 0.9,
    stop_factor: float = 4.0,
) -> LRRangeResult:
    """The learning-rate range test (L. Smith, 2017): train briefly while the lr grows geometrically.

    Step i uses ``lr_min * (lr_max / lr_min) ** (i / (steps - 1))``. While the lr is too small
    the loss barely moves; in the useful range it falls fast; past it the loss rises and
    explodes. The test stops once the smoothed loss exceeds ``stop_factor`` times its lowest
    value (or becomes NaN). The model's weights are restored afterwards: the test only looks.

    Inputs:
    - model, train_loader, loss_fn, step_fn: as for ``fit`` (the loader is cycled if it has
      fewer than ``steps`` batches).
    - lr_min, lr_max: the range, 0 < lr_min < lr_max.
    - steps: optimiser steps, >= 2.
    - optimizer, momentum: as in ``TrainConfig``.
    - smoothing: weight of the moving average in [0, 1) (0: no smoothing).
    - stop_factor: blow-up threshold, > 1.

    Returns:
    - an ``LRRangeResult``; ``suggestion`` is the lr of the lowest smoothed loss / 10, the
      usual rule of thumb (a place to start a search, not a tuned value).
    """
    if not 0 < lr_min < lr_max:
        raise ValueError(f"need 0 < lr_min < lr_max, got lr_min={lr_min!r}, lr_max={lr_max!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise ValueError(f"steps must be an integer >= 2, got {steps!r}")
    if not 0 <= smoothing < 1:
        raise ValueError(f"smoothing must lie in [0, 1), got {smoothing!r}")
    if not stop_factor > 1:
        raise ValueError(f"stop_factor must be > 1, got {stop_factor!r}")
    factor = (lr_max / lr_min) ** (1.0 / (steps - 1))
    lrs = [lr_min * factor**i for i in range(steps)]
    losses: list[float] = []
    smoothed: list[float] = []
    avg, best = 0.0, math.inf

    class Recorder:
        def on_step_end(self, state: Any) -> None:
            nonlocal avg, best
            losses.append(state.loss)
            avg = smoothing * avg + (1 - smoothing) * state.loss
            value = avg / (1 - smoothing ** len(losses))  # bias correction: early averages start at 0
            smoothed.append(value)
            best = min(best, value)
            if not math.isfinite(value) or value > stop_factor * best:
                raise _StopRange

    saved = copy.deepcopy(model.state_dict())  # the test must not change the model it looks at
    config = TrainConfig(
        epochs=1, lr=lr_min, optimizer=optimizer, momentum=momentum, progress=False,
        scheduler=lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, lambda i: factor**i),
        scheduler_interval="step",
    )
    stopped = False
    try:
        fit(model, _Steps(train_loader, steps), None, loss_fn, config, step_fn=step_fn, callbacks=[Recorder()])
    except (_StopRange, DivergenceError):
        stopped = True
    finally:
        model.load_state_dict(saved)
    if not smoothed:
        raise ValueError("the loss was not finite at the first step: check the model and data")
    i_best = int(np.nanargmin(smoothed))
    return LRRangeResult(lrs=lrs[: len(losses)], losses=losses, smoothed=smoothed,
                         suggestion=lrs[i_best] / 10, stopped_early=stopped)


# ----------------------------------------------------------------------------- cross-validation of one configuration


def cross_validate(
    build: Callable[[], tuple[nn.Module, TrainConfig]],
    X: torch.Tensor,
    Y: torch.Tensor,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    loss_fn: Callable[[Any, Any], torch.Tensor],
    *,
    batch_size: int = 32,
    seed: int = 0,
) -> np.ndarray:
    """Train a fresh model on each split's training part and score it on its test part.

    Inputs:
    - build: ``() -> (model, TrainConfig)``, called once per split (after ``set_seed(seed)``,
      so every split starts from the same initial weights). The config must not ask for
      early stopping: there is no validation set inside a split.
    - X: (N, T, D) inputs; Y: (N, ...) targets, samples in time order for time series.
    - splits: ``[(train_idx, test_idx), ...]``, e.g. from ``time_series_cv`` (time-ordered)
      or scikit-learn's ``KFold`` (shuffled: leaks the future, see lesson 5.4).
    - loss_fn: ``loss_fn(outputs, targets) -> scalar``; also the score.
    - batch_size: training batch size (the batches are shuffled with a seeded generator).
    - seed: seed of the model initialisation and of the batch order.

    Returns:
    - (n_splits,) array of test losses, one per split.
    """
    from torch.utils.data import DataLoader, TensorDataset

    if len(X) != len(Y):
        raise ValueError(f"X and Y must have the same number of samples, got {len(X)} and {len(Y)}")
    if not splits:
        raise ValueError("splits is empty: give at least one (train_idx, test_idx) pair")
    scores = []
    for k, (train_idx, test_idx) in enumerate(splits):
        if len(train_idx) == 0 or len(test_idx) == 0:
            raise ValueError(f"split {k} has an empty training or test part")
        set_seed(seed)
        model, config = build()
        if config.patience is not None:
            raise ValueError("cross_validate trains without a validation set: build a config with patience=None")
        train_idx, test_idx = torch.as_tensor(train_idx), torch.as_tensor(test_idx)
        loader = DataLoader(TensorDataset(X[train_idx], Y[train_idx]), batch_size=batch_size, shuffle=True,
                            generator=torch.Generator().manual_seed(seed))
        fit(model, loader, None, loss_fn, dataclasses.replace(config, progress=False))
        scores.append(evaluate(model, [(X[test_idx], Y[test_idx])], loss_fn)["loss"])
    return np.asarray(scores, dtype=float)


# ----------------------------------------------------------------------------- what the tuning lessons measure


def frequency_task(
    n: int, T: int = 24, periods: Sequence[float] = (4.0, 6.0, 9.0, 14.0), noise_std: float = 0.2,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Classify noisy sine waves by their period: a small sequence-classification task.

    Sequence i is ``a_i * sin(2 pi t / periods[y_i] + phase_i) + noise`` with a random
    amplitude a_i ~ U(0.5, 1.5), phase ~ U(0, 2 pi) and Gaussian noise. Reading it backwards
    gives another sine of the same period: time reversal keeps the label.

    Inputs:
    - n: number of sequences (>= 1); T: steps (>= 2); periods: one per class (>= 2 classes);
      noise_std >= 0; seed: private generator seed.

    Returns a tuple of:
    - X: (n, T, 1) float32.
    - y: (n,) int64 class ids in 0..len(periods)-1.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1 or isinstance(T, bool) or not isinstance(T, int) or T < 2:
        raise ValueError(f"need integers n >= 1 and T >= 2, got n={n!r}, T={T!r}")
    if len(periods) < 2 or min(periods) <= 0:
        raise ValueError(f"periods must hold at least two positive periods, got {periods!r}")
    if not noise_std >= 0:
        raise ValueError(f"noise_std must be >= 0, got {noise_std!r}")
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, len(periods), (n,), generator=g)  # (n,)
    period = torch.tensor(periods, dtype=torch.float32)[y]  # (n,)
    phase = 2 * math.pi * torch.rand(n, generator=g)
    amplitude = 0.5 + torch.rand(n, generator=g)
    t = torch.arange(T, dtype=torch.float32)
    x = amplitude[:, None] * torch.sin(2 * math.pi * t[None, :] / period[:, None] + phase[:, None])  # (n, T)
    x = x + noise_std * torch.randn(n, T, generator=g)
    return x[:, :, None], y


def trend_task(n: int, T: int = 24, noise_std: float = 0.3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Does a noisy series go up (label 1) or down (label 0)? Time reversal flips the answer.

    Series i is ``s_i * (t - T/2) + noise`` with a slope of size U(0.5, 1.5) * 2 / T and the
    sign given by the label.

    Inputs:
    - n: number of sequences (>= 1); T: steps (>= 2); noise_std >= 0; seed.

    Returns a tuple of:
    - X: (n, T, 1) float32.
    - y: (n,) int64 labels in {0, 1}.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1 or isinstance(T, bool) or not isinstance(T, int) or T < 2:
        raise ValueError(f"need integers n >= 1 and T >= 2, got n={n!r}, T={T!r}")
    if not noise_std >= 0:
        raise ValueError(f"noise_std must be >= 0, got {noise_std!r}")
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    slope = (0.5 + torch.rand(n, generator=g)) * (2 * y - 1).float() * 2 / T  # (n,)
    t = torch.arange(T, dtype=torch.float32)
    x = slope[:, None] * (t[None, :] - T / 2) + noise_std * torch.randn(n, T, generator=g)  # (n, T)
    return x[:, :, None], y


class LayerNormRNN(nn.Module):
    """A one-layer tanh RNN with layer normalisation of the pre-activation (Ba et al., 2016).

    ``h_t = tanh(LN(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh))``, where LN normalises each
    sample's H pre-activations to mean 0 and variance 1 at every step, then applies a learnt
    gain and bias. The statistics come from one sample at one step, so nothing depends on the
    batch or on the sequence length (batch norm's problems in lesson 5.3). With
    ``layer_norm=False`` this is exactly ``torch.nn.RNN`` (same parameter names and layout).
    A Python loop over time: fine for the lesson's short sequences, slow for long ones.

    Inputs (to forward):
    - x: (N, T, D) batch-first inputs.
    - state: optional h0 of shape (1, N, H); None = zeros.

    Returns:
    - output: (N, T, H), the hidden state at every step.
    - h_T: (1, N, H), the last hidden state.
    """

    def __init__(self, input_size: int, hidden_size: int, layer_norm: bool = True) -> None:
        super().__init__()
        for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        self.input_size, self.hidden_size = input_size, hidden_size
        k = 1.0 / math.sqrt(hidden_size)  # torch.nn.RNN's initialisation: U(-1/sqrt(H), 1/sqrt(H))
        self.weight_ih_l0 = nn.Parameter(torch.empty(hidden_size, input_size).uniform_(-k, k))
        self.weight_hh_l0 = nn.Parameter(torch.empty(hidden_size, hidden_size).uniform_(-k, k))
        self.bias_ih_l0 = nn.Parameter(torch.empty(hidden_size).uniform_(-k, k))
        self.bias_hh_l0 = nn.Parameter(torch.empty(hidden_size).uniform_(-k, k))
        self.norm = nn.LayerNorm(hidden_size) if layer_norm else nn.Identity()

    def forward(self, x: torch.Tensor, state: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"x must be a tensor of shape (N, T, D={self.input_size}), got {getattr(x, 'shape', x)}")
        N, T, _ = x.shape
        h = x.new_zeros(N, self.hidden_size) if state is None else state[0]  # (N, H)
        xs = x @ self.weight_ih_l0.T + self.bias_ih_l0  # (N, T, H): the input part of every step at once
        outputs = []
        for t in range(T):
            a = xs[:, t] + h @ self.weight_hh_l0.T + self.bias_hh_l0  # (N, H) pre-activation
            h = torch.tanh(self.norm(a))
            outputs.append(h)
        return torch.stack(outputs, dim=1), h[None]  # (N, T, H), (1, N, H)


def l1_penalty(model: nn.Module) -> torch.Tensor:
    """Sum of the absolute values of every weight matrix (biases and norms' gains excluded).

    Add ``lam * l1_penalty(model)`` to the training loss (in a ``step_fn``) for L1
    regularisation: unlike weight decay (L2), it pushes many weights to exactly zero.

    Returns:
    - a scalar tensor (differentiable).
    """
    weights = [p for name, p in model.named_parameters() if "weight" in name and p.dim() >= 2]
    if not weights:
        raise ValueError("the model has no weight matrices to penalise")
    return sum(w.abs().sum() for w in weights)


# ----------------------------------------------------------------------------- demo objectives


def quadratic_objective(trial: optuna.Trial) -> float:
    """A toy objective with its minimum 0 at x = 2, y = -1 (for tests and the CLI's --help)."""
    x = trial.suggest_float("x", -5.0, 5.0)
    y = trial.suggest_float("y", -5.0, 5.0)
    return (x - 2.0) ** 2 + 0.1 * (y + 1.0) ** 2


@functools.cache
def _sine_data() -> tuple[list, list]:
    """Windows of a noisy sine wave, split in time order: small, so a trial takes about a second."""
    from course_lib.data import noisy_sine, sliding_windows

    series = noisy_sine(400, period=25, noise_std=0.1, seed=0)
    X, Y = sliding_windows(series, window=20)  # (N, 20, 1), (N, 1, 1)
    Y = Y[:, :, 0]  # (N, 1)
    n_train = int(0.8 * len(X))
    train = [(X[i:i + 32], Y[i:i + 32]) for i in range(0, n_train, 32)]
    val = [(X[n_train:], Y[n_train:])]
    return train, val


def sine_objective(trial: optuna.Trial) -> float:
    """A real objective: a small GRU forecasting a noisy sine one step ahead (validation MSE).

    Searches the learning rate and the hidden size; 5 epochs per trial, reported to the
    pruner. Used by ``python -m course_lib.tuning run`` examples and the tests.
    """
    from course_lib.models import SequenceRegressor

    space = {"lr": FloatDistribution(1e-3, 1e-1, log=True), "hidden_size": CategoricalDistribution([4, 8, 16])}

    def build(p: dict[str, Any]) -> tuple[nn.Module, TrainConfig]:
        model = SequenceRegressor(input_size=1, hidden_size=p["hidden_size"], kind="gru")
        return model, TrainConfig(epochs=5, lr=p["lr"])

    return make_objective(space, build, _sine_data(), torch.nn.functional.mse_loss)(trial)


# ----------------------------------------------------------------------------- command line


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m course_lib.tuning {run,worker,show} ...``; see the module docstring."""
    parser = argparse.ArgumentParser(prog="python -m course_lib.tuning",
                                     description="Run an Optuna study of the course, optionally with several worker processes.")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--storage", required=True, help="database URL, e.g. sqlite:///study.db")
        p.add_argument("--study-name", required=True)

    for name, help_text in (("run", "start N worker processes on one study and wait for them"),
                            ("worker", "one worker process (what `run` starts)")):
        p = sub.add_parser(name, help=help_text)
        common(p)
        p.add_argument("--objective", required=True, help="module:function or file.py:function")
        p.add_argument("--n-trials", type=int, required=True,
                       help="total new trials (run) or this worker's trials (worker)")
        p.add_argument("--sampler", default="tpe", choices=SAMPLERS)
        p.add_argument("--pruner", default="none", choices=PRUNERS)
        p.add_argument("--seed", type=int, default=0)
        p.add_argument("--grid", default=None, help='JSON {"name": [values]} for --sampler grid')
        p.add_argument("--direction", default="minimize", choices=("minimize", "maximize"))
        if name == "run":
            p.add_argument("--workers", type=int, default=2)
        else:
            p.add_argument("--worker-id", type=int, default=0)
            p.add_argument("--threads", type=int, default=1, help="torch intra-op threads of this worker")
    show = sub.add_parser("show", help="print the trials table of a stored study")
    common(show)
    args = parser.parse_args(argv)

    if args.command == "worker":
        return _worker(args)
    if args.command == "run":
        study = run_workers(args.objective, args.storage, args.study_name, args.n_trials, args.workers,
                            sampler=args.sampler, pruner=None if args.pruner == "none" else args.pruner,
                            seed=args.seed, grid=json.loads(args.grid) if args.grid else None,
                            direction=args.direction)
    else:
        study = optuna.load_study(study_name=args.study_name, storage=make_storage(args.storage))
    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(trials_table(study).to_string(index=False))
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if done:
        print(f"best value {study.best_value:.6g} with {study.best_params}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
