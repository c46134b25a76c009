"""Who sits the simulated exam, what the exam is, and what each candidate marks.

Every function here is a pure function of a :class:`numpy.random.Generator`
and plain data: the same generator state gives the same roster, exam and
sheet plans. Nothing here draws pixels (see :mod:`omr.simulate.marks`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from omr.forms import Form
from omr.simulate.marks import MarkShape
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
    share of the bubble the candidate means to cover.
    """

    field: str
    item: int
    option: str
    bubble: int
    darkness: float
    coverage: float


@dataclass(frozen=True)
class SheetPlan:
    """Everything a candidate puts on one sheet, before any pixel is drawn.

    ``group_marks`` holds the group letters marked, in option order;
    ``answers`` maps each answer block of the form to one string per printed
    question (the options marked, in option order; ``""`` is blank);
    ``identity`` maps each digit field of the form to the digits coded.
    ``shape`` holds the pencil-blob geometry of ``marks``, in the same order.
    ``darkness`` and ``grain`` are the candidate's pencil.
    """

    candidate: Candidate
    group_marks: str
    answers: dict[str, list[str]]
    identity: dict[str, str]
    marks: tuple[PlannedMark, ...]
    shape: MarkShape
    darkness: float
    grain: float


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
    groups = form.group.options
    starts = rng.integers(0, len(groups), n_halls)
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
    groups = list(form.group.options)
    if len(form.answer_blocks) > len(COURSES):
        raise ValueError(f"the simulator knows {len(COURSES)} courses, form has more blocks")
    courses = []
    for (block_name, block), (code, title) in zip(
        form.answer_blocks.items(), COURSES, strict=False
    ):
        n = block.questions
        master = rng.integers(0, len(block.options), n)
        orders = {groups[0]: list(range(1, n + 1))}
        for g in groups[1:]:
            orders[g] = [int(x) + 1 for x in rng.permutation(n)]
        keys = {
            g: "".join(block.options[master[item - 1]] for item in order)
            for g, order in orders.items()
        }
        courses.append(
            {
                "code": code,
                "name": title,
                "block": block_name,
                "questions": n,
                "keys": keys,
                "order": orders,
            }
        )
    return {
        "format": 1,
        "name": name,
        "date": profile.exam_date,
        "announcement_date": profile.announcement_date,
        "form": form.name,
        "groups": groups,
        "roster": "roster.csv",
        "courses": courses,
    }


def sheet_status(group_marks: str) -> str:
    """``scored``, or why the sheet is void (article 7.6: booklet group)."""
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
    groups = list(form.group.options)
    group_marks = _pick_group(rng, groups, candidate.group, p)

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
        key = course["keys"][candidate.group] if course else ""
        answers[block_name] = [
            _answer(rng, options, key[i], ability, p) if i < len(key) else ""
            for i in range(block.questions)
        ]

    chosen: list[tuple[str, int, str]] = [("group", 0, g) for g in group_marks]
    for name, value in identity.items():
        chosen += [(name, i, digit) for i, digit in enumerate(value)]
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
