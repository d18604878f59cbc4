"""From-scratch PyTorch recurrent models whose parameters and outputs equal ``torch.nn``'s.

- ``cells``: ``RNNCell``, ``LSTMCell``, ``GRUCell`` and the step functions they call
- ``recurrent``: multi-layer, bidirectional ``RNN``, ``LSTM``, ``GRU`` (packed input, ``lengths=``,
  ``return_gates=``)
- ``fused``: the whole-sequence layers with a hand-derived backward pass that ``recurrent`` runs
- ``tasks``: classifier, regressor/forecaster and character language model built on the layers
- ``seq2seq``: encoder-decoder with additive or dot-product attention, greedy and beam search
"""

from .cells import GRUCell, LSTMCell, RNNCell, gru_step, lstm_step, rnn_step
from .recurrent import GRU, LSTM, RNN
from .seq2seq import (  # noqa: F401
    AdditiveAttention,
    DotAttention,
    Seq2Seq,
    beam_search_step,
    collate_pairs,
    masked_softmax,
    seq2seq_step,
)
from .tasks import CharLM, SequenceClassifier, SequenceRegressor, make_recurrent  # noqa: F401

__all__ = ["RNNCell", "LSTMCell", "GRUCell", "rnn_step", "lstm_step", "gru_step"]
__all__ += ["RNN", "LSTM", "GRU"]
