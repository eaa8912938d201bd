import pytest

from statuspage.markdown import render_markdown

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    "[click me](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    '<img src=x onerror="alert(1)">',
    '<p onclick="alert(1)">hi</p>',
    "<iframe src='https://evil.example'></iframe>",
    '<svg onload="alert(1)"></svg>',
    "[x](JaVaScRiPt:alert(1))",
    '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
    "<style>body{display:none}</style>",
]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_markdown_renders_script_and_event_handlers_harmless(payload):
    html = str(render_markdown(payload)).lower()
    assert "<script" not in html
    assert "javascript:" not in html
    assert "onerror" not in html and "onclick" not in html and "onload" not in html
    assert "<iframe" not in html and "<style" not in html and "<svg" not in html
    assert "data:text/html" not in html


def test_markdown_keeps_plain_formatting_and_safe_links():
    html = str(
        render_markdown(
            "We are **working on it**.\n\n- one\n- two\n\n[Help](https://example.gov/help)"
        )
    )
    assert "<strong>working on it</strong>" in html
    assert "<li>one</li>" in html
    assert 'href="https://example.gov/help"' in html
    assert 'rel="noopener noreferrer nofollow"' in html
