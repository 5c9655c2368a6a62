"""Checking a study folder: the config's cross-references, each table against its declaration, the tables
against each other, and the pathway model against the measures.

`StudyChecker.run()` collects every problem in one pass and never stops at the first: a schema error in
moclab.yaml is reported and the rest of the config is still used; a missing column skips only the checks that
need it. Each problem names the file and the line (YAML) or the line and row (tables) and the column, and says
what to do. The typed tables it builds are what `load_study` hands to the user.

Severity: an **error** makes the study unusable as is (`moclab validate` exits 1); a **warning** is worth
knowing but does not stop an analysis (an undeclared measure, a model node without data, a table with no data
rows yet).

The modules, in the order a run uses them:

- `checker`: `StudyChecker`, the run and what the checks share (config, tables, known ids, problems);
  `TABLE_CHECKS` names the check of each table;
- `config_checks`: rules across the config's values, and its references to the model's nodes;
- `column_rules`: the columns each table must or may have, checked and converted to their types;
- `recipients`, `long_tables` (measures and outcomes), `activities`: each table against the design and the
  tables read before it;
- `declarations`: declared measures without data, model nodes without a measure;
- `in_memory`: `TablesChecker`, the same checks on a config and frames held in memory.
"""
