"""course_lib: the one implementation of every model and helper the RNN course uses.

Modules (each readable in one sitting):

- ``device``    -- ``get_device``, ``set_seed``
- ``data``      -- vocabularies, padding/masks, windows, splits, data loaders, synthetic tasks
- ``reference`` -- NumPy forward/backward passes (RNN, LSTM, GRU, layers) and gradient checks
- ``models``    -- from-scratch PyTorch cells and layers equal to ``torch.nn``, task models
- ``train``     -- one ``fit`` loop: progress, clipping, early stopping, history
- ``viz``       -- the plots the lessons use
- ``grading``   -- what the exercise tests call: readable comparisons and shortcut guards
"""

__version__ = "0.1.0"
