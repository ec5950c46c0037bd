"""Consolidate many business units' plan workbooks into one workbook, in a reporting currency."""
