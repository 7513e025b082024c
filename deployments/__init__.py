"""Prefect deployments: each stage of the year on its date."""
