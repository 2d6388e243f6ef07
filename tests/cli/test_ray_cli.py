"""`rag index --ray` through the real command: a local Ray started and stopped by rag, and a cluster that is down."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SEEDS, rag

RAY = Path(sys.executable).parent / "ray"


def _files(index_dir: Path) -> dict[str, str]:
    return {str(p.relative_to(index_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(index_dir.rglob("*")) if p.is_file()}


def _ray_servers() -> set[int]:
    import psutil

    return {p.pid for p in psutil.process_iter(["name"]) if p.info["name"] in ("gcs_server", "raylet")}


def test_rag_index_on_a_local_ray_writes_the_index_a_one_process_build_writes_and_stops_its_ray(tmp_path, seed_index):
    from rag import store

    before = _ray_servers()
    result = rag("index", str(SEEDS), "--index", str(tmp_path / "ix"), "--ray", "--ray-workers", "2", cwd=tmp_path)
    assert result.code == 0, result.err
    lines = result.err.splitlines()
    assert "rag: starting a local Ray with 2 CPUs" in lines
    assert "rag: indexing 5 articles on Ray with 2 embedding worker(s)" in lines
    assert "rag: embedded 51 passages on Ray" in lines
    assert any(line.startswith("rag: indexed 5 articles (5 added, 0 updated, 0 removed, 0 unchanged); embedded 51 of 51 "
                               "passages in ") for line in lines)
    assert "Traceback" not in result.err
    assert _ray_servers() == before  # rag stopped the Ray it started
    built, expected = store.load(tmp_path / "ix"), store.load(seed_index)
    assert built.chunks == expected.chunks
    assert np.array_equal(built.vectors(), expected.vectors())

    again = rag("index", "--index", str(tmp_path / "ix"), "--ray", cwd=tmp_path)  # nothing to do: Ray is not started
    assert again.code == 0, again.err
    assert "Ray" not in again.err
    assert "rag: nothing changed: the index is as it was" in again.err.splitlines()


def test_a_ray_cluster_that_is_down_is_one_line_naming_it_and_the_index_is_untouched(tmp_path, seed_index):
    index = tmp_path / "ix"
    assert rag("index", str(SEEDS), "--index", str(index), cwd=tmp_path).code == 0
    files = _files(index)
    result = rag("index", "--rebuild", "--index", str(index), "--ray", "127.0.0.1:9", cwd=tmp_path)
    assert result.code == 2
    assert result.err.splitlines()[-1] == "rag: error: cannot reach the Ray cluster at 127.0.0.1:9: connection refused"
    assert "Traceback" not in result.err
    assert _files(index) == files

    for flags, message in ((["--ray", "head-node"], "rag: error: --ray head-node: give the cluster as HOST:PORT (its head "
                                                     "node's GCS, e.g. 10.0.0.5:6379), ray://HOST:PORT, auto or local"),
                           (["--ray-workers", "2"], "rag: error: --ray-workers needs --ray"),
                           (["--ray", "--ray-workers", "0"], "rag: error: --ray-workers 0: give 1 or more")):
        refused = rag("index", "--rebuild", "--index", str(index), *flags, cwd=tmp_path)
        assert (refused.code, refused.err.splitlines()[-1]) == (2, message)
    assert _files(index) == files


@pytest.fixture
def ray_head():
    """A one-node Ray cluster started as users start one (`ray start --head`), on loopback, stopped by the test. Its
    files go to a folder of its own: in /tmp/ray it would be recorded as the machine's current cluster."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    import psutil

    env = {**os.environ, "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0"}  # every server on 127.0.0.1 (index/distributed.py)
    others = {p.pid for p in psutil.process_iter()}
    files = tempfile.mkdtemp(prefix="ray-", dir="/tmp")  # short: Ray's socket paths must fit in 107 bytes
    started = subprocess.run([str(RAY), "start", "--head", "--port", str(port), "--num-cpus", "2", "--temp-dir", files,
                              "--include-dashboard", "false", "--disable-usage-stats"],
                             env=env, capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr
    try:
        yield f"127.0.0.1:{port}"
    finally:
        # this cluster's processes only (`ray stop` would stop every Ray on the machine)
        ours = [p for p in psutil.process_iter(["cmdline"]) if p.pid not in others and p.pid != os.getpid()
                and any("ray" in part for part in p.info["cmdline"] or [])]
        for process in ours:
            process.terminate()
        _, alive = psutil.wait_procs(ours, timeout=30)
        for process in alive:
            process.kill()
        shutil.rmtree(files, ignore_errors=True)


def test_rag_index_on_a_running_cluster_with_its_token(tmp_path, seed_index, ray_head):
    from rag import store

    # Ray 2.60's `ray start` asks clients for the token it keeps in ~/.ray/auth_token
    without = rag("index", str(SEEDS), "--index", str(tmp_path / "ix"), "--ray", ray_head, cwd=tmp_path)
    assert (without.code, without.err.splitlines()[-1]) == (
        2, f"rag: error: cannot reach the Ray cluster at {ray_head}: Failed to connect to Ray cluster at {ray_head} "
           "(if it asks for a token, set RAY_AUTH_MODE=token)")
    result = rag("index", str(SEEDS), "--index", str(tmp_path / "ix"), "--ray", ray_head, cwd=tmp_path,
                 env={"RAY_AUTH_MODE": "token"})
    assert result.code == 0, result.err
    lines = result.err.splitlines()
    assert f"rag: connecting to the Ray cluster at {ray_head}" in lines
    assert "rag: indexing 5 articles on Ray with 2 embedding worker(s)" in lines
    built, expected = store.load(tmp_path / "ix"), store.load(seed_index)
    assert built.chunks == expected.chunks
    assert np.array_equal(built.vectors(), expected.vectors())
