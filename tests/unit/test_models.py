import hashlib
import sys

import pytest

from rag.backends.gguf import PACKAGED_MODELS, PackagedModel, assemble, check_gguf
from rag.backends.registry import BackendOptions, open_backend
from rag.errors import InputError, ModelError


@pytest.fixture
def fake_parts(tmp_path, monkeypatch):
    """Three importable-looking part packages on sys.path, holding data/partNN.bin."""
    blobs = [b"GGUF" + b"a" * 10, b"b" * 7, b"c" * 3]
    for i, blob in enumerate(blobs, start=1):
        (tmp_path / "site" / f"fakepart{i}" / "data").mkdir(parents=True)
        (tmp_path / "site" / f"fakepart{i}" / "__init__.py").write_text("raise RuntimeError('part code must not run')")
        (tmp_path / "site" / f"fakepart{i}" / "data" / f"part{i:02d}.bin").write_bytes(blob)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    joined = b"".join(blobs)
    return PackagedModel("fake", "fake.gguf", "fakepart", "fake-part", 3, "1.0", hashlib.sha256(joined).hexdigest(), len(joined))


def test_parts_are_joined_once_and_verified_without_running_their_code(tmp_path, fake_parts):
    said = []
    path = assemble(fake_parts, tmp_path / "models", said.append)
    assert path.read_bytes() == b"GGUF" + b"a" * 10 + b"b" * 7 + b"c" * 3
    assert said == ["assembling fake.gguf from 3 packaged parts (once)"]
    assert "fakepart1" not in sys.modules
    assert assemble(fake_parts, tmp_path / "models", said.append) == path and len(said) == 1


def test_a_hash_mismatch_is_refused_and_leaves_no_file(tmp_path, fake_parts):
    bad = PackagedModel(**{**fake_parts.__dict__, "sha256": "0" * 64})
    with pytest.raises(ModelError, match=r"^assembled fake has sha256 [0-9a-f]{64}, expected 0{64}; reinstall its parts: "
                                         r"pip install fake-part1==1.0 fake-part2==1.0 fake-part3==1.0 --force-reinstall$"):
        assemble(bad, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []


def test_a_corrupted_assembled_file_is_detected(tmp_path, fake_parts):
    path = assemble(fake_parts, tmp_path / "models")
    path.write_bytes(b"GGUF" + b"x" * 16)
    with pytest.raises(ModelError, match="is corrupt \\(size or sha256 mismatch\\): delete it and run again to reassemble it"):
        assemble(fake_parts, tmp_path / "models")


def test_a_missing_part_names_the_install_command(tmp_path, fake_parts):
    missing = PackagedModel(**{**fake_parts.__dict__, "parts": 4})
    with pytest.raises(ModelError, match=r"part 4 of 4 is not installed; run: pip install fake-part1==1.0 .* fake-part4==1.0$"):
        assemble(missing, tmp_path / "models")


def test_user_gguf_files_are_checked(tmp_path):
    with pytest.raises(ModelError, match="model file not found: "):
        check_gguf(tmp_path / "none.gguf")
    (tmp_path / "x.gguf").write_bytes(b"not a model")
    with pytest.raises(ModelError, match="is not a GGUF model file"):
        check_gguf(tmp_path / "x.gguf")


def test_unknown_specs_list_the_known_ones(tmp_path):
    with pytest.raises(InputError) as err:
        open_backend("gpt-9", BackendOptions(models_dir=tmp_path))
    assert str(err.value) == ("unknown model 'gpt-9': known models are local, local:qwen2.5-coder-0.5b, "
                              "local:qwen2.5-coder-1.5b, local:PATH.gguf, openai:MODEL, anthropic:MODEL")
    with pytest.raises(InputError, match=r"unknown local model 'tiny': use one of local:qwen2\.5-coder-0\.5b"):
        open_backend("local:tiny", BackendOptions(models_dir=tmp_path))


def test_the_packaged_hashes_are_the_official_ones():
    assert PACKAGED_MODELS["qwen2.5-coder-0.5b"].sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
    assert PACKAGED_MODELS["qwen2.5-coder-0.5b"].size == 491_400_064


def test_a_verified_file_is_trusted_by_size_and_mtime_and_a_changed_one_is_hashed_again(tmp_path, fake_parts, monkeypatch):
    import os

    import rag.backends.gguf

    path = assemble(fake_parts, tmp_path / "models")
    assert (tmp_path / "models" / "fake.gguf.verified.json").is_file()
    hashed = []
    monkeypatch.setattr(rag.backends.gguf, "file_sha256", lambda p: hashed.append(p) or fake_parts.sha256)
    assert assemble(fake_parts, tmp_path / "models") == path and hashed == []
    stat = path.stat()
    path.write_bytes(b"GGUF" + b"x" * (fake_parts.size - 4))  # same size, new bytes, new mtime
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    monkeypatch.setattr(rag.backends.gguf, "file_sha256", lambda p: hashed.append(p) or "0" * 64)
    with pytest.raises(ModelError, match="is corrupt"):
        assemble(fake_parts, tmp_path / "models")
    assert hashed == [path]


def test_a_damaged_record_means_hashing_again_not_an_error(tmp_path, fake_parts):
    path = assemble(fake_parts, tmp_path / "models")
    (tmp_path / "models" / "fake.gguf.verified.json").write_text("{not json")
    assert assemble(fake_parts, tmp_path / "models") == path
    assert '"sha256"' in (tmp_path / "models" / "fake.gguf.verified.json").read_text()
