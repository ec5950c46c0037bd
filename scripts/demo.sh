#!/usr/bin/env bash
# Build the demo plan workbook, dollarize it in place and print the summary.
# Usage: scripts/demo.sh [PATH]   (default: sopfin-demo.xlsx at the repository root; a
# relative PATH is taken from the folder you run the script in)
set -euo pipefail
out="${1:-}"
case "$out" in
  "" | /*) ;;
  *) out="$PWD/$out" ;;
esac
source "$(dirname "$0")/bootstrap.sh" ""  # no extras: the demo needs sopfin alone
exec .venv/bin/sopfin demo --force "${out:-sopfin-demo.xlsx}"
