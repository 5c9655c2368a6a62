"""Dashboards of the practice: support dose, support modes and the recipients' pathway over time, every
aggregate of recipients behind small-cell suppression (`moclab.disclosure`)."""
