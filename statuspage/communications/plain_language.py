"""Plain-language advice for an update before it is published. Advice only: it never blocks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import pyphen

TARGET_GRADE = 8
AMBIGUOUS_TIMES = {
    "midnight": "say the date and time, e.g. “11:59 PM on Tuesday 24 November”",
    "noon": "say “12 PM” and the day",
    "12 am": "say “midnight at the end of Tuesday” or use 11:59 PM",
    "12 pm": "say “12 noon” and the day",
    "ASAP": "say when, or when the next update will come",
    "as soon as possible": "say when, or when the next update will come",
    "shortly": "say when, e.g. “by 3:30 PM EST”",
    "soon": "say when, e.g. “by 3:30 PM EST”",
    "later today": "give a time with its time zone",
    "end of day": "give a time with its time zone",
    "EOD": "give a time with its time zone",
    "tonight": "give a time with its time zone",
    "this evening": "give a time with its time zone",
}
# The elements every public update should cover, with how to name them in advice.
ELEMENTS = {
    "what_affected": "what is affected",
    "who_affected": "who is affected",
    "affected_since": "since when",
    "cause": "why it happened (if known)",
    "workaround": "what people can do meanwhile",
    "help": "how to get help",
    "next_update_at": "when the next update will come",
}
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


@dataclass
class Advice:
    grade: float | None = None
    jargon: list[tuple[str, str]] = field(default_factory=list)
    ambiguous: list[tuple[str, str]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def grade_too_high(self) -> bool:
        return self.grade is not None and self.grade > TARGET_GRADE

    @property
    def is_clear(self) -> bool:
        return not (self.grade_too_high or self.jargon or self.ambiguous or self.missing)


@lru_cache(maxsize=1)
def _hyphenator() -> pyphen.Pyphen:
    return pyphen.Pyphen(lang="en_US")


def syllables(word: str) -> int:
    return max(1, len(_hyphenator().positions(word)) + 1)


def reading_grade(text: str) -> float | None:
    """Flesch-Kincaid grade level; None for text too short to judge."""
    words = _WORD.findall(text)
    if len(words) < 5:
        return None
    sentences = max(1, len(_SENTENCE_END.findall(text.strip() + " ")))
    syllable_count = sum(syllables(word) for word in words)
    grade = 0.39 * len(words) / sentences + 11.8 * syllable_count / len(words) - 15.59
    return round(max(grade, 0.0), 1)


def _find(phrase: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", text, re.IGNORECASE) is not None


def advise(fields: dict[str, object], jargon: dict[str, str], *, resolved: bool) -> Advice:
    """Advice on an update's text: reading grade, jargon, ambiguous times, missing elements."""
    texts = [str(value) for value in fields.values() if isinstance(value, str) and value]
    text = "\n".join(texts)
    advice = Advice(grade=reading_grade(" ".join(t.rstrip(".") + "." for t in texts)))
    advice.jargon = sorted((term, plainer) for term, plainer in jargon.items() if _find(term, text))
    advice.ambiguous = [
        (phrase, fix) for phrase, fix in AMBIGUOUS_TIMES.items() if _find(phrase, text)
    ]
    for key, name in ELEMENTS.items():
        if resolved and key in ("next_update_at", "workaround"):
            continue
        if not fields.get(key):
            advice.missing.append(name)
    return advice
