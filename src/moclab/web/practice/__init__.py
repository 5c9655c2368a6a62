"""Who's who (organisations, members, sites, teams, engagements, recipients) and the activity log."""
