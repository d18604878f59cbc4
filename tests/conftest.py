"""Shared fixtures: the repository root and the nbgrader tooling of scripts/coursetools.py."""

import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))

import coursetools  # noqa: E402


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def tools():
    return coursetools


@pytest.fixture(scope="module")
def one_thread():
    """Tiny models, as in the lessons: one torch thread (faster on a busy 2-core machine, and the
    training claims are checked with the same arithmetic as the lessons). Restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
