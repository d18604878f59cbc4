"""course_lib: the one implementation of every model and helper the RNN course uses.

Modules (each readable in one sitting):

- ``device``    -- ``get_device``, ``set_seed``
- ``data``      -- vocabularies, padding/masks, windows, splits, data loaders, synthetic tasks
- ``reference`` -- NumPy forward/backward passes (RNN, LSTM, GRU, layers) and gradient checks
- ``models``    -- from-scratch PyTorch cells and layers equal to ``torch.nn``, task models, seq2seq
- ``augment``   -- sequence augmentations: reversal, shift, repetition, jitter, scaling
- ``tuning``    -- a thin layer over Optuna: search spaces, objectives on ``fit``, RDB storage
- ``text``      -- corpus loading, n-gram baselines, sampling with temperature and top-k
- ``forecast``  -- rolling-origin evaluation, naive/seasonal/ARIMA baselines, MASE
- ``train``     -- one ``fit`` loop: progress, clipping, early stopping, history
- ``viz``       -- the plots the lessons use
- ``grading``   -- what the exercise tests call: readable comparisons and shortcut guards
"""

__version__ = "0.1.0"
