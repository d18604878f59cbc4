"""Sequence data augmentation: more training sequences from the ones we have.

An augmentation changes an input sequence in a way that should NOT change its label. Whether
that holds is a property of the task, not of the function: reversing time keeps the frequency
of a sine wave but turns a rising trend into a falling one. Lesson 5.3 measures both cases.

Every function takes a batch ``x`` of shape (N, T, D) (N sequences, T steps, D features) as a
torch tensor or a NumPy array and returns the same type (a tensor stays on its device). Random
functions take ``seed`` (a private generator: the same numbers whatever else ran) or
``generator`` (a ``torch.Generator`` you keep, so that every epoch draws new numbers); with
neither they use torch's global generator, which ``course_lib.device.set_seed`` controls. The
random numbers are always drawn on the CPU, so a seed gives the same result on every device.

- ``time_reverse``, ``random_reverse``: read the sequence backwards (all, or each with prob. p)
- ``random_shift``: move each sequence by a random number of steps (circular roll or edge fill)
- ``random_crop``: a random window of ``length`` steps from each sequence
- ``tile``: repeat each sequence ``reps`` times along time
- ``jitter``: add Gaussian noise to every value
- ``scale``: multiply each sequence (per feature) by a random factor near 1
- ``compose``, ``augment_dataset``, ``AugmentedLoader``: combine them and use them in training
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import torch

from course_lib.datasets import _check_int, _generator

__all__ = [
    "AugmentedLoader",
    "augment_dataset",
    "compose",
    "jitter",
    "random_crop",
    "random_reverse",
    "random_shift",
    "scale",
    "tile",
    "time_reverse",
]

Array = torch.Tensor | np.ndarray
Transform = Callable[..., Array]  # transform(x, generator=g) -> x'


# ----------------------------------------------------------------------------- helpers


def _as_batch(x: Any, name: str = "x", need_float: bool = False) -> tuple[torch.Tensor, bool]:
    """Return (x as a tensor, whether it came as a NumPy array); check the (N, T, D) layout."""
    if isinstance(x, np.ndarray):
        if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
            raise TypeError(f"{name} must hold numbers, got a NumPy array of dtype {x.dtype}")
        t, was_numpy = torch.from_numpy(np.ascontiguousarray(x)), True
    elif isinstance(x, torch.Tensor):
        t, was_numpy = x, False
    else:
        raise TypeError(f"{name} must be a torch tensor or NumPy array of shape (N, T, D), got {type(x).__name__}")
    if t.dim() != 3:
        raise ValueError(f"{name} must have shape (N, T, D), got {t.dim()} dimension(s) {tuple(t.shape)}")
    if 0 in t.shape:
        raise ValueError(f"{name} must have N, T, D >= 1, got shape {tuple(t.shape)}")
    if need_float and not t.is_floating_point():
        raise TypeError(f"{name} must be a floating-point batch for this augmentation, got dtype {t.dtype}")
    return t, was_numpy


def _back(t: torch.Tensor, was_numpy: bool) -> Array:
    """Return ``t`` in the type the caller gave (NumPy in, NumPy out)."""
    return t.numpy() if was_numpy else t


def _check_sigma(sigma: Any) -> float:
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float, np.integer, np.floating)):
        raise TypeError(f"sigma must be a number, got {type(sigma).__name__}")
    if not (math.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma must be a finite number >= 0, got {sigma}")
    return float(sigma)


# ----------------------------------------------------------------------------- reversal


def time_reverse(x: Array, lengths: Any = None) -> Array:
    """Read every sequence backwards.

    Inputs:
    - x: (N, T, D) batch.
    - lengths: optional (N,) true lengths of a batch padded at the end ("post"). Only the
      first ``lengths[i]`` steps of row i are reversed, so padding stays at the end; without
      lengths, step t goes to T-1-t in every row.

    Returns:
    - (N, T, D), the type of x.
    """
    t, was_numpy = _as_batch(x)
    N, T, _ = t.shape
    if lengths is None:
        return _back(t.flip(1), was_numpy)
    L = torch.as_tensor(np.asarray(lengths) if not isinstance(lengths, torch.Tensor) else lengths)
    if L.dtype.is_floating_point or L.dtype == torch.bool or L.shape != (N,):
        raise ValueError(f"lengths must be (N,) = ({N},) integers, got shape {tuple(L.shape)} dtype {L.dtype}")
    if int(L.min()) < 1 or int(L.max()) > T:
        raise ValueError(f"lengths must lie in 1..T (T={T}), got values from {int(L.min())} to {int(L.max())}")
    steps = torch.arange(T)[None, :]  # (1, T)
    L = L.cpu().long()[:, None]  # (N, 1)
    index = torch.where(steps < L, L - 1 - steps, steps)  # (N, T): mirror inside the valid part
    index = index.to(t.device)[:, :, None].expand_as(t)  # (N, T, D)
    return _back(torch.gather(t, 1, index), was_numpy)


def random_reverse(
    x: Array, p: float = 0.5, seed: int | None = None, generator: torch.Generator | None = None
) -> Array:
    """Reverse each sequence in time with probability ``p`` (independently per sequence).

    Inputs:
    - x: (N, T, D) batch (no padding: use ``time_reverse(x, lengths)`` for padded rows).
    - p: probability in [0, 1].
    - seed or generator: see the module docstring.

    Returns:
    - (N, T, D), the type of x.
    """
    t, was_numpy = _as_batch(x)
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1], got {p!r}")
    g = _generator(seed, generator)
    flip = (torch.rand(t.shape[0], generator=g) < p).to(t.device)  # (N,)
    return _back(torch.where(flip[:, None, None], t.flip(1), t), was_numpy)


# ----------------------------------------------------------------------------- shifts and crops


def random_shift(
    x: Array,
    max_shift: int,
    mode: str = "roll",
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> Array:
    """Move each sequence along time by its own random whole number of steps.

    Row i is shifted by s_i, drawn uniformly from {-max_shift, ..., max_shift}; a positive
    s_i moves the content later (``out[i, t] = x[i, t - s_i]``).

    Inputs:
    - x: (N, T, D) batch.
    - max_shift: largest shift, 0 <= max_shift < T.
    - mode: "roll" wraps around (what leaves at one end comes back at the other: fine for
      periodic signals, a jump elsewhere); "edge" fills the vacated steps with the first or
      last value (no wrap-around, but a flat stretch).
    - seed or generator: see the module docstring.

    Returns:
    - (N, T, D), the type of x.
    """
    t, was_numpy = _as_batch(x)
    N, T, _ = t.shape
    max_shift = _check_int("max_shift", max_shift, 0)
    if max_shift >= T:
        raise ValueError(f"max_shift must be < T = {T}, got {max_shift}")
    if mode not in ("roll", "edge"):
        raise ValueError(f"mode must be 'roll' or 'edge', got {mode!r}")
    g = _generator(seed, generator)
    shifts = torch.randint(-max_shift, max_shift + 1, (N,), generator=g)  # (N,)
    source = torch.arange(T)[None, :] - shifts[:, None]  # (N, T): out[i, t] = x[i, source[i, t]]
    source = source % T if mode == "roll" else source.clamp(0, T - 1)
    index = source.to(t.device)[:, :, None].expand_as(t)  # (N, T, D)
    return _back(torch.gather(t, 1, index), was_numpy)


def random_crop(
    x: Array, length: int, seed: int | None = None, generator: torch.Generator | None = None
) -> Array:
    """Cut a random window of ``length`` consecutive steps out of each sequence.

    Inputs:
    - x: (N, T, D) batch.
    - length: window length, 1 <= length <= T; each row's start is uniform in 0..T-length.
    - seed or generator: see the module docstring.

    Returns:
    - (N, length, D), the type of x (shorter sequences: the model must accept any T).
    """
    t, was_numpy = _as_batch(x)
    N, T, _ = t.shape
    length = _check_int("length", length, 1)
    if length > T:
        raise ValueError(f"length must be <= T = {T}, got {length}")
    g = _generator(seed, generator)
    starts = torch.randint(0, T - length + 1, (N,), generator=g)  # (N,)
    index = (starts[:, None] + torch.arange(length)[None, :]).to(t.device)  # (N, length)
    return _back(torch.gather(t, 1, index[:, :, None].expand(N, length, t.shape[2])), was_numpy)


def tile(x: Array, reps: int) -> Array:
    """Repeat every sequence ``reps`` times along time: [x_1..x_T, x_1..x_T, ...].

    Inputs:
    - x: (N, T, D) batch.
    - reps: number of copies, >= 1.

    Returns:
    - (N, reps * T, D), the type of x. Only a label-preserving change when the label does not
      depend on length or on the join (e.g. "which pattern does the sequence contain").
    """
    t, was_numpy = _as_batch(x)
    reps = _check_int("reps", reps, 1)
    return _back(t.repeat(1, reps, 1), was_numpy)


# ----------------------------------------------------------------------------- noise


def jitter(
    x: Array, sigma: float = 0.05, seed: int | None = None, generator: torch.Generator | None = None
) -> Array:
    """Add independent Gaussian noise N(0, sigma^2) to every value.

    Inputs:
    - x: (N, T, D) floating-point batch (standardise the data first, so that sigma is in
      units of the data's spread).
    - sigma: noise standard deviation, >= 0.
    - seed or generator: see the module docstring.

    Returns:
    - (N, T, D), the type and dtype of x.
    """
    t, was_numpy = _as_batch(x, need_float=True)
    sigma = _check_sigma(sigma)
    g = _generator(seed, generator)
    noise = torch.randn(t.shape, generator=g, dtype=t.dtype)  # drawn on the CPU (reproducible)
    return _back(t + sigma * noise.to(t.device), was_numpy)


def scale(
    x: Array, sigma: float = 0.1, seed: int | None = None, generator: torch.Generator | None = None
) -> Array:
    """Multiply each sequence by a random factor per feature, drawn from N(1, sigma^2).

    Inputs:
    - x: (N, T, D) floating-point batch.
    - sigma: spread of the factors, >= 0 (0.1: most factors within 0.8..1.2).
    - seed or generator: see the module docstring.

    Returns:
    - (N, T, D), the type and dtype of x; one factor per (sequence, feature), the same at
      every step, so the shape of the sequence is kept and only its amplitude changes.
    """
    t, was_numpy = _as_batch(x, need_float=True)
    sigma = _check_sigma(sigma)
    g = _generator(seed, generator)
    N, _, D = t.shape
    factors = 1.0 + sigma * torch.randn((N, 1, D), generator=g, dtype=t.dtype)  # (N, 1, D)
    return _back(t * factors.to(t.device), was_numpy)


# ----------------------------------------------------------------------------- using them


def compose(*transforms: Transform) -> Transform:
    """Chain augmentations: ``compose(f, g)(x, generator=r)`` is ``g(f(x, generator=r), generator=r)``.

    Inputs:
    - transforms: functions ``f(x, generator=...)``; fix their other arguments with
      ``functools.partial`` (e.g. ``partial(jitter, sigma=0.1)``). Deterministic functions
      such as ``time_reverse`` or ``tile`` are wrapped so that they ignore the generator.

    Returns:
    - a function ``(x, seed=None, generator=None) -> x'``.
    """
    if not transforms:
        raise ValueError("compose needs at least one transform")
    for f in transforms:
        if not callable(f):
            raise TypeError(f"every transform must be callable, got {type(f).__name__}")

    def composed(x: Array, seed: int | None = None, generator: torch.Generator | None = None) -> Array:
        g = _generator(seed, generator)
        for f in transforms:
            base = getattr(f, "func", f)  # functools.partial keeps the function in .func
            x = f(x) if base in (time_reverse, tile) else f(x, generator=g)
        return x

    return composed


def augment_dataset(
    X: Array, y: Any, transform: Transform, copies: int = 1, seed: int | None = 0
) -> tuple[Array, Any]:
    """Enlarge a data set once: the originals followed by ``copies`` augmented copies.

    Inputs:
    - X: (N, T, D) inputs; y: (N, ...) targets (tensor or array), repeated unchanged.
    - transform: ``transform(x, generator=g) -> x'`` (from this module, or ``compose``);
      it must keep the shape (N, T, D).
    - copies: number of augmented copies, >= 1.
    - seed: seeds the private generator (None: torch's global one).

    Returns a tuple of:
    - X_aug: ((copies + 1) * N, T, D), the type of X.
    - y_aug: ((copies + 1) * N, ...), the type of y.
    """
    t, was_numpy = _as_batch(X, "X")
    copies = _check_int("copies", copies, 1)
    if len(y) != t.shape[0]:
        raise ValueError(f"y must have one target per sequence: len(y) = {len(y)}, but X has N = {t.shape[0]}")
    g = _generator(seed, None)
    transform = compose(transform)  # so that time_reverse and tile work here too
    parts = [t]
    for _ in range(copies):
        out, _ = _as_batch(transform(t, generator=g), "transform(X)")
        if out.shape != t.shape:
            raise ValueError(f"transform must keep the shape {tuple(t.shape)}, got {tuple(out.shape)}")
        parts.append(out)
    X_aug = torch.cat(parts)  # ((copies + 1) * N, T, D)
    if isinstance(y, torch.Tensor):
        y_aug: Any = y.repeat(copies + 1, *([1] * (y.dim() - 1)))
    else:
        y_arr = np.asarray(y)
        y_aug = np.concatenate([y_arr] * (copies + 1))
    return _back(X_aug, was_numpy), y_aug


class AugmentedLoader:
    """Wrap a loader so that every batch's inputs are augmented afresh, epoch after epoch.

    ``fit(model, AugmentedLoader(train_loader, partial(jitter, sigma=0.1), seed=0), ...)``
    trains on new noise every epoch (unlike ``augment_dataset``, which draws it once); the
    run is still reproducible, because the loader owns one generator seeded at construction.
    Validation loaders stay unwrapped: we measure on the real data.

    Inputs (to the constructor):
    - loader: iterable of batches ``(x, y)``, ``(x, y, lengths)`` or dicts with key "x";
      x is (N, T, D).
    - transform: ``transform(x, generator=g) -> x'``.
    - seed: seed of the loader's generator.
    """

    def __init__(self, loader: Iterable, transform: Transform, seed: int = 0) -> None:
        if not callable(transform):
            raise TypeError(f"transform must be callable, got {type(transform).__name__}")
        self.loader, self.transform = loader, compose(transform)  # compose: time_reverse works too
        self.generator = _generator(seed, None)

    def __len__(self) -> int:
        return len(self.loader)  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[Any]:
        for batch in self.loader:
            if isinstance(batch, Mapping):
                yield {**batch, "x": self.transform(batch["x"], generator=self.generator)}
            elif isinstance(batch, (tuple, list)) and len(batch) in (2, 3):
                yield (self.transform(batch[0], generator=self.generator), *batch[1:])
            else:
                raise ValueError("AugmentedLoader needs batches (x, y), (x, y, lengths) or dicts with 'x'")
