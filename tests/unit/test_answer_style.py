"""Answer style: which prompt and draft length each model gets, and how a bad style is refused."""

import pytest

from rag.config import load_settings
from rag.errors import InputError
from rag.prompting import MAX_TOKENS, SYSTEM, SYSTEM_SENTENCES, build_messages, resolve_quote, resolve_style


@pytest.mark.parametrize(("style", "model", "expected"), [
    ("auto", "local", "short"),
    ("auto", "local:qwen2.5-coder-0.5b", "short"),
    ("auto", "local:qwen2.5-coder-1.5b", "sentences"),
    ("auto", "openai:gpt-4o-mini", "sentences"),
    ("auto", "anthropic:claude-haiku-4-5", "sentences"),
    ("sentences", "local", "sentences"),
    ("short", "openai:qwen", "short"),
])
def test_auto_picks_the_measured_style_per_model_and_a_chosen_style_wins(style, model, expected):
    assert resolve_style(style, model) == expected
    assert (MAX_TOKENS["short"], MAX_TOKENS["sentences"]) == (96, 256)


def test_the_sentences_prompt_asks_for_a_marker_per_sentence_and_our_abstention():
    system = build_messages("Q?", [], "sentences")[0]["content"]
    assert system == SYSTEM_SENTENCES and "like [2]" in system and "reply exactly: Not in the documents." in system
    assert build_messages("Q?", [])[0]["content"] == SYSTEM


def test_asked_for_sentences_the_model_sees_passages_headed_by_the_marker_it_is_to_write():
    from rag.types import Chunk, Passage

    shown = [Passage(Chunk("a:0", "a", 0, "Musk met Li Qiang.", 0, 18, "Musk in Beijing", "2024-04-28"), 0.7, 1),
             Passage(Chunk("b:0", "b", 0, "Baidu will map.", 0, 15, "Baidu deal"), 0.6, 2)]
    assert build_messages("Who?", shown, "sentences")[1]["content"] == (
        "[1] (Musk in Beijing, 2024-04-28):\nMusk met Li Qiang.\n\n[2] (Baidu deal):\nBaidu will map.\n\nQuestion: Who?")
    assert build_messages("Who?", shown)[1]["content"].startswith("Passage 1 (Musk in Beijing, 2024-04-28):\n")
    assert "never just a passage number" in SYSTEM_SENTENCES


def test_a_bad_style_is_a_setting_error_naming_it(monkeypatch):
    monkeypatch.setenv("RAG_ANSWER_STYLE", "essay")
    with pytest.raises(InputError, match=r"^bad setting \(answer_style: Input should be 'auto', 'short' or 'sentences'\)$"):
        load_settings()
    monkeypatch.setenv("RAG_ANSWER_STYLE", "sentences")
    assert (load_settings().answer_style, load_settings().max_tokens) == ("sentences", None)


@pytest.mark.parametrize(("quote", "model", "expected"), [
    (None, "local", True),
    (None, "local:qwen2.5-coder-1.5b", True),
    (None, "openai:gpt-4o-mini", False),
    (None, "anthropic:claude-haiku-4-5", False),
    (False, "local", False),
    (True, "openai:qwen", True),
])
def test_quoting_defaults_to_local_models_and_a_chosen_value_wins(quote, model, expected):
    assert resolve_quote(quote, model) is expected


def test_quote_is_a_setting_from_the_environment(monkeypatch):
    monkeypatch.setenv("RAG_QUOTE", "false")
    assert load_settings().quote is False
    monkeypatch.setenv("RAG_QUOTE", "perhaps")
    with pytest.raises(InputError, match=r"^bad setting \(quote: Input should be a valid boolean"):
        load_settings()


@pytest.mark.parametrize(("flags", "expected"), [([], None), (["--quote"], True), (["--no-quote"], False)])
def test_the_quote_flag_reaches_the_settings_and_unset_leaves_the_per_model_default(flags, expected, monkeypatch):
    from rag.cli import build_parser

    monkeypatch.delenv("RAG_QUOTE", raising=False)
    for command in (["ask", "Who is the chairman of CATL?"], ["eval"], ["serve"]):
        args = build_parser().parse_args([*command, *flags])
        assert args.quote is expected
        assert load_settings({"quote": args.quote}).quote is expected
