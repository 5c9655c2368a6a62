"""Shared test data for the measures tests (a module of its own: several test folders have a conftest)."""

from __future__ import annotations

VALID_INSTRUMENT = """\
id: team-climate
name: Team climate (a study's own instrument)
citation: Our team, 2024 (internal).
licence: Written by the study team; free to use.
level: team
scale:
  minimum: 1
  maximum: 4
  labels: {1: Never, 4: Always}
scoring: sum
items:
  - {id: tc_1, label: we talk openly}
  - {id: tc_2, label: we help each other}
  - {id: tc_3, label: conflicts linger}
  - {id: tc_4, label: we plan together}
reverse: [tc_3]
subscales:
  openness: {name: Openness, items: [tc_1, tc_3]}
  cooperation: {name: Cooperation, items: [tc_2, tc_4], min_items: 2}
"""
