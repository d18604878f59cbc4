"""Forecasting against honest baselines: naive forecasts, ARIMA, rolling-origin evaluation.

A forecaster here is any callable ``forecaster(history, horizon) -> (horizon,)`` that sees only
the past. ``rolling_origin`` moves the forecast origin through the evaluation period one step
(or ``step`` steps) at a time: at origin t the forecaster gets ``series[:t]`` and is scored on
``series[t : t + horizon]``. Every method, the RNN included, is judged on the same origins and
the same targets, and nothing after the origin is ever shown to it.

Baselines (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, ch. 5):

- naive: every future value equals the last observed one, ``y^_{T+h} = y_T``;
- seasonal naive: the value one season earlier, ``y^_{T+h} = y_{T+h-m(k+1)}`` with
  ``k = floor((h-1)/m)``;
- ARIMA / SARIMA from ``statsmodels``, fitted once on the training part and then run forward
  over each new history with the same parameters (``ArimaForecaster``), which is exactly what
  the neural forecasters get too: trained once, then fed the latest history.

``score_table`` turns rolling-origin results into a table of MAE, RMSE and MASE
(``course_lib.metrics``), per horizon step and averaged over the horizon.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

from course_lib.metrics import mae, mase, rmse

__all__ = [
    "ArimaForecaster",
    "RollingResult",
    "WindowForecaster",
    "naive_forecast",
    "rolling_origin",
    "score_table",
    "seasonal_naive_forecast",
]

Forecaster = Callable[[np.ndarray, int], Any]


def _history(history: Any, name: str = "history") -> np.ndarray:
    """A 1-D float64 array without NaN."""
    if isinstance(history, torch.Tensor):
        history = history.detach().cpu().numpy()
    arr = np.asarray(history, dtype=np.float64)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D series (T,), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or inf: fill missing values first")
    return arr


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


# ----------------------------------------------------------------------------- baselines


def naive_forecast(history: Any, horizon: int) -> np.ndarray:
    """Repeat the last observed value.

    Inputs:
    - history: (T,) the past, T >= 1.
    - horizon: h >= 1.

    Returns:
    - (h,) float64, every entry ``history[-1]``.
    """
    y = _history(history)
    return np.full(_positive_int("horizon", horizon), y[-1])


def seasonal_naive_forecast(history: Any, horizon: int, season: int) -> np.ndarray:
    """Repeat the last observed season: step h gets the value m, 2m, ... steps before it.

    Inputs:
    - history: (T,) the past, T >= season.
    - horizon: h >= 1.
    - season: m >= 1 (m = 1 is the naive forecast).

    Returns:
    - (h,) float64 with ``out[j] = history[T - m + (j mod m)]`` for j = 0..h-1.
    """
    y = _history(history)
    h = _positive_int("horizon", horizon)
    m = _positive_int("season", season)
    if y.size < m:
        raise ValueError(f"history has {y.size} steps, fewer than one season (season={m})")
    last_season = y[-m:]  # (m,)
    return last_season[np.arange(h) % m]


# ----------------------------------------------------------------------------- rolling origin


class RollingResult(NamedTuple):
    """Forecasts of one method from every origin of a rolling-origin evaluation."""

    origins: np.ndarray  # (n,) int: forecast k was made knowing series[:origins[k]]
    forecasts: np.ndarray  # (n, h) float64
    truth: np.ndarray  # (n, h) float64: series[origins[k] : origins[k] + h]


def rolling_origin(series: Any, forecaster: Forecaster, first_origin: int, horizon: int, step: int = 1,
                   last_origin: int | None = None) -> RollingResult:
    """Evaluate a forecaster from many origins, always on the past only.

    Origins are ``first_origin, first_origin + step, ...`` up to ``last_origin`` (default: the
    last origin whose whole horizon lies inside the series, ``T - horizon``).

    Inputs:
    - series: (T,) the whole series (training part and evaluation period).
    - forecaster: ``forecaster(history (t,), horizon) -> (horizon,)``; it receives a copy of
      ``series[:t]``, so it can neither see nor change the future.
    - first_origin: the first t (>= 1): the first forecast knows ``series[:first_origin]``.
    - horizon: h >= 1 steps per forecast.
    - step: distance between consecutive origins (>= 1).
    - last_origin: the last origin allowed (<= T - h).

    Returns:
    - ``RollingResult(origins (n,), forecasts (n, h), truth (n, h))``.
    """
    y = _history(series, "series")
    h = _positive_int("horizon", horizon)
    step = _positive_int("step", step)
    first = _positive_int("first_origin", first_origin)
    last = y.size - h if last_origin is None else int(last_origin)
    if last > y.size - h:
        raise ValueError(f"last_origin={last} leaves fewer than horizon={h} steps (T={y.size})")
    if first > last:
        raise ValueError(f"no origin fits: first_origin={first}, last possible origin {last} "
                         f"(T={y.size}, horizon={h})")
    if not callable(forecaster):
        raise TypeError(f"forecaster must be callable (history, horizon) -> forecast, got {type(forecaster).__name__}")
    origins = np.arange(first, last + 1, step)
    forecasts = np.empty((origins.size, h))
    for i, t in enumerate(origins):
        f = forecaster(y[:t].copy(), h)
        f = f.detach().cpu().numpy() if isinstance(f, torch.Tensor) else np.asarray(f, dtype=np.float64)
        if f.shape != (h,):
            raise ValueError(f"the forecaster returned shape {f.shape} at origin {t}; expected ({h},)")
        forecasts[i] = f
    truth = np.stack([y[t : t + h] for t in origins])  # (n, h)
    return RollingResult(origins, forecasts, truth)


def score_table(results: Mapping[str, RollingResult], y_train: Any, season: int = 1,
                steps: Sequence[int] = (1,)) -> Any:
    """MAE, RMSE and MASE of several methods, at chosen horizon steps and over the horizon.

    Inputs:
    - results: method name -> ``RollingResult`` (all on the same origins and horizon).
    - y_train: (T_train,) the training series, for the MASE scale (in-sample MAE of the
      seasonal naive forecast with period ``season``).
    - season: m for the MASE scale (1 = the plain naive forecast).
    - steps: horizon steps to report separately (1-based; 1 = one step ahead).

    Returns:
    - a pandas DataFrame, one row per method, columns ``"MAE h=1"``, ``"RMSE h=1"``,
      ``"MASE h=1"``, ... and ``"MAE all"``, ``"RMSE all"``, ``"MASE all"`` (every step
      1..h of every origin pooled).
    """
    import pandas as pd

    if not results:
        raise ValueError("results is empty")
    first = next(iter(results.values()))
    h = first.truth.shape[1]
    for name, r in results.items():
        if r.truth.shape != first.truth.shape or not np.array_equal(r.origins, first.origins):
            raise ValueError(f"results[{name!r}] was evaluated on other origins or another horizon")
    for s in steps:
        if not 1 <= s <= h:
            raise ValueError(f"steps must lie in 1..{h} (the horizon), got {s}")
    y_train = _history(y_train, "y_train")
    rows = {}
    for name, r in results.items():
        row = {}
        for s in [*steps, "all"]:
            t, p = (r.truth, r.forecasts) if s == "all" else (r.truth[:, s - 1], r.forecasts[:, s - 1])
            row[f"MAE h={s}" if s != "all" else "MAE all"] = mae(t, p)
            row[f"RMSE h={s}" if s != "all" else "RMSE all"] = rmse(t, p)
            row[f"MASE h={s}" if s != "all" else "MASE all"] = mase(t, p, y_train, season)
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")


# ----------------------------------------------------------------------------- fitted forecasters


class ArimaForecaster:
    """ARIMA / SARIMA fitted once on the training series, then run forward on each history.

    ``fit`` estimates the parameters by maximum likelihood (``statsmodels``' ``ARIMA``). A call
    ``forecaster(history, h)`` re-runs the Kalman filter over ``history`` with those fixed
    parameters (``results.apply``) and forecasts h steps: the model never refits on data
    after the training period.

    Inputs (constructor):
    - order: (p, d, q).
    - seasonal_order: (P, D, Q, m), default none.
    - trend: statsmodels trend ("n", "c", "t", "ct"); None lets statsmodels choose.
    """

    def __init__(self, order: tuple[int, int, int], seasonal_order: tuple[int, int, int, int] = (0, 0, 0, 0),
                 trend: str | None = None) -> None:
        self.order, self.seasonal_order, self.trend = tuple(order), tuple(seasonal_order), trend
        self.result_: Any = None

    def fit(self, y_train: Any) -> ArimaForecaster:
        """Estimate the parameters on (T_train,) data; returns self."""
        from statsmodels.tsa.arima.model import ARIMA

        y = _history(y_train, "y_train")
        with warnings.catch_warnings():  # convergence chatter; the lesson checks the fit itself
            warnings.simplefilter("ignore")
            self.result_ = ARIMA(y, order=self.order, seasonal_order=self.seasonal_order,
                                 trend=self.trend).fit()
        return self

    @property
    def aic(self) -> float:
        """Akaike information criterion of the fit (lower is better)."""
        if self.result_ is None:
            raise RuntimeError("fit the ArimaForecaster first")
        return float(self.result_.aic)

    def __call__(self, history: Any, horizon: int) -> np.ndarray:
        """Forecast ``horizon`` steps after ``history`` (T,); returns (horizon,)."""
        if self.result_ is None:
            raise RuntimeError("this ArimaForecaster is not fitted yet: call fit(y_train) first")
        y = _history(history)
        h = _positive_int("horizon", horizon)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(self.result_.apply(y).forecast(h), dtype=np.float64)

    def __repr__(self) -> str:
        return f"ArimaForecaster(order={self.order}, seasonal_order={self.seasonal_order})"


class WindowForecaster:
    """Wrap a trained window model as a forecaster for ``rolling_origin``.

    The model reads the last ``window`` values (scaled with the training statistics) and
    returns the next ``horizon`` values at once (direct multi-step), e.g. a
    ``SequenceRegressor(input_size=1, horizon=h)``.

    Inputs (constructor):
    - model: ``model(x (1, window, 1)) -> (1, h)`` in scaled units.
    - window: how many past values it reads.
    - scaler: a fitted ``course_lib.data.Standardizer`` (or anything with ``transform`` and
      ``inverse_transform`` on arrays); None = raw values.
    """

    def __init__(self, model: torch.nn.Module, window: int, scaler: Any = None) -> None:
        self.model, self.window, self.scaler = model, _positive_int("window", window), scaler

    @torch.no_grad()
    def __call__(self, history: Any, horizon: int) -> np.ndarray:
        """Forecast ``horizon`` steps after ``history`` (T >= window,); returns (horizon,)."""
        y = _history(history)
        if y.size < self.window:
            raise ValueError(f"history has {y.size} steps, fewer than window={self.window}")
        x = y[-self.window :]
        if self.scaler is not None:
            x = self.scaler.transform(x)
        device = next(self.model.parameters()).device
        was_training = self.model.training
        self.model.eval()
        try:
            out = self.model(torch.tensor(x, dtype=torch.float32, device=device).view(1, -1, 1))
        finally:
            self.model.train(was_training)
        pred = out.reshape(-1).double().cpu().numpy()  # (h_model,)
        if pred.size < horizon:
            raise ValueError(f"the model predicts {pred.size} steps, fewer than horizon={horizon}")
        pred = pred[:horizon]
        return np.asarray(self.scaler.inverse_transform(pred) if self.scaler is not None else pred, dtype=np.float64)
