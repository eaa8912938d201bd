"""Ready posts per network: each within its network's real length rules, cut in the text with an
ellipsis, never in the link or the hashtags."""

from __future__ import annotations

import pytest

from statuspage.social.compose import (
    ELLIPSIS,
    NETWORKS,
    Content,
    compose,
    graphemes,
    mastodon_length,
    parse_hashtags,
    x_weight,
)

LINK = "https://status.example.gov/incidents/INC-2026-1123-001"
TAGS = ("#Revenue", "#TaxDay")


def content(essence: str, heading: str = "Investigating a major outage: Tax filing (Revenue)",
            hashtags=TAGS) -> Content:  # fmt: skip
    return Content(heading=heading, essence=essence, link=LINK, hashtags=hashtags)


# --- counting as each network counts -----------------------------------------------------------


def test_mastodon_counts_every_link_as_23_characters():
    assert mastodon_length(LINK) == 23
    assert mastodon_length(f"Down. {LINK} #Tax") == 6 + 23 + 5


def test_mastodon_and_bluesky_count_graphemes_not_code_points_or_bytes():
    family = "👨‍👩‍👧‍👦"  # 7 code points, 25 UTF-8 bytes
    accented = "e\u0301"  # e + combining acute: one character on screen
    assert graphemes(family + accented) == 2
    assert mastodon_length(family + accented) == 2


def test_x_weighs_latin_as_1_and_cjk_and_emoji_as_2_and_links_as_23():
    assert x_weight("Señor café") == 10  # accents are in the Latin ranges
    assert x_weight("税務申告") == 8
    assert x_weight("👍") == 2 and x_weight("👨‍👩‍👧‍👦") == 2  # an emoji sequence counts once
    assert x_weight("Привет") == 6  # Cyrillic is below U+10FF: weight 1
    assert x_weight(LINK) == 23
    assert x_weight("cafe\u0301") == 4  # normalised (NFC) first, as X does


# --- fitting a post ------------------------------------------------------------------------------


@pytest.mark.parametrize("network", list(NETWORKS))
def test_a_short_update_is_posted_whole_with_its_link_and_hashtags(network):
    post = compose(network, content("We are looking into it. Use the paper form meanwhile."))
    assert post.text == ("Investigating a major outage: Tax filing (Revenue)\n\n"
                         "We are looking into it. Use the paper form meanwhile.\n\n"
                         f"{LINK}\n\n#Revenue #TaxDay")  # fmt: skip
    assert post.fits and ELLIPSIS not in post.text


@pytest.mark.parametrize(("network", "limit"), [("mastodon", 500), ("x", 280), ("bluesky", 300),
                                                ("threads", 500)])  # fmt: skip
def test_a_long_update_is_cut_with_an_ellipsis_keeping_link_and_hashtags(network, limit):
    post = compose(network, content("The filing service is slow for everyone today. " * 40))
    assert post.length <= limit == post.limit
    assert post.length >= limit - 20  # cut near the limit, at a word
    assert f"{ELLIPSIS}\n\n{LINK}\n\n#Revenue #TaxDay" in post.text
    assert post.text.endswith("#Revenue #TaxDay")


@pytest.mark.parametrize("network", ["mastodon", "x", "bluesky"])
def test_a_post_exactly_at_the_limit_is_not_cut_and_one_over_it_is(network):
    net = NETWORKS[network]
    fixed = compose(network, content("")).length  # heading, link and hashtags alone
    room = net.limit - fixed - 2  # "\n\n" before the essence
    exact = compose(network, content("a" * room))
    assert exact.length == net.limit and ELLIPSIS not in exact.text
    over = compose(network, content("a" * (room + 1)))
    assert over.length <= net.limit and ELLIPSIS in over.text and LINK in over.text


def test_x_counts_cjk_double_so_a_japanese_update_is_cut_at_half_the_characters():
    post = compose("x", content("電子申告サービスが現在ご利用いただけません。" * 20, heading="障害"))
    assert post.length <= 280
    assert ELLIPSIS in post.text and post.text.endswith("#Revenue #TaxDay")
    visible = post.text.split(ELLIPSIS)[0]
    assert len(visible) < 140  # every character of it weighs 2


def test_emoji_and_accents_are_never_split_when_cut():
    essence = "Démarches en ligne indisponibles 👨‍👩‍👧‍👦 " * 30
    for network in ("mastodon", "bluesky", "x"):
        post = compose(network, content(essence))
        assert post.fits
        cut = post.text.split(ELLIPSIS)[0]
        family = cut.count("👨‍👩‍👧‍👦")  # no part of a joined emoji before the ellipsis
        assert cut.count("👨") == cut.count("👦") == cut.count("\u200d") // 3 == family
        assert "e\u0301" not in cut and cut.count("é") == cut.count("D")


def test_a_long_title_is_cut_too_but_never_the_link():
    heading = "Investigating a major outage: " + "Very long service name " * 30
    post = compose("bluesky", content("Short essence.", heading=heading))
    assert post.fits and LINK in post.text and post.text.endswith("#TaxDay")


def test_hashtags_that_cannot_fit_are_left_out_last_first_never_the_link():
    tags = tuple(f"#{'x' * 48}{n}" for n in range(5))
    post = compose("x", content("Down.", hashtags=tags))
    assert post.fits and LINK in post.text
    assert tags[0] in post.text and tags[4] not in post.text


def test_bluesky_makes_the_link_and_hashtags_facets_by_utf8_byte_offsets():
    post = compose("bluesky", content("Le service est indisponible — réessayez plus tard. 🙏"))
    raw = post.text.encode()
    link, *tags = post.facets
    assert raw[link.byte_start:link.byte_end].decode() == LINK == link.uri
    assert [raw[t.byte_start:t.byte_end].decode() for t in tags] == ["#Revenue", "#TaxDay"]
    assert [t.tag for t in tags] == ["Revenue", "TaxDay"]
    assert link.byte_start > post.text.index(LINK)  # bytes, not characters, before the link


# --- hashtags as an agency types them -----------------------------------------------------------


def test_hashtags_are_read_with_or_without_hash_and_commas_once_each():
    assert parse_hashtags("#TaxDay, outage  #taxday Ñandú_2") == ["#TaxDay", "#outage", "#Ñandú_2"]
    assert parse_hashtags("") == []


@pytest.mark.parametrize("typed", ["#tax-day", "#2026", "#" + "x" * 51, "#a #b #c #d #e #f"])
def test_hashtags_a_network_would_not_read_as_one_are_refused_with_a_reason(typed):
    with pytest.raises(ValueError, match="hashtag"):
        parse_hashtags(typed)
