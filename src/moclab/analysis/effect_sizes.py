"""Effect sizes for indirect, direct and total effects: standardized effects and the proportion mediated.

All functions are vectorized: pass arrays of resampled effects and standard deviations to get resampled
effect sizes (and thus intervals for them).
"""

from __future__ import annotations

import numpy as np

__all__ = ["completely_standardized", "partially_standardized", "proportion_mediated"]


def _scalar_or_array(value: np.ndarray) -> np.ndarray | float:
    return float(value) if np.ndim(value) == 0 else value


def partially_standardized(effect: np.ndarray | float, sd_y: np.ndarray | float) -> np.ndarray | float:
    """Partially standardized effect ``effect / SD(Y)``: change in Y, in Y standard deviations, per unit of X.

    The recommended standardized effect when X is a binary strategy (an arm), where "one SD of X" has no
    meaning: it reads as the arm difference in outcome SDs.

    References
    ----------
    MacKinnon, D. P. (2008). *Introduction to Statistical Mediation Analysis*. Erlbaum. (sec. 4.8)
    Preacher, K. J., & Kelley, K. (2011). Effect size measures for mediation models. *Psychological
    Methods*, 16(2), 93-115.

    Examples
    --------
    >>> partially_standardized(0.5, 2.0)
    0.25
    """
    return _scalar_or_array(np.divide(effect, sd_y))


def completely_standardized(
    effect: np.ndarray | float, sd_x: np.ndarray | float, sd_y: np.ndarray | float
) -> np.ndarray | float:
    """Completely standardized effect ``effect · SD(X) / SD(Y)``: SDs of Y per SD of X.

    Meaningful for a continuous strategy dose; for a binary arm use `partially_standardized`.

    References
    ----------
    Preacher, K. J., & Kelley, K. (2011). Effect size measures for mediation models. *Psychological
    Methods*, 16(2), 93-115.

    Examples
    --------
    >>> completely_standardized(0.5, 3.0, 2.0)
    0.75
    """
    return _scalar_or_array(np.multiply(effect, sd_x) / sd_y)


def proportion_mediated(indirect: np.ndarray | float, total: np.ndarray | float) -> np.ndarray | float:
    """Proportion mediated ``indirect / total`` (P_M).

    Notes
    -----
    P_M is a proportion only when the indirect and direct effects have the same sign and the total effect is
    clearly non-zero; otherwise it can be negative, exceed 1 or explode as the total effect nears zero.
    MacKinnon, Warsi & Dwyer (1995) found it unstable and biased in samples smaller than about 500.
    Report it next to the indirect effect, never instead of it.

    References
    ----------
    MacKinnon, D. P., Warsi, G., & Dwyer, J. H. (1995). A simulation study of mediated effect measures.
    *Multivariate Behavioral Research*, 30(1), 41-62.
    Preacher, K. J., & Kelley, K. (2011). Effect size measures for mediation models. *Psychological
    Methods*, 16(2), 93-115.

    Examples
    --------
    >>> proportion_mediated(0.2, 0.5)
    0.4
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return _scalar_or_array(np.divide(indirect, total))
