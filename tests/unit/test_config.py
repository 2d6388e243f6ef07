from pathlib import Path

import pytest

from rag.config import load_settings
from rag.errors import InputError


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for key in ("RAG_INDEX", "RAG_MODEL", "RAG_TOP_K", "RAG_CONFIG"):
        monkeypatch.delenv(key, raising=False)


def test_defaults():
    s = load_settings()
    assert (s.index, s.model, s.top_k) == (Path("var/index/default"), "local", 4)


def test_file_then_environment_then_flags(tmp_path, monkeypatch):
    (tmp_path / "rag.toml").write_text('[rag]\ntop_k = 6\nmodel = "local:qwen2.5-coder-1.5b"\nindex = "from-file"\n')
    assert load_settings().top_k == 6
    monkeypatch.setenv("RAG_TOP_K", "3")
    monkeypatch.setenv("RAG_INDEX", "from-env")
    s = load_settings({"index": "from-flag", "top_k": None})
    assert (s.top_k, s.index, s.model) == (3, Path("from-flag"), "local:qwen2.5-coder-1.5b")


def test_bad_values_name_the_setting(monkeypatch):
    monkeypatch.setenv("RAG_TOP_K", "zero")
    with pytest.raises(InputError, match=r"^bad setting \(top_k: Input should be a valid integer"):
        load_settings()


def test_unknown_keys_and_bad_toml_are_refused(tmp_path):
    (tmp_path / "rag.toml").write_text("[rag]\ntopk = 3\n")
    with pytest.raises(InputError, match=r"^bad setting \(topk: Extra inputs are not permitted\)$"):
        load_settings()
    (tmp_path / "rag.toml").write_text("[rag\n")
    with pytest.raises(InputError, match=r"rag.toml is not valid TOML"):
        load_settings()


def test_the_example_file_loads_and_documents_every_setting(monkeypatch):
    import re

    from rag.config import Settings

    example = Path(__file__).resolve().parents[2] / "rag.toml.example"
    monkeypatch.setenv("RAG_CONFIG", str(example))
    assert load_settings({}) == Settings()  # its values are the defaults
    keys = set(re.findall(r"^#? ?(\w+) = ", example.read_text(encoding="utf-8"), flags=re.MULTILINE))
    assert keys == set(Settings.model_fields)
