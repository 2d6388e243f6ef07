from pathlib import Path

import pytest

from rag.embedders import INT8_FROM_BYTES, cpu_has_vnni, open_embedder, resolve
from rag.errors import IndexCorruptError
from rag.index.sources import text_bytes

CPUINFO = "processor\t: 0\nflags\t\t: fpu sse2 avx2 {extra}\nbugs\t\t: spectre_v1\n"


@pytest.mark.parametrize(("extra", "has"), [("avx512f avx512_vnni", True), ("avx_vnni", True), ("avx512f", False), ("", False)])
def test_vnni_is_read_from_the_cpu_flags(tmp_path, extra, has):
    (tmp_path / "cpuinfo").write_text(CPUINFO.format(extra=extra))
    assert cpu_has_vnni(tmp_path / "cpuinfo") is has


def test_no_cpuinfo_means_no_vnni(tmp_path):
    assert cpu_has_vnni(tmp_path / "missing") is False


def test_auto_takes_int8_only_for_large_corpora_with_vnni():
    big, small = INT8_FROM_BYTES, INT8_FROM_BYTES - 1
    assert resolve("auto", big, lambda: True) == "sentence-transformers/all-MiniLM-L6-v2@onnx-qint8"
    assert resolve("auto", small, lambda: True) == "sentence-transformers/all-MiniLM-L6-v2"
    assert resolve("auto", big, lambda: False) == "sentence-transformers/all-MiniLM-L6-v2"
    assert resolve("minilm-int8", 0, lambda: False) == "sentence-transformers/all-MiniLM-L6-v2@onnx-qint8"
    assert resolve("minilm", big, lambda: True) == "sentence-transformers/all-MiniLM-L6-v2"


def test_corpus_size_counts_article_files_only(tmp_path):
    (tmp_path / "news" / "deep").mkdir(parents=True)
    (tmp_path / "news" / "a.txt").write_bytes(b"x" * 100)
    (tmp_path / "news" / "deep" / "b.MD").write_bytes(b"x" * 50)
    (tmp_path / "news" / "c.docx").write_bytes(b"x" * 1000)
    (tmp_path / "news" / "gone.txt").symlink_to(tmp_path / "missing.txt")
    (tmp_path / "one.md").write_bytes(b"x" * 7)
    assert text_bytes([tmp_path / "news", tmp_path / "one.md", tmp_path / "nowhere"]) == 157


def test_an_unknown_embedder_in_an_index_names_the_repair():
    with pytest.raises(IndexCorruptError) as exc:
        open_embedder("BAAI/bge-small-en-v1.5", Path("var/models"))
    assert str(exc.value) == ("index was built with BAAI/bge-small-en-v1.5, which this rag cannot load: "
                              "rebuild it with `rag index --rebuild`")
