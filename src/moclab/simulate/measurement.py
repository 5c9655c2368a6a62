"""Measurement of simulated latent variables: Likert items with a target Cronbach's alpha, or scale scores.

Items follow a one-factor (congeneric) model with equal loadings: the continuous response of a recipient
to item j is ``y*_j = λ·η + sqrt(1 - λ²)·ε_j`` for the latent variable η (variance 1) and independent
standard normal ε_j; it is put on the instrument's response scale as ``mean + sd·y*`` and rounded to the
nearest scale point, clipped to the scale (Likert rounding, i.e. thresholds half-way between scale points).
A reverse-keyed item is generated reversed (``min + max - response``), as a recipient would answer it.

Rounding to a few categories lowers inter-item correlations, so the loading cannot be read off the
Spearman-Brown formula. `loading_for_alpha` finds the λ for which the population alpha of the rounded
items equals the target: conditional on η the items are independent, so the moments of a rounded item
follow from ``E[X | η] = min + Σ_k Φ((λη - τ_k)/sqrt(1 - λ²))`` (one term per threshold τ_k) and the
covariance of two items is ``Var(E[X | η])``, computed by Gauss-Hermite quadrature over η. No library
does this calibration, hence the hand-written code.

References
----------
Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests. *Psychometrika*, 16,
297-334.
Rhemtulla, M., Brosseau-Liard, P. É., & Savalei, V. (2012). When can categorical variables be treated as
continuous? *Psychological Methods*, 17(3), 354-373 (how categorization attenuates correlations).
"""

from __future__ import annotations

import numpy as np
from scipy import optimize, special

#: Gauss-Hermite nodes and weights for the standard normal (probabilists' Hermite polynomials).
_NODES, _WEIGHTS = np.polynomial.hermite_e.hermegauss(96)
_WEIGHTS = _WEIGHTS / _WEIGHTS.sum()
_MAX_LOADING = 0.995


def thresholds(mean: float, sd: float, minimum: int, maximum: int) -> np.ndarray:
    """Cut points on the y* scale between consecutive response values (half-way between scale points)."""
    return (np.arange(minimum, maximum) + 0.5 - mean) / sd


def likert_moments(loading: float, mean: float, sd: float, minimum: int, maximum: int) -> tuple[float, float]:
    """Variance of one rounded item and covariance of two, for latent η ~ N(0, 1) and loading `loading`."""
    cuts = thresholds(mean, sd, minimum, maximum)
    spread = np.sqrt(1.0 - loading**2)
    # probability of being above each cut, given η, for every quadrature node: (nodes, cuts)
    above = special.ndtr((loading * _NODES[:, None] - cuts[None, :]) / spread)
    conditional_mean = minimum + above.sum(axis=1)
    # Indicators of nested cuts: E[I_i I_j | η] = P(above the higher cut), so
    # Var(X | η) = Σ_i Σ_j (p_max(i,j) - p_i p_j).
    higher = np.maximum.outer(np.arange(cuts.size), np.arange(cuts.size))
    joint = above[:, higher]
    conditional_var = (joint - above[:, :, None] * above[:, None, :]).sum(axis=(1, 2))
    grand = float(_WEIGHTS @ conditional_mean)
    between = float(_WEIGHTS @ (conditional_mean - grand) ** 2)
    variance = float(_WEIGHTS @ conditional_var) + between
    return variance, between


def alpha_of(loading: float, n_items: int, mean: float, sd: float, minimum: int, maximum: int) -> float:
    """Population Cronbach's alpha of `n_items` rounded items with a common loading.

    For k items of equal variance v and covariance c, alpha = k·c / (v + (k - 1)·c).
    """
    variance, covariance = likert_moments(loading, mean, sd, minimum, maximum)
    if n_items < 2 or variance <= 0:
        return float("nan")
    return n_items * covariance / (variance + (n_items - 1) * covariance)


def loading_for_alpha(
    target: float, n_items: int, mean: float, sd: float, minimum: int, maximum: int
) -> tuple[float, float]:
    """The common loading λ whose rounded items have population alpha `target`.

    Returns
    -------
    loading, alpha
        λ and the alpha it gives: `target`, or the highest alpha the response scale allows (λ = 0.995)
        when the target cannot be reached (the caller reports that).
    """
    if n_items < 2:
        # One item has no alpha; its loading is its reliability's square root (continuous approximation).
        return float(np.sqrt(target)), float("nan")
    highest = alpha_of(_MAX_LOADING, n_items, mean, sd, minimum, maximum)
    if highest <= target:
        return _MAX_LOADING, highest
    loading = optimize.brentq(
        lambda value: alpha_of(value, n_items, mean, sd, minimum, maximum) - target,
        1e-3,
        _MAX_LOADING,
        xtol=1e-6,
    )
    return float(loading), float(target)


def likert_items(
    latent: np.ndarray,
    noise: np.ndarray,
    loading: float,
    mean: float,
    sd: float,
    minimum: int,
    maximum: int,
    reverse: np.ndarray,
) -> np.ndarray:
    """Rounded item responses for latent values `latent` (any shape) and noise `noise` (shape + (items,)).

    Reverse-keyed items (`reverse`, a boolean per item) are returned reversed, as answered.
    """
    continuous = loading * latent[..., None] + np.sqrt(1.0 - loading**2) * noise
    response = np.clip(np.floor(mean + sd * continuous + 0.5), minimum, maximum)
    return np.where(reverse, minimum + maximum - response, response)


def score_items(
    responses: np.ndarray, reverse: np.ndarray, minimum: int, maximum: int, scoring: str, min_items: int
) -> np.ndarray:
    """Scale scores from item responses (last axis: items; NaN = not answered).

    Reverse-keyed items are reversed back; the score is the mean of the answered items (``"sum"``:
    the mean times the number of items, a prorated sum), NaN with fewer than `min_items` answered.
    """
    keyed = np.where(reverse, minimum + maximum - responses, responses)
    answered = np.sum(~np.isnan(keyed), axis=-1)
    with np.errstate(invalid="ignore"):
        score = np.nanmean(np.where(answered[..., None] > 0, keyed, 0.0), axis=-1)
    score = np.where(answered >= min_items, score, np.nan)
    if scoring == "sum":
        score = score * responses.shape[-1]
    return score
