"""Great Expectations suites of the intake, shipped inside the package as `pilotzones.expectations`."""
