"""Bad data gives the scorecard's true reasons: the rows with missing values that leave one arm, not a
model's advice about the strategy's type; and no NumPy warning reaches the user."""

from __future__ import annotations

import warnings

import pandas as pd

from moclab.evidence import Status, analyze

TRUST = "isp_support__trust__acceptability"


def test_missing_values_that_leave_one_arm_are_named_as_the_cause(example_copy):
    folder, _ = example_copy()
    arms = pd.read_csv(folder / "data" / "recipients.csv").set_index("recipient_id")["arm"]
    measures = pd.read_csv(folder / "data" / "measures.csv", dtype=str, keep_default_na=False)
    usual = measures["recipient_id"].map(arms).eq("usual")
    measures.loc[usual & measures["measure"].eq("trust") & measures["wave"].eq("m6"), "value"] = ""
    measures.to_csv(folder / "data" / "measures.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        evidence = analyze(folder, pathways=[TRUST], n_boot=200, seed=3, show_progress=False)
    pathway = evidence.pathways[0]
    cause = (
        "only arm intensive is left after leaving out the recipients with missing values, so there is "
        "nothing to compare (missing: trust for 85 of 151, acceptability for 21 of 151"
    )
    verdict = pathway.verdict("strong_association")
    assert verdict.status is Status.NOT_TESTABLE
    assert verdict.reason.startswith(f"the mediation model could not be estimated: {cause}")
    for criterion in ("specificity", "experimental_manipulation", "timeline"):
        assert cause in pathway.verdict(criterion).reason, criterion
    reasons = " ".join(v.reason for v in pathway.verdicts)
    assert "x_type" not in reasons and "is constant" not in reasons
