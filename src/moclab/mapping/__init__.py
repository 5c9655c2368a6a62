"""The living evidence map: many studies' evidence records, mechanism by criterion, with consistency across
studies.

`build_map(folders)` reads folders of evidence records (`moclab.evidence.records`: written by ``moclab
analyze -o``, read from report folders, or entered by hand from publications), merges the records of
different teams by their catalog references and node ids, leaves duplicates out, and pools every pathway
that two or more studies report by random-effects meta-analysis on one standardized scale. `write_map`
writes the offline HTML page, its JSON and the records as CSV (``moclab map``). The format and a worked
example: docs/evidence-map.md.
"""

from moclab.mapping.build import (
    ACROSS,
    COLUMNS,
    FILTERS,
    MAP_FORMAT,
    EvidenceMap,
    MapEntry,
    build_map,
    map_records,
)
from moclab.mapping.collect import Collected, Duplicate, collect_records, find_duplicates
from moclab.mapping.consistency import (
    ModeratorTest,
    PathwayConsistency,
    StudyEffect,
    consistency_across_studies,
    standardized_effect,
)
from moclab.mapping.constructs import Construct, construct_keys
from moclab.mapping.examples import build_example, example_path, example_records
from moclab.mapping.render import MAP_FILES, render_map, write_map

__all__ = [
    "ACROSS",
    "COLUMNS",
    "FILTERS",
    "MAP_FILES",
    "MAP_FORMAT",
    "Collected",
    "Construct",
    "Duplicate",
    "EvidenceMap",
    "MapEntry",
    "ModeratorTest",
    "PathwayConsistency",
    "StudyEffect",
    "build_example",
    "build_map",
    "collect_records",
    "consistency_across_studies",
    "construct_keys",
    "example_path",
    "example_records",
    "find_duplicates",
    "map_records",
    "render_map",
    "standardized_effect",
    "write_map",
]
