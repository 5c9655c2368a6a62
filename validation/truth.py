"""What is true in each world: population quantities from a very large sample, and each criterion's claim.

The population quantities come from one very large draw of the same world (`BIG`: 2000 sites of 50
recipients; the site-level noise of a site-randomized a path shrinks with the number of sites, not of
recipients), fitted by ordinary least squares (numpy) on the latent scores, and from interventions on the same
draw (`validation.worlds.dynamics` with X, the module or a score set by hand, every random term kept). Nothing
here comes from moclab.

For a pathway X → M → Y with the measured competitor C (the other mechanism), the mechanism at m6, the
outcome at m12 and the baselines B = (trust, credibility, acceptability at wave 0):

=============== ==========================================================================================
a               coefficient of X in M_m6 ~ 1 + X + B
a_C             coefficient of X in C_m6 ~ 1 + X + B
b, b_C          coefficients of M_m6 and C_m6 in Y_m12 ~ 1 + X + M_m6 + C_m6 + B (both mechanisms)
total           coefficient of X in Y_m12 ~ 1 + X + B
dose_slope      among treated recipients, coefficient of the dose d in M_m6 ~ 1 + d + M_baseline
causal_a        mean M_m6 under do(X = 1) minus under do(X = 0)
causal_total    the same for Y_m12
causal_b        change of mean Y_m12 when M_m6 is raised by 1 for everyone (an intervention on the mechanism)
reverse         the structural lagged effect of the outcome on the mechanism, Y_t → M_{t+1} (r1; 0 for C)
site_share      share of sites in which the strategy moves the mechanism (per-site causal_a non-zero, sign h)
module_a        (manipulated worlds, trust) mean M_m6 under module = 1 minus module = 0
=============== ==========================================================================================

Where a world's model declares trust at the team level (`team_between`, `team_within`), the associational
quantities read trust as its team mean at every wave (over all members of the team, as the scorecard's
criteria read the observed team means), so each claim is about the declared level; the causal ones are
interventions as everywhere (raising every recipient's trust raises the team means and leaves the deviations
unchanged).

A value is *non-zero* when |value| ≥ 0.05 and *zero* when |value| < 0.02 (exactly zero by construction);
in between it is *ambiguous* and no target applies. A claim "has sign h" (h = +1: every link is hypothesised
positive) is true for a non-zero value of sign h, false for a zero or a non-zero value of the other sign,
ambiguous otherwise; claims are combined with three-valued logic (false wins, then ambiguous). The claims:

strong_association (associational)
    a has sign h and b has sign h.
specificity (associational)
    strong association holds and a·b − a_C·b_C has sign h (the mechanism's indirect effect exceeds the
    competitor's in the hypothesised direction, both from the model with both mechanisms).
consistency (associational, with the structural site values)
    the indirect effect a·b is non-zero with sign h (both factors non-zero) and the strategy moves the
    mechanism in every site (site_share = 1; a site where it does not has a_j·b = 0). Ambiguous where the
    strategy was not randomized (`observational`): there each site's own effect of the strategy is zero by
    construction, yet the association the criterion reads (sites that took up coaching have more trust,
    through their climate) holds in every site's expectation, so the associational claim has no single
    answer. (The first definition called it false; the first run of the suite met it in 87% of 30
    replications, and reading why showed the definition, not the rule, contradicted the criterion's
    associational claim. Recorded in docs/validation.md.)
experimental_manipulation (causal)
    X was randomized, causal_a and causal_total have sign h, and strong association holds; where the
    mechanism itself was manipulated (the trust module), also causal_b has sign h (the module changes the
    outcome through the mechanism): false in manipulated_confounded.
timeline (causal)
    causal_b has sign h and causal_b − reverse has sign h (b against r1).
gradient (associational)
    dose_slope has sign h and b has sign h.
plausibility (coherence with the data; every link is cited in every world)
    a has sign h and b has sign h.
mechanism (causal; the target of the overall conclusion)
    X was randomized, causal_a has sign h and causal_b has sign h.

Targets: where a criterion's claim is false, the share of "met" verdicts must be at most 5%; in the `true`
world (site randomization), trust pathway, at least 80% for every criterion. The overall conclusion must not
be "established" or "supported under stated assumptions" in more than 5% of replications where `mechanism` is
false (except the documented look-alike, `confounded_direct`, which has no target) and must be one of them in
at least 80% where a world expects it (`true`, `true_team`, trust pathway). The `manipulated` world's
conclusion is reported without a target: whether the two-stage test finds the mechanism → outcome link
depends on the strength of the manipulation (θ = 0.5, randomized among 40 sites), a property of the
design, not of the rules.

Example
-------
>>> from validation.worlds import WORLDS
>>> values = population(WORLDS["null_b"])["coaching__trust__acceptability"]
>>> abs(values["b"]) < 0.02
True
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

import numpy as np
import pandas as pd

from validation.worlds import PATHWAYS, WORLDS, Design, Sample, World, draw_sample, dynamics

__all__ = [
    "AMBIGUOUS",
    "BIG",
    "BIG_TEAMS",
    "CLAIMS",
    "FALSE",
    "NONZERO",
    "TRUE",
    "TRUTH_SEED",
    "ZERO",
    "claims",
    "population",
    "population_table",
    "truth_table",
]

BIG = Design(sites=2000, recipients=(50, 50), missing=0.0)
#: Worlds whose claims read team means: ten times the sites, as a team mean's sampling noise shrinks with the
#: number of teams (about 5,000 in `BIG` leave a between-team slope of exactly 0 at about ±0.01, 0.03 in one
#: draw), not of recipients.
BIG_TEAMS = Design(sites=20000, recipients=(50, 50), missing=0.0)
TRUTH_SEED = 20240115
NONZERO = 0.05
ZERO = 0.02
TRUE, FALSE, AMBIGUOUS = "true", "false", "ambiguous"
#: The seven criteria (moclab's ids) and the overall mechanism claim, with the kind of claim each makes.
CLAIMS: dict[str, str] = {
    "strong_association": "associational",
    "specificity": "associational",
    "consistency": "associational",
    "experimental_manipulation": "causal",
    "timeline": "causal",
    "gradient": "associational",
    "plausibility": "coherence",
    "mechanism": "causal",
}
HYPOTHESISED_SIGN = 1.0


def _coefficients(y: np.ndarray, *columns: np.ndarray) -> np.ndarray:
    """OLS coefficients of y on an intercept and `columns` (the intercept first)."""
    design = np.column_stack([np.ones_like(y), *columns])
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    return coefficients


def _sample(world: World, seed: int, design: Design) -> Sample:
    return draw_sample(world, np.random.default_rng(seed), design)


@functools.lru_cache(maxsize=64)
def population(
    world: World, seed: int = TRUTH_SEED, design: Design | None = None
) -> dict[str, dict[str, float]]:
    """The population quantities of `world` per pathway id (see the module docstring), from one big draw
    (`BIG`, or `BIG_TEAMS` where the claims read team means)."""
    if design is None:
        design = BIG_TEAMS if world.trust_level == "team" else BIG
    sample = _sample(world, seed, design)
    st, scores = sample.structure, sample.scores
    x = st.arm
    baselines = [scores[measure][:, 0] for measure in ("trust", "credibility", "acceptability")]
    y12 = scores["acceptability"][:, 2]
    treated = x == 1.0
    treat_all = dynamics(world, st, arm=np.ones(st.n))
    treat_none = dynamics(world, st, arm=np.zeros(st.n))
    total = _coefficients(y12, x, *baselines)[1]
    causal_total = float(np.mean(treat_all["acceptability"][:, 2] - treat_none["acceptability"][:, 2]))
    module_a = None
    if world.manipulates_trust:
        with_module = dynamics(world, st, module=np.ones(st.n))
        without_module = dynamics(world, st, module=np.zeros(st.n))
        module_a = float(np.mean(with_module["trust"][:, 1] - without_module["trust"][:, 1]))
    result: dict[str, dict[str, float]] = {}
    # the scores the claims read: trust as its team means where the model declares it at the team level
    read = dict(scores)
    if world.trust_level == "team":
        team = st.site * (int(st.team.max()) + 1) + st.team
        sizes = np.maximum(np.bincount(team), 1)
        read["trust"] = np.column_stack(
            [(np.bincount(team, weights=scores["trust"][:, t]) / sizes)[team] for t in range(3)]
        )
        baselines[0] = read["trust"][:, 0]
    for pathway, (mechanism, competitor) in PATHWAYS.items():
        m6, c6 = read[mechanism][:, 1], read[competitor][:, 1]
        a = _coefficients(m6, x, *baselines)[1]
        a_c = _coefficients(c6, x, *baselines)[1]
        outcome_model = _coefficients(y12, x, m6, c6, *baselines)
        b, b_c = outcome_model[2], outcome_model[3]
        dose_slope = _coefficients(m6[treated], st.dose[treated], read[mechanism][treated, 0])[1]
        effect = treat_all[mechanism][:, 1] - treat_none[mechanism][:, 1]
        per_site = np.bincount(st.site, weights=effect) / np.bincount(st.site)
        raised = dynamics(world, st, shift={(mechanism, 1): 1.0})
        causal_b = float(np.mean(raised["acceptability"][:, 2] - y12))
        values = {
            "a": float(a),
            "b": float(b),
            "a_C": float(a_c),
            "b_C": float(b_c),
            "indirect": float(a * b),
            "competitor_indirect": float(a_c * b_c),
            "total": float(total),
            "dose_slope": float(dose_slope),
            "causal_a": float(np.mean(effect)),
            "causal_total": causal_total,
            "causal_b": causal_b,
            "reverse": world.r1 if mechanism == "trust" else 0.0,
            "site_share": float(np.mean(HYPOTHESISED_SIGN * per_site >= NONZERO)),
            "site_zero_share": float(np.mean(np.abs(per_site) < ZERO)),
            "corr_m6": float(np.corrcoef(m6, c6)[0, 1]),
        }
        if module_a is not None and mechanism == "trust":
            values["module_a"] = module_a
        result[pathway] = values
    return result


def _signed(value: float, sign: float = HYPOTHESISED_SIGN) -> str:
    """Whether `value` is non-zero with the hypothesised sign (true), zero or of the other sign (false)."""
    if sign * value >= NONZERO:
        return TRUE
    if abs(value) < ZERO or sign * value <= -NONZERO:
        return FALSE
    return AMBIGUOUS


def _nonzero(value: float) -> str:
    if abs(value) >= NONZERO:
        return TRUE
    if abs(value) < ZERO:
        return FALSE
    return AMBIGUOUS


def _indirect(a: float, b: float, sign: float = HYPOTHESISED_SIGN) -> str:
    """a·b is non-zero (both factors are) with the hypothesised sign."""
    factors = _all(_nonzero(a), _nonzero(b))
    if factors != TRUE:
        return factors
    return TRUE if np.sign(a * b) == np.sign(sign) else FALSE


def _all(*claims: str) -> str:
    if FALSE in claims:
        return FALSE
    if AMBIGUOUS in claims:
        return AMBIGUOUS
    return TRUE


def _boolean(flag: bool) -> str:
    return TRUE if flag else FALSE


def claims(world: World, pathway: str, values: dict[str, float]) -> dict[str, str]:
    """The truth of every criterion's claim (and of `mechanism`) for one pathway of `world`."""
    mechanism = PATHWAYS[pathway][0]
    association = _all(_signed(values["a"]), _signed(values["b"]))
    if not world.randomized:
        everywhere = AMBIGUOUS
    elif values["site_share"] == 1.0:
        everywhere = TRUE
    elif values["site_zero_share"] > 0.0 or values["site_share"] == 0.0:
        everywhere = FALSE
    else:
        everywhere = AMBIGUOUS
    manipulation = [
        _boolean(world.randomized),
        _signed(values["causal_a"]),
        _signed(values["causal_total"]),
        association,
    ]
    if world.manipulates_trust and mechanism == "trust":
        manipulation.append(_signed(values["causal_b"]))
    return {
        "strong_association": association,
        "specificity": _all(association, _signed(values["indirect"] - values["competitor_indirect"])),
        "consistency": _all(_indirect(values["a"], values["b"]), everywhere),
        "experimental_manipulation": _all(*manipulation),
        "timeline": _all(_signed(values["causal_b"]), _signed(values["causal_b"] - values["reverse"])),
        "gradient": _all(_signed(values["dose_slope"]), _signed(values["b"])),
        "plausibility": association,
        "mechanism": _all(
            _boolean(world.randomized), _signed(values["causal_a"]), _signed(values["causal_b"])
        ),
    }


def _target(world: World, pathway: str, criterion: str, claim: str) -> str:
    """The target the summary checks for one row: '<= 5%', '>= 80%' or '' (none)."""
    trust_pathway = PATHWAYS[pathway][0] == "trust"
    if criterion == "mechanism":
        if claim == FALSE and not (world.lookalike and trust_pathway):
            return "<= 5%"
        if claim == TRUE and world.expect_conclusion and trust_pathway:
            return ">= 80%"
        return ""
    if claim == FALSE:
        return "<= 5%"
    if world.name == "true" and trust_pathway and claim == TRUE:
        return ">= 80%"
    return ""


def truth_table(worlds: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per world × pathway × criterion (and `mechanism`): the kind of claim, its truth, the target."""
    rows = []
    for name in worlds or WORLDS:
        world = WORLDS[name]
        for pathway, values in population(world).items():
            for criterion, claim in claims(world, pathway, values).items():
                rows.append(
                    {
                        "world": name,
                        "pathway": pathway,
                        "criterion": criterion,
                        "kind": CLAIMS[criterion],
                        "claim": claim,
                        "target": _target(world, pathway, criterion, claim),
                    }
                )
    return pd.DataFrame(rows)


def population_table(worlds: Iterable[str] | None = None) -> pd.DataFrame:
    """One row per world × pathway: the population quantities the claims were judged on."""
    rows = []
    for name in worlds or WORLDS:
        for pathway, values in population(WORLDS[name]).items():
            rows.append({"world": name, "pathway": pathway, **values})
    return pd.DataFrame(rows)
