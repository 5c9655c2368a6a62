"""Scoring instruments: item responses -> scale and subscale scores per respondent and wave.

`score_items` scores one instrument from long data (one row per respondent, wave and item) or wide data (one
row per respondent and wave, one column per item). It

1. reads each response as a number; text, fractions between options and values outside the response scale
   are reported (`ResponseIssue`: respondent, wave, item, value as written, what to do) and left out, and
   everything else is still scored;
2. reverse-keys the reverse items: ``minimum + maximum - response`` (a 2 on a 1-5 scale counts as a 4);
3. scores each scale (the whole instrument and each subscale) as the mean of the answered items, prorated:
   a respondent who skipped items gets the mean of the items they answered, but only when they answered at
   least the instrument's ``min_items`` (else the score is missing, with the reason). Sum scoring gives the
   prorated sum, mean x number of items, so a skipped item does not lower the sum.

`score_study` does this for every measure of a study that declares an ``instrument:`` (contract section 2);
`load_study` runs it, so scored measures appear in `Study.wide()` like any other measure.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from moclab.catalog.instruments import Instrument
from moclab.errors import DataError, Problem
from moclab.study.columns import text_of, to_number, to_text

if TYPE_CHECKING:
    from moclab.study.study import Study

#: Tolerance for calling a response a whole number (values read from text or Excel may carry rounding).
_WHOLE = 1e-9


def scale_names(
    instrument: Instrument, name: str | None = None, subscale: str | None = None
) -> dict[str, str | None]:
    """The scores a measure gives, mapped to the subscale each scores (None = the whole instrument).

    The whole instrument is scored as `name` (default: the instrument id) and each subscale as
    ``<name>_<subscale>``; a measure that scores one subscale only gives that one score, called `name`.

    Examples
    --------
    >>> from moclab.catalog.instruments import default_instruments
    >>> list(scale_names(default_instruments().get("oric"), "readiness"))
    ['readiness', 'readiness_change_commitment', 'readiness_change_efficacy']
    """
    name = name or instrument.id
    if subscale is not None:
        instrument.items_of(subscale)  # unknown subscale -> CatalogError with "did you mean"
        return {name: subscale}
    return {name: None, **{f"{name}_{sid}": sid for sid in instrument.subscales}}


@dataclass(frozen=True)
class ResponseIssue:
    """One response left out of scoring: who, when, which item, the value as written, and what to do.

    `row` is the 0-based position of the response in the data given to `score_items` (the row of a long
    table, or the row of a wide one), so a caller that read the data from a file can point at its line.
    """

    respondent: str
    wave: str | None
    item: str
    field: str
    value: str
    problem: str
    hint: str
    row: int | None = None

    def __str__(self) -> str:
        wave = f", wave {self.wave}" if self.wave is not None else ""
        shown = self.field if self.field == self.item else f"{self.field} (item {self.item})"
        return f"respondent {self.respondent}{wave}, {shown}: {self.value!r} {self.problem} ({self.hint})"

    def to_problem(self, file: str | None = None) -> Problem:
        wave = f", wave {self.wave}" if self.wave is not None else ""
        return Problem(
            f"respondent {self.respondent}{wave}: {self.value!r} {self.problem}; left out of scoring",
            file=file,
            field=self.field,
            hint=self.hint,
            severity="warning",
        )

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ScaleScores:
    """The scores of one instrument: per respondent and wave, for the whole instrument and its subscales.

    Attributes
    ----------
    instrument : Instrument
        What was scored.
    scales : dict
        Score name -> subscale id (None for the whole instrument), in output order (see `scale_names`).
    scores : pandas.DataFrame
        One row per respondent and wave that has any response; columns: respondent, wave, then one column
        per score (NaN where too few items were answered).
    answered : pandas.DataFrame
        Same rows and columns: the number of valid items answered for each score.
    keyed : pandas.DataFrame
        Same rows; one column per item id with the reverse-keyed responses used for the scores (NaN where
        unanswered or left out): the input of reliability.
    issues : tuple of ResponseIssue
        Responses left out, with the reason.
    respondent, wave : str
        The names of the respondent and wave columns (`wave` is None when the data had no waves).
    """

    instrument: Instrument
    scales: Mapping[str, str | None]
    scores: pd.DataFrame
    answered: pd.DataFrame
    keyed: pd.DataFrame
    issues: tuple[ResponseIssue, ...] = ()
    respondent: str = "respondent"
    wave: str | None = "wave"
    fields: Mapping[str, str] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        return [self.respondent] + ([self.wave] if self.wave else [])

    def scale_items(self, scale: str) -> list[str]:
        """The item ids a score is computed from."""
        return [item.id for item in self.instrument.items_of(self.scales[scale])]

    def items_of(self, scale: str) -> pd.DataFrame:
        """The keyed item responses behind one score (respondent, wave and the item columns)."""
        return self.keyed[[*self.keys, *self.scale_items(scale)]]

    def to_frame(self) -> pd.DataFrame:
        """Long table: respondent, wave, scale, score, answered, items, min_items, prorated, reason."""
        parts = []
        for scale, subscale in self.scales.items():
            n_items = len(self.instrument.items_of(subscale))
            needed = self.instrument.min_items_of(subscale)
            answered = self.answered[scale].to_numpy()
            score = self.scores[scale].to_numpy()
            reason = [
                None
                if not np.isnan(value)
                else "no item answered"
                if count == 0
                else f"answered {count} of {n_items} items; at least {needed} needed"
                for value, count in zip(score, answered, strict=True)
            ]
            part = self.scores[self.keys].copy()
            part["scale"] = scale
            part["score"] = score
            part["answered"] = answered
            part["items"] = n_items
            part["min_items"] = needed
            part["prorated"] = ~np.isnan(score) & (answered < n_items)
            part["reason"] = pd.Series(reason, index=part.index, dtype=object)
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    def incomplete(self) -> pd.DataFrame:
        """The scores left missing because too few items were answered, with the reason."""
        frame = self.to_frame()
        return frame[frame["score"].isna()].reset_index(drop=True)

    def problems(self, file: str | None = None) -> list[Problem]:
        """The issues as warnings (the study checker reports them by file line instead)."""
        return [issue.to_problem(file) for issue in self.issues]

    def to_dict(self) -> dict[str, Any]:
        frame = self.to_frame()
        records = frame.astype(object).where(frame.notna(), None).to_dict(orient="records")
        return {
            "instrument": self.instrument.id,
            "scoring": self.instrument.scoring,
            "scales": dict(self.scales),
            "scores": records,
            "issues": [issue.to_dict() for issue in self.issues],
        }

    def _repr_html_(self) -> str:
        summary = self.scores[list(self.scales)].agg(["count", "mean", "std", "min", "max"]).T
        body = summary.to_html(float_format=lambda v: f"{v:.2f}", border=0)
        head = (
            f"<strong>{html.escape(self.instrument.name)}</strong>: {self.instrument.scoring} of "
            f"{len(self.instrument.items)} items, {len(self.scores)} respondent-waves"
        )
        notes = f"<p>{len(self.issues)} responses left out (see .issues)</p>" if self.issues else ""
        return f"<div>{head}{body}{notes}</div>"

    def __str__(self) -> str:
        summary = self.scores[list(self.scales)].agg(["count", "mean", "std"]).T
        text = f"{self.instrument.name}: {len(self.scores)} respondent-waves\n{summary.to_string()}"
        if self.issues:
            text += f"\n{len(self.issues)} responses left out of scoring"
        return text


def _labels(values: pd.Series | None, length: int) -> pd.Series:
    """Respondent ids, waves and item names as text (None where empty), whatever their dtype."""
    if values is None:
        return pd.Series([None] * length, dtype=object)
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    return to_text(values.reset_index(drop=True)).astype(object).where(lambda text: text.notna(), None)


def _hint_out_of_scale(instrument: Instrument, value: float) -> str:
    scale = instrument.scale
    hint = f"write one of {scale.minimum}-{scale.maximum}, or leave the cell empty when there is no answer"
    if value >= 7 and value > scale.maximum and float(value).is_integer() and len(set(str(int(value)))) == 1:
        hint += f"; if {int(value)} is a missing-value code, list it under the table's `missing:` values"
    return hint


def score_items(
    data: pd.DataFrame,
    instrument: Instrument,
    *,
    name: str | None = None,
    subscale: str | None = None,
    respondent: str = "respondent",
    wave: str | None = "wave",
    item: str = "item",
    value: str = "value",
    fields: Mapping[str, str] | None = None,
) -> ScaleScores:
    """Score an instrument from item responses, per respondent and wave.

    Parameters
    ----------
    data : pandas.DataFrame
        Long (columns `respondent`, `wave`, `item`, `value`; rows of other items are ignored) or wide (one
        row per respondent and wave, one column per item field). The layout is long when `item` is a
        column.
    instrument : Instrument
        The instrument (``default_instruments().get("aim")``).
    name : str, optional
        The name of the whole-instrument score (default: the instrument id); subscales are ``<name>_<id>``.
    subscale : str, optional
        Score this subscale only (as `name`).
    respondent, wave, item, value : str
        Column names. `wave` may be None (or absent from wide data) when there is one occasion.
    fields : mapping, optional
        Item id -> the field (item name or column) that holds it, for items not named by their id.

    Returns
    -------
    ScaleScores
        Scores, items answered, keyed item responses and the responses left out.

    Raises
    ------
    DataError
        When the respondent (or given wave) column is missing, or wide data has none of the item columns.

    Notes
    -----
    Reverse keying: ``x' = min + max - x``. Prorating: the score is the mean of the answered keyed items when
    at least ``min_items`` are answered, else missing (the "half rule" of the EORTC QLQ-C30 Scoring Manual,
    Fayers et al. 2001, is the default ``min_items``); sum scoring multiplies that mean by the number of
    items (the prorated sum).

    Examples
    --------
    >>> import pandas as pd
    >>> from moclab.catalog.instruments import default_instruments
    >>> aim = default_instruments().get("aim")
    >>> wide = pd.DataFrame({"respondent": ["a", "b"], "aim_1": [4, 5], "aim_2": [5, None],
    ...                      "aim_3": [4, 5], "aim_4": [3, 5]})
    >>> score_items(wide, aim, wave=None).scores["aim"].tolist()
    [4.0, 5.0]
    """
    fields = {item_def.id: item_def.id for item_def in instrument.items} | dict(fields or {})
    item_of_field = {field_name: item_id for item_id, field_name in fields.items()}
    if respondent not in data.columns:
        raise DataError(
            f"the respondent column '{respondent}' is missing",
            hint="columns: " + ", ".join(map(str, data.columns)),
        )
    long_layout = item in data.columns
    if wave is not None and wave not in data.columns:
        if long_layout:
            raise DataError(
                f"the wave column '{wave}' is missing", hint="pass wave=None if there is one wave"
            )
        wave = None
    keys = [respondent] + ([wave] if wave else [])

    if long_layout:
        if value not in data.columns:
            raise DataError(f"the value column '{value}' is missing")
        names = _labels(data[item], len(data))
        positions = np.flatnonzero(names.isin(list(item_of_field)).to_numpy())
        subset = data.iloc[positions]
        long = pd.DataFrame(
            {
                "_respondent": _labels(subset[respondent], len(subset)),
                "_wave": _labels(subset[wave] if wave else None, len(subset)),
                "_field": names.iloc[positions].to_numpy(),
                "_raw": subset[value].to_numpy(),
                "_row": positions,
            }
        )
    else:
        present = [field_name for field_name in item_of_field if field_name in data.columns]
        if not present:
            raise DataError(
                f"none of the item columns of instrument '{instrument.id}' is in the data",
                hint="expected columns such as " + ", ".join(list(item_of_field)[:4]),
            )
        frame = data.reset_index(drop=True)
        who = _labels(frame[respondent], len(frame))
        when = _labels(frame[wave] if wave else None, len(frame))
        long = pd.DataFrame(
            {
                "_respondent": np.tile(who.to_numpy(), len(present)),
                "_wave": np.tile(when.to_numpy(), len(present)),
                "_field": np.repeat(present, len(frame)),
                "_raw": np.concatenate([frame[column].to_numpy(dtype=object) for column in present]),
                "_row": np.tile(np.arange(len(frame)), len(present)),
            }
        )
    # every respondent-wave seen in the data gets a row, in order of first appearance, even without answers
    order = long.sort_values("_row", kind="stable")[["_respondent", "_wave"]]
    long = long[long["_respondent"].notna()].reset_index(drop=True)
    long["_item"] = long["_field"].map(item_of_field)

    converted = to_number(long["_raw"])
    numbers = converted.values.to_numpy(dtype="float64")
    given = long["_raw"].notna().to_numpy() & ~converted.bad
    scale = instrument.scale
    with np.errstate(invalid="ignore"):
        fraction = given & (np.abs(numbers - np.round(numbers)) > _WHOLE)
        outside = given & ~fraction & ((numbers < scale.minimum) | (numbers > scale.maximum))
    keys_frame = long[["_respondent", "_wave", "_item"]].fillna({"_wave": ""})
    answered_twice = given & keys_frame.duplicated(keep=False).to_numpy() & ~(fraction | outside)
    issues: list[ResponseIssue] = []
    reasons = [
        (converted.bad, "is not a number", "write the number of the response option (e.g. 4, not 'agree')"),
        (fraction, f"is not one of the response options {scale.minimum}-{scale.maximum}", None),
        (outside, f"is outside the response scale {scale.minimum}-{scale.maximum}", None),
        (answered_twice, "is one of several answers to the same item", "keep one answer per item and wave"),
    ]
    for mask, problem, hint in reasons:
        for position in np.flatnonzero(mask):
            row = long.iloc[position]
            issues.append(
                ResponseIssue(
                    respondent=row["_respondent"],
                    wave=row["_wave"],
                    item=row["_item"],
                    field=row["_field"],
                    value=text_of(row["_raw"]),
                    problem=problem,
                    hint=hint or _hint_out_of_scale(instrument, float(numbers[position])),
                    row=int(row["_row"]),
                )
            )
    issues.sort(key=lambda issue: (issue.row if issue.row is not None else -1, issue.item))
    valid = given & ~(fraction | outside | answered_twice)

    seen = order[order["_respondent"].notna()].drop_duplicates().reset_index(drop=True)
    index = pd.MultiIndex.from_frame(seen[["_respondent", "_wave"]].fillna({"_wave": ""}))
    answers = pd.DataFrame(
        {
            "_respondent": long["_respondent"][valid],
            "_wave": long["_wave"][valid].fillna(""),
            "_item": long["_item"][valid],
            "_value": numbers[valid],
        }
    )
    item_ids = list(instrument.item_ids)
    matrix = answers.set_index(["_respondent", "_wave", "_item"])["_value"].unstack("_item")
    matrix = matrix.reindex(index=index, columns=item_ids).astype("float64")
    reverse = [item_def.reverse for item_def in instrument.items]
    values = matrix.to_numpy()
    keyed_values = np.where(reverse, scale.minimum + scale.maximum - values, values)

    scales = scale_names(instrument, name, subscale)
    position_of = {item_id: index for index, item_id in enumerate(item_ids)}
    score_columns: dict[str, np.ndarray] = {}
    answered_columns: dict[str, np.ndarray] = {}
    for scale_name, sub in scales.items():
        columns = [position_of[item_def.id] for item_def in instrument.items_of(sub)]
        block = keyed_values[:, columns]
        answered = np.sum(~np.isnan(block), axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.nansum(block, axis=1) / answered
        score = np.where(answered >= instrument.min_items_of(sub), mean, np.nan)
        if instrument.scoring == "sum":
            score = score * len(columns)
        score_columns[scale_name] = score
        answered_columns[scale_name] = answered

    labels = seen.rename(columns={"_respondent": respondent, "_wave": wave or "_wave"})[keys]
    labels = labels.astype(object).reset_index(drop=True)  # the same dtype whatever the input layout
    scores = pd.concat([labels, pd.DataFrame(score_columns)], axis=1)
    answered_frame = pd.concat([labels, pd.DataFrame(answered_columns)], axis=1)
    keyed = pd.concat([labels, pd.DataFrame(keyed_values, columns=item_ids)], axis=1)
    return ScaleScores(
        instrument=instrument,
        scales=scales,
        scores=scores,
        answered=answered_frame,
        keyed=keyed,
        issues=tuple(issues),
        respondent=respondent,
        wave=wave,
        fields=fields,
    )


# --------------------------------------------------------------------------------------------------------
# Studies
# --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyScores:
    """The scored measures of a study.

    Attributes
    ----------
    results : dict
        Measure name -> `ScaleScores` of its instrument.
    table : pandas.DataFrame
        Long: recipient, wave, measure, value (the measures table's column names), one row per score; the
        rows `Study.wide()` uses in place of the item rows.
    issues : dict
        Measure name -> its `ResponseIssue`s (responses left out).
    disagreements : pandas.DataFrame
        Scale scores given in the data next to their items that differ from the score of the items.
    """

    results: Mapping[str, ScaleScores]
    table: pd.DataFrame
    disagreements: pd.DataFrame

    @property
    def issues(self) -> dict[str, tuple[ResponseIssue, ...]]:
        return {measure: result.issues for measure, result in self.results.items() if result.issues}

    def to_frame(self) -> pd.DataFrame:
        """Long: measure, recipient, wave, scale, score, answered, items, min_items, prorated, reason."""
        parts = [result.to_frame().assign(measure=measure) for measure, result in self.results.items()]
        if not parts:
            return pd.DataFrame()
        frame = pd.concat(parts, ignore_index=True)
        return frame[["measure", *[c for c in frame.columns if c != "measure"]]]

    def to_dict(self) -> dict[str, Any]:
        return {measure: result.to_dict() for measure, result in self.results.items()}


def score_measures(measures: pd.DataFrame, config: Any, plan: Any) -> StudyScores:
    """Score every instrument measure of a study from its typed measures table.

    `plan` is the study's `moclab.study.measure_items.InstrumentPlan` (which measure reads which item rows).
    """
    spec = config.tables.measures
    results: dict[str, ScaleScores] = {}
    parts = []
    for measure, use in plan.uses.items():
        rows = measures[measures[spec.measure].isin(list(use.fields.values()))]
        if rows.empty:
            continue
        result = score_items(
            rows,
            use.instrument,
            name=measure,
            subscale=use.subscale,
            respondent=spec.recipient,
            wave=spec.wave,
            item=spec.measure,
            value=spec.value,
            fields=use.fields,
        )
        # positions of issues refer to `rows`; report them as positions of the whole table
        issues = tuple(
            ResponseIssue(**{**issue.to_dict(), "row": int(rows.index[issue.row])}) for issue in result.issues
        )
        results[measure] = ScaleScores(**{**result.__dict__, "issues": issues})
        long = result.scores.melt(id_vars=result.keys, var_name=spec.measure, value_name=spec.value)
        parts.append(long)
    columns = [spec.recipient, spec.wave, spec.measure, spec.value]
    table = pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(columns=columns)
    table[spec.value] = table[spec.value].astype("float64")
    disagreements = _disagreements(measures, table, spec)
    return StudyScores(results=results, table=table, disagreements=disagreements)


def _disagreements(measures: pd.DataFrame, scored: pd.DataFrame, spec: Any) -> pd.DataFrame:
    """Scale scores written in the data that differ from the score of the same person's items (> 0.01)."""
    keys = [spec.recipient, spec.wave, spec.measure]
    given = measures[[*keys, spec.value]].dropna()
    if given.empty or scored.empty:
        return pd.DataFrame(columns=[*keys, "given", "scored"])
    given = given.assign(**{spec.wave: given[spec.wave].astype(str)})
    both = given.merge(scored.dropna(), on=keys, suffixes=("_given", "_scored"))
    both = both.rename(columns={f"{spec.value}_given": "given", f"{spec.value}_scored": "scored"})
    return both[np.abs(both["given"] - both["scored"]) > 0.01].reset_index(drop=True)


def score_study(study: Study) -> StudyScores:
    """The scale scores of every instrument measure of a loaded study (computed once by `load_study`).

    Examples
    --------
    >>> from moclab.study import example_path, load_study
    >>> scores = score_study(load_study(example_path(), show_progress=False))
    >>> sorted(scores.results)
    ['acceptability', 'appropriateness', 'feasibility', 'psych_safety']
    """
    if study.scores is not None:
        return study.scores
    from moclab.study.measure_items import InstrumentPlan

    plan = InstrumentPlan.for_study(study.config, study.path)
    return score_measures(study.measures, study.config, plan)
