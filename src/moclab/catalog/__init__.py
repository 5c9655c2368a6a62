"""The field's frameworks as versioned, cited data: ERIC, CFIR 2.0 and 2009, Proctor's outcomes, ISP
competencies and principles, mechanisms and criteria.

Each framework is a YAML file (bundled in ``moclab/catalog/data/`` or written by the user); `Catalog` loads
them, looks entries up by id (``eric:facilitation``, ``eric:33``), walks their hierarchy and searches names
with typo tolerance. See docs/catalog.md.
"""

from moclab.catalog.catalog import Catalog, default_catalog
from moclab.catalog.entries import VERIFICATION_LEVELS, Entry, Framework, Verification, slugify
from moclab.catalog.loader import ENV_VAR, FrameworkFileError, check_files, load_frameworks
from moclab.catalog.search import SearchHit

__all__ = [
    "ENV_VAR",
    "VERIFICATION_LEVELS",
    "Catalog",
    "Entry",
    "Framework",
    "FrameworkFileError",
    "SearchHit",
    "Verification",
    "check_files",
    "default_catalog",
    "load_frameworks",
    "slugify",
]
