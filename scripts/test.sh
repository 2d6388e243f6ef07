#!/usr/bin/env bash
# Set everything up, then lint and run the whole test suite (unit, CLI, real-model and browser tiers).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
# The browser tier drives Debian's chromium through playwright (never `playwright install`).
if [ ! -x /usr/bin/chromium ]; then
    echo "test.sh: installing chromium for the browser tests" >&2
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
