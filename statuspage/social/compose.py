"""Ready posts for social networks: one text per network, within that network's own length rules.

Plain functions (no database, no app): each network counts length its own way, and a post is
cut in its text, with an ellipsis, never in its link or its hashtags.

- Mastodon: 500 characters (grapheme clusters, as Mastodon counts them); every URL counts as 23.
- X (Twitter): 280 weighted characters, as twitter-text counts them: a code point in the Latin,
  general punctuation and similar ranges weighs 1, any other (CJK, most scripts, symbols) 2, an
  emoji (with its modifiers and joiners) 2; every URL counts as 23 (t.co).
- Bluesky: 300 graphemes, the link written out in full and made a link facet (UTF-8 byte
  offsets), each hashtag a tag facet.
- Threads: 500 characters; Facebook: 63,206. Copy-only: no API here, a ready post only."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

import grapheme

ELLIPSIS = "…"
URL_LENGTH = 23  # Mastodon and X (t.co) count any link as this many characters
URL = re.compile(r"https?://[^\s]+")

# twitter-text v3 configuration: code points in these ranges weigh 1 (100), the rest 2 (200).
_X_LIGHT_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))


def _light(code_point: int) -> bool:
    return any(start <= code_point <= end for start, end in _X_LIGHT_RANGES)


def _is_emoji(cluster: str) -> bool:
    """A grapheme cluster twitter-text treats as one emoji (weight 2, whatever its length)."""
    if "\u200d" in cluster or "\ufe0f" in cluster:
        return True
    first = ord(cluster[0])
    return (
        0x1F000 <= first <= 0x1FAFF  # pictographs, emoticons, transport, flags, supplemental
        or 0x2600 <= first <= 0x27BF  # miscellaneous symbols and dingbats
        or 0x1F1E6 <= first <= 0x1F1FF  # regional indicators (flags)
    )


def graphemes(text: str) -> int:
    return grapheme.length(text)


def _split_urls(text: str) -> list[tuple[str, bool]]:
    """The text as (piece, is_url) pieces, in order."""
    pieces, last = [], 0
    for match in URL.finditer(text):
        if match.start() > last:
            pieces.append((text[last : match.start()], False))
        pieces.append((match.group(), True))
        last = match.end()
    if last < len(text):
        pieces.append((text[last:], False))
    return pieces


def mastodon_length(text: str) -> int:
    return sum(URL_LENGTH if is_url else graphemes(piece) for piece, is_url in _split_urls(text))


def x_weight(text: str) -> int:
    """Weighted length as X counts it (NFC text, URLs as 23, emoji 2, non-Latin 2)."""
    total = 0
    for piece, is_url in _split_urls(unicodedata.normalize("NFC", text)):
        if is_url:
            total += URL_LENGTH
            continue
        for cluster in grapheme.graphemes(piece):
            if _is_emoji(cluster):
                total += 2
            else:
                total += sum(1 if _light(ord(c)) else 2 for c in cluster)
    return total


@dataclass(frozen=True)
class Network:
    key: str
    label: str
    limit: int
    measure: Callable[[str], int]
    unit: str  # what the count is of, for the admin page
    by_api: bool  # the app can post to an account of this network itself


NETWORKS: dict[str, Network] = {
    "mastodon": Network("mastodon", "Mastodon", 500, mastodon_length, "characters", True),
    "bluesky": Network("bluesky", "Bluesky", 300, graphemes, "characters", True),
    "x": Network("x", "X (Twitter)", 280, x_weight, "weighted characters", False),
    "threads": Network("threads", "Threads", 500, graphemes, "characters", False),
    "facebook": Network("facebook", "Facebook", 63_206, graphemes, "characters", False),
}


@dataclass(frozen=True)
class Facet:
    """A part of a Bluesky post's text, by UTF-8 byte offsets: a link (uri) or a hashtag (tag)."""

    byte_start: int
    byte_end: int
    uri: str | None = None
    tag: str | None = None


@dataclass(frozen=True)
class Post:
    network: Network
    text: str
    length: int  # as the network counts it
    facets: tuple[Facet, ...] = field(default=())

    @property
    def limit(self) -> int:
        return self.network.limit

    @property
    def fits(self) -> bool:
        return self.length <= self.network.limit


@dataclass(frozen=True)
class Content:
    """What a post says, before it is fitted to a network."""

    heading: str  # status in words, the services and agency: "Major outage: Tax filing (Revenue)"
    essence: str  # the update in short, plain text
    link: str  # the incident's public page, absolute
    hashtags: tuple[str, ...] = ()  # each with its "#"


def compose(network: Network | str, content: Content) -> Post:
    """The post for one network: the text cut to fit (with an ellipsis), the link and hashtags
    whole. Hashtags that cannot fit even beside an empty text are left out, last first."""
    if isinstance(network, str):
        network = NETWORKS[network]
    tags = list(content.hashtags)
    body = _collapse(content.heading) + ("\n\n" + _collapse(content.essence)
                                         if content.essence.strip() else "")  # fmt: skip
    while True:
        tail = "\n\n" + content.link + ("\n\n" + " ".join(tags) if tags else "")
        if network.measure(ELLIPSIS + tail) <= network.limit or not tags:
            break
        tags.pop()
    text = _fit(body, tail, network)
    return Post(network, text, network.measure(text), _facets(text, content.link, tags)
                if network.key == "bluesky" else ())  # fmt: skip


def _collapse(text: str) -> str:
    return " ".join((text or "").split())


def _fit(body: str, tail: str, network: Network) -> str:
    """``body + tail`` when it fits; otherwise the longest start of body (cut at a word when one
    is near) with an ellipsis, then the tail."""
    if network.measure(body + tail) <= network.limit:
        return body + tail
    clusters = list(grapheme.graphemes(body))
    low, high = 0, len(clusters)  # the most clusters that fit, by bisection
    while low < high:
        middle = (low + high + 1) // 2
        if network.measure("".join(clusters[:middle]).rstrip() + ELLIPSIS + tail) <= network.limit:
            low = middle
        else:
            high = middle - 1
    kept = "".join(clusters[:low])
    space = max(kept.rfind(" "), kept.rfind("\n"))
    if space >= len(kept) * 0.6:  # a word boundary not too far back: cut there
        kept = kept[:space]
    return kept.rstrip(" \n.,;:–-") + ELLIPSIS + tail


def _facets(text: str, link: str, tags: list[str]) -> tuple[Facet, ...]:
    """The link and each hashtag of the fitted text (its tail), by UTF-8 byte offsets."""
    facets = []
    start = text.rfind(link)
    prefix = text[:start].encode()
    facets.append(Facet(len(prefix), len(prefix) + len(link.encode()), uri=link))
    position = start + len(link)
    for tag in tags:
        at = text.index(tag, position)
        byte_start = len(text[:at].encode())
        facets.append(Facet(byte_start, byte_start + len(tag.encode()), tag=tag.lstrip("#")))
        position = at + len(tag)
    return tuple(facets)


# --- hashtags, as an agency sets them -----------------------------------------------------------

HASHTAG = re.compile(r"^[^\W\d_][\w]*$|^\w*[^\W\d_]\w*$")
MAX_HASHTAGS = 5
MAX_HASHTAG_LENGTH = 50


def parse_hashtags(text: str) -> list[str]:
    """"#TaxDay, outage" -> ["#TaxDay", "#outage"]; ValueError with a message for the form."""
    words = [word.lstrip("#") for word in re.split(r"[\s,]+", text or "") if word.strip("#")]
    tags: list[str] = []
    for word in words:
        if not HASHTAG.match(word) or len(word) > MAX_HASHTAG_LENGTH:
            raise ValueError(
                f"“{word}” cannot be a hashtag: use letters, digits and underscores, with at least "
                f"one letter and at most {MAX_HASHTAG_LENGTH} characters (no spaces or hyphens)."
            )
        if word.lower() not in (tag[1:].lower() for tag in tags):
            tags.append("#" + word)
    if len(tags) > MAX_HASHTAGS:
        raise ValueError(f"Use at most {MAX_HASHTAGS} hashtags: each one takes room in every post.")
    return tags
