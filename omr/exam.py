"""The exam definition (``exam.yaml``): courses, keys per booklet group, scoring rules."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from omr.definitions import Strict, read_yaml, validate
from omr.errors import InvalidExamError

KEY_TOKEN = re.compile(r"^([A-Z](\|[A-Z])*|\*)$")
#: The group name an exam without booklet groups keys its courses under.
NO_GROUP = ""


class CancelledPolicy(StrEnum):
    """What a cancelled question (key ``*``) does to the score."""

    drop = "drop"  # scored over the remaining questions (Turkish practice, default)
    credit_all = "credit-all"  # everyone gets the point


class Scoring(Strict):
    """How a course is scored."""

    scale: float = Field(100.0, gt=0, description="points for a full score")
    penalty: float = Field(
        0.0, ge=0, le=1, description="share of a right answer each wrong one costs"
    )
    cancelled: CancelledPolicy = CancelledPolicy.drop


def parse_key(key: str | list[str]) -> tuple[frozenset[str], ...]:
    """Turn ``"ABCD"`` or ``["A", "B|C", "*"]`` into accepted-option sets.

    An empty set marks a cancelled question (``*``).
    """
    tokens = list(key) if isinstance(key, str) else list(key)
    out = []
    for pos, token in enumerate(tokens, start=1):
        token = str(token).strip().upper()
        if not KEY_TOKEN.match(token):
            raise ValueError(f"question {pos}: {token!r} is not an option, 'B|C' or '*'")
        out.append(frozenset() if token == "*" else frozenset(token.split("|")))
    return tuple(out)


class OpenEnded(Strict):
    """An open-ended question whose points a grader codes in one of the form's score grids."""

    field: str = Field(description="the form's score field (score_fields) holding the points")
    points: float = Field(gt=0, description="most points the question can give")


class Course(Strict):
    """One course on the sheet: its answer block, keys and item order per group."""

    code: str = Field(min_length=1)
    name: str = ""
    block: str = Field(description="the form's answer block this course is answered in")
    questions: int = Field(gt=0)
    keys: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description="key per booklet group, printed order; an exam without groups gives "
        "`key` instead (held here under the group '')",
    )
    open_ended: list[OpenEnded] = Field(
        default_factory=list,
        description="open-ended questions (article 5: at most one per ten multiple-choice)",
    )
    order: dict[str, list[int]] = Field(
        default_factory=dict,
        description="master item number at each printed position, per group; default 1..n",
    )

    @model_validator(mode="before")
    @classmethod
    def _single_key(cls, data):
        """``key:`` (an exam without booklet groups) is the key of the group ``""``."""
        if isinstance(data, dict) and "key" in data:
            data = dict(data)
            key = data.pop("key")
            if data.get("keys"):
                raise ValueError("give key (an exam without booklet groups) or keys, not both")
            data["keys"] = {NO_GROUP: key}
        return data

    @model_validator(mode="after")
    def _keys_and_orders_fit(self) -> Course:
        if len(self.open_ended) > self.questions // 10:
            raise ValueError(
                f"article 5: {self.questions} multiple-choice questions allow at most "
                f"{self.questions // 10} open-ended, not {len(self.open_ended)}"
            )
        for group, key in self.keys.items():
            parsed = parse_key(key)
            if len(parsed) != self.questions:
                whose = f"key of group {group}" if group != NO_GROUP else "key"
                raise ValueError(f"{whose} has {len(parsed)} answers, expected {self.questions}")
        for group, order in self.order.items():
            if sorted(order) != list(range(1, self.questions + 1)):
                raise ValueError(
                    f"order of group {group} must list each item 1..{self.questions} once"
                )
        return self

    def key(self, group: str) -> tuple[frozenset[str], ...]:
        """Accepted options per printed position for booklet ``group``."""
        return parse_key(self.keys[group])

    def master_order(self, group: str) -> list[int]:
        """Master item number at each printed position for booklet ``group``."""
        return self.order.get(group, list(range(1, self.questions + 1)))


class NonPencilPolicy(StrEnum):
    """What a mark that is not pencil does to the sheet (article 7.7)."""

    review = "review"
    void = "void"


class OddMarkPolicy(StrEnum):
    """What a plainly meant but invalid mark (a circled option, a dot, a light tick) does.

    Alone in its question it is read as the answer under ``read`` (the sheet
    is scored and flagged ``odd-mark``); under ``review`` the sheet goes to a
    person first.
    """

    read = "read"
    review = "review"


class GroupSuspectPolicy(StrEnum):
    """What a suspected mis-coded booklet group does to the sheet.

    The coded group is binding (article 7.6): under ``flag`` the sheet is
    scored with it and listed in ``flagged.csv`` with both scores for a
    person to check; under ``review`` it is held until a person decides.
    """

    flag = "flag"
    review = "review"


class ClosureDay(Strict):
    """A day the exam centre is closed (e.g. an administrative-leave bridge day)."""

    date: dt.date
    label: str = "closure"


class Exam(Strict):
    """A whole exam session."""

    format: int = Field(1, description="version of this file format")
    name: str
    date: dt.date
    announcement_date: dt.date | None = None
    form: str = Field(description="built-in form name or path of a form file")
    groups: list[str] = Field(
        default_factory=list,
        description="booklet groups; none when the form has no group field (one key per course)",
    )
    roster: str | None = Field(
        None, description="roster CSV or Excel workbook (.xlsx), relative to exam.yaml"
    )
    scoring: Scoring = Scoring()
    non_pencil: NonPencilPolicy = NonPencilPolicy.review
    odd_marks: OddMarkPolicy = OddMarkPolicy.read
    group_suspect: GroupSuspectPolicy = GroupSuspectPolicy.flag
    closures: list[dt.date | ClosureDay] = Field(
        default_factory=list, description="extra days the objection windows skip"
    )
    half_days_off: bool = Field(
        False, description="count half-day holiday eves as closed (default: business days)"
    )
    export_letters: bool = Field(
        False,
        description="write letters.csv with what the form's letter grids (names) read; "
        "names are personal data (KVKK), so this is off unless asked for",
    )
    lang: Literal["tr", "en"] | None = Field(
        None,
        description="language of the files people read (tr or en); default tr when the "
        "exam's name or a course name is written in Turkish, else en",
    )
    keys_file: str | None = Field(
        None, description="CSV course,group,question,answer, relative to exam.yaml"
    )
    courses: list[Course] = Field(min_length=1)

    @property
    def key_groups(self) -> list[str]:
        """The groups keys are given for: the booklet groups, or ``[""]`` without any."""
        return list(self.groups) or [NO_GROUP]

    def closure_labels(self) -> dict[dt.date, str]:
        """Closure days with their labels."""
        return {
            c.date if isinstance(c, ClosureDay) else c: (
                c.label if isinstance(c, ClosureDay) else "closure"
            )
            for c in self.closures
        }

    @field_validator("groups")
    @classmethod
    def _groups_unique(cls, groups: list[str]) -> list[str]:
        if len(set(groups)) != len(groups):
            raise ValueError("booklet groups must be unique")
        return groups

    @field_validator("announcement_date")
    @classmethod
    def _announced_after_exam(cls, value: dt.date | None, info) -> dt.date | None:
        exam_date = info.data.get("date")
        if value is not None and exam_date is not None and value < exam_date:
            raise ValueError("results cannot be announced before the exam")
        return value

    @model_validator(mode="after")
    def _courses_consistent(self) -> Exam:
        codes = [c.code for c in self.courses]
        if len(set(codes)) != len(codes):
            raise ValueError("course codes must be unique")
        blocks = [c.block for c in self.courses]
        if len(set(blocks)) != len(blocks):
            raise ValueError("two courses use the same answer block")
        for c in self.courses:
            if not self.groups:
                if set(c.keys) != {NO_GROUP}:
                    raise ValueError(
                        f"course {c.code}: an exam without booklet groups gives one key "
                        "(key:, or keys_file rows with an empty group)"
                    )
                continue
            if NO_GROUP in c.keys:
                raise ValueError(
                    f"course {c.code}: a key without a group, but the exam has groups "
                    f"{', '.join(self.groups)}"
                )
            missing = sorted(set(self.groups) - set(c.keys))
            if missing:
                raise ValueError(f"course {c.code}: no key for group(s) {', '.join(missing)}")
            if sum(o.points for o in c.open_ended) >= self.scoring.scale:
                raise ValueError(
                    f"course {c.code}: open-ended points leave nothing for the "
                    f"multiple-choice part (scale {self.scoring.scale:g})"
                )
        return self


def load_exam(path: Path) -> Exam:
    """Read and validate ``exam.yaml``; raise :class:`InvalidExamError` listing every problem.

    Keys given in ``keys_file`` (CSV ``course,group,question,answer``) are merged
    into the courses; a key given both ways is an error.
    """
    path = Path(path)
    data = read_yaml(path, InvalidExamError)
    if isinstance(data, dict) and data.get("keys_file"):
        _merge_keys_csv(data, path.parent / str(data["keys_file"]), str(path))
    try:
        return validate(data, Exam, str(path), InvalidExamError)
    except InvalidExamError as exc:
        if not _groups_left_out(data):
            raise
        missing = ("groups", "required key is missing (keys are given per booklet group)")
        problems = [missing, *(p for p in exc.problems if "without booklet groups" not in p[1])]
        raise InvalidExamError(str(path), problems) from None


def _groups_left_out(data: object) -> bool:
    """Whether ``data`` keys its courses per booklet group but lists no ``groups``."""
    if not isinstance(data, dict) or "groups" in data:
        return False
    courses = data.get("courses")
    return isinstance(courses, list) and any(
        isinstance(c, dict) and isinstance(c.get("keys"), dict) and set(c["keys"]) - {NO_GROUP}
        for c in courses
    )


def read_keys_csv(path: Path) -> tuple[dict[str, dict[str, list[str]]], list[tuple[str, str]]]:
    """Keys from a ``course,group,question,answer`` CSV, and the problems found.

    Returns ``{course: {group: [answer per question 1..n]}}``; problems carry
    ``file:line`` paths.
    """
    import csv
    import io

    from omr.safe_text import NOT_TEXT, csv_delimiter, read_office_text

    keys: dict[str, dict[str, dict[int, str]]] = {}
    problems: list[tuple[str, str]] = []
    try:
        text = read_office_text(path)
    except OSError as exc:
        return {}, [(path.name, f"cannot read keys file: {exc.strerror or exc}")]
    except UnicodeDecodeError:
        return {}, [(path.name, NOT_TEXT)]
    with io.StringIO(text, newline="") as fh:
        reader = csv.DictReader(fh, delimiter=csv_delimiter(text))
        want = ["course", "group", "question", "answer"]
        if [c.strip().lower() for c in reader.fieldnames or []] != want:
            return {}, [(f"{path.name}:1", f"header must be {','.join(want)}")]
        for line, row in enumerate(reader, start=2):
            where = f"{path.name}:{line}"
            try:
                number = int(row["question"])
                parse_key([row["answer"]])
            except ValueError as exc:
                problems.append((where, str(exc).replace("question 1: ", "")))
                continue
            slot = keys.setdefault(row["course"].strip(), {}).setdefault(row["group"].strip(), {})
            if number in slot:
                problems.append((where, f"question {number} given twice"))
            slot[number] = row["answer"].strip().upper()
    out: dict[str, dict[str, list[str]]] = {}
    for course, groups in keys.items():
        for group, answers in groups.items():
            numbers = sorted(answers)
            if numbers != list(range(1, len(numbers) + 1)):
                whose = f"{course} group {group}" if group != NO_GROUP else course
                problems.append((path.name, f"{whose}: questions not 1..n"))
            out.setdefault(course, {})[group] = [answers[n] for n in numbers]
    return out, problems


def _merge_keys_csv(data: dict, csv_path: Path, source: str) -> None:
    keys, problems = read_keys_csv(csv_path)
    for i, course in enumerate(data.get("courses") or []):
        if not isinstance(course, dict):
            continue
        found = keys.pop(str(course.get("code")), {})
        if NO_GROUP in found and "key" in course:
            problems.append((f"courses[{i}].key", "given both here and in keys_file"))
        given = course.setdefault("keys", {}) or {}
        for group in set(found) & set(given):
            problems.append((f"courses[{i}].keys.{group}", "given both here and in keys_file"))
        course["keys"] = {**given, **found}
    for course in keys:
        problems.append((csv_path.name, f"course {course} is not in the exam"))
    if problems:
        raise InvalidExamError(source, problems)


def check_exam_against_form(exam: Exam, form) -> list[tuple[str, str]]:
    """Problems between an exam and its form: unknown blocks, too many questions or groups."""
    problems = []
    for i, course in enumerate(exam.courses):
        block = form.answer_blocks.get(course.block)
        if block is None:
            known = ", ".join(form.answer_blocks)
            problems.append(
                (f"courses[{i}].block", f"form has no block {course.block!r} ({known})")
            )
            continue
        if course.questions > block.questions:
            problems.append(
                (f"courses[{i}].questions", f"block {course.block} has {block.questions} questions")
            )
        for j, oe in enumerate(course.open_ended):
            grid = form.score_fields.get(oe.field)
            where = f"courses[{i}].open_ended[{j}]"
            if grid is None:
                problems.append((f"{where}.field", f"form has no score field {oe.field!r}"))
            elif oe.points > 10**grid.digits - 1:
                problems.append((f"{where}.points", f"{grid.digits} digits cannot code it"))
        for group, key in course.keys.items():
            bad = set().union(*parse_key(key)) - set(block.options)
            if bad:
                where = f"courses[{i}].keys.{group}" if group != NO_GROUP else f"courses[{i}].key"
                problems.append((where, f"options {sorted(bad)} not on the form"))
    if form.group is None:
        if exam.groups:
            problems.append(
                ("groups", "the form has no booklet group field: give one key per course (key:)")
            )
        return problems
    if not exam.groups:
        problems.append(
            (
                "groups",
                f"the form codes a booklet group ({', '.join(form.group.options)}): "
                "list the exam's groups",
            )
        )
    extra = set(exam.groups) - set(form.group.options)
    if extra:
        problems.append(("groups", f"form has no bubble for group(s) {sorted(extra)}"))
    return problems
