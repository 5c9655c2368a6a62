"""Creating study folders: `new_study` (from a pathway-model template) and `copy_example`.

Neither ever overwrites anything: the destination must not exist or be an empty folder.

`new_study` wires a moclab.yaml to a copy of the template: the model's first strategy becomes the arm
column of the recipients table, each moderator a recipients column, every other node a measure on a 1-5
scale (to be adjusted). The data files have header rows only; such a study passes `moclab validate` with
warnings that the tables have no data yet.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from moclab.errors import StudyError, display_path

README = """\
# {title}

A moclab study folder created by `moclab new` from the `{template}` pathway-model template.

- `moclab.yaml`: the study's description and design: title, waves (with their planned dates),
  randomization, tables and measures. Fill in the parts marked `TODO`.
- `model.yaml`: the pathway model the study tests (a copy of the template; edit it to match your theory).
- `data/recipients.csv`: one row per recipient: id, site, team, arm{moderator_text}.
- `data/measures.csv`: one row per recipient, wave and measure (`recipient_id,wave,measure,value,date`).
  Measure names are the keys under `measures:` in moclab.yaml, waves the ids under `design.waves`;
  dates are written YYYY-MM-DD.
- `data/activities.csv`: the support log, one row per contact: date, site, recipient (empty for team or
  site meetings), component (free text or a catalog reference such as `isp-competencies:facilitation`),
  minutes and mode. Delete the file and `tables.activities` if you keep no log.

The tables have header rows only. `moclab validate {folder}` checks the folder now (it warns that there are
no data yet) and again once you have filled them in, listing every problem with its file, line and column.
Spreadsheets can be saved as CSV UTF-8, or used directly as .xlsx (change the `path:` in moclab.yaml).
The format is described in moclab's docs/study-format.md.
"""


def refuse_non_empty(dest: Path) -> None:
    """Raise a `StudyError` unless `dest` is missing or an empty folder: moclab never overwrites files."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise StudyError(
            f"{display_path(dest)} is not empty; moclab never overwrites files",
            hint="give a new folder name (it is created), or an empty folder",
        )


def copy_example(dest: str | Path) -> Path:
    """Copy the bundled example study (synthetic data) to `dest`, which must not exist or be empty.

    Returns
    -------
    Path
        The new study folder.

    Examples
    --------
    >>> from moclab.study import copy_example, validate_study
    >>> folder = copy_example("my-study")
    >>> sorted(path.name for path in (folder / "data").iterdir())
    ['activities.csv', 'measures.csv', 'outcomes.csv', 'recipients.csv']
    >>> validate_study(folder, show_progress=False).summary.n_recipients
    151
    >>> from moclab.errors import StudyError
    >>> try:
    ...     copy_example("my-study")
    ... except StudyError as error:
    ...     print(error)
    my-study is not empty; moclab never overwrites files (give a new folder name (it is created), or an
    empty folder)
    """
    from moclab.study import example_path

    dest = Path(dest)
    refuse_non_empty(dest)
    shutil.copytree(example_path(), dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def new_study(dest: str | Path, template: str = "recipient-pathway", title: str | None = None) -> Path:
    """Create a study folder from a pathway-model template: moclab.yaml, model.yaml, data/*.csv, README.md.

    Parameters
    ----------
    dest
        The folder to create (it must not exist, or be empty).
    template
        A template name (`moclab.model.list_templates()`).
    title
        The study title (default: derived from the folder name).

    Returns
    -------
    Path
        The new study folder.

    Raises
    ------
    StudyError
        When `dest` is not empty.
    ModelError
        When there is no such template (with the closest name).

    Examples
    --------
    >>> from moclab.study import load_config, new_study, validate_study
    >>> folder = new_study("coaching-study", template="mechanism-criteria")
    >>> sorted(path.name for path in folder.iterdir())
    ['README.md', 'data', 'moclab.yaml', 'model.yaml']
    >>> sorted(path.name for path in (folder / "data").iterdir())  # header rows only
    ['activities.csv', 'measures.csv', 'recipients.csv']
    >>> (folder / "data" / "recipients.csv").read_text(encoding="utf-8").split()  # the moderator is a column
    ['recipient_id,site,team,arm,workload']
    >>> load_config(folder).title
    'Coaching study'

    The new study is valid; it only warns that the tables have no data yet:

    >>> for warning in validate_study(folder, show_progress=False).warnings[:1]:
    ...     print(warning)
    coaching-study/data/recipients.csv:1: no data rows yet (only the header) (fill in the table; the study is
    checked again once it has data)
    """
    from moclab.model import load_model, template_path

    dest = Path(dest)
    refuse_non_empty(dest)
    source = template_path(template)
    model = load_model(source, catalog=None)
    title = title or dest.name.replace("-", " ").replace("_", " ").strip().capitalize() or "New study"
    strategies = [node for node in model.nodes if node.type.value == "strategy"]
    moderators = [node for node in model.nodes if node.type.value == "moderator"]
    measured = [node for node in model.nodes if node.type.value not in ("strategy", "moderator")]
    measured = strategies[1:] + measured  # a second strategy can only be a measure (a dose, a rating)
    arm_node = strategies[0].id if strategies else None

    dest.mkdir(parents=True, exist_ok=True)
    (dest / "data").mkdir()
    shutil.copyfile(source, dest / "model.yaml")
    recipients_header = ["recipient_id", "site", "team", "arm", *[node.id for node in moderators]]
    files = {
        "recipients.csv": recipients_header,
        "measures.csv": ["recipient_id", "wave", "measure", "value", "date"],
        "activities.csv": ["date", "site", "recipient_id", "component", "minutes", "mode"],
    }
    for name, header in files.items():
        (dest / "data" / name).write_text(",".join(header) + "\n", encoding="utf-8")
    (dest / "moclab.yaml").write_text(
        _config_text(title, template, arm_node, moderators, measured), encoding="utf-8"
    )
    moderator_text = "".join(f", {node.id}" for node in moderators)
    (dest / "README.md").write_text(
        README.format(title=title, template=template, moderator_text=moderator_text, folder=dest.name),
        encoding="utf-8",
    )
    return dest


def quoted(text: str) -> str:
    """`text` as a double-quoted YAML scalar."""
    # A JSON string is a valid double-quoted YAML scalar, so labels with colons or quotes stay intact.
    return json.dumps(text, ensure_ascii=False)


def _config_text(title: str, template: str, arm_node: str | None, moderators: list, measured: list) -> str:
    lines = [
        "# moclab study configuration; the format is described in docs/study-format.md.",
        f"# Created by `moclab new` from the {template} template. Fill in the parts marked TODO.",
        "format: 1",
        f"title: {quoted(title)}",
        "synthetic: false",
        "description: >-",
        "  TODO: what the study is, where and when it took place.",
        "citations: []",
        "model: model.yaml",
        "frameworks: []",
        "",
        "design:",
        "  unit: recipient",
        "  cluster: site",
        "  team: team",
        "  randomization:",
        "    level: none                # none | recipient | site | team",
        "    arms: []                   # TODO: e.g. [intensive, usual]",
        "  waves:                       # in time order; TODO: add planned dates (date: 2025-01-15)",
        "    - {id: baseline, label: Baseline, month: 0}",
        "    - {id: m6, label: 6 months, month: 6}",
        "",
        "tables:",
        "  recipients:",
        "    path: data/recipients.csv",
        "    id: recipient_id",
        "    cluster: site",
        "    team: team",
        "    arm: arm",
        "    columns:",
    ]
    arm_spec = "{type: category" + (f", node: {arm_node}" if arm_node else "") + "}"
    lines.append(f"      arm: {arm_spec}")
    for node in moderators:
        lines.append(
            f"      {node.id}: {{type: category, node: {node.id}, label: {quoted(node.label or node.id)}}}"
        )
    lines += [
        "  measures:",
        "    path: data/measures.csv",
        "    recipient: recipient_id",
        "    wave: wave",
        "    measure: measure",
        "    value: value",
        "    date: date",
        "  activities:",
        "    path: data/activities.csv",
        "    date: date",
        "    cluster: site",
        "    recipient: recipient_id",
        "    component: component",
        "    minutes: minutes",
        "    mode: mode",
        "",
        "# One measure per model node; TODO: set each range to your instrument's scale.",
        "measures:",
    ]
    levels = {"individual", "team", "site", "organization", "system"}
    for node in measured:
        level = node.level.value if node.level is not None and node.level.value in levels else "individual"
        label = quoted(node.label or node.id)
        lines.append(f"  {node.id}: {{label: {label}, range: [1, 5], level: {level}}}")
    return "\n".join(lines) + "\n"
