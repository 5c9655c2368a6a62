"""The `moclab` command: thin wrappers that parse arguments, call the layers and print."""
