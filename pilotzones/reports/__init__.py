"""Workbooks and printable reports for the people in the cycle: county templates, yearly reports.

A layer between store and notices: it reads the programme and the state, writes files under
`HOME/reports/` (or where asked), and notices may point to or attach what it wrote.
"""
