"""The methods section of the report, written from what was actually run, with its references.

Each paragraph is generated from the settings the analysis ran with and the result objects it produced (their
``info["method"]`` says, in words, what each estimator did: resamples, interval method, clustering, degrees of
freedom), so a paragraph appears only when its analysis ran and states the numbers of this run. References
are cited by key; only the cited ones are listed, in alphabetical order, with the citations of the study, its
pathway model and the templates that back its links.
"""

from __future__ import annotations

import importlib.metadata
import platform
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from moclab.evidence import StudyEvidence

__all__ = ["REFERENCES", "Methods", "Reference", "describe_methods", "software_versions"]


@dataclass(frozen=True)
class Reference:
    """A publication the report cites: the in-text form, the full reference and its DOI (or None)."""

    cite: str
    text: str
    doi: str | None = None

    @property
    def url(self) -> str | None:
        return f"https://doi.org/{self.doi}" if self.doi else None

    def to_dict(self) -> dict[str, Any]:
        return {"cite": self.cite, "text": self.text, "doi": self.doi}


#: The methodological references the generated methods can cite (the criteria's sources: docs/criteria.md).
REFERENCES: dict[str, Reference] = {
    "kazdin2007": Reference(
        "Kazdin, 2007",
        "Kazdin, A. E. (2007). Mediators and mechanisms of change in psychotherapy research. Annual Review "
        "of Clinical Psychology, 3, 1–27.",
        "10.1146/annurev.clinpsy.3.022806.091432",
    ),
    "lewis2020": Reference(
        "Lewis et al., 2020",
        "Lewis, C. C., Boyd, M. R., Walsh-Bailey, C., Lyon, A. R., Beidas, R., Mittman, B., Aarons, G. A., "
        "Weiner, B. J., & Chambers, D. A. (2020). A systematic review of empirical studies examining "
        "mechanisms of implementation in health. Implementation Science, 15, 21.",
        "10.1186/s13012-020-00983-3",
    ),
    "mackinnon2002": Reference(
        "MacKinnon et al., 2002",
        "MacKinnon, D. P., Lockwood, C. M., Hoffman, J. M., West, S. G., & Sheets, V. (2002). A comparison "
        "of methods to test mediation and other intervening variable effects. Psychological Methods, 7(1), "
        "83–104.",
        "10.1037/1082-989X.7.1.83",
    ),
    "preacher2008": Reference(
        "Preacher & Hayes, 2008",
        "Preacher, K. J., & Hayes, A. F. (2008). Asymptotic and resampling strategies for assessing and "
        "comparing indirect effects in multiple mediator models. Behavior Research Methods, 40(3), 879–891.",
        "10.3758/BRM.40.3.879",
    ),
    "efron1987": Reference(
        "Efron, 1987",
        "Efron, B. (1987). Better bootstrap confidence intervals. Journal of the American Statistical "
        "Association, 82(397), 171–185.",
        "10.1080/01621459.1987.10478410",
    ),
    "cameron2015": Reference(
        "Cameron & Miller, 2015",
        "Cameron, A. C., & Miller, D. L. (2015). A practitioner's guide to cluster-robust inference. Journal "
        "of Human Resources, 50(2), 317–372.",
        "10.3368/jhr.50.2.317",
    ),
    "viechtbauer2005": Reference(
        "Viechtbauer, 2005",
        "Viechtbauer, W. (2005). Bias and efficiency of meta-analytic variance estimators in the "
        "random-effects model. Journal of Educational and Behavioral Statistics, 30(3), 261–293.",
        "10.3102/10769986030003261",
    ),
    "knapp2003": Reference(
        "Knapp & Hartung, 2003",
        "Knapp, G., & Hartung, J. (2003). Improved tests for a random effects meta-regression with a single "
        "covariate. Statistics in Medicine, 22(17), 2693–2710.",
        "10.1002/sim.1482",
    ),
    "inthout2014": Reference(
        "IntHout et al., 2014",
        "IntHout, J., Ioannidis, J. P. A., & Borm, G. F. (2014). The Hartung-Knapp-Sidik-Jonkman method for "
        "random effects meta-analysis is straightforward and considerably outperforms the standard "
        "DerSimonian-Laird method. BMC Medical Research Methodology, 14, 25.",
        "10.1186/1471-2288-14-25",
    ),
    "higgins2002": Reference(
        "Higgins & Thompson, 2002",
        "Higgins, J. P. T., & Thompson, S. G. (2002). Quantifying heterogeneity in a meta-analysis. "
        "Statistics in Medicine, 21(11), 1539–1558.",
        "10.1002/sim.1186",
    ),
    "higgins2009": Reference(
        "Higgins et al., 2009",
        "Higgins, J. P. T., Thompson, S. G., & Spiegelhalter, D. J. (2009). A re-evaluation of "
        "random-effects meta-analysis. Journal of the Royal Statistical Society: Series A, 172(1), 137–159.",
        "10.1111/j.1467-985X.2008.00552.x",
    ),
    "cole2003": Reference(
        "Cole & Maxwell, 2003",
        "Cole, D. A., & Maxwell, S. E. (2003). Testing mediational models with longitudinal data: Questions "
        "and tips in the use of structural equation modeling. Journal of Abnormal Psychology, 112(4), "
        "558–577.",
        "10.1037/0021-843X.112.4.558",
    ),
    "hamaker2015": Reference(
        "Hamaker et al., 2015",
        "Hamaker, E. L., Kuiper, R. M., & Grasman, R. P. P. P. (2015). A critique of the cross-lagged panel "
        "model. Psychological Methods, 20(1), 102–116.",
        "10.1037/a0038889",
    ),
    "maxwell2018": Reference(
        "Maxwell et al., 2018",
        "Maxwell, S. E., Delaney, H. D., & Kelley, K. (2018). Designing Experiments and Analyzing Data: A "
        "Model Comparison Perspective (3rd ed.). Routledge.",
    ),
    "imai2010": Reference(
        "Imai et al., 2010",
        "Imai, K., Keele, L., & Yamamoto, T. (2010). Identification, inference and sensitivity analysis for "
        "causal mediation effects. Statistical Science, 25(1), 51–71.",
        "10.1214/10-STS321",
    ),
    "efron1993": Reference(
        "Efron & Tibshirani, 1993",
        "Efron, B., & Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.",
    ),
    "fritz2012": Reference(
        "Fritz et al., 2012",
        "Fritz, M. S., Taylor, A. B., & MacKinnon, D. P. (2012). Explanation of two anomalous results in "
        "statistical mediation analysis. Multivariate Behavioral Research, 47(1), 61–87.",
        "10.1080/00273171.2012.640596",
    ),
    "cinelli2020": Reference(
        "Cinelli & Hazlett, 2020",
        "Cinelli, C., & Hazlett, C. (2020). Making sense of sensitivity: Extending omitted variable bias. "
        "Journal of the Royal Statistical Society: Series B, 82(1), 39–67.",
        "10.1111/rssb.12348",
    ),
    "rubin1987": Reference(
        "Rubin, 1987",
        "Rubin, D. B. (1987). Multiple imputation for nonresponse in surveys. Wiley.",
        "10.1002/9780470316696",
    ),
    "barnard1999": Reference(
        "Barnard & Rubin, 1999",
        "Barnard, J., & Rubin, D. B. (1999). Small-sample degrees of freedom with multiple imputation. "
        "Biometrika, 86(4), 948–955.",
        "10.1093/biomet/86.4.948",
    ),
    "vanbuuren2018": Reference(
        "van Buuren, 2018",
        "van Buuren, S. (2018). Flexible imputation of missing data (2nd ed.). Chapman & Hall/CRC.",
        "10.1201/9780429492259",
    ),
    "seaman2013": Reference(
        "Seaman & White, 2013",
        "Seaman, S. R., & White, I. R. (2013). Review of inverse probability weighting for dealing with "
        "missing data. Statistical Methods in Medical Research, 22(3), 278–295.",
        "10.1177/0962280210395740",
    ),
    "ratitch2013": Reference(
        "Ratitch et al., 2013",
        "Ratitch, B., O'Kelly, M., & Tosiello, R. (2013). Missing data in clinical trials: from clinical "
        "assumptions to statistical analysis using pattern mixture models. Pharmaceutical Statistics, "
        "12(6), 337–347.",
        "10.1002/pst.1549",
    ),
    "imai2013": Reference(
        "Imai et al., 2013",
        "Imai, K., Tingley, D., & Yamamoto, T. (2013). Experimental designs for identifying causal "
        "mechanisms. Journal of the Royal Statistical Society: Series A, 176(1), 5–51.",
        "10.1111/j.1467-985X.2012.01032.x",
    ),
    "snedecor1989": Reference(
        "Snedecor & Cochran, 1989",
        "Snedecor, G. W., & Cochran, W. G. (1989). Statistical Methods (8th ed.). Iowa State University "
        "Press.",
    ),
}


@dataclass(frozen=True)
class Methods:
    """The generated methods: paragraphs (heading, text, the method strings as run) and the references."""

    paragraphs: tuple[dict[str, Any], ...]
    references: tuple[dict[str, Any], ...]
    software: dict[str, str] = field(default_factory=dict)
    command: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "paragraphs": [dict(p) for p in self.paragraphs],
            "references": [dict(r) for r in self.references],
            "software": dict(self.software),
            "command": self.command,
        }


_SOFTWARE = ("numpy", "scipy", "pandas", "statsmodels", "matplotlib", "graphviz", "jinja2")


def software_versions() -> dict[str, str]:
    """Versions of moclab, Python, the libraries the analyses use and Graphviz ``dot`` (when installed)."""
    from moclab import __version__

    versions = {"moclab": __version__, "Python": platform.python_version()}
    for name in _SOFTWARE:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    try:
        import graphviz

        versions["Graphviz dot"] = ".".join(str(part) for part in graphviz.version())
    except (graphviz.ExecutableNotFound, RuntimeError, OSError):
        pass
    return versions


def _methods_of(evidence: StudyEvidence, *kinds: str) -> list[str]:
    """The distinct ``info["method"]`` texts of the results of these kinds (result names or prefixes)."""
    found: list[str] = []
    for pathway in evidence.pathways:
        for name, result in pathway.results.items():
            if any(name == kind or name.startswith(kind + "[") for kind in kinds):
                method = result.info.get("method")
                if method:
                    found.append(str(method))
    return list(dict.fromkeys(found))


def _results(evidence: StudyEvidence, *kinds: str) -> list[Any]:
    return [
        result
        for pathway in evidence.pathways
        for name, result in pathway.results.items()
        if any(name == kind or name.startswith(kind + "[") for kind in kinds)
    ]


_TEMPLATE = re.compile(r"template '([^']+)'")


def _template_citations(evidence: StudyEvidence) -> list[str]:
    """The citations of the bundled templates that back a link of some pathway (plausibility)."""
    from moclab.errors import MoclabError
    from moclab.model import load_template

    names: list[str] = []
    for pathway in evidence.pathways:
        verdict = pathway.verdict("plausibility")
        for link in verdict.evidence.get("links", []) or []:
            for source in link.get("backed_by", []) if isinstance(link, dict) else []:
                names.extend(_TEMPLATE.findall(str(source)))
    citations = []
    for name in dict.fromkeys(names):
        try:
            citation = load_template(name, catalog=None).citation
        except MoclabError:
            continue
        if citation:
            citations.append(str(citation))
    return citations


def _cite(*keys: str) -> str:
    return "; ".join(REFERENCES[key].cite for key in keys)


def _missing_data_paragraph(method: str, imputations: int, tipping: list[Any]) -> tuple[str, str, list[str]]:
    """The paragraph on recipients with missing values (the setting `missing`)."""
    others = (
        " The other criteria's analyses (per-site models, the cross-lagged panel, dose-response) use the "
        "recipients with complete values."
    )
    if method == "imputation":
        keys = ["vanbuuren2018", "rubin1987", "barnard1999"]
        text = (
            "For strong association and specificity, recipients with missing values were kept: the missing "
            f"values were imputed {imputations} times by chained equations with predictive mean matching "
            f"({_cite('vanbuuren2018')}), the mediation model was fitted on each completed data set and the "
            f"results pooled by Rubin's rules ({_cite('rubin1987')}) with small-sample degrees of freedom "
            f"({_cite('barnard1999')}). This assumes the values are missing at random given what was "
            "measured."
        )
        if tipping:
            keys.append("ratitch2013")
            text += (
                " How far the missing outcomes would have to depart from that assumption to change the "
                "verdict on the indirect effect was found by shifting the imputed outcomes of the treated "
                f"arm (delta adjustment, a tipping-point analysis; {_cite('ratitch2013')})."
            )
        return "Missing values", text + others, keys
    if method == "weights":
        text = (
            "For strong association and specificity, the recipients with complete values were weighted by "
            "the inverse of their probability of being retained, from a logistic regression on the strategy "
            f"and the baseline values ({_cite('seaman2013')}); the bootstrap refits that model in every "
            "resample. This assumes the values are missing at random given those predictors."
        )
        return "Missing values", text + others, ["seaman2013"]
    return (
        "Missing values",
        "Recipients with a missing value in a model's variables were left out of that model (listwise "
        "deletion); the participant flow shows who was lost and the tests of differential attrition whether "
        "they differ from those retained.",
        [],
    )


def describe_methods(evidence: StudyEvidence) -> Methods:
    """Write the methods section of `evidence` (see the module docstring)."""
    settings = evidence.settings
    study = evidence.study
    cited: list[str] = ["kazdin2007", "lewis2020"]
    paragraphs: list[dict[str, Any]] = []
    level = f"{settings.level:.0%}"
    n_pathways = len(evidence.pathways)

    def add(heading: str, text: str, keys: Iterable[str] = (), as_run: Iterable[str] = ()) -> None:
        cited.extend(keys)
        paragraphs.append({"heading": heading, "text": text, "as_run": list(as_run)})

    model = study.get("model") or {}
    model_text = f" of the pathway model “{model.get('title') or model.get('id')}”" if model else ""
    add(
        "Criteria",
        f"Each of the {n_pathways} pathway(s){model_text} was judged on the seven criteria for a mechanism "
        f"({_cite('kazdin2007')}), as tabulated for implementation research by {_cite('lewis2020')}: strong "
        "association, specificity, consistency, experimental manipulation, timeline, gradient, and "
        "plausibility or coherence. Every verdict applies a stated rule (shown with it) to the numbers "
        f"below; all intervals are {level} intervals and all tests are at α = {settings.alpha:.2g}. The "
        "rules and their sources are documented in docs/criteria.md.",
    )

    mediation = _results(evidence, "mediation", "specificity", "non_target", "subgroup")
    if mediation:
        clustered = any(result.info.get("cluster_bootstrap") for result in mediation)
        cluster = study.get("cluster") or "cluster"
        ci = settings.ci
        interval = {
            "bca": "bias-corrected and accelerated (BCa) bootstrap intervals",
            "percentile": "percentile bootstrap intervals",
            "monte_carlo": "Monte Carlo intervals",
            "delta": "delta-method (Sobel) intervals",
        }[ci]
        keys = ["mackinnon2002", "preacher2008"]
        source = {"bca": "efron1987", "percentile": "efron1993"}.get(ci)
        if source:
            keys.append(source)
        resampled = ci in ("bca", "percentile")
        text = (
            "For strong association and specificity, the indirect effect of the strategy on the outcome "
            "through the mechanism was estimated as the product of regression coefficients (a·b; "
            f"{_cite('mackinnon2002')}), adjusting for the baseline values of the variables where available, "
            "with the measured competing mechanisms entered in parallel in the same model, so that the "
            "mechanism → outcome path is read holding them fixed and the specificity contrasts come from it "
            f"({_cite('preacher2008')}). Intervals are {interval}"
            + (f" from {settings.n_boot:,} resamples" if resampled else "")
            + (f" ({_cite(source)})" if source else "")
            + f", seed {settings.seed}."
        )
        if ci == "bca":
            keys.append("fritz2012")
            text += (
                " BCa intervals reject a null indirect effect too often when one path is zero "
                f"({_cite('fritz2012')}); the joint-significance test of every verdict guards against that."
            )
        if clustered:
            keys.append("cameron2015")
            text += (
                f" Recipients are nested in {cluster}s: the bootstrap resamples whole {cluster}s and the "
                "paths have cluster-robust (CR1) standard "
                f"errors ({_cite('cameron2015')})."
            )
        add("Indirect effects", text, keys, _methods_of(evidence, "mediation", "specificity", "non_target"))
        tipping = _results(evidence, "tipping_point")
        add(*_missing_data_paragraph(settings.missing, settings.imputations, tipping))

    metas = _results(evidence, "consistency", "consistency_a")
    if metas:
        keys = ["viechtbauer2005", "higgins2002", "higgins2009"]
        adjusted = any(getattr(result, "knapp_hartung", False) for result in metas)
        text = (
            "Across sites, the a path (when the strategy varied within sites) and the b path were estimated "
            "in every site and each was pooled by random-effects meta-analysis, never the products a·b, "
            "whose inverse-variance weights would pull the pooled value towards zero; across subgroups or "
            "studies, their indirect effects were pooled. The meta-analyses estimate τ² by restricted "
            f"maximum likelihood ({_cite('viechtbauer2005')})"
        )
        if adjusted:
            keys += ["knapp2003", "inthout2014"]
            text += (
                f"; with fewer than {settings.thresholds.knapp_hartung_below} units the pooled interval uses "
                f"the Knapp–Hartung adjustment ({_cite('knapp2003', 'inthout2014')})"
            )
        text += (
            f". Heterogeneity is reported as τ², I² ({_cite('higgins2002')}) and the prediction interval for "
            f"the effect in a new site ({_cite('higgins2009')})."
        )
        if _results(evidence, "arm_variance"):
            keys.append("snedecor1989")
            text += (
                " Where the strategy was assigned per site, its spread across sites was examined by the F "
                "test of the variance of baseline-adjusted site means of the mechanism, strategy arm over "
                f"control arm ({_cite('snedecor1989')})."
            )
        add(
            "Consistency",
            text,
            keys,
            _methods_of(
                evidence, "consistency", "consistency_a", "site_effects", "site_slopes", "arm_variance"
            ),
        )

    if _results(evidence, "panel"):
        add(
            "Timeline",
            "The order of measurement (strategy start, mechanism wave, outcome wave) was read from "
            "the design and the activities log; with two or more waves, a cross-lagged panel model compared "
            "the mechanism at one wave → the outcome at the next with the reverse path, the competing "
            f"mechanisms' earlier values in both equations ({_cite('cole2003')}); it does not separate "
            f"within-person change from stable differences between persons ({_cite('hamaker2015')}).",
            ["cole2003", "hamaker2015"],
            _methods_of(evidence, "panel"),
        )

    if _results(evidence, "dose_mechanism", "mechanism_outcome"):
        dose = settings.dose
        add(
            "Gradient",
            f"The support received ({dose.measure} of logged support activities"
            + (f", components {', '.join(dose.components)}" if dose.components else "")
            + (", up to the mechanism wave" if dose.window == "before_mechanism" else "")
            + ") was related to the mechanism, and the mechanism to the outcome, by a regression slope and a "
            f"test of linear trend across dose groups ({_cite('maxwell2018')})"
            + (
                "; in a randomized study, among the recipients of the supported arm(s) only"
                if dose.within_arm
                else ""
            )
            + ".",
            ["maxwell2018"],
            _methods_of(evidence, "dose_mechanism", "mechanism_outcome"),
        )

    randomization = study.get("randomization") or {}
    manipulation = (
        f"The strategy was randomized at the {randomization.get('level')} level"
        if randomization.get("level") not in (None, "none")
        else "The strategy was not randomized (an observational design)"
    )
    manipulation += (
        "; the randomized contrast had to move the mechanism and the outcome (the total effect), with the "
        "outcome's change going with the mechanism's"
    )
    keys = []
    if _results(evidence, "manipulation"):
        keys.append("imai2013")
        manipulation += (
            "; where a factor that targets the mechanism was randomized, the mechanism → outcome link was "
            f"estimated by two-stage least squares with that factor as the instrument ({_cite('imai2013')})"
        )
    add("Experimental manipulation", manipulation + ".", keys, _methods_of(evidence, "manipulation"))

    as_run = _methods_of(evidence, "sensitivity")
    if as_run:
        add(
            "Robustness of the mechanism → outcome link",
            "Randomizing the strategy does not protect the mechanism → outcome link from confounding. Its "
            "robustness was expressed as the correlation of the mediator and outcome errors at which the "
            f"indirect effect vanishes ({_cite('imai2010')}) and as the robustness value: the share of the "
            "residual variance of both the mechanism and the outcome that an unmeasured confounder would "
            f"have to explain to remove the link ({_cite('cinelli2020')}), with bounds on a confounder one, "
            "two or three times as strong as each measured covariate. Each pathway's conclusion grades "
            "the evidence (established, supported under stated assumptions, suggestive, not supported, not "
            "testable), names the assumptions its causal reading rests on, and gives these figures.",
            ["imai2010", "cinelli2020"],
            as_run,
        )

    template_citations = _template_citations(evidence)
    add(
        "Plausibility or coherence",
        "Each link of a pathway counts as backed when a source specific to it supports it: a bundled "
        "pathway-model template with the same edge, a staged catalog framework, or a citation the study "
        "gives for the link; the model's own citation is theory and gives at most partly met. Met also "
        "needs every estimated path to be significant in its hypothesised direction. The sources found are "
        "named in each verdict.",
    )

    references = [
        {**REFERENCES[key].to_dict(), "key": key, "url": REFERENCES[key].url} for key in dict.fromkeys(cited)
    ]
    extra = [str(model["citation"])] if model.get("citation") else []
    extra += [str(citation) for citation in study.get("citations") or []]
    extra += template_citations
    for text in dict.fromkeys(extra):
        if not any(text == reference["text"] for reference in references):
            references.append({"key": None, "cite": None, "text": text, "doi": None, "url": None})
    references.sort(key=lambda reference: reference["text"].lower())

    options = [f"--seed {settings.seed}", f"--n-boot {settings.n_boot}"]
    if settings.pathways is not None:
        options += [f"-p {pathway.id}" for pathway in evidence.pathways]
    command = f"moclab analyze {study.get('path', 'STUDY')} " + " ".join(options)
    return Methods(tuple(paragraphs), tuple(references), software_versions(), command)
