"""Estimators on plain arrays and DataFrames: mediation, multilevel mediation, sensitivity.

This layer knows nothing about files, YAML or the catalog: arrays or DataFrames in, result objects out.
"""
