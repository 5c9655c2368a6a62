"""Evidence records: what one study found about one pathway, in a versioned, JSON Schema–validated format.

A record (format 1, docs/evidence-map.md) holds the pathway with its catalog references (ERIC strategy,
CFIR construct, Proctor outcome, ISP competencies), the design, the estimates (a, b and the indirect effect
with its interval, method and scale), each criterion's verdict with its statistic, the overall conclusion
with its assumptions, and its provenance (a citation or DOI, or the moclab version and the hash of the data
that made it). ``moclab analyze -o REPORT/`` writes one per pathway into ``REPORT/records/``
(`records_from_evidence`, `write_records`); a published study is entered by hand as a small YAML file and
read with `read_record`, every problem located at its line. The schema ships as
``moclab/evidence/schema/evidence-record-1.json`` (`record_schema`), so other tools can validate records too;
`records_frame` flattens records for a systematic review's spreadsheet. `moclab map` reads folders of them.
"""

from moclab.evidence.records.files import (
    RECORD_SUFFIXES,
    is_record_data,
    load_record_data,
    read_record,
    read_records,
    record_from_data,
    write_records,
)
from moclab.evidence.records.from_analysis import (
    RECORDS_FOLDER,
    records_from_evidence,
    records_from_report,
    study_data_hash,
    study_files,
)
from moclab.evidence.records.record import EvidenceRecord, normalize_record, records_frame
from moclab.evidence.records.validation import FORMAT, KIND, SCHEMA_FILE, check_record, record_schema

__all__ = [
    "FORMAT",
    "KIND",
    "RECORDS_FOLDER",
    "RECORD_SUFFIXES",
    "SCHEMA_FILE",
    "EvidenceRecord",
    "check_record",
    "is_record_data",
    "load_record_data",
    "normalize_record",
    "read_record",
    "read_records",
    "record_from_data",
    "record_schema",
    "records_frame",
    "records_from_evidence",
    "records_from_report",
    "study_data_hash",
    "study_files",
    "write_records",
]
