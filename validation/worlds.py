"""Study folders drawn from worlds with a known causal structure, written without moclab.

Every world is a cluster design with a strategy X (``coaching``, 1 for the arm ``coaching``, 0 for ``usual``),
two candidate mechanisms, trust M and credibility C, and one outcome, acceptability Y, measured at three waves
(``baseline`` month 0, ``m6`` month 6, ``m12`` month 12; the strategy starts at month 1). Only numpy, pandas
and PyYAML are used here: the code under test (`moclab.evidence`, `moclab.simulate`) shares nothing with it.

Design (`Design`)
-----------------
40 sites, 20 to 50 recipients per site (uniform integers), 2 or 3 teams per site (recipients shuffled over the
teams). X is randomized by site (half the sites), by team within site (every site has a team in each arm)
or, in the observational world, taken up by sites (below). A treated recipient i receives a dose d_i of
coaching, Gamma with mean 1 and coefficient of variation 0.6; one unit of dose is twelve contacts of 30
minutes (360 minutes), logged per recipient as round(12 d_i) contacts (at least one) with dates uniform
over months 1 to 12, so that about 45% of the dose is dated before the m6 wave. Control recipients get no
coaching. Every measured value is missing completely at random with probability 0.02.

Dropout (the `dropout_*` worlds) removes recipients from the later waves, monotonically and at random given
what was observed before (MAR): a recipient is lost by m6 with log-odds α₁ + δ (1 - X) + β z(y_0), and one
still there at m6 is lost by m12 with log-odds α₂ + δ (1 - X) + β z(y_0) + β z(m_1), where z() standardizes
the observed scores over the study, δ = 0.7 (the usual-care arm loses more: differential attrition) and
β = -0.5 (those who trusted or accepted less leave more). α₁ and α₂ are solved (by bisection) so that
`DROPOUT_BY_M6` of the recipients are lost by m6 and `dropout` by m12. A lost recipient has no value at the
wave of the loss and after, and a reason in the recipients table's ``dropout_reason`` column (one of
`DROPOUT_REASONS`, empty for those who stayed). Because the loss by m12 depends on trust at m6, the rows
complete on m6 trust and m12 acceptability are selected on the mechanism: listwise deletion attenuates the
a path there, and imputation or weighting that uses the recipients' earlier values can recover it.

Equations
---------
Scores are written as 3 + the centred latent score, rounded to 2 decimals. With m_t, c_t, y_t the centred
trust, credibility and acceptability of recipient i at wave t (t = 0, 1, 2 for baseline, m6, m12), s_j the
site effects (one per variable, N(0, 0.2²)), e the person innovations (N(0, 0.6²), new at every wave and
variable), φ = 0.5. The site SD gives an ICC of about .10 at baseline and .08 at m6 and m12 (0.04 against a
person variance of 0.36 at baseline and about 0.45 later); an SD of 0.3 would give an ICC near .2 with
innovations of SD 0.6::

    m_0 = s^M_j + e,   c_0 = s^C_j + e,   y_0 = s^Y_j + e
    for t = 1, 2 (y_t is computed before m_t, which it may drive within the wave):
    y_t = φ y_{t-1} + (1 - φ) s^Y_j + b m_{t-1} + c_i X + λ U_t + γ V_j + e
    m_t = φ m_{t-1} + (1 - φ) s^M_j + a_i X + r0 y_t + r1 y_{t-1} + λ U_t + γ V_j + θ Z_j + e
    c_t = φ c_{t-1} + (1 - φ) s^C_j + e                      (credibility, an independent null process)
    c_t = κ m_t + ν_t,  ν_t ~ N(0, σ_ν²)                     (only in `inert_competitor`, for t = 0, 1, 2)

so the site effects are stable across waves, the person differences persist through φ, and b acts on the
level of trust (a site whose recipients trust more has more acceptability). Credibility never acts on the
outcome (b_C = 0 in every world). The terms:

* a_i = a · A_j · d_i, the effect of the strategy on trust per wave (A_j = 1 in every site except in the
  `some_sites` worlds, where A_j = 1 in a random half of the sites and 0 elsewhere; in `no_dose`, a_i = a
  A_j whatever the dose). Because of φ the effect at m6 is a_i and at m12 1.5 a_i.
* c_i = c (or c · d_i in `reverse`), a direct effect of the strategy on the outcome per wave.
* r0, r1: the outcome driving trust within a wave and across one lag (`reverse`).
* U_t, an unmeasured person-level AR(1) process, U_t = 0.6 U_{t-1} + N(0, 1), U_0 drawn from its stationary
  distribution N(0, 1 / 0.64); it does not touch the baseline; λ = 0.5 in the confounded worlds, else 0.
* V_j ~ N(0, 1), a site's unmeasured climate (`observational`): a site takes up coaching with probability
  1 / (1 + exp(-1.5 V_j)) (about half of them) and γ = 0.4, else γ = 0.
* Z_j, the trust module (0/1, half the sites, randomized independently of the arm: a 2 × 2 factorial) in the
  manipulated worlds, raising trust by θ = 0.5 per wave and acting on nothing else; θ = 0 elsewhere.
* κ = 0.6, σ_ν = 0.62 in `inert_competitor`: with var(m_1) ≈ 0.60 there (0.04 site + 0.09 carried baseline +
  0.36 innovation + 0.25 · 0.43 dose), σ_ν² = κ² var(m_1) (1/0.6² - 1) gives corr(trust, credibility) ≈ .6
  at m6 and var(c_1) ≈ var(m_1).

Worlds (`WORLDS`; every link is hypothesised positive; a, b are in the units of the scores)
-----------------------------------------------------------------------------------------------
==================== =========================================================================================
true, true_team      a = 0.5 (dose-response), b = 0.4, c = 0; randomized by site / by team within site
null_a               a = 0, b = 0.4
null_b               a = 0.5, b = 0
confounded           a = 0.5, b = 0, c = 0, λ = 0.5: the total effect of X on Y is 0; the estimated b is
                     positive only through U
reverse              a = 0, b = 0, c = 0.4 d_i, r0 = r1 = 0.3: the strategy acts on the outcome, the
                     outcome on trust
inert_competitor     a = 0.5, b = 0.4; credibility = κ trust + noise (corr ≈ .6), no effect on Y
some_sites, _team    a = 1.0 in a random half of the sites (A_j), 0 elsewhere, b = 0.4
no_dose              a = 0.5 whatever the dose, b = 0.4
observational        no randomization: climate V_j drives uptake and raises trust and acceptability
                     (γ = 0.4); causal a = 0, b = 0.4
opposite             a = -0.5, b = 0.4: the strategy lowers trust
confounded_direct    `confounded` plus a direct effect c = 0.18 per wave, so that the total effect of X on Y
                     at m12, 1.5 c = 0.27, matches the associational indirect effect a · b_assoc = 0.5 · 0.53
                     (b_assoc = λ² (φ + 0.6) var U / residual var of m_1 = 0.43 / 0.80): the look-alike
manipulated          `true` plus the randomized trust module (θ = 0.5)
manipulated_confounded `confounded_direct` plus the randomized trust module (θ = 0.5); causal b = 0
dropout_true         `true` with 30% of the recipients lost by m12 (15% by m6), more in the usual-care arm
dropout_null_b       `null_b` with the same dropout
dropout_*_imputed    the two dropout worlds, analysed with ``evidence.missing: imputation`` (10 data sets)
team_between         the model declares trust at the team level; acceptability follows the team mean of trust
                     only: b m_{t-1} becomes b m̄_{t-1}, m̄ the mean of the recipient's team (all its members)
team_within          as team_between, but acceptability follows the deviation m_{t-1} - m̄_{t-1} only: the
                     declared (team) level's effect is zero, the recipients' scores still carry b
==================== =========================================================================================

Example
-------
>>> import numpy as np
>>> sample = draw_sample(WORLDS["true"], np.random.default_rng(1))
>>> sorted(sample.scores)
['acceptability', 'credibility', 'trust']
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

__all__ = [
    "MEASURES",
    "PATHWAYS",
    "WAVES",
    "WORLDS",
    "Design",
    "Sample",
    "Structure",
    "World",
    "draw_sample",
    "draw_structure",
    "dynamics",
    "generate_study",
    "write_study",
]

#: (id, date, month) of the three waves.
WAVES: tuple[tuple[str, datetime.date, int], ...] = (
    ("baseline", datetime.date(2024, 1, 15), 0),
    ("m6", datetime.date(2024, 7, 15), 6),
    ("m12", datetime.date(2025, 1, 15), 12),
)
MEASURES: tuple[str, ...] = ("trust", "credibility", "acceptability")
#: pathway id -> (mechanism, competing mechanism): each mechanism is the other's competitor.
PATHWAYS: dict[str, tuple[str, str]] = {
    "coaching__trust__acceptability": ("trust", "credibility"),
    "coaching__credibility__acceptability": ("credibility", "trust"),
}

PHI = 0.5  # carry-over of every score from one wave to the next
SITE_SD = 0.2  # ICC ≈ .08 at m6 and m12
INNOVATION_SD = 0.6
MEAN = 3.0
CONFOUNDER_AR = 0.6
UPTAKE_SLOPE = 1.5  # logistic slope of uptake on the site climate (observational)
DOSE_CV = 0.6
CONTACTS_PER_DOSE = 12  # one unit of dose: monthly contacts over months 1-12 ...
CONTACT_MINUTES = 30  # ... of 30 minutes
SUPPORT_START = datetime.date(2024, 2, 15)  # month 1
SUPPORT_END = datetime.date(2025, 1, 15)  # month 12 (contacts are dated before it)
COMPONENT = "isp-competencies:facilitation"
INERT_LOADING = 0.6  # κ
INERT_NOISE_SD = 0.62  # σ_ν
DROPOUT_BY_M6 = 0.15  # share lost by m6 in the dropout worlds (their `dropout` is the share lost by m12)
DROPOUT_ARM = 0.7  # δ: extra log-odds of loss in the usual-care arm
DROPOUT_SCORE = -0.5  # β: log-odds of loss per SD of the earlier observed scores
DROPOUT_REASONS = ("moved to another service", "left the role", "")  # "" = no reason given
IMPUTATIONS = 10  # completed data sets of the worlds analysed with multiple imputation

MODEL_CITATION = (
    "Metz AJ, Jensen TM, Afkinich JL, Disbennett ME, Farley AB. How the experiences of implementation "
    "support recipients contribute to implementation outcomes. Front Health Serv. 2024;4:1323807. "
    "doi:10.3389/frhs.2024.1323807"
)
ALBERS_2022 = (
    "Albers B, Metz A, Burke K, Bührmann L, Bartley L, Driessen P, Varsi C. The mechanisms of implementation "
    "support - findings from a systematic integrative review. Res Soc Work Pract. 2022;32(3):259-280. "
    "doi:10.1177/10497315211042375"
)
#: The researcher's theory: every link cited and hypothesised positive, in every world.
LINK_CITATIONS: dict[str, str] = {
    "coaching->trust": ALBERS_2022,
    "coaching->credibility": ALBERS_2022,
    "trust->acceptability": MODEL_CITATION,
    "credibility->acceptability": MODEL_CITATION,
}

MODEL: dict[str, Any] = {
    "model": "coaching-validation",
    "title": "Coaching through trust or credibility (validation worlds)",
    "citation": MODEL_CITATION,
    "nodes": [
        {"id": "coaching", "type": "strategy", "ref": "eric:facilitation"},
        {"id": "trust", "type": "mechanism", "ref": "recipient-pathway:trust"},
        {"id": "credibility", "type": "mechanism", "ref": "recipient-pathway:credibility"},
        {"id": "acceptability", "type": "proximal outcome", "ref": "recipient-pathway:acceptability"},
    ],
    "edges": [
        {"from": "coaching", "to": "trust"},
        {"from": "coaching", "to": "credibility"},
        {"from": "trust", "to": "acceptability"},
        {"from": "credibility", "to": "acceptability"},
    ],
}


@dataclass(frozen=True)
class Design:
    """The shape of one study: sites, recipients per site (inclusive range), teams per site, missingness."""

    sites: int = 40
    recipients: tuple[int, int] = (20, 50)
    teams: tuple[int, int] = (2, 3)
    missing: float = 0.02


@dataclass(frozen=True)
class World:
    """A causal structure (see the module docstring for the equations the parameters enter)."""

    name: str
    description: str
    randomization: str = "site"  # site | team | none
    a: float = 0.5  # strategy -> trust per wave (times the dose when dose_response)
    dose_response: bool = True
    b: float = 0.4  # trust_{t-1} -> acceptability_t
    c: float = 0.0  # strategy -> acceptability per wave
    direct_dose: bool = False  # c times the dose
    r0: float = 0.0  # acceptability_t -> trust_t
    r1: float = 0.0  # acceptability_{t-1} -> trust_t
    confounding: float = 0.0  # λ: loading of trust and acceptability on U_t
    site_share: float = 1.0  # share of sites in which the strategy acts on trust
    climate: float = 0.0  # γ: the site climate's effect on trust and acceptability (observational)
    module: float = 0.0  # θ: the trust module's effect on trust per wave (manipulated worlds)
    inert_competitor: bool = False  # credibility = κ trust + noise
    expect_conclusion: bool = False  # the overall conclusion should be positive (the true worlds)
    lookalike: bool = False  # documented look-alike: no conclusion target
    dropout: float = 0.0  # share of the recipients lost by m12 (MAR, monotone; see the module docstring)
    missing: str = "listwise"  # the study's evidence.missing: how the analysis treats the recipients lost
    b_part: str = "score"  # score | between | within: the part of trust_{t-1} that acts on acceptability
    trust_level: str = "individual"  # the level the study's model declares for trust (individual | team)

    @property
    def randomized(self) -> bool:
        return self.randomization in ("site", "team")

    @property
    def manipulates_trust(self) -> bool:
        return self.module != 0.0


# c of the look-alike: see the module docstring (1.5 c = a · b_assoc of the confounded world).
_LOOKALIKE_C = 0.18

WORLDS: dict[str, World] = {
    world.name: world
    for world in (
        World("true", "trust is the mechanism (a = 0.5 with the dose, b = 0.4)", expect_conclusion=True),
        World(
            "true_team",
            "as true, randomized by team within site",
            randomization="team",
            expect_conclusion=True,
        ),
        World("null_a", "the strategy does not move trust (a = 0); trust moves acceptability", a=0.0),
        World("null_b", "the strategy moves trust; trust does not move acceptability (b = 0)", b=0.0),
        World(
            "confounded",
            "b = 0; an unmeasured U drives trust and acceptability (λ = 0.5)",
            b=0.0,
            confounding=0.5,
        ),
        World(
            "reverse",
            "the strategy acts on acceptability (c = 0.4 d), acceptability on trust (r0 = r1 = 0.3)",
            a=0.0,
            b=0.0,
            c=0.4,
            direct_dose=True,
            r0=0.3,
            r1=0.3,
        ),
        World(
            "inert_competitor",
            "trust is the mechanism; credibility reflects trust (r ≈ .6) and does nothing",
            inert_competitor=True,
        ),
        World(
            "some_sites",
            "the strategy moves trust (a = 1.0) in a random half of the sites",
            a=1.0,
            site_share=0.5,
        ),
        World(
            "some_sites_team",
            "as some_sites, randomized by team within site",
            randomization="team",
            a=1.0,
            site_share=0.5,
        ),
        World("no_dose", "a = 0.5 whatever the dose, b = 0.4", dose_response=False),
        World(
            "observational",
            "no randomization: site climate drives uptake, trust and acceptability; causal a = 0",
            randomization="none",
            a=0.0,
            climate=0.4,
        ),
        World("opposite", "the strategy lowers trust (a = -0.5); b = 0.4", a=-0.5),
        World(
            "confounded_direct",
            "confounded (b = 0) plus a direct effect c = 0.18: looks like a mechanism",
            b=0.0,
            c=_LOOKALIKE_C,
            confounding=0.5,
            lookalike=True,
        ),
        World(
            "manipulated",
            "true plus a randomized trust module (θ = 0.5), 2 × 2 factorial",
            module=0.5,
        ),
        World(
            "manipulated_confounded",
            "confounded_direct plus a randomized trust module (θ = 0.5); causal b = 0",
            b=0.0,
            c=_LOOKALIKE_C,
            confounding=0.5,
            module=0.5,
        ),
        World(
            "dropout_true",
            "as true, with 30% of the recipients lost by m12 (MAR, more in the usual-care arm)",
            dropout=0.3,
        ),
        World(
            "dropout_null_b",
            "as null_b (b = 0), with 30% of the recipients lost by m12 (MAR, more in the usual-care arm)",
            b=0.0,
            dropout=0.3,
        ),
        World(
            "dropout_true_imputed",
            "as dropout_true, analysed with multiple imputation (evidence.missing: imputation, 10 data sets)",
            dropout=0.3,
            missing="imputation",
        ),
        World(
            "team_between",
            "trust declared at the team level; acceptability follows the team mean of trust only (b = 0.4 "
            "between teams, 0 within)",
            b_part="between",
            trust_level="team",
        ),
        World(
            "team_within",
            "trust declared at the team level; acceptability follows each recipient's deviation from the "
            "team mean only (b = 0.4 within teams, 0 between)",
            b_part="within",
            trust_level="team",
        ),
        World(
            "dropout_null_b_imputed",
            "as dropout_null_b, analysed with multiple imputation (10 data sets)",
            b=0.0,
            dropout=0.3,
            missing="imputation",
        ),
    )
}


@dataclass
class Structure:
    """Everything drawn before the dynamics: the design, the assignment, the dose and every random term.

    Arrays are per recipient unless named per site; `innovations` holds one (n, 3) array per measure.
    """

    site: np.ndarray  # site index of each recipient
    team: np.ndarray  # team number within its site (1-based)
    arm: np.ndarray  # 0/1, the assignment (or uptake)
    module: np.ndarray  # 0/1, the trust module (zeros when the world has none)
    dose: np.ndarray  # d_i, drawn for everyone (received only when treated)
    site_active: np.ndarray  # per site: 1 where the strategy can act on trust
    site_effects: dict[str, np.ndarray]  # per site, per measure
    climate: np.ndarray  # per site, V_j
    innovations: dict[str, np.ndarray]
    confounder: np.ndarray  # (n, 3), U_t
    inert_noise: np.ndarray  # (n, 3), ν_t / σ_ν

    @property
    def n(self) -> int:
        return self.site.size

    @property
    def n_sites(self) -> int:
        return self.site_active.size


@dataclass
class Sample:
    """One drawn world: its structure and the centred latent scores ({measure: (n, 3) array})."""

    world: World
    design: Design
    structure: Structure
    scores: dict[str, np.ndarray] = field(default_factory=dict)


def _halves(rng: np.random.Generator, count: int) -> np.ndarray:
    """0/1 for `count` units, half of them (rounded down) 1, in random order."""
    return rng.permutation(np.arange(count) < count // 2).astype(float)


def _team_arms(rng: np.random.Generator, teams_per_site: np.ndarray) -> list[np.ndarray]:
    """Per site, 0/1 per team with at least one team in each arm."""
    arms = []
    for count in teams_per_site:
        base = np.array([1.0, 0.0] + [float(rng.integers(2)) for _ in range(count - 2)])
        arms.append(rng.permutation(base))
    return arms


def draw_structure(world: World, design: Design, rng: np.random.Generator) -> Structure:
    """Draw the design, the assignment, the doses and every random term of one study of `world`."""
    low, high = design.recipients
    sizes = rng.integers(low, high + 1, design.sites)
    site = np.repeat(np.arange(design.sites), sizes)
    n = site.size
    teams_per_site = rng.integers(design.teams[0], design.teams[1] + 1, design.sites)
    team = np.concatenate(
        [
            rng.permutation(np.arange(size) % count) + 1
            for size, count in zip(sizes, teams_per_site, strict=True)
        ]
    )
    climate = rng.normal(size=design.sites)
    if world.randomization == "site":
        arm = _halves(rng, design.sites)[site]
    elif world.randomization == "team":
        per_team = _team_arms(rng, teams_per_site)
        arm = np.array([per_team[j][k - 1] for j, k in zip(site, team, strict=True)])
    elif world.randomization == "none":
        uptake_probability = 1.0 / (1.0 + np.exp(-UPTAKE_SLOPE * climate))
        while True:  # a study needs sites in both arms; redrawing is needed with very few sites only
            taken = (rng.random(design.sites) < uptake_probability).astype(float)
            if 2 <= taken.sum() <= design.sites - 2:
                break
        arm = taken[site]
    else:
        raise ValueError(f"randomization must be site, team or none, not {world.randomization!r}")
    module = _halves(rng, design.sites)[site] if world.manipulates_trust else np.zeros(n)
    shape = 1.0 / DOSE_CV**2
    dose = rng.gamma(shape, 1.0 / shape, n)
    if world.site_share < 1.0:
        site_active = rng.permutation(np.arange(design.sites) < round(world.site_share * design.sites))
    else:
        site_active = np.ones(design.sites, dtype=bool)
    site_effects = {measure: rng.normal(0.0, SITE_SD, design.sites) for measure in MEASURES}
    innovations = {measure: rng.normal(0.0, INNOVATION_SD, (n, 3)) for measure in MEASURES}
    confounder = np.empty((n, 3))
    confounder[:, 0] = rng.normal(0.0, 1.0 / np.sqrt(1.0 - CONFOUNDER_AR**2), n)
    for t in (1, 2):
        confounder[:, t] = CONFOUNDER_AR * confounder[:, t - 1] + rng.normal(size=n)
    inert_noise = rng.normal(size=(n, 3))
    return Structure(
        site=site,
        team=team,
        arm=arm,
        module=module,
        dose=dose,
        site_active=site_active.astype(float),
        site_effects=site_effects,
        climate=climate,
        innovations=innovations,
        confounder=confounder,
        inert_noise=inert_noise,
    )


def dynamics(
    world: World,
    structure: Structure,
    *,
    arm: np.ndarray | None = None,
    module: np.ndarray | None = None,
    shift: dict[tuple[str, int], float] | None = None,
) -> dict[str, np.ndarray]:
    """The centred latent scores of every recipient at every wave ({measure: (n, 3)}), by the equations of the
    module docstring.

    `arm` and `module` replace the drawn assignment (an intervention do(X = x)); `shift` adds a constant to a
    measure at a wave once its equation has been computed (an intervention on the mechanism, ``{("trust", 1):
    1.0}``), everything downstream following. The random terms are those of `structure`, so two calls differ
    only by the intervention.
    """
    arm = structure.arm if arm is None else arm
    module = structure.module if module is None else module
    shift = shift or {}
    s = {measure: structure.site_effects[measure][structure.site] for measure in MEASURES}
    e = structure.innovations
    active = structure.site_active[structure.site]
    a_i = world.a * active * (structure.dose if world.dose_response else 1.0)
    c_i = world.c * (structure.dose if world.direct_dose else 1.0)
    climate = world.climate * structure.climate[structure.site]
    confounder = world.confounding * structure.confounder
    n = structure.n
    trust, credibility, acceptability = np.empty((n, 3)), np.empty((n, 3)), np.empty((n, 3))
    team_key = structure.site * (int(structure.team.max()) + 1) + structure.team

    def acting_trust(t: int) -> np.ndarray:
        """The part of trust at wave t that acts on the next wave's acceptability (`World.b_part`)."""
        if world.b_part == "score":
            return trust[:, t]
        means = (np.bincount(team_key, weights=trust[:, t]) / np.maximum(np.bincount(team_key), 1))[team_key]
        return means if world.b_part == "between" else trust[:, t] - means

    def credibility_at(t: int) -> np.ndarray:
        if world.inert_competitor:
            return INERT_LOADING * trust[:, t] + INERT_NOISE_SD * structure.inert_noise[:, t]
        if t == 0:
            return s["credibility"] + e["credibility"][:, 0]
        return PHI * credibility[:, t - 1] + (1 - PHI) * s["credibility"] + e["credibility"][:, t]

    acceptability[:, 0] = s["acceptability"] + e["acceptability"][:, 0] + shift.get(("acceptability", 0), 0.0)
    trust[:, 0] = s["trust"] + e["trust"][:, 0] + shift.get(("trust", 0), 0.0)
    credibility[:, 0] = credibility_at(0) + shift.get(("credibility", 0), 0.0)
    for t in (1, 2):
        acceptability[:, t] = (
            PHI * acceptability[:, t - 1]
            + (1 - PHI) * s["acceptability"]
            + world.b * acting_trust(t - 1)
            + c_i * arm
            + confounder[:, t]
            + climate
            + e["acceptability"][:, t]
            + shift.get(("acceptability", t), 0.0)
        )
        trust[:, t] = (
            PHI * trust[:, t - 1]
            + (1 - PHI) * s["trust"]
            + a_i * arm
            + world.r0 * acceptability[:, t]
            + world.r1 * acceptability[:, t - 1]
            + confounder[:, t]
            + climate
            + world.module * module
            + e["trust"][:, t]
            + shift.get(("trust", t), 0.0)
        )
        credibility[:, t] = credibility_at(t) + shift.get(("credibility", t), 0.0)
    return {"trust": trust, "credibility": credibility, "acceptability": acceptability}


def draw_sample(world: World, rng: np.random.Generator, design: Design | None = None) -> Sample:
    """Draw one study of `world` (the latent scores; `write_study` writes it as a study folder)."""
    design = design or Design()
    structure = draw_structure(world, design, rng)
    return Sample(world=world, design=design, structure=structure, scores=dynamics(world, structure))


def _site_ids(count: int) -> list[str]:
    width = max(2, len(str(count)))
    return [f"S{j + 1:0{width}d}" for j in range(count)]


def _tables(sample: Sample, rng: np.random.Generator) -> dict[str, pd.DataFrame]:
    """The recipients, measures (long) and activities tables of a sample."""
    st = sample.structure
    n = st.n
    sites = np.array(_site_ids(st.n_sites))
    site = sites[st.site]
    ids = np.array([f"R{i + 1:05d}" for i in range(n)])
    recipients = pd.DataFrame(
        {
            "recipient_id": ids,
            "site": site,
            "team": [f"{s}-T{k}" for s, k in zip(site, st.team, strict=True)],
            "arm": np.where(st.arm == 1.0, "coaching", "usual"),
        }
    )
    if sample.world.manipulates_trust:
        recipients["trust_module"] = np.where(st.module == 1.0, "module", "none")

    frames = []
    for wave, (wave_id, wave_date, _) in enumerate(WAVES):
        # the survey of a wave is answered within three weeks of its planned date
        dates = pd.Timestamp(wave_date) + pd.to_timedelta(rng.integers(0, 21, n), unit="D")
        for measure in MEASURES:
            frames.append(
                pd.DataFrame(
                    {
                        "recipient_id": ids,
                        "wave": wave_id,
                        "measure": measure,
                        "value": np.round(MEAN + sample.scores[measure][:, wave], 2),
                        "date": dates.strftime("%Y-%m-%d"),
                    }
                )
            )
    measures = pd.concat(frames, ignore_index=True)
    measures = measures[rng.random(len(measures)) >= sample.design.missing].reset_index(drop=True)

    treated = np.flatnonzero(st.arm == 1.0)
    contacts = np.maximum(1, np.round(CONTACTS_PER_DOSE * st.dose[treated])).astype(int)
    minutes_each = np.maximum(1, np.round(CONTACTS_PER_DOSE * CONTACT_MINUTES * st.dose[treated] / contacts))
    who = np.repeat(treated, contacts)
    span = (SUPPORT_END - SUPPORT_START).days
    days = np.sort(rng.integers(0, span, who.size))
    activities = pd.DataFrame(
        {
            "date": (pd.Timestamp(SUPPORT_START) + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d"),
            "site": site[who],
            "recipient_id": ids[who],
            "component": COMPONENT,
            "minutes": np.repeat(minutes_each, contacts).astype(int),
        }
    )
    if sample.world.dropout > 0:  # drawn last, so that the other worlds' files keep their random draws
        row = np.searchsorted(ids, measures["recipient_id"].to_numpy())  # ids are sorted (zero-padded)
        lost_at = _dropout(sample, measures, row, rng)
        wave_index = measures["wave"].map({wave_id: t for t, (wave_id, _, _) in enumerate(WAVES)})
        measures = measures[wave_index.to_numpy() < lost_at[row]]
        recipients["dropout_reason"] = np.where(lost_at < len(WAVES), rng.choice(DROPOUT_REASONS, n), "")
    return {"recipients": recipients, "measures": measures.reset_index(drop=True), "activities": activities}


def _share_solved(linear: np.ndarray, share: float) -> float:
    """The intercept α with mean(expit(α + linear)) = share, by bisection (the mean is increasing in α)."""
    low, high = -30.0, 30.0
    for _ in range(100):
        middle = (low + high) / 2
        if np.mean(1.0 / (1.0 + np.exp(-(middle + linear)))) < share:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _standardized(values: np.ndarray) -> np.ndarray:
    """z scores over the observed values; 0 (the mean) where the value is missing."""
    z = (values - np.nanmean(values)) / np.nanstd(values)
    return np.where(np.isnan(z), 0.0, z)


def _dropout(sample: Sample, measures: pd.DataFrame, row: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per recipient, the index of the wave from which it is lost (1 for m6, 2 for m12, 3 for never), by
    the MAR model of the module docstring, from the values the files observe (`row`: each measures row's
    recipient index)."""
    n = sample.structure.n
    observed = {}
    for measure, wave in (("acceptability", "baseline"), ("trust", "m6")):
        chosen = ((measures["measure"] == measure) & (measures["wave"] == wave)).to_numpy()
        values = np.full(n, np.nan)
        values[row[chosen]] = measures["value"].to_numpy()[chosen]
        observed[measure, wave] = values
    control = DROPOUT_ARM * (1.0 - sample.structure.arm)
    first = control + DROPOUT_SCORE * _standardized(observed["acceptability", "baseline"])
    lost_m6 = rng.random(n) < 1.0 / (1.0 + np.exp(-(first + _share_solved(first, DROPOUT_BY_M6))))
    second = first + DROPOUT_SCORE * _standardized(observed["trust", "m6"])
    later_share = (sample.world.dropout - DROPOUT_BY_M6) / (1.0 - DROPOUT_BY_M6)
    alpha = _share_solved(second[~lost_m6], later_share)
    lost_m12 = ~lost_m6 & (rng.random(n) < 1.0 / (1.0 + np.exp(-(second + alpha))))
    return np.where(lost_m6, 1, np.where(lost_m12, 2, len(WAVES)))


def _config(sample: Sample, *, title: str) -> dict[str, Any]:
    world = sample.world
    control = "usual"
    randomization: dict[str, Any] = {
        "level": world.randomization,
        "arms": ["coaching", control],
        "control": control,
    }
    design: dict[str, Any] = {
        "unit": "recipient",
        "cluster": "site",
        "team": "team",
        "randomization": randomization,
    }
    if world.manipulates_trust:
        design["manipulations"] = [
            {"column": "trust_module", "mechanism": "trust", "level": "site", "control": "none"}
        ]
    design["waves"] = [
        {"id": wave_id, "label": wave_id, "date": wave_date.isoformat(), "month": month}
        for wave_id, wave_date, month in WAVES
    ]
    columns: dict[str, Any] = {
        "arm": {"type": "category", "node": "coaching", "label": "Coaching arm"},
    }
    if world.manipulates_trust:
        columns["trust_module"] = {
            "type": "category",
            "values": ["module", "none"],
            "label": "Trust module (randomized by site, independently of the arm)",
        }
    return {
        "format": 1,
        "title": title,
        "synthetic": True,
        "description": f"Validation world '{world.name}': {world.description}.",
        "model": "model.yaml",
        "design": design,
        "tables": {
            "recipients": {
                "path": "data/recipients.csv",
                "id": "recipient_id",
                "cluster": "site",
                "team": "team",
                "arm": "arm",
                "columns": columns,
            },
            "measures": {
                "path": "data/measures.csv",
                "recipient": "recipient_id",
                "wave": "wave",
                "measure": "measure",
                "value": "value",
                "date": "date",
            },
            "activities": {
                "path": "data/activities.csv",
                "date": "date",
                "cluster": "site",
                "recipient": "recipient_id",
                "component": "component",
                "minutes": "minutes",
            },
        },
        "measures": {
            "trust": {"label": "Trust in the coaches"},
            "credibility": {"label": "Credibility of the coaches"},
            "acceptability": {"label": "Acceptability of implementation science"},
        },
        "evidence": {
            **({"missing": world.missing, "imputations": IMPUTATIONS} if world.missing != "listwise" else {}),
            "strategy_start": 1,
            "links": {
                link: {"sign": "positive", "citations": [citation]}
                for link, citation in LINK_CITATIONS.items()
            },
        },
    }


def write_study(
    sample: Sample,
    folder: str | Path,
    rng: np.random.Generator,
    *,
    title: str | None = None,
) -> Path:
    """Write `sample` as a study folder (moclab.yaml, model.yaml, data/*.csv); returns the folder.

    `rng` draws what only the files need (missing values, survey and contact dates).
    """
    folder = Path(folder)
    (folder / "data").mkdir(parents=True, exist_ok=True)
    for name, table in _tables(sample, rng).items():
        table.to_csv(folder / "data" / f"{name}.csv", index=False)
    config = _config(sample, title=title or f"Validation world '{sample.world.name}'")
    (folder / "moclab.yaml").write_text(
        yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=110), encoding="utf-8"
    )
    (folder / "model.yaml").write_text(
        yaml.safe_dump(model_of(sample.world), sort_keys=False, allow_unicode=True, width=110),
        encoding="utf-8",
    )
    return folder


def model_of(world: World) -> dict[str, Any]:
    """The pathway model a study of `world` ships: `MODEL`, with trust at the level the world declares."""
    if world.trust_level == "individual":
        return MODEL
    nodes = [
        {**node, "level": world.trust_level} if node["id"] == "trust" else node for node in MODEL["nodes"]
    ]
    return {**MODEL, "nodes": nodes}


def generate_study(
    world: World | str,
    folder: str | Path,
    seed: int,
    *,
    design: Design | None = None,
) -> Path:
    """Draw one study of `world` with ``numpy.random.default_rng(seed)`` and write it to `folder`."""
    world = WORLDS[world] if isinstance(world, str) else world
    rng = np.random.default_rng(seed)
    sample = draw_sample(world, rng, design)
    return write_study(sample, folder, rng, title=f"Validation world '{world.name}' (seed {seed})")
