"""`rag serve` refusals that happen before any model loads (fast)."""

import subprocess
import sys

import pytest

from tests.conftest import ROOT, rag

REFUSED = ("rag: error: refusing to serve on {} without a token: set RAG_SERVE_TOKEN to a secret that clients send as "
           "their API key (only 127.0.0.1, ::1 and localhost may go without one)\n")


@pytest.mark.parametrize(("host", "env"), [("0.0.0.0", {}), ("::", {}), ("192.168.1.5", {"RAG_SERVE_TOKEN": ""})])
def test_serving_beyond_loopback_without_a_token_exits_2_before_loading_anything(tmp_path, host, env):
    result = rag("serve", "--host", host, cwd=tmp_path, env=env)
    assert (result.code, result.out, result.err) == (2, "", REFUSED.format(host))


def test_a_bad_port_exits_2(tmp_path):
    result = rag("serve", "--port", "70000", cwd=tmp_path)
    assert (result.code, result.out, result.err) == (2, "", "rag: error: --port must be between 0 and 65535, not 70000\n")


def test_with_a_token_it_goes_on_to_open_the_index(tmp_path):
    result = rag("serve", "--host", "0.0.0.0", cwd=tmp_path, env={"RAG_SERVE_TOKEN": "cli-test-secret"})
    assert (result.code, result.out) == (2, "")
    assert result.err == ("rag: error: no index at var/index/default and no articles in ./seeds: "
                          "build one with `rag index PATH --index var/index/default`\n")


def test_the_cli_does_not_import_the_web_stack_until_serve_runs():
    code = "import sys, rag.cli; print(sorted(m for m in ('fastapi', 'uvicorn', 'starlette') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "[]\n"), done.stderr
