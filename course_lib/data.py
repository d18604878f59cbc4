"""Turning sequences into tensors: vocabularies, padding and masks, windows, splits, scaling.

Dimension letters (as everywhere in the course): N batch, T time, D features, V vocabulary.
Batches are batch-first, ``(N, T)`` for token ids and ``(N, T, D)`` for real-valued features.

Contents, bottom-up:

- ``Vocab``: token <-> id, with ``<pad>`` = 0 and ``<unk>`` for tokens never seen in training.
- ``lengths_to_mask``, ``pad_sequences``, ``masked_mean``, ``gather_last``: variable-length
  batches. The mask is ``True`` at real steps and ``False`` at padding.
- ``sliding_windows``, ``time_split``, ``Standardizer``, ``autocorrelation``: forecasting data
  without leakage (split in time order, scale with training statistics only).
- ``batchify``, ``lm_chunks``: contiguous language-model batches for truncated BPTT.
- Synthetic tasks and data-set loaders live in ``course_lib.datasets`` and are re-exported here,
  so ``from course_lib.data import load_sunspots`` works.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch

from course_lib.datasets import (  # noqa: F401  (re-exported: course_lib.data is the public home)
    ADDING_BASELINE_MSE,
    DEFAULT_SURNAME_LOCALES,
    LOCALE_LANGUAGES,
    _check_int,
    adding_problem,
    copy_task,
    copy_task_baseline,
    fill_missing,
    load_co2,
    load_sunspots,
    load_surnames,
    load_zen_of_python,
    missing_summary,
    noisy_sine,
    sine_wave,
)

PAD = "<pad>"
UNK = "<unk>"
_PADDING_SIDES = ("post", "pre")


# --- small validation helpers ------------------------------------------------------------------


def _check_side(name: str, value: Any) -> str:
    if value not in _PADDING_SIDES:
        raise ValueError(f"{name} must be 'post' or 'pre', got {value!r}")
    return value


def _as_tensor(name: str, x: Any) -> torch.Tensor:
    """Read a tensor, NumPy array, pandas object or (nested) list of numbers as a tensor."""
    if isinstance(x, torch.Tensor):
        return x
    if hasattr(x, "to_numpy"):  # pandas Series / DataFrame
        x = x.to_numpy()
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must hold numbers, got a string (encode tokens to ids first)")
    try:
        arr = np.asarray(x)
    except ValueError as exc:  # ragged nested lists
        raise TypeError(f"{name} could not be read as an array: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must hold numbers, got an array of dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr)
    if not arr.flags.writeable:  # e.g. pandas' read-only buffers: torch wants its own copy
        arr = arr.copy()
    return torch.from_numpy(arr)


def _as_lengths(name: str, lengths: Any) -> torch.Tensor:
    """Validate a 1-D tensor of non-negative integer lengths, returned as int64."""
    t = _as_tensor(name, lengths)
    if t.dim() != 1:
        raise ValueError(f"{name} must be 1-D (N,), got shape {tuple(t.shape)}")
    if t.numel() == 0:
        raise ValueError(f"{name} is empty: expected one length per sequence")
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise TypeError(f"{name} must hold integers, got dtype {t.dtype}")
    if (t < 0).any():
        raise ValueError(f"{name} must be >= 0, got {t.tolist()}")
    return t.long()


# --- vocabulary --------------------------------------------------------------------------------


class Vocab:
    """A mapping between tokens and integer ids.

    Ids: the special tokens come first (``<pad>`` = 0, ``<unk>`` = 1 by default), then the
    tokens by decreasing frequency; ties keep the order of first appearance, so the same corpus
    always gives the same ids. Tokens rarer than ``min_freq`` are left out and encode to
    ``<unk>``.

    Inputs:
    - tokens: a flat iterable of tokens (words, characters, ...). A string is an iterable of
      characters, so ``Vocab("hello")`` is a character vocabulary. For a list of sequences use
      ``Vocab.from_sequences``.
    - min_freq: keep tokens seen at least this often (>= 1).
    - max_size: keep at most this many tokens *besides* the specials (the most frequent).
    - specials: tokens placed first, in this order; must include ``pad`` (as id 0).
    - unk: the token unknown tokens map to; ``None`` makes unknown tokens an error.

    Attributes:
    - itos: list of tokens, ``itos[i]`` is the token of id ``i`` (length V).
    - stoi: dict token -> id.
    - pad_id, unk_id: ids of the specials (``unk_id`` is ``None`` when ``unk`` is ``None``).
    """

    def __init__(
        self,
        tokens: Iterable[Hashable] = (),
        min_freq: int = 1,
        max_size: int | None = None,
        specials: Sequence[str] = (PAD, UNK),
        unk: str | None = UNK,
    ) -> None:
        min_freq = _check_int("min_freq", min_freq, 1)
        if max_size is not None:
            max_size = _check_int("max_size", max_size, 0)
        specials = list(specials)
        if not specials or specials[0] != PAD:
            raise ValueError(f"specials must start with {PAD!r} (id 0), got {specials}")
        if len(set(specials)) != len(specials):
            raise ValueError(f"specials must be distinct, got {specials}")
        if unk is not None and unk not in specials:
            raise ValueError(f"unk={unk!r} must be one of specials {specials}")
        if not isinstance(tokens, Iterable):
            raise TypeError(f"tokens must be an iterable of tokens, got {type(tokens).__name__}")
        counts = Counter(tokens)  # insertion-ordered: ties below keep first appearance
        ranked = [tok for tok, c in sorted(counts.items(), key=lambda kv: -kv[1])
                  if c >= min_freq and tok not in specials]
        if max_size is not None:
            ranked = ranked[:max_size]
        self.itos: list[Hashable] = [*specials, *ranked]
        self.stoi: dict[Hashable, int] = {tok: i for i, tok in enumerate(self.itos)}
        self.counts = counts
        self.pad_id = 0
        self.unk_id = None if unk is None else self.stoi[unk]
        self.unk = unk

    @classmethod
    def from_sequences(cls, sequences: Iterable[Iterable[Hashable]], **kwargs: Any) -> Vocab:
        """Build from a list of sequences (e.g. a list of names: each name is its characters).

        Inputs:
        - sequences: iterable of token sequences; a string counts as its characters.
        - kwargs: as for ``Vocab(...)``.
        """
        if isinstance(sequences, (str, bytes)) or not isinstance(sequences, Iterable):
            raise TypeError("sequences must be an iterable of sequences (e.g. a list of strings), "
                            f"got {type(sequences).__name__}")
        flat: list[Hashable] = []
        for i, seq in enumerate(sequences):
            if not isinstance(seq, Iterable):
                raise TypeError(f"sequences[{i}] must be a sequence of tokens, got {type(seq).__name__}")
            flat.extend(seq)
        return cls(flat, **kwargs)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: Hashable) -> bool:
        return token in self.stoi

    def __getitem__(self, token: Hashable) -> int:
        """The id of ``token`` (``unk_id`` for an unknown token)."""
        if token in self.stoi:
            return self.stoi[token]
        if self.unk_id is None:
            raise KeyError(f"token {token!r} is not in the vocabulary and unk=None")
        return self.unk_id

    def encode(self, tokens: Iterable[Hashable]) -> list[int]:
        """Ids of a sequence of tokens (a string is encoded character by character).

        Inputs:
        - tokens: iterable of T tokens.

        Returns:
        - list of T ints; unknown tokens become ``unk_id``.
        """
        if not isinstance(tokens, Iterable):
            raise TypeError(f"tokens must be an iterable of tokens, got {type(tokens).__name__}")
        return [self[tok] for tok in tokens]

    def decode(self, ids: Iterable[int] | torch.Tensor, skip_pad: bool = False) -> list[Hashable]:
        """Tokens of a sequence of ids.

        Inputs:
        - ids: list or 1-D tensor of T ints in ``[0, V)``.
        - skip_pad: drop ``<pad>`` ids (handy after padding).

        Returns:
        - list of tokens (``"".join(...)`` turns characters back into a string).
        """
        if isinstance(ids, torch.Tensor):
            if ids.dim() != 1:
                raise ValueError(f"ids must be 1-D, got shape {tuple(ids.shape)}")
            ids = ids.tolist()
        out = []
        for i in ids:
            if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
                raise TypeError(f"ids must hold ints, got {type(i).__name__}")
            if not 0 <= i < len(self.itos):
                raise ValueError(f"ids contains {i}, outside the vocabulary range [0, {len(self.itos)})")
            if skip_pad and i == self.pad_id:
                continue
            out.append(self.itos[i])
        return out

    def __repr__(self) -> str:
        head = ", ".join(repr(t) for t in self.itos[:8])
        return f"Vocab(V={len(self)}: {head}{', ...' if len(self) > 8 else ''})"


# --- variable-length batches -------------------------------------------------------------------


def lengths_to_mask(lengths: Any, max_len: int | None = None, padding: str = "post") -> torch.Tensor:
    """Boolean mask of the real (non-padding) steps of a padded batch.

    ``mask[n, t]`` is True iff step t of sequence n is real: with post-padding iff
    ``t < lengths[n]``, with pre-padding iff ``t >= T - lengths[n]``. A length of 0 gives an
    all-False row (a fully padded sequence).

    Inputs:
    - lengths: (N,) non-negative ints (list or tensor).
    - max_len: T, the padded length; default ``max(lengths)``; must be >= ``max(lengths)``.
    - padding: ``"post"`` (pads at the end) or ``"pre"`` (pads at the start).

    Returns:
    - mask: (N, T) bool tensor.
    """
    lengths = _as_lengths("lengths", lengths)
    padding = _check_side("padding", padding)
    longest = int(lengths.max())
    T = longest if max_len is None else _check_int("max_len", max_len, 0)
    if T < longest:
        raise ValueError(f"max_len={T} is shorter than the longest length {longest}")
    steps = torch.arange(T, device=lengths.device)  # (T,)
    if padding == "post":
        return steps[None, :] < lengths[:, None]  # (N, T)
    return steps[None, :] >= (T - lengths)[:, None]  # (N, T)


def pad_sequences(
    seqs: Sequence[Any],
    max_len: int | None = None,
    padding: str = "post",
    truncating: str = "post",
    value: float = 0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Stack sequences of different lengths into one padded tensor, with lengths and mask.

    Inputs:
    - seqs: N sequences, each a list of numbers / 1-D tensor of shape (T_n,) (token ids), or a
      list of D-vectors / 2-D tensor of shape (T_n, D) (features). All must have the same rank
      and the same D. Empty sequences are allowed (they give an all-padding row) as long as
      one sequence is not empty.
    - max_len: T, the length to pad or truncate to; default: the longest sequence.
    - padding: ``"post"`` adds pads at the end (what ``pack_padded_sequence`` expects),
      ``"pre"`` at the start (the last real step is then always ``[:, -1]``).
    - truncating: for sequences longer than ``max_len``: ``"post"`` keeps the first
      ``max_len`` steps, ``"pre"`` keeps the last ``max_len`` steps.
    - value: what to write at padded positions (0 = ``<pad>``'s id).

    Returns a tuple of:
    - padded: (N, T) or (N, T, D) tensor, the common dtype of the inputs.
    - lengths: (N,) int64, the number of real steps of each row (after truncation).
    - mask: (N, T) bool, True at real steps (see ``lengths_to_mask``).
    """
    padding = _check_side("padding", padding)
    truncating = _check_side("truncating", truncating)
    if isinstance(seqs, (str, bytes)) or not isinstance(seqs, (Sequence, torch.Tensor, np.ndarray)):
        raise TypeError(f"seqs must be a list of sequences, got {type(seqs).__name__}")
    if len(seqs) == 0:
        raise ValueError("seqs is empty: expected at least one sequence")
    tensors = [_as_tensor(f"seqs[{i}]", s) for i, s in enumerate(seqs)]
    nonempty = [t for t in tensors if t.numel() > 0]
    if not nonempty:
        raise ValueError("every sequence in seqs is empty: nothing to pad")
    rank = nonempty[0].dim()
    if rank not in (1, 2):
        raise ValueError(f"each sequence must be 1-D (T,) or 2-D (T, D), got shape {tuple(nonempty[0].shape)}")
    feat = tuple(nonempty[0].shape[1:])  # () or (D,)
    for i, t in enumerate(tensors):
        if t.numel() == 0:
            tensors[i] = t.reshape(0, *feat)  # an empty list reads as shape (0,)
        elif t.dim() != rank or tuple(t.shape[1:]) != feat:
            expected = f"(T, {feat[0]})" if feat else "(T,)"
            raise ValueError(f"seqs[{i}] has shape {tuple(t.shape)}, but the sequences before it "
                             f"have shape {expected}: all must share rank and D")
    dtype = nonempty[0].dtype
    for t in nonempty[1:]:
        dtype = torch.promote_types(dtype, t.dtype)
    if not dtype.is_floating_point and not float(value).is_integer():
        raise ValueError(f"value={value} cannot be stored in the integer dtype {dtype} of seqs")
    longest = max(t.shape[0] for t in tensors)
    T = longest if max_len is None else _check_int("max_len", max_len, 1)
    N = len(tensors)
    padded = torch.full((N, T, *feat), value, dtype=dtype)  # (N, T) or (N, T, D)
    lengths = torch.empty(N, dtype=torch.long)
    for n, t in enumerate(tensors):
        if t.shape[0] > T:  # truncate: keep the head ("post") or the tail ("pre")
            t = t[:T] if truncating == "post" else t[t.shape[0] - T:]
        ell = t.shape[0]
        lengths[n] = ell
        if ell == 0:
            continue
        if padding == "post":
            padded[n, :ell] = t.to(dtype)
        else:
            padded[n, T - ell:] = t.to(dtype)
    return padded, lengths, lengths_to_mask(lengths, T, padding)


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over time of the real steps only; pads (whatever they hold, even NaN) are ignored.

    Inputs:
    - x: (N, T) or (N, T, D) tensor.
    - mask: (N, T) bool, True at real steps.

    Returns:
    - (N,) or (N, D): ``sum_t mask[n,t] x[n,t] / sum_t mask[n,t]``; 0 for a row with no real step.
    """
    if not isinstance(x, torch.Tensor) or not isinstance(mask, torch.Tensor):
        raise TypeError("x and mask must be torch tensors")
    if x.dim() not in (2, 3):
        raise ValueError(f"x must be (N, T) or (N, T, D), got shape {tuple(x.shape)}")
    if mask.dtype != torch.bool:
        raise TypeError(f"mask must be a bool tensor, got dtype {mask.dtype}")
    if tuple(mask.shape) != tuple(x.shape[:2]):
        raise ValueError(f"mask has shape {tuple(mask.shape)}, expected (N, T) = {tuple(x.shape[:2])}")
    m = mask if x.dim() == 2 else mask[..., None]  # (N, T) or (N, T, 1)
    # where(), not x * mask: a NaN or inf in a pad would survive multiplication by 0
    total = torch.where(m, x, torch.zeros((), dtype=x.dtype, device=x.device)).sum(dim=1)
    count = m.sum(dim=1).clamp(min=1).to(x.dtype)  # (N,) or (N, 1); an empty row divides by 1
    return total / count


def gather_last(x: torch.Tensor, lengths: Any, padding: str = "post") -> torch.Tensor:
    """The output at the last *real* step of each sequence of a padded batch.

    ``x[:, -1]`` is a pad for every short sequence of a post-padded batch; this picks
    ``x[n, lengths[n] - 1]`` instead (or ``x[n, -1]`` when the batch is pre-padded).

    Inputs:
    - x: (N, T, H) (or (N, T)) tensor, e.g. the outputs of a recurrent layer.
    - lengths: (N,) ints in ``[1, T]``.
    - padding: how the batch was padded, ``"post"`` or ``"pre"``.

    Returns:
    - (N, H) (or (N,)) tensor.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch tensor, got {type(x).__name__}")
    if x.dim() < 2:
        raise ValueError(f"x must be (N, T, ...), got shape {tuple(x.shape)}")
    lengths = _as_lengths("lengths", lengths).to(x.device)
    padding = _check_side("padding", padding)
    N, T = x.shape[:2]
    if lengths.shape[0] != N:
        raise ValueError(f"lengths has {lengths.shape[0]} entries, but x has N={N} rows")
    if (lengths == 0).any() or (lengths > T).any():
        raise ValueError(f"lengths must lie in [1, T={T}] (a sequence of length 0 has no last step), "
                         f"got {lengths.tolist()}")
    if padding == "pre":
        return x[:, -1]
    return x[torch.arange(N, device=x.device), lengths - 1]


# --- forecasting data ---------------------------------------------------------------------------


def _as_series(name: str, series: Any) -> torch.Tensor:
    """A (T,) or (T, D) series as a (T, D) tensor."""
    s = _as_tensor(name, series)
    if s.dim() == 1:
        s = s[:, None]  # (T, 1)
    if s.dim() != 2:
        raise ValueError(f"{name} must be (T,) or (T, D), got shape {tuple(s.shape)}")
    if s.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    return s


def sliding_windows(
    series: Any, window: int, horizon: int = 1, stride: int = 1
) -> tuple[torch.Tensor, torch.Tensor]:
    """Cut a series into (past window, future horizon) pairs for supervised forecasting.

    Pair i uses ``series[i*stride : i*stride + window]`` as input and the next ``horizon``
    steps as target, so N = (T - window - horizon) // stride + 1.

    Inputs:
    - series: (T,) or (T, D) tensor / array / pandas object.
    - window: steps of history per example (>= 1).
    - horizon: steps to predict (>= 1).
    - stride: steps between the starts of consecutive windows (>= 1).

    Returns a tuple of:
    - X: (N, window, D) tensor (D = 1 for a 1-D series).
    - Y: (N, horizon, D) tensor.
    """
    s = _as_series("series", series)  # (T, D)
    window = _check_int("window", window, 1)
    horizon = _check_int("horizon", horizon, 1)
    stride = _check_int("stride", stride, 1)
    T = s.shape[0]
    if window + horizon > T:
        raise ValueError(f"window + horizon = {window + horizon} is longer than the series (T={T})")
    pairs = s.unfold(0, window + horizon, stride)  # (N, D, window + horizon)
    pairs = pairs.permute(0, 2, 1)  # (N, window + horizon, D)
    # clone: unfold returns overlapping views of one buffer; writing into one window would change others
    return pairs[:, :window].clone(), pairs[:, window:].clone()


def time_split(series: Any, train: float = 0.7, val: float = 0.15, gap: int = 0) -> tuple[Any, Any, Any]:
    """Split a series into train / validation / test pieces in time order (no shuffling).

    The first ``floor(T * train)`` steps train, the next ``floor(T * val)`` validate, the rest
    test; ``gap`` steps are dropped at each of the two boundaries, so that examples built from
    overlapping history (windows, rolling features) cannot straddle them.

    Inputs:
    - series: (T, ...) tensor, array, list or pandas object (sliced by position).
    - train: fraction in (0, 1).
    - val: fraction in [0, 1); ``train + val`` must stay below 1 (the test piece is the rest).
    - gap: steps left out between the pieces (>= 0).

    Returns a tuple of:
    - train, val, test pieces of the same type as ``series`` (lengths T_tr, T_va, T_te along the
      first axis; ``val`` is empty only when ``val == 0``).
    """
    for name, frac in (("train", train), ("val", val)):
        if isinstance(frac, bool) or not isinstance(frac, (int, float)):
            raise TypeError(f"{name} must be a float fraction, got {type(frac).__name__}")
    if not 0 < train < 1:
        raise ValueError(f"train must lie in (0, 1), got {train}")
    if not 0 <= val < 1:
        raise ValueError(f"val must lie in [0, 1), got {val}")
    if train + val >= 1:
        raise ValueError(f"train + val must be below 1 to leave a test piece, got {train} + {val}")
    gap = _check_int("gap", gap, 0)
    if isinstance(series, (str, bytes)) or not hasattr(series, "__len__"):
        raise TypeError(f"series must be an array, tensor, list or pandas object, got {type(series).__name__}")
    T = len(series)
    # round() first: 0.29 * 100 is 28.999999999999996 in floating point
    n_train = math.floor(round(T * train, 9))
    n_val = math.floor(round(T * val, 9))
    n_test = T - n_train - n_val - 2 * gap
    if n_train < 1 or n_test < 1 or (val > 0 and n_val < 1):
        raise ValueError(f"series of length T={T} is too short for train={train}, val={val}, gap={gap}: "
                         f"pieces would have {n_train}, {n_val} and {n_test} steps")
    cuts = (0, n_train, n_train + gap, n_train + gap + n_val, n_train + 2 * gap + n_val, T)
    take = series.iloc if hasattr(series, "iloc") else series  # pandas: by position, not label
    return take[cuts[0]:cuts[1]], take[cuts[2]:cuts[3]], take[cuts[4]:cuts[5]]


def _as_numpy(name: str, x: Any) -> np.ndarray:
    """Values of a tensor, array, pandas object or list as a NumPy array (for statistics)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return _as_tensor(name, x).numpy()


class Standardizer:
    """Scale features to zero mean and unit variance with statistics of the *training* data.

    Fit on the training piece only: statistics of the whole series would tell the model about
    the level and spread of the future it is meant to predict (leakage).

    Statistics are per feature (over every axis but the last) for 2-D or higher inputs, and one
    scalar mean and std for a 1-D series. Population std (ddof = 0); a constant feature gets
    std 1 so that it maps to 0 instead of dividing by zero.

    Attributes (after ``fit``):
    - mean_, std_: float64 NumPy arrays of shape () or (D,).
    """

    def __init__(self) -> None:
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None

    def fit(self, x: Any) -> Standardizer:
        """Learn mean and std from ``x``: (T,) or (..., D) tensor / array / pandas object."""
        v = _as_numpy("x", x).astype(np.float64)
        if v.size == 0:
            raise ValueError("x is empty: cannot fit a Standardizer on no data")
        if not np.all(np.isfinite(v)):
            raise ValueError("x contains NaN or inf: fill missing values first (see fill_missing)")
        axes = tuple(range(v.ndim - 1)) if v.ndim >= 2 else None
        self.mean_ = np.asarray(v.mean(axis=axes))
        std = np.asarray(v.std(axis=axes))
        self.std_ = np.where(std > 0, std, 1.0)
        return self

    def _check_fitted(self, x: Any) -> None:
        if self.mean_ is None or self.std_ is None:
            raise RuntimeError("this Standardizer is not fitted yet: call fit(train_part) first")
        if self.mean_.ndim == 1:
            d = x.shape[-1] if getattr(x, "ndim", 0) else None
            if d != self.mean_.shape[0]:
                raise ValueError(f"x has shape {tuple(x.shape)}, but the Standardizer was fitted on "
                                 f"D={self.mean_.shape[0]} features (last axis)")

    def _apply(self, x: Any, inverse: bool) -> Any:
        if isinstance(x, (list, tuple)):
            x = _as_numpy("x", x)
        self._check_fitted(x)
        if isinstance(x, torch.Tensor):
            if not x.is_floating_point():
                x = x.to(torch.get_default_dtype())
            mean = torch.as_tensor(self.mean_, dtype=x.dtype, device=x.device)
            std = torch.as_tensor(self.std_, dtype=x.dtype, device=x.device)
        else:
            mean, std = self.mean_, self.std_
        return x * std + mean if inverse else (x - mean) / std

    def transform(self, x: Any) -> Any:
        """Scale with the fitted statistics: ``(x - mean) / std``.

        Inputs:
        - x: (T,) or (..., D) tensor, array, list or pandas object (D as in ``fit``).

        Returns:
        - the same shape and type as ``x`` (a list comes back as a NumPy array; an integer
          tensor as a float tensor).
        """
        return self._apply(x, inverse=False)

    def inverse_transform(self, x: Any) -> Any:
        """Undo ``transform``: ``x * std + mean``, back to the original units (e.g. ppm).

        Inputs / Returns: as ``transform``.
        """
        return self._apply(x, inverse=True)

    def fit_transform(self, x: Any) -> Any:
        """``fit(x)`` then ``transform(x)`` (only ever on the training piece)."""
        return self.fit(x).transform(x)

    def __repr__(self) -> str:
        if self.mean_ is None:
            return "Standardizer(not fitted)"
        return f"Standardizer(mean={np.round(self.mean_, 4)}, std={np.round(self.std_, 4)})"


def autocorrelation(series: Any, max_lag: int) -> np.ndarray:
    """Sample autocorrelation of a 1-D series at lags 0..max_lag.

    ``r_k = sum_{t<T-k} (x_t - m)(x_{t+k} - m) / sum_t (x_t - m)^2`` with m the mean (the usual
    biased estimator, as ``statsmodels.tsa.stattools.acf``); ``r_0 = 1``.

    Inputs:
    - series: (T,) numbers without NaN (fill missing values first).
    - max_lag: largest lag, in [0, T - 1].

    Returns:
    - (max_lag + 1,) float64 NumPy array.
    """
    x = _as_numpy("series", series).astype(np.float64)
    if x.ndim != 1:
        raise ValueError(f"series must be 1-D (T,), got shape {x.shape}")
    T = x.shape[0]
    if T < 2:
        raise ValueError(f"series needs at least 2 steps, got {T}")
    if not np.all(np.isfinite(x)):
        raise ValueError("series contains NaN or inf: fill missing values first")
    max_lag = _check_int("max_lag", max_lag, 0)
    if max_lag >= T:
        raise ValueError(f"max_lag={max_lag} must be below the series length T={T}")
    d = x - x.mean()
    denom = float(d @ d)
    if denom == 0:
        raise ValueError("series is constant: its autocorrelation is undefined")
    return np.array([d[: T - k] @ d[k:] for k in range(max_lag + 1)]) / denom


# --- language-model batching -------------------------------------------------------------------


def batchify(ids: Any, batch_size: int) -> torch.Tensor:
    """Lay a long stream of token ids out as ``batch_size`` contiguous rows.

    Row n is the n-th stretch of ``L // batch_size`` consecutive tokens; the last
    ``L % batch_size`` tokens are dropped. Reading the rows chunk by chunk (``lm_chunks``) then
    gives fastbook's ``group_chunks`` order: row n of chunk k+1 continues row n of chunk k, so
    the hidden state carried from one chunk to the next is the state of the same text.

    Inputs:
    - ids: (L,) integer token ids (list or tensor).
    - batch_size: N, the number of parallel streams (>= 1).

    Returns:
    - (N, L // N) int64 tensor.
    """
    t = _as_tensor("ids", ids)
    if t.dim() != 1:
        raise ValueError(f"ids must be a 1-D stream (L,), got shape {tuple(t.shape)}")
    if t.is_floating_point() or t.is_complex() or t.dtype == torch.bool:
        raise TypeError(f"ids must hold integer token ids, got dtype {t.dtype}")
    N = _check_int("batch_size", batch_size, 1)
    S = t.shape[0] // N
    if S < 2:
        raise ValueError(f"ids has {t.shape[0]} tokens: too few for batch_size={N} "
                         "(each row needs at least 2 tokens, an input and its target)")
    return t[: N * S].long().reshape(N, S)  # (N, S)


def lm_chunks(
    data: torch.Tensor, bptt: int, drop_last: bool = False
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Iterate over (inputs, targets) chunks of a batchified stream for truncated BPTT.

    Chunk k holds columns ``k*bptt .. k*bptt + bptt - 1`` as inputs and the same columns shifted
    by one as targets (next-token prediction). Chunks are contiguous: carry the hidden state
    from one to the next (detached), as fastbook's ``LMModel3`` does.

    Inputs:
    - data: (N, S) int tensor from ``batchify``.
    - bptt: steps per chunk (>= 1).
    - drop_last: skip a shorter final chunk.

    Returns:
    - an iterator of ``(x, y)``, each (N, t) with t = bptt (t <= bptt for the last chunk);
      ``ceil((S - 1) / bptt)`` chunks in all (``floor`` with ``drop_last``).
    """
    if not isinstance(data, torch.Tensor):
        raise TypeError(f"data must be a tensor from batchify, got {type(data).__name__}")
    if data.dim() != 2:
        raise ValueError(f"data must be 2-D (N, S), got shape {tuple(data.shape)}")
    if data.shape[1] < 2:
        raise ValueError(f"data has S={data.shape[1]} columns: need at least 2 (input and target)")
    bptt = _check_int("bptt", bptt, 1)

    def chunks() -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        S = data.shape[1]
        for start in range(0, S - 1, bptt):
            t = min(bptt, S - 1 - start)
            if drop_last and t < bptt:
                return
            yield data[:, start:start + t], data[:, start + 1:start + 1 + t]  # (N, t), (N, t)

    return chunks()  # validation above runs now, not at the first next()
