"""Speed of the quasi-Bayesian causal mediation of `moclab.analysis.mediate_glm` with a binary outcome.

Issue 11's case: n = 800, 10,000 draws, a logit outcome model with a linear mediator (the ACME is an integral
over the mediator's normal distribution, done by quadrature) and with a logit mediator. The rival a Python
user has is statsmodels' ``Mediation`` (Imai, Keele & Tingley's algorithm, as R's mediation package), called
through its array API with the same models, the same draws and the same seed. Every contender follows the
timing protocol of `benchmarks/_protocol.py` (imports outside the timing, one untimed warm-up call, then
``--repeats`` round-robin rounds, median seconds); ratios divide by moclab's median, as measured. R's
mediation package runs outside this process and is not timed here.

    .venv/bin/python benchmarks/bench_mediate_glm.py            # n = 800, 10,000 draws (about 3 minutes)
    .venv/bin/python benchmarks/bench_mediate_glm.py --quick    # n = 300, 500 draws: a smoke test

Both compute the ACME, ADE, total effect and proportion mediated with percentile intervals of the draws of
the coefficients; statsmodels also simulates a mediator value per unit and draw, moclab integrates the
mediator out exactly (docs/binary-and-sensitivity.md), so it has less Monte Carlo error for the same draws.
"""

from __future__ import annotations

import argparse
import inspect

import numpy as np
import pandas as pd
import statsmodels.api as sm
from _protocol import Contender, environment, measure, print_how_called, print_table, protocol
from scipy import special
from statsmodels.stats.mediation import Mediation

from moclab.analysis import mediate_glm

COVARIATES = ["c1", "c2"]


def simulate(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, n).astype(float)
    c1, c2 = rng.normal(size=n), rng.normal(size=n)
    m_linear = 0.4 * x + 0.3 * c1 + rng.normal(size=n)
    m_binary = (rng.random(n) < special.expit(-0.2 + 0.8 * x + 0.4 * c1)).astype(float)
    eta = -0.3 + 0.3 * x - 0.2 * c2
    return pd.DataFrame(
        {
            "x": x,
            "c1": c1,
            "c2": c2,
            "m_linear": m_linear,
            "m_binary": m_binary,
            "y_linear_m": (rng.random(n) < special.expit(eta + 0.7 * m_linear)).astype(float),
            "y_binary_m": (rng.random(n) < special.expit(eta + 0.9 * m_binary)).astype(float),
        }
    )


def run_statsmodels(df: pd.DataFrame, m: str, y: str, mediator_model: str, sims: int, seed: int) -> object:
    """`Mediation` with models built from arrays: exposure in column 1 of both, mediator in column 2."""
    ones = np.ones(len(df))
    mediator_exog = np.column_stack([ones, df.x, df.c1, df.c2])
    outcome_exog = np.column_stack([ones, df.x, df[m], df.c1, df.c2])
    outcome = sm.GLM(df[y].to_numpy(), outcome_exog, family=sm.families.Binomial())
    if mediator_model == "linear":
        mediator = sm.OLS(df[m].to_numpy(), mediator_exog)
    else:
        mediator = sm.GLM(df[m].to_numpy(), mediator_exog, family=sm.families.Binomial())
    analysis = Mediation(outcome, mediator, exposure=(1, 1), mediator=2)
    if "rng" in inspect.signature(analysis.fit).parameters:
        fitted = analysis.fit(method="parametric", n_rep=sims, rng=seed)
    else:  # statsmodels < 0.15 draws from the legacy global generator
        np.random.seed(seed)
        fitted = analysis.fit(method="parametric", n_rep=sims)
    return fitted.summary()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=800)
    parser.add_argument("--sims", type=int, default=10_000, help="draws, the same for every contender")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds after the warm-up")
    parser.add_argument("--quick", action="store_true", help="n = 300, 500 draws, 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.n, args.sims, args.repeats = 300, 500, 2
    print(environment())
    print(protocol(args.repeats))
    df = simulate(args.n)
    sims, seed = args.sims, 1
    contenders = []
    for mediator_model, m, y in (("linear", "m_linear", "y_linear_m"), ("logit", "m_binary", "y_binary_m")):
        group = f"{mediator_model} M, logit Y"
        reference = "moclab mediate_glm"
        contenders += [
            Contender(
                reference,
                lambda m=m, y=y, kind=mediator_model: mediate_glm(
                    df,
                    x="x",
                    m=m,
                    y=y,
                    covariates=COVARIATES,
                    mediator_model=kind,
                    outcome_model="logit",
                    n_mc=sims,
                    seed=seed,
                ),
                how=f'mediate_glm(df, x="x", m=..., y=..., covariates=["c1", "c2"], mediator_model='
                f'"{mediator_model}", outcome_model="logit", ci="monte_carlo", n_mc={sims})',
                interval="quasi-Bayesian",
                group=group,
            ),
            Contender(
                "statsmodels Mediation",
                lambda m=m, y=y, kind=mediator_model: run_statsmodels(df, m, y, kind, sims, seed),
                how="Mediation(GLM(y, [1, x, m, c1, c2], Binomial()), "
                + (
                    "OLS(m, [1, x, c1, c2])"
                    if mediator_model == "linear"
                    else "GLM(m, [1, x, c1, c2], Binomial())"
                )
                + f', exposure=(1, 1), mediator=2).fit(method="parametric", n_rep={sims}).summary()',
                interval="quasi-Bayesian",
                reference=reference,
                group=group,
            ),
        ]
    timings = measure(contenders, args.repeats)
    print_table(timings, title=f"\nn = {args.n}, {sims:,} draws for every contender, same data and seed")
    print()
    print_how_called(timings)


if __name__ == "__main__":
    main()
