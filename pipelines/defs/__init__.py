"""Dagster wiring: resources, assets and checks. Thin: the work is in pipelines.steps and below."""
