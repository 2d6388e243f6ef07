"""The default support judge: a claim against the sentences of its passages.

A claim is supported by a sentence when
- its names and its numbers written in digits occur in that sentence, the one before it (a pronoun's
  name may be a sentence away) or the title; a person's full name may stand earlier in the passage when the
  sentence has their surname ("Prime Minister Sanae Takaichi" for "… Takaichi said"); a number's unit
  ("1.7 million cars") stands beside it (cars sold are not employees), and a number word does not contradict
  the sentence's own count;
- its quoted words occur in the sentence, and a statement it attributes is attributed to the same
  speaker there (`rag.checks.claims.speakers`);
- it does not deny what the sentence states, or state what a negation there governs;
- and its support score is high enough: the share of its content words the sentence holds, blended
  with MiniLM's cosine between claim and sentence (paraphrase shares few words), less a penalty for
  each two adjacent words the passage lacks (an added detail).
A claim that joins two facts is supported when each clause is, each by a sentence of its own.

A short extracted answer ("Baidu") says nothing alone: it is judged as the question and the answer
together, and the answer's own words must all be in the sentences. That keeps the checks that made
the 0.5B honest: its words in the passage, the question's names in the passage (false premises).
Thresholds were set on `evals/claims-dev.jsonl`; `scripts/bench_judges.py` reports them.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.checks.citations import strip_markers
from rag.checks.claims.sources import Source
from rag.checks.claims.speakers import misattributed
from rag.checks.grounding import _STOPWORDS, _TOKEN, _WH, meets_by_prefix, name_prefixes, normalise_token
from rag.checks.quarantine import model_view
from rag.config import DEFAULTS
from rag.embedders.minilm import Embedder

_MAGNITUDE = frozenset("million millions billion billions trillion thousand thousands hundred percent per cent".split())
_NEGATION = frozenset("not no never none nor n't cannot without neither".split())
# what a source says instead of "not": "declined to comment" is "would not comment"
_NEGATIVE = _NEGATION | frozenset("declined refused failed yet absence absent lack lacks denied barred scrapped".split())
_QUOTE = re.compile(r"[\"“”]([^\"“”]{3,}?)[\"“”]")
_CLAUSE_BREAK = re.compile(r",?\s+(?:and|while|but|whereas)\s+|;\s+|,\s+(?:who|which|where)\s+")
# a run of capitalised words: a name as a claim writes it in full ("Japan's Prime Minister Sanae Takaichi")
_NAME_RUN = re.compile(r"[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)+")
_DETAIL_PENALTY = 0.1
FRAGMENT_WORDS = 5  # an answer this short is an extraction, judged together with its question
# "How many visitors attended …", "How many of Tesla's China-based employees are …": what the question counts is
# named between "how many" and its verb; an extracted number must count the same thing where it stands
_COUNTED = re.compile(r"\bhow many\s+(.+?)(?:\s+(?:are|were|is|was|did|do|does|has|have|had|will|would|can|could)\b|[?.]|$)",
                      re.IGNORECASE)


def stem(term: str) -> str:
    """Plural and first five letters: "factories"/"factory", "days"/"day", "meets"/"meeting" meet."""
    if _is_number(term):
        return term
    if len(term) > 4:
        term = re.sub(r"(?:ies|es|s)$", "", term)
    return term[:5]


@dataclass(frozen=True)
class Judgement:
    """Whether the sources support a claim, the sentences that do, the score and, if not, why."""

    supported: bool
    score: float
    support: tuple[Source, ...]
    reason: str = ""


@dataclass(frozen=True)
class _Terms:
    """What a claim asserts, by kind of word."""

    numbers: frozenset[str]
    names: frozenset[str]
    words: frozenset[str]  # other content words
    required: frozenset[str]  # words that must stand in the supporting sentences themselves
    units: tuple[tuple[str, str], ...]  # (number, the noun it counts)
    quotes: tuple[tuple[str, ...], ...]
    negated: bool | None  # None: polarity is not checked
    fragment: bool = False  # a short answer judged with its question: the question's names are checked per answer
    runs: tuple[tuple[str, ...], ...] = ()  # runs of two or more adjacent content words ("private jet")
    counted: tuple[tuple[str, str], ...] = ()  # number words and what they count: ("3", "days")
    asked_units: frozenset[str] = frozenset()  # stems of what a "how many" question counts (fragments only)


def _is_number(token: str) -> bool:
    return any(c.isdigit() for c in token)


def _opens_name(raws: list[str]) -> bool:
    """Whether a text's capitalised first word is followed by another ("Elon Musk", "Tesla CEO"): any first word is
    capitalised, but one before a name is part of it. Counted as a plain word, "Elon" would stand in the passage and
    make up half the coverage of "Elon Musk will replace Li Qiang at Tesla", whose only claim is "replace"."""
    return len(raws) > 1 and raws[1][:1].isupper()


def _terms(text: str, new: str | None = None) -> _Terms:
    """Analyse `text`; `new` (for a fragment: the answer) names the words that must be in the sentences."""
    raws = _TOKEN.findall(strip_markers(text))
    tokens = [normalise_token(r) for r in raws]
    numbers, names, words = set(), set(), set()
    units, counted = [], []
    for i, (raw, token) in enumerate(zip(raws, tokens, strict=True)):
        following = [t for t in tokens[i + 1 : i + 3] if t not in _MAGNITUDE]
        counts = bool(following) and following[0] not in _STOPWORDS and len(following[0]) >= 3
        if _is_number(raw):
            numbers.add(token)
            if counts and not _is_number(following[0]):
                units.append((token, following[0]))
        elif _is_number(token):
            # a number word is checked only against the passage's own count of the same thing ("three days" where
            # it says "two-day"): "the two countries", "number-two market" are no quantities to find
            if counts:
                counted.append((token, following[0]))
        elif raw[0].isupper() and token not in _WH and token not in _STOPWORDS and (i > 0 or raw.isupper() or
                                                                                  _opens_name(raws)):
            names.add(token)
        elif len(token) >= 3 and token not in _STOPWORDS:
            words.add(token)
    answer = _terms(new) if new is not None else None
    required = answer.numbers | answer.names | answer.words if answer else frozenset()
    quotes = tuple(tuple(normalise_token(t) for t in _TOKEN.findall(q)) for q in _QUOTE.findall(text)
                   if len(_TOKEN.findall(q)) >= 3)
    negated = any(_is_negation(t) for t in tokens)
    runs, run = [], []
    for token in [*tokens, ""]:
        if len(token) >= 3 and token not in _STOPWORDS and not _is_number(token):
            run.append(token)
            continue
        if len(run) >= 2:
            runs.append(tuple(run))
        run = []
    return _Terms(frozenset(numbers), frozenset(names), frozenset(words), required, tuple(units), quotes, negated,
                  runs=tuple(runs), counted=tuple(counted))


@dataclass(frozen=True)
class _Words:
    """The words of some text, exact and stemmed, for membership tests."""

    exact: frozenset[str]
    stems: frozenset[str]
    prefixes: frozenset[str]  # `name_prefixes` of the words: a name's "China" meets "Chinese"

    @classmethod
    def of(cls, text: str) -> _Words:
        words = frozenset(normalise_token(t) for t in _TOKEN.findall(text))
        return cls(words, frozenset(stem(w) for w in words), name_prefixes(words))

    def has(self, term: str) -> bool:
        return term in self.exact or (not _is_number(term) and stem(term) in self.stems)

    def has_name(self, term: str) -> bool:
        return self.has(term) or meets_by_prefix(term, self.prefixes)

    def __or__(self, other: _Words) -> _Words:
        return _Words(self.exact | other.exact, self.stems | other.stems, self.prefixes | other.prefixes)


@functools.lru_cache(maxsize=8192)
def _words(text: str) -> _Words:
    return _Words.of(text)


def asked_units(question: str) -> frozenset[str]:
    """Stems of the words a "how many" question counts ("visitors", "employees"), empty for other questions."""
    match = _COUNTED.search(question)
    if not match:
        return frozenset()
    words = (normalise_token(r) for r in _TOKEN.findall(match.group(1)))
    return frozenset(stem(w) for w in words if len(w) >= 3 and w not in _STOPWORDS and not _is_number(w))


def _counts(text: str, number: str, units: frozenset[str]) -> bool:
    """Whether `number` stands in `text` followed, within two words (magnitudes aside), by one of `units`."""
    tokens = [normalise_token(r) for r in _TOKEN.findall(text)]
    for i, token in enumerate(tokens):
        if token == number:
            following = [t for t in tokens[i + 1 : i + 4] if t not in _MAGNITUDE][:2]
            if any(stem(t) in units for t in following if t not in _STOPWORDS):
                return True
    return False


def _is_negation(token: str, words: frozenset[str] = _NEGATION) -> bool:
    return token in words or token.endswith("n't")


def _negated(text: str, words: frozenset[str] = _NEGATION) -> bool:
    return any(_is_negation(normalise_token(r), words) for r in _TOKEN.findall(text))


def _denies(sentence: str, words: frozenset[str]) -> bool:
    """Whether a negation in `sentence` governs one of `words` (one of the six words after it)."""
    tokens = [normalise_token(r) for r in _TOKEN.findall(sentence)]
    stems = {stem(w) for w in words}
    return any(_is_negation(t) and any(stem(n) in stems for n in tokens[i + 1 : i + 7])
               for i, t in enumerate(tokens))


def _introduced_earlier(name: str, claim: str, unit: tuple[Source, ...]) -> bool:
    """Whether `name` is part of a full name in the claim ("Prime Minister Sanae Takaichi") whose last word a
    supporting sentence holds ("… Takaichi said") and which stands whole earlier in that sentence's passage: news
    introduces a person once, then writes the surname. A full name whose surname the sentence lacks gains nothing."""
    for run in _NAME_RUN.finditer(claim):
        words = [normalise_token(w) for w in _TOKEN.findall(run.group(0))]
        if name not in words[:-1]:
            continue
        for source in unit:
            if _words(source.text).has(words[-1]):
                before = _words(source.passage.chunk.text[: source.end])
                if all(before.has_name(w) for w in words):
                    return True
    return False


class AlignmentJudge:
    """Sentence alignment with exact names and numbers, content-word coverage and (with an embedder) MiniLM cosine."""

    name = "alignment"

    def __init__(self, embedder: Embedder | None = None, min_score: float = DEFAULTS.min_support,
                 coverage_weight: float = 0.5):
        self.embedder = embedder
        self.min_score = min_score
        self.coverage_weight = coverage_weight if embedder is not None else 1.0
        self._vectors: dict[str, np.ndarray] = {}

    def judge(self, claim: str, question: str, sources: Sequence[Source]) -> Judgement:
        """Judge `claim` (an answer's statement, markers removed) against `sources`."""
        if not sources:
            return Judgement(False, 0.0, (), "no passage to check it against")
        fragment = len(_TOKEN.findall(claim)) <= FRAGMENT_WORDS
        text = f"{question} {claim}" if fragment else claim
        terms = _terms(text, new=claim if fragment else None)
        if fragment:  # the question's own "not" is no claim, and an extracted name denies nothing
            terms = dataclasses.replace(terms, negated=None, fragment=True, asked_units=asked_units(question))
        self._embed([text, *(s.text for s in sources)])
        singles = [self._unit(terms, text, claim, (s,)) for s in sources]
        best = max(singles, key=lambda j: (j.supported, j.score))
        if best.supported or fragment:
            return best
        # a claim that joins two facts ("Musk met Li, who praised Tesla") is supported when each clause is,
        # by a sentence of its own; two sentences are never pooled for one clause (that is how stitching passes)
        clauses = [c for c in _CLAUSE_BREAK.split(claim) if len(_TOKEN.findall(c)) >= 3]
        if len(clauses) < 2:
            return best
        parts = [self.judge(c, question, sources) for c in clauses]
        if not all(p.supported for p in parts):
            return best
        support = tuple(dict.fromkeys(s for p in parts for s in p.support))
        return Judgement(True, min(p.score for p in parts), support)

    def _unit(self, terms: _Terms, text: str, claim: str, unit: tuple[Source, ...]) -> Judgement:
        said = _words(" ".join(s.text for s in unit))
        context = said
        for s in unit:  # a name may stand a sentence earlier ("He said …") or in the title
            context = context | _words(f"{s.passage.chunk.title} {s.previous}")
        # names and numbers are checked exactly (below); coverage weighs what is said of them. A fragment's question
        # names are checked per answer, on the passage: the passage that names them is the one to prefer
        matched, wanted = sum(said.has(t) for t in terms.words), len(terms.words)
        if terms.fragment:
            passages = _words(" ".join(f"{s.passage.chunk.title} {model_view(s.passage.chunk.text)[0]}" for s in unit))
            matched, wanted = matched + sum(passages.has_name(t) for t in terms.names), wanted + len(terms.names)
        coverage = matched / wanted if wanted else 1.0
        score = self.coverage_weight * coverage + (1 - self.coverage_weight) * self._similarity(text, unit)
        # two words in a row that the passages lack are likely a detail they do not give ("private jet")
        score -= _DETAIL_PENALTY * sum(1 for run in terms.runs for a, b in itertools.pairwise(run)
                                       if not context.has_name(a) and not context.has_name(b))
        score = round(float(score), 4)
        reason = self._hard_failure(terms, claim, unit, said, context)
        if reason:
            return Judgement(False, score, unit, reason)
        # a fragment's fit to its question is checked per answer (rag.checks.verify: names, topic words); only added
        # details can sink its score below zero
        if score < (0.0 if terms.fragment else self.min_score):
            return Judgement(False, score, unit, f"support score {score:.2f} is too low")
        return Judgement(True, score, unit)

    @staticmethod
    def _hard_failure(terms: _Terms, claim: str, unit: tuple[Source, ...], said: _Words, context: _Words) -> str:
        # a fragment's question may name things the answer's sentence does not: those are checked per answer
        checked = terms.required if terms.fragment else terms.numbers | terms.names
        missing = sorted(t for t in checked & terms.numbers if not context.has(t))
        missing += sorted(t for t in checked - terms.numbers if not context.has_name(t)
                          and not _introduced_earlier(t, claim, unit))
        if missing:
            return f"not in its passages: {', '.join(dict.fromkeys(missing))}"
        for number, noun in terms.units:
            holders = [s for s in unit if _words(s.text).has(number)]
            if holders and not any(_words(s.text).has(noun) for s in holders):
                return f"{number} counts something else there than {noun}"
        for number in sorted(terms.required & terms.numbers) if terms.asked_units else ():
            if not any(_counts(text, number, terms.asked_units) for s in unit for text in (s.text, s.previous)):
                return f"{number} counts something else there than what the question asks about"
        for value, noun in terms.counted:
            for source in unit:
                tokens = [normalise_token(r) for r in _TOKEN.findall(source.text)]
                for i, token in enumerate(tokens):
                    if _is_number(token) and token != value and any(stem(t) == stem(noun) for t in tokens[i + 1 : i + 3]):
                        return f"its passage counts {token} {noun}, not {value}"
        for quote in terms.quotes:
            if not all(said.has(t) for t in quote):
                return f"the quoted words are not in its passages: “{' '.join(quote)}”"
        for source in unit:
            who = misattributed(claim, source.text, source.previous)
            if who:
                return f"its passage attributes those words to someone else than {who}"
        if terms.negated and not any(_negated(s.text, _NEGATIVE) for s in unit):
            return "it denies what its passage states"
        if terms.negated is False and any(_denies(s.text, terms.words | terms.names) for s in unit):
            return "its passage states the opposite"
        return ""

    def _embed(self, texts: list[str]) -> None:
        if self.embedder is None:
            return
        todo = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if todo:
            if len(self._vectors) > 20_000:
                self._vectors.clear()
            for text, vector in zip(todo, self.embedder.embed_documents(todo), strict=True):
                self._vectors[text] = vector

    def _similarity(self, text: str, unit: tuple[Source, ...]) -> float:
        if self.embedder is None:
            return 0.0
        joined = sum(self._vectors[s.text] for s in unit)
        norm = float(np.linalg.norm(joined)) or 1.0
        return max(0.0, float(self._vectors[text] @ joined) / norm)
