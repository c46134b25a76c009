"""The instructor report page: structure checked with html.parser, then in real Chromium.

The data is simulated: students of two booklet groups answer 12 items with a
probability of success rising with their ability, item 12 is cancelled, and in
booklet B item 7's correct answer is printed as the option after the master key,
so B's able students choose an option the master key scores wrong: item 7 is
key-suspect in B only.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import browser
import numpy as np
import pytest

from omr.report_html import (
    HISTOGRAM_BINS,
    MIN_CANDIDATES,
    CourseReport,
    ReportData,
    render_report,
)
from omr.score.calendar import objection_windows
from omr.score.items import (
    item_statistics,
    item_statistics_by_group,
    score_matrix,
    test_statistics,
)

OPTIONS = ("A", "B", "C", "D", "E")
N_ITEMS = 12
WRONG_ITEM = 7
WRONG_GROUP = "B"
CANCELLED_ITEM = 12
HOSTILE = "<script>alert(1)</script> & Ş"
STATUSES = {"scored": 300, "void:no-group": 3, "review:unsure-mark": 2}


# --------------------------------------------------------------------------- data


def simulate(
    seed: int, n_per_group: int = 150, *, wrong_key: bool = True
) -> tuple[np.ndarray, list, np.ndarray]:
    """Responses (N, 12) of str, master keys and booklet groups, as described above."""
    rng = np.random.default_rng(seed)
    key_letters = rng.choice(OPTIONS, N_ITEMS)
    groups = np.repeat(["A", WRONG_GROUP], n_per_group)
    theta = rng.normal(size=(groups.size, 1))
    difficulty = np.linspace(-1.5, 1.5, N_ITEMS)
    knows = rng.random((groups.size, N_ITEMS)) < 1 / (1 + np.exp(-2.0 * (theta - difficulty)))
    right = np.tile(key_letters, (groups.size, 1))
    shifted = OPTIONS[(OPTIONS.index(key_letters[WRONG_ITEM - 1]) + 1) % len(OPTIONS)]
    if wrong_key:
        right[groups == WRONG_GROUP, WRONG_ITEM - 1] = shifted
    # A wrong answer picks one of the other options at random (offset 1..4).
    offsets = rng.integers(1, len(OPTIONS), size=right.shape)
    index = np.vectorize(OPTIONS.index)(right)
    wrong = np.asarray(OPTIONS)[(index + offsets) % len(OPTIONS)]
    responses = np.where(knows, right, wrong).astype("<U1")
    noise = rng.random(responses.shape)
    responses[noise < 0.03] = ""
    responses[noise > 0.99] = "*"
    keys = [frozenset(k) for k in key_letters]
    keys[CANCELLED_ITEM - 1] = frozenset()
    return responses, keys, groups


def course_report(
    code: str, name: str, seed: int, *, wrong_key: bool = True, windows=None
) -> CourseReport:
    """A course built with the real statistics functions on simulated answers."""
    responses, keys, groups = simulate(seed, wrong_key=wrong_key)
    test = test_statistics(responses, keys)
    scores = np.nansum(score_matrix(responses, keys), axis=1) / test.k * 100
    if windows is None:
        windows = objection_windows(date(2026, 11, 13), date(2026, 11, 20))
    return CourseReport(
        code=code,
        name=name,
        scores=scores.tolist(),
        scale=100.0,
        test=test,
        items=item_statistics(responses, keys, OPTIONS, groups=groups),
        items_by_group=item_statistics_by_group(responses, keys, OPTIONS, groups),
        options=OPTIONS,
        windows=windows,
        statuses=dict(STATUSES),
    )


def sample_report(candidates: int = 612) -> ReportData:
    """Two courses; the second has all its keys right and holidays in its objection windows."""
    return ReportData(
        exam_name="2026 Güz Dönemi Ara Sınavı",
        exam_date=date(2026, 11, 13),
        generated="2026-11-21 10:00",
        courses=[
            course_report("MAT101", "Matematik I — Şekil ve Ölçü", seed=1),
            course_report(
                "TAR102",
                "Atatürk İlkeleri ve İnkılap Tarihi",
                seed=2,
                wrong_key=False,
                windows=objection_windows(date(2026, 5, 16), date(2026, 5, 22)),
            ),
        ],
        candidates=candidates,
    )


@pytest.fixture(scope="module")
def report() -> ReportData:
    return sample_report()


# ------------------------------------------------------------------------ parsing


class Element:
    """A parsed HTML element with its attributes, children and text."""

    def __init__(self, tag: str, attrs: dict[str, str | None], parent: Element | None):
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element | str] = []

    @property
    def classes(self) -> list[str]:
        return (self.attrs.get("class") or "").split()

    def iter(self, tag: str | None = None, cls: str | None = None):
        for child in self.children:
            if isinstance(child, Element):
                if (tag is None or child.tag == tag) and (cls is None or cls in child.classes):
                    yield child
                yield from child.iter(tag, cls)

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Element]:
        return list(self.iter(tag, cls))

    def find(self, tag: str | None = None, cls: str | None = None) -> Element:
        found = self.find_all(tag, cls)
        assert len(found) == 1, f"expected one <{tag} class={cls}>, found {len(found)}"
        return found[0]

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)


class TreeBuilder(HTMLParser):
    """Build an :class:`Element` tree; fails on a closing tag that does not match."""

    VOID = {"meta", "link", "br", "img", "input", "hr", "col", "base", "wbr", "source"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = self.node = Element("#document", {}, None)

    def handle_starttag(self, tag, attrs):
        element = Element(tag, dict(attrs), self.node)
        self.node.children.append(element)
        if tag not in self.VOID:
            self.node = element

    def handle_startendtag(self, tag, attrs):
        self.node.children.append(Element(tag, dict(attrs), self.node))

    def handle_endtag(self, tag):
        assert self.node.tag == tag, f"</{tag}> closes <{self.node.tag}>"
        self.node = self.node.parent

    def handle_data(self, data):
        self.node.children.append(data)


def parse(page: str) -> Element:
    builder = TreeBuilder()
    builder.feed(page)
    builder.close()
    assert builder.node is builder.root, f"<{builder.node.tag}> is never closed"
    return builder.root


@pytest.fixture(scope="module")
def page(report) -> str:
    return render_report(report)


@pytest.fixture(scope="module")
def doc(page) -> Element:
    return parse(page)


def sections(doc: Element) -> list[Element]:
    return doc.find_all("section", "course")


# -------------------------------------------------------------------------- units


def test_the_data_has_one_wrong_key_in_one_group(report):
    wrong, right = report.courses
    assert [s.item for s in wrong.items if s.suspect_groups] == [WRONG_ITEM]
    assert wrong.items[WRONG_ITEM - 1].suspect_groups == (WRONG_GROUP,)
    for group, stats in wrong.items_by_group.items():
        suspect = [s.item for s in stats if "key-suspect" in s.flags]
        assert suspect == ([WRONG_ITEM] if group == WRONG_GROUP else [])
    for stats in (right.items, *right.items_by_group.values()):
        assert not [s.item for s in stats if "key-suspect" in s.flags]


def test_page_is_a_complete_document(page, doc):
    assert page.startswith("<!DOCTYPE html>")
    charset = [m for m in doc.iter("meta") if m.attrs.get("charset")]
    assert [m.attrs["charset"] for m in charset] == ["utf-8"]
    assert doc.find("head").find("title").text().startswith("2026 Güz Dönemi Ara Sınavı")
    assert doc.find("h1").text() == "2026 Güz Dönemi Ara Sınavı"
    assert "2026-11-13 (Fri)" in doc.find("header").text()
    assert not doc.find_all("script")


def test_one_section_per_course(report, doc):
    found = sections(doc)
    assert len(found) == len(report.courses)
    for section, course in zip(found, report.courses, strict=True):
        assert section.attrs["data-code"] == course.code
        assert section.find("h2").text() == f"{course.code} {course.name}"
        assert len(section.find_all("svg")) == 2
    assert [a.attrs["href"] for a in doc.find("nav").iter("a")] == ["#course-1", "#course-2"]
    assert [s.attrs["id"] for s in found] == ["course-1", "course-2"]


def test_summary_shows_the_test_statistics(report, doc):
    test = report.courses[0].test
    figures = {
        stat.find("span", "k").text(): stat.find("span", "v").text()
        for stat in sections(doc)[0].iter("div", "stat")
    }
    assert figures["n"] == str(test.n) == "300"
    assert figures["mean"] == f"{test.mean:.2f} / {test.k}"
    assert figures["SD"] == f"{test.sd:.2f}"
    assert figures["KR-20"] == f"{test.kr20:.2f}"
    assert figures["SEM"] == f"{test.sem:.2f}"


def test_one_table_row_per_item(report, doc):
    for section, course in zip(sections(doc), report.courses, strict=True):
        table = section.find("table", "items")
        rows = table.find("tbody").find_all("tr")
        assert [int(r.attrs["data-item"]) for r in rows] == [s.item for s in course.items]
        for row, item in zip(rows, course.items, strict=True):
            assert row.find("th").text() == str(item.item)
            cells = row.find_all("td", "opt")
            assert [c.attrs["data-option"] for c in cells] == [*OPTIONS, "blank", "multiple"]
            assert [int(c.attrs["data-count"]) for c in cells] == list(item.option_counts.values())
            assert [c.attrs["data-option"] for c in cells if "key" in c.classes] == sorted(item.key)
            assert row.find("td", "key-col").text() == ("/".join(sorted(item.key)) or "\u2014")


def test_option_bar_widths_are_the_shares(report, doc):
    item = report.courses[0].items[0]
    row = sections(doc)[0].find_all("tr", "item")[0]
    for cell in row.find_all("td", "opt"):
        width = cell.find("span", "fill").attrs["style"]
        share = item.option_counts[cell.attrs["data-option"]] / item.n
        assert width == f"width:{share * 100:.1f}%"


def test_key_suspect_badge_on_exactly_the_wrong_item(doc):
    badges = doc.find_all("span", "key-suspect")
    assert len(badges) == 1
    badge = badges[0]
    row = badge.parent.parent
    assert row.tag == "tr"
    assert row.attrs["data-item"] == str(WRONG_ITEM)
    assert row.parent.parent.parent.attrs["id"] == "course-1"
    assert badge.text() == f"key-suspect in {WRONG_GROUP}"
    assert badge.attrs["data-groups"] == WRONG_GROUP
    assert "suspect" in row.classes
    points = sections(doc)[0].find_all("g", "suspect")
    assert [g.attrs["data-item"] for g in points] == [str(WRONG_ITEM)]


def test_key_suspect_in_pooled_statistics_only(report):
    course = report.courses[0]
    flagged = replace(course.items[0], flags=("key-suspect", "too-easy"), suspect_groups=())
    items = [flagged, *course.items[1:]]
    doc = parse(render_report(replace(report, courses=[replace(course, items=items)])))
    badges = {b.parent.parent.attrs["data-item"]: b for b in doc.iter("span", "key-suspect")}
    assert badges["1"].text() == "key-suspect"
    assert badges[str(WRONG_ITEM)].text() == f"key-suspect in {WRONG_GROUP}"
    row = doc.find_all("tr", "item")[0]
    assert [b.text() for b in row.find("td", "flags").iter("span", "badge")] == [
        "key-suspect",
        "too-easy",
    ]


def test_cancelled_item(report, doc):
    row = sections(doc)[0].find_all("tr", "item")[CANCELLED_ITEM - 1]
    assert "cancelled" in row.classes
    assert [b.text() for b in row.iter("span", "badge")] == ["cancelled"]
    assert [td.text() for td in row.find_all("td", "num")] == ["\u2014"] * 3
    plotted = [g.attrs["data-item"] for g in sections(doc)[0].iter("g", "item")]
    assert plotted == [str(i) for i in range(1, N_ITEMS)]


def test_histogram_bar_heights_are_proportional_to_the_counts(report, doc):
    for section, course in zip(sections(doc), report.courses, strict=True):
        bars = section.find("svg", "histogram").find_all("rect", "bar")
        assert len(bars) == HISTOGRAM_BINS == 10
        heights = np.array([float(b.attrs["height"]) for b in bars])
        counts, _ = np.histogram(course.scores, bins=10, range=(0, course.scale))
        assert [int(b.attrs["data-count"]) for b in bars] == counts.tolist()
        assert counts.sum() == len(course.scores)
        np.testing.assert_allclose(heights / heights.max(), counts / counts.max(), atol=1e-5)
        bottoms = {round(float(b.attrs["y"]) + float(b.attrs["height"]), 3) for b in bars}
        assert len(bottoms) == 1
        assert len(section.find("svg", "histogram").find_all("text", "tick")) >= 11


def test_histogram_of_no_scores(report):
    course = replace(report.courses[0], scores=[])
    doc = parse(render_report(replace(report, courses=[course])))
    bars = doc.find("svg", "histogram").find_all("rect", "bar")
    assert [float(b.attrs["height"]) for b in bars] == [0.0] * 10


def test_scatter_has_the_guide_lines(doc):
    scatter = sections(doc)[0].find("svg", "scatter")
    guides = [line.attrs["data-guide"] for line in scatter.iter("line", "guide")]
    assert guides == ["p=0.2", "p=0.9", "D=0.2"]


@pytest.mark.parametrize(
    ("candidates", "shown"), [(MIN_CANDIDATES - 1, True), (MIN_CANDIDATES, False), (2000, False)]
)
def test_candidates_notice(report, candidates, shown):
    doc = parse(render_report(replace(report, candidates=candidates)))
    notices = doc.find_all("div", "notice")
    assert len(notices) == shown
    if shown:
        assert "Fewer than 500 candidates." in notices[0].text()
        assert "This session has 499" in notices[0].text()


def test_objection_windows(doc):
    first, second = (s.find("table", "windows") for s in sections(doc))
    rows = first.find("tbody").find_all("tr")
    assert [r.attrs["data-kind"] for r in rows] == ["question", "result"]
    assert [r.find("td", "deadline").text() for r in rows] == [
        "2026-11-18 (Wed)",
        "2026-12-01 (Tue)",
    ]
    assert rows[0].find_all("td")[1].text() == "2026-11-14 (Sat)"
    assert [r.find_all("td")[-1].text() for r in rows] == ["none", "none"]
    question, result = second.find("tbody").find_all("tr")
    assert [li.text() for li in question.iter("li")] == [
        "2026-05-19 (Tue) Atatürk'ü Anma, Gençlik ve Spor Bayramı"
    ]
    assert [li.text() for li in result.iter("li")] == [
        f"2026-05-{day} ({wd}) Kurban Bayramı"
        for day, wd in ((27, "Wed"), (28, "Thu"), (29, "Fri"))
    ]
    assert result.find("td", "deadline").text() == "2026-06-05 (Fri)"


def test_status_counts(doc):
    table = sections(doc)[0].find("table", "statuses")
    rows = table.find("tbody").find_all("tr")
    assert {r.attrs["data-status"]: int(r.find("td", "num").text()) for r in rows} == STATUSES
    assert {r.find("td", "code").text() for r in rows} == set(STATUSES)
    words = {r.attrs["data-status"]: r.find("th").text() for r in rows}
    assert words["void:no-group"] == "void: no booklet group coded (article 7.6)"
    assert words["scored"] == "scored"
    assert table.find("tfoot").find("td", "num").text() == "305"


def test_strings_are_escaped(report):
    course = replace(report.courses[0], code='X"1', name=HOSTILE, statuses={HOSTILE: 1})
    page = render_report(replace(report, exam_name=HOSTILE, courses=[course, report.courses[1]]))
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Ş" in page
    doc = parse(page)
    assert not doc.find_all("script")
    assert doc.find("h1").text() == HOSTILE
    section = sections(doc)[0]
    assert section.attrs["data-code"] == 'X"1'
    assert section.find("h2").text() == f'X"1 {HOSTILE}'
    assert doc.find("nav").find_all("a")[0].text() == 'X"1'
    assert doc.find("nav").find("tbody").find_all("td")[0].text() == HOSTILE
    assert section.find("table", "statuses").find("tbody").find("th").text() == HOSTILE


def test_no_external_references(page, doc):
    assert "://" not in page
    assert "url(" not in page
    assert "@import" not in page
    for element in doc.iter():
        for name in ("src", "href", "xlink:href", "action", "srcset", "poster"):
            value = element.attrs.get(name)
            assert value is None or value.startswith("#"), (element.tag, name, value)
    csp = [m for m in doc.iter("meta") if m.attrs.get("http-equiv") == "Content-Security-Policy"]
    assert csp[0].attrs["content"].startswith("default-src 'none'")


def test_output_is_deterministic(report, page):
    assert render_report(sample_report()) == page == render_report(report)


# ------------------------------------------------------------------------ browser

needs_chromium = pytest.mark.skipif(browser.chromium() is None, reason="chromium not installed")


@pytest.fixture
def page_file(tmp_path, page) -> Path:
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    return path


@needs_chromium
def test_chromium_loads_the_page_without_console_messages(page_file, report):
    run = browser.dump_dom(page_file)
    assert run.console() == []
    dom = parse(run.stdout.removeprefix("<!DOCTYPE html>"))
    found = sections(dom)
    assert len(found) == len(report.courses)
    assert found[1].find("h2").text() == "TAR102 Atatürk İlkeleri ve İnkılap Tarihi"
    for section, course in zip(found, report.courses, strict=True):
        assert len(section.find("svg", "histogram").find_all("rect", "bar")) == 10
        assert len(section.find("svg", "scatter").find_all("circle")) == N_ITEMS - 1
        assert len(section.find("table", "items").find("tbody").find_all("tr")) == N_ITEMS
        assert len(course.items) == N_ITEMS


@needs_chromium
def test_chromium_reports_what_the_page_may_not_load(tmp_path, page):
    """The console check is not vacuous: an external stylesheet is blocked and logged."""
    bad = tmp_path / "bad.html"
    link = '<link rel="stylesheet" href="http://example.invalid/x.css">'
    bad.write_text(page.replace("</head>", f"{link}</head>"), encoding="utf-8")
    console = browser.dump_dom(bad).console()
    assert len(console) == 1
    assert "Content Security Policy" in console[0]


@needs_chromium
def test_chromium_screenshot_is_not_blank(page_file, tmp_path):
    from PIL import Image

    png = tmp_path / "report.png"
    run = browser.screenshot(page_file, png, size=(1280, 1600))
    assert run.console() == []
    with Image.open(png) as image:
        assert image.size == (1280, 1600)
        rgb = np.asarray(image.convert("RGB"))
    background = np.all(rgb == (244, 246, 248), axis=-1).mean()
    bars = np.all(rgb == (0x4F, 0x7E, 0xA8), axis=-1).sum()  # the histogram bars
    assert 0.05 < background < 0.9
    assert bars > 2000


@needs_chromium
def test_chromium_run_times_out_instead_of_hanging(page_file):
    with pytest.raises(subprocess.TimeoutExpired):
        browser.dump_dom(page_file, timeout=0.05)
