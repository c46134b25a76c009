"""Who sits the simulated exam, what the exam is, and what each candidate marks.

Every function here is a pure function of a :class:`numpy.random.Generator`
and plain data: the same generator state gives the same roster, exam and
sheet plans. Nothing here draws pixels (see :mod:`omr.simulate.marks`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from omr.forms import Form
from omr.simulate.marks import MarkShape
from omr.simulate.pens import INK, pen_by_name
from omr.simulate.profile import Profile

FIRST_NAMES = (
    "Ahmet", "Mehmet", "Mustafa", "Ali", "Hüseyin", "Hasan", "İbrahim", "Emre", "Burak", "Can",
    "Çağrı", "Oğuz", "Şükrü", "Ümit", "Yusuf", "Kerem", "Ayşe", "Fatma", "Emine", "Hatice",
    "Zeynep", "Elif", "Merve", "Büşra", "Özge", "Gül", "Şeyma", "İrem", "Derya", "Ebru",
)  # fmt: skip
LAST_NAMES = (
    "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın",
    "Özdemir", "Arslan", "Doğan", "Kılıç", "Aslan", "Çetin", "Kara", "Koç", "Kurt", "Özkan",
    "Şimşek", "Polat", "Korkmaz", "Erdoğan", "Güneş", "Aktaş", "Bulut", "Keskin", "Uçar",
)  # fmt: skip
COURSES = (
    ("TUR101", "Türk Dili I"),
    ("ATA101", "Atatürk İlkeleri ve İnkılap Tarihi I"),
    ("ING101", "İngilizce I"),
    ("BIL101", "Temel Bilgi Teknolojileri"),
    ("MAT101", "Genel Matematik"),
    ("IKT101", "İktisada Giriş"),
    ("HUK101", "Hukukun Temel Kavramları"),
    ("ISL101", "İşletme Bilimine Giriş"),
)
ROSTER_COLUMNS = ("student_number", "national_id", "first_name", "last_name", "hall", "seat")


@dataclass(frozen=True)
class Candidate:
    """One candidate of the roster and the booklet group handed to them."""

    student_number: str
    national_id: str
    first_name: str
    last_name: str
    hall: str
    seat: str
    group: str

    def roster_row(self) -> dict[str, str]:
        """The candidate's row of ``roster.csv`` (see :data:`ROSTER_COLUMNS`)."""
        return {c: getattr(self, c) for c in ROSTER_COLUMNS}


@dataclass(frozen=True)
class PlannedMark:
    """One bubble a candidate fills: where, and with what pencil.

    ``item`` is 0-based (question or digit position); ``coverage`` is the
    share of the bubble the candidate means to cover. ``kind`` says how:
    ``fill`` (the usual blob, full or partial), ``faint``, ``half``, ``tick``,
    ``cross``, ``circle``, ``dot`` or ``light`` (all answers), or ``erasure`` (residue of
    a rubbed-out answer: not an answer; ``darkness`` is the residue's) or
    ``ring`` (a ring in pen or marker inside a bubble: not an answer).
    ``pen`` names a pen of the profile's catalogue (see
    :mod:`omr.simulate.pens`); None is the older profiles' generic pencil.
    """

    field: str
    item: int
    option: str
    bubble: int
    darkness: float
    coverage: float
    kind: str = "fill"
    pen: str | None = None


ANSWER_KINDS = ("fill", "faint", "half", "tick", "cross", "circle", "dot", "light")
AMBIGUOUS_KINDS = ("circle", "dot")


@dataclass(frozen=True, eq=False)
class StrayStroke:
    """A stray pencil stroke between bubbles: not an answer.

    ``points_mm`` is a ``(P, 2)`` polyline in page millimetres, (x, y) order;
    ``field`` and ``item`` name the nearest bubble's question (0-based).
    """

    field: str
    item: int
    points_mm: np.ndarray
    darkness: float


@dataclass(frozen=True)
class SheetPlan:
    """Everything a candidate puts on one sheet, before any pixel is drawn.

    ``group_marks`` holds the group letters marked, in option order;
    ``answers`` maps each answer block of the form to one string per printed
    question (the options marked, in option order; ``""`` is blank);
    ``identity`` maps each digit field of the form to the digits coded.
    ``shape`` holds the pencil-blob geometry of ``marks``, in the same order.
    ``darkness`` and ``grain`` are the candidate's pencil. ``erasures`` and
    ``strays`` are pencil that is no answer (see :func:`plan_habits`).

    With the pen models (see :func:`plan_pens`), ``pencil`` names the
    candidate's graphite and ``hand`` their pressure (0..1); ``ink_pen`` the
    other pen, if any, and ``ink_use`` how it was used: ``none``,
    ``answers`` (every answer mark), ``all`` (answers, group and identity
    marks, the handwritten digits and the signature) or ``corrections`` (a
    few answer marks). ``writing_pen`` and ``writing_darkness`` are the
    digits' and the signature's.
    """

    candidate: Candidate
    group_marks: str
    answers: dict[str, list[str]]
    identity: dict[str, str]
    marks: tuple[PlannedMark, ...]
    shape: MarkShape
    darkness: float
    grain: float
    erasures: tuple[PlannedMark, ...] = ()
    strays: tuple[StrayStroke, ...] = ()
    rings: tuple[PlannedMark, ...] = ()
    pencil: str | None = None
    hand: float | None = None
    ink_pen: str | None = None
    ink_use: str = "none"
    writing_pen: str | None = None
    writing_darkness: float | None = None

    @property
    def ink(self) -> bool:
        """Whether anything on the sheet is in a pen other than pencil."""
        if self.ink_pen is None:
            return False
        return self.writing_pen == self.ink_pen or any(m.pen == self.ink_pen for m in self.marks)


def national_id_check_digits(first9: str) -> str:
    """The two check digits (10th, 11th) of a Turkish national ID.

    Parameters
    ----------
    first9 : str
        The first nine digits; the first must not be ``0``.

    Returns
    -------
    str
        Digits 10 and 11: d10 = (7 (d1+d3+d5+d7+d9) - (d2+d4+d6+d8)) mod 10,
        d11 = (d1+...+d10) mod 10.
    """
    if len(first9) != 9 or not first9.isdigit() or first9[0] == "0":
        raise ValueError(f"need nine digits not starting with 0, got {first9!r}")
    d = [int(c) for c in first9]
    d10 = (7 * sum(d[0:9:2]) - sum(d[1:8:2])) % 10
    d11 = (sum(d) + d10) % 10
    return f"{d10}{d11}"


def make_national_id(rng: np.random.Generator) -> str:
    """A random 11-digit national ID that passes the checksum."""
    first9 = str(rng.integers(1, 10)) + "".join(str(x) for x in rng.integers(0, 10, 8))
    return first9 + national_id_check_digits(first9)


def _digits(form: Form, name: str, default: int) -> int:
    field = getattr(form.identity, name)
    return field.digits if field is not None else default


def make_roster(form: Form, n: int, rng: np.random.Generator, profile: Profile) -> list[Candidate]:
    """``n`` candidates in hall and seat order, with unique numbers and IDs.

    Student numbers have the form's digit count (10 if the form has no
    student-number grid); halls and seats likewise (3 digits by default).
    Booklet groups go round the form's groups by seat, starting at a random
    group in each hall.
    """
    if n < 1:
        raise ValueError(f"a session needs at least one sheet, got {n}")
    k = _digits(form, "student_number", 10)
    numbers = rng.choice(9 * 10 ** (k - 1), size=n, replace=False) + 10 ** (k - 1)
    ids: list[str] = []
    seen: set[str] = set()
    while len(ids) < n:
        nid = make_national_id(rng)
        if nid not in seen:
            seen.add(nid)
            ids.append(nid)
    hall_digits = _digits(form, "hall", 3)
    seat_digits = _digits(form, "seat", 3)
    n_halls = min(math.ceil(n / profile.seats_per_hall), 10**hall_digits - 1)
    per_hall = math.ceil(n / n_halls)
    if per_hall >= 10**seat_digits:
        raise ValueError(
            f"{n} candidates do not fit in {n_halls} halls of {seat_digits}-digit seats"
        )
    halls = np.sort(rng.choice(np.arange(1, 10**hall_digits), size=n_halls, replace=False))
    groups = form.group.options if form.group is not None else [""]
    starts = rng.integers(0, len(groups), n_halls) if form.group is not None else [0] * n_halls
    firsts = rng.integers(0, len(FIRST_NAMES), n)
    lasts = rng.integers(0, len(LAST_NAMES), n)
    roster = []
    for i in range(n):
        h, s = divmod(i, per_hall)
        roster.append(
            Candidate(
                student_number=str(numbers[i]),
                national_id=ids[i],
                first_name=FIRST_NAMES[firsts[i]],
                last_name=LAST_NAMES[lasts[i]],
                hall=f"{halls[h]:0{hall_digits}d}",
                seat=f"{s + 1:0{seat_digits}d}",
                group=groups[(starts[h] + s) % len(groups)],
            )
        )
    return roster


def make_exam(form: Form, rng: np.random.Generator, profile: Profile, *, name: str) -> dict:
    """The exam definition (the content of ``exam.yaml``) for ``form``.

    One course per answer block, as many questions as the block, keys for
    every booklet group of the form. Group A (the first group) keeps the
    master order 1..n; every other group gets a random permutation, and its
    key at printed position ``i`` is the master key of item ``order[i]``.
    """
    groups = list(form.group.options) if form.group is not None else []
    if len(form.answer_blocks) > len(COURSES):
        raise ValueError(f"the simulator knows {len(COURSES)} courses, form has more blocks")
    courses = []
    for (block_name, block), (code, title) in zip(
        form.answer_blocks.items(), COURSES, strict=False
    ):
        n = block.questions
        master = rng.integers(0, len(block.options), n)
        course = {"code": code, "name": title, "block": block_name, "questions": n}
        if not groups:  # one booklet version: one key, printed in master order
            course["key"] = "".join(block.options[m] for m in master)
            courses.append(course)
            continue
        orders = {groups[0]: list(range(1, n + 1))}
        for g in groups[1:]:
            orders[g] = [int(x) + 1 for x in rng.permutation(n)]
        keys = {
            g: "".join(block.options[master[item - 1]] for item in order)
            for g, order in orders.items()
        }
        courses.append(course | {"keys": keys, "order": orders})
    exam = {
        "format": 1,
        "name": name,
        "date": profile.exam_date,
        "announcement_date": profile.announcement_date,
        "form": form.name,
        "groups": groups,
        "roster": "roster.csv",
        "courses": courses,
    }
    if not groups:
        del exam["groups"]
    return exam


def course_key(course: dict, group: str) -> str:
    """The key (a string, printed order) of simulated ``course`` for booklet ``group``."""
    return course["key"] if "key" in course else course["keys"][group]


def sheet_status(group_marks: str, *, grouped: bool = True) -> str:
    """``scored``, or why the sheet is void (article 7.6: booklet group, when the form has one)."""
    if not grouped:
        return "scored"
    if not group_marks:
        return "void:no-group"
    if len(group_marks) > 1:
        return "void:multiple-groups"
    return "scored"


def _pick_group(rng: np.random.Generator, groups: list[str], mine: str, profile: Profile) -> str:
    u = rng.random()
    if u < profile.p_group_none:
        return ""
    if u < profile.p_group_none + profile.p_group_double:
        other = rng.choice([g for g in groups if g != mine])
        return "".join(g for g in groups if g in (mine, other))
    return mine


def _answer(
    rng: np.random.Generator, options: tuple[str, ...], key: str, ability: float, p: Profile
) -> str:
    """Options marked on one question, in option order."""
    u = rng.random()
    if u < p.p_blank:
        return ""
    if u < p.p_blank + p.p_double:
        pair = sorted(rng.choice(len(options), size=2, replace=False))
        return "".join(options[j] for j in pair)
    if rng.random() < ability:
        return key
    return str(rng.choice([o for o in options if o != key]))


def plan_sheet(
    form: Form, exam: dict, candidate: Candidate, rng: np.random.Generator, profile: Profile
) -> SheetPlan:
    """What ``candidate`` marks on their sheet: group, identity digits and answers.

    Answers follow the key of the candidate's booklet group (the one handed
    out, whatever they code in the group field). Blocks without a course stay
    blank; proctor boxes stay empty.
    """
    p = profile
    layout = form.layout
    ability = rng.uniform(*p.ability)
    darkness = rng.uniform(*p.darkness)
    grain = rng.uniform(*p.grain)
    if form.group is not None:
        group_marks = _pick_group(rng, list(form.group.options), candidate.group, p)
    else:
        group_marks = ""

    identity = {}
    for name, field in form.identity:
        if field is not None:
            value = getattr(candidate, name)
            identity[name] = value[-field.digits :].zfill(field.digits)

    courses = {c["block"]: c for c in exam["courses"]}
    answers: dict[str, list[str]] = {}
    for block_name, block in form.answer_blocks.items():
        options = tuple(block.options)
        course = courses.get(block_name)
        key = course_key(course, candidate.group) if course else ""
        answers[block_name] = [
            _answer(rng, options, key[i], ability, p) if i < len(key) else ""
            for i in range(block.questions)
        ]

    chosen: list[tuple[str, int, str]] = [("group", 0, g) for g in group_marks]
    for name, value in identity.items():
        printed = layout.fields[name].option_labels  # a grid may leave digits out
        chosen += [(name, i, digit) for i, digit in enumerate(value) if digit in printed]
    for block_name, marked in answers.items():
        chosen += [(block_name, i, o) for i, letters in enumerate(marked) for o in letters]

    k = len(chosen)
    lo, hi = p.darkness_limits
    dark = np.clip(darkness + rng.normal(0, p.darkness_jitter, k), lo, hi)
    partial = rng.random(k) < p.p_partial
    cover = np.where(partial, rng.uniform(*p.partial_coverage, k), rng.uniform(*p.full_coverage, k))
    marks = []
    for (name, item, option), d, c in zip(chosen, dark, cover, strict=True):
        f = layout.fields[name]
        bubble = int(f.index[item, f.option_labels.index(option)])
        marks.append(
            PlannedMark(name, item, option, bubble, round(float(d), 3), round(float(c), 3))
        )

    offset = np.clip(rng.normal(0, p.mark_offset_sd, (k, 2)), -p.mark_offset_max, p.mark_offset_max)
    shape = MarkShape(
        offset_xy=offset,
        size=rng.uniform(*p.mark_size, k),
        cut_angle=rng.uniform(0, 2 * np.pi, k),
        wobble=rng.uniform(0, p.mark_wobble, (k, 3)),
        phase=rng.uniform(0, 2 * np.pi, (k, 3)),
    )
    return SheetPlan(
        candidate=candidate,
        group_marks=group_marks,
        answers=answers,
        identity=identity,
        marks=tuple(marks),
        shape=shape,
        darkness=float(darkness),
        grain=float(grain),
    )


def miscode_group(
    form: Form, plan: SheetPlan, rng: np.random.Generator, profile: Profile
) -> SheetPlan:
    """With probability ``p_group_miscoded``, an honest candidate codes another group.

    The answers still follow the booklet the candidate was handed, so the key
    of the coded group fits them badly: the case the reader should flag.
    """
    if form.group is None or profile.p_group_miscoded <= 0:
        return plan
    if plan.group_marks != plan.candidate.group:
        return plan
    if rng.random() >= profile.p_group_miscoded:
        return plan
    groups = list(form.group.options)
    wrong = str(rng.choice([g for g in groups if g != plan.group_marks]))
    bubble = int(form.layout.fields["group"].index[0, groups.index(wrong)])
    marks = tuple(
        replace(m, option=wrong, bubble=bubble) if m.field == "group" else m for m in plan.marks
    )
    return replace(plan, group_marks=wrong, marks=marks)


def _choose(rng: np.random.Generator, names: tuple[str, ...], weights: tuple[float, ...]) -> str:
    w = np.asarray(weights, dtype=float)
    if len(w) != len(names):
        raise ValueError(f"{len(names)} pens but {len(w)} weights")
    return str(names[int(rng.choice(len(names), p=w / w.sum()))])


def pen_darkness(density: tuple[float, float], hand: float) -> float:
    """A full stroke's darkness for a ``hand`` (0 lightest .. 1 heaviest) within ``density``."""
    lo, hi = density
    return lo + float(np.clip(hand, 0.0, 1.0)) * (hi - lo)


def plan_pens(form: Form, plan: SheetPlan, rng: np.random.Generator, profile: Profile) -> SheetPlan:
    """Give every mark of a sheet plan its pen (a no-op without ``profile.pen_model``).

    The candidate writes with a pencil of ``pencil_pens`` at a pressure drawn
    from ``hand``: every mark gets that pencil's darkness (plus the per-mark
    jitter). A share ``p_ink_sheet`` of candidates also use a pen of
    ``ink_pens``: on a share ``p_ink_corrections`` of those sheets only a few
    answer marks are in ink (corrections), otherwise every answer mark is,
    and with ``p_ink_identity`` the group and identity marks, the digits and
    the signature too.

    Parameters
    ----------
    form : Form
        The sheet design.
    plan : SheetPlan
        What :func:`plan_sheet` planned; its answers stay as they are.
    rng : numpy.random.Generator
        A stream of its own.
    profile : Profile
        The pen catalogue and shares.

    Returns
    -------
    SheetPlan
        ``plan`` with each mark's ``pen`` and ``darkness``, and the sheet's
        ``pencil``, ``hand``, ``darkness``, ``grain`` and ink fields set.
    """
    p = profile
    if not p.pen_model:
        return plan
    pencil = pen_by_name(p.pens, _choose(rng, p.pencil_pens, p.pencil_weights))
    if pencil.medium == INK:
        raise ValueError(f"pencil_pens must be graphite, {pencil.name!r} is {pencil.medium}")
    hand = float(rng.uniform(*p.hand))
    darkness = pen_darkness(pencil.density, hand)
    grain = float(rng.uniform(*pencil.grain))
    marks = list(plan.marks)
    k = len(marks)
    lo, hi = p.darkness_limits
    dark = np.clip(darkness + rng.normal(0.0, p.darkness_jitter, k), lo, hi)
    for i, m in enumerate(marks):
        marks[i] = replace(m, pen=pencil.name, darkness=round(float(dark[i]), 3))

    ink_pen, ink_use = None, "none"
    writing_pen, writing_darkness = pencil.name, darkness
    if p.p_ink_sheet > 0 and rng.random() < p.p_ink_sheet:
        pen = pen_by_name(p.pens, _choose(rng, p.ink_pens, p.ink_weights))
        ink_pen = pen.name
        ink_dark = float(rng.uniform(*pen.density))
        answers = [i for i, m in enumerate(marks) if m.field in form.answer_blocks]
        if rng.random() < p.p_ink_corrections:
            ink_use = "corrections"
            lo_n, hi_n = p.ink_corrections_per_sheet
            n = int(rng.integers(lo_n, hi_n + 1))
            order = rng.permutation(len(answers))
            inked = [answers[j] for j in order[: min(n, len(answers))]]
        elif rng.random() < p.p_ink_identity:
            ink_use = "all"
            inked = list(range(k))
            writing_pen, writing_darkness = pen.name, ink_dark
        else:
            ink_use = "answers"
            inked = answers
        jitter = rng.normal(0.0, p.ink_darkness_jitter, len(inked))
        for i, j in zip(inked, jitter, strict=True):
            d = float(np.clip(ink_dark + j, *pen.density))
            marks[i] = replace(marks[i], pen=pen.name, darkness=round(d, 3))
    return replace(
        plan,
        marks=tuple(marks),
        darkness=float(darkness),
        grain=grain,
        pencil=pencil.name,
        hand=round(hand, 3),
        ink_pen=ink_pen,
        ink_use=ink_use,
        writing_pen=writing_pen,
        writing_darkness=float(writing_darkness),
    )


def _count(rng: np.random.Generator, p: float, per_sheet: tuple[int, int]) -> int:
    """How many marks of a feature a sheet carries: 0 unless the sheet is picked (share ``p``)."""
    if p <= 0 or rng.random() >= p:
        return 0
    return int(rng.integers(per_sheet[0], per_sheet[1] + 1))


def plan_habits(
    form: Form, plan: SheetPlan, rng: np.random.Generator, profile: Profile
) -> SheetPlan:
    """Add the harder students' habits to a sheet plan (a no-op when the profile has none).

    Some answer marks turn faint, half-filled, ticked, crossed, circled or
    dotted (the answers do not change: these are still what the candidate
    means); erasure residue lands on other options of questions answered
    with one option, or on blank questions; stray strokes go between
    bubbles, touching no bubble's interior. Each feature first picks the
    sheet (its ``p_*_sheet`` share), then how many marks; answer marks are
    picked at most once.

    Parameters
    ----------
    form : Form
        The sheet design.
    plan : SheetPlan
        What :func:`plan_sheet` planned; its answers stay as they are.
    rng : numpy.random.Generator
        A stream of its own: the plan's other streams are not touched.
    profile : Profile
        The ``p_*_sheet`` shares and ranges.

    Returns
    -------
    SheetPlan
        ``plan`` with marks' ``kind`` (and darkness or coverage) changed and
        ``erasures`` and ``strays`` set.
    """
    p = profile
    shares = (
        p.p_faint_sheet,
        p.p_half_sheet,
        p.p_tick_sheet,
        p.p_circle_sheet,
        p.p_erasure_sheet,
        p.p_stray_sheet,
        p.p_ring_sheet,
        p.p_light_sheet,
    )
    if not any(x > 0 for x in shares):
        return plan
    marks = list(plan.marks)
    pool = [i for i, m in enumerate(marks) if m.field in form.answer_blocks]
    pool = [pool[j] for j in rng.permutation(len(pool))]

    def take(share: float, per_sheet: tuple[int, int]) -> list[int]:
        k = min(_count(rng, share, per_sheet), len(pool))
        picked = pool[:k]
        del pool[:k]
        return picked

    for i in take(p.p_faint_sheet, p.faint_per_sheet):
        dark = round(float(rng.uniform(*p.faint_darkness)), 3)
        marks[i] = replace(marks[i], kind="faint", darkness=dark)
    for i in take(p.p_half_sheet, p.half_per_sheet):
        cover = round(float(rng.uniform(*p.half_coverage)), 3)
        marks[i] = replace(marks[i], kind="half", coverage=cover)
    for i in take(p.p_tick_sheet, p.ticks_per_sheet):
        marks[i] = replace(marks[i], kind="cross" if rng.random() < p.p_cross else "tick")
    for i in take(p.p_circle_sheet, p.circles_per_sheet):
        marks[i] = replace(marks[i], kind="dot" if rng.random() < p.p_dot else "circle")
    erasures = _plan_erasures(form, plan, rng, p)
    strays = _plan_strays(form, plan, rng, p)
    rings = _plan_rings(form, plan, erasures, rng, p)
    if p.p_light_sheet > 0 and rng.random() < p.p_light_sheet:
        # a light hand: every plain fill of the answers shaded lightly, but fully
        for i, m in enumerate(marks):
            if m.field in form.answer_blocks and m.kind == "fill":
                dark = round(float(rng.uniform(*p.light_darkness)), 3)
                cover = round(float(rng.uniform(*p.full_coverage)), 3)
                marks[i] = replace(m, kind="light", darkness=dark, coverage=cover)
    return replace(plan, marks=tuple(marks), erasures=erasures, strays=strays, rings=rings)


def _plan_rings(
    form: Form,
    plan: SheetPlan,
    erasures: tuple[PlannedMark, ...],
    rng: np.random.Generator,
    p: Profile,
) -> tuple[PlannedMark, ...]:
    """Rings in pen or marker inside another bubble of questions answered with one option.

    ``darkness`` is the middle of the pen's density range (see
    :data:`omr.simulate.pens.PENS`); ``coverage`` the ring's radius in
    bubble radii until drawn.
    """
    k = _count(rng, p.p_ring_sheet, p.rings_per_sheet)
    if k == 0:
        return ()
    taken = {(m.field, m.item) for m in erasures}
    single = [
        (block, i)
        for block, answers in plan.answers.items()
        for i, letters in enumerate(answers)
        if len(letters) == 1 and (block, i) not in taken
    ]
    layout = form.layout
    out = []
    for j in rng.permutation(len(single))[:k]:
        block, item = single[int(j)]
        f = layout.fields[block]
        options = [o for o in f.option_labels if o not in plan.answers[block][item]]
        option = options[int(rng.integers(len(options)))]
        pen = pen_by_name(p.pens, _choose(rng, p.ring_pens, p.ring_weights))
        out.append(
            PlannedMark(
                field=block,
                item=item,
                option=option,
                bubble=int(f.index[item, f.option_labels.index(option)]),
                darkness=round(float(np.mean(pen.density)), 3),
                coverage=round(float(rng.uniform(*p.ring_radius)), 3),
                kind="ring",
                pen=pen.name,
            )
        )
    return tuple(out)


def _plan_erasures(
    form: Form, plan: SheetPlan, rng: np.random.Generator, p: Profile
) -> tuple[PlannedMark, ...]:
    """Residue of rubbed-out answers, on questions of the blocks the candidate answered."""
    k = _count(rng, p.p_erasure_sheet, p.erasures_per_sheet)
    if k == 0:
        return ()
    layout = form.layout
    blank, single = [], []
    for block, answers in plan.answers.items():
        if not any(answers):
            continue  # a block without a course: nothing was ever written there
        for i, letters in enumerate(answers):
            if letters == "":
                blank.append((block, i))
            elif len(letters) == 1:
                single.append((block, i))
    seen: set[tuple[str, int]] = set()
    out = []
    for _ in range(k):
        on_blank = rng.random() < p.p_erasure_on_blank
        choices = [q for q in (blank if on_blank and blank else single) if q not in seen]
        if not choices:
            continue
        block, item = choices[int(rng.integers(len(choices)))]
        seen.add((block, item))
        f = layout.fields[block]
        options = [o for o in f.option_labels if o not in plan.answers[block][item]]
        option = options[int(rng.integers(len(options)))]
        strength = rng.uniform(*p.erasure_strength)
        out.append(
            PlannedMark(
                field=block,
                item=item,
                option=option,
                bubble=int(f.index[item, f.option_labels.index(option)]),
                darkness=round(float(strength * plan.darkness), 3),
                coverage=1.0,
                kind="erasure",
                pen=plan.pencil,
            )
        )
    return tuple(out)


def _plan_strays(
    form: Form, plan: SheetPlan, rng: np.random.Generator, p: Profile, *, tries: int = 80
) -> tuple[StrayStroke, ...]:
    """Short strokes among an answer block's bubbles that touch no bubble interior."""
    k = _count(rng, p.p_stray_sheet, p.strays_per_sheet)
    if k == 0:
        return ()
    layout = form.layout
    margin = p.stroke_width_mm[1] / 2 + 0.3
    blocks = list(form.answer_blocks)
    out = []
    for _ in range(k):
        block = blocks[int(rng.integers(len(blocks)))]
        f = layout.fields[block]
        anchors = layout.centers_xy[f.index.ravel()]
        for _ in range(tries):
            start = anchors[int(rng.integers(len(anchors)))] + rng.uniform(-4.0, 4.0, 2)
            angle = rng.uniform(0, np.pi) if rng.random() < 0.6 else rng.choice([0.0, np.pi / 2])
            angle += rng.normal(0.0, 0.05)
            length = rng.uniform(*p.stray_length_mm)
            end = start + length * np.array([np.cos(angle), np.sin(angle)])
            t = np.linspace(0.0, 1.0, 16)[:, None]
            bow = (
                rng.uniform(-0.08, 0.08)
                * np.sin(np.pi * t)
                * np.array([-np.sin(angle), np.cos(angle)])
            )
            points = start + t * (end - start) + length * bow
            gap = np.linalg.norm(points[:, None, :] - layout.centers_xy[None, :, :], axis=-1)
            inside_page = (points >= 1.0).all() and (
                points <= (form.page.width - 1.0, form.page.height - 1.0)
            ).all()
            if inside_page and (gap - layout.radius[None, :] >= margin).all():
                nearest = int(np.argmin(np.linalg.norm(anchors - points.mean(axis=0), axis=1)))
                item = int(nearest // f.index.shape[1])
                dark = round(float(plan.darkness * rng.uniform(0.7, 1.0)), 3)
                out.append(StrayStroke(block, item, np.round(points, 3), dark))
                break
    return tuple(out)
