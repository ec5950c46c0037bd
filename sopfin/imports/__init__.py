"""Load a flat table exported from an ERP, a GL or a spreadsheet into a plan's input sheet.

The steps: read the mapping (a TOML file, or a preset) -> load the source into DuckDB as text
-> parse dates and numbers, filter, map items to families, turn value columns into measures
-> report every problem at once with its source row -> sum by the target sheet's keys and
month.
"""
