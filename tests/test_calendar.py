"""Objection windows on the Turkish business-day calendar: hand-computed deadlines.

Dates relied on, as printed from the installed ``holidays`` 0.109 (country TR,
language tr); ``test_library_dates`` pins them so a library change fails loudly.

Public holidays (category PUBLIC):
- 2026 Ramazan Bayramı: Fri 20, Sat 21, Sun 22 March
- 2026 Kurban Bayramı: Wed 27, Thu 28, Fri 29, Sat 30 May
- 2026: Tue 19 May (Atatürk'ü Anma...), Thu 29 Oct (Cumhuriyet Bayramı)
- 2027 Yılbaşı: Fri 1 January
- 2027 Ramazan Bayramı: Tue 9, Wed 10, Thu 11 March
- 2027 Kurban Bayramı: Sun 16, Mon 17, Tue 18, Wed 19 May (19 May is also
  Atatürk'ü Anma, Gençlik ve Spor Bayramı; the library joins the names with "; ")

Half-day eves (category HALF_DAY, "... (saat 13.00'ten)"), not in PUBLIC:
- 2026: Thu 19 Mar, Tue 26 May, Wed 28 Oct
- 2027: Mon 8 Mar, Sat 15 May, Thu 28 Oct
"""

from __future__ import annotations

import datetime as dt
import functools

import holidays
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from omr.score.calendar import (
    BusinessCalendar,
    ObjectionWindow,
    SkippedDay,
    add_business_days,
    business_calendar,
    objection_windows,
    question_window,
    result_window,
)

D = dt.date
RAMADAN = "Ramazan Bayramı"
SACRIFICE = "Kurban Bayramı"
YOUTH = "Atatürk'ü Anma, Gençlik ve Spor Bayramı"
REPUBLIC = "Cumhuriyet Bayramı"
NEW_YEAR = "Yılbaşı"
EVE = " (saat 13.00'ten)"


@functools.cache
def cal_2026_2027(half_days_off: bool = False) -> BusinessCalendar:
    return business_calendar([2026, 2027], half_days_off=half_days_off)


def test_library_dates():
    public = holidays.country_holidays("TR", years=[2026, 2027], language="tr")
    feasts = {d: n for d, n in public.items() if RAMADAN in n or SACRIFICE in n}
    assert sorted(feasts) == [
        D(2026, 3, 20), D(2026, 3, 21), D(2026, 3, 22),
        D(2026, 5, 27), D(2026, 5, 28), D(2026, 5, 29), D(2026, 5, 30),
        D(2027, 3, 9), D(2027, 3, 10), D(2027, 3, 11),
        D(2027, 5, 16), D(2027, 5, 17), D(2027, 5, 18), D(2027, 5, 19),
    ]  # fmt: skip
    assert public[D(2027, 5, 19)] == f"{YOUTH}; {SACRIFICE}"
    half = holidays.country_holidays(
        "TR", years=[2026, 2027], categories=("half_day",), language="tr"
    )
    assert dict(half) == {
        D(2026, 3, 19): RAMADAN + EVE,
        D(2026, 5, 26): SACRIFICE + EVE,
        D(2026, 10, 28): REPUBLIC + EVE,
        D(2027, 3, 8): RAMADAN + EVE,
        D(2027, 5, 15): SACRIFICE + EVE,
        D(2027, 10, 28): REPUBLIC + EVE,
    }
    # The eves are not in the default (public) category.
    assert not set(half) & set(public)


# --- plain weekdays and weekends -------------------------------------------------


def test_plain_weekdays():
    # Mon 9 Nov 2026 -> Tue 10, Wed 11, Thu 12.
    w = question_window(D(2026, 11, 9), cal_2026_2027())
    assert w == ObjectionWindow("question", D(2026, 11, 10), D(2026, 11, 12), 3, ())


def test_exam_on_friday_skips_weekend():
    # Fri 13 Nov 2026 -> Mon 16, Tue 17, Wed 18; the weekend is not listed.
    w = question_window(D(2026, 11, 13), cal_2026_2027())
    assert w == ObjectionWindow("question", D(2026, 11, 14), D(2026, 11, 18), 3, ())


def test_exam_on_saturday_counts_from_monday():
    # Sat 14 Nov 2026 -> Mon 16, Tue 17, Wed 18.
    assert add_business_days(D(2026, 11, 14), 3, cal_2026_2027()) == D(2026, 11, 18)


def test_one_business_day():
    cal = cal_2026_2027()
    assert add_business_days(D(2026, 11, 12), 1, cal) == D(2026, 11, 13)  # Thu -> Fri
    assert add_business_days(D(2026, 11, 13), 1, cal) == D(2026, 11, 16)  # Fri -> Mon


# --- feasts ----------------------------------------------------------------------


def test_before_ramadan_feast_2026():
    # Wed 18 Mar -> Thu 19 (eve, counts), [Fri 20 feast], Mon 23, Tue 24.
    w = question_window(D(2026, 3, 18), cal_2026_2027())
    assert w.start == D(2026, 3, 19)
    assert w.deadline == D(2026, 3, 24)
    assert w.skipped == (SkippedDay(D(2026, 3, 20), RAMADAN),)


def test_before_sacrifice_feast_2026():
    # Mon 25 May -> Tue 26 (eve, counts), [Wed 27, Thu 28, Fri 29 feast], Mon 1 Jun, Tue 2 Jun.
    w = question_window(D(2026, 5, 25), cal_2026_2027())
    assert w.deadline == D(2026, 6, 2)
    assert w.skipped == (
        SkippedDay(D(2026, 5, 27), SACRIFICE),
        SkippedDay(D(2026, 5, 28), SACRIFICE),
        SkippedDay(D(2026, 5, 29), SACRIFICE),
    )


def test_before_ramadan_feast_2027():
    # Fri 5 Mar -> Mon 8 (eve, counts), [Tue 9, Wed 10, Thu 11 feast], Fri 12, Mon 15.
    w = question_window(D(2027, 3, 5), cal_2026_2027())
    assert w.start == D(2027, 3, 6)
    assert w.deadline == D(2027, 3, 15)
    assert w.skipped == (
        SkippedDay(D(2027, 3, 9), RAMADAN),
        SkippedDay(D(2027, 3, 10), RAMADAN),
        SkippedDay(D(2027, 3, 11), RAMADAN),
    )


@pytest.mark.parametrize("half_days_off", [False, True])
def test_before_sacrifice_feast_2027(half_days_off):
    # Fri 14 May -> [Sat 15 eve, Sun 16 feast], [Mon 17, Tue 18, Wed 19 feast],
    # Thu 20, Fri 21, Mon 24. The eve is a Saturday, so half_days_off changes nothing.
    w = question_window(D(2027, 5, 14), cal_2026_2027(half_days_off))
    assert w.deadline == D(2027, 5, 24)
    assert w.skipped == (
        SkippedDay(D(2027, 5, 17), SACRIFICE),
        SkippedDay(D(2027, 5, 18), SACRIFICE),
        SkippedDay(D(2027, 5, 19), f"{YOUTH}; {SACRIFICE}"),
    )


# --- fixed holidays --------------------------------------------------------------


def test_window_across_new_year():
    # Wed 30 Dec 2026 -> Thu 31, [Fri 1 Jan 2027], Mon 4 Jan, Tue 5 Jan.
    [w] = objection_windows(D(2026, 12, 30), None)
    assert w == ObjectionWindow(
        "question", D(2026, 12, 31), D(2027, 1, 5), 3, (SkippedDay(D(2027, 1, 1), NEW_YEAR),)
    )


def test_new_year_needs_next_year_in_calendar():
    with pytest.raises(ValueError, match="no holidays for 2027"):
        add_business_days(D(2026, 12, 30), 3, business_calendar([2026]))


def test_republic_day():
    # Tue 27 Oct 2026 -> Wed 28 (eve, counts), [Thu 29], Fri 30, Mon 2 Nov.
    w = question_window(D(2026, 10, 27), cal_2026_2027())
    assert w.deadline == D(2026, 11, 2)
    assert w.skipped == (SkippedDay(D(2026, 10, 29), REPUBLIC),)


# --- closures --------------------------------------------------------------------


def test_closure_day_from_exam():
    # Fri 15 May 2026; bridge day Mon 18 before Tue 19 (Youth Day):
    # [Mon 18 closure, Tue 19 holiday], Wed 20, Thu 21, Fri 22.
    [w] = objection_windows(D(2026, 5, 15), None, closures=[D(2026, 5, 18)])
    assert w.deadline == D(2026, 5, 22)
    assert w.skipped == (SkippedDay(D(2026, 5, 18), "closure"), SkippedDay(D(2026, 5, 19), YOUTH))


def test_without_closure_bridge_day_counts():
    # Fri 15 May 2026 -> Mon 18, [Tue 19], Wed 20, Thu 21.
    [w] = objection_windows(D(2026, 5, 15), None)
    assert w.deadline == D(2026, 5, 21)
    assert w.skipped == (SkippedDay(D(2026, 5, 19), YOUTH),)


def test_closure_with_label():
    [w] = objection_windows(D(2026, 5, 15), None, closures={D(2026, 5, 18): "idari izin"})
    assert w.deadline == D(2026, 5, 22)
    assert w.skipped[0] == SkippedDay(D(2026, 5, 18), "idari izin")


def test_closure_on_holiday_keeps_holiday_name():
    cal = business_calendar([2026], closures=[D(2026, 10, 29)])
    assert cal.reasons[D(2026, 10, 29)] == REPUBLIC


def test_closure_on_weekend_is_not_listed():
    # Sat 14 Nov 2026 closed: nothing changes, nothing listed.
    [w] = objection_windows(D(2026, 11, 13), None, closures=[D(2026, 11, 14)])
    assert w == ObjectionWindow("question", D(2026, 11, 14), D(2026, 11, 18), 3, ())


# --- half-day eves ---------------------------------------------------------------


def test_ramadan_eve_skipped_with_half_days_off():
    # Wed 18 Mar 2026 -> [Thu 19 eve, Fri 20 feast], Mon 23, Tue 24, Wed 25.
    w = question_window(D(2026, 3, 18), cal_2026_2027(half_days_off=True))
    assert w.deadline == D(2026, 3, 25)
    assert w.skipped == (
        SkippedDay(D(2026, 3, 19), RAMADAN + EVE),
        SkippedDay(D(2026, 3, 20), RAMADAN),
    )


def test_sacrifice_eve_skipped_with_half_days_off():
    # Mon 25 May 2026 -> [Tue 26 eve, Wed 27–Fri 29 feast], Mon 1, Tue 2, Wed 3 Jun.
    [w] = objection_windows(D(2026, 5, 25), None, half_days_off=True)
    assert w.deadline == D(2026, 6, 3)
    assert [s.date for s in w.skipped] == [
        D(2026, 5, 26),
        D(2026, 5, 27),
        D(2026, 5, 28),
        D(2026, 5, 29),
    ]
    assert w.skipped[0].reason == SACRIFICE + EVE


def test_republic_eve_skipped_with_half_days_off():
    # Tue 27 Oct 2026 -> [Wed 28 eve, Thu 29], Fri 30, Mon 2 Nov, Tue 3 Nov.
    [w] = objection_windows(D(2026, 10, 27), None, half_days_off=True)
    assert w.deadline == D(2026, 11, 3)
    assert w.skipped == (
        SkippedDay(D(2026, 10, 28), REPUBLIC + EVE),
        SkippedDay(D(2026, 10, 29), REPUBLIC),
    )


def test_eve_is_business_day_by_default():
    cal = cal_2026_2027()
    for eve in [D(2026, 3, 19), D(2026, 5, 26), D(2026, 10, 28), D(2027, 3, 8), D(2027, 10, 28)]:
        assert eve not in cal.reasons
        assert add_business_days(eve - dt.timedelta(days=1), 1, cal) == eve


# --- result window ---------------------------------------------------------------


def test_result_window_plain():
    # Mon 16 Nov 2026 -> Tue 17 ... Fri 20, Mon 23, Tue 24, Wed 25.
    w = result_window(D(2026, 11, 16), cal_2026_2027())
    assert w == ObjectionWindow("result", D(2026, 11, 17), D(2026, 11, 25), 7, ())


def test_result_window_across_ramadan_2026():
    # Mon 16 Mar -> Tue 17, Wed 18, Thu 19 (eve), [Fri 20], Mon 23, Tue 24, Wed 25, Thu 26.
    w = result_window(D(2026, 3, 16), cal_2026_2027())
    assert w.deadline == D(2026, 3, 26)
    assert w.skipped == (SkippedDay(D(2026, 3, 20), RAMADAN),)


def test_objection_windows_both():
    # Exam Fri 13 Nov 2026, results Mon 16 Nov 2026.
    q, r = objection_windows(D(2026, 11, 13), D(2026, 11, 16))
    assert (q.kind, q.start, q.deadline, q.business_days) == (
        "question",
        D(2026, 11, 14),
        D(2026, 11, 18),
        3,
    )
    assert (r.kind, r.start, r.deadline, r.business_days) == (
        "result",
        D(2026, 11, 17),
        D(2026, 11, 25),
        7,
    )


def test_result_window_across_new_year_from_announcement_year():
    # Exam Mon 14 Dec 2026, results Thu 24 Dec 2026 -> Fri 25, Mon 28, Tue 29, Wed 30,
    # Thu 31, [Fri 1 Jan], Mon 4, Tue 5 Jan 2027.
    _, r = objection_windows(D(2026, 12, 14), D(2026, 12, 24))
    assert r.deadline == D(2027, 1, 5)
    assert r.skipped == (SkippedDay(D(2027, 1, 1), NEW_YEAR),)


# --- errors ----------------------------------------------------------------------


def test_announcement_before_exam():
    with pytest.raises(ValueError, match="announced on 2026-11-12 before the exam on 2026-11-13"):
        objection_windows(D(2026, 11, 13), D(2026, 11, 12))


@pytest.mark.parametrize("n", [0, -1])
def test_n_must_be_positive(n):
    with pytest.raises(ValueError, match="n must be at least 1"):
        add_business_days(D(2026, 11, 13), n, cal_2026_2027())


def test_datetime_rejected():
    with pytest.raises(TypeError, match="start must be a datetime.date, not datetime"):
        add_business_days(dt.datetime(2026, 11, 13, 9), 3, cal_2026_2027())


def test_empty_years_rejected():
    with pytest.raises(ValueError, match="at least one year"):
        business_calendar([])


def test_reasons_read_only():
    with pytest.raises(TypeError):
        cal_2026_2027().reasons[D(2026, 11, 13)] = "x"  # type: ignore[index]


# --- property: against an independent day-by-day count ---------------------------


@functools.cache
def _closed_days(half_days_off: bool) -> frozenset[dt.date]:
    cats = ("public", "half_day") if half_days_off else ("public",)
    years = range(2025, 2030)
    return frozenset(holidays.country_holidays("TR", years=years, categories=cats, language="tr"))


@functools.cache
def _cal_2025_2029(half_days_off: bool) -> BusinessCalendar:
    return business_calendar(range(2025, 2030), half_days_off=half_days_off)


def _is_business(day: dt.date, half_days_off: bool) -> bool:
    return day.weekday() < 5 and day not in _closed_days(half_days_off)


@given(
    start=st.dates(min_value=D(2025, 1, 1), max_value=D(2028, 12, 1)),
    n=st.integers(min_value=1, max_value=15),
    half_days_off=st.booleans(),
)
def test_deadline_is_nth_business_day(start, n, half_days_off):
    deadline = add_business_days(start, n, _cal_2025_2029(half_days_off))
    assert _is_business(deadline, half_days_off)
    days = [start + dt.timedelta(days=k) for k in range(1, (deadline - start).days + 1)]
    assert sum(_is_business(d, half_days_off) for d in days) == n


@pytest.mark.parametrize(
    ("exam", "deadline"),
    [
        (D(2026, 3, 17), D(2026, 3, 23)),  # Tue: Wed 18, Thu 19, [Fri 20], Mon 23
        (D(2026, 3, 19), D(2026, 3, 25)),  # eve Thu: [Fri 20], Mon 23, Tue 24, Wed 25
        (D(2026, 3, 20), D(2026, 3, 25)),  # on the feast: Mon 23, Tue 24, Wed 25
        (D(2026, 5, 26), D(2026, 6, 3)),  # eve Tue: [27–29], Mon 1, Tue 2, Wed 3 Jun
        (D(2027, 3, 8), D(2027, 3, 16)),  # eve Mon: [9–11], Fri 12, Mon 15, Tue 16
        (D(2027, 5, 19), D(2027, 5, 24)),  # feast Wed: Thu 20, Fri 21, Mon 24
    ],
)
def test_question_deadlines_around_feasts(exam, deadline):
    w = question_window(exam, cal_2026_2027())
    assert w.deadline == deadline
    assert np.is_busday(np.datetime64(deadline, "D"), busdaycal=cal_2026_2027().busdaycal)
    assert (
        np.busday_count(
            w.start, deadline + dt.timedelta(days=1), busdaycal=cal_2026_2027().busdaycal
        )
        == 3
    )
