import random

import numpy as np
import pytest
import torch

from course_lib.device import get_device, set_seed


def test_get_device_defaults_to_what_is_available(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    assert get_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_get_device_respects_env_and_argument(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")
    assert get_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised on a CPU-only machine")
def test_asking_for_missing_cuda_is_an_error():
    with pytest.raises(ValueError, match="CUDA"):
        get_device("cuda")


@pytest.mark.parametrize("bad", ["tpu", "mps"])
def test_unknown_device_names(bad):
    with pytest.raises((ValueError, RuntimeError)):
        get_device(bad)


def test_set_seed_makes_every_generator_repeat():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()
    set_seed(123)
    first = draw()
    set_seed(123)
    assert draw() == first
    set_seed(124)
    assert draw() != first


@pytest.mark.parametrize("bad, err", [(-1, ValueError), (1.5, TypeError), ("3", TypeError), (True, TypeError)])
def test_set_seed_rejects_bad_seeds(bad, err):
    with pytest.raises(err, match="seed"):
        set_seed(bad)
