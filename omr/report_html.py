"""The instructor report: one self-contained HTML page of item and test statistics.

The page is built with the standard library only (:func:`html.escape` and string
templates). It makes no external request: the CSS is inline, the charts are inline
SVG and there is no script, so it opens offline, from a file or an e-mail
attachment, and prints. Every string taken from the input (course codes and names,
option labels, group names, holiday names, statuses) is escaped.

For each course the page shows the test statistics (n, mean, SD, KR-20, SEM), a
histogram of the scores, a difficulty-discrimination scatter plot, the objection
windows, one table row per item with the option distribution and the flags, and
the count of sheets per status.

The input holds aggregates only: no candidate's name or ID number reaches the page
(personal data under KVKK; see the exam rules).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

import numpy as np

from omr.score.calendar import ObjectionWindow
from omr.score.items import (
    BLANK,
    FLAG_KEY_SUSPECT,
    MULTIPLE,
    ItemStats,
    TestStats,
    item_statistics,
)

#: Article 5: an exam is held only with at least this many candidates.
MIN_CANDIDATES = 500
#: Number of bins of the score histogram, spread evenly over ``0..scale``.
HISTOGRAM_BINS = 10

_DEFAULTS = inspect.signature(item_statistics).parameters
#: Guide lines of the scatter plot: the flag thresholds of :func:`item_statistics`.
GUIDE_P_HARD: float = _DEFAULTS["hard_below"].default
GUIDE_P_EASY: float = _DEFAULTS["easy_above"].default
GUIDE_D_LOW: float = _DEFAULTS["low_discrimination_below"].default

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WINDOW_KINDS = {"question": "Objections to the questions", "result": "Objections to the results"}
_DASH = "\u2014"
#: Content security policy of the page: inline styles only, nothing is ever fetched.
_CSP = "default-src 'none'; style-src 'unsafe-inline'"


@dataclass(frozen=True)
class CourseReport:
    """Everything the report shows about one course.

    Attributes
    ----------
    code, name : str
        Course code and name, shown as given (escaped).
    scores : list of float
        Scores of the scored sheets, each in ``0..scale``.
    scale : float
        Maximum score, e.g. 100.
    test : TestStats
        Test statistics from :func:`omr.score.items.test_statistics`.
    items : list of ItemStats
        Item statistics pooled across booklet groups, on master item numbers.
    items_by_group : dict of str to list of ItemStats
        Item statistics within each booklet group, from
        :func:`omr.score.items.item_statistics_by_group`; may be empty.
    options : tuple of str
        Option labels of the answer block, e.g. ``("A", "B", "C", "D", "E")``.
    windows : list of ObjectionWindow
        The question and result objection windows.
    statuses : dict of str to int
        Number of sheets per status, e.g. ``{"scored": 180, "void:no-group": 3}``.
    """

    code: str
    name: str
    scores: list[float]
    scale: float
    test: TestStats
    items: list[ItemStats]
    items_by_group: Mapping[Hashable, list[ItemStats]]
    options: tuple[str, ...]
    windows: list[ObjectionWindow]
    statuses: Mapping[str, int]


@dataclass(frozen=True)
class ReportData:
    """The input of :func:`render_report`.

    Attributes
    ----------
    exam_name : str
        Name of the exam session.
    exam_date : datetime.date
        Date of the exam session.
    generated : str
        Timestamp printed on the page, passed in so that the output is deterministic.
    courses : list of CourseReport
        One section each, in this order.
    candidates : int
        Sheets in the session; below :data:`MIN_CANDIDATES` the page carries a notice.
    notes : tuple of str
        How the rules applied to this session (an exam without booklet groups:
        article 7.6 not applicable), each shown as a notice.
    """

    exam_name: str
    exam_date: date
    generated: str
    courses: list[CourseReport]
    candidates: int
    notes: tuple[str, ...] = ()


# ------------------------------------------------------------------------- helpers


def _e(value: object) -> str:
    """Escape any value for text and for quoted attribute values."""
    return escape(str(value), quote=True)


def _num(value: float, digits: int = 2) -> str:
    """Format a number with ``digits`` decimals; a dash for nan."""
    if value is None or not math.isfinite(value):
        return _DASH
    return f"{value:.{digits}f}"


def _tick(value: float) -> str:
    """Short axis label: no trailing zeros (``10``, ``0.5``, ``-1``)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _day(day: date) -> str:
    """ISO date with an English weekday, independent of the locale."""
    return f"{day.isoformat()} ({_WEEKDAYS[day.weekday()]})"


def _stat(label: str, value: str, title: str = "") -> str:
    """One figure of a course's summary strip."""
    tip = f' title="{_e(title)}"' if title else ""
    return (
        f'<div class="stat"{tip}><span class="k">{label}</span><span class="v">{value}</span></div>'
    )


# ------------------------------------------------------------------------- charts


def histogram_counts(scores: Sequence[float], scale: float) -> np.ndarray:
    """Number of scores in each of :data:`HISTOGRAM_BINS` equal bins over ``0..scale``.

    Parameters
    ----------
    scores : sequence of float
        Scores in ``0..scale``.
    scale : float
        Maximum score; the last bin includes it.

    Returns
    -------
    counts : (HISTOGRAM_BINS,) ndarray of int64
        As :func:`numpy.histogram` with ``range=(0, scale)``.
    """
    counts, _ = np.histogram(np.asarray(scores, dtype=float), HISTOGRAM_BINS, range=(0, scale))
    return counts


def _histogram_svg(scores: Sequence[float], scale: float) -> str:
    """SVG bar chart of the scores: bar heights proportional to the counts."""
    width, height, left, right, top, bottom = 440, 230, 44, 12, 16, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    counts = histogram_counts(scores, scale)
    peak = max(int(counts.max()), 1)
    bin_w = plot_w / HISTOGRAM_BINS
    base = top + plot_h
    parts = [
        f'<svg class="chart histogram" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="Score histogram">',
        f'<line class="axis" x1="{left}" y1="{base}" x2="{left + plot_w}" y2="{base}"/>',
        f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{base}"/>',
    ]
    for y_value in sorted({0, peak // 2, peak}):
        y = base - y_value / peak * plot_h
        parts.append(f'<text class="tick" x="{left - 5}" y="{y + 3:.2f}" text-anchor="end">')
        parts.append(f"{y_value}</text>")
    for i, count in enumerate(counts.tolist()):
        h = count / peak * plot_h
        x = left + i * bin_w
        lo, hi = scale * i / HISTOGRAM_BINS, scale * (i + 1) / HISTOGRAM_BINS
        parts.append(
            f'<rect class="bar" data-count="{count}" x="{x + 1:.2f}" y="{base - h:.4f}" '
            f'width="{bin_w - 2:.2f}" height="{h:.4f}"><title>{_e(_tick(lo))}'
            f"\u2013{_e(_tick(hi))}: {count}</title></rect>"
        )
        if count:
            parts.append(
                f'<text class="count" x="{x + bin_w / 2:.2f}" y="{base - h - 3:.2f}" '
                f'text-anchor="middle">{count}</text>'
            )
    for i in range(HISTOGRAM_BINS + 1):
        x = left + i * bin_w
        parts.append(
            f'<text class="tick" x="{x:.2f}" y="{base + 13}" text-anchor="middle">'
            f"{_e(_tick(scale * i / HISTOGRAM_BINS))}</text>"
        )
    parts.append(
        f'<text class="label" x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle">'
        f"Score (0\u2013{_e(_tick(scale))})</text>"
        f'<text class="label" transform="translate(12 {top + plot_h / 2}) rotate(-90)" '
        f'text-anchor="middle">Sheets</text></svg>'
    )
    return "".join(parts)


def _scatter_svg(items: Sequence[ItemStats], suspects: Mapping[int, tuple[str, ...]]) -> str:
    """SVG scatter plot of difficulty p (x, 0..1) against discrimination D (y, -1..1)."""
    width, height, left, right, top, bottom = 440, 300, 44, 14, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(p: float) -> float:
        return left + p * plot_w

    def py(d: float) -> float:
        return top + (1 - d) / 2 * plot_h

    parts = [
        f'<svg class="chart scatter" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="Difficulty and discrimination">',
        f'<rect class="frame" x="{left}" y="{top}" width="{plot_w}" height="{plot_h}"/>',
    ]
    for tick in (0, 0.2, 0.4, 0.6, 0.8, 1):
        parts.append(
            f'<text class="tick" x="{px(tick):.2f}" y="{top + plot_h + 13}" '
            f'text-anchor="middle">{_tick(tick)}</text>'
        )
    for tick in (-1, -0.5, 0, 0.5, 1):
        parts.append(
            f'<text class="tick" x="{left - 5}" y="{py(tick) + 3:.2f}" '
            f'text-anchor="end">{_tick(tick)}</text>'
        )
    parts.append(f'<line class="zero" x1="{left}" y1="{py(0)}" x2="{left + plot_w}" y2="{py(0)}"/>')
    for p in (GUIDE_P_HARD, GUIDE_P_EASY):
        parts.append(
            f'<line class="guide" data-guide="p={_tick(p)}" x1="{px(p):.2f}" y1="{top}" '
            f'x2="{px(p):.2f}" y2="{top + plot_h}"/>'
        )
    parts.append(
        f'<line class="guide" data-guide="D={_tick(GUIDE_D_LOW)}" x1="{left}" '
        f'y1="{py(GUIDE_D_LOW):.2f}" x2="{left + plot_w}" y2="{py(GUIDE_D_LOW):.2f}"/>'
    )
    for s in items:
        if not (math.isfinite(s.p) and math.isfinite(s.discrimination)):
            continue
        x, y = px(s.p), py(s.discrimination)
        cls = "item"
        if s.item in suspects:
            cls += " suspect"
        elif s.flags:
            cls += " flagged"
        parts.append(
            f'<g class="{cls}" data-item="{s.item}"><circle cx="{x:.2f}" cy="{y:.2f}" r="4.5">'
            f"<title>Item {s.item}: p = {_num(s.p)}, D = {_num(s.discrimination)}</title>"
            f'</circle><text x="{x + 6:.2f}" y="{y - 4:.2f}">{s.item}</text></g>'
        )
    parts.append(
        f'<text class="label" x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle">'
        f"Difficulty p (proportion correct)</text>"
        f'<text class="label" transform="translate(12 {top + plot_h / 2}) rotate(-90)" '
        f'text-anchor="middle">Discrimination D</text></svg>'
    )
    return "".join(parts)


# ------------------------------------------------------------------------- sections


def _page_header(report: ReportData) -> str:
    """Title, exam date, candidates and the generation timestamp."""
    return (
        f"<header><h1>{_e(report.exam_name)}</h1>"
        f'<p class="meta">Exam date {_e(_day(report.exam_date))} \u00b7 '
        f'<span class="candidates">{report.candidates}</span> candidates \u00b7 '
        f"{len(report.courses)} course(s) \u00b7 generated {_e(report.generated)}</p></header>"
    )


def _candidates_notice(candidates: int) -> str:
    """Article 5 notice when the session has fewer than :data:`MIN_CANDIDATES` sheets."""
    if candidates >= MIN_CANDIDATES:
        return ""
    return (
        f'<div class="notice" id="notice-candidates" role="note"><strong>Fewer than '
        f"{MIN_CANDIDATES} candidates.</strong> This session has {candidates}; article 5 "
        f"holds an exam only with {MIN_CANDIDATES} or more candidates. The sheets are scored "
        f"all the same, and the statistics below rest on few students.</div>"
    )


def _notes(notes: Sequence[str]) -> str:
    """One notice per session note."""
    return "".join(
        f'<div class="notice session-note" role="note">{_e(n[:1].upper() + n[1:])}.</div>'
        for n in notes
    )


def _contents(courses: Sequence[CourseReport]) -> str:
    """Links to the course sections."""
    if len(courses) < 2:
        return ""
    links = "".join(
        f'<li><a href="#course-{i}">{_e(c.code)} {_e(c.name)}</a></li>'
        for i, c in enumerate(courses, start=1)
    )
    return f'<nav class="contents"><ul>{links}</ul></nav>'


def _summary(course: CourseReport) -> str:
    """The course's test statistics: n, mean, SD, KR-20, SEM."""
    t = course.test
    mean_score = float(np.mean(course.scores)) if course.scores else math.nan
    return (
        '<div class="summary">'
        + _stat("n", str(t.n), "students scored")
        + _stat("items", str(t.k), "items counted (cancelled items excluded)")
        + _stat("mean", f"{_num(t.mean)} / {t.k}", "mean number correct")
        + _stat("SD", _num(t.sd), "population standard deviation of the number correct")
        + _stat("KR-20", _num(t.kr20), "Kuder-Richardson 20 reliability")
        + _stat("SEM", _num(t.sem), "standard error of measurement, in items")
        + _stat("mean score", f"{_num(mean_score, 1)} / {_e(_tick(course.scale))}")
        + "</div>"
    )


def _charts(course: CourseReport, suspects: Mapping[int, tuple[str, ...]]) -> str:
    """The score histogram and the difficulty-discrimination plot, side by side."""
    return (
        '<div class="charts">'
        f"<figure>{_histogram_svg(course.scores, course.scale)}"
        f"<figcaption>Scores of the {len(course.scores)} scored sheets</figcaption></figure>"
        f"<figure>{_scatter_svg(course.items, suspects)}"
        "<figcaption>Items by difficulty and discrimination; dashed: p = "
        f"{_tick(GUIDE_P_HARD)}, {_tick(GUIDE_P_EASY)} and D = {_tick(GUIDE_D_LOW)}; "
        '<span class="legend suspect">\u25cf key-suspect</span> '
        '<span class="legend flagged">\u25cf other flag</span></figcaption></figure>'
        "</div>"
    )


def _windows_table(windows: Sequence[ObjectionWindow]) -> str:
    """The objection windows: first day counted, deadline and the holidays skipped."""
    if not windows:
        return ""
    rows = []
    for w in windows:
        skipped = (
            "<ul>"
            + "".join(f"<li>{_e(_day(s.date))} {_e(s.reason)}</li>" for s in w.skipped)
            + "</ul>"
            if w.skipped
            else "none"
        )
        rows.append(
            f'<tr data-kind="{_e(w.kind)}"><th scope="row">'
            f"{_e(_WINDOW_KINDS.get(w.kind, w.kind))}</th>"
            f"<td>{w.business_days} business days</td><td>{_e(_day(w.start))}</td>"
            f'<td class="deadline">{_e(_day(w.deadline))}</td><td>{skipped}</td></tr>'
        )
    return (
        '<h3>Objection windows</h3><table class="windows"><thead><tr><th>Objection</th>'
        "<th>Length</th><th>First day counted</th><th>Deadline</th>"
        f"<th>Holidays skipped</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def key_suspect_groups(
    item: ItemStats, items_by_group: Mapping[Hashable, Sequence[ItemStats]]
) -> tuple[str, ...] | None:
    """Booklet groups in which an item is key-suspect, or None if it is not suspect.

    Parameters
    ----------
    item : ItemStats
        Pooled statistics of the item.
    items_by_group : mapping of group to sequence of ItemStats
        Statistics within each group, matched to ``item`` by item number.

    Returns
    -------
    groups : tuple of str or None
        The sorted union of ``item.suspect_groups`` and of the groups whose own
        statistics flag the item; empty when only the pooled statistics do; None
        when nothing flags it.
    """
    groups = {str(g) for g in item.suspect_groups}
    for group, stats in items_by_group.items():
        if any(s.item == item.item and FLAG_KEY_SUSPECT in s.flags for s in stats):
            groups.add(str(group))
    if not groups and FLAG_KEY_SUSPECT not in item.flags:
        return None
    return tuple(sorted(groups))


def _badges(item: ItemStats, groups: tuple[str, ...] | None) -> str:
    """The item's flags as badges; key-suspect first, naming its groups."""
    badges = []
    if item.cancelled:
        badges.append('<span class="badge cancelled">cancelled</span>')
    if groups is not None:
        where = f" in {', '.join(groups)}" if groups else ""
        badges.append(
            f'<span class="badge key-suspect" data-groups="{_e(",".join(groups))}">'
            f"key-suspect{_e(where)}</span>"
        )
    for flag in item.flags:
        if flag != FLAG_KEY_SUSPECT:
            badges.append(f'<span class="badge {_e(flag)}">{_e(flag)}</span>')
    return " ".join(badges)


def _option_cells(item: ItemStats, options: Sequence[str]) -> str:
    """One cell per option, blank and multiple: a bar as wide as the share choosing it."""
    cells = []
    for label in (*options, BLANK, MULTIPLE):
        count = item.option_counts.get(label, 0)
        share = count / item.n if item.n else 0.0
        classes = ["opt"]
        if label in item.key:
            classes.append("key")
        elif label in item.nonfunctional:
            classes.append("nonfunctional")
        elif label in (BLANK, MULTIPLE):
            classes.append("other")
        tip = (
            f"{label}: {count} of {item.n} ({share:.0%}); upper group "
            f"{item.upper_counts.get(label, 0)}, lower group {item.lower_counts.get(label, 0)}"
        )
        cells.append(
            f'<td class="{" ".join(classes)}" data-option="{_e(label)}" data-count="{count}" '
            f'title="{_e(tip)}"><div class="ob"><span class="pct">{share:.0%}</span>'
            f'<span class="track"><span class="fill" style="width:{share * 100:.1f}%"></span>'
            "</span></div></td>"
        )
    return "".join(cells)


def _group_p(item: ItemStats, items_by_group: Mapping[Hashable, Sequence[ItemStats]]) -> str:
    """Difficulty within each booklet group, for the p cell's tooltip."""
    parts = [
        f"{g}: {_num(s.p)}"
        for g, stats in items_by_group.items()
        for s in stats
        if s.item == item.item
    ]
    return "p by group: " + ", ".join(parts) if parts else ""


def _item_row(
    item: ItemStats,
    options: Sequence[str],
    items_by_group: Mapping[Hashable, Sequence[ItemStats]],
    groups: tuple[str, ...] | None,
) -> str:
    """One table row: number, key, p, D, point-biserial, options, distractors, flags."""
    classes = ["item"]
    if item.cancelled:
        classes.append("cancelled")
    if groups is not None:
        classes.append("suspect")
    key = "/".join(_e(k) for k in sorted(item.key)) or _DASH
    nonfunctional = ", ".join(_e(o) for o in item.nonfunctional) or _DASH
    return (
        f'<tr class="{" ".join(classes)}" data-item="{item.item}">'
        f'<th scope="row">{item.item}</th><td class="key-col">{key}</td>'
        f'<td class="num" title="{_e(_group_p(item, items_by_group))}">{_num(item.p)}</td>'
        f'<td class="num">{_num(item.discrimination)}</td>'
        f'<td class="num">{_num(item.point_biserial)}</td>'
        f"{_option_cells(item, options)}"
        f'<td class="nf">{nonfunctional}</td><td class="flags">{_badges(item, groups)}</td></tr>'
    )


def _items_table(course: CourseReport, suspects: Mapping[int, tuple[str, ...]]) -> str:
    """The item table, one row per item in master order."""
    option_heads = "".join(f'<th class="opt">{_e(o)}</th>' for o in course.options)
    rows = "".join(
        _item_row(s, course.options, course.items_by_group, suspects.get(s.item))
        for s in course.items
    )
    return (
        '<h3>Items</h3><table class="items"><thead><tr><th>#</th><th>Key</th>'
        '<th class="num" title="difficulty: proportion correct">p</th>'
        '<th class="num" title="discrimination: p upper - p lower (27% groups)">D</th>'
        '<th class="num" title="point-biserial item-rest correlation">r<sub>pb</sub></th>'
        f'{option_heads}<th class="opt">blank</th><th class="opt">multi</th>'
        '<th title="distractors chosen by fewer than 5% of the students">Non-functional</th>'
        f"<th>Flags</th></tr></thead><tbody>{rows}</tbody></table>"
        '<p class="hint">Bars: share of the students choosing each option; green is the key. '
        "Hover a cell for the counts in the upper and lower groups.</p>"
    )


def _statuses_table(statuses: Mapping[str, int]) -> str:
    """Number of sheets per status, with the total."""
    rows = "".join(
        f'<tr class="status-{_e(status.split(":", 1)[0])}" data-status="{_e(status)}">'
        f'<th scope="row">{_e(status)}</th><td class="num">{count}</td></tr>'
        for status, count in statuses.items()
    )
    total = sum(statuses.values())
    return (
        '<h3>Sheets by status</h3><table class="statuses"><tbody>'
        f'{rows}</tbody><tfoot><tr><th scope="row">total</th><td class="num">{total}</td>'
        "</tr></tfoot></table>"
    )


def _course_section(course: CourseReport, index: int) -> str:
    """One course: summary, charts, objection windows, items and statuses."""
    suspects = {
        s.item: groups
        for s in course.items
        if (groups := key_suspect_groups(s, course.items_by_group)) is not None
    }
    return (
        f'<section class="course" id="course-{index}" data-code="{_e(course.code)}">'
        f'<h2><span class="code">{_e(course.code)}</span> {_e(course.name)}</h2>'
        f"{_summary(course)}{_charts(course, suspects)}{_windows_table(course.windows)}"
        f"{_items_table(course, suspects)}{_statuses_table(course.statuses)}</section>"
    )


_CSS = """
:root { --key: #2e7d32; --suspect: #c62828; --flag: #ef6c00; --ink: #1c2733;
  --muted: #5f6b76; --line: #d5dbe1; --bar: #8fa3b3; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", "Noto Sans", Arial, sans-serif;
  color: var(--ink); margin: 0; background: #f4f6f8; font-size: 14px; }
main { max-width: 1180px; margin: 0 auto; padding: 20px 24px 40px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
.meta { color: var(--muted); margin: 0 0 16px; }
.notice { border-left: 5px solid var(--flag); background: #fff4e5; padding: 10px 14px;
  margin: 0 0 16px; }
.contents ul { margin: 0 0 16px; padding-left: 20px; }
.course { background: #fff; border: 1px solid var(--line); border-radius: 6px;
  padding: 16px 20px; margin: 0 0 24px; }
.course h2 { margin: 0 0 12px; font-size: 20px; }
.course h2 .code { color: var(--muted); font-weight: normal; margin-right: 6px; }
.course h3 { font-size: 15px; margin: 18px 0 6px; }
.summary { display: flex; flex-wrap: wrap; gap: 8px; }
.stat { border: 1px solid var(--line); border-radius: 4px; padding: 4px 10px; min-width: 78px; }
.stat .k { display: block; font-size: 11px; color: var(--muted); text-transform: uppercase; }
.stat .v { font-size: 17px; font-weight: bold; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; margin-top: 12px; }
figure { margin: 0; }
figcaption { font-size: 12px; color: var(--muted); max-width: 440px; }
svg.chart { display: block; font-size: 10px; }
svg .axis { stroke: var(--ink); stroke-width: 1; }
svg .frame { fill: #fafbfc; stroke: var(--line); }
svg .bar { fill: #4f7ea8; }
svg .count { fill: var(--ink); font-size: 9px; }
svg .tick { fill: var(--muted); }
svg .label { fill: var(--ink); font-size: 11px; }
svg .zero { stroke: #b0bac3; stroke-width: 1; }
svg .guide { stroke: #8a96a1; stroke-width: 1; stroke-dasharray: 4 3; }
svg .item circle { fill: #4f7ea8; fill-opacity: 0.8; stroke: #fff; stroke-width: 0.8; }
svg .item text { fill: var(--ink); font-size: 9px; }
svg .item.flagged circle { fill: var(--flag); }
svg .item.suspect circle { fill: var(--suspect); }
svg .item.suspect text { fill: var(--suspect); font-weight: bold; }
.legend.suspect { color: var(--suspect); }
.legend.flagged { color: var(--flag); }
table { border-collapse: collapse; }
th, td { padding: 3px 6px; border-bottom: 1px solid var(--line); text-align: left;
  vertical-align: middle; }
thead th { font-size: 12px; color: var(--muted); border-bottom: 2px solid var(--line); }
td.num, .statuses td { text-align: right; font-variant-numeric: tabular-nums; }
table.windows th, table.windows td { vertical-align: top; }
table.windows ul { margin: 0; padding-left: 16px; }
table.items { width: 100%; font-size: 13px; }
table.items tbody tr:nth-child(even) { background: #f8f9fb; }
table.items tr.suspect { background: #fdecea !important; }
table.items tr.cancelled { color: var(--muted); }
th.opt { text-align: center; }
th.num, td.num { text-align: right; }
td.opt { width: 84px; padding: 2px 4px; }
.ob { display: flex; align-items: center; gap: 4px; }
.ob .pct { width: 30px; flex: none; text-align: right; font-size: 11px;
  font-variant-numeric: tabular-nums; }
.ob .track { flex: 1; min-width: 40px; height: 10px; background: #e8ecef; border-radius: 2px;
  overflow: hidden; }
.ob .fill { display: block; height: 100%; background: var(--bar); }
td.key .fill { background: var(--key); }
td.key .pct { font-weight: bold; color: var(--key); }
td.nonfunctional .fill { background: #c9d3db; }
td.other .fill { background: #b9c2ca; }
td.key-col { font-weight: bold; color: var(--key); }
tr.cancelled td.key-col, tr.cancelled .pct { color: var(--muted); }
tr.cancelled .fill { background: #d5dbe1; }
.badge { display: inline-block; border-radius: 3px; padding: 0 6px; font-size: 11px;
  line-height: 15px;
  background: #fff1e0; color: #8a4b00; border: 1px solid #f3c58f; margin: 1px 0;
  white-space: nowrap; }
.badge.key-suspect { background: var(--suspect); color: #fff; border-color: var(--suspect);
  font-weight: bold; }
.badge.cancelled { background: #eceff1; color: var(--muted); border-color: #cfd8dc; }
.hint { font-size: 12px; color: var(--muted); margin: 4px 0 0; }
.statuses th { font-weight: normal; font-family: "DejaVu Sans Mono", monospace; font-size: 12px; }
.statuses tfoot th, .statuses tfoot td { font-weight: bold; border-bottom: none; }
tr.status-void th { color: var(--suspect); }
tr.status-review th { color: #8a4b00; }
footer { color: var(--muted); font-size: 12px; }
@media print { body { background: #fff; } .course { break-before: page; border: none; } }
"""


def render_report(report: ReportData) -> str:
    """Render the instructor report as one self-contained HTML page.

    Parameters
    ----------
    report : ReportData
        The session and its courses' statistics.

    Returns
    -------
    html : str
        A complete UTF-8 HTML document with inline CSS and SVG, no script and no
        external reference; its content security policy forbids loading anything.
        Identical input gives identical output.
    """
    sections = "".join(_course_section(c, i) for i, c in enumerate(report.courses, start=1))
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(report.exam_name)} \u2013 item analysis</title>"
        f"<style>{_CSS}</style></head><body><main>"
        f"{_page_header(report)}{_candidates_notice(report.candidates)}{_notes(report.notes)}"
        f"{_contents(report.courses)}{sections}"
        f"<footer>Generated {_e(report.generated)} by omr. Statistics: classical test "
        "theory over the scored sheets; flags use the thresholds shown on the plot. "
        "No candidate names or ID numbers are included.</footer>"
        "</main></body></html>\n"
    )
