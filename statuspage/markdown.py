"""The one way Markdown becomes HTML: render, then sanitise with nh3. Never optional."""

from __future__ import annotations

import textwrap
from functools import lru_cache
from html.parser import HTMLParser

import markdown as markdown_lib
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "em",
    "h3",
    "h4",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "strong",
    "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto", "tel"}


def render_markdown(text: str) -> Markup:
    """Markdown to sanitised HTML, safe to place in any page or email."""
    if type(text) is str:  # not a subclass such as Markup, whose methods behave differently
        return _remembered(text)
    return _render(text)


@lru_cache(maxsize=256)
def _remembered(text: str) -> Markup:
    """The same, remembered per text (the result depends on nothing else): every render of the
    front page shows the latest update of each open incident, 0.4 ms each on a small server."""
    return _render(text)


def _render(text: str) -> Markup:
    html = markdown_lib.markdown(text or "", extensions=["sane_lists"], output_format="html")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return Markup(clean)


def render_plain_text(text: str, width: int = 72) -> str:
    """Markdown as plain text, for the text part of an email: no `**`, `#` or `[x](y)` left;
    a link reads "text (address)"; lists keep their "- " and "1. "; paragraphs wrapped at
    ``width`` without breaking a word or a link."""
    parser = _PlainText()
    parser.feed(str(render_markdown(text or "")))
    parser.close()
    return parser.result(width)


def wrap_plain_text(text: str, width: int = 72) -> str:
    """Plain text (not Markdown) wrapped like render_plain_text: paragraphs kept, lines wrapped."""
    return "\n".join(_wrap(line, width) for line in (text or "").strip().splitlines())


def _wrap(line: str, width: int, first: str = "", rest: str = "") -> str:
    if not line.strip():
        return first.rstrip()
    return textwrap.fill(
        " ".join(line.split()), width, initial_indent=first, subsequent_indent=rest,
        break_long_words=False, break_on_hyphens=False,
    )  # fmt: skip


class _PlainText(HTMLParser):
    """Walks the sanitised HTML (only ALLOWED_TAGS can occur) into blocks of text."""

    BLOCKS = frozenset({"p", "h3", "h4", "li", "pre", "blockquote", "hr"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        # (text, first-line prefix, other lines' prefix); list items have a marker in the first
        self.blocks: list[tuple[str, str, str]] = []
        self.current: list[str] = []
        self.lists: list[list] = []  # per open list: [ordered, next number]
        self.quote = 0
        self.pre = False
        self.links: list[tuple[str, int]] = []  # (href, where its text starts in current)

    def _prefix(self) -> str:
        return "> " * self.quote + "   " * max(len(self.lists) - 1, 0)

    def _flush(self, first: str | None = None) -> None:
        text = "".join(self.current)
        self.current = []
        if text.strip():
            prefix = self._prefix()
            self.blocks.append((text, prefix + (first or ""), prefix + " " * len(first or "")))

    def handle_starttag(self, tag, attrs):
        if tag in self.BLOCKS or tag in ("ul", "ol"):
            self._flush_item()
        if tag in ("ul", "ol"):
            self.lists.append([tag == "ol", 1])
        elif tag == "li":
            self.current.append("\0li\0")
        elif tag == "blockquote":
            self.quote += 1
        elif tag == "pre":
            self.pre = True
        elif tag == "br":
            self.current.append("\n")
        elif tag == "hr":
            self.blocks.append(("-" * 20, "", ""))
        elif tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.current)))

    def handle_endtag(self, tag):
        if tag == "a" and self.links:
            href, start = self.links.pop()
            label = "".join(self.current[start:]).strip()
            shown = href.removeprefix("mailto:").removeprefix("tel:")
            if href and label not in (href, shown):
                self.current.append(f" ({shown})")
        elif tag == "li":
            self._flush_item()
        elif tag in ("ul", "ol"):
            self._flush_item()
            if self.lists:
                self.lists.pop()
        elif tag in self.BLOCKS:
            if tag == "pre":
                text = "".join(self.current).strip("\n")
                self.current = []
                if text:
                    self.blocks.append((text, "\0pre\0", ""))
                self.pre = False
            else:
                self._flush()
            if tag == "blockquote":
                self.quote -= 1

    def _flush_item(self) -> None:
        text = "".join(self.current)
        if "\0li\0" not in text:
            self._flush()
            return
        before, _, item = text.rpartition("\0li\0")
        self.current = [before]
        self._flush()
        if self.lists:
            ordered, number = self.lists[-1]
            marker = f"{number}. " if ordered else "- "
            self.lists[-1][1] += 1
        else:
            marker = "- "
        self.current = [item]
        self._flush(marker)

    def handle_data(self, data):
        # A line break in the source is a space, as in the HTML; only <br> breaks a line.
        self.current.append(data if self.pre else data.replace("\n", " "))

    def close(self):
        super().close()
        self._flush()

    def result(self, width: int) -> str:
        out: list[str] = []
        was_item = False
        for text, first, rest in self.blocks:
            if first == "\0pre\0":
                paragraph = text
            else:
                lines = [
                    _wrap(line, width, first if index == 0 else rest, rest)
                    for index, line in enumerate(text.split("\n"))
                ]
                paragraph = "\n".join(line for line in lines if line)
            if not paragraph.strip():
                continue
            is_item = first.rstrip().endswith(("-", ".")) and first != rest
            if out:  # list items one to a line, other blocks a blank line apart
                out.append("\n" if is_item and was_item else "\n\n")
            out.append(paragraph)
            was_item = is_item
        return "".join(out)
