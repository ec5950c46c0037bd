"""Export for BI: the live plan and every published version as a star schema (docs/export.md)."""
