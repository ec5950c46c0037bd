"""What keeps the user's workbook safe: which sheets are sopfin's, edits and typed-over cells."""
