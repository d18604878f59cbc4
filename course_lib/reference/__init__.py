"""NumPy reference implementations with explicit backward passes (CS231n style), float64-ready.

Every forward returns ``(out, cache)``; every backward takes ``(dout, cache)`` and returns one
gradient per differentiable input, in input order. Weights use the ``torch.nn`` layout, so the
same arrays drive these functions, ``course_lib.models`` and ``torch.nn.RNN/LSTM/GRU``.

Dimension letters:

- N  minibatch size
- T  sequence length (time steps)
- D  input size
- H  hidden size
- V  vocabulary size (number of classes)
- M  output size of a plain affine layer
- G  gates stacked in the weights: 1 (RNN), 4 (LSTM: i, f, g, o), 3 (GRU: r, z, n)

Shapes: inputs batch-first (N, T, D); states (N, H); ``W_ih`` (G*H, D), ``W_hh`` (G*H, H),
``b_ih`` and ``b_hh`` (G*H,).

Modules: ``gradcheck`` (``rel_error``, ``numerical_gradient``), ``layers`` (sigmoid, affine,
embedding, masked temporal softmax loss), ``rnn``, ``lstm``, ``gru``.
"""

from .gradcheck import numerical_gradient, rel_error
from .gru import (
    GRUCache,
    GRUStepCache,
    gru_backward,
    gru_forward,
    gru_step_backward,
    gru_step_forward,
)
from .layers import (
    AffineCache,
    EmbeddingCache,
    affine_backward,
    affine_forward,
    embedding_backward,
    embedding_forward,
    sigmoid,
    temporal_affine_backward,
    temporal_affine_forward,
    temporal_softmax_loss,
)
from .lstm import (
    LSTMCache,
    LSTMStepCache,
    lstm_backward,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
)
from .rnn import (
    RNNCache,
    RNNStepCache,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
)

__all__ = [
    "AffineCache",
    "EmbeddingCache",
    "GRUCache",
    "GRUStepCache",
    "LSTMCache",
    "LSTMStepCache",
    "RNNCache",
    "RNNStepCache",
    "affine_backward",
    "affine_forward",
    "embedding_backward",
    "embedding_forward",
    "gru_backward",
    "gru_forward",
    "gru_step_backward",
    "gru_step_forward",
    "lstm_backward",
    "lstm_forward",
    "lstm_step_backward",
    "lstm_step_forward",
    "numerical_gradient",
    "rel_error",
    "rnn_backward",
    "rnn_forward",
    "rnn_step_backward",
    "rnn_step_forward",
    "sigmoid",
    "temporal_affine_backward",
    "temporal_affine_forward",
    "temporal_softmax_loss",
]
