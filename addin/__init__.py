"""Build ``sopfin.xlam`` from the text sources in ``addin/src`` (see ``addin/README.md``).

Standard library only: the compound file, the VBA project and the Open XML package are
written here, from the public specifications (MS-CFB, MS-OVBA, ECMA-376).
"""
