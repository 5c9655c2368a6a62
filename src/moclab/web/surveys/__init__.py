"""Pulse surveys: surveys built from catalog instruments and the recipient-pathway stages, scheduled in
waves, answered by recipients through a personal tokenized link (no login), with reminders by e-mail."""
