"""report.html in Turkish and English, checked in headless Chromium: the course index, the
translated headings, and plot labels that never overlap (boxes measured by the browser)."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import browser
import numpy as np
import pytest
from test_report_html import course_report, parse, sample_report, sections

from omr.report_html import place_labels, render_report

needs_chromium = pytest.mark.skipif(browser.chromium() is None, reason="chromium not installed")

#: Writes every plot label's box, as the browser lays it out, into the page.
MEASURE = """<pre id="boxes"></pre><script>
const boxes = [...document.querySelectorAll("svg.scatter g.item text")].map((t) => {
  const r = t.getBoundingClientRect();
  return {item: t.parentNode.dataset.item, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom,
          svg: t.closest("section").id};
});
document.getElementById("boxes").textContent = JSON.stringify(boxes);
</script>"""

HEADINGS = {
    "tr": ("Dersler", "İtiraz süreleri", "Maddeler", "Duruma göre kâğıtlar"),
    "en": ("Courses", "Objection windows", "Items", "Sheets by status"),
}


def crowded_report(lang: str):
    """Two courses; in the first, 30 flagged items crowd one corner of the plot."""
    report = sample_report()
    course = report.courses[0]
    rng = np.random.default_rng(7)
    base = course.items[0]
    items = [
        replace(
            base,
            item=n,
            p=float(0.45 + rng.uniform(-0.06, 0.06)),
            discrimination=float(0.1 + rng.uniform(-0.08, 0.08)),
            flags=("low-discrimination",),
            cancelled=False,
        )
        for n in range(1, 31)
    ]
    crowded = replace(course, items=items, items_by_group={})
    return replace(report, courses=[crowded, report.courses[1]], lang=lang)


def _measured(tmp_path, report) -> tuple[str, list[dict]]:
    page = render_report(report)
    # The page forbids scripts; the copy measured here drops that rule and adds one.
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    path = tmp_path / "measured.html"
    path.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    run = browser.dump_dom(path)
    found = re.search(r'<pre id="boxes">(.*?)</pre>', run.stdout, re.S)
    assert found, run.stderr[-2000:]
    return run.stdout, json.loads(found.group(1).replace("&quot;", '"'))


def _overlap(a: dict, b: dict) -> bool:
    return a["x0"] < b["x1"] and b["x0"] < a["x1"] and a["y0"] < b["y1"] and b["y0"] < a["y1"]


def test_label_boxes_never_overlap_and_stay_in_the_frame():
    rng = np.random.default_rng(3)
    points = [(float(x), float(y)) for x, y in rng.uniform(100, 140, size=(40, 2))]
    labels = {i: str(i + 1) for i in range(40)}
    frame = (44.0, 12.0, 426.0, 260.0)
    boxes = place_labels(points, labels, frame)
    assert 0 < len(boxes) < 40  # crowded: some are left out rather than overlap
    placed = list(boxes.values())
    for i, a in enumerate(placed):
        assert frame[0] <= a[0] and a[2] <= frame[2] and frame[1] <= a[1] and a[3] <= frame[3]
        for b in placed[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


@needs_chromium
@pytest.mark.parametrize("lang", ["tr", "en"])
def test_report_in_chromium_has_index_headings_and_no_overlapping_labels(tmp_path, lang):
    report = crowded_report(lang)
    dom_text, boxes = _measured(tmp_path, report)
    dom = parse(dom_text.removeprefix("<!DOCTYPE html>"))
    assert dom.find("html").attrs["lang"] == lang
    # The course index links every course to its section.
    links = [a.attrs["href"] for a in dom.find("nav").iter("a")]
    assert links == [f"#{s.attrs['id']}" for s in sections(dom)] == ["#course-1", "#course-2"]
    text = dom.find("main").text()
    for heading in HEADINGS[lang]:
        assert heading in text, heading
    for other in HEADINGS["en" if lang == "tr" else "tr"][1:]:
        assert other not in text, other
    crowded = [b for b in boxes if b["svg"] == "course-1"]
    assert 3 <= len(crowded) < 30  # some labelled, the rest named in the caption
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not _overlap(a, b), (a, b)
    caption = sections(dom)[0].find("span", "unlabelled").text()
    named = {int(n) for n in re.findall(r"\d+", caption.split(":", 1)[1])}
    assert named == set(range(1, 31)) - {int(b["item"]) for b in crowded}


def test_upper_and_lower_counts_are_shown_in_the_item_table():
    report = sample_report()
    doc = parse(render_report(replace(report, lang="tr")))
    item = report.courses[0].items[0]
    row = sections(doc)[0].find_all("tr", "item")[0]
    for cell in row.find_all("td", "opt"):
        option = cell.attrs["data-option"]
        assert cell.find("span", "u").text() == str(item.upper_counts.get(option, 0))
        assert cell.find("span", "l").text() == str(item.lower_counts.get(option, 0))


def test_turkish_numbers_use_the_decimal_comma():
    report = sample_report()
    doc = parse(render_report(replace(report, lang="tr")))
    test = report.courses[0].test
    figures = {
        s.find("span", "k").text(): s.find("span", "v").text()
        for s in sections(doc)[0].iter("div", "stat")
    }
    assert figures["SS"] == f"{test.sd:.2f}".replace(".", ",")
    assert figures["KR-20"] == f"{test.kr20:.2f}".replace(".", ",")


def test_one_course_report_also_has_its_index():
    report = sample_report()
    one = replace(report, courses=[course_report("MAT101", "Matematik I", seed=1)])
    doc = parse(render_report(one))
    assert [a.attrs["href"] for a in doc.find("nav").iter("a")] == ["#course-1"]
