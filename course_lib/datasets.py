"""The data sets of the course: synthetic tasks and real data that ships with installed packages.

Nothing here touches the network. Real data and their licences:

- Yearly sunspot numbers 1700-2008 (309 values), from ``statsmodels.datasets.sunspots``; the
  source (NOAA's National Geophysical Data Center) is in the public domain.
- Weekly atmospheric CO2 at Mauna Loa, March 1958 - December 2001 (2284 weeks, 59 missing),
  from ``statsmodels.datasets.co2``; public domain (Keeling and Whorf, Scripps / CDIAC).
- Surnames per language, from the name lists of the ``Faker`` package (MIT licence).
- The Zen of Python (Tim Peters, PEP 20), from the standard-library module ``this``
  (Python Software Foundation License).

Synthetic tasks: ``sine_wave``, ``noisy_sine``, ``adding_problem`` (Hochreiter & Schmidhuber
1997; the version of Le et al. 2015) and ``copy_task`` (Arjovsky et al. 2016). Random tasks take
``seed`` (a private generator, reproducible whatever else ran) or ``generator``; with neither
they draw from torch's global generator, which ``set_seed`` controls.
"""

from __future__ import annotations

import ast
import codecs
import importlib
import importlib.util
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

# The adding problem's target is the sum of two U(0, 1) numbers: always predicting its mean, 1,
# scores its variance, 2 * (1/12) = 1/6 ~ 0.1667. A model has learnt something only below this.
ADDING_BASELINE_MSE = 1.0 / 6.0


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def _check_number(name: str, value: Any, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}")
    if not math.isfinite(value) or (positive and value <= 0):
        raise ValueError(f"{name} must be a finite{' positive' if positive else ''} number, got {value}")
    return float(value)


def _generator(seed: int | None, generator: torch.Generator | None) -> torch.Generator | None:
    """A private generator for ``seed``, the given ``generator``, or None (torch's global one)."""
    if seed is not None and generator is not None:
        raise ValueError("pass either seed or generator, not both")
    if generator is not None:
        if not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator, got {type(generator).__name__}")
        if generator.device.type != "cpu":
            raise ValueError(f"generator must be a CPU generator (numbers are drawn on the CPU), got {generator.device}")
        return generator
    if seed is not None:
        return torch.Generator().manual_seed(_check_int("seed", seed, 0))
    return None


# --- synthetic series and tasks ------------------------------------------------------------------


def sine_wave(
    length: int, period: float = 50.0, amplitude: float = 1.0, phase: float = 0.0
) -> torch.Tensor:
    """``amplitude * sin(2 pi t / period + phase)`` at t = 0, 1, ..., length - 1.

    Inputs:
    - length: T (>= 1); period: steps per cycle (> 0); amplitude, phase: numbers.

    Returns:
    - (T,) float32 tensor.
    """
    T = _check_int("length", length, 1)
    period = _check_number("period", period, positive=True)
    amplitude = _check_number("amplitude", amplitude)
    phase = _check_number("phase", phase)
    t = torch.arange(T, dtype=torch.float64)
    return (amplitude * torch.sin(2 * math.pi * t / period + phase)).float()


def noisy_sine(
    length: int,
    period: float = 50.0,
    amplitude: float = 1.0,
    noise_std: float = 0.1,
    phase: float = 0.0,
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """A sine wave plus independent Gaussian noise of standard deviation ``noise_std``.

    The noise sets a floor: no forecaster can beat an MSE of ``noise_std**2`` on average.

    Inputs:
    - as ``sine_wave``; noise_std >= 0; seed or generator (see the module docstring).

    Returns:
    - (T,) float32 tensor.
    """
    clean = sine_wave(length, period, amplitude, phase)
    noise_std = _check_number("noise_std", noise_std)
    if noise_std < 0:
        raise ValueError(f"noise_std must be >= 0, got {noise_std}")
    g = _generator(seed, generator)
    return clean + noise_std * torch.randn(clean.shape, generator=g)


def adding_problem(
    n: int, T: int, seed: int | None = None, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """The adding problem: add the two numbers that are marked somewhere in a long sequence.

    Feature 0 of every step is a number drawn from U(0, 1); feature 1 is a marker, 1 at exactly
    two steps (one in the first half, one in the second half) and 0 elsewhere. The target is the
    sum of the two marked numbers, so solving it means remembering a value over up to T steps.
    Baseline: always predicting 1 gives an MSE of 1/6 ~ 0.167 (``ADDING_BASELINE_MSE``).

    Inputs:
    - n: number of sequences (>= 1); T: sequence length (>= 2).
    - seed or generator (see the module docstring).

    Returns a tuple of:
    - X: (n, T, 2) float32.
    - y: (n, 1) float32.
    """
    n = _check_int("n", n, 1)
    T = _check_int("T", T, 2)
    g = _generator(seed, generator)
    values = torch.rand(n, T, generator=g)  # (n, T)
    first = torch.randint(0, T // 2, (n,), generator=g)
    second = torch.randint(T // 2, T, (n,), generator=g)
    markers = torch.zeros(n, T)
    rows = torch.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    X = torch.stack([values, markers], dim=-1)  # (n, T, 2)
    y = (values[rows, first] + values[rows, second])[:, None]  # (n, 1)
    return X, y


def copy_task(
    n: int,
    T_seq: int,
    delay: int,
    n_symbols: int = 8,
    seed: int | None = None,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The copy (recall) task: read T_seq symbols, wait, then write them back after a GO signal.

    Token ids: 0 = blank, 1..n_symbols = data symbols, n_symbols + 1 = GO (vocabulary size
    ``n_symbols + 2``). With K = T_seq and L = 2K + delay::

        inputs:  s_1 ... s_K, blank * delay, GO, blank * (K - 1)
        targets: blank * (K + delay),          s_1 ... s_K

    At the GO step the model must output s_1: it has to remember K symbols for delay + 1 steps.
    The memoryless baseline is ``copy_task_baseline(T_seq, delay, n_symbols)``.

    Inputs:
    - n: number of sequences (>= 1); T_seq: K (>= 1); delay: blanks before GO (>= 0);
      n_symbols: size of the data alphabet (>= 2); seed or generator.

    Returns a tuple of:
    - inputs: (n, L) int64.
    - targets: (n, L) int64.
    """
    n = _check_int("n", n, 1)
    K = _check_int("T_seq", T_seq, 1)
    delay = _check_int("delay", delay, 0)
    n_symbols = _check_int("n_symbols", n_symbols, 2)
    g = _generator(seed, generator)
    symbols = torch.randint(1, n_symbols + 1, (n, K), generator=g)  # (n, K)
    L = 2 * K + delay
    inputs = torch.zeros(n, L, dtype=torch.long)
    targets = torch.zeros(n, L, dtype=torch.long)
    inputs[:, :K] = symbols
    inputs[:, K + delay] = n_symbols + 1  # GO
    targets[:, K + delay:] = symbols
    return inputs, targets


def copy_task_baseline(T_seq: int, delay: int, n_symbols: int = 8) -> float:
    """Cross-entropy per step (nats) of the best model that remembers nothing.

    It outputs blank with certainty for the first K + delay steps (the layout is fixed) and a
    uniform guess over the n_symbols data symbols for the last K steps:
    ``K * ln(n_symbols) / (2K + delay)``. A model that remembers gets below it.
    """
    K = _check_int("T_seq", T_seq, 1)
    delay = _check_int("delay", delay, 0)
    n_symbols = _check_int("n_symbols", n_symbols, 2)
    return K * math.log(n_symbols) / (2 * K + delay)


# --- real series (statsmodels, public domain) ------------------------------------------------


def load_sunspots() -> Any:
    """Yearly mean sunspot numbers, 1700-2008 (public domain, NOAA NGDC, via statsmodels).

    Returns:
    - a pandas Series of 309 floats, index ``year`` (int), name ``"sunspots"``.
    """
    from statsmodels.datasets import sunspots  # imported lazily: statsmodels is slow to import

    df = sunspots.load_pandas().data
    s = df["SUNACTIVITY"].astype("float64")
    s.index = df["YEAR"].astype(int).rename("year")
    return s.rename("sunspots")


def load_co2() -> Any:
    """Weekly CO2 at Mauna Loa in ppm, 1958-03-29 to 2001-12-29, missing weeks kept as NaN.

    Public domain (Keeling and Whorf, Scripps Institution of Oceanography / CDIAC; via
    statsmodels). 59 of the 2284 weeks are missing: see ``missing_summary`` and ``fill_missing``.

    Returns:
    - a pandas Series of 2284 floats, weekly DatetimeIndex (``W-SAT``), name ``"co2"``.
    """
    from statsmodels.datasets import co2

    return co2.load_pandas().data["co2"].astype("float64").rename("co2")


def _check_series(name: str, series: Any) -> None:
    if not (hasattr(series, "isna") and hasattr(series, "iloc")) or getattr(series, "ndim", 0) != 1:
        raise TypeError(f"{name} must be a pandas Series, got {type(series).__name__}")
    if len(series) == 0:
        raise ValueError(f"{name} is empty")


def missing_summary(series: Any) -> dict[str, Any]:
    """How many values of a pandas Series are missing, and how they cluster.

    Returns a dict with:
    - ``n``: length; ``n_missing``: NaN count; ``fraction``: ``n_missing / n``;
    - ``longest_gap``: longest run of consecutive NaNs;
    - ``first_missing``: index label of the first NaN (None if there is none).
    """
    _check_series("series", series)
    isna = series.isna().to_numpy()
    longest = run = 0
    for missing in isna:
        run = run + 1 if missing else 0
        longest = max(longest, run)
    n_missing = int(isna.sum())
    return {
        "n": len(series),
        "n_missing": n_missing,
        "fraction": n_missing / len(series),
        "longest_gap": longest,
        "first_missing": series.index[int(np.argmax(isna))] if n_missing else None,
    }


def fill_missing(series: Any, method: str = "linear") -> Any:
    """Fill NaNs of a pandas Series so that it can be windowed and scaled.

    Inputs:
    - series: pandas Series.
    - method: ``"linear"`` (interpolate between neighbours, by position), ``"time"`` (interpolate
      by the time index) or ``"ffill"`` (repeat the last seen value: uses only the past, so it
      is the one to use online). Leading NaNs take the first observed value.

    Returns:
    - a new Series without NaN (same index and name).
    """
    _check_series("series", series)
    if method not in ("linear", "time", "ffill"):
        raise ValueError(f"method must be 'linear', 'time' or 'ffill', got {method!r}")
    if series.isna().all():
        raise ValueError("series has no observed value to fill from")
    if method == "time":
        import pandas as pd  # already imported by whoever made the Series

        if not pd.api.types.is_datetime64_any_dtype(series.index):
            raise ValueError("method='time' needs a DatetimeIndex; use method='linear' for this series")
    filled = series.ffill() if method == "ffill" else series.interpolate(method=method)
    return filled.bfill()


# --- names and text -------------------------------------------------------------------------------

# Language names of Faker locales (unlisted locales are labelled with the locale code).
LOCALE_LANGUAGES: dict[str, str] = {
    "cs_CZ": "Czech", "de_DE": "German", "en_US": "English", "es_ES": "Spanish",
    "fi_FI": "Finnish", "fr_FR": "French", "ga_IE": "Irish", "hu_HU": "Hungarian",
    "it_IT": "Italian", "nl_NL": "Dutch", "pl_PL": "Polish", "pt_PT": "Portuguese",
    "ru_RU": "Russian", "sv_SE": "Swedish", "tr_TR": "Turkish", "el_GR": "Greek",
    "ja_JP": "Japanese", "zh_CN": "Chinese", "ko_KR": "Korean", "vi_VN": "Vietnamese",
}
# Latin-script languages with a few hundred surnames or more each.
DEFAULT_SURNAME_LOCALES: tuple[str, ...] = (
    "cs_CZ", "de_DE", "en_US", "es_ES", "fi_FI", "fr_FR", "it_IT", "nl_NL", "sv_SE",
)


def load_surnames(locales: Sequence[str] = DEFAULT_SURNAME_LOCALES) -> tuple[list[str], list[str]]:
    """Surnames labelled with their language, from Faker's per-locale name lists (MIT licence).

    A surname listed under more than one of ``locales`` is dropped from all of them: its
    spelling cannot tell the languages apart. The order is deterministic: by locale as given,
    then alphabetical.

    Inputs:
    - locales: Faker locale codes such as ``"de_DE"`` (at least one, no repeats).

    Returns a tuple of:
    - names: list of M surnames (strings).
    - languages: list of M language names (``LOCALE_LANGUAGES``), aligned with ``names``.
    """
    if isinstance(locales, str) or not isinstance(locales, Sequence):
        raise TypeError(f"locales must be a list of locale codes such as ['de_DE'], got {type(locales).__name__}")
    if not locales:
        raise ValueError("locales is empty: name at least one Faker locale")
    if len(set(locales)) != len(locales):
        raise ValueError(f"locales has repeats: {list(locales)}")
    per_locale: dict[str, set[str]] = {}
    for loc in locales:
        if not isinstance(loc, str) or importlib.util.find_spec(f"faker.providers.person.{loc}") is None:
            raise ValueError(f"locales: Faker has no person provider for {loc!r}")
        provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
        names = getattr(provider, "last_names", ())  # a tuple, or a dict name -> weight
        per_locale[loc] = {str(s).strip() for s in names if str(s).strip()}
    seen_in: dict[str, int] = {}
    for names in per_locale.values():
        for s in names:
            seen_in[s] = seen_in.get(s, 0) + 1
    out_names: list[str] = []
    out_langs: list[str] = []
    for loc in locales:
        unique = sorted(s for s in per_locale[loc] if seen_in[s] == 1)
        out_names.extend(unique)
        out_langs.extend([LOCALE_LANGUAGES.get(loc, loc)] * len(unique))
    return out_names, out_langs


def load_zen_of_python() -> str:
    """The Zen of Python (PEP 20, by Tim Peters): 19 aphorisms plus a title, about 850 characters.

    Read from the standard-library module ``this`` (Python Software Foundation License) without
    importing it (importing prints the text): the module stores it ROT13-encoded in ``s``.

    Returns:
    - the text, lines separated by ``"\\n"``.
    """
    spec = importlib.util.find_spec("this")
    if spec is None or spec.origin is None:  # pragma: no cover - part of every CPython
        raise RuntimeError("the standard-library module 'this' is missing")
    with open(spec.origin, encoding="utf-8") as fh:
        tree = ast.parse(fh.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "s" for t in node.targets):
            return codecs.decode(ast.literal_eval(node.value), "rot13")
    raise RuntimeError("could not find the text in the module 'this'")  # pragma: no cover
