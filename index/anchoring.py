"""Relative days in an article ("yesterday", "on Sunday") anchored to calendar dates from its published date.

At index time (`rag.index.build`) every passage of a dated article gets `Chunk.speaks_of`: the days it names
other than its published date, as sorted ISO dates. The rules, written for news:

- yesterday / last night: the day before; today / tonight: the day itself; tomorrow: the day after; "N days ago",
  "a week ago": N (7) days before. "of tomorrow", "like today", "USA Today" name no day.
- A bare weekday ("on Sunday", "Sunday's meeting", "said Monday") is the most recent such day on or before the
  published date, its own weekday being the published day itself (AP style names days within the past week,
  and a story's most frequent weekday is the day it is published). When the verb governing it is future ("will
  meet on Friday", "is set to begin Friday", "ahead of a vote on Sunday", a scheduled "ends on Saturday") it is
  the first such day on or after. The tense cue nearest before the weekday in its sentence decides ("said on
  Friday it will ..." is past); a weekday that opens its sentence takes the first cue of the words after it.
- "last Sunday", "this past Sunday": the most recent one strictly before; "next" / "this coming": the first one
  strictly after; "this Sunday" follows the tense.
- A full date given with the weekday wins over the computed day: written after it ("Sunday, April 28, 2024",
  "Sunday (28 April)"), or a date of the same sentence that falls on that weekday ("Monday at 10 a.m. on July 8").
  A year left out is the one nearest the published date. When the stated and computed days differ, the stated one
  is kept and the disagreement counted (`Anchor.conflict`, `ArticleEntry.date_conflicts`, a note from `rag
  index`): the published date may be wrong, or the day is more than a week away. It is never "corrected".
- Not anchored: weekdays in names (Black Friday, the Sunday Times, Saturday Night Live), habits ("every Sunday",
  "Mondays"), "the first Friday of the month"; and spans: "last week", "this month", "this year". A span is not
  a day, and "this month" says no more than the published date does; `speaks_of` holds days only.

Chosen by measurement over dateparser 1.5.0's `search.search_dates` (`languages=["en"]`, `settings=
{"RELATIVE_BASE": published, "PREFER_DATES_FROM": "past"}`). Each output, a (phrase, day) pair, is right when the
sentence does speak of that day (judged by hand from the page's date and the events told; explicit dates that
dateparser finds count as right). "Stored" are the outputs other than the published day, what `speaks_of` would
hold; recall is over the hand-labelled relative days. Sample A: 40 sentences of 40 RealTime QA pages (32 drawn
among those with a day word, 8 among the others) and the 79 sentences of seeds 001 (its Musk story), 002 and 004
with their stories' publication dates (2024-04-29, 2024-04-29, 2023-05-31); 36 relative days. Sample B: 25
sentences with a day word from 25 other pages, labelled after the rule's last change, less one whose day cannot be
told (another paper's "yesterday", quoted); 22 relative days.

| sample | method | right / all outputs | right / stored | recall |
| --- | --- | --- | --- | --- |
| A | this rule as first written | 28/34 = 0.82 | 15/20 = 0.75 | 28/36 = 0.78 |
| A | this rule, fixed on A (*) | 34/38 = 0.89 | 18/21 = 0.86 | 34/36 = 0.94 |
| A | dateparser | 18/75 = 0.24 | 14/59 = 0.24 | 18/36 = 0.50 |
| A | dateparser, only phrases with a day word | 17/38 = 0.45 | 14/32 = 0.44 | 17/36 = 0.47 |
| B | this rule | 21/24 = 0.88 | 13/15 = 0.87 | 21/22 = 0.95 |
| B | dateparser | 14/37 = 0.38 | 11/33 = 0.33 | 14/22 = 0.64 |
| B | dateparser, only phrases with a day word | 13/24 = 0.54 | 11/21 = 0.52 | 13/22 = 0.59 |

(*) possessives ("Tuesday's") were missed by a bug; "until" was a future cue; "Friday of the" and "USA Today"
were days. Sample B measures these fixes on sentences they were not made on; but the same-sentence date rule (asked
for by the issue) was written after B's sentences were read, and one of B's 22 days needs it.

dateparser's errors are words taken for dates ("May we", "We", "now", "16th", "About 65% of the" -> 1965, "3, 2022"
-> March 3) and, even filtered, its "past" preference: a weekday equal to the published one ("said Saturday" in a
Saturday story, the commonest case) becomes the week before; it has no notion of tense. This rule's errors: a
title ("Freaky Friday", "CBS Sunday Morning"), a quoted old "yesterday", a future cue it lacks ("was expected in
Britain on Wednesday"), and a page whose date is a day older than its story (no rule can know). The same holds for
a date read from the text (the first full date it states): seed 002's is its photo caption's, 2024-04-28, a day
before the story, so its past-tense "Monday"s (2024-04-29) are anchored to 2024-04-22.
Time per article, 100 RealTime QA pages (10,905 characters on average), on this 2-core machine shared with other
work: this rule 1.4-2.8 ms, dateparser 200-285 ms (plus 0.3 s to import it), so ~100 times slower. The sample
and its labels stay outside the repository: they quote the benchmark's pages.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from rag.index.metadata import extract_date
from rag.types import Chunk

# Bump when the rules below change: `rag index` then re-dates the passages it keeps (no re-embedding).
DATES_VERSION = 2
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTHS = {name: number for number, names in enumerate(
    (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
     ("july", "jul"), ("august", "aug"), ("september", "sept", "sep"), ("october", "oct"), ("november", "nov"),
     ("december", "dec")), start=1) for name in names}
_MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December" \
         r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
_NUMBERS = {"a": 1, **{w: i for i, w in enumerate("one two three four five six seven eight nine ten eleven twelve "
                                                   "thirteen".split(), start=1)}}

# A weekday is written capitalised in English (or in capitals); matching case strictly keeps ordinary words out.
# "Mondays" (a habit, not a day) does not match.
# One pattern for every expression, each alternative opening on its own word, so the scan stays cheap; what sits
# before the word ("last Sunday", "two days ago") is read afterwards from the text just before it.
_DAY = re.compile(
    r"\b(?:(?P<wd>(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day|(?:MON|TUES|WEDNES|THURS|FRI|SATUR|SUN)DAY)\b"
    r"(?P<poss>['’]s\b)?"  # "Sunday's meeting": the possessive is part of the expression
    # the day's date written after it: "Sunday, April 28, 2024", "Sunday (April 28)", "Sunday 28 April"
    rf"(?P<stated>,?\s*\(?(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}}\b)?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?:,?\s+\d{{4}}\b)?)\)?)?"
    r"|(?P<rel>[Yy]esterday|[Tt]oday|[Tt]onight|[Tt]omorrow|[Ll]ast night)\b"
    r"|(?P<unit>days?|weeks?)\s+ago\b)")
_MOD = re.compile(r"\b(?:[Ll]ast|[Tt]his past|[Tt]his coming|[Tt]his|[Nn]ext|[Cc]oming)\s+$")
_COUNT = re.compile(r"\b(?:a|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|\d{1,2})\s+$",
                    re.IGNORECASE)
_STATED = re.compile(rf"\b(?:(?P<m1>{_MONTH})\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y1>\d{{4}})\b)?"
                     rf"|(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<m2>{_MONTH})(?:,?\s+(?P<y2>\d{{4}})\b)?)")
# Where a weekday is part of a name, not a day: Black Friday, Super Tuesday, the Sunday Times, Saturday Night Live.
_NAME_BEFORE = re.compile(r"\b(?:Black|Good|Super|Bloody|Ash|Cyber|Easter|Palm|Holy|Maundy|Giving|Business|Fat|Shrove"
                          r"|Whit|Low|Mothering|every|each|Mail on)\s+$")
_NAME_AFTER = re.compile(r"^['’]?s?\s+(?:Times|Telegraph|Night Football|Night Live|Night Raw|Mail|Express|Mirror|Post"
                         r"|Herald|Independent|Sport|People|School|Journal|Review|Edition|Show|Club|Morning Edition)\b"
                         # "the first Friday of the festival": a weekday of some period, not a day near the story's
                         r"|^\s+of\s+(?:the|every|each|a|this|that|its|their|his|her)\b")
# "the cars of tomorrow", "like today": a time, not a day.
_GENERIC_BEFORE = re.compile(r"\b(?:of|for|until|till|like)\s+$|\bUSA\s+$", re.IGNORECASE)  # and "USA Today"
# Tense around a bare weekday: the cue nearest before it in its sentence decides (then the words just after a
# weekday that opens the sentence). Present-tense scheduling verbs ("the show ends on Saturday") read as future.
_FUTURE = re.compile(r"\b(?:will|'ll|’ll|shall|won't|won’t|going to|set to|due to|due|scheduled|slated|expected to|"
                     r"plans? to|planned|planning|ahead of|upcoming|begins?|starts?|ends?|opens?|closes?|"
                     r"expires?|resumes?|is to|are to)\b", re.IGNORECASE)
_PAST = re.compile(r"\b(?:said|says|told|announced|reported|confirmed|added|wrote|posted|tweeted|was|were|had|did|"
                   r"began|started|ended|opened|closed|earlier|ago)\b", re.IGNORECASE)
# A weekday that opens its sentence ("On Friday, he will ..."): its tense is in the words after it.
_OPENS = re.compile(r"^[\s\"“(]*(?:(?:also|and|but|then|late|early|on|by|since|until|from)\s+)*$", re.IGNORECASE)
# A sentence ends at . ! ? before a capital (not "Jan. 3"), or at a line's end: paragraphs are lines in news text.
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*\s+(?=[\"“(]?[A-Z])|\n")


@dataclass(frozen=True)
class Anchor:
    """One relative-day expression of a text and the calendar day it names."""

    start: int  # offsets of the expression in the text
    end: int
    expression: str
    day: str  # ISO date: the stated one when the text gives it, else the computed one
    computed: str  # ISO date from the published date and the rules below
    stated: str | None = None  # the full date written with a weekday ("Sunday, April 28")

    @property
    def conflict(self) -> bool:
        """The text states a date for its weekday that the rules would not give: a sign the published date is off."""
        return self.stated is not None and self.stated != self.computed


def anchor_days(text: str, published: str | None) -> list[Anchor]:
    """The relative days of `text`, each anchored to a calendar day from `published` (ISO); none without a date."""
    if not published:
        return []
    try:
        base = date.fromisoformat(published)
    except ValueError:
        return []
    anchors: list[Anchor] = []
    starts = [0, *(m.end() for m in _SENTENCE_END.finditer(text))]
    previous_end = 0
    for match in _DAY.finditer(text):
        i = bisect.bisect_right(starts, match.start()) - 1
        sentence, sentence_end = starts[i], starts[i + 1] if i + 1 < len(starts) else len(text)
        left = text[max(sentence, previous_end): match.start()]  # this clause: from the last expression or sentence
        opens = bool(_OPENS.match(text[sentence: match.start()]))
        before = _MOD if match.group("wd") else _COUNT if match.group("unit") else None
        prefix = before.search(text, max(sentence, match.start() - 16), match.start()) if before else None
        if match.group("unit") and prefix is None:  # "days ago" without a count: "some days ago" names no day
            continue
        computed = _compute(match, prefix.group() if prefix else "", base, left,
                            text[match.end(): match.end() + 60], opens)
        if computed is None:
            continue
        start = prefix.start() if prefix else match.start()
        stated = _stated(match, text[sentence:sentence_end], base, computed) if match.group("wd") else None
        day = stated or computed
        anchors.append(Anchor(start, match.end(), text[start: match.end()].strip(" ,"), day.isoformat(),
                              computed.isoformat(), stated.isoformat() if stated else None))
        previous_end = match.end()
    return anchors


def days_spoken_of(text: str, published: str | None) -> tuple[str, ...]:
    """The days `text` speaks about other than its published date: sorted, unique ISO dates."""
    return tuple(sorted({a.day for a in anchor_days(text, published) if a.day != published}))


def date_chunks(chunks: Iterable[Chunk]) -> tuple[list[Chunk], int]:
    """One article's chunks with `speaks_of` filled in, and how many of its weekdays come with a stated date
    that disagrees with the computed one (counted once where chunks overlap; counted, never corrected)."""
    chunks = list(chunks)
    if _dated_by_its_own_text(chunks):
        return [replace(c, speaks_of=()) if c.speaks_of else c for c in chunks], 0
    dated: list[Chunk] = []
    conflicts: set[int] = set()  # offsets in the article, so an expression in two overlapping chunks counts once
    for chunk in chunks:
        anchors = anchor_days(chunk.text, chunk.published)
        conflicts.update(chunk.start + a.start for a in anchors if a.conflict)
        days = tuple(sorted({a.day for a in anchors if a.day != chunk.published}))
        dated.append(chunk if days == chunk.speaks_of else replace(chunk, speaks_of=days))
    return dated, len(conflicts)


def _dated_by_its_own_text(chunks: list[Chunk]) -> bool:
    """Whether the article's date is the first full date its text states, which is how a reader dates an article
    with no metadata (`rag.index.metadata.extract_date`). Such a date may be an event's, not the day of
    publication: seed 002's is its photo caption's, a day before the story, and its past-tense "Monday" would be
    anchored a week early. So its relative days are left unanchored: no day is better than a wrong one. (An
    article whose metadata date its text also states first loses its anchors too; that costs recall only.)"""
    if not chunks or chunks[0].published is None:
        return False
    return extract_date(" ".join(c.text for c in sorted(chunks, key=lambda c: c.ordinal))) == chunks[0].published


def _compute(match: re.Match, prefix: str, base: date, left: str, right: str, opens_sentence: bool) -> date | None:
    """The day a matched expression names, or None when it names no day (part of a name, a generic "today").

    `prefix` is the weekday's modifier ("last ") or the count of "days ago"; `left` the clause before the
    expression, `right` the text after it."""
    if match.group("rel"):
        word = match.group("rel").lower()
        if word in {"today", "tomorrow"} and _GENERIC_BEFORE.search(left):
            return None
        return base + timedelta(days={"yesterday": -1, "last night": -1, "today": 0, "tonight": 0, "tomorrow": 1}[word])
    if match.group("unit"):
        n = prefix.strip().lower()
        count = int(n) if n.isdigit() else _NUMBERS[n]
        return base - timedelta(days=count * (7 if match.group("unit").startswith("week") else 1))
    if _NAME_BEFORE.search(left) or (match.group("stated") is None and _NAME_AFTER.match(right)):
        return None
    weekday = _WEEKDAYS.index(match.group("wd").lower())
    back = (base.weekday() - weekday) % 7  # days back to the most recent such day, 0 when it is the published day
    mod = prefix.lower().split()
    if mod[:1] == ["last"] or mod[:2] == ["this", "past"]:
        return base - timedelta(days=back or 7)
    if mod[:1] in (["next"], ["coming"]) or mod[:2] == ["this", "coming"]:
        return base + timedelta(days=(7 - back) % 7 or 7)
    if _future(left, right, opens_sentence):
        return base + timedelta(days=(7 - back) % 7)
    return base - timedelta(days=back)


def _future(left: str, right: str, opens_sentence: bool) -> bool:
    """Whether the verb governing a bare weekday is future: the nearest tense cue before it in its sentence,
    else (a sentence that opens with the day: "On Friday, he will ...") the first cue in the words after it."""
    cues = [(m.end(), True) for m in _FUTURE.finditer(left)] + [(m.end(), False) for m in _PAST.finditer(left)]
    if cues:
        return max(cues)[1]
    if opens_sentence:
        window = " ".join(right.split()[:6])
        future, past = _FUTURE.search(window), _PAST.search(window)
        if future and (not past or future.start() < past.start()):
            return True
    return False


def _stated(match: re.Match, sentence: str, base: date, computed: date) -> date | None:
    """The full date the text gives for a weekday: written right after it ("Sunday, April 28"), else a date of
    its sentence that falls on that weekday ("Monday at 9:15 p.m. on July 5"), the nearest to the computed day."""
    if match.group("stated"):
        return _parse_date(_STATED.search(match.group("stated")), base)
    weekday = _WEEKDAYS.index(match.group("wd").lower())
    same = [d for d in (_parse_date(m, base) for m in _STATED.finditer(sentence)) if d and d.weekday() == weekday]
    return min(same, key=lambda d: abs((d - computed).days)) if same else None


def _parse_date(found: re.Match | None, base: date) -> date | None:
    """A matched month-and-day date; a missing year is the one that puts it nearest the published date."""
    if found is None:
        return None
    month = _MONTHS[(found.group("m1") or found.group("m2")).rstrip(".").lower()]
    day = int(found.group("d1") or found.group("d2"))
    year = found.group("y1") or found.group("y2")
    years = [int(year)] if year else [base.year - 1, base.year, base.year + 1]
    candidates = []
    for y in years:
        try:
            candidates.append(date(y, month, day))
        except ValueError:  # "February 30" is not a date
            continue
    return min(candidates, key=lambda d: abs((d - base).days)) if candidates else None
