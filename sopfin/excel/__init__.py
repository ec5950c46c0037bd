"""sopfin inside Excel: worksheet functions and the ribbon's entry points.

``functions`` holds the worksheet functions as plain Python (no xlwings); ``udfs`` registers
them with xlwings; ``ribbon`` has one entry point per button of the "S&OP Finance" tab. The
open-workbook adapter they use is ``sopfin.excel.live.LiveWorkbook``.
"""
