#!/usr/bin/env bash
# Packaging smoke test: build the wheel of HEAD (not the editable checkout), install it into a new virtualenv,
# check that it adds no top-level import name but `rag`, and answer a question with the installed `rag`
# from a folder that holds no source code.
#
# The new venv borrows the dependencies from .venv (a .pth line) so CI does not download and compile
# them twice; the wheel itself is installed with --no-deps. Run ./scripts/setup.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/rag-wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT

# built from the committed tree, in a copy: setuptools writes build/ beside the sources it builds
mkdir "$work/src"
git archive --format=tar HEAD | tar -x -C "$work/src"
.venv/bin/pip wheel --quiet --disable-pip-version-check --no-deps -w "$work/dist" "$work/src" >/dev/null
wheel=$(ls "$work"/dist/rag-*.whl)
python3 -m venv "$work/venv"
site=$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
deps=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
before=$(ls "$site" | sort)
echo "$deps" > "$site/_rag_deps.pth"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check --no-deps --no-index "$wheel"
added=$(comm -13 <(echo "$before") <(ls "$site" | grep -v '^_rag_deps.pth$' | sort) | tr '\n' ' ')
if [ "$added" != "rag rag-0.1.0.dist-info " ]; then
    echo "smoke_wheel: the wheel installed more than rag: $added" >&2
    exit 1
fi

mkdir "$work/use"
cp -r seeds "$work/use/seeds"
cd "$work/use"
"$work/venv/bin/python" - "$site" <<'EOF'
import sys
import rag.cli, rag.evals.runner, rag.index.build, rag.ui.library  # noqa: F401  (every room imports)
for module in (rag.cli, rag.evals.runner, rag.index.build, rag.ui.library):
    assert module.__file__.startswith(sys.argv[1]), f"{module.__name__} came from {module.__file__}, not the wheel"
EOF
export RAG_MODELS_DIR="$repo/var/models"  # the models the test suite assembled: no second copy
"$work/venv/bin/rag" index seeds --index ix 2>/dev/null
answer=$("$work/venv/bin/rag" ask "Which company did Tesla partner with on mapping?" --index ix --json 2>/dev/null)
echo "$answer" | "$work/venv/bin/python" -c '
import json, sys
text = json.load(sys.stdin)["answer"]
assert "Baidu" in text and "[" in text, text
print("smoke_wheel: the installed rag answered:", text)'
