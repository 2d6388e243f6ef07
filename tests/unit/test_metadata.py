from pathlib import Path

import pytest

from rag.index.metadata import extract_date, extract_title

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def seed(prefix: str) -> str:
    return next(SEEDS.glob(f"{prefix}_*.txt")).read_text(encoding="utf-8")


@pytest.mark.parametrize(("prefix", "title"), [
    ("000", "Elon Musk visits Beijing to discuss Tesla’s Full Self-Driving software and data transfer…"),
    ("001", "Tesla Inc CEO Elon Musk arrived in Beijing yesterday on an unannounced visit, where he…"),
    ("002", "Tesla CEO Elon Musk, left, met with Chinese Premier Li Qiang in Beijing on Sunday, April…"),
    ("003", "Shanghai has reportedly compiled a list of data that can be transferred overseas by…"),
    ("004", "China's Minister of Industry and Information Technology (MIIT) Jin Zhuanglong met with…"),
])
def test_seed_titles(prefix, title):
    assert extract_title(seed(prefix)) == title


def test_a_short_first_line_is_the_headline():
    assert extract_title("Tesla wins approval in China\n\nBody text here.") == "Tesla wins approval in China"


def test_seed_dates():
    assert [extract_date(seed(p)) for p in ("000", "001", "002", "003", "004")] == [None, None, "2024-04-28", None, None]


@pytest.mark.parametrize(("text", "iso"), [
    ("Published 2023-05-31 in Beijing.", "2023-05-31"),
    ("On 31 May 2023 Musk met Qin Gang.", "2023-05-31"),
    ("Sept. is not a month we parse, but March 3, 2022 is.", "2022-03-03"),
    ("No date here, only the year 2024.", None),
    ("February 30, 2024 is not a date but 1 March 2024 is.", "2024-03-01"),
])
def test_dates(text, iso):
    assert extract_date(text) == iso
