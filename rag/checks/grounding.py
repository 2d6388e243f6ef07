"""Term-level evidence: which words of an answer or question a passage contains.

A small model writes fluent text whether or not the passages hold the answer, so we
check words, not fluency: the answer's new terms must be in the passage it cites, and
the names and numbers the question is about must be there too.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from rag.checks.citations import strip_markers

_TOKEN = re.compile(r"\w+(?:[.,'’]\w+)*")
_STOPWORDS = frozenset(
    """a an the and or but if then than that this these those there their they them it its is are was
    were be been being am do does did done have has had having of in on at to for from by with about
    as into over after before during since until while per via not no yes so such also just only
    very more most less least much many some any each every other another both either neither all
    what which who whom whose when where why how he she his her him we our you your i me my mine
    said says say according would could should will can may might must shall one who's what's
    passage passages answer document documents article articles""".split()
)
_WH = frozenset("what which who whom whose when where why how in on at by for of according".split())
# Words that name the kind of answer wanted ("which city", "what year"): the passage says
# "Shanghai" or "2021", not "city" or "year", so they are not evidence either way.
ANSWER_TYPE_WORDS = frozenset(
    """name names city cities country countries place places state states area date dates day days week
    weeks month months year years time times percentage percent share number amount much many long
    kind type company companies firm firms organization person people newspaper outlet""".split()
)
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
     "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"])}
_NUMBER_WORDS |= {w: str(10 * i) for i, w in enumerate(
    ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"], start=2)}


def normalise_token(token: str) -> str:
    """Lower-case, drop possessive 's and thousands separators."""
    token = token.lower().replace("’", "'")
    token = re.sub(r"'s$", "", token)
    if re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", token):
        token = token.replace(",", "")
    return _NUMBER_WORDS.get(token, token)


def tokens(text: str) -> list[str]:
    """Normalised word tokens of `text`."""
    return [normalise_token(t) for t in _TOKEN.findall(text)]


def stem(term: str) -> str:
    """A crude stem (first five letters): "factories"/"factory" and "meets"/"meeting" meet."""
    return term if any(c.isdigit() for c in term) else term[:5]


_VOWELS = frozenset("aeiou")


def inflections(word: str) -> frozenset[str]:
    """`word` and what it may be without a regular inflection: "calling" -> "call"; "sales" -> "sale";
    "planned" -> "plan"; "used" -> "use"; "evs" -> "ev". The first-five-letters stem misses a short word's forms
    ("call" is not "calli"), so the checks also match words that share one of these (`Evidence.has`). Numbers stay as they are."""
    forms = {word}
    if any(c.isdigit() for c in word) or word.endswith(("ss", "us", "is")):
        return frozenset(forms)
    for suffix in ("ing", "ed", "es", "s"):
        root = word[: -len(suffix)]
        if not word.endswith(suffix) or len(root) < 2:
            continue
        # a two-letter root only under a plural "s": "EVs" and "IPOs" are the plurals of "EV" and "IPO"
        if len(root) >= 3 or suffix == "s":
            forms.add(root)
        if suffix in ("ing", "ed") and root[-1] not in _VOWELS and root[-2] in _VOWELS:
            forms.add(root + "e")  # "using" -> "use", "making" -> "make" (but "being" is no "bee")
        if suffix in ("ing", "ed") and len(root) >= 4 and root[-1] == root[-2] and root[-1] not in "lsfz":
            forms.add(root[:-1])  # "planned" -> "plan", but "called" -> "call"
    return frozenset(forms)


def key_terms(text: str) -> list[str]:
    """Content-bearing words: numbers, capitalised words, and other non-stopwords of 3+ letters."""
    found = []
    for raw in _TOKEN.findall(strip_markers(text)):
        t = normalise_token(raw)
        if any(c.isdigit() for c in t) or (raw[0].isupper() and t not in _WH) or (len(t) >= 3 and t not in _STOPWORDS):
            found.append(t)
    return list(dict.fromkeys(found))


def topic_terms(question: str) -> list[str]:
    """The question's key terms other than answer-type words ("city", "year") and number words: "What two
    facilities …, and what is each one for?" asks for a count, it does not say the passage has a "2"."""
    raws = _TOKEN.findall(question)
    spelled = {_NUMBER_WORDS[r.lower()] for r in raws if r.lower() in _NUMBER_WORDS}
    digits = {normalise_token(r) for r in raws if any(c.isdigit() for c in r)}
    return [t for t in key_terms(question) if t not in ANSWER_TYPE_WORDS and (t not in spelled or t in digits)]


def date_words(published: str | None) -> str:
    """An article's ISO date as the words a question may use for it: "2024-04-28" -> "2024 April 28"."""
    match = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", published or "")
    if not match:
        return ""
    year, month, day = match.groups()
    # spelled out, not calendar.month_name: that follows the process locale, and questions are matched in English
    months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December"]
    if not 1 <= int(month) <= 12:
        return year
    return " ".join(w for w in (year, months[int(month) - 1], day and str(int(day))) if w)


def anchors(question: str) -> list[str]:
    """What a question is about that an answer's passage must mention: its numbers and its
    names (capitalised words other than the first)."""
    raws = _TOKEN.findall(question)
    found = [normalise_token(r) for i, r in enumerate(raws)
             if any(c.isdigit() for c in r) or (i > 0 and r[0].isupper() and r.lower() not in _WH)]
    return list(dict.fromkeys(found))


def name_prefixes(words: frozenset[str]) -> frozenset[str]:
    """The first four letters of the longer words, by which a name meets its other forms ("China", "Chinese")."""
    return frozenset(w[:4] for w in words if len(w) >= 5)


def meets_by_prefix(name: str, prefixes: frozenset[str]) -> bool:
    """Whether a name of five letters or more shares its first four with one of the words behind `prefixes`."""
    return len(name) >= 5 and not any(c.isdigit() for c in name) and name[:4] in prefixes


@dataclass(frozen=True)
class Evidence:
    """The words of a passage, exact and stemmed, for membership tests."""

    exact: frozenset[str]
    stems: frozenset[str]
    prefixes: frozenset[str]  # `name_prefixes` of the words
    forms: frozenset[str]  # `inflections` of the words

    @classmethod
    def of(cls, text: str) -> Evidence:
        """Index the words of `text`."""
        words = frozenset(tokens(text))
        return cls(words, frozenset(stem(w) for w in words), name_prefixes(words),
                   frozenset(f for w in words for f in inflections(w)))

    def has(self, term: str) -> bool:
        """Whether the passage contains `term` (numbers exactly, words by stem or by a shared uninflected form)."""
        if term in self.exact:
            return True
        if any(c.isdigit() for c in term):
            return False
        return stem(term) in self.stems or not inflections(term).isdisjoint(self.forms)

    def has_name(self, term: str) -> bool:
        """Whether the passage contains `term` as a name: also by its first four letters ("China" in "Chinese
        authorities", "Japan" in "Japanese"), as the claim judge matches names (`rag.checks.claims.align`)."""
        return self.has(term) or meets_by_prefix(term, self.prefixes)

    def missing(self, terms: list[str], names: Collection[str] = ()) -> list[str]:
        """The terms the passage lacks; those among `names` are matched as names."""
        return [t for t in terms if not (self.has_name(t) if t in names else self.has(t))]
