from rag.backends.tokens import count_prompt_tokens


def test_cl100k_counts_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "cache"))
    from rag.backends.tokens import cl100k

    cl100k.cache_clear()
    assert count_prompt_tokens("hello world") == 2
    assert count_prompt_tokens("Tesla's Shanghai gigafactory") == len(cl100k().encode("Tesla's Shanghai gigafactory"))
    assert any((tmp_path / "cache").iterdir())
