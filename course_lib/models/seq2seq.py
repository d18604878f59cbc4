"""Encoder–decoder (sequence-to-sequence) with attention, greedy decoding and beam search.

Read bottom-up: masked softmax, the two attention score functions, encoder, decoder, the
``Seq2Seq`` model, one step of beam search, then batching and the teacher-forcing step.

Shapes: N batch, S source length (padded), T target length, E embedding size, H hidden size,
Hm = dirs * H the size of one encoder output ("memory"), V target vocabulary, K beam width.

Where this model stands among the classic designs. Bahdanau et al. (2015) score with an
*additive* function and feed the context vector into the decoder RNN step, with the previous
state as the query. Luong et al. (2015) query with the *current* decoder state and join the
context after the RNN step: ``h~_t = tanh(W_c [c_t; h_t])``, ``logits_t = W_o h~_t``. We use
Luong's arrangement with either score function (``attention="additive"`` or ``"dot"``): without
feeding the context back into the RNN, the decoder RNN can run over the whole target sequence
in one call during teacher-forced training (fast), and decoding one step at a time computes
exactly the same numbers (a test checks it).

Padding. Sources are padded at the end with ``src_pad_idx`` and come with their lengths. The
encoder packs them, so padded steps are never read; its outputs at padded steps are zeroed,
and the attention mask gives those positions exactly zero weight (their scores are set to
-inf before the softmax). What is written at a padded position therefore cannot change any
output (a test fills them with garbage).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .tasks import _layer_kwargs, check_lengths, make_recurrent, run_recurrent

__all__ = [
    "AdditiveAttention",
    "Decoded",
    "Decoder",
    "DotAttention",
    "Encoder",
    "Memory",
    "Seq2Seq",
    "beam_search_step",
    "collate_pairs",
    "masked_softmax",
    "seq2seq_step",
]

State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]  # h (L, N, H), or (h, c) for an LSTM
ATTENTIONS = ("additive", "dot", None)


# ----------------------------------------------------------------------------- attention


def masked_softmax(scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis that gives masked positions exactly zero weight.

    Inputs:
    - scores: (N, ..., S) attention scores, e.g. (N, T, S).
    - mask: (N, S) bool, True at real source positions and False at padding; every row needs
      at least one True (a source of length 0 has nothing to attend to).

    Returns:
    - weights: same shape as scores; along the last axis they sum to 1 over the True
      positions and are exactly 0.0 at the False ones.
    """
    if mask.dtype != torch.bool:
        raise TypeError(f"mask must be a bool tensor (True = real position), got dtype {mask.dtype}")
    N, S = scores.shape[0], scores.shape[-1]
    if mask.shape != (N, S):
        raise ValueError(f"mask must have shape (N, S) = ({N}, {S}), got {tuple(mask.shape)}")
    if not bool(mask.any(dim=1).all()):
        raise ValueError("every row of mask needs at least one True position (lengths must be >= 1)")
    view = (N,) + (1,) * (scores.dim() - 2) + (S,)  # broadcast the mask over the middle axes
    # -inf, not a large negative number: exp(-inf) is exactly 0, so padding gets exactly 0 weight
    scores = scores.masked_fill(~mask.reshape(view), float("-inf"))
    return F.softmax(scores, dim=-1)


def _as_queries(query: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """(N, Hq) -> (N, 1, Hq) and a flag to undo it; (N, T, Hq) stays."""
    if query.dim() == 2:
        return query.unsqueeze(1), True
    if query.dim() == 3:
        return query, False
    raise ValueError(f"query must have shape (N, Hq) or (N, T, Hq), got {tuple(query.shape)}")


class AdditiveAttention(nn.Module):
    """Bahdanau's additive score: ``score(q, k) = v^T tanh(W_q q + W_k k)``.

    A one-hidden-layer network compares the query with every key; it works whatever the
    sizes of queries and keys.
    """

    def __init__(self, query_size: int, key_size: int, attn_size: int) -> None:
        super().__init__()
        self.query_proj = nn.Linear(query_size, attn_size, bias=False)  # W_q
        self.key_proj = nn.Linear(key_size, attn_size, bias=True)  # W_k (with the layer's bias)
        self.v = nn.Linear(attn_size, 1, bias=False)  # v

    def forward(
        self, query: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Context vectors and attention weights.

        Inputs:
        - query: (N, Hq) for one decoder step, or (N, T, Hq) for T steps at once.
        - keys: (N, S, Hk) encoder outputs (also used as the values).
        - mask: (N, S) bool, True at real source positions.

        Returns:
        - context: (N, Hk) or (N, T, Hk), the weighted average of the keys.
        - weights: (N, S) or (N, T, S), each row sums to 1 over the real positions.
        """
        q, squeeze = _as_queries(query)  # (N, T, Hq)
        hidden = torch.tanh(self.query_proj(q).unsqueeze(2) + self.key_proj(keys).unsqueeze(1))  # (N, T, S, A)
        scores = self.v(hidden).squeeze(-1)  # (N, T, S)
        weights = masked_softmax(scores, mask)  # (N, T, S)
        context = weights @ keys  # (N, T, Hk)
        return (context.squeeze(1), weights.squeeze(1)) if squeeze else (context, weights)


class DotAttention(nn.Module):
    """Luong's multiplicative score: ``score(q, k) = q^T k`` (or ``q^T W k`` if sizes differ).

    When the query and key sizes differ (a bidirectional encoder), the keys go through a
    linear map first: Luong's "general" score. No 1/sqrt(H) scaling, as in Luong et al.;
    Transformers add it because their vectors are much wider.
    """

    def __init__(self, query_size: int, key_size: int) -> None:
        super().__init__()
        self.key_proj = None if query_size == key_size else nn.Linear(key_size, query_size, bias=False)

    def forward(
        self, query: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Context vectors and attention weights (same contract as ``AdditiveAttention``)."""
        q, squeeze = _as_queries(query)  # (N, T, Hq)
        k = keys if self.key_proj is None else self.key_proj(keys)  # (N, S, Hq)
        scores = q @ k.transpose(1, 2)  # (N, T, S)
        weights = masked_softmax(scores, mask)  # (N, T, S)
        context = weights @ keys  # (N, T, Hk)
        return (context.squeeze(1), weights.squeeze(1)) if squeeze else (context, weights)


# ----------------------------------------------------------------------------- encoder, decoder


class Memory(NamedTuple):
    """What the encoder hands the decoder."""

    outputs: torch.Tensor  # (N, S, Hm) encoder output at every source step, 0 at padding
    mask: torch.Tensor  # (N, S) bool, True at real source steps
    state: State  # initial decoder state, h (L, N, H) or (h, c)


def _check_tokens(idx: torch.Tensor, vocab_size: int, name: str) -> None:
    if not isinstance(idx, torch.Tensor):
        raise TypeError(f"{name} must be a tensor of token ids (N, T), got {type(idx).__name__}")
    if idx.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        raise TypeError(f"{name} must hold integer token ids, got dtype {idx.dtype}")
    if idx.dim() != 2 or idx.shape[0] == 0 or idx.shape[1] == 0:
        raise ValueError(f"{name} must have shape (N, T) with N, T >= 1, got {tuple(idx.shape)}")
    lo, hi = int(idx.min()), int(idx.max())
    if lo < 0 or hi >= vocab_size:
        raise ValueError(f"{name} token ids must be in 0..{vocab_size - 1}, got values from {lo} to {hi}")


def _check_src_lengths(src_lengths: torch.Tensor | Sequence[int], N: int, S: int) -> torch.Tensor:
    """``check_lengths`` with messages that name the argument ``src_lengths``."""
    if src_lengths is None:
        raise ValueError("src_lengths is required: (N,) true lengths of the padded sources")
    try:
        return check_lengths(src_lengths, N, S)
    except (TypeError, ValueError) as err:
        raise type(err)(f"src_lengths: {err}") from None


class Encoder(nn.Module):
    """Embedding and a (optionally bidirectional, stacked) recurrent layer over the source."""

    def __init__(
        self, vocab_size: int, embed_dim: int, hidden_size: int, kind: str = "gru", num_layers: int = 1,
        bidirectional: bool = False, dropout: float = 0.0, pad_idx: int = 0, impl: str = "torch",
    ) -> None:
        super().__init__()
        self.vocab_size, self.kind = vocab_size, kind.lower()
        self.num_layers, self.bidirectional = num_layers, bidirectional
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_idx)
        self.rnn = make_recurrent(kind, impl, **_layer_kwargs(embed_dim, hidden_size, num_layers, dropout, bidirectional))
        self.dropout = nn.Dropout(dropout)

    def forward(self, src: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, State]:
        """Encode a padded batch.

        Inputs:
        - src: (N, S) token ids, padded at the end.
        - lengths: (N,) int64 true lengths, 1 <= length <= S (already checked).

        Returns:
        - outputs: (N, S, dirs*H), zero at padded steps.
        - state: final state (L*dirs, N, H) (or (h, c)), taken at each row's last real step.
        """
        emb = self.dropout(self.embedding(src))  # (N, S, E)
        out, state = run_recurrent(self.rnn, emb, lengths)  # (N, S, dirs*H)
        keep = torch.arange(src.shape[1], device=src.device)[None, :] < lengths.to(src.device)[:, None]  # (N, S)
        return out * keep.unsqueeze(-1), state  # zero at padding whatever the layer left there


class Decoder(nn.Module):
    """Embedding, recurrent layer, attention over the encoder outputs, output layer.

    Per step t (Luong et al. 2015): ``h_t = RNN(embed(y_{t-1}), h_{t-1})``;
    ``c_t, a_t = attention(h_t, memory)``; ``h~_t = tanh(W_c [c_t; h_t])``; ``logits_t = W_o h~_t``.
    Without attention: ``logits_t = W_o h_t``, and the encoder reaches the decoder only
    through the initial state.
    """

    def __init__(
        self, vocab_size: int, embed_dim: int, hidden_size: int, memory_size: int, kind: str = "gru",
        attention: str | None = "additive", num_layers: int = 1, dropout: float = 0.0, pad_idx: int = 0,
        impl: str = "torch",
    ) -> None:
        super().__init__()
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_idx)
        self.rnn = make_recurrent(kind, impl, **_layer_kwargs(embed_dim, hidden_size, num_layers, dropout, False))
        self.dropout = nn.Dropout(dropout)
        if attention == "additive":
            self.attention: nn.Module | None = AdditiveAttention(hidden_size, memory_size, hidden_size)
        elif attention == "dot":
            self.attention = DotAttention(hidden_size, memory_size)
        else:
            self.attention = None
        self.combine = nn.Linear(hidden_size + memory_size, hidden_size) if self.attention is not None else None
        self.out = nn.Linear(hidden_size, vocab_size)

    def forward(
        self, tgt_in: torch.Tensor, state: State, memory: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, State, torch.Tensor | None]:
        """Run T decoder steps given the previous tokens (teacher forcing, or T = 1 to decode).

        Inputs:
        - tgt_in: (N, T) previous tokens: <bos> then the target shifted right.
        - state: decoder state before the first of these steps.
        - memory: (N, S, Hm) encoder outputs; mask: (N, S) bool.

        Returns:
        - logits: (N, T, V).
        - state: the state after the last step.
        - weights: (N, T, S) attention weights, or None without attention.
        """
        emb = self.dropout(self.embedding(tgt_in))  # (N, T, E)
        h, state = self.rnn(emb, state)  # (N, T, H)
        if self.attention is None:
            return self.out(self.dropout(h)), state, None  # (N, T, V)
        context, weights = self.attention(h, memory, mask)  # (N, T, Hm), (N, T, S)
        h_tilde = torch.tanh(self.combine(torch.cat([context, h], dim=-1)))  # (N, T, H)
        return self.out(self.dropout(h_tilde)), state, weights


# ----------------------------------------------------------------------------- the model


class Decoded(NamedTuple):
    """Output of ``greedy_decode`` and ``beam_search``, one entry per example."""

    tokens: list[list[int]]  # output ids, ending with <eos> if it was produced within max_len
    scores: list[float]  # sum of log-probabilities of those tokens (beam: before length penalty)
    weights: list[torch.Tensor] | None  # per example (len(tokens), length) attention weights; None without attention


class Seq2Seq(nn.Module):
    """Encoder–decoder with (or without) attention.

    Inputs (constructor):
    - src_vocab_size, tgt_vocab_size: vocabulary sizes of source and target.
    - bos_idx, eos_idx: ids of <bos> (first decoder input) and <eos> (end of output) in the
      target vocabulary.
    - embed_dim, hidden_size: E and H (encoder and decoder share H).
    - kind: "gru", "lstm" or "rnn" for both encoder and decoder.
    - attention: "additive" (Bahdanau's score), "dot" (Luong's) or None (the encoder's final
      state is all the decoder gets).
    - num_layers, dropout: stacked layers in encoder and decoder, dropout between them and on
      embeddings / outputs.
    - bidirectional: a bidirectional encoder; its final forward and backward states are merged
      by a linear "bridge" (with tanh) into the decoder's initial state.
    - src_pad_idx, tgt_pad_idx: padding ids (the target padding is ignored by the loss).
    - impl: "torch" (``torch.nn`` layers) or "scratch" (``course_lib.models.recurrent``).
    """

    def __init__(
        self, src_vocab_size: int, tgt_vocab_size: int, bos_idx: int, eos_idx: int, embed_dim: int = 32,
        hidden_size: int = 64, kind: str = "gru", attention: str | None = "additive", num_layers: int = 1,
        bidirectional: bool = False, dropout: float = 0.0, src_pad_idx: int = 0, tgt_pad_idx: int = 0,
        impl: str = "torch",
    ) -> None:
        super().__init__()
        for name, value, low in (("src_vocab_size", src_vocab_size, 2), ("tgt_vocab_size", tgt_vocab_size, 3),
                                 ("embed_dim", embed_dim, 1), ("hidden_size", hidden_size, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if attention not in ATTENTIONS:
            raise ValueError(f"attention must be one of {ATTENTIONS}, got {attention!r}")
        for name, value, vocab in (("bos_idx", bos_idx, tgt_vocab_size), ("eos_idx", eos_idx, tgt_vocab_size),
                                   ("tgt_pad_idx", tgt_pad_idx, tgt_vocab_size),
                                   ("src_pad_idx", src_pad_idx, src_vocab_size)):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < vocab:
                raise ValueError(f"{name} must be an id in 0..{vocab - 1}, got {value!r}")
        if len({bos_idx, eos_idx, tgt_pad_idx}) != 3:
            raise ValueError(f"bos_idx, eos_idx and tgt_pad_idx must differ, got {bos_idx}, {eos_idx}, {tgt_pad_idx}")
        self.src_vocab_size, self.tgt_vocab_size = src_vocab_size, tgt_vocab_size
        self.bos_idx, self.eos_idx = bos_idx, eos_idx
        self.src_pad_idx, self.tgt_pad_idx = src_pad_idx, tgt_pad_idx
        self.kind, self.attention_kind = kind.lower(), attention
        dirs = 2 if bidirectional else 1
        self.encoder = Encoder(src_vocab_size, embed_dim, hidden_size, kind, num_layers, bidirectional,
                               dropout, src_pad_idx, impl)
        self.decoder = Decoder(tgt_vocab_size, embed_dim, hidden_size, dirs * hidden_size, kind, attention,
                               num_layers, dropout, tgt_pad_idx, impl)
        # The decoder is unidirectional: a bidirectional encoder's two final states per layer
        # are merged into one. An LSTM's cell state gets its own bridge.
        n_bridges = (2 if self.kind == "lstm" else 1) if bidirectional else 0
        self.bridges = nn.ModuleList(nn.Linear(2 * hidden_size, hidden_size) for _ in range(n_bridges))
        self.num_layers, self.hidden_size = num_layers, hidden_size

    # --- encoding ------------------------------------------------------------------------------

    def _bridge(self, state: State) -> State:
        """Encoder final state -> decoder initial state, (L, N, H) per tensor."""
        if not self.bridges:
            return state
        parts = state if isinstance(state, tuple) else (state,)
        merged = []
        for s, bridge in zip(parts, self.bridges, strict=True):
            L2, N, H = s.shape
            s = s.view(L2 // 2, 2, N, H).permute(0, 2, 1, 3).reshape(L2 // 2, N, 2 * H)  # (L, N, 2H): [fwd | bwd]
            merged.append(torch.tanh(bridge(s)))  # (L, N, H)
        return tuple(merged) if isinstance(state, tuple) else merged[0]

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor | Sequence[int]) -> Memory:
        """Run the encoder.

        Inputs:
        - src: (N, S) source token ids, padded at the end with src_pad_idx.
        - src_lengths: (N,) true lengths, each in 1..S.

        Returns:
        - ``Memory(outputs (N, S, Hm), mask (N, S), state)``.
        """
        _check_tokens(src, self.src_vocab_size, "src")
        src = src.to(self.decoder.out.weight.device).long()
        N, S = src.shape
        lengths = _check_src_lengths(src_lengths, N, S)
        outputs, state = self.encoder(src, lengths)  # (N, S, Hm)
        mask = torch.arange(S, device=src.device)[None, :] < lengths.to(src.device)[:, None]  # (N, S)
        return Memory(outputs, mask, self._bridge(state))

    # --- teacher forcing -------------------------------------------------------------------------

    def forward(
        self, src: torch.Tensor, src_lengths: torch.Tensor | Sequence[int], tgt_in: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Teacher-forced scores: the decoder reads the true previous tokens.

        Inputs:
        - src: (N, S) source ids, padded; src_lengths: (N,) true lengths.
        - tgt_in: (N, T) decoder inputs: <bos> followed by the target without its last token
          (padded with tgt_pad_idx; the logits at padded steps are to be ignored by the loss).

        Returns:
        - logits: (N, T, V); logits[:, t] scores the token after tgt_in[:, t].
        - weights: (N, T, S) attention weights, or None without attention.
        """
        memory = self.encode(src, src_lengths)
        _check_tokens(tgt_in, self.tgt_vocab_size, "tgt_in")
        if tgt_in.shape[0] != src.shape[0]:
            raise ValueError(f"tgt_in has {tgt_in.shape[0]} rows but src has {src.shape[0]}")
        tgt_in = tgt_in.to(memory.outputs.device).long()
        logits, _, weights = self.decoder(tgt_in, memory.state, memory.outputs, memory.mask)
        return logits, weights

    # --- decoding --------------------------------------------------------------------------------

    def decode_step(
        self, prev: torch.Tensor, state: State, memory: Memory
    ) -> tuple[torch.Tensor, State, torch.Tensor | None]:
        """One decoder step.

        Inputs:
        - prev: (N,) the previous output token of each row (<bos> at the first step).
        - state: decoder state; memory: from ``encode`` (N rows, or N copies of one row).

        Returns:
        - log_probs: (N, V) log-probabilities of the next token.
        - state: the new state.
        - weights: (N, S) attention weights, or None.
        """
        logits, state, weights = self.decoder(prev.unsqueeze(1), state, memory.outputs, memory.mask)
        log_probs = F.log_softmax(logits.squeeze(1).float(), dim=-1)  # (N, V)
        return log_probs, state, None if weights is None else weights.squeeze(1)

    def _check_decoding(self, max_len: int) -> None:
        if isinstance(max_len, bool) or not isinstance(max_len, int) or max_len < 1:
            raise ValueError(f"max_len must be an integer >= 1, got {max_len!r}")

    @torch.no_grad()
    def greedy_decode(
        self, src: torch.Tensor, src_lengths: torch.Tensor | Sequence[int], max_len: int = 50
    ) -> Decoded:
        """Pick the most likely token at every step, for the whole batch at once.

        Inputs:
        - src: (N, S) source ids, padded; src_lengths: (N,) true lengths.
        - max_len: the most tokens to produce per example (<eos> included).

        Returns:
        - ``Decoded``: per example the tokens up to and including the first <eos> (or
          max_len tokens), their summed log-probability, and the attention weights
          (len(tokens), length) of the steps that produced them.
        """
        self._check_decoding(max_len)
        was_training = self.training
        self.eval()
        try:
            memory = self.encode(src, src_lengths)
            N = src.shape[0]
            prev = torch.full((N,), self.bos_idx, dtype=torch.long, device=memory.outputs.device)
            state = memory.state
            steps, step_weights = [], []
            score = torch.zeros(N, dtype=torch.float64, device=prev.device)
            done = torch.zeros(N, dtype=torch.bool, device=prev.device)
            for _ in range(max_len):
                log_probs, state, weights = self.decode_step(prev, state, memory)
                prev = log_probs.argmax(dim=-1)  # (N,)
                score += torch.where(done, 0.0, log_probs.gather(1, prev[:, None]).squeeze(1).double())
                steps.append(prev)
                step_weights.append(weights)
                done |= prev == self.eos_idx
                if bool(done.all()):
                    break
        finally:
            self.train(was_training)
        tokens_nt = torch.stack(steps, dim=1).tolist()  # (N, T') as lists
        lengths = _check_src_lengths(src_lengths, N, src.shape[1]).tolist()
        tokens, weights_out = [], []
        for n, row in enumerate(tokens_nt):
            cut = row.index(self.eos_idx) + 1 if self.eos_idx in row else len(row)
            tokens.append(row[:cut])
            if self.decoder.attention is not None:
                w = torch.stack([sw[n] for sw in step_weights[:cut]])  # (cut, S)
                weights_out.append(w[:, : lengths[n]].cpu())
        return Decoded(tokens, score.tolist(), weights_out if self.decoder.attention is not None else None)

    @torch.no_grad()
    def beam_search(
        self, src: torch.Tensor, src_lengths: torch.Tensor | Sequence[int], beam_width: int = 4,
        max_len: int = 50, length_penalty: float = 0.0,
    ) -> Decoded:
        """Keep the ``beam_width`` most likely partial outputs at every step (one example at a time).

        Finished hypotheses (ending in <eos>) are ranked by ``score / lp(len)`` with Wu et
        al.'s (2016) ``lp(len) = ((5 + len) / 6) ** length_penalty``; 0 ranks by the summed
        log-probability itself. With ``length_penalty == 0`` the search stops as soon as no
        live hypothesis can beat the best finished one (log-probabilities only decrease);
        otherwise when ``beam_width`` hypotheses have finished, or at max_len. With
        ``beam_width == 1`` this is exactly greedy decoding.

        Inputs:
        - src: (N, S) source ids, padded; src_lengths: (N,) true lengths.
        - beam_width: K >= 1.
        - max_len: the most tokens per output (<eos> included).
        - length_penalty: alpha >= 0 (0.6 to 1.0 favours longer outputs).

        Returns:
        - ``Decoded`` with the best hypothesis of each example.
        """
        self._check_decoding(max_len)
        if isinstance(beam_width, bool) or not isinstance(beam_width, int) or beam_width < 1:
            raise ValueError(f"beam_width must be an integer >= 1, got {beam_width!r}")
        if not (isinstance(length_penalty, (int, float)) and length_penalty >= 0):
            raise ValueError(f"length_penalty must be a number >= 0, got {length_penalty!r}")
        was_training = self.training
        self.eval()
        try:
            memory = self.encode(src, src_lengths)
            lengths = _check_src_lengths(src_lengths, src.shape[0], src.shape[1]).tolist()
            results = [self._beam_one(memory, n, lengths[n], beam_width, max_len, float(length_penalty))
                       for n in range(src.shape[0])]
        finally:
            self.train(was_training)
        tokens, scores, weights = zip(*results, strict=True)
        return Decoded(list(tokens), list(scores), list(weights) if self.decoder.attention is not None else None)

    def _beam_one(
        self, memory: Memory, n: int, length: int, K: int, max_len: int, alpha: float
    ) -> tuple[list[int], float, torch.Tensor | None]:
        """Beam search for row n of an encoded batch."""

        def lp(steps: int) -> float:
            return ((5.0 + steps) / 6.0) ** alpha

        def rows(x: State, idx: torch.Tensor) -> State:  # select rows (dim 1 of a state, dim 0 otherwise)
            if isinstance(x, tuple):
                return tuple(s[:, idx] for s in x)
            return x[:, idx]

        device = memory.outputs.device
        one = torch.tensor([n], device=device)
        mem = Memory(memory.outputs[one, :length], memory.mask[one, :length], rows(memory.state, one))
        # live hypotheses: tokens (k, t), summed log-probs (k,), attention rows (k, t, length)
        tokens = torch.empty(1, 0, dtype=torch.long, device=device)
        scores = torch.zeros(1, dtype=torch.float64, device=device)
        attn = torch.empty(1, 0, length, device=device)
        state = mem.state
        prev = torch.full((1,), self.bos_idx, dtype=torch.long, device=device)
        finished: list[tuple[float, list[int], float, torch.Tensor]] = []  # (rank key, tokens, score, attn)
        for _ in range(max_len):
            k = tokens.shape[0]
            expanded = Memory(mem.outputs.expand(k, -1, -1), mem.mask.expand(k, -1), None)
            log_probs, state, weights = self.decode_step(prev, state, expanded)  # (k, V)
            new_scores, beam_idx, token_idx = beam_search_step(scores, log_probs.double(), min(2 * K, k * log_probs.shape[1]))
            keep = []
            for j in range(new_scores.shape[0]):  # candidates, best first
                b, tok = int(beam_idx[j]), int(token_idx[j])
                step_attn = weights[b : b + 1] if weights is not None else torch.zeros(1, length, device=device)
                if tok == self.eos_idx:
                    # Only an <eos> among the K best candidates ends a hypothesis (as in fairseq); the
                    # 2K candidates exist so that K live ones remain when some of the best end.
                    if j >= K:
                        continue
                    seq_attn = torch.cat([attn[b], step_attn], dim=0)  # (t+1, length)
                    seq = tokens[b].tolist() + [tok]
                    finished.append((float(new_scores[j]) / lp(len(seq)), seq, float(new_scores[j]), seq_attn))
                elif len(keep) < K:
                    keep.append(j)
            if not keep:
                break
            keep_t = torch.tensor(keep, device=device)
            b_keep = beam_idx[keep_t]
            prev = token_idx[keep_t]
            tokens = torch.cat([tokens[b_keep], prev[:, None]], dim=1)  # (k', t+1)
            step_w = weights[b_keep] if weights is not None else torch.zeros(len(keep), length, device=device)
            attn = torch.cat([attn[b_keep], step_w[:, None]], dim=1)  # (k', t+1, length)
            scores = new_scores[keep_t]
            state = rows(state, b_keep)
            if finished:
                best = max(f[0] for f in finished)
                if alpha == 0.0 and best >= float(scores.max()):
                    break  # every live hypothesis can only lose probability from here
                if alpha > 0.0 and len(finished) >= K:
                    break
        if not finished:  # nothing ended within max_len: return the best live hypothesis
            j = int(torch.argmax(scores))
            finished.append((float(scores[j]) / lp(tokens.shape[1]), tokens[j].tolist(), float(scores[j]), attn[j]))
        _, seq, score, seq_attn = max(finished, key=lambda f: f[0])
        return seq, score, (seq_attn.cpu() if self.decoder.attention is not None else None)


def beam_search_step(
    beam_scores: torch.Tensor, log_probs: torch.Tensor, n_best: int
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Expand every live hypothesis by every token and keep the ``n_best`` best.

    Inputs:
    - beam_scores: (k,) summed log-probabilities of the k live hypotheses.
    - log_probs: (k, V) log-probabilities of the next token for each hypothesis.
    - n_best: how many expansions to keep, 1 <= n_best <= k * V.

    Returns:
    - scores: (n_best,) the new summed log-probabilities, best first.
    - beam_idx: (n_best,) int64, which hypothesis each expansion extends.
    - token_idx: (n_best,) int64, the token it appends.
    """
    if beam_scores.dim() != 1 or log_probs.dim() != 2 or log_probs.shape[0] != beam_scores.shape[0]:
        raise ValueError(f"beam_scores must be (k,) and log_probs (k, V), got {tuple(beam_scores.shape)} "
                         f"and {tuple(log_probs.shape)}")
    k, V = log_probs.shape
    if isinstance(n_best, bool) or not isinstance(n_best, int) or not 1 <= n_best <= k * V:
        raise ValueError(f"n_best must be an integer in 1..k*V = {k * V}, got {n_best!r}")
    total = beam_scores[:, None] + log_probs  # (k, V): score of every one-token extension
    scores, flat = torch.topk(total.reshape(-1), n_best)  # (n_best,) over all k*V candidates
    return scores, torch.div(flat, V, rounding_mode="floor"), flat % V


# ----------------------------------------------------------------------------- data and training


def collate_pairs(
    pairs: Sequence[tuple[Sequence[int], Sequence[int]]], bos_idx: int, eos_idx: int, pad_idx: int = 0,
    src_pad_idx: int = 0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Pad a list of (source ids, target ids) pairs into one teacher-forcing batch.

    Inputs:
    - pairs: N pairs; each source has >= 1 id, each target >= 0 ids (without <bos>/<eos>).
    - bos_idx, eos_idx, pad_idx: target-vocabulary ids; src_pad_idx: source padding id.

    Returns a tuple of:
    - src: (N, S) int64, padded at the end; src_lengths: (N,) int64.
    - tgt_in: (N, T) <bos> + target, padded; tgt_out: (N, T) target + <eos>, padded
      (T = longest target + 1).
    """
    if not pairs:
        raise ValueError("pairs is empty")
    srcs = [list(s) for s, _ in pairs]
    tgts = [list(t) for _, t in pairs]
    if min(len(s) for s in srcs) < 1:
        raise ValueError("every source sequence needs at least one token")
    N, S, T = len(pairs), max(len(s) for s in srcs), max(len(t) for t in tgts) + 1
    src = torch.full((N, S), src_pad_idx, dtype=torch.long)
    tgt_in = torch.full((N, T), pad_idx, dtype=torch.long)
    tgt_out = torch.full((N, T), pad_idx, dtype=torch.long)
    for n, (s, t) in enumerate(zip(srcs, tgts, strict=True)):
        src[n, : len(s)] = torch.tensor(s, dtype=torch.long)
        tgt_in[n, : len(t) + 1] = torch.tensor([bos_idx, *t], dtype=torch.long)
        tgt_out[n, : len(t) + 1] = torch.tensor([*t, eos_idx], dtype=torch.long)
    return src, torch.tensor([len(s) for s in srcs], dtype=torch.long), tgt_in, tgt_out


def seq2seq_step(model: Seq2Seq, batch: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Teacher-forced loss of one batch, as a ``step_fn`` for ``course_lib.train.fit``.

    The loss is the mean cross-entropy over the real target tokens (padding ignored): each
    token counts once, whatever the lengths of the other rows.

    Inputs:
    - model: a ``Seq2Seq``.
    - batch: (src, src_lengths, tgt_in, tgt_out) from ``collate_pairs``.

    Returns:
    - (loss, logits (N, T, V), tgt_out (N, T)).
    """
    if len(batch) != 4:
        raise ValueError(f"batch must be (src, src_lengths, tgt_in, tgt_out), got {len(batch)} items")
    src, src_lengths, tgt_in, tgt_out = batch
    if tgt_out.shape != tgt_in.shape:
        raise ValueError(f"tgt_in and tgt_out must have the same shape, got {tuple(tgt_in.shape)} "
                         f"and {tuple(tgt_out.shape)}")
    logits, _ = model(src, src_lengths, tgt_in)  # (N, T, V)
    # mean over real target tokens: ignore_index drops padding from both sum and count
    loss = F.cross_entropy(logits.transpose(1, 2), tgt_out.to(logits.device), ignore_index=model.tgt_pad_idx)
    return loss, logits, tgt_out
