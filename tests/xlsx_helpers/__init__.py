"""Helpers for the workbook writer tests: package surgery and headless LibreOffice runs."""
