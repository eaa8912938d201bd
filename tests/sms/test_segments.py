"""Counting SMS segments (GSM 03.38 and UCS-2) and composing texts that fit in two."""

import pytest

from statuspage.sms import compose, segments
from statuspage.sms.segments import count

LINK = "https://status.example.gov/incidents/INC-2026-1123-001"


@pytest.mark.parametrize(
    ("text", "encoding", "units", "parts"),
    [
        ("", "GSM-7", 0, 0),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # the extension table's characters count two
        ("[" * 81, "GSM-7", 162, 2),
        # 76 two-septet characters fill 152 of a part's 153: the 77th never splits, so 153 of
        # them take three parts although 306 septets would fit two.
        ("€" * 153, "GSM-7", 306, 3),
        ("á" * 70, "UCS-2", 70, 1),
        ("á" * 71, "UCS-2", 71, 2),
        ("á" * 134, "UCS-2", 134, 2),
        ("á" * 135, "UCS-2", 135, 3),
        ("😀" * 35, "UCS-2", 70, 1),  # beyond the Basic Multilingual Plane: two code units
        ("😀" * 34 + "a" * 3, "UCS-2", 71, 2),
    ],
)
def test_segments_are_counted_as_phones_send_them(text, encoding, units, parts):
    assert count(text) == segments.Count(encoding, units, parts)


@pytest.mark.parametrize(
    ("text", "gsm"),
    [
        ("Año, él, ¿dónde?", False),  # ó is not in GSM 03.38
        ("Año, él, ¿qué? ¡Sí!", False),  # í is not either
        ("Año, él, ¿qué pasó?", False),
        ("Año, él, ¿qué? ¡Ya!", True),  # ñ, é, ¿ and ¡ are
        ("àèéìòù ÄÖÜäöüÑñ ÅåÆæØøß É Ç", True),
        ("ç", False),  # only the capital C with cedilla is in the table
        ("á", False),
        ("ú", False),
        ("$ £ ¥ ¤ § @ _", True),
        ("`", False),
        ("ΔΦΓΛΩΠΨΣΘΞ", True),
        ("^{}\\[~]|€", True),
    ],
)
def test_spanish_and_other_characters_follow_the_gsm_table_exactly(text, gsm):
    assert segments.is_gsm(text) is gsm
    assert count(text).encoding == ("GSM-7" if gsm else "UCS-2")


def test_a_short_update_is_whole_with_the_link_on_its_own_line():
    text = compose.update_text(
        "Department of Revenue", ["Tax filing"], "major outage, investigating",
        "Online filing unavailable", "We are **looking** into it.", LINK,
    )  # fmt: skip
    assert text == (
        "Tax filing (Department of Revenue): major outage, investigating. "
        "Online filing unavailable. We are looking into it.\n" + LINK
    )
    assert count(text).segments <= 2


def test_a_long_title_is_cut_at_a_word_with_an_ellipsis_and_the_link_is_kept():
    title = " ".join(["Filing"] * 40)  # 279 characters
    text = compose.update_text(
        "Department of Revenue", ["Tax filing", "Refund tracker"], "partial outage, identified",
        title, "Long body. " * 100, LINK,
    )  # fmt: skip
    assert text.endswith("...\n" + LINK)
    assert count(text) == segments.Count("GSM-7", count(text).units, 2)
    assert count(text).units > 280  # it uses the room it has
    assert "Filin..." not in text  # never half a word


def test_a_text_with_a_character_outside_gsm_is_cut_to_two_ucs2_segments():
    text = compose.update_text(
        "Departamento de Hacienda", ["Declaración"], "interrupción total, investigando",
        "No se puede presentar la declaración en línea " * 5, "Estamos investigando.", LINK,
    )  # fmt: skip
    assert count(text).encoding == "UCS-2"
    assert count(text).segments == 2
    assert text.endswith("\u2026\n" + LINK)


def test_the_one_character_outside_gsm_is_cut_away_the_text_becomes_gsm():
    text = compose.fit("word " * 80 + "más", LINK)
    assert count(text).encoding == "GSM-7" and count(text).segments == 2
    assert text.endswith("word...\n" + LINK)


def test_typographic_quotes_and_dashes_keep_a_text_in_gsm():
    text = compose.fit("It\u2019s \u201cdown\u201d \u2014 we\u2019re on it\u2026", LINK)
    assert text == "It's \"down\" - we're on it...\n" + LINK
    assert count(text).encoding == "GSM-7"


def test_control_and_invisible_characters_become_spaces():
    text = compose.fit("Filing\x00down\r\nBcc: x\x1b[31m\u200bred\u202e", LINK)
    assert text == "Filing down Bcc: x [31m red\n" + LINK


def test_the_code_text_is_one_segment():
    text = compose.code_text("Government Service Status", "012345")
    assert "012345" in text and count(text).segments == 1
