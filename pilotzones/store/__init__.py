"""The store: the home folder, the state database (models, migrations, bulk inserts), the ledger,
stored proposals and deadline exceptions, the stage lock and the run log.
"""

# The home's programme file, by name: a constant the command line reads before it loads the store.
PROGRAMME_FILE = "programme.toml"
# The file `pilotzones demo` leaves in a home it made: such a home holds sample years only.
DEMO_MARKER = ".pilotzones-demo"
