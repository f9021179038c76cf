"""Pipelines (their stages) and job runners."""
