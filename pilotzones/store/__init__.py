"""The store: the home folder, the state database (models, migrations, bulk inserts), the ledger,
stored proposals and deadline exceptions, the stage lock and the run log.
"""
