"""The words of each text message, always within MAX_SEGMENTS: the text part is cut at a word
with an ellipsis when it is too long, never the link."""

from __future__ import annotations

import html
import re

from . import segments

MAX_SEGMENTS = 2
# Typographic characters outside GSM 03.38 with a plain equivalent inside it: one curly quote
# would otherwise send the whole message as UCS-2 (70 characters a segment instead of 160).
_PLAIN = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u2032": "'", "\u201c": '"', "\u201d": '"',
    "\u201e": '"', "\u2033": '"', "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-",
    "\u2014": "-", "\u2212": "-", "\u2026": "...", "\u00a0": " ", "\u202f": " ", "\u2009": " ",
    "\u00b4": "'", "`": "'",
})  # fmt: skip
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_SPACES = re.compile(r"\s+")
_TAGS = re.compile(r"<[^>]*>")
_MARKS = re.compile(r"(\*\*|__|[*_#>`]|\[|\]\([^)]*\))")  # Markdown emphasis, headings, links


def clean(text: str) -> str:
    """One line of plain text: control and invisible characters and runs of spaces become one
    space; typographic quotes and dashes become their plain forms."""
    text = _INVISIBLE.sub(" ", text or "").translate(_PLAIN)
    return _SPACES.sub(" ", text).strip()


def plain_markdown(text: str) -> str:
    """A Markdown update body as plain words (links keep their text, marks go)."""
    text = html.unescape(_TAGS.sub(" ", text or ""))
    return clean(_MARKS.sub("", text))


def fit(text: str, link: str = "", max_segments: int = MAX_SEGMENTS) -> str:
    """``text``, a line break and ``link`` within max_segments. A text too long is cut at a word
    and ends with an ellipsis ("..." while the message is GSM-7, "…" when it is UCS-2 anyway)."""
    text = clean(text)

    def joined(head: str) -> str:
        return f"{head}\n{link}" if head and link else head or link

    if segments.fits(joined(text), max_segments):
        return joined(text)
    if not segments.fits(link, max_segments):
        raise ValueError("the link alone is longer than the message may be")
    # No message holds more than 153 * max_segments characters, so longer text is cut first.
    for end in range(min(len(text), segments.GSM_PART * max_segments), 0, -1):
        head = _at_word(text[:end])
        if head:
            head += "..." if segments.is_gsm(head) else "\u2026"
            if segments.fits(joined(head), max_segments):
                return joined(head)
    return link


def _at_word(head: str) -> str:
    """The head without a word cut in two (when a space is near), and without trailing marks."""
    head = head.rstrip()
    space = head.rfind(" ")
    if space >= len(head) - 20 and space > 0:
        head = head[:space]
    return head.rstrip(" ,;:-.")


def update_text(
    agency: str, services: list[str], status: str, title: str, body: str, link: str
) -> str:
    """ "Tax filing (Department of Revenue): major outage, investigating. <title>. <body>" and the
    incident's link on its own line, within MAX_SEGMENTS."""
    names = ", ".join(clean(s) for s in services)
    head = f"{names} ({clean(agency)})" if names else clean(agency)
    title = clean(title).rstrip(".")
    essence = plain_markdown(body)
    text = f"{head}: {status}. {title}." + (f" {essence}" if essence else "")
    return fit(text, link)


def code_text(site_name: str, code: str) -> str:
    return fit(
        f"Your code is {code}. It confirms your text message updates from {site_name}. "
        "If you did not ask for it, ignore this message."
    )
