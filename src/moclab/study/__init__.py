"""Study folders: a `moclab.yaml` plus data tables, loaded, checked and summarised.

The format is documented in docs/study-format.md. In short::

    my-study/
      moclab.yaml          title, design (levels, randomization, waves), tables, measures, model
      model.yaml           the pathway model the study tests
      data/recipients.csv  one row per recipient
      data/measures.csv    long format: recipient, wave, measure, value (, date)
      data/activities.csv  the support log (optional)
      data/outcomes.csv    values for sites or teams (optional)

Examples
--------
>>> from moclab.study import example_path, validate_study
>>> report = validate_study(example_path(), show_progress=False)
>>> report.summary.n_clusters
12
"""

from __future__ import annotations

from pathlib import Path

from moclab.study.config import StudyConfig, load_config
from moclab.study.flow import AttritionTests, ParticipantFlow, differential_attrition, participant_flow
from moclab.study.load import StudyReport, load_study, study_from_tables, validate_study
from moclab.study.scaffold import copy_example, new_study
from moclab.study.study import Study
from moclab.study.summary import StudySummary
from moclab.study.tables import read_table


def example_path() -> Path:
    """The folder of the example study shipped with moclab (synthetic data, not real people).

    Examples
    --------
    >>> from moclab.study import example_path, load_config
    >>> sorted(path.name for path in example_path().iterdir())
    ['README.md', 'data', 'moclab.yaml', 'model.yaml']
    >>> load_config(example_path()).title
    'Recipient pathway trial (synthetic example)'
    """
    return Path(__file__).parent / "example"


__all__ = [
    "AttritionTests",
    "ParticipantFlow",
    "Study",
    "StudyConfig",
    "StudyReport",
    "StudySummary",
    "copy_example",
    "differential_attrition",
    "example_path",
    "load_config",
    "load_study",
    "new_study",
    "participant_flow",
    "read_table",
    "study_from_tables",
    "validate_study",
]
