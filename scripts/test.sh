#!/usr/bin/env bash
# Set everything up, then lint and run the whole test suite (unit, CLI and real-model tiers).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/ruff check .
exec .venv/bin/python -m pytest "$@"
