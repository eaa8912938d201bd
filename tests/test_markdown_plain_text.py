"""Markdown as plain text for the text part of emails: what a reader of plain text sees."""

from statuspage.markdown import render_plain_text, wrap_plain_text


def test_markup_is_gone_and_links_read_as_text_then_address():
    text = render_plain_text(
        "### Heading\n\nIt is **down**, _really_. See [help](https://example.gov/help) or "
        "<https://example.gov/status>.\n\n> quoted `code`"
    )
    assert text == (
        "Heading\n\nIt is down, really. See help (https://example.gov/help) or\n"
        "https://example.gov/status.\n\n> quoted code"
    )


def test_lists_keep_their_markers_one_item_a_line():
    text = render_plain_text("- one\n- two\n    - inner\n\n1. first\n2. second")
    assert text.splitlines() == ["- one", "- two", "   - inner", "1. first", "2. second"]


def test_long_paragraphs_are_wrapped_without_breaking_a_word_or_a_link():
    link = "https://example.gov/" + "a" * 90
    text = render_plain_text("word " * 40 + link + " end")
    assert all(len(line) <= 72 for line in text.splitlines() if line != link)
    assert link in text.splitlines()
    assert all(len(line) <= 72 for line in wrap_plain_text("Who: " + "people " * 20).splitlines())


def test_code_blocks_keep_their_lines():
    assert render_plain_text("    line one\n      line two") == "line one\n  line two"
