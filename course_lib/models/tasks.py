"""Task models built on one recurrent layer: classifier, regressor/forecaster, character LM.

Each model takes ``kind`` ("rnn", "lstm", "gru") and ``impl``:

- ``impl="torch"`` uses ``torch.nn.RNN/LSTM/GRU`` (fast, cuDNN on a GPU): what the
  applications chapter trains;
- ``impl="scratch"`` uses the course's own ``course_lib.models.recurrent`` layers, which have
  the same constructor, forward signature and parameter names, so the two are interchangeable
  and ``load_state_dict`` moves weights between them.

Padded batches. Inputs are batch-first, padded at the end ("post"), with ``lengths`` (N,)
giving each sequence's true length (1 <= length <= T). The torch layers see a
``PackedSequence``; the scratch layers get ``lengths=``. A many-to-one model reads the output
at the last VALID step of each sequence, never ``output[:, -1]`` (which, for a padded row,
is the state after reading padding). For a bidirectional layer the backward direction's
summary of the whole sequence sits at t = 0, so the classifier concatenates
``forward output at t = length - 1`` with ``backward output at t = 0``.

The building blocks ``make_recurrent``, ``run_recurrent`` and ``last_valid_output`` are public:
the encoder–decoder with attention of the applications chapter (its own module) reuses them.
"""

from __future__ import annotations

import importlib

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

__all__ = [
    "CharLM",
    "SequenceClassifier",
    "SequenceRegressor",
    "last_valid_output",
    "make_recurrent",
    "run_recurrent",
]

KINDS = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}  # kind -> class name (same in torch.nn and ours)
IMPLS = ("scratch", "torch")

State = torch.Tensor | tuple[torch.Tensor, torch.Tensor]  # h (L*dirs, N, H), or (h, c) for an LSTM


# ----------------------------------------------------------------------------- building blocks


def make_recurrent(kind: str, impl: str = "torch", **kwargs) -> nn.Module:
    """Build a recurrent layer by name.

    Inputs:
    - kind: "rnn" (tanh Elman RNN), "lstm" or "gru".
    - impl: "torch" for ``torch.nn``'s layer, "scratch" for ``course_lib.models.recurrent``'s.
    - kwargs: the ``torch.nn.RNN/LSTM/GRU`` constructor arguments (input_size, hidden_size,
      num_layers, dropout, bidirectional, ...); ``batch_first`` defaults to True here.

    Returns:
    - the layer, an ``nn.Module`` whose forward is ``layer(x, state) -> (output, state)``.
    """
    if not isinstance(kind, str) or kind.lower() not in KINDS:
        raise ValueError(f"kind must be one of {tuple(KINDS)}, got {kind!r}")
    if impl not in IMPLS:
        raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
    kwargs.setdefault("batch_first", True)
    if impl == "torch":
        module = nn
    else:  # imported here, so the torch path works even while recurrent.py is being written
        module = importlib.import_module("course_lib.models.recurrent")
    return getattr(module, KINDS[kind.lower()])(**kwargs)


def check_lengths(lengths: torch.Tensor | list[int] | None, N: int, T: int) -> torch.Tensor | None:
    """Validate ``lengths`` and return them as an int64 tensor (None stays None).

    Inputs:
    - lengths: (N,) true lengths of a batch padded to T steps, or None (all full length).
    - N, T: batch size and padded length.

    Returns:
    - lengths as a (N,) int64 tensor on its original device (CPU for a list), or None.
    """
    if lengths is None:
        return None
    lengths = torch.as_tensor(lengths)
    if lengths.dtype.is_floating_point or lengths.dtype == torch.bool or lengths.is_complex():
        raise TypeError(f"lengths must hold integers, got dtype {lengths.dtype}")
    if lengths.shape != (N,):
        raise ValueError(f"lengths must have shape (N,) = ({N},), got {tuple(lengths.shape)}")
    lo, hi = int(lengths.min()), int(lengths.max())
    if lo < 1 or hi > T:
        raise ValueError(f"every length must be in 1..T (T={T}), got values from {lo} to {hi}")
    return lengths.long()


def run_recurrent(
    rnn: nn.Module, x: torch.Tensor, lengths: torch.Tensor | None = None, state: State | None = None
) -> tuple[torch.Tensor, State]:
    """Run a batch-first recurrent layer over a (possibly padded) batch.

    Inputs:
    - rnn: a layer from ``make_recurrent`` (batch_first=True).
    - x: inputs, shape (N, T, D), padded at the end.
    - lengths: (N,) true lengths, or None when every sequence has T steps.
    - state: initial state h0 (L*dirs, N, H) or (h0, c0); None = zeros.

    Returns:
    - output: (N, T, dirs*H); for the torch layers zeros at padded steps.
    - state: final state, each sequence's taken at its own last valid step (the backward
      direction's at t = 0).
    """
    if lengths is None:
        return rnn(x, state)
    if isinstance(rnn, nn.RNNBase):
        T = x.shape[1]
        # pack_padded_sequence wants lengths on the CPU; enforce_sorted=False sorts and unsorts for us
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, state = rnn(packed, state)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=T)  # (N, T, dirs*H)
        return out, state
    return rnn(x, state, lengths=lengths)


def last_valid_output(output: torch.Tensor, lengths: torch.Tensor | None, bidirectional: bool = False) -> torch.Tensor:
    """One vector per sequence that has read the whole (unpadded) sequence.

    Inputs:
    - output: recurrent outputs, shape (N, T, dirs*H).
    - lengths: (N,) true lengths, or None (then the last step T-1 is valid for all).
    - bidirectional: whether the last axis holds [forward H | backward H].

    Returns:
    - (N, dirs*H): the forward output at t = length-1, and for a bidirectional layer the
      backward output at t = 0 concatenated after it.
    """
    N, T, _ = output.shape
    if lengths is None:
        last = torch.full((N,), T - 1, dtype=torch.long, device=output.device)
    else:
        last = lengths.to(output.device).long() - 1
    fwd_last = output[torch.arange(N, device=output.device), last]  # (N, dirs*H)
    if not bidirectional:
        return fwd_last
    H = output.shape[-1] // 2
    return torch.cat([fwd_last[:, :H], output[:, 0, H:]], dim=-1)  # (N, 2H)


def _check_features(x: torch.Tensor, input_size: int) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a tensor of shape (N, T, D), got {type(x).__name__}")
    if x.dim() != 3 or x.shape[2] != input_size:
        raise ValueError(f"x must have shape (N, T, D={input_size}), got {tuple(x.shape)}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"x must have N >= 1 and T >= 1, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"x must be a float tensor, got dtype {x.dtype}")


def _check_tokens(idx: torch.Tensor, vocab_size: int, name: str = "x") -> None:
    if not isinstance(idx, torch.Tensor):
        raise TypeError(f"{name} must be a tensor of token ids (N, T), got {type(idx).__name__}")
    if idx.dim() != 2 or idx.shape[0] == 0 or idx.shape[1] == 0:
        raise ValueError(f"{name} must have shape (N, T) with N, T >= 1, got {tuple(idx.shape)}")
    if idx.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
        raise TypeError(f"{name} must hold integer token ids, got dtype {idx.dtype}")
    lo, hi = int(idx.min()), int(idx.max())
    if lo < 0 or hi >= vocab_size:
        raise ValueError(f"{name} token ids must be in 0..{vocab_size - 1}, got values from {lo} to {hi}")


def _layer_kwargs(input_size: int, hidden_size: int, num_layers: int, dropout: float, bidirectional: bool) -> dict:
    """Constructor arguments shared by the task models."""
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size), ("num_layers", num_layers)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    # Dropout inside the layer only acts BETWEEN stacked layers; torch warns if num_layers == 1.
    return dict(input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
                dropout=dropout if num_layers > 1 else 0.0, bidirectional=bidirectional)


# ----------------------------------------------------------------------------- many-to-one


class SequenceClassifier(nn.Module):
    """Many-to-one classifier: a sequence in, one vector of class scores out.

    Token input (``vocab_size`` + ``embed_dim``): ids (N, T) -> embedding -> recurrent layer.
    Feature input (``input_size``): (N, T, D) -> recurrent layer. Give exactly one of the two.
    The summary vector is ``last_valid_output`` (see the module docstring), then dropout and a
    linear head.
    """

    def __init__(
        self,
        vocab_size: int | None = None,
        embed_dim: int | None = None,
        hidden_size: int = 64,
        num_classes: int = 2,
        kind: str = "lstm",
        num_layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        impl: str = "torch",
        pad_idx: int | None = 0,
        input_size: int | None = None,
    ) -> None:
        super().__init__()
        if (vocab_size is None) == (input_size is None):
            raise ValueError("give exactly one of vocab_size (token ids) or input_size (feature vectors)")
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
        if vocab_size is not None:
            if embed_dim is None:
                raise ValueError("embed_dim is required with vocab_size")
            # padding_idx: the pad embedding stays zero and gets no gradient
            self.embedding: nn.Embedding | None = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_idx)
            rnn_input = embed_dim
        else:
            self.embedding = None
            rnn_input = input_size
        self.vocab_size, self.input_size = vocab_size, input_size
        self.bidirectional = bidirectional
        self.rnn = make_recurrent(kind, impl, **_layer_kwargs(rnn_input, hidden_size, num_layers, dropout, bidirectional))
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Class scores.

        Inputs:
        - x: token ids (N, T) (with vocab_size) or features (N, T, D) (with input_size),
          padded at the end.
        - lengths: (N,) true lengths; None when no sequence is padded.

        Returns:
        - logits: (N, num_classes), unnormalised (feed them to ``F.cross_entropy``).
        """
        if self.embedding is not None:
            _check_tokens(x, self.vocab_size)
            x = self.embedding(x)  # (N, T, E)
        else:
            _check_features(x, self.input_size)
        N, T, _ = x.shape
        lengths = check_lengths(lengths, N, T)
        out, _ = run_recurrent(self.rnn, x, lengths)  # (N, T, dirs*H)
        summary = last_valid_output(out, lengths, self.bidirectional)  # (N, dirs*H)
        return self.head(self.dropout(summary))  # (N, C)


class SequenceRegressor(nn.Module):
    """Recurrent regressor / forecaster on real-valued sequences (N, T, D).

    - ``many_to_many=False`` (default): read the window, predict the next ``horizon`` values
      at once from the last valid step: (N, T, D) -> (N, horizon), or
      (N, horizon, output_size) when output_size > 1 (several parallel series).
    - ``many_to_many=True``: a prediction at every step: (N, T, D) -> (N, T, output_size),
      e.g. y_t = x_{t+1} for one-step-ahead training on every position.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int = 32,
        output_size: int = 1,
        horizon: int = 1,
        kind: str = "lstm",
        num_layers: int = 1,
        dropout: float = 0.0,
        impl: str = "torch",
        many_to_many: bool = False,
    ) -> None:
        super().__init__()
        for name, value in (("output_size", output_size), ("horizon", horizon)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if many_to_many and horizon != 1:
            raise ValueError("many_to_many=True predicts one step per position: leave horizon=1")
        self.input_size, self.output_size, self.horizon = input_size, output_size, horizon
        self.many_to_many = many_to_many
        self.rnn = make_recurrent(kind, impl, **_layer_kwargs(input_size, hidden_size, num_layers, dropout, False))
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, output_size if many_to_many else horizon * output_size)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Predictions.

        Inputs:
        - x: (N, T, D) float inputs, padded at the end.
        - lengths: (N,) true lengths; None when no sequence is padded.

        Returns:
        - many-to-one: (N, horizon), or (N, horizon, output_size) if output_size > 1.
        - many-to-many: (N, T, output_size); values at padded steps are meaningless (mask
          them out of the loss).
        """
        _check_features(x, self.input_size)
        N, T, _ = x.shape
        lengths = check_lengths(lengths, N, T)
        out, _ = run_recurrent(self.rnn, x, lengths)  # (N, T, H)
        if self.many_to_many:
            return self.head(self.dropout(out))  # (N, T, output_size)
        y = self.head(self.dropout(last_valid_output(out, lengths)))  # (N, horizon*output_size)
        return y if self.output_size == 1 else y.view(N, self.horizon, self.output_size)


# ----------------------------------------------------------------------------- language model


class CharLM(nn.Module):
    """Character-level language model: embedding -> recurrent layer -> logits at every step.

    The state is passed in and out explicitly (never kept on the module), so truncated BPTT
    is ``logits, state = model(x, detach_state(state))`` and generation carries it step by step.
    """

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int = 32,
        hidden_size: int = 128,
        kind: str = "lstm",
        num_layers: int = 1,
        dropout: float = 0.0,
        impl: str = "torch",
        tie_weights: bool = False,
    ) -> None:
        super().__init__()
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 2:
            raise ValueError(f"vocab_size must be an integer >= 2, got {vocab_size!r}")
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.rnn = make_recurrent(kind, impl, **_layer_kwargs(embed_dim, hidden_size, num_layers, dropout, False))
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)
        if tie_weights:  # share the (V, E) matrix between input embedding and output layer
            if embed_dim != hidden_size:
                raise ValueError(f"tie_weights needs embed_dim == hidden_size, got {embed_dim} and {hidden_size}")
            self.head.weight = self.embedding.weight

    def forward(self, idx: torch.Tensor, state: State | None = None) -> tuple[torch.Tensor, State]:
        """Next-character scores at every position.

        Inputs:
        - idx: token ids, shape (N, T).
        - state: h (L, N, H), or (h, c) for an LSTM, from the previous chunk; None = zeros.

        Returns:
        - logits: (N, T, V); logits[:, t] scores the character after idx[:, t].
        - state: the state after the last step, to pass to the next call.
        """
        _check_tokens(idx, self.vocab_size, "idx")
        emb = self.dropout(self.embedding(idx))  # (N, T, E)
        out, state = self.rnn(emb, state)  # (N, T, H)
        return self.head(self.dropout(out)), state  # (N, T, V)

    @torch.no_grad()
    def generate(
        self,
        prompt_idx: torch.Tensor,
        n: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Continue a prompt by sampling ``n`` characters, one at a time.

        The prompt is read in one call; then each sampled character is fed back with the
        carried state (no re-reading of the whole text).

        Inputs:
        - prompt_idx: token ids, shape (T0,) or (N, T0), T0 >= 1.
        - n: number of characters to add (>= 0).
        - temperature: divides the logits; < 1 sharpens (-> greedy as it -> 0), > 1 flattens.
        - top_k: sample only among the k most likely characters (1 = greedy); None = all.
        - generator: a ``torch.Generator`` on the model's device, for reproducible samples.

        Returns:
        - token ids, shape (T0 + n,) or (N, T0 + n): the prompt followed by the samples.
        """
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r} (for greedy decoding use top_k=1)")
        if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1):
            raise ValueError(f"top_k must be an integer >= 1 or None, got {top_k!r}")
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"n must be an integer >= 0, got {n!r}")
        if not isinstance(prompt_idx, torch.Tensor):
            raise TypeError(f"prompt_idx must be a tensor of token ids, got {type(prompt_idx).__name__}")
        squeeze = prompt_idx.dim() == 1
        idx = prompt_idx.unsqueeze(0) if squeeze else prompt_idx  # (N, T0)
        idx = idx.to(self.head.weight.device)
        _check_tokens(idx, self.vocab_size, "prompt_idx")

        was_training = self.training
        self.eval()  # no dropout while sampling
        try:
            logits, state = self(idx)
            pieces = [idx]
            for i in range(n):
                nxt = self._sample(logits[:, -1], temperature, top_k, generator)  # (N, 1)
                pieces.append(nxt)
                if i < n - 1:  # the last sample needs no forward pass
                    logits, state = self(nxt, state)
        finally:
            self.train(was_training)
        out = torch.cat(pieces, dim=1)  # (N, T0 + n)
        return out[0] if squeeze else out

    @staticmethod
    def _sample(
        logits: torch.Tensor, temperature: float, top_k: int | None, generator: torch.Generator | None
    ) -> torch.Tensor:
        """Draw one token per row from softmax(logits / temperature), restricted to the top k.

        Inputs:
        - logits: (N, V).

        Returns:
        - (N, 1) int64 token ids.
        """
        logits = logits.float() / temperature
        if top_k is not None and top_k < logits.shape[-1]:
            kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]  # (N, 1) the k-th largest
            logits = logits.masked_fill(logits < kth, float("-inf"))
        probs = F.softmax(logits, dim=-1)  # (N, V)
        return torch.multinomial(probs, 1, generator=generator)  # (N, 1)
