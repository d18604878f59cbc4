"""Where tensors live and how runs are made repeatable.

Every notebook starts with ``set_seed(0)`` and ``device = get_device()``; nothing else in
``course_lib`` hard-codes a device: modules create tensors on the device of their parameters.
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch


def get_device(prefer: str | None = None) -> torch.device:
    """Return the device to compute on.

    Inputs:
    - prefer: ``None`` picks CUDA when available, else CPU. ``"cpu"`` or ``"cuda"`` (or
      ``"cuda:1"``) force a choice; the environment variable ``COURSE_DEVICE`` does the same
      without editing a notebook.

    Returns:
    - a ``torch.device``.
    """
    choice = prefer or os.environ.get("COURSE_DEVICE")
    if choice is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(choice, str):
        raise TypeError(f"prefer must be a string such as 'cpu' or 'cuda', got {type(choice).__name__}")
    device = torch.device(choice)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"prefer={choice!r} asks for CUDA, but torch.cuda.is_available() is False")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"prefer must name 'cpu' or 'cuda', got {choice!r}")
    return device


def set_seed(seed: int, deterministic: bool = False) -> None:
    """Seed Python's ``random``, NumPy's global generator and torch (CPU and every GPU).

    Inputs:
    - seed: a non-negative integer.
    - deterministic: also ask torch for deterministic kernels (slower on GPU; CPU kernels
      used in this course are deterministic already).
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"seed must be >= 0, got {seed}")
    random.seed(int(seed))
    np.random.seed(int(seed) % 2**32)
    torch.manual_seed(int(seed))  # also seeds every CUDA device
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
