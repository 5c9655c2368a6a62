"""The data checks, one at a time, on copies of the example study with one thing changed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from study_helpers import edit_line, edit_text, find, line_of, problems_of

from moclab.errors import ValidationError
from moclab.study import load_study, validate_study


def warnings_of(folder: Path) -> list:
    return list(load_study(folder, show_progress=False).warnings)


def test_the_example_validates_without_any_problem(study_copy: Path) -> None:
    report = validate_study(study_copy, show_progress=False)
    assert report.problems == ()
    assert (report.summary.n_recipients, report.summary.n_clusters, len(report.summary.waves)) == (151, 12, 3)


def test_key_cells_may_not_be_empty(study_copy: Path) -> None:
    measures = study_copy / "data" / "measures.csv"
    edit_line(measures, 5, "R001,baseline,", ",baseline,")
    problem = find(problems_of(study_copy), "the recipient id is empty")
    assert (problem.file, problem.line, problem.row, problem.field) == (
        "data/measures.csv",
        5,
        4,
        "recipient_id",
    )


def test_undeclared_wave_gets_did_you_mean(study_copy: Path) -> None:
    measures = study_copy / "data" / "measures.csv"
    edit_line(measures, 7, ",baseline,", ",basline,")
    problem = find(problems_of(study_copy), "wave not declared")
    assert (problem.line, problem.row, problem.field) == (7, 6, "wave")
    assert "'basline' (did you mean 'baseline'?)" in problem.message
    assert "declared waves: baseline, m6, m12" in problem.hint


def test_many_rows_are_one_problem_listing_the_first_five(study_copy: Path) -> None:
    measures = study_copy / "data" / "measures.csv"
    lines = measures.read_text(encoding="utf-8").split("\n")
    # ten scale scores written with a decimal comma, quoted as a spreadsheet would (instrument items are
    # whole numbers)
    scale_scores = [number for number in range(2, len(lines)) if "." in lines[number - 1].split(",")[3]]
    for number in scale_scores[:10]:
        recipient, wave, measure, value, date = lines[number - 1].split(",")
        lines[number - 1] = f'{recipient},{wave},{measure},"{value.replace(".", ",")}",{date}'
    measures.write_text("\n".join(lines), encoding="utf-8")
    problem = find(problems_of(study_copy), "not a number")
    assert problem.message.startswith("not a number (10 rows): line 2 (row 1) '3,72', line 10 (row 9) '3,36'")
    assert problem.message.endswith("and 5 more")
    assert problem.hint.startswith("write decimals with a dot (3.5, not 3,5)")


def test_duplicate_values_for_the_same_cell(study_copy: Path) -> None:
    measures = study_copy / "data" / "measures.csv"
    line = measures.read_text(encoding="utf-8").split("\n")[9]
    measures.write_text(measures.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")
    problem = find(problems_of(study_copy), "more than one value for the same recipient, wave and measure")
    assert (
        problem.field == "measure" and "R001 / baseline / trust (also on line 10 (row 9))" in problem.message
    )


def test_whole_site_randomized_but_recipients_in_two_arms(study_copy: Path) -> None:
    recipients = study_copy / "data" / "recipients.csv"
    edit_line(recipients, 3, ",S01,S01-T2,usual,", ",S01,S01-T2,intensive,")
    problem = find(problems_of(study_copy), "site 'S01' was randomized as a whole")
    assert (problem.line, problem.row, problem.field) == (3, 2, "arm")
    assert "different arms" in problem.message and "'intensive'" in problem.message


def test_arm_outside_the_declared_arms(study_copy: Path) -> None:
    edit_line(study_copy / "data" / "recipients.csv", 2, ",usual,", ",usal,")
    problem = find(problems_of(study_copy), "not one of the allowed values")
    assert (problem.line, problem.field) == (2, "arm") and "'usal' (did you mean 'usual'?)" in problem.message


def test_integer_and_range_of_a_declared_column(study_copy: Path) -> None:
    recipients = study_copy / "data" / "recipients.csv"
    edit_line(recipients, 2, ",high,11", ",high,11.5")
    edit_line(recipients, 3, ",high,15", ",high,75")
    problems = problems_of(study_copy)
    assert find(problems, "not a whole number").line == 2
    outside = find(problems, "outside the allowed range 0–50")
    assert (outside.line, outside.field) == (3, "years_experience") and "75" in outside.message


def test_missing_covariate_column(study_copy: Path) -> None:
    edit_text(
        study_copy / "moclab.yaml",
        "covariates: [role, years_experience]",
        "covariates: [role, years_experiance]",
    )
    problem = find(problems_of(study_copy), "the covariate column 'years_experiance' is missing")
    assert problem.file == "data/recipients.csv" and "did you mean 'years_experience'?" in problem.hint


def test_orphans_in_activities_and_outcomes(study_copy: Path) -> None:
    activities = study_copy / "data" / "activities.csv"
    outcomes = study_copy / "data" / "outcomes.csv"
    edit_line(activities, 2, ",S02,", ",S20,")
    lines = activities.read_text(encoding="utf-8").split("\n")
    coached = next(n for n, text in enumerate(lines, start=1) if text.split(",")[3].startswith("R"))
    fields = lines[coached - 1].split(",")
    other_site = "S01" if fields[1] != "S01" else "S02"
    edit_line(activities, coached, f",{fields[1]},{fields[2]},", f",{other_site},{fields[2]},")
    edit_line(activities, 3, ",S11,,,", ",,,,")
    edit_line(outcomes, 4, "S02,", "S99,")
    problems = problems_of(study_copy)
    site = find(problems, "no such site in data/recipients.csv", file="data/activities.csv")
    assert (site.line, site.field) == (2, "site") and "'S20'" in site.message
    wrong = find(problems, "the recipient is not in this site")
    assert wrong.line == coached and f"belongs to '{fields[1]}', not '{other_site}'" in wrong.message
    neither = find(problems, "neither a site nor a recipient is given")
    assert neither.line == 3
    outcome = find(problems, "no such site in data/recipients.csv", file="data/outcomes.csv")
    assert (outcome.line, outcome.field) == (4, "site")


def test_negative_minutes_and_unknown_mode(study_copy: Path) -> None:
    activities = study_copy / "data" / "activities.csv"
    edit_line(activities, 2, ",95,virtual", ",-95,zoom")
    problems = problems_of(study_copy)
    assert find(problems, "outside the allowed range ≥ 0").field == "minutes"
    assert find(problems, "not one of the allowed values", field="mode").hint == "allowed: in_person, virtual"


def test_unknown_catalog_component_is_a_warning_with_suggestion(study_copy: Path) -> None:
    activities = study_copy / "data" / "activities.csv"
    edit_line(activities, 3, "isp-competencies:facilitation", "isp-competencies:facilitaton")
    warning = find(warnings_of(study_copy), "'isp-competencies:facilitaton' looks like a catalog reference")
    assert (warning.line, warning.field, warning.severity) == (3, "component", "warning")
    assert "isp-competencies:facilitation" in warning.hint


def test_undeclared_and_absent_measures_and_uncovered_nodes_are_warnings(study_copy: Path) -> None:
    config = study_copy / "moclab.yaml"
    edit_text(
        config,
        "  trust: {label: Trust in the ISPs, range: [1, 5], level: individual}\n",
        "  trust: {label: Trust in the ISPs, range: [1, 5], level: individual}\n  hope: {range: [1, 5]}\n",
    )
    edit_text(
        config,
        "  service_outcomes:\n    label: Share of the site's initiatives meeting their outcome targets\n"
        "    node: better_outcomes\n    range: [0, 1]\n    level: site\n",
        "",
    )
    edit_line(study_copy / "data" / "measures.csv", 10, ",trust,", ",trst,")
    warnings = warnings_of(study_copy)
    typo = find(warnings, "measure 'trst' is not declared")
    assert (typo.line, typo.file, typo.hint.split("?")[0]) == (
        10,
        "data/measures.csv",
        "did you mean 'trust'",
    )
    find(warnings, "measure 'service_outcomes' is not declared", file="data/outcomes.csv")
    absent = find(warnings, "measure 'hope' is declared but has no values")
    assert absent.line == line_of(config, "  hope:")
    nodes = find(warnings, "model nodes with no measure or column: better_outcomes")
    assert nodes.line == line_of(config, "model:")
    assert all(w.severity == "warning" for w in warnings)


def test_team_ids_reused_across_sites_is_a_warning(study_copy: Path) -> None:
    recipients = study_copy / "data" / "recipients.csv"
    frame = pd.read_csv(recipients, dtype=str, keep_default_na=False)
    frame["team"] = frame["team"].str.split("-").str[1]
    frame.to_csv(recipients, index=False)
    warning = find(warnings_of(study_copy), "team 'T3' appears in several sites")
    assert warning.field == "team" and "S01-T3" in warning.hint


def test_header_only_tables_are_a_warning_not_an_error(study_copy: Path) -> None:
    for name in ("measures", "activities", "outcomes"):
        path = study_copy / "data" / f"{name}.csv"
        path.write_text(path.read_text(encoding="utf-8").split("\n")[0] + "\n", encoding="utf-8")
    study = load_study(study_copy, show_progress=False)
    assert [w.file for w in study.warnings] == [
        "data/measures.csv",
        "data/activities.csv",
        "data/outcomes.csv",
    ]
    assert all("no data rows yet" in w.message for w in study.warnings)
    assert len(study.measures) == 0 and len(study.recipients) == 151


def test_empty_table_file_is_an_error(study_copy: Path) -> None:
    (study_copy / "data" / "activities.csv").write_text("", encoding="utf-8")
    problem = find(problems_of(study_copy), "the file is empty")
    assert problem.file == "data/activities.csv"
    assert "date,site,recipient_id,component,minutes,mode" in problem.hint


def test_non_utf8_table_in_a_study_and_the_encoding_key(study_copy: Path) -> None:
    recipients = study_copy / "data" / "recipients.csv"
    edit_line(recipients, 2, "leader", "lëader")
    recipients.write_bytes(recipients.read_text(encoding="utf-8").encode("cp1252"))
    problem = find(problems_of(study_copy), "not UTF-8 text")
    assert (problem.file, problem.line) == ("data/recipients.csv", 2)
    assert "encoding: cp1252" in problem.hint
    edit_text(
        study_copy / "moclab.yaml",
        "    path: data/recipients.csv\n",
        "    path: data/recipients.csv\n    encoding: cp1252\n",
    )
    problem = find(problems_of(study_copy), "not one of the allowed values")
    assert "'lëader' (did you mean 'leader'?)" in problem.message  # read as cp1252, then checked


def test_tables_may_be_excel_or_parquet(study_copy: Path) -> None:
    data = study_copy / "data"
    pd.read_csv(data / "recipients.csv", dtype=str).to_excel(
        data / "recipients.xlsx", index=False, sheet_name="people"
    )
    measures = pd.read_csv(data / "measures.csv", dtype={"recipient_id": str})
    measures["date"] = pd.to_datetime(measures["date"])
    measures.to_parquet(data / "measures.parquet", index=False)
    (data / "recipients.csv").unlink()
    (data / "measures.csv").unlink()
    config = study_copy / "moclab.yaml"
    edit_text(config, "path: data/recipients.csv", "path: data/recipients.xlsx\n    sheet: people")
    edit_text(config, "path: data/measures.csv ", "path: data/measures.parquet ")
    study = load_study(study_copy, show_progress=False)
    assert study.problems == ()
    original = validate_study(Path(__file__).parents[2] / "src/moclab/study/example", show_progress=False)
    pd.testing.assert_frame_equal(study.describe().measures, original.summary.measures)


def test_a_recipients_file_with_a_bad_row_is_reported_and_the_rest_checked(study_copy: Path) -> None:
    recipients = study_copy / "data" / "recipients.csv"
    edit_line(recipients, 4, ",staff,", ",staff,extra,")
    edit_line(study_copy / "data" / "measures.csv", 2, ",3.72,", ",9,")
    with pytest.raises(ValidationError) as caught:
        load_study(study_copy, show_progress=False)
    problems = caught.value.problems
    malformed = find(problems, "this line has 8 values but the header names 7 columns")
    assert (malformed.file, malformed.line) == ("data/recipients.csv", 4)
    assert find(problems, "outside the range 1–5").line == 2  # measures were still checked


def test_study_frameworks_resolve_activity_components(study_copy: Path) -> None:
    (study_copy / "coaching.yaml").write_text(
        "id: acme-coaching\n"
        "name: Acme coaching competencies\n"
        'version: "2025-01"\n'
        "short_citation: Acme 2025\n"
        "citation: Acme Health. Coaching competencies. Internal document, 2025.\n"
        "verification: verified\n"
        "kinds: [competency]\n"
        "counts: {competency: 1}\n"
        "entries:\n"
        "  - {id: active-listening, name: Active listening, kind: competency}\n",
        encoding="utf-8",
    )
    activities = study_copy / "data" / "activities.csv"
    edit_line(activities, 3, "isp-competencies:facilitation", "acme-coaching:active-listening")
    find(warnings_of(study_copy), "'acme-coaching:active-listening' looks like a catalog reference")
    edit_text(study_copy / "moclab.yaml", "frameworks: []", "frameworks: [coaching.yaml]")
    assert warnings_of(study_copy) == []


def _with_manipulation(study_copy: Path, values_by_site, declaration: str) -> None:
    """Give the example a factor that targets trust (a recipients column) and declare it in moclab.yaml."""
    recipients = study_copy / "data" / "recipients.csv"
    frame = pd.read_csv(recipients)
    frame["trust_module"] = [values_by_site(site, i) for i, site in enumerate(frame["site"])]
    frame.to_csv(recipients, index=False)
    edit_text(
        study_copy / "moclab.yaml",
        "  waves:                        # in time order",
        declaration + "  waves:",
    )


def test_a_factor_that_targets_a_mechanism_is_declared_under_design(study_copy: Path) -> None:
    _with_manipulation(
        study_copy,
        lambda site, i: "module" if int(site[1:]) % 2 else "none",
        "  manipulations:\n    - {column: trust_module, mechanism: trust, level: site, control: none}\n",
    )
    study = load_study(study_copy, show_progress=False)
    (manipulation,) = study.config.design.manipulations
    assert (manipulation.column, manipulation.mechanism, manipulation.level) == (
        "trust_module",
        "trust",
        "site",
    )


def test_bad_manipulations_are_located(study_copy: Path) -> None:
    _with_manipulation(
        study_copy,
        lambda site, i: "module" if i % 2 else "none",  # varies within sites although randomized by site
        "  manipulations:\n    - {column: trust_module, mechanism: trsut, level: site, control: nothing}\n",
    )
    problems = problems_of(study_copy)
    start = line_of(study_copy / "moclab.yaml", "  manipulations:")
    node = find(problems, "'trsut' is not a node of the pathway model")
    assert node.line == start + 1 and "did you mean 'trust'" in node.hint
    control = find(problems, "its control value 'nothing' and at least one other value are needed")
    assert control.line == start + 1 and control.hint == "use one of: module, none"
    spread = find(
        problems, "site 'S01' was randomized as a whole, but its recipients are in different assignments"
    )
    assert spread.field == "trust_module" and spread.file == "data/recipients.csv"


def test_a_manipulation_column_missing_or_at_an_unknown_level_is_located(study_copy: Path) -> None:
    _with_manipulation(
        study_copy,
        lambda site, i: "module" if int(site[1:]) % 2 else "none",
        "  manipulations:\n    - {column: trust_modul, mechanism: trust, level: ward, control: none}\n",
    )
    problems = problems_of(study_copy)
    start = line_of(study_copy / "moclab.yaml", "  manipulations:")
    level = find(problems, "design.manipulations: level 'ward' is not a level of this study")
    assert level.line == start + 1
    missing = find(problems, "the manipulation column 'trust_modul' is missing")
    assert missing.file == "data/recipients.csv" and "did you mean 'trust_module'?" in missing.hint
    assert f"change design.manipulations.column in moclab.yaml (line {start + 1})" in missing.hint
