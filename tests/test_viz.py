"""course_lib.viz: every plot renders on the Agg canvas with the expected content."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402

from course_lib import viz  # noqa: E402
from course_lib.train import History  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def render(ax: Axes) -> None:
    """Draw the figure for real, so errors hidden until drawing time surface here."""
    ax.figure.canvas.draw()


def tick_texts(labels) -> list[str]:
    return [t.get_text() for t in labels]


def make_history() -> History:
    return History(
        train_loss=[1.0, 0.6, 0.4, 0.3],
        val_loss=[1.1, 0.7, 0.65, 0.8],
        grad_norm=[5.0, 3.0, 2.0, 1.5, 1.0, 0.9, 0.8, 0.7],
        best_epoch=2,
    )


def test_plot_history_lines_labels_and_best_epoch():
    ax = viz.plot_history(make_history())
    render(ax)
    assert isinstance(ax, Axes)
    assert len(ax.lines) == 3  # train, validation, best-epoch marker
    train, val, best = ax.lines
    np.testing.assert_array_equal(train.get_xdata(), [1, 2, 3, 4])
    np.testing.assert_allclose(val.get_ydata(), [1.1, 0.7, 0.65, 0.8])
    assert list(best.get_xdata()) == [3, 3]  # best_epoch 2 (0-based) is epoch 3 on the axis
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss" and ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["train", "validation", "best (epoch 3)"]


def test_plot_history_accepts_a_dict_and_an_existing_axes():
    _, ax = plt.subplots()
    out = viz.plot_history({"train_loss": [3.0, 2.0]}, ax=ax, log=True)
    render(out)
    assert out is ax
    assert len(ax.lines) == 1 and ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="train_loss"):
        viz.plot_history({"train_loss": []})
    with pytest.raises(TypeError, match="history"):
        viz.plot_history([1.0, 2.0])


def test_plot_grad_norms_from_history_and_array():
    ax = viz.plot_grad_norms(make_history(), clip=1.0)
    render(ax)
    assert len(ax.lines) == 2  # norms and the clip threshold
    np.testing.assert_allclose(ax.lines[0].get_ydata(), make_history().grad_norm)
    assert list(ax.lines[1].get_ydata()) == [1.0, 1.0]
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "step" and ax.get_ylabel() == "gradient norm"
    ax2 = viz.plot_grad_norms(torch.tensor([1.0, 2.0, 3.0]), log=False)
    assert len(ax2.lines) == 1 and ax2.get_yscale() == "linear"
    with pytest.raises(ValueError, match=r"1-D"):
        viz.plot_grad_norms(np.ones((2, 3)))
    with pytest.raises(ValueError, match="clip"):
        viz.plot_grad_norms([1.0], clip=-1)


def test_plot_gradient_vs_lag_one_line_per_label():
    lags = np.arange(1, 11)
    ax = viz.plot_gradient_vs_lag(lags, {"RNN": 0.5**lags, "LSTM": 0.95**lags})
    render(ax)
    assert len(ax.lines) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["RNN", "LSTM"]
    assert ax.get_yscale() == "log" and "lag" in ax.get_xlabel()
    with pytest.raises(ValueError, match=r"norms_by_label\['RNN'\] has shape \(3,\)"):
        viz.plot_gradient_vs_lag(lags, {"RNN": np.ones(3)})
    with pytest.raises(ValueError, match="non-empty"):
        viz.plot_gradient_vs_lag(lags, {})


def test_plot_gate_heatmaps_one_panel_per_gate_with_tokens():
    T, H = 5, 4
    rng = np.random.default_rng(0)
    gates = {
        "input": rng.uniform(size=(T, H)),
        "forget": torch.rand(1, T, H),  # (1, T, H) is accepted
        "cell": rng.normal(size=(T, H)),  # not a sigmoid: symmetric colour scale
    }
    tokens = list("ab c\n")
    axes = viz.plot_gate_heatmaps(gates, tokens=tokens)
    render(axes[0])
    assert len(axes) == 3
    for a, name in zip(axes, ["input", "forget", "cell"], strict=True):
        assert len(a.images) == 1
        assert a.images[0].get_array().shape == (H, T)  # units x time
        assert a.get_title() == name
        assert a.get_ylabel() == "hidden unit"
        assert tick_texts(a.get_xticklabels()) == ["a", "b", "\u2423", "c", "\\n"]
    np.testing.assert_allclose(axes[0].images[0].get_array(), gates["input"].T)
    assert axes[0].images[0].get_clim() == (0.0, 1.0)
    lo, hi = axes[2].images[0].get_clim()
    assert lo == -hi and hi == pytest.approx(np.abs(gates["cell"]).max())
    one = viz.plot_gate_heatmaps({"update": np.full((T, H), 0.5)}, units=slice(0, 2))
    assert one[0].images[0].get_array().shape == (2, T)


def test_plot_gate_heatmaps_errors():
    with pytest.raises(ValueError, match=r"tokens has 2 entries but the time axis of the gates has 5"):
        viz.plot_gate_heatmaps({"i": np.zeros((5, 3))}, tokens=["a", "b"])
    with pytest.raises(ValueError, match="same shape"):
        viz.plot_gate_heatmaps({"i": np.zeros((5, 3)), "f": np.zeros((4, 3))})
    with pytest.raises(ValueError, match=r"gates\['i'\] must have shape \(T, H\)"):
        viz.plot_gate_heatmaps({"i": np.zeros((2, 5, 3))})
    with pytest.raises(ValueError, match="one Axes per gate"):
        _, ax = plt.subplots(1, 1)
        viz.plot_gate_heatmaps({"i": np.zeros((5, 3)), "f": np.zeros((5, 3))}, ax=[ax])


def test_plot_hidden_states():
    h = torch.randn(6, 3)
    ax = viz.plot_hidden_states(h, tokens=["x"] * 6)
    render(ax)
    assert len(ax.images) == 1 and ax.images[0].get_array().shape == (3, 6)
    assert tick_texts(ax.get_xticklabels()) == ["x"] * 6
    with pytest.raises(ValueError, match=r"h must have shape \(T, H\)"):
        viz.plot_hidden_states(np.zeros(6))
    with pytest.raises(ValueError, match="tokens"):
        viz.plot_hidden_states(h, tokens=["x"])


def test_plot_forecast():
    past, truth = np.sin(np.arange(20)), np.sin(np.arange(20, 25))
    forecasts = {"naive": np.full(5, past[-1]), "LSTM": truth + 0.1}
    ax = viz.plot_forecast(past, truth, forecasts)
    render(ax)
    assert len(ax.lines) == 2 + 2 + 1  # history, truth, two forecasts, start marker
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["history", "truth", "naive", "LSTM"]
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), np.arange(20, 25))
    years = np.arange(1900, 1925)
    ax2 = viz.plot_forecast(past, truth, {}, time=years)
    np.testing.assert_array_equal(ax2.lines[0].get_xdata(), years[:20])
    with pytest.raises(ValueError, match=r"forecasts\['naive'\] has shape \(4,\), expected \(5,\)"):
        viz.plot_forecast(past, truth, {"naive": np.zeros(4)})
    with pytest.raises(ValueError, match="time must have"):
        viz.plot_forecast(past, truth, {}, time=years[:10])


def test_plot_attention():
    w = torch.softmax(torch.randn(3, 4), dim=-1)
    ax = viz.plot_attention(w, src_tokens=["one", "two", "<eos>", " "], tgt_tokens=["1", "2", "<eos>"])
    render(ax)
    assert len(ax.images) == 1 and ax.images[0].get_array().shape == (3, 4)
    assert tick_texts(ax.get_xticklabels()) == ["one", "two", "<eos>", "\u2423"]
    assert tick_texts(ax.get_yticklabels()) == ["1", "2", "<eos>"]
    assert ax.get_xlabel() == "source" and ax.get_ylabel() == "output"
    with pytest.raises(ValueError, match=r"src_tokens has 3 entries but the input axis \(T_in\)"):
        viz.plot_attention(w, src_tokens=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"\(T_out, T_in\)"):
        viz.plot_attention(np.zeros(4))


def test_plot_series_shapes_and_dicts():
    ax = viz.plot_series(np.zeros((10, 3)), labels=["a", "b", "c"], title="three")
    render(ax)
    assert len(ax.lines) == 3 and ax.get_title() == "three"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]
    ax2 = viz.plot_series({"CO2": np.arange(5.0), "sunspots": torch.ones(5)}, time=np.arange(2000, 2005))
    assert len(ax2.lines) == 2
    np.testing.assert_array_equal(ax2.lines[0].get_xdata(), np.arange(2000, 2005))
    assert ax2.get_xlabel() == "time step" and ax2.get_ylabel() == "value"
    ax3 = viz.plot_series([1.0, 2.0, 3.0])
    assert len(ax3.lines) == 1 and ax3.get_legend() is None
    with pytest.raises(ValueError, match="labels has 2 names for 3 series"):
        viz.plot_series(np.zeros((10, 3)), labels=["a", "b"])
    with pytest.raises(ValueError, match=r"\(T,\) or \(T, K\)"):
        viz.plot_series(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="time has 3 values"):
        viz.plot_series(np.zeros(4), time=[1, 2, 3])


def test_gate_heatmaps_from_the_scratch_lstm():
    from course_lib.models import LSTM

    torch.manual_seed(0)
    lstm = LSTM(3, 4, num_layers=2, batch_first=True)
    _, _, gates = lstm(torch.randn(2, 7, 3), return_gates=True)  # each (L, N, T, H)
    panels = {name: g[0, 1] for name, g in gates.items()}  # layer 0, sequence 1: (T, H)
    axes = viz.plot_gate_heatmaps(panels, tokens=list("abcdefg"))
    render(axes[0])
    assert [a.get_title() for a in axes] == [
        "input gate i", "forget gate f", "candidate g", "output gate o", "cell state c", "hidden state h"
    ]
    assert all(a.images[0].get_array().shape == (4, 7) for a in axes)
    assert axes[0].images[0].get_clim() == (0.0, 1.0)  # sigmoid gate
    assert axes[2].images[0].get_clim()[0] < 0  # g is a tanh candidate
    np.testing.assert_allclose(axes[5].images[0].get_array(), gates["h"][0, 1].numpy().T, rtol=1e-6)
