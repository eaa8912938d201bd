"""Characters text may hold: what form fields refuse, and what is left out of stored text when
it is written as XML, HTML, iCalendar, CSV or JSON (so an old row cannot break a page or a feed)."""

from __future__ import annotations

import re
import unicodedata

# XML 1.0 allows tab, newline, carriage return and everything from U+0020 up, except the
# surrogates and the noncharacters U+FFFE and U+FFFF.
_NOT_IN_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# A form field refuses those and the other control characters (DEL, C1); tab and newline stay,
# and carriage returns are normalised to newlines before this check.
_REFUSED = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")

# Labels that are questions are quoted in messages rather than given an article.
QUESTION_WORDS = {"What", "Who", "Why", "How", "When", "Where", "Which"}


def xml_safe(text: str) -> str:
    """The text without the characters XML cannot carry."""
    return _NOT_IN_XML.sub("", text)


def is_xml_safe(text: str) -> bool:
    return _NOT_IN_XML.search(text) is None


def xml_safe_tree(data):
    """Every string in nested lists and dicts (a JSON document), made XML-safe."""
    if isinstance(data, str):
        return xml_safe(data)
    if isinstance(data, list | tuple):
        return [xml_safe_tree(item) for item in data]
    if isinstance(data, dict):
        return {key: xml_safe_tree(value) for key, value in data.items()}
    return data


def normalise_line_ends(text: str) -> str:
    """CRLF and lone CR as the newline every other line end is."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def refusal(text: str, label: str) -> str | None:
    """The message for a field holding a character it refuses, or None when the text is clean."""
    found = _REFUSED.search(text)
    if found is None:
        return None
    character = found.group()
    kind = "control character" if unicodedata.category(character) == "Cc" else "character"
    return f"Remove the {kind} (U+{ord(character):04X}) from {_field_name(label)}."


def _field_name(label: str) -> str:
    """“the title” for a noun, “What is affected” quoted for a question."""
    if label.split(" ", 1)[0] in QUESTION_WORDS:
        return f"“{label}”"
    return "the " + (label[:1].lower() + label[1:] if label[1:2].islower() else label)
