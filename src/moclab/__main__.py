"""`python -m moclab` runs the `moclab` command (useful where the console script is not on PATH)."""

from moclab.cli.main import run

if __name__ == "__main__":
    run()
