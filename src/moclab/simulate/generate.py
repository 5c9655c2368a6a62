"""Drawing one simulated data set from a compiled `SimulationPlan`, vectorized over recipients.

The work per data set is a loop over waves and, within a wave, over latent nodes in causal order; every
step is a numpy operation on all recipients at once, so 100,000 recipients take well under a second.

Randomness comes from one `numpy.random.SeedSequence`, split into independent streams for the structure
(sites, teams, recipients), the constants (random intercepts, moderators, preconditions), exposure, the
support log, the latent variables, measurement, missingness and the details of the written tables (dates,
components). Because each purpose has its own stream, the fast wide frame and the full study drawn with
the same seed hold identical values, and asking for latent instead of observed scores changes nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy import special

from moclab.errors import MoclabError
from moclab.simulate.measurement import likert_items, score_items

if TYPE_CHECKING:
    from moclab.simulate.plan import SimulationPlan

SeedLike = int | np.random.SeedSequence | np.random.Generator | None
STREAMS = ("structure", "constants", "exposure", "dose", "latent", "measurement", "missing", "details")


@dataclass(frozen=True, eq=False)
class Draw:
    """The arrays of one simulated data set (recipients in rows; waves on the second axis)."""

    seed: int | None
    details_seed: np.random.SeedSequence
    site_of: np.ndarray
    team_of: np.ndarray | None
    n_sites: int
    n_teams: int
    arm: np.ndarray  # -1 control, else the strategy's index (binary exposure)
    exposure: np.ndarray  # (n, strategies): 0/1, or the continuous exposure
    holds: np.ndarray  # (n, preconditions) bool
    latent: np.ndarray  # (n, waves, nodes)
    scores: dict[str, np.ndarray]  # measure name -> (n, waves), NaN where missing
    items: dict[str, np.ndarray]  # item field -> (n, waves), NaN where missing
    site_scores: dict[str, np.ndarray]  # outcome measure name -> (sites, waves)
    present: np.ndarray  # (n, waves) bool: still in the study (monotone dropout)
    dose_unit_of: np.ndarray | None
    dose_minutes: np.ndarray | None  # (n, waves) cumulative minutes received up to each wave
    dose_contacts: np.ndarray | None
    contacts: dict[str, np.ndarray] | None  # one entry per logged contact: unit, time (months), minutes

    @property
    def n(self) -> int:
        return self.site_of.size


def seed_sequence(seed: SeedLike) -> tuple[np.random.SeedSequence, int | None]:
    """The root seed sequence for `seed` and the integer to record (None when a Generator was given)."""
    if isinstance(seed, np.random.Generator):
        return seed.bit_generator.seed_seq.spawn(1)[0], None  # type: ignore[attr-defined]
    if isinstance(seed, np.random.SeedSequence):
        entropy = seed.entropy if isinstance(seed.entropy, int) else None
        return seed, entropy
    if seed is None:
        sequence = np.random.SeedSequence()
        return sequence, int(sequence.entropy)  # type: ignore[arg-type]
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise MoclabError(f"a seed must be a whole number >= 0, got {seed!r}")
    return np.random.SeedSequence(int(seed)), int(seed)


def child_seed(sequence: np.random.SeedSequence, number: int) -> np.random.SeedSequence:
    """The `number`-th child of `sequence`, the same as `SeedSequence.spawn` would give it but without
    changing `sequence` (spawn counts its calls, so calling it twice would give different children)."""
    return np.random.SeedSequence(
        sequence.entropy, spawn_key=(*sequence.spawn_key, number), pool_size=sequence.pool_size
    )


def _sizes(size: object, count: int, rng: np.random.Generator) -> np.ndarray:
    """Draw `count` sizes from a `Size` spec (a number, a range, or a mean with a distribution)."""
    if isinstance(size, int):
        return np.full(count, size, dtype=np.int64)
    low_high = getattr(size, "range", None)
    if low_high is not None:
        return rng.integers(low_high[0], low_high[1] + 1, size=count)
    mean = float(size.mean)  # type: ignore[attr-defined]
    minimum = int(size.min)  # type: ignore[attr-defined]
    if size.distribution == "fixed":  # type: ignore[attr-defined]
        return np.full(count, max(minimum, round(mean)), dtype=np.int64)
    return np.maximum(rng.poisson(mean, size=count), minimum)


def _rank_within(groups: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random order (0, 1, ...) of the rows within each group."""
    keys = rng.random(groups.size)
    order = np.lexsort((keys, groups))
    starts = np.r_[0, np.flatnonzero(np.diff(groups[order])) + 1]
    counts = np.diff(np.r_[starts, groups.size])
    ranks = np.empty(groups.size, dtype=np.int64)
    ranks[order] = np.arange(groups.size) - np.repeat(starts, counts)
    return ranks


def _unit_codes(level: str, site_of: np.ndarray, team_of: np.ndarray | None) -> tuple[np.ndarray, int]:
    if level == "site":
        return site_of, int(site_of.max()) + 1
    if level == "team" and team_of is not None:
        return team_of, int(team_of.max()) + 1
    return np.arange(site_of.size), site_of.size


def _unit_mean(values: np.ndarray, codes: np.ndarray, count: int) -> np.ndarray:
    return np.bincount(codes, weights=values, minlength=count) / np.maximum(
        np.bincount(codes, minlength=count), 1
    )


def draw(
    plan: SimulationPlan, seed: SeedLike = None, *, measurement: str = "observed", items: bool = False
) -> Draw:
    """Draw one data set from `plan`.

    Parameters
    ----------
    plan : SimulationPlan
    seed : int, SeedSequence, Generator or None
        The same seed gives the same data set.
    measurement : {"observed", "latent"}
        Observed scores (items scored, scale scores with error, clipped and rounded) or the latent values
        themselves for every measured node (no measurement error; for checking recovery of the structure).
    items : bool
        Keep the item responses (only with observed measurement).

    Returns
    -------
    Draw
        The arrays of the data set (recipients in rows, waves in columns); `SimulationPlan.wide` and
        `SimulationPlan.study` turn a draw into tables.

    Examples
    --------
    >>> import numpy as np
    >>> from moclab.simulate import compile_simulation, draw
    >>> plan = compile_simulation("recipient-pathway")
    >>> data = draw(plan, seed=1)
    >>> data.n, data.n_sites, data.n_teams
    (2062, 40, 117)
    >>> data.scores["trust"].shape  # recipients x waves
    (2062, 3)
    >>> np.isnan(data.scores["trust"]).mean(axis=0).round(3).tolist()  # missing, growing with dropout
    [0.023, 0.091, 0.15]

    The same seed with latent scores draws the same sites, arms and people, without measurement error:

    >>> latent = draw(plan, seed=1, measurement="latent")
    >>> bool((latent.arm == data.arm).all())
    True
    """
    if measurement not in ("observed", "latent"):
        raise MoclabError(f"measurement must be 'observed' or 'latent', got {measurement!r}")
    root, recorded = seed_sequence(seed)
    streams = {name: child_seed(root, number) for number, name in enumerate(STREAMS)}
    rng = {name: np.random.default_rng(sequence) for name, sequence in streams.items()}
    design = plan.spec.design
    k = len(plan.nodes)
    n_waves = plan.months.size

    # -- structure: sites, teams, recipients ---------------------------------------------------------------
    sizes = _sizes(design.recipients, design.sites, rng["structure"])
    site_of = np.repeat(np.arange(design.sites), sizes)
    n = site_of.size
    team_of = None
    n_teams = 0
    if design.teams is not None:
        teams_per_site = np.minimum(_sizes(design.teams, design.sites, rng["structure"]), sizes)
        offsets = np.r_[0, np.cumsum(teams_per_site)[:-1]]
        team_of = offsets[site_of] + _rank_within(site_of, rng["structure"]) % teams_per_site[site_of]
        n_teams = int(teams_per_site.sum())

    # -- constants: random intercepts, moderators, preconditions -------------------------------------------
    constants = rng["constants"]
    site_sd = np.array([node.site_sd for node in plan.nodes])
    team_sd = np.array([node.team_sd for node in plan.nodes])
    person_sd = np.array([node.person_sd for node in plan.nodes])
    site_u = constants.standard_normal((design.sites, k)) * site_sd
    team_u = constants.standard_normal((max(n_teams, 1), k)) * team_sd
    person_u = np.zeros((n, k))
    varying = np.flatnonzero(person_sd > 0)  # only moderators and constant confounders vary by person
    person_u[:, varying] = constants.standard_normal((n, varying.size)) * person_sd[varying]
    for i, node in enumerate(plan.nodes):
        if node.binary_share is None:
            continue
        codes, count = _unit_codes(
            "recipient" if node.level == "individual" else node.level, site_of, team_of
        )
        coded = (constants.random(count) < node.binary_share) - node.binary_share
        target = {"site": site_u, "team": team_u}.get(node.level)
        if target is None:
            person_u[:, i] = coded
        else:
            target[:, i] = coded
    intercepts = site_u[site_of] + person_u
    if team_of is not None:
        intercepts += team_u[team_of]
    holds = np.ones((n, len(plan.preconditions)), dtype=bool)
    for j, pre in enumerate(plan.preconditions):
        codes, count = _unit_codes("recipient" if pre.level == "individual" else pre.level, site_of, team_of)
        if pre.share < 1:
            holds[:, j] = (constants.random(count) < pre.share)[codes]

    # -- the latent system before the study: its stationary distribution without the strategy --------------
    latent_rng = rng["latent"]
    previous = (
        intercepts @ plan.intercept_map.T + latent_rng.standard_normal((n, k)) @ plan.innovation_factor.T
    )

    # -- exposure ------------------------------------------------------------------------------------------
    arm, exposure = _exposure(plan, previous, site_of, team_of, rng["exposure"])

    # -- the support log -----------------------------------------------------------------------------------
    dose = _dose(plan, arm, site_of, team_of, rng["dose"]) if plan.dose is not None else None
    dose_z = dose["z"] if dose is not None else None

    # -- the latent variables, wave by wave ----------------------------------------------------------------
    latent = np.empty((n, n_waves, k))
    gate_cache: dict[tuple[int, ...], np.ndarray] = {}

    def gate(indexes: tuple[int, ...]) -> np.ndarray | float:
        if not indexes:
            return 1.0
        if indexes not in gate_cache:
            gate_cache[indexes] = np.all(holds[:, list(indexes)], axis=1).astype(float)
        return gate_cache[indexes]

    for t in range(n_waves):
        noise = latent_rng.standard_normal((n, k))
        current = latent[:, t, :]
        for i, node in enumerate(plan.nodes):
            value = node.stability * previous[:, i] + (1 - node.stability) * intercepts[:, i]
            for term in node.terms:
                source = current[:, term.source] if term.lag == 0 else previous[:, term.source]
                effect = term.coefficient
                for moderator, interaction in term.moderators:
                    effect = effect + interaction * current[:, moderator]
                value = value + gate(term.gates) * effect * source
            if node.noise_sd:
                value = value + node.noise_sd * noise[:, i]
            if plan.active[t]:
                for term in node.strategy_terms:
                    effect = term.coefficient
                    if term.slope and dose_z is not None:
                        effect = effect + term.slope * dose_z[:, t]
                    for moderator, interaction in term.moderators:
                        effect = effect + interaction * current[:, moderator]
                    value = value + gate(term.gates) * exposure[:, term.strategy] * effect
            current[:, i] = value
        previous = current

    # -- measurement and missingness -----------------------------------------------------------------------
    missing = plan.spec.missing
    rates = np.broadcast_to(np.asarray(missing.rate, dtype=float), (n_waves,))
    dropout = np.broadcast_to(np.asarray(missing.dropout, dtype=float), (max(n_waves - 1, 0),))
    missing_rng = rng["missing"]
    present = np.ones((n, n_waves), dtype=bool)
    for t in range(1, n_waves):
        present[:, t] = present[:, t - 1] & (missing_rng.random(n) >= dropout[t - 1])
    scores, item_values, site_scores = _measure(
        plan,
        latent,
        site_of,
        design.sites,
        present,
        rates,
        rng["measurement"],
        missing_rng,
        measurement,
        items,
    )
    return Draw(
        seed=recorded,
        details_seed=streams["details"],
        site_of=site_of,
        team_of=team_of,
        n_sites=design.sites,
        n_teams=n_teams,
        arm=arm,
        exposure=exposure,
        holds=holds,
        latent=latent,
        scores=scores,
        items=item_values,
        site_scores=site_scores,
        present=present,
        dose_unit_of=dose["unit_of"] if dose else None,
        dose_minutes=dose["minutes"] if dose else None,
        dose_contacts=dose["contacts"] if dose else None,
        contacts=dose["log"] if dose else None,
    )


def _exposure(
    plan: SimulationPlan,
    before: np.ndarray,
    site_of: np.ndarray,
    team_of: np.ndarray | None,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Who is exposed to which strategy: complete randomization of units, or exposure driven by confounders
    (observational designs). Returns the arm per recipient and the exposure matrix."""
    setup = plan.exposure
    codes, count = _unit_codes(setup.unit, site_of, team_of)
    n_strategies = len(plan.strategies)
    pressure = np.zeros(count)
    for index, loading in setup.confounders:
        pressure += loading * _unit_mean(before[:, index], codes, count)
    if setup.kind == "continuous":
        if setup.randomized:
            level = rng.standard_normal(count)
        else:
            remaining = 1.0 - sum(loading**2 for _, loading in setup.confounders)
            level = pressure + np.sqrt(remaining) * rng.standard_normal(count)
        return np.zeros(site_of.size, dtype=np.int64), level[codes][:, None]
    unit_arm = np.full(count, -1, dtype=np.int64)
    if setup.randomized:
        n_exposed = round(setup.allocation * count)
        if count >= 2:
            n_exposed = min(max(n_exposed, 1), count - 1)
        chosen = rng.permutation(count)[:n_exposed]
        unit_arm[chosen] = rng.permutation(np.arange(n_exposed) % n_strategies)
    else:
        odds = special.logit(setup.allocation) + pressure
        exposed = rng.random(count) < special.expit(odds)
        unit_arm[exposed] = rng.integers(0, n_strategies, size=int(exposed.sum()))
    arm = unit_arm[codes]
    exposure = np.zeros((site_of.size, n_strategies))
    exposed_rows = np.flatnonzero(arm >= 0)
    exposure[exposed_rows, arm[exposed_rows]] = 1.0
    return arm, exposure


def _dose(
    plan: SimulationPlan,
    arm: np.ndarray,
    site_of: np.ndarray,
    team_of: np.ndarray | None,
    rng: np.random.Generator,
) -> dict[str, object]:
    """The support log: contacts per unit and month (Poisson around the unit's support rate), their
    lengths, and each recipient's cumulative support and standardized support rate at each wave."""
    dose = plan.dose
    assert dose is not None
    codes, count = _unit_codes(dose.level, site_of, team_of)
    exposed = np.zeros(count, dtype=bool)
    exposed[codes] = arm >= 0  # a dose unit lies within one exposure unit, so its members share the arm
    if dose.cv > 0:
        shape = 1.0 / dose.cv**2
        rate = rng.gamma(shape, dose.minutes_per_month / shape, size=count)
    else:
        rate = np.full(count, dose.minutes_per_month)
    rate = np.where(exposed, rate, dose.control_minutes_per_month)
    months = plan.months
    start = plan.start_month
    n_months = max(int(np.ceil(months[-1] - start)), 0)
    counts = rng.poisson(np.repeat(rate / dose.contact_minutes, n_months))
    unit = np.repeat(np.repeat(np.arange(count), n_months), counts)
    month = np.repeat(np.tile(np.arange(n_months), count), counts)
    time = start + month + rng.random(unit.size)
    shape = 1.0 / 0.3**2  # contact lengths vary with a coefficient of variation of 0.3
    minutes = np.maximum(np.round(rng.gamma(shape, dose.contact_minutes / shape, size=unit.size) / 5) * 5, 5)
    keep = time < months[-1]
    unit, time, minutes = unit[keep], time[keep], minutes[keep]
    n_waves = months.size
    cumulative = np.zeros((count, n_waves))
    contacts = np.zeros((count, n_waves))
    for t in range(n_waves):
        before = time < months[t]
        cumulative[:, t] = np.bincount(unit[before], weights=minutes[before], minlength=count)
        contacts[:, t] = np.bincount(unit[before], minlength=count)
    elapsed = np.maximum(months - start, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        realised = np.where(elapsed > 0, cumulative / elapsed, dose.minutes_per_month)
    z = np.zeros((count, n_waves))
    if dose.rate_sd > 0:
        z = np.where(exposed[:, None], (realised - dose.minutes_per_month) / dose.rate_sd, 0.0)
    return {
        "unit_of": codes,
        "minutes": cumulative[codes],
        "contacts": contacts[codes],
        "z": z[codes],
        "log": {"unit": unit, "time": time, "minutes": minutes},
    }


def _measure(
    plan: SimulationPlan,
    latent: np.ndarray,
    site_of: np.ndarray,
    n_sites: int,
    present: np.ndarray,
    rates: np.ndarray,
    rng: np.random.Generator,
    missing_rng: np.random.Generator,
    measurement: str,
    keep_items: bool,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Scores (and items) of every measured node, with MCAR missing values and dropout applied."""
    n, n_waves, _ = latent.shape
    scores: dict[str, np.ndarray] = {}
    items: dict[str, np.ndarray] = {}
    site_scores: dict[str, np.ndarray] = {}
    site_counts = np.bincount(site_of, minlength=n_sites)
    for measure in plan.measures:
        values = latent[:, :, measure.index]
        if measure.kind == "items":
            m = len(measure.item_ids)
            noise = rng.standard_normal((n, n_waves, m)) if measurement == "observed" else None
            unanswered = missing_rng.random((n, n_waves, m)) < rates[None, :, None]
            unanswered |= ~present[:, :, None]
            if noise is None:
                answered = m - unanswered.sum(axis=2)
                scores[measure.name] = np.where(answered >= measure.min_items, values, np.nan)
                continue
            reverse = np.array(measure.reverse)
            responses = likert_items(
                values,
                noise,
                measure.loading,
                measure.mean,
                measure.sd,
                measure.minimum,
                measure.maximum,
                reverse,
            )
            responses[unanswered] = np.nan
            scores[measure.name] = score_items(
                responses, reverse, measure.minimum, measure.maximum, measure.scoring, measure.min_items
            )
            if keep_items:
                for j, field_name in enumerate(measure.item_fields):
                    items[field_name] = responses[:, :, j]
            continue
        noise = rng.standard_normal((n, n_waves)) if measurement == "observed" else None
        if noise is not None:
            reliability = measure.reliability
            values = measure.mean + measure.sd * (
                np.sqrt(reliability) * values + np.sqrt(1 - reliability) * noise
            )
        if measure.table == "outcomes":
            site_means = (
                np.stack(
                    [np.bincount(site_of, weights=values[:, t], minlength=n_sites) for t in range(n_waves)],
                    axis=1,
                )
                / np.maximum(site_counts, 1)[:, None]
            )
            if noise is not None:
                site_means = _finish(site_means, measure)
            site_means[missing_rng.random((n_sites, n_waves)) < rates[None, :]] = np.nan
            site_scores[measure.name] = site_means
            continue
        if noise is not None:
            values = _finish(values, measure)
        unanswered = (missing_rng.random((n, n_waves)) < rates[None, :]) | ~present
        scores[measure.name] = np.where(unanswered, np.nan, values)
    return scores, items, site_scores


def _finish(values: np.ndarray, measure: object) -> np.ndarray:
    """Clip an observed scale score to its range and round it to its decimals."""
    low_high = measure.range  # type: ignore[attr-defined]
    if low_high is not None:
        values = np.clip(values, low_high[0], low_high[1])
    return np.round(values, measure.decimals)  # type: ignore[attr-defined]
