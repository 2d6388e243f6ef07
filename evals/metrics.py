"""Scoring one prediction against one gold question (SQuAD-style normalisation)."""

from __future__ import annotations

import re
import string
from collections import Counter

from rag.citations import strip_markers

_PUNCT = re.compile(f"[{re.escape(string.punctuation)}’‘“”–—…]")


def normalise(text: str) -> str:
    """Lower-case, join thousands separators, punctuation to spaces, drop a/an/the, fold spaces."""
    text = strip_markers(text).lower()
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = _PUNCT.sub(" ", text)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def alias_in(answer: str, aliases: tuple[str, ...]) -> bool:
    """Whether any normalised alias occurs in the normalised answer, on word boundaries."""
    haystack = f" {normalise(answer)} "
    return any(f" {normalise(a)} " in haystack for a in aliases if normalise(a))


def exact_match(answer: str, aliases: tuple[str, ...]) -> float:
    """1.0 when the normalised answer equals a normalised alias."""
    return float(any(normalise(answer) == normalise(a) for a in aliases))


def overlap_f1(predicted: list[str], gold: list[str]) -> float:
    """Token-overlap F1 of two already-normalised token lists (0.0 when they share none)."""
    common = sum((Counter(predicted) & Counter(gold)).values())
    if not common:
        return 0.0
    precision, recall = common / len(predicted), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def token_f1(answer: str, aliases: tuple[str, ...]) -> float:
    """Best token-overlap F1 over the aliases."""
    pred = normalise(answer).split()
    return max((overlap_f1(pred, normalise(alias).split()) for alias in aliases), default=0.0)
