"""Follow-up questions: rewrite "what did he say about it?" into a standalone question before retrieval.

Shared by `rag chat`, the UI and `rag serve`. The rewriting is deterministic rules, not the model:
measured with the 0.5B, asking the model to rewrite resolved 3 of 5 pronoun follow-ups (and put the
wrong person in one of those), and a few-shot prompt resolved 2 of 8. The rules replace a pronoun with
the previous answer when that answer is the entity the previous question asked for ("Who is the
chairman of CATL?" "Zeng Yuqun" → "him" = Zeng Yuqun), else with the name the previous question was
about, and they complete elliptical follow-ups ("and in 2023?") from the previous question.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.checks.abstention import is_abstention
from rag.checks.citations import strip_markers


@dataclass(frozen=True)
class Turn:
    """One answered exchange, as the conversation remembers it."""

    question: str  # as the user asked it
    standalone: str  # what was actually searched for and answered
    answer: str  # the answer text shown (markers are ignored)
    abstained: bool = False
    # the model's own answer before it was quoted: "Dan Ives, managing director …" where the answer shown is the
    # article's sentences around it, which may name someone else first or no one ("He said …")
    draft: str = ""


@dataclass(frozen=True)
class Rewrite:
    """The standalone question and, when it differs from what was asked, why."""

    question: str
    note: str = ""  # e.g. "him → Zeng Yuqun (the previous answer)"

    @property
    def changed(self) -> bool:
        """Whether the question was rewritten."""
        return bool(self.note)


PERSON = {"he": "", "him": "", "his": "'s", "she": "", "her": "", "hers": "'s"}
THING = {"it": "", "its": "'s", "they": "", "them": "", "their": "'s", "theirs": "'s"}
_PRONOUN = re.compile(r"\b(" + "|".join([*PERSON, *THING, "there"]) + r")\b", re.IGNORECASE)
_ELLIPSIS = re.compile(r"^\s*(?:and what about|and how about|what about|how about|and|but)\b[\s,]*(.*?)[\s?.!]*$",
                       re.IGNORECASE)
_WH = re.compile(r"^\s*(who|whom|whose|what|which|when|where|why|how)\b", re.IGNORECASE)
# a run of capitalised words (names like "Elon Musk", "Li Qiang", "CATL"), possibly joined by "of"/"for"/"the"
_NAME = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:(?:of|for|the|and)\s+)?[A-Z][\w'’.-]*)*")
_AUX = re.compile(r"\b(?:do|does|did|is|was|are|were|has|have|had|will|would|can|could)\s+(?:the\s+)?"
                  r"([A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*)")
_PLACE = re.compile(r"\b(?:in|to|at|from|visit|visited|visiting)\s+([A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*)")
_MOTION = re.compile(r"\b(?:go|goes|went|gone|going|travel\w*|fly|flew|flown|come|came|return\w*|move\w*|head\w*)\s*$",
                     re.IGNORECASE)
# "is there a factory?", "how many are there?", "there were talks": existential "there" is not a place and is
# left alone (but "who was there?" asks who was in the place)
_EXISTENTIAL_BEFORE = re.compile(r"^(?!\s*(?:who|what)\s+(?:is|are|was|were)\s+$).*\b(?:is|are|was|were)\s+$",
                                 re.IGNORECASE | re.DOTALL)
_EXISTENTIAL_AFTER = re.compile(r"^\s*(?:is|are|was|were|be|been)\b|^['’]s\b", re.IGNORECASE)
# words that make a "what"/"which" question ask for a person: "the name of Tesla's vice president"
_PERSON_ROLE = re.compile(r"\b(name of|premier|president|chairman|chairwoman|chair|minister|ceo|chief|head|founder|"
                          r"official|executive|spokes\w*|director|leader|governor|mayor|secretary|analyst|person|"
                          r"man|woman|people)\b", re.IGNORECASE)
_NOUN_AFTER = re.compile(r"\s+(?!(?:to|in|on|at|about|for|with|from|and|or|as|by|of|that|this)\b)[A-Za-z]", re.IGNORECASE)
# capitalised words that open or label a sentence rather than name anyone ("Also on Sunday, Musk met …")
_NOT_NAMES = frozenset(
    "who whom whose what which when where why how "
    "also this that these those it its he she they we the a an in on at as by but and or so yet according after "
    "before while since however despite late earlier meanwhile photo read monday tuesday wednesday thursday "
    "friday saturday sunday january february march april may june july august september october november "
    "december".split())
_NUMBERISH = re.compile(r"^[\d\s.,%$€£-]|\b(?:percent|billion|million|thousand|one-third|half)\b", re.IGNORECASE)


def rewrite(history: Sequence[Turn], question: str) -> Rewrite:
    """The question to search for, given the conversation so far (only the last turn is used)."""
    if not history:
        return Rewrite(question)
    last = history[-1]
    elliptical = _ELLIPSIS.match(question)
    if elliptical and not _WH.match(elliptical.group(1)) and not _PRONOUN.search(elliptical.group(1)):
        rest = elliptical.group(1).strip()
        if rest:
            combined = f"{last.standalone.rstrip(' ?.!')} {rest}?"
            return Rewrite(combined, f"completed from the previous question: {last.standalone}")
    notes: list[str] = []

    def substitute(match: re.Match) -> str:
        word = match.group(1)
        if word.lower() == "there" and (_EXISTENTIAL_BEFORE.search(question[:match.start()])
                                        or _EXISTENTIAL_AFTER.search(question[match.end():])):
            return word
        referent, why = _referent(word.lower(), last)
        if not referent or referent.lower() in question.lower():
            return word
        notes.append(f"{word} → {referent} ({why})")
        if word.lower() == "there":  # "go there" → "go to Beijing", "work there" → "work in Beijing"
            return ("to " if _MOTION.search(question[:match.start()]) else "in ") + referent
        if word.lower() == "her" and _NOUN_AFTER.match(question, match.end()):  # "her Chinese name": possessive
            return referent + "'s"
        return referent + PERSON.get(word.lower(), THING.get(word.lower(), ""))

    rewritten = _PRONOUN.sub(substitute, question)
    return Rewrite(rewritten, "; ".join(notes)) if notes else Rewrite(question)


def _names_in(text: str) -> list[tuple[str, int]]:
    """The runs of capitalised words in `text` that can be names, with where each starts: without the words that
    open a sentence ("Also", "On Sunday"), a possessive's "'s", or a label followed by a colon ("CONCERNS: …")."""
    found = []
    for match in _NAME.finditer(text):
        if text[match.end():match.end() + 1] == ":":
            continue
        words = re.sub(r"['’]s$", "", match.group(0)).split()
        while words and words[0].lower() in _NOT_NAMES:
            words.pop(0)
        if words:
            found.append((" ".join(words), match.start()))
    return found


def _new_names(answer: str, asked: str) -> list[str]:
    """The names in `answer` that `asked` did not use ("Nvidia Corp" is not new for a question about Nvidia), the
    nearest to where the answer repeats the question's own names first: "Also on Sunday, Musk met with Ren Hongbin,
    chairman of the China Council …" answers "Who heads the China Council …?" with Ren Hongbin, not Musk."""
    asked_words = set(re.findall(r"\w+", re.sub(r"['’]s\b", "", asked).lower()))
    lowered = answer.lower()
    anchors = [i for name, _ in _names_in(asked) for i in [lowered.find(name.lower())] if i >= 0]
    new = [(name, start) for name, start in _names_in(answer) if not asked_words & set(re.findall(r"\w+", name.lower()))]
    if anchors:
        new.sort(key=lambda item: min(abs(item[1] - a) for a in anchors))  # stable: ties keep the answer's order
    return [name for name, _ in new]


def _is_entity(answer: str) -> bool:
    """Whether an answer is itself the person or thing asked for ("Zeng Yuqun", "People's Daily"), not a sentence."""
    return (bool(answer) and answer[:1].isupper() and not _NUMBERISH.search(answer)
            and (_NAME.fullmatch(answer) is not None or len(answer.split()) <= 3))


def _referent(pronoun: str, last: Turn) -> tuple[str, str]:
    """What a pronoun in a follow-up most likely points to, and a short reason; ("", "") when unsure."""
    # the model's own words first: a quoted answer is the article's sentences, which often open with someone else
    answers = [strip_markers(a).strip().rstrip(".") for a in (last.draft, last.answer) if a.strip()]
    asked = last.standalone
    entities = [a for a in answers if _is_entity(a)] if not last.abstained else []
    if pronoun == "there":
        if entities and asked.lower().startswith("where"):
            return entities[0], "the previous answer"
        place = _PLACE.search(asked)
        return (place.group(1), "the place in the previous question") if place else ("", "")
    about_person = bool(re.match(r"\s*(who|whom|whose)\b", asked, re.IGNORECASE) or _PERSON_ROLE.search(asked))
    asks_for_thing = bool(re.match(r"\s*(which|what)\b", asked, re.IGNORECASE))  # not where/when: a place or time
    wanted = (pronoun in PERSON and about_person) or (pronoun in THING and asks_for_thing and not about_person)
    if wanted and entities:
        return entities[0], "the previous answer"
    new_names = [n for a in answers for n in _new_names(a, asked)] if not last.abstained else []
    if wanted and new_names:  # a sentence answer: "Ren Hongbin, chairman of the …" → Ren Hongbin
        return new_names[0], "the name in the previous answer"
    subject = _AUX.search(asked)
    if subject:
        return subject.group(1), "who the previous question was about"
    names = [n for n in _NAME.findall(asked) if not _WH.match(n) and n.split()[0] not in {"The", "A", "An"}]
    return (names[0], "the name in the previous question") if names else ("", "")


class Conversation:
    """One user's chat: remembers the turns and rewrites each follow-up before asking the assistant.

    The assistant may be shared between conversations (the UI, the server); callers that answer from
    several threads serialise `ask` themselves, because llama.cpp is not thread-safe.
    """

    def __init__(self, assistant, turns: Sequence[Turn] = ()):
        self.assistant = assistant
        self.turns: list[Turn] = list(turns)

    def ask(self, question: str, on_token=None, top_k: int | None = None, on_rewrite=None, window=None):
        """Answer `question` in the context of the earlier turns; returns (Rewrite, Answer).

        `on_rewrite` receives the Rewrite before the model is asked (so a terminal can show it first);
        `window` (a `rag.retrieval.window.DateWindow`) searches only the articles published in it."""
        from rag.assistant import clean_question

        asked = clean_question(question)
        standalone = rewrite(self.turns, asked)
        if on_rewrite:
            on_rewrite(standalone)
        answer = self.assistant.answer(standalone.question, on_token=on_token, top_k=top_k, window=window,
                                       follow_up=bool(self.turns))
        self.turns.append(Turn(asked, standalone.question, answer.text, answer.abstained,
                               "" if answer.abstained else answer.draft))  # a withdrawn draft points nowhere
        return standalone, answer


def replay(exchanges: Sequence[tuple[str, str]]) -> list[Turn]:
    """Turns rebuilt from (question, answer) pairs a client sent back (the server's conversation field)."""
    turns: list[Turn] = []
    for question, answer in exchanges:
        turns.append(Turn(question, rewrite(turns, question).question, answer, is_abstention(answer)))
    return turns
