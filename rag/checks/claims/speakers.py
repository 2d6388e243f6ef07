"""Who a statement is attributed to, in a claim and in a source sentence.

A claim that puts Musk's words in the premier's mouth has every word in the passage; only the
speaker is wrong. So when both the claim and the sentence that supports it attribute a statement,
the claim's speaker must be among the sentence's speakers (a pronoun speaker, "he said", is the
speaker of the sentence before, else its first name); when the sentence names no speaker that way,
the claimed one must at least be named in it.
"""

from __future__ import annotations

import re

_SPEECH = (r"(?:said|says|say|told|tells|posted|posts|wrote|writes|stated|states|added|adds|noted|notes|argued|argues"
           r"|praised|praises|called|calls|described|describes|announced|announces|confirmed|confirms|explained|urged"
           r"|warned|claimed|claims|insisted|remarked|replied|tweeted|arguing|saying|telling)")
_NAME = r"(?:[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*){0,3})"
_PRONOUN = r"(?:he|she|they|He|She|They)"
_TITLES = frozenset("""premier president minister chairman ceo chief executive officer analyst director spokesperson
    spokesman spokeswoman secretary official head founder boss editor councilor""".split())
# capitalised words that never name a speaker
_NOT_NAMES = frozenset("""the a an on in at this that these those it its his her their monday tuesday wednesday thursday
    friday saturday sunday january february march april may june july august september october november december also
    but and chinese state media""".split())

# a participle after a comma speaks for the clause's subject, not only for the words before the comma: "Grace Tao …
# published a commentary on the account of People's Daily, arguing that …" is Grace Tao arguing
_PARTICIPLE = r"(?:arguing|saying|telling|adding|noting|writing|warning|claiming|insisting|explaining)"
_ROLE = r"(?:(?:the|The)\s+)?(?:premier|president|minister|chairman|ceo|chief executive|analyst|director|spokesperson|secretary)"
_CLAIM_PATTERNS = (
    re.compile(rf"(?P<who>{_ROLE}|{_NAME}|{_PRONOUN})(?:\s+|\s*,\s+(?!{_PARTICIPLE}\b))(?:also\s+|later\s+|then\s+)?"
               rf"{_SPEECH}\b"),
    re.compile(rf"\b{_SPEECH}\s+(?:by\s+)?(?P<who>{_NAME})(?=\s*(?:[,.;]|$))"),  # "…," said Dan Ives, analyst
    re.compile(rf"\baccording to\s+(?:the\s+)?(?P<who>{_NAME}|{_PRONOUN})"),
    # "the official account quoted Li Qiang as telling …", "Musk was quoted as saying …"
    re.compile(rf"\bquot(?:ed|es|ing)\s+(?P<who>{_ROLE}|{_NAME})\s+as\b"),
    re.compile(rf"(?P<who>{_ROLE}|{_NAME}|{_PRONOUN})\s+(?:was|is|were|has been)\s+quoted\b"),
)


def _tokens(name: str) -> set[str]:
    tokens = {t.lower().strip(".’'") for t in re.findall(r"[\w’'.-]+", name)}
    return {re.sub(r"[’']s$", "", t) for t in tokens} - _NOT_NAMES - {""}


def speakers(text: str, previous: str = "") -> set[str]:
    """Lower-cased name tokens of everyone `text` attributes a statement to (pronouns resolved from `previous`)."""
    found: set[str] = set()
    for pattern in _CLAIM_PATTERNS:
        for match in pattern.finditer(text):
            who = match.group("who")
            if re.fullmatch(_PRONOUN, who):  # "he said": the speaker of the sentence before, else its first name
                found |= speakers(previous) or first_name(previous)
            else:
                found |= _tokens(who)
    for match in re.finditer(rf",\s+{_PARTICIPLE}\b", text):
        # the subject is somewhere before ("Tesla's vice president …, Grace Tao, published …, arguing"): any name there
        subject = _names(text[: match.start()])
        if subject <= {"he", "she", "they"}:  # "She softened her stance, saying …": someone the sentence before names
            subject = speakers(previous) or _names(previous)
        found |= subject
    return found


def _names(text: str) -> set[str]:
    """The name tokens of every run of capitalised words in `text`."""
    return {t for name in re.findall(_NAME, text) for t in _tokens(name)}


def first_name(text: str) -> set[str]:
    """The first run of capitalised words in `text` that is not a date or a sentence opener."""
    for match in re.finditer(_NAME, text):
        tokens = _tokens(match.group(0))
        if tokens:
            return tokens
    return set()


def titles_of(names: set[str], text: str) -> set[str]:
    """Role words that stand right before one of `names` in `text` ("Premier Li", "analyst Dan Ives"): a claim may
    say "the premier said" where the source says "Li said"."""
    return {m.group(1).lower() for m in re.finditer(rf"\b(\w+)\s+({_NAME})", text)
            if m.group(1).lower() in _TITLES and _tokens(m.group(2)) & names}


def misattributed(claim: str, sentence: str, previous: str = "") -> str | None:
    """The claim's speaker when the source sentence attributes its statement to someone else, else None."""
    claimed = speakers(claim)
    if not claimed:
        return None
    sources = speakers(sentence, previous)
    if sources:
        return None if claimed & (sources | titles_of(sources, f"{previous} {sentence}")) else " ".join(sorted(claimed))
    # no speaker named in the form "X said": the claimed one must at least be in the sentence (Grace Tao's
    # commentary is not Musk's)
    return None if claimed & (_tokens(sentence) | titles_of(_tokens(sentence), sentence)) else " ".join(sorted(claimed))
