"""The monthly report's charts as inline SVG, drawn on the server.

No JavaScript and no requests, so a chart shows during an outage and in a saved page. The site's
CSP forbids inline styles, so the look comes from classes styled in site.css; the presentation
attributes (`fill`, `stroke`) are only a fallback for when the stylesheet is missing.

Colour never carries the meaning alone: every value is printed beside its bar, a bar below the
target is hatched as well as coloured, and the <desc> says every value in words. The data table
printed beside each chart (components/charts.html) has the same figures. Text in a viewBox shrinks
with the chart, so a phone gets a drawing of its own, NARROW units wide (reports/presentation.py
draws both; site.css shows one), whose 16-unit text stays at about 16 px.

Text widths are estimated from character counts (no font metrics on the server), generously, so
labels wrap a little early rather than run into each other.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

Item = tuple[str, float | None]
Say = Callable[[float | None], str]

WIDTH = 640
NARROW = 320  # the drawing shown on a phone: at 390 px its 16-unit text is about 16 px
SIDE = 8  # keeps strokes at the edges inside the viewBox
CHAR_EM = 0.6  # wider than the average character of the sans-serif fonts the site asks for
NO_DATA = "no data"
FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"  # as site.css

# Fallback colours, the same as the :root variables in site.css.
BLUE, RED, TEXT, MUTED, WHITE = "#1d70b8", "#c0281a", "#0b0c0c", "#484949", "#fff"

_SAFE_ID = re.compile(r"[a-z0-9-]+")
# Characters XML 1.0 forbids even escaped; a name pasted from a spreadsheet can carry them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def bar_chart(
    chart_id: str,
    title: str,
    bars: Sequence[Item],
    *,
    unit: str = "",
    max_value: float | None = None,
    target: float | None = None,
    value_format: str = "{:g}",
    say: Say | None = None,
    width: float = WIDTH,
) -> Markup:
    """Horizontal bars, one a row, each label above its bar and the value printed after it.

    Labels go above rather than to the left so that long service names keep the full width. A bar
    below `target` misses it: hatched, and said so in the description. `say` writes a value in
    words (the table's formatter, so a figure reads the same in both); `width` is the drawing's
    width in its own units, the text being 16 of them (NARROW for a phone).
    """
    _check_id(chart_id)
    scale = _scale(bars, max_value, target)
    font, bar_height, line_height = 16, 24, 20
    say = say or _sayer(unit, value_format)
    right = max((_width(say(value), font) for _, value in bars), default=0) + 12
    bar_room = width - SIDE - right
    target_x = SIDE + _length(target, scale, bar_room) if target is not None else None
    top = font + 12 if target is not None else 4

    shapes: list[str] = []
    texts: list[str] = []
    gaps: list[tuple[float, float]] = []  # labels long enough to reach the target line
    y = top
    for label, value in bars:
        lines = _wrap(label, int((width - SIDE) / (font * CHAR_EM)))
        texts.append(_text_lines("chart-label", SIDE, y + font, lines, line_height))
        longest = max(_width(line, font) for line in lines)
        if target_x is not None and SIDE + longest >= target_x - 4:
            gaps.append((y, y + len(lines) * line_height + 2))
        y += len(lines) * line_height + 4
        length = _length(value, scale, bar_room)
        if value is not None:
            shapes.append(_bar(chart_id, SIDE, y, length, bar_height, _misses(value, target)))
        words, x = say(value), SIDE + length + 6
        if target_x is not None and x - 6 <= target_x <= x + _width(words, font) + 4:
            x = target_x + 6  # past the target line rather than struck through by it
        texts.append(_text("chart-value", x, y + bar_height / 2 + font * 0.35, words))
        y += bar_height + 14
    bottom = y
    if not bars:
        texts.append(_text("chart-value", SIDE, top + font, NO_DATA))
        bottom = top + font + 8

    if target_x is not None:
        shapes.append(_vertical_dashes(target_x, top - 4, bottom - 8, gaps))
        label, x = f"target {say(target)}", target_x
        half, anchor = _width(label, font) / 2, "middle"
        if x - half < SIDE:  # near an edge, the label stops at the edge instead of centring
            anchor, x = "start", SIDE
        elif x + half > width - SIDE:
            anchor, x = "end", width - SIDE
        texts.append(_text("chart-label chart-target-label", x, font, label, anchor=anchor))
    axis = _line("chart-axis", SIDE, top - 4, SIDE, bottom - 8)

    key, height = _key(chart_id, bars, target, bottom, font)
    desc = _describe(bars, say, target)
    return _svg(chart_id, title, desc, width, height, font, [axis, *shapes, *texts, *key])


def column_chart(
    chart_id: str,
    title: str,
    columns: Sequence[Item],
    *,
    unit: str = "",
    max_value: float | None = None,
    target: float | None = None,
    value_format: str = "{:g}",
    say: Say | None = None,
) -> Markup:
    """Vertical columns for a trend over months, the value above each and the label below.

    Labels wrap at spaces ("Jun" over "2026") so that a year of months fits; with more columns the
    chart grows wider rather than letting the text collide. The target line is labelled at its
    right end, outside the columns.
    """
    _check_id(chart_id)
    scale = _scale(columns, max_value, target)
    font, line_height, plot_height = 14, 17, 200
    say = say or _sayer(unit, value_format)
    target_lines = ["target", say(target)] if target is not None else []
    target_height = _length(target, scale, plot_height)
    right = max((_width(line, font) for line in target_lines), default=0) + 12
    # Wide enough for the longest word under or over a column ("incidents", "2026").
    words = [word for label, value in columns for word in f"{label} {say(value)}".split()]
    min_slot = max([64, *(_width(word, font) + 10 for word in words)])
    width = max(WIDTH, SIDE + len(columns) * min_slot + right)
    slot = (width - SIDE - right) / max(len(columns), 1)
    fits = int((slot - 4) / (font * CHAR_EM))
    # A value too wide for its column ("12 incidents") stacks upwards over its column.
    values = [_wrap(say(value), fits) for _, value in columns]
    top = font + 10 + (max((len(lines) for lines in values), default=1) - 1) * line_height
    baseline = top + plot_height

    shapes: list[str] = []
    texts: list[str] = []
    most_lines = 1
    for index, ((label, value), value_lines) in enumerate(zip(columns, values, strict=True)):
        centre = SIDE + slot * (index + 0.5)
        height = _length(value, scale, plot_height)
        if value is not None:
            column_width = min(slot * 0.6, 48)
            left = centre - column_width / 2
            missed = _misses(value, target)
            shapes.append(
                _bar(chart_id, left, baseline - height, height, column_width, missed, vertical=True)
            )
        # Above the target line when the column stops short of it, so the line never strikes
        # through the value.
        lift = max(height, target_height + 2) if target is not None else height
        above = baseline - lift - 6 - (len(value_lines) - 1) * line_height
        texts.append(_text_lines("chart-value", centre, above, value_lines, line_height, "middle"))
        lines = _wrap(label, fits)
        most_lines = max(most_lines, len(lines))
        first = baseline + font + 6
        texts.append(_text_lines("chart-label", centre, first, lines, line_height, "middle"))
    if not columns:
        texts.append(_text("chart-value", SIDE, baseline - 6, NO_DATA))
    axis = _line("chart-axis", SIDE, baseline, width - right + 4, baseline)

    if target is not None:
        y = baseline - target_height
        shapes.append(_line("chart-target", SIDE, y, width - right + 4, y, dashed=True))
        first = max(y - 2, font)
        label_x = width - right + 8
        texts.append(
            _text_lines("chart-label chart-target-label", label_x, first, target_lines, font + 2)
        )

    bottom = baseline + most_lines * line_height + 14
    key, height = _key(chart_id, columns, target, bottom, font)
    desc = _describe(columns, say, target)
    return _svg(chart_id, title, desc, width, height, font, [axis, *shapes, *texts, *key])


def _check_id(chart_id: str) -> None:
    """The id goes unescaped into id="..." and url(#...), so only a plain one is let through."""
    if not _SAFE_ID.fullmatch(chart_id):
        raise ValueError(f"chart id must be lowercase letters, digits and hyphens: {chart_id!r}")


def _scale(items: Sequence[Item], max_value: float | None, target: float | None) -> float:
    """The value drawn at full length; 0 when there is nothing to draw (every bar then has none).

    Negative or non-finite values are refused rather than drawn wrongly: the bars start at 0.
    """
    values = [value for _, value in items if value is not None]
    for value in [*values, *([target] if target is not None else [])]:
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"chart values and targets must be finite and not negative: {value}")
    if max_value is None:
        return max([*values, *([target] if target is not None else [])], default=0)
    if not (math.isfinite(max_value) and max_value > 0):
        raise ValueError(f"max_value must be a positive number: {max_value}")
    if target is not None and target > max_value:
        raise ValueError(f"target {target} is beyond max_value {max_value}")
    return max_value


def _length(value: float | None, scale: float, room: float) -> float:
    """A value's length in viewBox units; a value past max_value fills the room (its text says)."""
    if value is None or scale <= 0:
        return 0.0
    return room * min(value, scale) / scale


def _misses(value: float | None, target: float | None) -> bool:
    return target is not None and value is not None and value < target


def _sayer(unit: str, value_format: str) -> Say:
    def say(value: float | None) -> str:
        return NO_DATA if value is None else value_format.format(value) + unit

    return say


def _describe(items: Sequence[Item], say: Say, target: float | None) -> str:
    """Every value in words, e.g. 'P1: 2 incidents; P2: no data.'"""
    parts = [
        f"{label}: {say(value)}" + (" (below target)" if _misses(value, target) else "")
        for label, value in items
    ]
    words = "; ".join(parts) + "." if parts else "No data."
    return f"Target {say(target)}. {words}" if target is not None else words


def _width(text: str, font: float) -> float:
    return len(text) * font * CHAR_EM


def _wrap(text: str, max_chars: int) -> list[str]:
    """Words into lines of at most max_chars; a longer word keeps a line of its own."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= max_chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _clean(text: str) -> Markup:
    return escape(_NOT_XML.sub("", text))


def _n(number: float) -> str:
    return f"{number:.2f}".rstrip("0").rstrip(".")


def _text(class_: str, x: float, y: float, text: str, anchor: str = "start") -> str:
    return (
        f'<text class="{class_}" x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" fill="{TEXT}">'
        f"{_clean(text)}</text>"
    )


def _text_lines(
    class_: str,
    x: float,
    y: float,
    lines: Sequence[str],
    line_height: float,
    anchor: str = "start",
) -> str:
    spans = "".join(
        f'<tspan x="{_n(x)}" y="{_n(y + i * line_height)}">{_clean(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text class="{class_}" text-anchor="{anchor}" fill="{TEXT}">{spans}</text>'


def _bar(
    chart_id: str,
    x: float,
    y: float,
    length: float,
    thickness: float,
    missed: bool,
    *,
    vertical: bool = False,
) -> str:
    width, height = (thickness, length) if vertical else (length, thickness)
    if missed:
        paint = f'class="chart-bar chart-bar-over" fill="url(#{chart_id}-hatch)" stroke="{RED}"'
    else:
        paint = f'class="chart-bar" fill="{BLUE}"'
    return f'<rect {paint} x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="{_n(height)}"/>'


def _line(class_: str, x1: float, y1: float, x2: float, y2: float, dashed: bool = False) -> str:
    colour, dash = (TEXT, ' stroke-dasharray="6 4"') if dashed else (MUTED, "")
    return (
        f'<line class="{class_}" x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
        f'stroke="{colour}" stroke-width="2"{dash}/>'
    )


def _vertical_dashes(
    x: float, start: float, end: float, gaps: Sequence[tuple[float, float]]
) -> str:
    """The target line from start to end, broken where a long label would be struck through."""
    moves, y = [], start
    for gap_start, gap_end in gaps:
        if gap_start > y:
            moves.append(f"M{_n(x)} {_n(y)}V{_n(gap_start)}")
        y = max(y, gap_end)
    if end > y:
        moves.append(f"M{_n(x)} {_n(y)}V{_n(end)}")
    return (
        f'<path class="chart-target" d="{"".join(moves)}" fill="none" stroke="{TEXT}" '
        'stroke-width="2" stroke-dasharray="6 4"/>'
    )


def _key(
    chart_id: str, items: Sequence[Item], target: float | None, bottom: float, font: float
) -> tuple[list[str], float]:
    """The hatch explained in words, below the chart, when some bar misses the target."""
    if not any(_misses(value, target) for _, value in items):
        return [], bottom
    swatch = (
        f'<rect class="chart-key-swatch" x="{SIDE}" y="{_n(bottom)}" width="24" height="16" '
        f'fill="url(#{chart_id}-hatch)" stroke="{RED}" stroke-width="2"/>'
    )
    words = _text("chart-label", SIDE + 32, bottom + 13, "hatched: below target")
    return [swatch, words], bottom + 16 + font


def _svg(
    chart_id: str,
    title: str,
    desc: str,
    width: float,
    height: float,
    font: int,
    body: list[str],
) -> Markup:
    # The pattern's id is prefixed by chart_id: two charts on a page must not share ids.
    hatch = (
        f'<defs><pattern id="{chart_id}-hatch" width="8" height="8" '
        'patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        f'<rect class="chart-hatch-bg" width="8" height="8" fill="{WHITE}"/>'
        f'<rect class="chart-hatch-line" width="4" height="8" fill="{RED}"/></pattern></defs>'
    )
    # The font size is in viewBox units, so it scales with the chart; the family is the page's.
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg" width="100%" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" preserveAspectRatio="xMinYMin meet" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false" '
        f'font-size="{font}" font-family="{FONT_FAMILY}">'
    )
    return Markup(
        "\n".join(
            [
                head,
                f'<title id="{chart_id}-title">{_clean(title)}</title>',
                f'<desc id="{chart_id}-desc">{_clean(desc)}</desc>',
                hatch,
                *body,
                "</svg>",
            ]
        )
    )
