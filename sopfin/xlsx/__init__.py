"""The .xlsx package: read, write and check Office Open XML workbooks; the only place that
opens the zip. The lossless writer is ``sopfin.xlsx.writer``."""
