"""The practice platform: a Django application where ISP teams log their support (`moclab serve`).

Apps, one per concept (docs/decisions/0005-practice-platform.md): `moclab.web.practice` (organisations,
sites, teams, engagements, recipients and the activity log) and `moclab.web.audit` (who created, changed or
deleted what). `moclab.web.settings` reads its configuration from environment variables (the `MOCLAB_*`
names below) so that `moclab serve`, gunicorn and the tests configure it the same way; the platform needs the
`web` extra (``pip install 'moclab[web]'``). See docs/platform.md.

The layers below (analysis, study, evidence) never import this package; it may use `moclab.catalog` (the
catalog ids an activity records) and `moclab.simulate` (the demo organisation).
"""

from __future__ import annotations

import os
from pathlib import Path

#: Environment variables the settings read.
DATABASE_URL_VAR = "MOCLAB_DATABASE_URL"
MODE_VAR = "MOCLAB_WEB_MODE"
SECRET_KEY_VAR = "MOCLAB_SECRET_KEY"
ALLOWED_HOSTS_VAR = "MOCLAB_ALLOWED_HOSTS"
FRAMEWORKS_VAR = "MOCLAB_WEB_FRAMEWORKS"

#: The modes of the platform: `demo` (plain HTTP on the loopback, relaxed cookie rules) and `production`
#: (secure cookies, HSTS and HTTPS redirects: run it behind an HTTPS proxy).
MODES = ("demo", "production")


def data_folder() -> Path:
    """Where the platform keeps its default SQLite database and secret key: ``$XDG_DATA_HOME/moclab`` (by
    default ``~/.local/share/moclab``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "moclab"
