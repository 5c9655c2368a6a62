"""``python -m django pulse_surveys``: open the due waves, mail the due invitations and the reminders.

Run it from cron (docs/platform.md, "Pulse surveys"); it does each step once per run and is safe to run
again at any time (nothing is opened or mailed twice). It prints counts only, never an address.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from moclab.web.surveys.scheduling import open_due_waves, send_due_invitations, send_reminders


class Command(BaseCommand):
    help = "Open the pulse survey waves that are due, mail their personal links, and send reminders."

    def handle(self, *args: Any, **options: Any) -> None:
        waves = open_due_waves()
        invited = send_due_invitations()
        reminded = send_reminders()
        invitations = sum(wave.invitations.count() for wave in waves)
        self.stdout.write(
            f"{len(waves)} waves opened ({invitations} invitations); {invited.sent} invitations and "
            f"{reminded.sent} reminders mailed; "
            f"{invited.without_address + reminded.without_address} without an e-mail address"
        )
