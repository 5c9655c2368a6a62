"""The stacked mixed model of Bauer, Preacher & Gil (2006) for 1-1-1 mediation, fitted with MixedLM.

BPG write the mediator and the outcome equation as one mixed model: every row of the data appears twice, once
with the mediator as the response and once with the outcome, and selector variables (1 on mediator rows and 0
on outcome rows, and the reverse) switch each equation's predictors and random effects on and off. Because the
random effects of both equations then share one covariance matrix, the model estimates the covariance σ_ab of
the random a and b slopes, which the average indirect effect a·b + σ_ab needs. `moclab.analysis.multilevel`
builds the stacked data; this module fits it.

What the library does and what is written here, and why:

* statsmodels `MixedLM` (REML) fits the stacked rows, with one unstructured covariance matrix for all random
  effects of a cluster. Its solution is the starting point.
* MixedLM has a single residual variance, but the two equations need their own (BPG use SAS's
  ``REPEATED / GROUP=``, R's multilevelmediation nlme's ``varIdent``); no Python library fits that model.
  Dividing the mediator rows (response and every predictor) by a constant k makes a model whose mediator
  residual variance is k² times the outcome's homoscedastic, so MixedLM fits the heteroscedastic model exactly
  *for a given k* (k is first set from within-cluster least squares). The REML log-likelihood of the
  heteroscedastic model is written here (`RemlLikelihood`, vectorized over clusters) and maximized over all
  covariance parameters, k included, from MixedLM's solution. That last step also repairs a MixedLM
  weakness: its optimizer stops short when a variance approaches zero (in the square-root parameterization
  the gradient vanishes there), leaving the log-likelihood visibly below its maximum.
* The fixed effects are the generalized least-squares solution at the REML covariance parameters, with
  covariance (X'V⁻¹X)⁻¹ (identical to MixedLM's estimates; MixedLM's ``cov_params()`` inverts the joint
  Hessian of fixed and covariance parameters, which can give negative variances when the covariance part is
  ill-conditioned).
* The sampling covariance of the covariance parameters (needed for the uncertainty of σ_ab) is the inverse of
  the observed information of that REML log-likelihood, by numerical differentiation
  (`statsmodels.tools.numdiff`). statsmodels' ``bse_re`` is not used: it is derived from the likelihood with
  the residual variance profiled out, does not match the closed-form variance of the balanced one-way REML
  estimator (off by the factor √σ²), and has no entries for the residual variances.

References
----------
Bauer, D. J., Preacher, K. J., & Gil, K. M. (2006). Conceptualizing and testing random indirect effects and
moderated mediation in multilevel models: New procedures and recommendations. *Psychological Methods*, 11(2),
142-163.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize
from statsmodels.regression.mixed_linear_model import MixedLM, MixedLMParams
from statsmodels.tools.numdiff import approx_fprime, approx_hess3

__all__ = ["RemlLikelihood", "StackedData", "StackedFit", "boundary_effects", "fit_mixedlm", "fit_stacked"]

#: Iteration limit of the REML maximization (it starts at MixedLM's solution and usually needs 10 to 40).
MAX_ITERATIONS = 500
#: The maximization has converged when the Newton decrement (twice the log-likelihood a Newton step would
#: still gain) is below this.
DECREMENT_TOLERANCE = 1e-6
#: MixedLM's optimizers, tried in this order (statsmodels moves to the next when one fails to converge).
OPTIMIZERS = ("lbfgs", "bfgs", "cg")
#: A random effect whose variance adds less than this share of the residual variance is at the boundary.
BOUNDARY_SHARE = 1e-3


@dataclass(frozen=True)
class StackedData:
    """A mixed model in stacked form: response, fixed and random designs, clusters and residual groups.

    ``residual_group`` is 0 for rows of the first equation (the mediator) and 1 for the second (the outcome);
    a single-equation model has every row in group 0. ``zero_covariances`` lists random-effect covariances
    held at zero, as (row, 0) pairs: covariances with the first random effect, which statsmodels can fix
    exactly through its Cholesky parameterization.
    """

    endog: np.ndarray
    exog: np.ndarray
    exog_re: np.ndarray
    groups: np.ndarray
    residual_group: np.ndarray
    exog_names: tuple[str, ...]
    re_names: tuple[str, ...]
    zero_covariances: tuple[tuple[int, int], ...] = ()

    def __post_init__(self) -> None:
        for row, column in self.zero_covariances:
            if column != 0 or not 0 < row < self.exog_re.shape[1]:
                raise ValueError(
                    f"only covariances with the first random effect can be fixed at 0, got {(row, column)}"
                )

    def free_covariances(self) -> np.ndarray:
        """Mask over the lower triangle of the random-effects covariance (row by row): True = estimated."""
        q = self.exog_re.shape[1]
        mask = np.ones((q, q), dtype=bool)
        for row, column in self.zero_covariances:
            mask[row, column] = False
        return mask[np.tril_indices(q)]

    @property
    def n_residual_groups(self) -> int:
        return int(self.residual_group.max()) + 1


@dataclass(frozen=True)
class StackedFit:
    """Estimates of a stacked mixed model.

    ``theta`` packs the estimated elements of the lower triangle of the random-effects covariance ``re_cov``
    (row by row, as `numpy.tril_indices`; covariances fixed at zero are left out) followed by the residual
    variance(s); ``theta_cov`` is its estimated sampling covariance (None when the information matrix is not
    positive definite; NaN in the rows of random effects at the boundary). ``boundary`` lists the random
    effects whose variance is estimated at zero (see `boundary_effects`).
    """

    fe_params: np.ndarray
    fe_cov: np.ndarray
    re_cov: np.ndarray
    residual_variances: np.ndarray
    theta: np.ndarray
    theta_cov: np.ndarray | None
    loglik: float
    converged: bool
    iterations: int
    free_covariances: np.ndarray
    boundary: tuple[int, ...] = ()
    messages: tuple[str, ...] = field(default_factory=tuple)

    def theta_index(self, row: int, column: int) -> int:
        """Position in ``theta`` of the random-effects covariance between effects ``row`` and ``column``."""
        row, column = max(row, column), min(row, column)
        full = row * (row + 1) // 2 + column
        if not self.free_covariances[full]:
            raise KeyError(f"the covariance ({row}, {column}) is fixed at zero, not estimated")
        return int(np.sum(self.free_covariances[:full]))


class RemlLikelihood:
    """REML log-likelihood of a linear mixed model with cluster random effects and grouped residual variances.

    The model is ``z = Xβ + Zu + e`` with ``u ~ N(0, G)`` independently per cluster and ``e`` independent
    normal with variance σ²_r on the rows of residual group r. All evaluations work on per-cluster
    cross-products computed once, so one evaluation costs O(J q³) for J clusters and q random effects.

    Parameters
    ----------
    data : StackedData
        The model.
    shared_residual : bool
        One residual variance for all rows (``theta`` then ends with a single variance) instead of one per
        residual group.

    Notes
    -----
    With ``R_j`` the diagonal residual covariance of cluster j, ``A_j = Z_j'R_j⁻¹Z_j`` and
    ``K_j = I + G A_j``, Woodbury's identity gives ``V_j⁻¹ = R_j⁻¹ - R_j⁻¹Z_j K_j⁻¹ G Z_j'R_j⁻¹`` and
    ``|V_j| = |R_j| |K_j|``; neither needs G⁻¹, so a singular G is allowed. With ``Q = Σ_j W_j'V_j⁻¹W_j`` for
    ``W = [X z]``, the REML log-likelihood is

    ``ℓ = -½ [Σ_j log|V_j| + log|Q_xx| + Q_zz - Q_zx Q_xx⁻¹ Q_xz + (N - p) log 2π]``

    (Harville, 1977), the same constant as statsmodels' ``MixedLMResults.llf`` with ``reml=True``.

    References
    ----------
    Harville, D. A. (1977). Maximum likelihood approaches to variance component estimation and to related
    problems. *Journal of the American Statistical Association*, 72(358), 320-338.
    """

    def __init__(self, data: StackedData, *, shared_residual: bool = False) -> None:
        self.data = data
        self.shared_residual = shared_residual
        exog, exog_re = data.exog, data.exog_re
        n_obs, self.p = exog.shape
        self.q = exog_re.shape[1]
        self.n_obs = n_obs
        n_clusters = int(data.groups.max()) + 1
        n_residual = data.n_residual_groups
        self.tril = np.tril_indices(self.q)
        self.free = data.free_covariances()
        combined = np.column_stack([exog, data.endog])
        self._zz = np.zeros((n_residual, n_clusters, self.q, self.q))
        self._zw = np.zeros((n_residual, n_clusters, self.q, self.p + 1))
        self._ww = np.zeros((n_residual, self.p + 1, self.p + 1))
        self._counts = np.bincount(data.residual_group, minlength=n_residual).astype(np.float64)
        # Per-cell cross-products by slicing sorted rows: memory stays O(N) even for many columns.
        cell = data.residual_group.astype(np.int64) * n_clusters + data.groups.astype(np.int64)
        order = np.argsort(cell, kind="stable")
        bounds = np.flatnonzero(np.diff(cell[order])) + 1
        for rows in np.split(order, bounds):
            r, j = divmod(int(cell[rows[0]]), n_clusters)
            z_rows, w_rows = exog_re[rows], combined[rows]
            self._zz[r, j] = z_rows.T @ z_rows
            self._zw[r, j] = z_rows.T @ w_rows
            self._ww[r] += w_rows.T @ w_rows

    @property
    def n_theta(self) -> int:
        return int(self.free.sum()) + (1 if self.shared_residual else self.data.n_residual_groups)

    def pack(self, re_cov: np.ndarray, residual_variances: np.ndarray) -> np.ndarray:
        """``theta`` from a covariance matrix and the residual variance(s)."""
        residual = np.atleast_1d(np.asarray(residual_variances, dtype=np.float64))
        if self.shared_residual:
            residual = residual[:1]
        return np.concatenate([np.asarray(re_cov)[self.tril][self.free], residual])

    def unpack(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The covariance matrix G and one residual variance per residual group."""
        n_cov = int(self.free.sum())
        lower = np.zeros(len(self.tril[0]))
        lower[self.free] = theta[:n_cov]
        re_cov = np.zeros((self.q, self.q))
        re_cov[self.tril] = lower
        re_cov = re_cov + re_cov.T - np.diag(np.diag(re_cov))
        residual = np.asarray(theta[n_cov:], dtype=np.float64)
        if self.shared_residual:
            residual = np.full(self.data.n_residual_groups, residual[0])
        return re_cov, residual

    def _weighted(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray, float] | None:
        """``Q = Σ_j W_j'V_j⁻¹W_j``, the log-determinants ``Σ_j log|V_j|``, or None outside the domain."""
        re_cov, residual = self.unpack(np.asarray(theta, dtype=np.float64))
        if not np.all(np.isfinite(theta)) or np.any(residual <= 0):
            return None
        inverse = 1.0 / residual
        a = np.einsum("r,rjab->jab", inverse, self._zz)
        b = np.einsum("r,rjab->jab", inverse, self._zw)
        c = np.einsum("r,rab->ab", inverse, self._ww)
        k = np.eye(self.q)[None] + re_cov[None] @ a
        sign, logdet_k = np.linalg.slogdet(k)
        if np.any(sign <= 0):
            return None
        t = np.linalg.solve(k, np.broadcast_to(re_cov, k.shape))
        q_matrix = c - np.einsum("jka,jkl,jlb->ab", b, t, b, optimize=True)
        logdet_v = float(np.sum(self._counts * np.log(residual)) + np.sum(logdet_k))
        return q_matrix, logdet_k, logdet_v

    def loglik(self, theta: np.ndarray) -> float:
        """REML log-likelihood at ``theta`` (-inf outside the parameter space)."""
        weighted = self._weighted(theta)
        if weighted is None:
            return -math.inf
        q_matrix, _, logdet_v = weighted
        q_xx, q_xz, q_zz = q_matrix[: self.p, : self.p], q_matrix[: self.p, self.p], q_matrix[self.p, self.p]
        sign, logdet_q = np.linalg.slogdet(q_xx)
        if sign <= 0:
            return -math.inf
        rss = q_zz - q_xz @ np.linalg.solve(q_xx, q_xz)
        return float(-0.5 * (logdet_v + logdet_q + rss + (self.n_obs - self.p) * math.log(2 * math.pi)))

    def gls(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Generalized least-squares fixed effects and their covariance ``(X'V⁻¹X)⁻¹`` at ``theta``."""
        weighted = self._weighted(theta)
        if weighted is None:
            raise ValueError("theta is outside the parameter space")
        q_matrix = weighted[0]
        q_xx, q_xz = q_matrix[: self.p, : self.p], q_matrix[: self.p, self.p]
        covariance = np.linalg.inv(q_xx)
        return covariance @ q_xz, covariance


def fit_mixedlm(
    model: MixedLM,
    start: object = None,
    free: MixedLMParams | None = None,
    optimizers: tuple[str, ...] = OPTIMIZERS,
) -> tuple[object, list[str]]:
    """Fit a MixedLM by REML, trying ``optimizers`` in turn; returns the result and the warnings it raised.

    statsmodels moves on to its next optimizer only when one reports no convergence, but an optimizer can
    also raise (L-BFGS can step to a singular X'V⁻¹X from the default start) or report convergence at a
    degenerate point with an infinite log-likelihood and meaningless fixed effects (seen with L-BFGS on
    random-intercept models). Each optimizer is therefore tried separately and a fit is accepted only if it
    converged with a finite log-likelihood and finite estimates; otherwise the best finite fit that did not
    converge is returned. With ``free`` (statsmodels' mask of estimated parameters) only the optimizers that
    respect it are used (statsmodels documents BFGS and L-BFGS).

    Raises
    ------
    numpy.linalg.LinAlgError or ValueError
        When no optimizer gives a finite fit.
    """
    fallback: tuple[object, list[str]] | None = None
    error: Exception = ValueError("MixedLM gave no finite solution with any optimizer")
    for method in optimizers if free is None else tuple(m for m in optimizers if m in ("lbfgs", "bfgs")):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = model.fit(reml=True, start_params=start, method=[method], free=free)
            except (np.linalg.LinAlgError, ValueError) as raised:
                error = raised
                continue
        finite = np.isfinite(result.llf) and np.all(np.isfinite(result.fe_params))
        finite = finite and bool(np.all(np.isfinite(np.asarray(result.cov_re)))) and np.isfinite(result.scale)
        if not finite:
            continue
        messages = [str(item.message) for item in caught]
        if result.converged:
            return result, messages
        if fallback is None or result.llf > fallback[0].llf:  # type: ignore[attr-defined]
            fallback = (result, messages)
    if fallback is not None:
        return fallback
    raise error


def _fit_at_ratio(data: StackedData, ratio: float, start: object) -> tuple[object, list[str]]:
    """MixedLM (REML) with the residual group 0 rows divided by ``ratio`` (σ_0 = ratio · σ_1)."""
    weights = np.where(data.residual_group == 0, 1.0 / ratio, 1.0)
    model = MixedLM(
        data.endog * weights,
        data.exog * weights[:, None],
        data.groups,
        exog_re=data.exog_re * weights[:, None],
    )
    return fit_mixedlm(model, start)


def initial_residual_ratio(data: StackedData) -> float:
    """A starting value for σ_0/σ_1: pooled residual SDs of ordinary least squares within each cluster.

    Fitting every cluster's own regression (all coefficients free) leaves only level-1 residuals, whatever the
    random effects, so the pooled residual variance ``Σ RSS_j / Σ (n_j - rank_j)`` estimates each equation's
    residual variance without a mixed model.
    """
    variances = []
    for r in (0, 1):
        rows_r = data.residual_group == r
        active = np.flatnonzero(np.any(data.exog[rows_r] != 0, axis=0))
        rss, df = 0.0, 0
        order = np.flatnonzero(rows_r)
        groups = data.groups[order]
        sort = np.argsort(groups, kind="stable")
        order, groups = order[sort], groups[sort]
        for rows in np.split(order, np.flatnonzero(np.diff(groups)) + 1):
            design = data.exog[np.ix_(rows, active)]
            if rows.size <= design.shape[1]:
                continue
            coefficients, _, rank, _ = np.linalg.lstsq(design, data.endog[rows], rcond=None)
            if rows.size > rank:
                rss += float(np.sum((data.endog[rows] - design @ coefficients) ** 2))
                df += rows.size - int(rank)
        variances.append(rss / df if df > 0 and rss > 0 else math.nan)
    ratio = math.sqrt(variances[0] / variances[1]) if all(np.isfinite(variances)) else 1.0
    return ratio if np.isfinite(ratio) and ratio > 0 else 1.0


def _information(likelihood: RemlLikelihood, theta: np.ndarray) -> np.ndarray:
    """Numerical Hessian of the REML log-likelihood at ``theta`` (minus the observed information)."""
    return np.asarray(approx_hess3(theta, likelihood.loglik))


def _negative_definite(hessian: np.ndarray) -> bool:
    if hessian.size == 0 or not np.all(np.isfinite(hessian)):
        return False
    return bool(np.all(np.linalg.eigvalsh(-(hessian + hessian.T) / 2) > 0))


def _column_scale(data: StackedData) -> np.ndarray:
    """Mean square of each random-effect column over the rows where it is not zero."""
    scales = []
    for k in range(data.exog_re.shape[1]):
        column = data.exog_re[:, k]
        scales.append(float(np.mean(column[column != 0] ** 2)))
    return np.array(scales)


def boundary_effects(
    data: StackedData, re_cov: np.ndarray, residual_variances: np.ndarray
) -> tuple[int, ...]:
    """Random effects whose variance is estimated at (or numerically next to) zero.

    A random effect counts as zero when the variance it adds to its rows, ``G_kk · mean(z_k²)``, is below
    `BOUNDARY_SHARE` of their residual variance.
    """
    found = []
    for k, scale in enumerate(_column_scale(data)):
        rows = data.exog_re[:, k] != 0
        residual = float(np.mean(residual_variances[data.residual_group[rows]]))
        if re_cov[k, k] * scale < BOUNDARY_SHARE * residual:
            found.append(k)
    return tuple(found)


def _active(likelihood: RemlLikelihood, boundary: tuple[int, ...]) -> np.ndarray:
    """Mask over theta: False for the variances and covariances of random effects at the boundary."""
    rows, columns = likelihood.tril
    on_boundary = np.isin(rows, boundary) | np.isin(columns, boundary)
    residual = np.ones(likelihood.n_theta - int(likelihood.free.sum()), dtype=bool)
    return np.concatenate([~on_boundary[likelihood.free], residual])


class _CholeskyParameters:
    """Unconstrained coordinates for the REML maximization: G = LL' and log residual variances.

    The diagonal of L enters as its logarithm, bounded below so that a variance can reach (numerically) zero
    and stop there; covariances fixed at zero with the first random effect are L entries fixed at zero.
    """

    def __init__(self, likelihood: RemlLikelihood, floor: np.ndarray) -> None:
        self.likelihood = likelihood
        rows, columns = likelihood.tril
        self.rows, self.columns = rows[likelihood.free], columns[likelihood.free]
        self.diagonal = self.rows == self.columns
        self.floor = floor
        self.n_residual = likelihood.n_theta - int(likelihood.free.sum())

    def bounds(self) -> list[tuple[float | None, float | None]]:
        entries = [
            (float(self.floor[i]), None) if d else (None, None)
            for i, d in zip(self.rows, self.diagonal, strict=True)
        ]
        return entries + [(None, None)] * self.n_residual

    def from_theta(self, re_cov: np.ndarray, residual: np.ndarray) -> np.ndarray:
        q = re_cov.shape[0]
        jitter = 1e-8 * max(float(np.max(np.diag(re_cov))), 1e-12)
        lower = np.linalg.cholesky(re_cov + jitter * np.eye(q))
        values = lower[self.rows, self.columns]
        values[self.diagonal] = np.maximum(
            np.log(values[self.diagonal]), self.floor[self.rows[self.diagonal]]
        )
        residual = np.atleast_1d(residual)[: self.n_residual]
        return np.concatenate([values, np.log(residual)])

    def to_theta(self, vector: np.ndarray) -> np.ndarray:
        q = self.likelihood.q
        lower = np.zeros((q, q))
        n_cov = self.rows.size
        values = np.array(vector[:n_cov], dtype=np.float64)
        values[self.diagonal] = np.exp(values[self.diagonal])
        lower[self.rows, self.columns] = values
        residual = np.exp(np.asarray(vector[n_cov:], dtype=np.float64))
        return self.likelihood.pack(lower @ lower.T, residual)


def _maximize(
    likelihood: RemlLikelihood, data: StackedData, re_cov: np.ndarray, residual: np.ndarray
) -> tuple[np.ndarray, bool, int]:
    """Maximize the REML log-likelihood from a starting point (L-BFGS-B, central-difference gradient)."""
    scale = _column_scale(data)
    # A variance may fall to 1e-10 of the residual variance, far below the BOUNDARY_SHARE that flags it.
    floor = 0.5 * np.log(1e-10 * float(np.max(residual)) / scale)
    coordinates = _CholeskyParameters(likelihood, floor)
    worst = likelihood.loglik(likelihood.pack(re_cov, residual))
    penalty = -(abs(worst) + 1.0) * 10.0 if math.isfinite(worst) else -1e12

    def objective(vector: np.ndarray) -> float:
        value = likelihood.loglik(coordinates.to_theta(vector))
        return -(value if math.isfinite(value) else penalty)

    def gradient(vector: np.ndarray) -> np.ndarray:
        return np.asarray(approx_fprime(vector, objective, centered=True))

    start = coordinates.from_theta(re_cov, residual)
    result = optimize.minimize(
        objective,
        start,
        jac=gradient,
        method="L-BFGS-B",
        bounds=coordinates.bounds(),
        options={"maxiter": MAX_ITERATIONS, "ftol": 1e-14, "gtol": 1e-7},
    )
    return coordinates.to_theta(result.x), bool(result.success), int(result.nit)


def fit_stacked(data: StackedData, *, heteroscedastic: bool = True) -> StackedFit:
    """Fit a stacked two-equation (or single-equation) mixed model by REML.

    Parameters
    ----------
    data : StackedData
        Stacked rows; ``residual_group`` 0 = mediator rows, 1 = outcome rows.
    heteroscedastic : bool
        Separate residual variances for the two residual groups (BPG 2006; nlme ``varIdent``), otherwise one.

    Returns
    -------
    StackedFit

    Notes
    -----
    1. Start: MixedLM (REML) on the stacked rows, with the mediator rows divided by k = σ_0/σ_1 from
       `initial_residual_ratio` (for a fixed k this is exactly the heteroscedastic model: the REML
       log-likelihoods differ by the Jacobian term ``-n_0 log k``).
    2. Maximize the REML log-likelihood (`RemlLikelihood`) in all covariance parameters, the residual
       variances included, from MixedLM's solution: G = LL' with log-diagonal L, log residual variances,
       L-BFGS-B. This moves k to its REML value and also finishes the job where MixedLM's optimizer stops
       short, which it does when a variance approaches zero.
    3. Fixed effects by generalized least squares at the REML covariance parameters, and the observed
       information of the covariance parameters by a numerical Hessian.
    """
    two_groups = data.n_residual_groups == 2
    heteroscedastic = heteroscedastic and two_groups
    likelihood = RemlLikelihood(data, shared_residual=not heteroscedastic)
    ratio = initial_residual_ratio(data) if heteroscedastic else 1.0
    start, messages = _fit_at_ratio(data, ratio, None)
    scale = float(start.scale)  # type: ignore[attr-defined]
    residual = np.array([scale * ratio**2, scale]) if two_groups else np.array([scale])
    theta_start = likelihood.pack(np.asarray(start.cov_re), residual)  # type: ignore[attr-defined]
    theta, converged, iterations = _maximize(likelihood, data, *likelihood.unpack(theta_start))
    if likelihood.loglik(theta) < likelihood.loglik(theta_start):
        theta, converged = theta_start, bool(start.converged)  # type: ignore[attr-defined]
    re_cov, residual = likelihood.unpack(theta)
    boundary = boundary_effects(data, re_cov, residual)
    # Sampling covariance of the estimated covariance parameters; those of a zero-variance random effect are
    # at the edge of the parameter space and get none (NaN).
    hessian = _information(likelihood, theta)
    active = _active(likelihood, boundary)
    theta_cov: np.ndarray | None = None
    if _negative_definite(hessian[np.ix_(active, active)]):
        theta_cov = np.full(hessian.shape, np.nan)
        theta_cov[np.ix_(active, active)] = np.linalg.inv(-hessian[np.ix_(active, active)])
        # L-BFGS-B often ends with a failed line search right at the maximum, where the finite-difference
        # gradient is noise; the Newton decrement g'(-H)⁻¹g (twice the log-likelihood still to gain, to second
        # order) says whether the maximum has been reached.
        gradient = np.asarray(approx_fprime(theta, likelihood.loglik, centered=True))[active]
        decrement = float(gradient @ theta_cov[np.ix_(active, active)] @ gradient)
        converged = converged or decrement < DECREMENT_TOLERANCE
    # The fixed effects and their covariance (X'V⁻¹X)⁻¹ at the REML estimate, as nlme and SAS report them.
    # MixedLM's own cov_params() inverts the joint Hessian of fixed and covariance parameters instead, which
    # gives negative variances when the covariance part is ill-conditioned.
    fe_params, fe_cov = likelihood.gls(theta)
    return StackedFit(
        fe_params=fe_params,
        fe_cov=fe_cov,
        re_cov=re_cov,
        residual_variances=residual,
        theta=theta,
        theta_cov=theta_cov,
        loglik=likelihood.loglik(theta),
        converged=converged,
        iterations=iterations,
        free_covariances=likelihood.free,
        boundary=boundary,
        messages=tuple(dict.fromkeys(m for m in messages if "Retrying" not in m)),
    )
