"""Forecast baselines, rolling-origin evaluation and the score table, against hand-computed values."""

import numpy as np
import pytest
import torch

from course_lib.data import Standardizer
from course_lib.forecast import (
    ArimaForecaster,
    RollingResult,
    WindowForecaster,
    naive_forecast,
    rolling_origin,
    score_table,
    seasonal_naive_forecast,
)
from course_lib.metrics import mase

SERIES = np.array([3.0, 5.0, 4.0, 6.0, 8.0, 7.0, 9.0, 11.0])


def test_naive_repeats_the_last_value():
    np.testing.assert_array_equal(naive_forecast([1.0, 2.0, 7.5], 3), [7.5, 7.5, 7.5])
    np.testing.assert_array_equal(naive_forecast(torch.tensor([4.0]), 1), [4.0])


def test_seasonal_naive_by_hand():
    history = [10.0, 20.0, 30.0, 1.0, 2.0, 3.0, 4.0]  # season 3: last season is (2, 3, 4)
    np.testing.assert_array_equal(seasonal_naive_forecast(history, 7, 3), [2, 3, 4, 2, 3, 4, 2])
    np.testing.assert_array_equal(seasonal_naive_forecast(history, 2, 1), naive_forecast(history, 2))
    np.testing.assert_array_equal(seasonal_naive_forecast(history, 1, 7), [10.0])


def test_rolling_origin_by_hand():
    res = rolling_origin(SERIES, naive_forecast, first_origin=5, horizon=2)
    # origins 5, 6 (T=8, h=2 -> last origin 6); origin t knows SERIES[:t]
    np.testing.assert_array_equal(res.origins, [5, 6])
    np.testing.assert_array_equal(res.forecasts, [[8.0, 8.0], [7.0, 7.0]])
    np.testing.assert_array_equal(res.truth, [[7.0, 9.0], [9.0, 11.0]])
    stepped = rolling_origin(SERIES, naive_forecast, first_origin=2, horizon=1, step=3)
    np.testing.assert_array_equal(stepped.origins, [2, 5])
    np.testing.assert_array_equal(stepped.truth[:, 0], [4.0, 7.0])


def test_rolling_origin_never_shows_the_future():
    seen = []

    def spy(history, horizon):
        seen.append(len(history))
        history[:] = -1.0  # a forecaster that scribbles on its input must not change the series
        return np.zeros(horizon)

    series = SERIES.copy()
    res = rolling_origin(series, spy, first_origin=3, horizon=3)
    assert seen == list(res.origins) == [3, 4, 5]
    np.testing.assert_array_equal(series, SERIES)
    np.testing.assert_array_equal(res.truth[0], SERIES[3:6])


def test_rolling_origin_errors():
    with pytest.raises(ValueError, match="no origin fits"):
        rolling_origin(SERIES, naive_forecast, first_origin=7, horizon=2)
    with pytest.raises(ValueError, match="horizon"):
        rolling_origin(SERIES, naive_forecast, first_origin=2, horizon=0)
    with pytest.raises(ValueError, match="returned shape"):
        rolling_origin(SERIES, lambda h, k: np.zeros(k + 1), first_origin=2, horizon=2)
    with pytest.raises(ValueError, match="NaN"):
        rolling_origin([1.0, np.nan, 2.0, 3.0], naive_forecast, first_origin=1, horizon=1)
    with pytest.raises(ValueError, match="season"):
        seasonal_naive_forecast([1.0, 2.0], 3, 5)
    with pytest.raises(TypeError, match="callable"):
        rolling_origin(SERIES, "naive", first_origin=2, horizon=1)


def test_mase_by_hand_and_score_table():
    y_train = np.array([1.0, 3.0, 2.0, 4.0])  # naive in-sample errors 2, 1, 2: scale 5/3
    truth = np.array([[5.0, 6.0], [6.0, 8.0]])
    fc = np.array([[4.0, 4.0], [6.0, 6.0]])  # absolute errors 1, 2, 0, 2
    r = RollingResult(np.array([4, 5]), fc, truth)
    table = score_table({"m": r, "perfect": RollingResult(r.origins, truth, truth)}, y_train, steps=(1, 2))
    assert table.loc["m", "MAE h=1"] == pytest.approx(0.5)
    assert table.loc["m", "MAE h=2"] == pytest.approx(2.0)
    assert table.loc["m", "MAE all"] == pytest.approx(1.25)
    assert table.loc["m", "RMSE all"] == pytest.approx(np.sqrt((1 + 4 + 0 + 4) / 4))
    assert table.loc["m", "MASE all"] == pytest.approx(1.25 / (5 / 3))
    assert table.loc["m", "MASE all"] == pytest.approx(mase(truth, fc, y_train))
    assert table.loc["perfect"].abs().max() == 0.0
    # seasonal scale: m = 2 -> in-sample |2-1|, |4-3| -> scale 1
    assert score_table({"m": r}, y_train, season=2).loc["m", "MASE all"] == pytest.approx(1.25)
    with pytest.raises(ValueError, match="steps"):
        score_table({"m": r}, y_train, steps=(3,))
    with pytest.raises(ValueError, match="other origins"):
        score_table({"m": r, "x": RollingResult(np.array([1, 2]), fc, truth)}, y_train)


def test_arima_recovers_an_ar1_and_rolls_without_refitting():
    rng = np.random.default_rng(0)
    y = np.zeros(400)
    for t in range(1, 400):
        y[t] = 0.8 * y[t - 1] + rng.normal()
    model = ArimaForecaster((1, 0, 0), trend="n").fit(y[:300])
    phi = float(model.result_.params[0])
    assert phi == pytest.approx(0.8, abs=0.08)
    f = model(y[:350], 3)  # AR(1) forecast: phi^h * y_T, with the fitted phi
    np.testing.assert_allclose(f, phi ** np.arange(1, 4) * y[349], rtol=1e-6)
    with pytest.raises(RuntimeError, match="fit"):
        ArimaForecaster((1, 0, 0))(y, 2)


def test_window_forecaster_undoes_scaling():
    class LastValue(torch.nn.Module):  # a "model" that repeats the last scaled input h=2 times
        def __init__(self):
            super().__init__()
            self.dummy = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return x[:, -1, :].repeat(1, 2)  # (1, 2)

    scaler = Standardizer().fit(SERIES)
    f = WindowForecaster(LastValue(), window=3, scaler=scaler)
    np.testing.assert_allclose(f(SERIES[:5], 2), [8.0, 8.0], rtol=1e-6)
    with pytest.raises(ValueError, match="window"):
        f(SERIES[:2], 1)
    with pytest.raises(ValueError, match="fewer than horizon"):
        f(SERIES, 3)
