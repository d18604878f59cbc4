"""What the exercise test cells call: checks that explain themselves to a student.

Every check raises ``AssertionError`` with a message written for the student (which value, what
was expected, what came back, where they differ most), so nbgrader's feedback says what is wrong
in words instead of showing a bare ``assert``. Arrays may be NumPy arrays or torch tensors.

``forbid_shortcuts`` fails a from-scratch task that calls the library routine it asks the student
to implement (e.g. ``torch.nn.RNN`` inside ``rnn_forward``).
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import textwrap
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch


class ShortcutError(AssertionError):
    """Raised when a from-scratch exercise calls the library routine it must implement."""


def _to_numpy(name: str, value: Any) -> np.ndarray:
    if value is None:
        raise AssertionError(f"{name} is None: did you forget to return it (or to fill in the TODO)?")
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    try:
        return np.asarray(value)
    except Exception as exc:  # e.g. ragged lists
        raise AssertionError(f"{name} could not be read as an array: {exc}") from None


def rel_error(x: Any, y: Any) -> float:
    """CS231n's relative error: max over elements of |x - y| / max(1e-8, |x| + |y|)."""
    x, y = _to_numpy("x", x).astype(np.float64), _to_numpy("y", y).astype(np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)))) if x.size else 0.0


def check_type(name: str, value: Any, expected: type | tuple[type, ...]) -> None:
    """Fail unless ``value`` is an instance of ``expected``."""
    if not isinstance(value, expected):
        want = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
        raise AssertionError(f"{name} should be a {want}, but it is a {type(value).__name__}")


def check_shape(name: str, value: Any, expected: Sequence[int], letters: str | None = None) -> None:
    """Fail unless ``value`` has shape ``expected``.

    Inputs:
    - name: how the student knows the value (``"next_h"``).
    - expected: the shape, e.g. ``(N, H)`` evaluated, ``(4, 5)``.
    - letters: optional names of the dimensions (``"N, H"``) to make the message concrete.
    """
    shape = tuple(_to_numpy(name, value).shape)
    expected = tuple(int(s) for s in expected)
    if shape != expected:
        what = f"({letters}) = {expected}" if letters else f"{expected}"
        raise AssertionError(f"{name} has shape {shape}, but it should have shape {what}")


def check_close(
    name: str, actual: Any, expected: Any, rtol: float = 1e-6, atol: float = 1e-8
) -> None:
    """Fail unless ``actual`` equals ``expected`` elementwise within ``atol + rtol * |expected|``.

    The message gives the shapes, the largest difference and the index where it occurs.
    """
    a = _to_numpy(name, actual)
    e = _to_numpy("expected", expected)
    if a.shape != e.shape:
        raise AssertionError(f"{name} has shape {a.shape}, but it should have shape {e.shape}")
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise AssertionError(f"{name} should hold numbers, but its dtype is {a.dtype}")
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    if not np.all(np.isfinite(a64)):
        bad = np.argwhere(~np.isfinite(a64))[0]
        raise AssertionError(f"{name} contains NaN or inf (first at index {tuple(int(i) for i in bad)})")
    diff = np.abs(a64 - e64)
    ok = diff <= atol + rtol * np.abs(e64)
    if not np.all(ok):
        where = tuple(int(i) for i in np.unravel_index(np.argmax(diff - rtol * np.abs(e64)), diff.shape))
        raise AssertionError(
            f"{name} is not close to the expected values: {int((~ok).sum())} of {ok.size} entries "
            f"differ; the largest difference is {diff.max():.3g} "
            f"(at index {where}: got {a64[where]:.6g}, expected {e64[where]:.6g})"
        )


def check_rel_error(name: str, actual: Any, expected: Any, tol: float = 1e-7) -> None:
    """Fail unless ``rel_error(actual, expected) <= tol`` (the CS231n criterion)."""
    a, e = _to_numpy(name, actual), _to_numpy("expected", expected)
    if a.shape != e.shape:
        raise AssertionError(f"{name} has shape {a.shape}, but it should have shape {e.shape}")
    err = rel_error(a, e)
    if not err <= tol:  # also catches NaN
        raise AssertionError(f"{name}: relative error {err:.3g} is above the tolerance {tol:.0e}")


def check_equal(name: str, actual: Any, expected: Any) -> None:
    """Fail unless ``actual == expected`` (for integers, strings, lists, exact arrays)."""
    if isinstance(expected, (np.ndarray, torch.Tensor)) or isinstance(actual, (np.ndarray, torch.Tensor)):
        a, e = _to_numpy(name, actual), _to_numpy("expected", expected)
        if a.shape != e.shape:
            raise AssertionError(f"{name} has shape {a.shape}, but it should have shape {e.shape}")
        if not np.array_equal(a, e):
            where = tuple(int(i) for i in np.argwhere(a != e)[0])
            raise AssertionError(f"{name} differs from the expected array at index {where}: "
                                 f"got {a[where]!r}, expected {e[where]!r}")
        return
    if actual != expected:
        raise AssertionError(f"{name} is {actual!r}, but it should be {expected!r}")


def check_raises(name: str, func: Callable[[], Any], error: type[BaseException] = ValueError) -> str:
    """Fail unless calling ``func()`` raises ``error``; return the error message."""
    try:
        func()
    except error as exc:
        return str(exc)
    except Exception as exc:
        raise AssertionError(f"{name} should raise {error.__name__}, but raised "
                             f"{type(exc).__name__}: {exc}") from None
    raise AssertionError(f"{name} should raise {error.__name__}, but it returned normally")


# --- shortcut guards ------------------------------------------------------------------------

# What each from-scratch task may not call. Module classes are guarded through ``forward`` so that
# instances made before the check (or names imported with ``from torch.nn import RNN``) are caught.
SHORTCUTS: dict[str, tuple[str, ...]] = {
    "rnn": ("torch.nn.RNN", "torch.nn.RNNCell", "torch.rnn_tanh", "torch.rnn_relu",
            "torch.rnn_tanh_cell", "torch.rnn_relu_cell"),
    "lstm": ("torch.nn.LSTM", "torch.nn.LSTMCell", "torch.lstm", "torch.lstm_cell"),
    "gru": ("torch.nn.GRU", "torch.nn.GRUCell", "torch.gru", "torch.gru_cell"),
    "clip": ("torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad_value_",
             "torch.nn.utils.clip_grad.clip_grad_norm_", "torch.nn.utils.clip_grad.clip_grad_value_"),
    "pad": ("torch.nn.utils.rnn.pad_sequence", "torch.nn.utils.rnn.pack_padded_sequence"),
}


def _resolve(path: str) -> tuple[Any, str]:
    """Split ``"torch.nn.RNN"`` into the owning object and the attribute name."""
    parts = path.split(".")
    owner: Any = __import__(parts[0])
    for part in parts[1:-1]:
        owner = getattr(owner, part)
    return owner, parts[-1]


@contextlib.contextmanager
def forbid_shortcuts(*groups_or_paths: str) -> Iterator[None]:
    """Within the block, calling a forbidden library routine raises ``ShortcutError``.

    Inputs:
    - groups_or_paths: keys of ``SHORTCUTS`` (``"rnn"``, ``"lstm"``, ...) or dotted paths.

    Example (in a test cell)::

        with forbid_shortcuts("rnn"):
            h, _ = rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh)
    """
    paths = [p for g in groups_or_paths for p in SHORTCUTS.get(g, (g,))]
    saved: list[tuple[Any, str, Any]] = []

    def blocker(path: str) -> Callable[..., Any]:
        def blocked(*args: Any, **kwargs: Any) -> Any:
            raise ShortcutError(f"this exercise asks you to implement it yourself, "
                                f"but your code called {path}")
        return blocked

    try:
        for path in paths:
            owner, attr = _resolve(path)
            original = getattr(owner, attr)
            if inspect.isclass(original) and issubclass(original, torch.nn.Module):
                saved.append((original, "forward", original.__dict__.get("forward")))
                original.forward = blocker(path)
            else:
                saved.append((owner, attr, original))
                setattr(owner, attr, blocker(path))
        # nn.RNN and friends reach the fused kernels through torch._VF, not torch.*
        vf_names = [p.rsplit(".", 1)[1] for p in paths if p.count(".") == 1 and p.startswith("torch.")]
        for name in vf_names:
            if hasattr(torch._VF, name):
                saved.append((torch._VF, name, getattr(torch._VF, name)))
                setattr(torch._VF, name, blocker(f"torch.{name}"))
        yield
    finally:
        for owner, attr, original in reversed(saved):
            if original is None:  # the class inherited forward: remove our override
                delattr(owner, attr)
            else:
                setattr(owner, attr, original)


def check_no_shortcut_in_source(func: Callable[..., Any], names: Sequence[str]) -> None:
    """Fail if the source of ``func`` mentions any attribute or name in ``names``.

    A static companion of ``forbid_shortcuts`` for routines a guard cannot intercept cheaply.
    """
    try:
        source = textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        raise AssertionError(f"could not read the source of {getattr(func, '__name__', func)!r}; "
                             "define it in a notebook cell with def") from None
    used = {node.attr for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Attribute)}
    used |= {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
    hits = sorted(set(names) & used)
    if hits:
        raise ShortcutError(f"{func.__name__} uses {', '.join(hits)}, which this exercise asks you "
                            "to implement yourself")


def check_no_alias(func: Callable[..., Any], *forbidden: Any) -> None:
    """Fail if ``func`` (or a function nested in it) uses a global name bound to a forbidden object.

    Catches what a source scan cannot: ``from course_lib.data import pad_sequences as p`` at the
    top of a notebook cell, then ``p(...)`` inside the student's function.
    """
    codes, names = [func.__code__], set()
    while codes:
        code = codes.pop()
        names |= set(code.co_names)
        codes += [c for c in code.co_consts if hasattr(c, "co_names")]
    bound = dict(func.__globals__)
    if func.__closure__:  # names from an enclosing function
        bound |= {n: c.cell_contents for n, c in zip(func.__code__.co_freevars, func.__closure__, strict=True)}
        names |= set(func.__code__.co_freevars)
    hits = sorted(n for n in names if any(bound.get(n) is f for f in forbidden))
    if hits:
        raise ShortcutError(f"{func.__name__} calls the library routine(s) {', '.join(hits)}, "
                            "but this task asks you to write it yourself")
