"""Notice templates (Jinja2), shipped inside the package as `pilotzones.templates`."""
