# Shared by scripts/demo.sh and scripts/test.sh: make .venv with sopfin installed.
# Usage: source scripts/bootstrap.sh [EXTRAS]   (EXTRAS e.g. "test")
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_install() {
  if command -v apt-get >/dev/null 2>&1; then
    echo "installing $* from Debian's packages" >&2
    as_root apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  else
    echo "please install: $*" >&2; return 1
  fi
}

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "sopfin needs Python 3.11 or newer ($python is $("$python" -V 2>&1))" >&2; exit 2
fi
if [ ! -x .venv/bin/python ]; then
  if ! "$python" -m venv .venv >/dev/null 2>&1; then
    rm -rf .venv
    apt_install python3-venv
    "$python" -m venv .venv
  fi
fi
# The compiled helpers (sopfin/*/_*.c, listed in setup.py) need a C compiler and Python's
# headers; without them pip installs sopfin all the same and each runs its pure-Python twin.
if ! command -v gcc >/dev/null 2>&1 && ! command -v cc >/dev/null 2>&1; then
  apt_install gcc || true
fi
if ! "$python" -c 'import os, sysconfig, sys
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
  apt_install "python3-dev" || true
fi
extras="${1:-}"
spec="."; [ -n "$extras" ] && spec=".[$extras]"
stamp=".venv/.sopfin-installed-${extras:-base}"
compiled_source_newer_than() {  # a C source changed since the install: rebuild it
  [ -n "$(find sopfin -name '_*.c' -newer "$1" -print -quit)" ]
}
installed() {  # sopfin is installed with these extras (any extras include the base install)
  local s
  for s in "$stamp" $([ -z "$extras" ] && echo .venv/.sopfin-installed-*); do
    [ -f "$s" ] && [ ! pyproject.toml -nt "$s" ] && [ ! setup.py -nt "$s" ] \
      && ! compiled_source_newer_than "$s" && return 0
  done
  return 1
}
if ! installed; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e "$spec"
  touch "$stamp"
fi
