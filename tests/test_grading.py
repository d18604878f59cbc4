"""The checks exercise tests call: they pass on right answers, fail on wrong ones, and say why."""

import numpy as np
import pytest
import torch

from course_lib import grading as G


def test_check_close_passes_and_explains_failures():
    G.check_close("h", torch.ones(2, 3), np.ones((2, 3)))
    with pytest.raises(AssertionError, match=r"largest difference is 0.5 \(at index \(1, 2\)"):
        G.check_close("h", np.ones((2, 3)), np.array([[1, 1, 1], [1, 1, 1.5]]))
    with pytest.raises(AssertionError, match=r"h has shape \(3, 2\), but it should have shape \(2, 3\)"):
        G.check_close("h", np.ones((3, 2)), np.ones((2, 3)))
    with pytest.raises(AssertionError, match="NaN or inf"):
        G.check_close("h", np.array([1.0, np.nan]), np.ones(2))
    with pytest.raises(AssertionError, match="forget to return"):
        G.check_close("h", None, np.ones(2))


def test_check_shape_and_type_and_equal():
    G.check_shape("x", np.zeros((2, 5, 3)), (2, 5, 3))
    with pytest.raises(AssertionError, match=r"\(N, T, D\) = \(2, 5, 4\)"):
        G.check_shape("x", np.zeros((2, 5, 3)), (2, 5, 4), letters="N, T, D")
    G.check_type("n", 3, int)
    with pytest.raises(AssertionError, match="should be a int"):
        G.check_type("n", 3.0, int)
    G.check_equal("ids", [1, 2], [1, 2])
    with pytest.raises(AssertionError, match="index \\(1,\\)"):
        G.check_equal("ids", np.array([1, 2]), np.array([1, 3]))


def test_rel_error_and_check_rel_error():
    assert G.rel_error(np.ones(3), np.ones(3)) == 0.0
    assert G.rel_error(np.array([1.0]), np.array([3.0])) == pytest.approx(0.5)
    G.check_rel_error("dx", np.ones(3) * (1 + 1e-9), np.ones(3))
    with pytest.raises(AssertionError, match="relative error"):
        G.check_rel_error("dx", np.array([1.0, np.nan]), np.ones(2))


def test_check_raises():
    msg = G.check_raises("f", lambda: int("x"), ValueError)
    assert "invalid literal" in msg
    with pytest.raises(AssertionError, match="returned normally"):
        G.check_raises("f", lambda: 1)
    with pytest.raises(AssertionError, match="raised TypeError"):
        G.check_raises("f", lambda: len(1), ValueError)


def test_forbid_shortcuts_catches_modules_made_before_and_functions():
    from torch.nn import LSTM  # imported by name before the guard, as a student might
    lstm = LSTM(3, 4, batch_first=True)
    x = torch.randn(2, 5, 3)
    with G.forbid_shortcuts("lstm"):
        with pytest.raises(G.ShortcutError, match="torch.nn.LSTM"):
            lstm(x)
        with pytest.raises(G.ShortcutError, match="torch.lstm_cell"):
            torch.lstm_cell(torch.randn(2, 3), (torch.randn(2, 4), torch.randn(2, 4)),
                            torch.randn(16, 3), torch.randn(16, 4))
        torch.nn.GRU(3, 4)(x)  # other groups stay usable
    out, _ = lstm(x)  # restored afterwards
    assert out.shape == (2, 5, 4)
    assert "forward" not in torch.nn.LSTM.__dict__ or torch.nn.LSTM.forward is not None


def test_forbid_shortcuts_restores_after_an_error():
    cell = torch.nn.RNNCell(3, 4)
    with pytest.raises(G.ShortcutError), G.forbid_shortcuts("rnn"):
        cell(torch.randn(2, 3))
    assert cell(torch.randn(2, 3)).shape == (2, 4)


def test_check_no_shortcut_in_source():
    def honest(x):
        return torch.tanh(x)

    def sneaky(x):
        return torch.nn.functional.pad(x, (1, 1))

    G.check_no_shortcut_in_source(honest, ["pad", "RNN"])
    with pytest.raises(G.ShortcutError, match="pad"):
        G.check_no_shortcut_in_source(sneaky, ["pad"])


def test_check_no_alias_catches_renamed_imports():
    from course_lib.data import pad_sequences as renamed

    def sneaky(seqs):
        return renamed(seqs)

    def honest(seqs):
        return [list(s) for s in seqs]

    G.check_no_alias(honest, renamed)
    with pytest.raises(G.ShortcutError, match="renamed"):
        G.check_no_alias(sneaky, renamed)
