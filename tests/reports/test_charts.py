"""The report charts, read back as XML: what a screen reader, a parser and the eye would find."""

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from statuspage.reports.charts import bar_chart, column_chart

NS = "{http://www.w3.org/2000/svg}"
TEMPLATES = Path(__file__).parents[2] / "statuspage" / "templates"
PRIORITIES = [("P1", 2), ("P2", 5), ("P3", None)]
AVAILABILITY = [("Passports", 99.95), ("Tax", 99.5), ("Benefits", 99.9)]


def parse(svg: Markup) -> ET.Element:
    return ET.fromstring(str(svg))


def classes(element: ET.Element) -> list[str]:
    return element.get("class", "").split()


def bars(root: ET.Element) -> list[ET.Element]:
    return [el for el in root.iter(f"{NS}rect") if "chart-bar" in classes(el)]


def texts(root: ET.Element, class_: str) -> list[str]:
    return [
        " ".join(part.strip() for part in el.itertext() if part.strip())
        for el in root.iter(f"{NS}text")
        if class_ in classes(el)
    ]


def number(element: ET.Element, attribute: str) -> float:
    return float(element.get(attribute))


def test_bar_lengths_are_proportional_to_the_values():
    root = parse(bar_chart("c", "Incidents", [("A", 8), ("B", 4), ("C", 1)]))
    widths = [number(bar, "width") for bar in bars(root)]
    assert widths[0] > 0
    assert widths[1] == pytest.approx(widths[0] / 2, abs=0.02)
    assert widths[2] == pytest.approx(widths[0] / 8, abs=0.02)


def test_max_value_is_the_full_length_rather_than_the_largest_value():
    # A target at max_value marks the full length, so the largest value here fills half of it.
    root = parse(bar_chart("c", "Availability", [("A", 50), ("B", 25)], max_value=100, target=100))
    line = next(el for el in root.iter() if "chart-target" in classes(el))
    full = float(re.match(r"M([\d.]+)", line.get("d")).group(1)) - number(bars(root)[0], "x")
    widths = [number(bar, "width") for bar in bars(root)]
    assert widths == [pytest.approx(full / 2, abs=0.02), pytest.approx(full / 4, abs=0.02)]


def test_column_heights_are_proportional_and_stand_on_one_baseline():
    months = [("Jun 2026", 6), ("Jul 2026", 3), ("Aug 2026", 2)]
    columns = bars(parse(column_chart("trend", "Incidents by month", months)))
    heights = [number(column, "height") for column in columns]
    assert heights[1] == pytest.approx(heights[0] / 2, abs=0.02)
    assert heights[2] == pytest.approx(heights[0] / 3, abs=0.02)
    feet = {round(number(c, "y") + number(c, "height"), 1) for c in columns}
    assert len(feet) == 1


@pytest.mark.parametrize("chart", [bar_chart, column_chart])
def test_the_accessible_name_points_at_a_title_and_description_that_exist(chart):
    root = parse(chart("by-priority", "Incidents by priority", PRIORITIES))
    assert root.get("role") == "img" and root.get("focusable") == "false"
    ids = root.get("aria-labelledby").split()
    assert ids == ["by-priority-title", "by-priority-desc"]
    found = {el.get("id"): el for el in root.iter() if el.get("id")}
    assert found["by-priority-title"].tag == f"{NS}title"
    assert found["by-priority-title"].text == "Incidents by priority"
    assert found["by-priority-desc"].tag == f"{NS}desc"


@pytest.mark.parametrize("chart", [bar_chart, column_chart])
def test_the_description_says_every_value_in_words(chart):
    root = parse(chart("c", "Incidents by priority", PRIORITIES, unit=" incidents"))
    assert root.find(f"{NS}desc").text == "P1: 2 incidents; P2: 5 incidents; P3: no data."


@pytest.mark.parametrize("chart", [bar_chart, column_chart])
def test_every_value_and_label_is_printed_as_text(chart):
    root = parse(chart("c", "Availability", AVAILABILITY, unit="%", value_format="{:.2f}"))
    assert texts(root, "chart-value") == ["99.95%", "99.50%", "99.90%"]
    assert texts(root, "chart-label") == ["Passports", "Tax", "Benefits"]


@pytest.mark.parametrize("chart", [bar_chart, column_chart])
def test_a_missing_value_draws_no_bar_and_says_no_data(chart):
    root = parse(chart("c", "Incidents", PRIORITIES))
    assert len(bars(root)) == 2
    assert texts(root, "chart-value") == ["2", "5", "no data"]


def test_long_month_labels_wrap_under_narrow_columns_without_losing_words():
    months = [(f"{month} 2026", 1) for month in ["Jan", "Feb", "Mar", "Apr", "May", "Jun"]] * 2
    root = parse(column_chart("c", "Incidents", months))
    labels = [el for el in root.iter(f"{NS}text") if "chart-label" in classes(el)]
    assert [len(label.findall(f"{NS}tspan")) for label in labels] == [2] * 12
    assert texts(root, "chart-label")[0] == "Jan 2026"


@pytest.mark.parametrize("chart", [bar_chart, column_chart])
def test_labels_and_titles_are_escaped_and_the_chart_stays_well_formed_xml(chart):
    label = "<script>alert(1)</script> Rates & Fees \x07"
    svg = str(chart("c", "Tax & <b>duty</b>", [(label, 3)]))
    assert "<script" not in svg and "<b>" not in svg
    root = ET.fromstring(svg)
    assert texts(root, "chart-label") == ["<script>alert(1)</script> Rates & Fees"]
    assert root.find(f"{NS}title").text == "Tax & <b>duty</b>"
    assert "<script>alert(1)</script> Rates & Fees" in root.find(f"{NS}desc").text


@pytest.mark.parametrize("chart", [bar_chart, column_chart])
@pytest.mark.parametrize(
    "chart_id", ["", "Chart", "two words", 'x" onload="alert(1)', "under_score", "chart\n"]
)
def test_a_chart_id_that_is_not_a_safe_id_is_refused(chart, chart_id):
    with pytest.raises(ValueError):
        chart(chart_id, "Incidents", PRIORITIES)


@pytest.mark.parametrize("chart", [bar_chart, column_chart])
def test_the_target_is_a_dashed_labelled_line_and_bars_missing_it_are_hatched(chart):
    root = parse(chart("avail", "Availability", AVAILABILITY, unit="%", target=99.9))
    lines = [el for el in root.iter() if "chart-target" in classes(el)]
    assert len(lines) == 1 and lines[0].get("stroke-dasharray")
    assert "target 99.9%" in texts(root, "chart-target-label")
    hatched = [bar for bar in bars(root) if "chart-bar-over" in classes(bar)]
    assert len(hatched) == 1  # Tax misses it; Benefits meets it exactly
    patterns = {el.get("id") for el in root.iter(f"{NS}pattern")}
    assert hatched[0].get("fill") == "url(#avail-hatch)" and "avail-hatch" in patterns
    assert "hatched: below target" in texts(root, "chart-label")
    desc = root.find(f"{NS}desc").text
    assert desc == "Target 99.9%. Passports: 99.95%; Tax: 99.5% (below target); Benefits: 99.9%."


def test_without_a_target_nothing_is_hatched_or_explained():
    root = parse(bar_chart("c", "Availability", AVAILABILITY, unit="%"))
    assert all(classes(bar) == ["chart-bar"] for bar in bars(root))
    assert not [el for el in root.iter() if "chart-target" in classes(el)]
    assert "hatched: below target" not in texts(root, "chart-label")


def test_the_target_line_is_drawn_where_a_bar_of_the_target_value_would_end():
    root = parse(bar_chart("c", "Incidents", [("A", 3), ("B", 6)], max_value=12, target=3))
    line = next(el for el in root.iter() if "chart-target" in classes(el))
    xs = [float(x) for x in re.findall(r"M([\d.]+)", line.get("d"))]
    first = bars(root)[0]
    assert xs and set(xs) == {xs[0]}
    assert xs[0] == pytest.approx(number(first, "x") + number(first, "width"), abs=0.02)


def test_the_column_target_line_is_at_the_height_of_the_target():
    root = parse(column_chart("c", "Incidents", [("Jun", 4), ("Jul", 2)], target=2))
    line = next(el for el in root.iter() if "chart-target" in classes(el))
    july = bars(root)[1]
    assert number(line, "y1") == number(line, "y2") == pytest.approx(number(july, "y"), abs=0.02)


def test_a_target_above_max_value_is_refused_rather_than_drawn_off_the_scale():
    with pytest.raises(ValueError):
        bar_chart("c", "Availability", AVAILABILITY, max_value=99, target=99.9)


@pytest.mark.parametrize("value", [-1, float("nan"), float("inf")])
def test_values_a_bar_cannot_show_are_refused(value):
    with pytest.raises(ValueError):
        column_chart("c", "Incidents", [("A", value)])


def test_a_value_past_max_value_fills_the_room_and_still_prints_the_true_value():
    root = parse(bar_chart("c", "Availability", [("A", 100), ("B", 120)], max_value=100))
    widths = [number(bar, "width") for bar in bars(root)]
    assert widths[0] == widths[1]
    assert texts(root, "chart-value") == ["100", "120"]


@pytest.mark.parametrize("chart", [bar_chart, column_chart])
@pytest.mark.parametrize(
    "items", [[("A", 0), ("B", 0)], [("A", None)], [("A", 0), ("B", None)], []]
)
def test_all_zero_missing_or_no_values_draw_without_dividing_by_zero(chart, items):
    root = parse(chart("c", "Incidents", items))
    assert all(number(bar, "width") == 0 or number(bar, "height") == 0 for bar in bars(root))
    expected = ["0" if value == 0 else "no data" for _, value in items] or ["no data"]
    assert texts(root, "chart-value") == expected


@pytest.mark.parametrize("chart", [bar_chart, column_chart])
def test_the_chart_scales_to_its_container_and_has_no_inline_style_or_script(chart):
    svg = chart("c", "Incidents", PRIORITIES, target=3)
    root = parse(svg)
    assert root.get("width") == "100%" and root.get("height") is None
    assert re.fullmatch(r"0 0 [\d.]+ [\d.]+", root.get("viewBox"))
    assert not [el for el in root.iter() if el.get("style") is not None]
    assert "<script" not in svg and "<style" not in svg and "href" not in svg


def test_two_charts_on_one_page_do_not_share_ids():
    first = parse(bar_chart("first", "A", AVAILABILITY, target=99.9))
    second = parse(column_chart("second", "B", AVAILABILITY, target=99.9))
    ids = [el.get("id") for root in (first, second) for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids)) == 6


def render_figure(**kwargs: object) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)
    return env.get_template("components/charts.html").module.chart_figure(**kwargs)


def test_the_figure_shows_its_caption_summary_chart_and_a_visible_data_table():
    html = render_figure(
        svg=bar_chart("by-priority", "Incidents by priority", PRIORITIES),
        summary="Seven incidents, most of them P2.",
        caption="Incidents by priority",
        headers=["Priority", "Incidents"],
        rows=[("P1", 2), ("P2", 5), ("<b>P3</b>", "no data")],
    )
    assert '<figure class="chart">' in html
    assert "<strong>Incidents by priority</strong>" in html
    assert "<p>Seven incidents, most of them P2.</p>" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html  # the Markup, not escaped
    assert "<caption>Data for: Incidents by priority</caption>" in html
    assert '<th scope="col">Priority</th><th scope="col">Incidents</th>' in html
    assert '<tr><th scope="row">P1</th><td>2</td></tr>' in html
    assert '<th scope="row">&lt;b&gt;P3&lt;/b&gt;</th><td>no data</td>' in html
    assert "hidden" not in html
