"""The rules: a programme as data and R3-R10 as plain functions over plain data.

No database, no Prefect, no clock: everything here is testable with a frame or a model in hand.
"""
