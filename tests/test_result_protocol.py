"""Every public result object speaks one small protocol: `summary()` (text, also `str()`), `to_frame()` (a
DataFrame), `to_dict()` (strict JSON), `_repr_html_()` (for notebooks) and a short one-line `repr`."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from moclab import analysis
from moclab.design import power_analysis, sample_size_search
from moclab.evidence import analyze
from moclab.qual import example_project_path, read_project
from moclab.qual._common import coded_spans
from moclab.qual.agreement import coder_agreement, unitized_alpha
from moclab.qual.cooccurrence import code_cooccurrence
from moclab.qual.deidentify import deidentify_project
from moclab.qual.matrix import code_case_matrix
from moclab.qual.pathway import experience_pathway
from moclab.qual.prevalence import prevalence_by_attribute
from moclab.qual.profiles import episode_profiles
from moclab.study import example_path, load_study


def _mediation_frame() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    site = np.repeat(np.arange(12), 25)
    x = (site % 2).astype(float)
    dose = rng.gamma(2.0, 1.0, site.size)
    m = 0.5 * x + 0.2 * dose + rng.normal(0, 0.3, 12)[site] + rng.normal(size=site.size)
    y = 0.4 * m + rng.normal(size=site.size)
    z = rng.integers(0, 2, site.size).astype(float)
    return pd.DataFrame({"site": site, "x": x, "dose": dose, "m": m, "y": y, "z": z, "m2": m + 0.5 * z})


def _results() -> dict[str, object]:
    frame = _mediation_frame()
    lossy = frame.assign(y=frame["y"].where(np.random.default_rng(2).random(len(frame)) > 0.2))
    study = load_study(example_path(), show_progress=False)
    evidence = analyze(
        study, pathways=["isp_support__trust__acceptability"], n_boot=100, seed=1, show_progress=False
    )
    power = power_analysis(
        "recipient-pathway", sites=[6, 10], reps=20, seed=1, method="joint", criteria="none"
    )
    panel = pd.concat(
        [frame.assign(wave=wave, person=np.arange(len(frame))) for wave in (0, 1)], ignore_index=True
    )
    project = read_project(example_project_path())
    # the two coders' selections of the first interview, as units of categories (codes) on its characters
    first = coded_spans(project).query("source == 0").rename(columns={"code": "category"})
    return {
        "mediate": analysis.mediate(frame, x="x", m="m", y="y", n_boot=200, seed=1),
        "mediate_interaction": analysis.mediate_interaction(frame, x="x", m="m", y="y", covariates=["dose"]),
        "multilevel": analysis.multilevel_mediate(frame, x="x", m="m", y="y", cluster="site", seed=1),
        "meta": analysis.meta_analysis(estimate=[0.2, 0.3, 0.1, 0.25], se=[0.1, 0.12, 0.09, 0.11]),
        "cluster_slopes": analysis.cluster_slopes(frame, x="m", y="y", cluster="site"),
        "dose_response": analysis.dose_response(frame, dose="dose", response="m"),
        "cross_lagged": analysis.cross_lagged(panel, unit="person", wave="wave", m="m", y="y"),
        "sensitivity": analysis.sensitivity(frame, x="x", m="m", y="y"),
        "robustness": analysis.robustness(frame, y="y", treatment="m", covariates=["x"]),
        "instrumental": analysis.instrumental_effect(frame, y="y", endogenous="m2", instrument="z"),
        "e_value": analysis.e_value(3.9, 1.8, 8.7),
        "mediate_imputed": analysis.mediate_imputed(
            lossy, x="x", m="m", y="y", auxiliary="dose", n_imputations=3, n_boot=100, seed=1
        ),
        "mediate_weighted": analysis.mediate_weighted(
            lossy, x="x", m="m", y="y", retention=["x", "dose"], n_boot=100, seed=1
        ),
        "tipping_point": analysis.tipping_point(
            lossy, x="x", m="m", y="y", auxiliary="dose", n_imputations=3, deltas=[-0.5, 0.5], seed=1
        ),
        "variance_ratio": analysis.arm_variance_ratio(frame, arm="x", y="m", cluster="site"),
        "power": power,
        "sample_size": sample_size_search(power, target=0.8),
        "study_summary": study.describe(),
        "study_evidence": evidence,
        "scorecard": evidence.scorecard,
        "pathway_evidence": evidence.pathways[0],
        "code_case_matrix": code_case_matrix(project),
        "unitized_alpha": unitized_alpha(first, len(project.sources[0].text)),
        "coder_agreement": coder_agreement(project),
        "cooccurrence": code_cooccurrence(project),
        "prevalence": prevalence_by_attribute(project, "engagement"),
        "experience_pathway": experience_pathway(project),
        "episode_profiles": episode_profiles(project),
        # needs the deidentify extra's spaCy model (loaded once, in about a second)
        "placeholder_mapping": deidentify_project(project).mapping,
    }


RESULTS = _results()


@pytest.mark.parametrize("name", list(RESULTS))
def test_the_result_speaks_the_protocol(name: str) -> None:
    result = RESULTS[name]
    text = result.summary()
    assert isinstance(text, str) and text.strip()
    assert str(result) == text
    short = repr(result)
    assert "\n" not in short and len(short) <= 300, short
    assert isinstance(result.to_frame(), pd.DataFrame)
    json.dumps(result.to_dict(), allow_nan=False)
    assert isinstance(result._repr_html_(), str)
