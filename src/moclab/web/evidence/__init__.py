"""From practice to evidence: a portfolio of engagements as a moclab study folder, and evidence runs of
`moclab analyze` on it as background tasks, kept with the data snapshot and the settings they came from."""
