"""Objection windows on the Turkish business-day calendar (objections article 15).

A question objection is due within 3 business days following the exam, a result
objection within 7 business days from the announcement of the results. Counting
starts the day after; Saturdays, Sundays, official public holidays (from the
``holidays`` library, country ``TR``) and the exam's extra closure days are
skipped. Eves of the religious feasts and 28 October are half days (off from
13:00): they count as business days unless ``half_days_off`` is set.

The arithmetic is done by :func:`numpy.busday_offset` over a
:class:`numpy.busdaycalendar`; this module only assembles the holiday list and
reports which days pushed a deadline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import holidays
import numpy as np
from holidays.constants import HALF_DAY, PUBLIC

#: Business days allowed for an objection to the questions.
QUESTION_DAYS = 3
#: Business days allowed for an objection to the results.
RESULT_DAYS = 7
#: Reason recorded for a closure day given without a label.
CLOSURE_REASON = "closure"
#: Language of the holiday names (set explicitly: ``holidays`` otherwise follows the locale).
HOLIDAY_LANGUAGE = "tr"
#: Monday to Friday.
WEEKMASK = "1111100"


@dataclass(frozen=True)
class SkippedDay:
    """A weekday that was not counted as a business day.

    Attributes
    ----------
    date : datetime.date
        The day skipped.
    reason : str
        The holiday name from the ``holidays`` library (several names joined by
        ``"; "`` when holidays coincide), the closure's label, or ``"closure"``.
    """

    date: dt.date
    reason: str


@dataclass(frozen=True)
class ObjectionWindow:
    """The period in which an objection may be filed.

    Attributes
    ----------
    kind : str
        ``"question"`` (after the exam) or ``"result"`` (after the announcement).
    start : datetime.date
        The first day counted: the day after the exam or the announcement
        (it may itself be a weekend day or a holiday).
    deadline : datetime.date
        The last day on which an objection is accepted; always a business day.
    business_days : int
        Length of the window in business days.
    skipped : tuple of SkippedDay
        Every weekday from ``start`` to ``deadline`` that was not counted, in
        date order. Weekends are not listed.
    """

    kind: str
    start: dt.date
    deadline: dt.date
    business_days: int
    skipped: tuple[SkippedDay, ...]


@dataclass(frozen=True, eq=False)
class BusinessCalendar:
    """Business days for a set of years: Monday–Friday less holidays and closures.

    Build it with :func:`business_calendar`.

    Attributes
    ----------
    busdaycal : numpy.busdaycalendar
        Weekmask Monday–Friday and every non-business date of ``reasons``.
    reasons : Mapping of datetime.date to str
        Why each date is not a business day (read-only). May include dates on
        weekends.
    years : frozenset of int
        The years whose official holidays are included; counting outside them
        raises :class:`ValueError`.
    """

    busdaycal: np.busdaycalendar
    reasons: Mapping[dt.date, str]
    years: frozenset[int]


def _check_date(value: object, name: str) -> dt.date:
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise TypeError(f"{name} must be a datetime.date, not {type(value).__name__}")
    return value


def business_calendar(
    years: Iterable[int],
    *,
    closures: Iterable[dt.date] | Mapping[dt.date, str] = (),
    half_days_off: bool = False,
    language: str = HOLIDAY_LANGUAGE,
) -> BusinessCalendar:
    """Build the Turkish business-day calendar for ``years``.

    Parameters
    ----------
    years : iterable of int
        Years whose official holidays are included. Include the year after the
        last start date so that windows crossing New Year are right.
    closures : iterable of datetime.date, or mapping of datetime.date to str
        Extra closure days of the exam centre (e.g. an administrative-leave
        bridge day). A mapping gives each day a label; plain dates are
        labelled ``"closure"``. A closure on an official holiday keeps the
        holiday's name.
    half_days_off : bool, optional
        If True, the half-day eves (``holidays`` category ``HALF_DAY``: the
        eves of the Ramadan and Sacrifice feasts and 28 October) are closures
        too. By default they count as business days, their morning being a
        working day.
    language : str, optional
        Language of the holiday names, passed to ``holidays``.

    Returns
    -------
    BusinessCalendar

    Raises
    ------
    ValueError
        If ``years`` is empty.
    TypeError
        If a closure is not a :class:`datetime.date`.
    """
    years = frozenset(int(y) for y in years)
    if not years:
        raise ValueError("business_calendar needs at least one year")
    categories = (PUBLIC, HALF_DAY) if half_days_off else (PUBLIC,)
    official = holidays.country_holidays(
        "TR", years=sorted(years), categories=categories, language=language
    )
    reasons: dict[dt.date, str] = dict(official.items())
    labelled = (
        closures.items()
        if isinstance(closures, Mapping)
        else ((day, CLOSURE_REASON) for day in closures)
    )
    for day, label in labelled:
        reasons.setdefault(_check_date(day, "closure"), str(label) or CLOSURE_REASON)
    busdaycal = np.busdaycalendar(
        weekmask=WEEKMASK, holidays=np.array(sorted(reasons), dtype="datetime64[D]")
    )
    return BusinessCalendar(busdaycal, MappingProxyType(reasons), years)


def add_business_days(start: dt.date, n: int, cal: BusinessCalendar) -> dt.date:
    """Return the ``n``-th business day strictly after ``start``.

    Parameters
    ----------
    start : datetime.date
        The day before counting begins (the exam or announcement date); it
        need not be a business day.
    n : int
        Number of business days, at least 1.
    cal : BusinessCalendar
        Calendar covering every year from the day after ``start`` to the result.

    Returns
    -------
    datetime.date
        A business day ``d`` such that exactly ``n`` business days lie in
        ``(start, d]``.

    Raises
    ------
    ValueError
        If ``n < 1``, or if the count runs into a year ``cal`` was not built for.
    TypeError
        If ``start`` is not a :class:`datetime.date` or ``n`` not an integer.

    Examples
    --------
    >>> cal = business_calendar([2026])
    >>> add_business_days(dt.date(2026, 11, 13), 3, cal)  # a Friday
    datetime.date(2026, 11, 18)
    """
    _check_date(start, "start")
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"n must be an integer, not {type(n).__name__}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    # Rolling a non-business start backward makes the next business day count as day 1.
    result = np.busday_offset(
        np.datetime64(start, "D"), int(n), roll="backward", busdaycal=cal.busdaycal
    ).item()
    first = start + dt.timedelta(days=1)
    missing = [y for y in range(first.year, result.year + 1) if y not in cal.years]
    if missing:
        raise ValueError(
            f"business calendar has no holidays for {', '.join(map(str, missing))}; "
            f"build it with years including {', '.join(map(str, missing))}"
        )
    return result


def _window(kind: str, day: dt.date, n: int, cal: BusinessCalendar) -> ObjectionWindow:
    deadline = add_business_days(day, n, cal)
    start = day + dt.timedelta(days=1)
    skipped = tuple(
        SkippedDay(d, reason)
        for d, reason in sorted(cal.reasons.items())
        if start <= d <= deadline and d.weekday() < 5
    )
    return ObjectionWindow(kind, start, deadline, n, skipped)


def question_window(exam_date: dt.date, cal: BusinessCalendar) -> ObjectionWindow:
    """Window for objections to the questions: 3 business days following the exam.

    Parameters
    ----------
    exam_date : datetime.date
        Date of the exam session.
    cal : BusinessCalendar
        Calendar covering the exam year and, near year end, the next.

    Returns
    -------
    ObjectionWindow
        With ``kind="question"`` and ``business_days=3``.
    """
    return _window("question", exam_date, QUESTION_DAYS, cal)


def result_window(announcement_date: dt.date, cal: BusinessCalendar) -> ObjectionWindow:
    """Window for objections to the results: 7 business days from the announcement.

    Parameters
    ----------
    announcement_date : datetime.date
        Date the results were announced.
    cal : BusinessCalendar
        Calendar covering the announcement year and, near year end, the next.

    Returns
    -------
    ObjectionWindow
        With ``kind="result"`` and ``business_days=7``.
    """
    return _window("result", announcement_date, RESULT_DAYS, cal)


def objection_windows(
    exam_date: dt.date,
    announcement_date: dt.date | None,
    *,
    closures: Iterable[dt.date] | Mapping[dt.date, str] = (),
    half_days_off: bool = False,
) -> list[ObjectionWindow]:
    """Compute the objection windows of an exam.

    Builds the calendar for the years of both dates and the year after each.

    Parameters
    ----------
    exam_date : datetime.date
        Date of the exam session.
    announcement_date : datetime.date or None
        Date the results were announced; None while they are not.
    closures : iterable of datetime.date, or mapping of datetime.date to str
        Extra closure days from the exam definition; see :func:`business_calendar`.
    half_days_off : bool, optional
        Treat the half-day eves as closures; see :func:`business_calendar`.

    Returns
    -------
    list of ObjectionWindow
        The question window, followed by the result window if
        ``announcement_date`` is given.

    Raises
    ------
    ValueError
        If the results are announced before the exam.
    """
    days = [_check_date(exam_date, "exam_date")]
    if announcement_date is not None:
        days.append(_check_date(announcement_date, "announcement_date"))
        if announcement_date < exam_date:
            raise ValueError(
                f"results announced on {announcement_date} before the exam on {exam_date}"
            )
    years = {y for d in days for y in (d.year, d.year + 1)}
    cal = business_calendar(years, closures=closures, half_days_off=half_days_off)
    windows = [question_window(exam_date, cal)]
    if announcement_date is not None:
        windows.append(result_window(announcement_date, cal))
    return windows
