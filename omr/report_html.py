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

The page is written in the report's language (``ReportData.lang``: ``tr`` or
``en``, through :mod:`omr.i18n`): headings, labels, statuses, flags, weekdays
and the decimal sign; ``<html lang>`` says which.

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

from omr.i18n import N_, _, activate, decimal
from omr.i18n.labels import reason_text, status_label
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

_WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
_WINDOW_KINDS = {
    "question": N_("Objections to the questions"),
    "result": N_("Objections to the results"),
}
#: Badge texts of the item flags (short, as instructors say them).
_BADGES = {
    "cancelled": N_("cancelled"),
    "key-suspect": N_("key-suspect"),
    "key-mismatch": N_("key-mismatch"),
    "too-easy": N_("too-easy"),
    "too-hard": N_("too-hard"),
    "low-discrimination": N_("low-discrimination"),
}
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
    lang: str = "en"


# ------------------------------------------------------------------------- helpers


def _e(value: object) -> str:
    """Escape any value for text and for quoted attribute values."""
    return escape(str(value), quote=True)


def _num(value: float, digits: int = 2) -> str:
    """Format a number with ``digits`` decimals; a dash for nan."""
    if value is None or not math.isfinite(value):
        return _DASH
    return decimal(value, digits)


def _tick(value: float) -> str:
    """Short axis label: no trailing zeros (``10``, ``0.5``, ``-1``)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    text = "0" if text in ("", "-0") else text
    return decimal(float(text), len(text.partition(".")[2]))


def _day(day: date) -> str:
    """ISO date with the weekday in the report's language, independent of the locale."""
    return f"{day.isoformat()} ({_(_WEEKDAYS[day.weekday()])})"


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
        f'height="{height}" role="img" aria-label="{_e(_("Score histogram"))}">',
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
        f"{_e(_('Score'))} (0\u2013{_e(_tick(scale))})</text>"
        f'<text class="label" transform="translate(12 {top + plot_h / 2}) rotate(-90)" '
        f'text-anchor="middle">{_e(_("Sheets"))}</text></svg>'
    )
    return "".join(parts)


#: Box of a plot label, in SVG units: width per character and height (9 px DejaVu Sans,
#: measured wider than Chromium draws it), and the gap kept between boxes.
LABEL_CHAR_W, LABEL_H, LABEL_GAP = 6.0, 11.0, 1.0
_POINT_R = 4.5
#: Where a label may sit, as (dx, dy) of its box's top-left corner from the point,
#: tried in order; ``w`` is the box's width.
_OFFSETS = (
    lambda w: (6.0, -LABEL_H / 2),
    lambda w: (5.0, -LABEL_H - 3.0),
    lambda w: (-5.0 - w, -LABEL_H - 3.0),
    lambda w: (-6.0 - w, -LABEL_H / 2),
    lambda w: (5.0, 3.0),
    lambda w: (-5.0 - w, 3.0),
    lambda w: (-w / 2, -LABEL_H - 6.0),
    lambda w: (-w / 2, 6.0),
)


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Whether boxes ``(x0, y0, x1, y1)`` overlap, the gap included."""
    return not (
        a[2] + LABEL_GAP <= b[0]
        or b[2] + LABEL_GAP <= a[0]
        or a[3] + LABEL_GAP <= b[1]
        or b[3] + LABEL_GAP <= a[1]
    )


def place_labels(
    points: Sequence[tuple[float, float]],
    labels: Mapping[int, str],
    frame: tuple[float, float, float, float],
) -> dict[int, tuple[float, float, float, float]]:
    """Boxes for the labels of some points, none overlapping another or leaving ``frame``.

    Parameters
    ----------
    points : sequence of (x, y)
        Every plotted point, in SVG units.
    labels : mapping of int to str
        Index into ``points`` of each point to label, and its text, in order of
        importance: earlier labels are placed first.
    frame : (x0, y0, x1, y1)
        The plot area labels must stay inside.

    Returns
    -------
    boxes : dict of int to (x0, y0, x1, y1)
        The box of each label placed, keyed like ``labels``. A label with no free
        place is left out (greedy: the first of :data:`_OFFSETS` that overlaps no
        placed label and, if one can, no other point).
    """
    dots = [(x - _POINT_R, y - _POINT_R, x + _POINT_R, y + _POINT_R) for x, y in points]
    placed: dict[int, tuple[float, float, float, float]] = {}
    for index, text in labels.items():
        x, y = points[index]
        w = LABEL_CHAR_W * len(text)
        boxes = []
        for offset in _OFFSETS:
            dx, dy = offset(w)
            box = (x + dx, y + dy, x + dx + w, y + dy + LABEL_H)
            inside = frame[0] <= box[0] and box[2] <= frame[2] and frame[1] <= box[1]
            if inside and box[3] <= frame[3]:
                boxes.append(box)
        free = [b for b in boxes if not any(_overlaps(b, p) for p in placed.values())]
        clear = [b for b in free if not any(_overlaps(b, d) for d in dots)]
        if clear or free:
            placed[index] = (clear or free)[0]
    return placed


def _scatter_svg(
    items: Sequence[ItemStats], suspects: Mapping[int, tuple[str, ...]]
) -> tuple[str, list[int]]:
    """SVG scatter plot of difficulty p (x, 0..1) against discrimination D (y, -1..1).

    Only the items that carry a flag are labelled (key-suspect first), where a
    label fits without overlapping another; every point names its item on
    hover. Returns the SVG and the flagged items left without a label.
    """
    width, height, left, right, top, bottom = 440, 300, 44, 14, 12, 40
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(p: float) -> float:
        return left + p * plot_w

    def py(d: float) -> float:
        return top + (1 - d) / 2 * plot_h

    parts = [
        f'<svg class="chart scatter" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{_e(_("Difficulty and discrimination"))}">',
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
            f'<line class="guide" data-guide="p={p:g}" x1="{px(p):.2f}" y1="{top}" '
            f'x2="{px(p):.2f}" y2="{top + plot_h}"/>'
        )
    parts.append(
        f'<line class="guide" data-guide="D={GUIDE_D_LOW:g}" x1="{left}" '
        f'y1="{py(GUIDE_D_LOW):.2f}" x2="{left + plot_w}" y2="{py(GUIDE_D_LOW):.2f}"/>'
    )
    plotted = [s for s in items if math.isfinite(s.p) and math.isfinite(s.discrimination)]
    points = [(px(s.p), py(s.discrimination)) for s in plotted]
    order = sorted(
        (i for i, s in enumerate(plotted) if s.flags or s.item in suspects),
        key=lambda i: (plotted[i].item not in suspects, plotted[i].item),
    )
    boxes = place_labels(
        points, {i: str(plotted[i].item) for i in order}, (left, top, left + plot_w, top + plot_h)
    )
    for i, s in enumerate(plotted):
        x, y = points[i]
        cls = "item"
        if s.item in suspects:
            cls += " suspect"
        elif s.flags:
            cls += " flagged"
        title = _("Item {item}: p = {p}, D = {d}").format(
            item=s.item, p=_num(s.p), d=_num(s.discrimination)
        )
        label = ""
        if i in boxes:
            x0, y0, _x1, _y1 = boxes[i]
            label = f'<text x="{x0:.2f}" y="{y0 + LABEL_H - 2.5:.2f}">{s.item}</text>'
        parts.append(
            f'<g class="{cls}" data-item="{s.item}"><circle cx="{x:.2f}" cy="{y:.2f}" r="4.5">'
            f"<title>{_e(title)}</title></circle>{label}</g>"
        )
    parts.append(
        f'<text class="label" x="{left + plot_w / 2}" y="{height - 6}" text-anchor="middle">'
        f"{_e(_('Difficulty p (proportion correct)'))}</text>"
        f'<text class="label" transform="translate(12 {top + plot_h / 2}) rotate(-90)" '
        f'text-anchor="middle">{_e(_("Discrimination D"))}</text></svg>'
    )
    unlabelled = [plotted[i].item for i in order if i not in boxes]
    return "".join(parts), unlabelled


# ------------------------------------------------------------------------- sections


def _page_header(report: ReportData) -> str:
    """Title, exam date, candidates and the generation timestamp."""
    meta = _(
        "Exam date {date} \u00b7 {candidates} candidates \u00b7 {courses} course(s) \u00b7 "
        "generated {generated}"
    ).format(
        date=_e(_day(report.exam_date)),
        candidates=f'<span class="candidates">{report.candidates}</span>',
        courses=len(report.courses),
        generated=_e(report.generated),
    )
    return f'<header id="top"><h1>{_e(report.exam_name)}</h1><p class="meta">{meta}</p></header>'


def _candidates_notice(candidates: int) -> str:
    """Article 5 notice when the session has fewer than :data:`MIN_CANDIDATES` sheets."""
    if candidates >= MIN_CANDIDATES:
        return ""
    head = _("Fewer than {minimum} candidates.").format(minimum=MIN_CANDIDATES)
    body = _(
        "This session has {candidates}; article 5 holds an exam only with {minimum} or more "
        "candidates. The sheets are scored all the same, and the statistics below rest on "
        "few students."
    ).format(candidates=candidates, minimum=MIN_CANDIDATES)
    return (
        f'<div class="notice" id="notice-candidates" role="note"><strong>{_e(head)}</strong> '
        f"{_e(body)}</div>"
    )


def _notes(notes: Sequence[str]) -> str:
    """One notice per session note (in the report's language)."""
    return "".join(
        f'<div class="notice session-note" role="note">{_e(_(n)[:1].upper() + _(n)[1:])}.</div>'
        for n in notes
    )


def _mean_score(course: CourseReport) -> float:
    return float(np.mean(course.scores)) if course.scores else math.nan


def _contents(courses: Sequence[CourseReport]) -> str:
    """The course index: a link to each course's section, with its size, mean and flags."""
    rows = []
    for i, c in enumerate(courses, start=1):
        suspect = sum(key_suspect_groups(s, c.items_by_group) is not None for s in c.items)
        flagged = sum(bool(s.flags) for s in c.items)
        rows.append(
            f'<tr><th scope="row"><a href="#course-{i}">{_e(c.code)}</a></th>'
            f'<td>{_e(c.name)}</td><td class="num">{c.test.n}</td>'
            f'<td class="num">{_num(_mean_score(c), 1)}</td><td class="num">{flagged}</td>'
            f'<td class="num">{suspect}</td></tr>'
        )
    return (
        f'<nav class="contents" aria-label="{_e(_("Courses"))}"><h2>{_e(_("Courses"))}</h2>'
        f"<table><thead><tr><th>{_e(_('Code'))}</th><th>{_e(_('Course'))}</th>"
        f'<th class="num">{_e(_("scored"))}</th><th class="num">{_e(_("mean score"))}</th>'
        f'<th class="num">{_e(_("items flagged"))}</th>'
        f'<th class="num">{_e(_("key-suspect"))}</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></nav>"
    )


def _summary(course: CourseReport) -> str:
    """The course's test statistics: n, mean, SD, KR-20, SEM."""
    t = course.test
    return (
        '<div class="summary">'
        + _stat("n", str(t.n), _("students scored"))
        + _stat(_("items"), str(t.k), _("items counted (cancelled items excluded)"))
        + _stat(_("mean"), f"{_num(t.mean)} / {t.k}", _("mean number correct"))
        + _stat(_("SD"), _num(t.sd), _("population standard deviation of the number correct"))
        + _stat("KR-20", _num(t.kr20), _("Kuder-Richardson 20 reliability"))
        + _stat("SEM", _num(t.sem), _("standard error of measurement, in items"))
        + _stat(_("mean score"), f"{_num(_mean_score(course), 1)} / {_e(_tick(course.scale))}")
        + "</div>"
    )


def _charts(course: CourseReport, suspects: Mapping[int, tuple[str, ...]]) -> str:
    """The score histogram and the difficulty-discrimination plot, side by side."""
    scatter, unlabelled = _scatter_svg(course.items, suspects)
    hist = _("Scores of the {n} scored sheets").format(n=len(course.scores))
    guides = _(
        "Items by difficulty and discrimination; dashed: p = {hard}, {easy} and D = {low}; "
        "only flagged items are numbered (hover a point for any item)"
    ).format(hard=_tick(GUIDE_P_HARD), easy=_tick(GUIDE_P_EASY), low=_tick(GUIDE_D_LOW))
    crowded = (
        " "
        + _("Flagged, not numbered for want of room: {items}.").format(
            items=", ".join(map(str, unlabelled))
        )
        if unlabelled
        else ""
    )
    return (
        '<div class="charts">'
        f"<figure>{_histogram_svg(course.scores, course.scale)}"
        f"<figcaption>{_e(hist)}</figcaption></figure>"
        f"<figure>{scatter}<figcaption>{_e(guides)}; "
        f'<span class="legend suspect">\u25cf {_e(_("key-suspect"))}</span> '
        f'<span class="legend flagged">\u25cf {_e(_("other flag"))}</span>'
        f'<span class="unlabelled">{_e(crowded)}</span></figcaption></figure>'
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
            else _e(_("none"))
        )
        kind = _(_WINDOW_KINDS[w.kind]) if w.kind in _WINDOW_KINDS else w.kind
        length = _("{n} business days").format(n=w.business_days)
        rows.append(
            f'<tr data-kind="{_e(w.kind)}"><th scope="row">{_e(kind)}</th>'
            f"<td>{_e(length)}</td><td>{_e(_day(w.start))}</td>"
            f'<td class="deadline">{_e(_day(w.deadline))}</td><td>{skipped}</td></tr>'
        )
    heads = "".join(
        f"<th>{_e(_(h))}</th>"
        for h in (
            N_("Objection"),
            N_("Length"),
            N_("First day counted"),
            N_("Deadline"),
            N_("Holidays skipped"),
        )
    )
    return (
        f'<h3>{_e(_("Objection windows"))}</h3><table class="windows"><thead><tr>{heads}'
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
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


def _badge_text(flag: str) -> str:
    return _(_BADGES[flag]) if flag in _BADGES else flag


def _badges(item: ItemStats, groups: tuple[str, ...] | None) -> str:
    """The item's flags as badges; key-suspect first, naming its groups."""
    badges = []
    if item.cancelled:
        badges.append(f'<span class="badge cancelled">{_e(_badge_text("cancelled"))}</span>')
    if groups is not None:
        text = _badge_text(FLAG_KEY_SUSPECT)
        if groups:
            text = _("{flag} in {groups}").format(flag=text, groups=", ".join(groups))
        badges.append(
            f'<span class="badge key-suspect" data-groups="{_e(",".join(groups))}">'
            f"{_e(text)}</span>"
        )
    for flag in item.flags:
        if flag != FLAG_KEY_SUSPECT:
            badges.append(
                f'<span class="badge {_e(flag)}" title="{_e(reason_text(flag))}">'
                f"{_e(_badge_text(flag))}</span>"
            )
    return " ".join(badges)


def _option_label(label: str) -> str:
    return {BLANK: _("blank"), MULTIPLE: _("several marked")}.get(label, label)


def _option_cells(item: ItemStats, options: Sequence[str]) -> str:
    """One cell per option, blank and multiple: a bar as wide as the share choosing it,
    and under it the counts in the upper and lower 27% groups."""
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
        upper, lower = item.upper_counts.get(label, 0), item.lower_counts.get(label, 0)
        tip = _(
            "{option}: {count} of {n} ({share}); upper group {upper}, lower group {lower}"
        ).format(
            option=_option_label(label),
            count=count,
            n=item.n,
            share=f"{share:.0%}",
            upper=upper,
            lower=lower,
        )
        cells.append(
            f'<td class="{" ".join(classes)}" data-option="{_e(label)}" data-count="{count}" '
            f'data-upper="{upper}" data-lower="{lower}" '
            f'title="{_e(tip)}"><div class="ob"><span class="pct">{share:.0%}</span>'
            f'<span class="track"><span class="fill" style="width:{share * 100:.1f}%"></span>'
            f'</span></div><div class="ul"><span class="u">{upper}</span>'
            f'<span class="l">{lower}</span></div></td>'
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
    return _("p by group: {groups}").format(groups=", ".join(parts)) if parts else ""


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
        f'<h3>{_e(_("Items"))}</h3><table class="items"><thead><tr><th>#</th>'
        f"<th>{_e(_('Key'))}</th>"
        f'<th class="num" title="{_e(_("difficulty: proportion correct"))}">p</th>'
        f'<th class="num" title="{_e(_("discrimination: p upper - p lower (27% groups)"))}">'
        "D</th>"
        f'<th class="num" title="{_e(_("point-biserial item-rest correlation"))}">'
        "r<sub>pb</sub></th>"
        f'{option_heads}<th class="opt">{_e(_("blank"))}</th>'
        f'<th class="opt">{_e(_("multi"))}</th>'
        f'<th title="{_e(_("distractors chosen by fewer than 5% of the students"))}">'
        f"{_e(_('Non-functional'))}</th><th>{_e(_('Flags'))}</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        f'<p class="hint">{_e(_(_ITEMS_HINT))} '
        f'<span class="ul"><span class="u">{_e(_("upper"))}</span>'
        f'<span class="l">{_e(_("lower"))}</span></span></p>'
    )


_ITEMS_HINT = N_(
    "Bars: share of the students choosing each option; green is the key. Under each bar, "
    "how many of the upper and of the lower 27% groups chose it:"
)


def _statuses_table(statuses: Mapping[str, int]) -> str:
    """Number of sheets per status, in words, with the code and the total."""
    rows = []
    for status, count in statuses.items():
        reason = reason_text(status) if ":" in status else ""
        words = status_label(status) + (f": {reason}" if reason else "")
        rows.append(
            f'<tr class="status-{_e(status.split(":", 1)[0])}" data-status="{_e(status)}">'
            f'<th scope="row">{_e(words)}</th><td class="code">{_e(status)}</td>'
            f'<td class="num">{count}</td></tr>'
        )
    total = sum(statuses.values())
    return (
        f'<h3>{_e(_("Sheets by status"))}</h3><table class="statuses"><tbody>'
        f'{"".join(rows)}</tbody><tfoot><tr><th scope="row">{_e(_("total"))}</th><td></td>'
        f'<td class="num">{total}</td></tr></tfoot></table>'
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
        f"{_items_table(course, suspects)}{_statuses_table(course.statuses)}"
        f'<p class="top"><a href="#top">{_e(_("Back to the course index"))}</a></p></section>'
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
.statuses th { font-weight: normal; }
.statuses td.code { font-family: "DejaVu Sans Mono", monospace; font-size: 11px;
  color: var(--muted); }
.ul { display: flex; justify-content: space-between; gap: 4px; font-size: 10px;
  color: var(--muted); font-variant-numeric: tabular-nums; padding-left: 34px; }
.hint .ul { display: inline-flex; padding-left: 0; gap: 10px; }
.ul .u::before { content: "\\25b2"; font-size: 8px; margin-right: 1px; }
.ul .l::before { content: "\\25bc"; font-size: 8px; margin-right: 1px; }
.contents table { background: #fff; margin-bottom: 16px; }
.contents h2 { font-size: 17px; margin: 0 0 6px; }
p.top { font-size: 12px; margin: 12px 0 0; }
.statuses tfoot th, .statuses tfoot td { font-weight: bold; border-bottom: none; }
tr.status-void th { color: var(--suspect); }
tr.status-review th { color: #8a4b00; }
footer { color: var(--muted); font-size: 12px; }
@media print {
  body { background: #fff; font-size: 11px; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  main { max-width: none; padding: 0; }
  .course { break-before: page; border: none; padding: 0; }
  table.items tr, .charts, figure { break-inside: avoid; }
  thead { display: table-header-group; }
  p.top, .hint .ul::after { display: none; }
  a { color: inherit; text-decoration: none; }
}
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
    with activate(report.lang):
        return _page(report)


def _page(report: ReportData) -> str:
    sections = "".join(_course_section(c, i) for i, c in enumerate(report.courses, start=1))
    footer = _(
        "Generated {generated} by omr. Statistics: classical test theory over the scored "
        "sheets; flags use the thresholds shown on the plot. No candidate names or ID "
        "numbers are included."
    ).format(generated=report.generated)
    title = _("{exam} \u2013 item analysis").format(exam=report.exam_name)
    return (
        f'<!DOCTYPE html>\n<html lang="{_e(report.lang)}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title>"
        f"<style>{_CSS}</style></head><body><main>"
        f"{_page_header(report)}{_candidates_notice(report.candidates)}{_notes(report.notes)}"
        f"{_contents(report.courses)}{sections}"
        f"<footer>{_e(footer)}</footer>"
        "</main></body></html>\n"
    )
