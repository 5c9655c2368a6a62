"""moclab: Mechanisms Of Change lab."""

__version__ = "0.1.0"
