"""Re-encoded copies of packaged GGUFs (rag.backends.weights): made once, recorded, never half-written.

The conversion itself is llama.cpp's (tests/model/test_weights_copy.py runs it on the real 0.5B); here it is
replaced by a function that writes known bytes, so the bookkeeping around it is what is tested."""

import hashlib

import pytest

from rag.backends import weights
from rag.backends.gguf import PACKAGED_MODELS, PackagedModel
from rag.config import load_settings
from rag.errors import InputError, ModelError

COPY = b"GGUF re-encoded"


@pytest.fixture
def packaged(tmp_path):
    path = tmp_path / "models" / "fake.gguf"
    path.parent.mkdir()
    path.write_bytes(b"GGUF packaged")
    return path


@pytest.fixture
def model():
    return PackagedModel("fake", "fake.gguf", "fakepart", "fake-part", 1, "1.0", "0" * 64, 13,
                         (("f16", hashlib.sha256(COPY).hexdigest()),), (8, 6))


@pytest.fixture
def conversions(monkeypatch):
    """Each conversion asked for, as (source name, ftype); it writes COPY."""
    calls = []

    def convert(source, target, ftype, kept_types):
        calls.append((source.name, ftype, kept_types))
        target.write_bytes(COPY)

    monkeypatch.setattr(weights, "convert", convert)
    return calls


def test_the_copy_is_made_once_then_reused(packaged, model, conversions):
    said = []
    path = weights.weights_file(model, packaged, "f16", said.append)
    assert path == packaged.with_name("fake.f16.gguf") and path.read_bytes() == COPY
    assert conversions == [("fake.gguf", "F16", (8, 6))]
    assert said == ["writing fake.f16.gguf: fake's weights as F16 for faster prompt reading (once)"]
    assert weights.weights_file(model, packaged, "f16", said.append) == path
    assert len(conversions) == 1 and len(said) == 1
    assert sorted(p.name for p in packaged.parent.iterdir()) == ["fake.f16.gguf", "fake.f16.gguf.verified.json",
                                                                 "fake.gguf"]


def test_packaged_means_the_shipped_file(packaged, model, conversions):
    assert weights.weights_file(model, packaged, "packaged") == packaged
    assert conversions == []


def test_auto_is_the_models_measured_choice(packaged, model, conversions):
    assert weights.weights_file(model, packaged, "auto") == packaged  # the fake's auto_weights: "packaged"
    fast = PackagedModel(**{**model.__dict__, "auto_weights": "f16"})
    assert weights.weights_file(fast, packaged, "auto") == packaged.with_name("fake.f16.gguf")
    assert conversions == [("fake.gguf", "F16", (8, 6))]


def test_a_format_with_no_measured_hash_is_made_without_a_warning(packaged, model, conversions):
    said = []
    assert weights.weights_file(model, packaged, "q8_0", said.append) == packaged.with_name("fake.q8_0.gguf")
    assert said == ["writing fake.q8_0.gguf: fake's weights as Q8_0 for faster prompt reading (once)"]


def test_a_copy_with_another_hash_is_used_and_said(packaged, model, monkeypatch):
    monkeypatch.setattr(weights, "convert", lambda source, target, ftype, kept: target.write_bytes(b"GGUF other bytes"))
    said = []
    path = weights.weights_file(model, packaged, "f16", said.append)
    assert path == packaged.with_name("fake.f16.gguf") and path.read_bytes() == b"GGUF other bytes"
    made = hashlib.sha256(b"GGUF other bytes").hexdigest()
    assert said[-1] == (f"fake.f16.gguf has sha256 {made}, not the {model.copy_sha256('f16')} measured for the "
                        "README (another llama.cpp build): answers may differ slightly from its figures")
    assert weights.weights_file(model, packaged, "f16", said.append) == path and len(said) == 2  # recorded: quiet


def test_a_copy_whose_record_is_lost_is_hashed_not_made_again(packaged, model, conversions):
    path = weights.weights_file(model, packaged, "f16")
    path.with_name(path.name + ".verified.json").unlink()
    assert weights.weights_file(model, packaged, "f16") == path and len(conversions) == 1
    assert path.with_name(path.name + ".verified.json").exists()


def test_a_damaged_copy_is_made_again(packaged, model, conversions):
    path = weights.weights_file(model, packaged, "f16")
    path.write_bytes(b"GGUF damaged on disk")  # new size and mtime: the record no longer vouches for it
    assert weights.weights_file(model, packaged, "f16") == path and path.read_bytes() == COPY
    assert len(conversions) == 2


def test_a_failed_conversion_leaves_nothing_and_falls_back(packaged, model, monkeypatch):
    def fail(source, target, ftype, kept_types):
        target.write_bytes(b"GGUF half")
        raise ModelError("llama.cpp could not convert fake.gguf to F16")

    monkeypatch.setattr(weights, "convert", fail)
    said = []
    assert weights.weights_file(model, packaged, "f16", said.append) == packaged
    assert said[-1] == (f"cannot write {packaged.with_name('fake.f16.gguf')} (llama.cpp could not convert fake.gguf "
                        "to F16): using the packaged weights")
    assert sorted(p.name for p in packaged.parent.iterdir()) == ["fake.gguf"]


def test_a_folder_that_refuses_the_copy_falls_back(packaged, model, conversions, monkeypatch):
    def refuse(src, dst):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(weights.os, "replace", refuse)  # as a read-only models folder refuses the rename
    said = []
    assert weights.weights_file(model, packaged, "f16", said.append) == packaged
    assert said[-1] == (f"cannot write {packaged.with_name('fake.f16.gguf')} ([Errno 13] Permission denied): "
                        "using the packaged weights")
    assert sorted(p.name for p in packaged.parent.iterdir()) == ["fake.gguf"]


def test_auto_gives_the_05b_its_f16_copy_and_the_15b_its_packaged_file():
    assert load_settings().weights == "auto"
    small, large = PACKAGED_MODELS["qwen2.5-coder-0.5b"], PACKAGED_MODELS["qwen2.5-coder-1.5b"]
    assert (small.auto_weights, large.auto_weights) == ("f16", "packaged")
    assert small.copy_sha256("f16") == "542c64ae94630583746ecb4a8b56e30e37f50432956a12acfd3fe62693c583b6"
    assert small.copy_sha256("q8_0") == "7bc466fa17312f3a043a7973624a3a68f2e70f1094e36566b356baee389f24a7"
    assert small.copy_sha256("bf16") is None and (small.kept_types, large.kept_types) == ((8, 6), (14, 12))


def test_an_unknown_weights_setting_is_refused(monkeypatch):
    monkeypatch.setenv("RAG_WEIGHTS", "int4")
    with pytest.raises(InputError, match=r"bad setting \(weights: Input should be 'auto', 'f16', 'q8_0' or 'packaged'\)"):
        load_settings()
