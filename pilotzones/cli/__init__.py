"""The command line on top of every other layer: `main` (the `pilotzones` command), `demo`,
`status` and `rubric`. The only layer that imports the Prefect flows.
"""
