"""The command-line tests (a package, so that they share tests/cli/conftest.py's runner by import)."""
