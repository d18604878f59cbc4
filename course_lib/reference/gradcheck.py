"""Gradient checking: compare an analytic gradient with centred finite differences.

``numerical_gradient`` nudges one entry of ``x`` at a time by ``+h`` and ``-h`` and measures how
the output moves; ``rel_error`` says how far two arrays are apart, relative to their size. A
correct float64 backward pass typically agrees with ``h=1e-5`` to a relative error of 1e-7 to
1e-9 (worst on gradient entries close to zero, where ``rel_error`` divides by a small number);
a wrong one is off by 1e-2 or more. ``order=4, h=1e-3`` is about ten to a hundred times more
accurate, for tests that must hold at 1e-7 whatever the seed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np


def _to_numpy(name: str, a: Any) -> np.ndarray:
    """Turn an array, scalar or torch tensor into a float64 NumPy array (for comparisons)."""
    if hasattr(a, "detach") and hasattr(a, "cpu"):  # a torch tensor: avoid importing torch here
        a = a.detach().cpu().numpy()
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{name} must be a number or an array of numbers, got {type(a).__name__}"
        ) from err
    return arr


def rel_error(x: Any, y: Any) -> float:
    """Largest element-wise relative error between two arrays (CS231n's ``rel_error``).

    Inputs:
    - x: array (any shape), scalar or torch tensor.
    - y: array of the same shape as ``x``.

    Returns:
    - the float ``max(|x - y| / max(1e-8, |x| + |y|))``. The 1e-8 floor keeps two entries that
      are both (almost) zero from counting as a large relative error.
    """
    xa, ya = _to_numpy("x", x), _to_numpy("y", y)
    if xa.shape != ya.shape:
        # No broadcasting: comparing a (3, 4) gradient with a (4,) one is always a bug.
        raise ValueError(f"x and y must have the same shape, got {xa.shape} and {ya.shape}")
    if xa.size == 0:
        return 0.0
    return float(np.max(np.abs(xa - ya) / np.maximum(1e-8, np.abs(xa) + np.abs(ya))))


def _evaluate(f: Callable[[np.ndarray], Any], x: np.ndarray, df: np.ndarray | None) -> np.ndarray:
    """Call ``f(x)`` and check that it returns what ``numerical_gradient`` was told to expect."""
    out = f(x)
    if hasattr(out, "detach") and hasattr(out, "cpu"):
        out = out.detach().cpu().numpy()
    # Copy: f may return a buffer it overwrites on the next call.
    out = np.array(out, dtype=np.float64, copy=True)
    if df is None and out.ndim != 0:
        raise ValueError(
            f"f must return a scalar when df is None, got an array of shape {out.shape}; "
            "pass the upstream gradient as df"
        )
    if df is not None and out.shape != df.shape:
        raise ValueError(
            f"f(x) has shape {out.shape}, but df has shape {df.shape}; they must match"
        )
    return out


def numerical_gradient(
    f: Callable[[np.ndarray], Any],
    x: np.ndarray,
    df: np.ndarray | None = None,
    h: float = 1e-5,
    order: int = 2,
) -> np.ndarray:
    """Centred finite-difference gradient of ``f`` with respect to ``x``.

    ``x`` is perturbed in place, one entry at a time, and restored afterwards (also when ``f``
    raises), so ``f`` may ignore its argument and read the array through a closure, e.g.
    ``numerical_gradient(lambda _: rnn_forward(x, h0, *params)[0], x, dh)``.

    Inputs:
    - f: callable taking ``x``. Returns a scalar when ``df`` is None, else an array of
      ``df``'s shape.
    - x: float NumPy array of any shape (not empty, writeable); float64 for accurate checks.
    - df: upstream gradient of ``f(x)``'s shape, or None. With ``df`` the result is the gradient
      of the scalar ``sum(f(x) * df)``, which is what a backward pass computes from ``dout``.
    - h: step size > 0. With ``order=2`` the error is about ``h**2`` (truncation) plus
      ``1e-16 / h`` (rounding), so h = 1e-5 suits float64 and leaves an absolute error near
      1e-11 -- large next to a gradient entry of 1e-4.
    - order: 2 (default, CS231n's formula) or 4. Order 4 combines the steps h and 2h so that
      the h**2 error term cancels (Richardson extrapolation); its error is about
      ``h**4 + 1e-16 / h``, so with h = 1e-3 it is roughly ten to a hundred times smaller.
      It costs twice as many calls to ``f``.

    Returns:
    - grad: float64 array of ``x``'s shape. Order 2:
      ``grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h)``; order 4:
      ``grad[i] = (8 (f(x + h e_i) - f(x - h e_i)) - (f(x + 2h e_i) - f(x - 2h e_i))) / (12 h)``;
      each weighted by ``df`` when given.
    """
    if not callable(f):
        raise TypeError(f"f must be callable, got {type(f).__name__}")
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"x must be a NumPy array (it is perturbed in place), got {type(x).__name__}"
        )
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"x must have a floating dtype (it is nudged by h), got {x.dtype}")
    if x.size == 0:
        raise ValueError(f"x must not be empty, got shape {x.shape}")
    if not x.flags.writeable:
        raise ValueError("x must be writeable: numerical_gradient perturbs it in place")
    if (
        isinstance(h, bool)
        or not isinstance(h, (int, float, np.floating))
        or not np.isfinite(h)
        or h <= 0
    ):
        raise ValueError(f"h must be a finite number > 0, got {h!r}")
    if order not in (2, 4):
        raise ValueError(f"order must be 2 or 4, got {order!r}")
    if df is not None:
        df = _to_numpy("df", df)

    grad = np.zeros(x.shape, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        ix = it.multi_index
        old = x[ix].copy()
        try:
            diffs = []  # f(x + k h e_i) - f(x - k h e_i) for k = 1 (and 2)
            for k in (1, 2)[: order // 2]:
                x[ix] = old + k * h
                f_plus = _evaluate(f, x, df)
                x[ix] = old - k * h
                # Subtract before weighting by df: the two outputs share most of their rounding.
                diffs.append(f_plus - _evaluate(f, x, df))
        finally:
            x[ix] = old  # restore even if f raised, so the caller's array is never corrupted
        diff = diffs[0] / (2.0 * h) if order == 2 else (8.0 * diffs[0] - diffs[1]) / (12.0 * h)
        grad[ix] = diff if df is None else np.sum(diff * df)
    return grad
