#!/usr/bin/env bash
# Build the demo plan workbook, dollarize it in place and print the summary.
# Usage: scripts/demo.sh [PATH]   (default: sopfin-demo.xlsx)
source "$(dirname "$0")/bootstrap.sh"
exec .venv/bin/sopfin demo --force "${1:-sopfin-demo.xlsx}"
