"""A question whose premise the passages state the opposite of: "Why did Tesla's shares slide …?" over "Tesla's
stock gained more than 6%".

The judge checks what an answer says, not what the question takes for granted, so a true sentence from the
right article "answers" a false premise. When the question uses a word of one direction (slide, fail, ban),
and the sentences supporting the answer, or the passages they come from, hold its opposite (gain, pass, allow)
but nothing of its own direction, the premise is contradicted. The pairs are the few directions news
reports turn on; a pair is checked only where the passage takes a side, so a question the passages are
silent about is left to the other checks.

A passage may take both sides about different things: "Tesla's stock gained more than 6% … in pre-market
trading. Tesla shares have fallen 32% so far this year." Then the sentence that shares most of the question's
topic words, and at least half of them, is where its premise is stated, and that sentence decides: "Why did
Tesla's shares slide in pre-market trading?" is contradicted by the first; "Why did Tesla's shares slide this
year?" is not.
"""

from __future__ import annotations

from rag.checks.grounding import Evidence, tokens, topic_terms
from rag.sentences import split_sentences

# (one direction, its opposite), every inflection spelled out: words are compared whole, since five-letter stems
# make "passengers" a "passed" and "approximately" an "approved"
_DIRECTIONS = (
    ("rise rose risen rising rises gain gained gains gaining jump jumped jumps surge surged surges climb climbed "
     "climbs rally rallied rallies soar soared soars",
     "fall fell fallen falling falls slide slid slides sliding drop dropped drops dropping decline declined declines "
     "declining slump slumped slumps plunge plunged plunges tumble tumbled tumbles sink sank sinks"),
    ("pass passed passes passing approve approved approves approval clear cleared clears comply complied complies "
     "compliant",
     "fail failed fails failing reject rejected rejects rejection"),
    ("allow allowed allows permit permitted permits lift lifted lifts",
     "ban banned bans banning bar barred bars barring forbid forbade forbidden block blocked blocks"),
    ("win won wins winning", "lose lost loses losing"),
    ("attend attended attends attending participate participated participates participating",
     "absent absence skip skipped skips skipping sit"),
)


_PAIRS = tuple((frozenset(a.split()), frozenset(b.split())) for a, b in _DIRECTIONS)
_PAIRS += tuple((opposite, same) for same, opposite in _PAIRS)
_DIRECTION_WORDS = frozenset(w for same, _ in _PAIRS for w in same)


def contradicted(question: str, text: str) -> str | None:
    """The question's word whose opposite `text` states (and whose own direction it never does), or else the one
    whose opposite the sentence of `text` closest to the question states; None when neither."""
    if _DIRECTION_WORDS.isdisjoint(tokens(question)):  # most questions: no sentence needs to be found
        return None
    return _opposed(question, text) or _opposed(question, _where_asked(question, text))


def _where_asked(question: str, text: str) -> str:
    """The one sentence of `text` that holds the most of the question's topic words (other than its directions),
    when it holds at least half of them; "" when no sentence does, or two tie."""
    topic = [t for t in topic_terms(question) if t not in _DIRECTION_WORDS]
    if not topic:
        return ""
    held = sorted(((sum(Evidence.of(s.text).has(t) for t in topic), s.text) for s in split_sentences(text)),
                  reverse=True)
    if not held or 2 * held[0][0] < len(topic) or (len(held) > 1 and held[1][0] == held[0][0]):
        return ""
    return held[0][1]


def _opposed(question: str, text: str) -> str | None:
    asked = tokens(question)
    said = tokens(text)
    for same, opposite in _PAIRS:
        word = next((t for t in asked if t in same), None)
        if word and not same.intersection(said):
            found = next((t for t in said if t in opposite), None)
            if found:
                return f"the question says “{word}” where its passages say “{found}”"
    return None
