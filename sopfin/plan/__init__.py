"""The plan as the user keeps it: read the input sheets, parse and validate them; the blank
plan and the demo."""
