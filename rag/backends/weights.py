"""Copies of a packaged GGUF whose weight matrices llama.cpp multiplies faster when it reads a prompt.

The packaged Qwen2.5 "Q4_K_M" files mix types: the 0.5B's matrices are mostly Q5_0 with some Q4_K, Q6_K and Q8_0;
the 1.5B's are Q4_K. Reading a prompt, llama.cpp multiplies a whole batch of tokens by each matrix, and its batch
kernels are fastest for F16 on a CPU with F16C. `weights = "f16"` and `"q8_0"` are the packaged weights re-encoded
once by llama.cpp's own quantiser: each value lands within a rounding of the wider type (2^-11 of itself in F16),
far inside the packaged quantisation's own error. The token embedding, which is only looked up, and the output
matrix, read whole for every reply token, keep their packaged types.

Measured on the gold prompts (`scripts/bench_llama.py`, README "Speed"): the 0.5B's F16 copy reads prompts 1.7x as
fast with the same greedy replies, for 916 MiB on disk instead of 469; the 1.5B's reads them 1.2x as fast but
writes replies half as fast (2.8 GB, read whole for each token). So `"auto"` (the default) is F16 for the 0.5B and
the packaged file for the 1.5B; `"packaged"` is always the file as shipped.

A copy is made from the verified packaged file, written under a temporary name and renamed, so a killed or
concurrent conversion leaves nothing half-written; its hash, size and mtime are recorded beside it, and a copy that
no longer matches its record is made again. The conversion is deterministic: the sha256 of each copy measured for
the README is kept with the packaged model, and a copy that comes out otherwise (another llama.cpp build) is used
with a message that says its answers may differ slightly from the README's.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from pathlib import Path

from rag.backends.gguf import PackagedModel, record_sha256, recorded_sha256
from rag.errors import ModelError
from rag.hashing import file_sha256

FORMATS = {"f16": "F16", "q8_0": "Q8_0"}  # llama.cpp's ftype per copy


def copy_name(model: PackagedModel, weights: str) -> str:
    """The file name of `model`'s copy in `weights`, e.g. qwen2.5-coder-0.5b-instruct-q4_k_m.f16.gguf."""
    return f"{model.filename.removesuffix('.gguf')}.{weights}.gguf"


def resolve(model: PackagedModel, weights: str) -> str:
    """The format `weights` means for `model`: "auto" is the model's measured choice, any other value itself."""
    return model.auto_weights if weights == "auto" else weights


def weights_file(model: PackagedModel, packaged: Path, weights: str,
                 say: Callable[[str], None] = lambda _: None) -> Path:
    """The file to load for `model` in `weights` ("auto": the model's measured choice): its copy, made on first use,
    or the packaged file itself for "packaged" and when a copy cannot be written (with a message saying why)."""
    weights = resolve(model, weights)
    if weights == "packaged":
        return packaged
    measured = model.copy_sha256(weights)
    target = packaged.with_name(copy_name(model, weights))
    if target.exists():
        if recorded_sha256(target) is not None:
            return target
        if measured and file_sha256(target) == measured:  # a lost record (2 s to hash) need not cost a conversion
            record_sha256(target, measured)
            return target
    say(f"writing {target.name}: {model.name}'s weights as {weights.upper()} for faster prompt reading (once)")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        convert(packaged, tmp, FORMATS[weights], model.kept_types)
        made = file_sha256(tmp)
        os.replace(tmp, target)
    except (OSError, ModelError) as exc:
        say(f"cannot write {target} ({exc}): using the packaged weights")
        return packaged
    finally:
        tmp.unlink(missing_ok=True)
    if measured and made != measured:  # still the packaged weights, re-encoded by this machine's llama.cpp: usable
        say(f"{target.name} has sha256 {made}, not the {measured} measured for the README (another llama.cpp "
            "build): answers may differ slightly from its figures")
    record_sha256(target, made)
    return target


def convert(source: Path, target: Path, ftype: str, kept_types: tuple[int, int] | None) -> None:
    """`source` re-encoded by llama.cpp with its weight matrices as `ftype`, its output and token-embedding tensors
    in `kept_types` (ggml type numbers: their packaged types; None: as llama.cpp chooses for `ftype`), written to
    `target` and synced."""
    import llama_cpp

    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = getattr(llama_cpp, f"LLAMA_FTYPE_MOSTLY_{ftype}")
    params.allow_requantize = True  # the source is already quantised
    if kept_types is not None:
        params.output_tensor_type, params.token_embedding_type = kept_types
    params.nthread = os.cpu_count() or 2
    # the quantiser logs every tensor to stderr; llama-cpp-python's own guard (what Llama(verbose=False) uses) hides it
    from llama_cpp._utils import suppress_stdout_stderr

    with suppress_stdout_stderr(disable=False):
        failed = llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), ctypes.byref(params))
    if failed:
        raise ModelError(f"llama.cpp could not convert {source.name} to {ftype}")
    with target.open("rb") as f:
        os.fsync(f.fileno())
