"""Prefect tasks: each loads, calls one plain function of `pilotzones`, and stores."""
