"""Checks for command options, run before any work (plain functions: the commands, the
settings objects and the Python API all call them). Each raises
:class:`~labelcore.errors.ConfigError` (exit 64) with the option's name and what to do.

Output paths are checked by :func:`labelcore.io.check_output_dir` / ``check_output_file``."""

from __future__ import annotations

from typing import Iterable

from labelcore.errors import ConfigError

#: numpy / scikit-learn seeds are unsigned 32-bit integers.
MAX_SEED = 2**32 - 1


def check_choice(value: str, choices: Iterable[str], *, option: str) -> str:
    """``value`` if it is one of ``choices``; else ConfigError listing them."""
    choices = tuple(choices)
    if value not in choices:
        import difflib

        close = difflib.get_close_matches(str(value), choices, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"unknown {option} {value!r}{hint}; choose one of: {', '.join(choices)}")
    return value


def check_seed(seed: int, *, option: str = "--seed") -> int:
    """A seed in ``0 .. 2**32 - 1``."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"{option} must be an integer from 0 to {MAX_SEED}, got {seed!r}")
    return seed


def check_int_at_least(value: int, minimum: int, *, option: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{option} must be an integer >= {minimum}, got {value!r}")
    return value


def check_folds(n_folds: int, *, option: str = "--folds") -> int:
    """At least 2 folds (each row is predicted by a model trained on the others)."""
    return check_int_at_least(n_folds, 2, option=option)


def check_fraction(value: float, *, option: str, low: float = 0.0, high: float = 1.0,
                   low_open: bool = True, high_open: bool = True) -> float:
    """A float within (low, high) (ends open or closed as told)."""
    import math

    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        lo, hi = "(" if low_open else "[", ")" if high_open else "]"
        raise ConfigError(f"{option} must be in {lo}{low:g}, {high:g}{hi}, got {value!r}")
    return float(value)
