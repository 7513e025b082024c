"""Prefect flows, one per stage of the yearly cycle."""
