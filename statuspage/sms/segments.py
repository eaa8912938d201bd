"""How many SMS segments a text takes: GSM-7 when every character is in the GSM 03.38 alphabet
(160 septets alone, 153 a part; the extension table's characters take two), UCS-2 otherwise (70
code units alone, 67 a part; a character beyond the Basic Multilingual Plane takes two). A
two-septet character or a surrogate pair is never split between parts, as phones send them."""

from __future__ import annotations

from dataclasses import dataclass

# GSM 03.38 basic table (3GPP TS 23.038, Unicode's GSM0338.TXT): 0x09 is capital Ç, 0x24 is ¤.
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
) - {"\x1b"}  # the escape itself is not a character of a text
# The extension table: each is sent as ESC plus one septet.
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class Count:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def is_gsm(text: str) -> bool:
    return all(c in GSM_BASIC or c in GSM_EXTENSION for c in text)


def _widths(text: str, gsm: bool) -> list[int]:
    if gsm:
        return [2 if c in GSM_EXTENSION else 1 for c in text]
    return [2 if ord(c) > 0xFFFF else 1 for c in text]


def count(text: str) -> Count:
    gsm = is_gsm(text)
    widths = _widths(text, gsm)
    single, part = (GSM_SINGLE, GSM_PART) if gsm else (UCS2_SINGLE, UCS2_PART)
    units = sum(widths)
    if units <= single:
        return Count("GSM-7" if gsm else "UCS-2", units, 1 if text else 0)
    segments, used = 1, 0
    for width in widths:  # fill each part; a two-unit character that does not fit starts the next
        if used + width > part:
            segments, used = segments + 1, 0
        used += width
    return Count("GSM-7" if gsm else "UCS-2", units, segments)


def fits(text: str, segments: int) -> bool:
    return count(text).segments <= segments
