"""The arguments every estimator shares, named and checked in one place.

The vocabulary of `moclab.analysis`:

* ``ci``: how an interval is obtained (``"percentile"``, ``"bca"``, ``"monte_carlo"``, ``"delta"``,
  ``"feldt"``...); each estimator names the methods it offers.
* ``level``: the confidence level of every interval, 0.95 by default.
* ``n_boot``: bootstrap resamples; ``n_mc``: Monte Carlo (simulation) draws.
* ``seed``: the randomness, an int, a `numpy.random.Generator` or None.
* ``missing``: ``"listwise"`` (drop incomplete rows, reported) or ``"raise"``.

`check` validates whichever of them an estimator takes, at its boundary, and raises `DataError` naming the
argument, the value given and the values allowed; the estimator then trusts them.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from moclab.errors import DataError, did_you_mean

__all__ = ["MISSING", "check", "choice", "number"]

#: The ways to handle rows with a missing value.
MISSING = ("listwise", "raise")

_UNSET: Any = object()


def _quoted(values: Sequence[Any]) -> str:
    return ", ".join(f"'{v}'" if isinstance(v, str) else repr(v) for v in values)


def _whole(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def choice(name: str, value: Any, allowed: Sequence[Any]) -> None:
    """Raise `DataError` unless `value` is one of `allowed`: the one wording of every option of an estimator.

    Examples
    --------
    >>> choice("model", "serial", ("parallel", "serial"))
    >>> choice("model", "paralel", ("parallel", "serial"))
    Traceback (most recent call last):
    ...
    moclab.errors.DataError: model must be one of 'parallel', 'serial', not 'paralel' (did you mean ...
    """
    if any(value is option or (type(value) is type(option) and value == option) for option in allowed):
        return
    raise DataError(
        f"{name} must be one of {_quoted(allowed)}, not {value!r}",
        hint=did_you_mean(str(value), [str(option) for option in allowed], limit=1),
    )


def number(name: str, value: Any) -> float:
    """`value` as a finite float, or `DataError` naming the argument.

    Examples
    --------
    >>> number("estimate", "big")
    Traceback (most recent call last):
    ...
    moclab.errors.DataError: estimate must be a number, not 'big'
    """
    try:
        result = float(value)
    except (TypeError, ValueError) as error:
        raise DataError(f"{name} must be a number, not {value!r}") from error
    if not math.isfinite(result):
        raise DataError(f"{name} must be a finite number, not {value!r}")
    return result


def _count(name: str, value: Any, minimum: int, what: str, usual: int, zero_allowed: bool) -> None:
    if _whole(value) and (value >= minimum or (zero_allowed and value == 0)):
        return
    allowed = (
        f"0 (none) or a whole number of at least {minimum}"
        if zero_allowed
        else f"a whole number of at least {minimum}"
    )
    raise DataError(f"{name} ({what}) must be {allowed}, not {value!r}", hint=f"{usual} is usual")


def check(
    *,
    level: Any = _UNSET,
    ci: Any = _UNSET,
    allowed_ci: Sequence[str] = (),
    n_boot: Any = _UNSET,
    min_boot: int = 100,
    boot_optional: bool = False,
    n_mc: Any = _UNSET,
    min_mc: int = 100,
    seed: Any = _UNSET,
    missing: Any = _UNSET,
) -> None:
    """Check the shared arguments that are given; raise `DataError` naming the first that is not valid.

    Parameters
    ----------
    level : float
        Confidence level: a number in [0.5, 1).
    ci, allowed_ci : str, sequence of str
        The interval method and the methods the estimator offers.
    n_boot, min_boot, boot_optional : int, int, bool
        Bootstrap resamples: a whole number of at least `min_boot` (or 0 when `boot_optional`: no
        bootstrap).
    n_mc, min_mc : int
        Monte Carlo draws: a whole number of at least `min_mc`.
    seed : int, numpy.random.Generator or None
        Randomness.
    missing : {"listwise", "raise"}
        Handling of incomplete rows.

    Examples
    --------
    >>> check(level=0.95, ci="bca", allowed_ci=("percentile", "bca"), n_boot=5000, seed=1)
    >>> check(level=95)
    Traceback (most recent call last):
    ...
    moclab.errors.DataError: level (the confidence level) must be a number from 0.5 to below 1, not 95 ...
    >>> check(ci="bootstrap", allowed_ci=("percentile", "bca"))
    Traceback (most recent call last):
    ...
    moclab.errors.DataError: ci must be one of 'percentile', 'bca', not 'bootstrap'
    """
    if level is not _UNSET:
        valid = isinstance(level, numbers.Real) and not isinstance(level, bool) and 0.5 <= level < 1.0
        if not valid:
            raise DataError(
                f"level (the confidence level) must be a number from 0.5 to below 1, not {level!r}",
                hint="0.95 gives 95% intervals",
            )
    if ci is not _UNSET:
        choice("ci", ci, allowed_ci)
    if n_boot is not _UNSET:
        _count("n_boot", n_boot, min_boot, "bootstrap resamples", 5000, boot_optional)
    if n_mc is not _UNSET:
        _count("n_mc", n_mc, min_mc, "Monte Carlo draws", 20_000, False)
    if seed is not _UNSET and not (seed is None or _whole(seed) or isinstance(seed, np.random.Generator)):
        raise DataError(
            f"seed must be a whole number, a numpy.random.Generator or None, not {seed!r}",
            hint="the same seed gives the same intervals",
        )
    if missing is not _UNSET:
        choice("missing", missing, MISSING)
