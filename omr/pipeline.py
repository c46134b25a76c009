"""The pipeline driver: a session folder in, a store and result files out.

``run_session`` lists the pages of ``SESSION/scans``, reads each page not read
before (in a process pool; workers load their own pages, so memory stays flat),
records every read in the session store as it arrives, then scores all reads
and writes the exports. Stopping half-way loses nothing: the next run resumes.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from omr.calibration import Calibration, find_calibration
from omr.errors import InputFileError, InvalidExamError, OmrError
from omr.exam import Exam, check_exam_against_form, load_exam
from omr.export import write_exports
from omr.forms import CornerMarks, Form, MarkerImage, find_form
from omr.pages import PageLoadError, PageRef, find_pages, load_page
from omr.records import SheetRead
from omr.score.checks import SessionScoring
from omr.score.identity import Roster, load_roster
from omr.score.scoring import SCORED, CourseResult, session_notes
from omr.session_lock import DEFAULT_WAIT, holds_session, session_lock
from omr.sheets_seen import SheetsSeen, StoredReads
from omr.stages import stage
from omr.store import STORE_NAME, Store
from omr.tracker import stop_resource_tracker, tracker_running
from omr.worker import init_worker, read_and_serialise, work

EXAM_FILE = "exam.yaml"
SCANS_DIR = "scans"


@dataclass(frozen=True)
class Session:
    """A session folder's definition: exam, form and where the scans are."""

    root: Path
    exam: Exam
    form: Form
    form_ref: str
    roster: Roster | None

    @property
    def scans(self) -> Path:
        return self.root / SCANS_DIR


@dataclass(frozen=True)
class RunSummary:
    """What a run did."""

    out_dir: Path
    sheets: int
    read_now: int
    seconds: float
    statuses: Counter = field(default_factory=Counter)
    without_colour: int = 0  # sheets read in grey or 1-bit: pencil cannot be told from ink
    flagged: int = 0  # sheets carrying flags (listed in flagged.csv)
    notes: tuple[str, ...] = ()  # how the rules applied (no booklet group: 7.6 not applicable)

    @property
    def sheets_per_second(self) -> float:
        return self.read_now / self.seconds if self.seconds > 0 else 0.0

    @property
    def review(self) -> int:
        """Sheets with at least one row in review."""
        return self.statuses.get("review", 0)


def open_session(root: Path) -> Session:
    """Load ``root/exam.yaml`` and its form, checking they fit each other."""
    exam_path = root / EXAM_FILE
    if not exam_path.is_file():
        raise InputFileError(f"{root}: no {EXAM_FILE} (is this a session folder?)")
    exam = load_exam(exam_path)
    local = root / exam.form
    form_ref = str(local.resolve()) if local.is_file() else exam.form
    form = find_form(form_ref)
    problems = check_exam_against_form(exam, form)
    if problems:
        raise InvalidExamError(str(exam_path), problems)
    roster = load_roster(root / exam.roster) if exam.roster else None
    return Session(root, exam, form, form_ref, roster)


def reading_key(form: Form, calibration: Calibration) -> str:
    """What a page's read depends on besides its scan: its form and calibration, hashed."""
    import hashlib

    text = form.model_dump_json() + calibration.model_dump_json()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _fingerprint(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


IN_FLIGHT_PER_JOB = 4  # pages queued per worker: enough to keep it busy, never the whole stack


def read_stack(
    refs: list[PageRef],
    store: Store,
    form: Form,
    calibration: Calibration,
    *,
    jobs: int = 1,
    progress: Callable[[SheetRead], None] | None = None,
    scheduler: str | None = None,
) -> int:
    """Read every page of ``refs`` into ``store``; return how many were read.

    Pages stream through a bounded queue (``IN_FLIGHT_PER_JOB`` per worker),
    come back in stack order and are written by this process alone, each
    as it arrives (:func:`save_stream`). With ``scheduler`` (a Dask scheduler's
    address), the pages are read by that cluster's workers instead
    (:func:`omr.dask_executor.read_on_cluster`).
    """
    if not refs:
        return 0
    if scheduler is not None:
        from omr.dask_executor import read_on_cluster

        results = read_on_cluster(scheduler, refs, form, calibration, IN_FLIGHT_PER_JOB)
        return save_stream(refs, results, store, progress)
    if jobs <= 1:
        import cv2

        threads = cv2.getNumThreads()
        cv2.setNumThreads(1)
        try:
            results = (read_and_serialise(ref, form, calibration) for ref in refs)
            return save_stream(refs, results, store, progress)
        finally:
            cv2.setNumThreads(threads)
    tracker_before = tracker_running()
    read = _read_in_pool(refs, store, form, calibration, jobs, progress)
    if not tracker_before:  # the pool started it: it ends with the pool that finished
        stop_resource_tracker()
    return read


def _read_in_pool(refs, store, form, calibration, jobs: int, progress) -> int:
    """:func:`read_stack` in ``jobs`` worker processes."""
    # spawn, not fork: a forked child can deadlock on OpenCV's or numpy's thread pools.
    with ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_worker,
        initargs=(form, calibration),
    ) as pool:
        try:
            results = bounded_map(pool.submit, work, refs, IN_FLIGHT_PER_JOB * jobs)
            return save_stream(refs, results, store, progress)
        except BaseException:  # Ctrl-C, SIGTERM, a store error: no worker outlives the run
            stop_workers(pool)
            raise


def stop_workers(pool: ProcessPoolExecutor, *, grace: float = 5.0) -> None:
    """Cancel what ``pool`` has queued and end its worker processes (SIGTERM, then SIGKILL)."""
    workers = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in workers:
        proc.terminate()
    for proc in workers:
        proc.join(grace)
        if proc.is_alive():
            proc.kill()
            proc.join(grace)


def bounded_map(submit, fn, items, window: int):
    """``fn`` over ``items`` through ``submit`` (an executor's), results in order,
    with at most ``window`` submitted and not yet taken."""
    pending: deque = deque()
    for item in items:
        pending.append(submit(fn, item))
        if len(pending) >= window:
            yield pending.popleft().result()
    while pending:
        yield pending.popleft().result()


def save_stream(refs, results, store: Store, progress=None) -> int:
    """Write each :class:`~omr.store.PageRow` of ``results`` (in ``refs``' order) to ``store``.

    One commit a page, so a stopped run keeps every page it read; while
    reading, the store does not wait for the disk at each commit
    (``synchronous=NORMAL`` under its write-ahead log: 0.7 ms a page instead
    of 9 on this machine): a killed run still loses nothing, a power cut at
    most the last pages, which the next run reads again.
    """
    count = 0
    with store.while_reading():
        for ref, row in zip(refs, results, strict=True):
            with stage("store write"):
                store.save_row(row, _fingerprint(ref.path))
            count += 1
            if progress is not None:
                progress(row)
    return count


def run_session(
    root: Path,
    out_dir: Path | None = None,
    *,
    calibration: str | Path = "default",
    jobs: int | None = None,
    fresh: bool = False,
    progress: Callable[[SheetRead], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    lang: str | None = None,
    scheduler: str | None = None,
    wait: float = DEFAULT_WAIT,
) -> RunSummary:
    """Read and score a session folder; write the store and exports to ``out_dir``.

    ``lang`` (``tr``, ``en``) is the language of the files people read; given,
    it is kept in the store for later rewrites (see :func:`stored_lang`).
    ``scheduler``: the address of a Dask scheduler whose workers read the
    pages (they must see ``SESSION/scans`` at the same path). The run holds
    the output folder's session lock throughout; another writer holding it
    for ``wait`` seconds makes it refuse (:class:`omr.session_lock.SessionBusy`).
    """
    session = open_session(root)
    if not session.scans.is_dir():
        raise InputFileError(f"{root}: no {SCANS_DIR}/ folder with the scanned stack")
    cal = find_calibration(calibration)
    out = out_dir or root / "out"
    out.mkdir(parents=True, exist_ok=True)
    refs, problems = find_pages([session.scans])
    if not refs and not problems:
        raise InputFileError(f"{session.scans}: no PDF, TIFF or image files in the stack")
    started = time.perf_counter()
    with session_lock(out, wait=wait), Store(out / STORE_NAME) as store:
        store.set_meta("exam", str((root / EXAM_FILE).resolve()))
        store.set_meta("form", session.form.name)
        store.set_meta("form_ref", session.form_ref)
        store.set_meta("calibration", cal.name)
        lang = stored_lang(store, lang)
        stale = store.read_with(reading_key(session.form, cal))  # an edited form: read again
        known = {} if fresh else store.fingerprints()
        todo = [r for r in refs if known.get(r.sheet_id) != _fingerprint(r.path)]
        if on_start is not None:
            on_start(len(todo))
        for p in problems:
            store.save(
                SheetRead(
                    f"{p.name}:1", p.name, 1, session.form.name, "unreadable-file", p.message
                ),
                "",
            )
        read_now = read_stack(
            todo,
            store,
            session.form,
            cal,
            jobs=jobs or os.cpu_count() or 1,
            progress=progress,
            scheduler=scheduler,
        )
        seconds = time.perf_counter() - started
        wanted = [r.sheet_id for r in refs] + [f"{p.name}:1" for p in problems]
        with stage("score"):
            reads, exam, rows = score_from_store(store, session, wanted)
        with stage("reports"):
            evidence = store.iter_evidence()
            write_exports(
                out, exam, session.form, reads, rows, evidence, roster=session.roster, lang=lang
            )
    notes = session_notes(exam)
    if stale and not fresh:
        notes = [
            f"the form or the calibration changed since {stale} page(s) were read: "
            "they were read again",
            *notes,
        ]
    return _summary(out, reads, rows, read_now, seconds, notes)


def out_lang(out: Path, exam: Exam) -> str:
    """The language the files in ``out`` are written in (``--lang`` kept, else the exam's)."""
    from omr.export import exam_lang

    with Store(Path(out) / STORE_NAME) as store:
        return exam_lang(exam, stored_lang(store, None))


def stored_lang(store: Store, lang: str | None) -> str | None:
    """``lang`` if given (and kept in the store), else the one an earlier command gave."""
    if lang is not None:
        store.set_meta("lang", lang)
        return lang
    return store.meta().get("lang") or None


def score_from_store(
    store: Store,
    session: Session,
    sheet_ids: list[str] | None = None,
    *,
    keys: dict | None = None,
    pending: Iterable = (),
) -> tuple[SheetsSeen, Exam, list[CourseResult]]:
    """Score the stored reads (only ``sheet_ids`` if given) with what people decided on
    top: the review decisions and the key version in force.

    The reads are taken one at a time: what is kept of each is what the exports
    and the desk need (:class:`SheetsSeen`), and the reads a review line or an
    act describes are fetched again (``seen.lookup``). Memory stays flat.
    ``keys``: score under this key set instead; ``pending``: decisions
    (:class:`omr.workflow.decisions.Decision`) not stored yet, laid over the
    stored ones. Returns what was kept of the reads, the exam with the key
    scored under, and the result rows.
    """
    seen, [(exam, rows)] = score_under(store, session, [keys], sheet_ids, pending=pending)
    return seen, exam, rows


def score_under(
    store: Store,
    session: Session,
    keysets: list[dict | None],
    sheet_ids: list[str] | None = None,
    *,
    pending: Iterable = (),
) -> tuple[SheetsSeen, list[tuple[Exam, list[CourseResult]]]]:
    """:func:`score_from_store` under each of ``keysets`` (None: the key version in force),
    every read parsed once for all of them: what is kept of the reads, and the exam and
    result rows of each key set."""
    from omr.workflow.decisions import apply_decisions, sheet_rulings
    from omr.workflow.keys import exam_in_force, with_keys
    from omr.workflow.records import stored_decisions

    decisions = [*stored_decisions(store), *pending]
    exams = [
        exam_in_force(store, session.exam) if k is None else with_keys(session.exam, k)
        for k in keysets
    ]
    by_sheet: dict[str, list] = {}
    for d in decisions:
        by_sheet.setdefault(d.sheet_id, []).append(d)

    def decided(read: SheetRead) -> SheetRead:
        mine = by_sheet.get(read.sheet_id)
        return apply_decisions([read], mine)[0] if mine else read

    rulings = sheet_rulings(decisions)
    scorings = [SessionScoring(exam, session.roster, rulings) for exam in exams]
    seen = SheetsSeen({}, session.form.letter_grids if exams[0].export_letters else ())
    seen.lookup = StoredReads(store, decided, seen.ids)
    for read in seen.take(decided(r) for r in store.iter_reads(sheet_ids, measures=False)):
        for scoring in scorings:
            scoring.add(read)
    return seen, [
        (exam, s.rows(seen.lookup.fetch)) for exam, s in zip(exams, scorings, strict=True)
    ]


def session_root_for(out: Path, session_root: Path | None = None) -> Path:
    """The session folder of the results in ``out``: given, OUT's parent, or the run's."""
    if session_root is not None:
        return session_root
    beside = out.resolve().parent
    if (beside / EXAM_FILE).is_file():
        return beside
    with Store(out / STORE_NAME) as store:
        exam = store.meta().get("exam")
    return Path(exam).parent if exam else beside


@holds_session
def rebuild_reports(
    out: Path, session_root: Path | None = None, *, lang: str | None = None
) -> RunSummary:
    """Score the stored reads again under the (possibly changed) exam and rewrite the exports.

    No scan is read: a cancelled question or a corrected key rescores everyone
    from the session store alone.
    """
    store_path = out / STORE_NAME
    if not store_path.is_file():
        raise InputFileError(f"{out}: no {STORE_NAME} (run 'omr run' first)")
    root = session_root_for(out, session_root)
    if not (root / EXAM_FILE).is_file():
        raise InputFileError(f"{root}: no {EXAM_FILE}; give the session folder with --session")
    session = open_session(root)
    with Store(store_path) as store:
        reads, exam, rows = score_from_store(store, session)
        lang = stored_lang(store, lang)
        evidence = store.iter_evidence()
        write_exports(
            out, exam, session.form, reads, rows, evidence, roster=session.roster, lang=lang
        )
    return _summary(out, reads, rows, notes=session_notes(exam))


def _summary(
    out, reads: SheetsSeen, rows, read_now: int = 0, seconds: float = 0.0, notes=()
) -> RunSummary:
    """What a run (or a rescoring, which reads nothing) did, from its reads and result rows."""
    return RunSummary(
        out,
        len(reads),
        read_now,
        seconds,
        _status_counts(reads.ids, rows),
        reads.without_colour,
        len({row.sheet for row in rows if row.flags}),
        tuple(notes),
    )


def _status_counts(sheet_ids: list[str], rows: list[CourseResult]) -> Counter:
    """Sheets per kind of outcome: scored, void, absent, review (worst row of each sheet)."""
    by_sheet: dict[str, set[str]] = {}
    for row in rows:
        by_sheet.setdefault(row.sheet, set()).add(row.status.split(":")[0])
    counts: Counter = Counter()
    for sheet_id in sheet_ids:
        kinds = by_sheet.get(sheet_id, {"review"})
        for kind in ("review", "void", "absent", SCORED):
            if kind in kinds:
                counts[kind] += 1
                break
    return counts


@dataclass(frozen=True)
class SheetPicture:
    """The annotated page of a sheet (PNG) and a crop of its items in doubt (PNG or None)."""

    png: bytes
    doubt_png: bytes | None


def sheet_picture(
    session: Session, read: SheetRead, caption: list[str], *, labels: dict[str, str]
) -> SheetPicture:
    """Load the page ``read`` came from, register it and draw every bubble's decision on it.

    Raises
    ------
    InputFileError
        The scan is no longer in ``SESSION/scans`` or its page does not register.
    """
    from omr.annotate import annotate_sheet, doubt_crops, doubt_items, png_bytes, with_caption
    from omr.detect.read import register

    path = session.scans / read.source
    if not path.is_file():
        raise InputFileError(f"{read.sheet_id}: the scan {path} is not there any more")
    try:
        page = load_page(PageRef(path, read.page - 1, read.source))
    except PageLoadError as exc:
        raise InputFileError(str(exc)) from exc
    if not read.ok:
        return SheetPicture(_png(with_caption(_rgb(page.pixels), caption)), None)
    reg = register(page.gray, session.form)
    if not reg:
        raise InputFileError(f"{read.sheet_id}: the page does not register now: {reg.message}")
    drawn = annotate_sheet(_rgb(page.pixels), reg.matrix, session.form, read, labels=labels)
    items = []
    for name, i in doubt_items(read, session.form):
        item = read.fields[name].items[i]
        where = f"{labels[name]} q{i + 1}" if name in labels else f"{name} #{i + 1}"
        items.append(
            (name, i, f"{where}: {item.reason}, marked {item.value or '-'}, unsure {item.unsure}")
        )
    crop = doubt_crops(drawn, reg.matrix, session.form, items)
    return SheetPicture(
        png_bytes(with_caption(drawn, caption)), None if crop is None else png_bytes(crop)
    )


def _rgb(pixels):
    import cv2

    return cv2.cvtColor(pixels, cv2.COLOR_GRAY2RGB) if pixels.ndim == 2 else pixels


def _png(rgb) -> bytes:
    from omr.annotate import png_bytes

    return png_bytes(rgb)


def first_page(scan: Path):
    """The first page of ``scan`` decoded; :class:`InputFileError` when there is none."""
    refs, problems = find_pages([scan])
    if problems or not refs:
        raise InputFileError(problems[0].message if problems else f"{scan}: no pages")
    try:
        return load_page(refs[0])
    except PageLoadError as exc:
        raise InputFileError(str(exc)) from exc


@dataclass(frozen=True)
class FormCheck:
    """What ``omr forms check`` reports: the fit and an overlay picture (PNG bytes)."""

    ok: bool
    message: str
    registration: dict
    fields: dict[str, tuple[float, float]]  # per field: outline fit, proof margin
    png: bytes
    notes: tuple[str, ...] = ()


def check_form_on_scan(form: Form, scan: Path) -> FormCheck:
    """Register the first page of ``scan`` on ``form`` exactly as ``omr run`` does; draw the form.

    The fields' figures are how well the printed outlines sit under the fit
    (outline fit) and by how much the fit beats a pitch or half a pitch off
    (proof margin; below 0.25 the page goes to a person).
    """
    import cv2

    from omr.detect.overlay import overlay
    from omr.detect.proof import prove_fit
    from omr.detect.read import register_sheet
    from omr.detect.register import field_fits, grey_percentiles, half_turn_share

    page = first_page(scan)
    gray, reg, photo, _ = register_sheet(page.gray, form)
    matrix = reg.matrix
    pixels = page.pixels if not photo else cv2.cvtColor(gray, cv2.COLOR_GRAY2RGB)
    darkest, paper = grey_percentiles(gray, (0.5, 90))
    fields: dict[str, tuple[float, float]] = {}
    if matrix is not None:
        _, fits = field_fits(gray, matrix, form, paper=paper, ink=darkest)
        margins = prove_fit(gray, matrix, form, paper=paper, ink=darkest).field_margins()
        fields = {name: (fit, margins.get(name, float("nan"))) for name, fit in fits.items()}
        drawn = overlay(pixels, matrix, form)
        ok, png = cv2.imencode(".png", cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR))
    else:
        ok, png = cv2.imencode(".png", gray)
    if not reg:
        return FormCheck(False, reg.message, dict(reg.proof), fields, png.tobytes())
    notes = ("the page was read as a photo: straightened from its corners first",) if photo else ()
    if _way_up_by_outlines(form):
        share = half_turn_share(gray, reg.matrix, form, paper=paper, ink=darkest)
        marker = isinstance(form.registration, MarkerImage)
        notes = (*notes, way_up_note(share, marker=marker))
    return FormCheck(True, "", reg.summary(), fields, png.tobytes(), notes)


def _way_up_by_outlines(form: Form) -> bool:
    """Whether nothing printed for registration tells the form's half turn."""
    reg = form.registration
    if isinstance(reg, CornerMarks):
        return reg.orientation_mark is None
    if isinstance(reg, MarkerImage):
        from omr.detect.register.marker import same_half_turned

        return same_half_turned(form.marker_gray)
    return False


def way_up_note(share: float | None, *, max_share: float = 0.3, marker: bool = False) -> str:
    """What ``forms check`` says about telling the way up of a form without an orientation mark
    (or, ``marker``, whose marker picture looks the same half turned)."""
    why = "the marker image looks the same half turned" if marker else "no orientation_mark"
    fix = (
        "a marker picture unlike itself half turned"
        if marker
        else "an orientation_mark (a solid square printed off-centre)"
    )
    if share is not None and share <= max_share:
        return (
            f"{why}: the way up is told by the bubble outlines "
            f"(a half turn leaves {share:.2f} of their fit); {fix} is safer"
        )
    fit = "nothing" if share is None else f"{share:.2f} of their fit"
    return (
        f"{why}, and the bubble outlines cannot tell the way up on this "
        f"sheet (a half turn leaves {fit}): every sheet will go to a person as "
        f"orientation-unknown. Use {fix}."
    )


JPEG_PLACEHOLDER_DPI = (72.0, 96.0)  # what cameras and editors write when they know none


def fit_resolution(scan: Path, page) -> tuple[float, str]:
    """The dpi to fit ``page`` at when none is given, and a note saying what was assumed.

    The file's own resolution, unless it has none or it is a JPEG's placeholder
    72 or 96 dpi, or no printed bubble measures as one at it; then the scale
    told by the page's width and its bubbles (:func:`estimate_scale`). The file's
    own resolution when nothing better is found (the refusal then says so).
    """
    from omr.detect.layout import bubbles_at, estimate_scale
    from omr.detect.layout.scale import MIN_IN_GRIDS

    said = page.dpi
    jpeg = scan.suffix.lower() in {".jpg", ".jpeg"} or page.jpeg_quality is not None
    if said and jpeg and any(abs(said - p) < 0.5 for p in JPEG_PLACEHOLDER_DPI):
        why = f"the file says {said:.0f} dpi, a JPEG's placeholder"
    elif said:
        if bubbles_at(page.gray, said / 25.4)[0] >= MIN_IN_GRIDS:
            return said, ""
        why = f"the file says {said:.0f} dpi, but no bubbles in grids are found at it"
    else:
        why = "the file does not say its resolution"
    guess = estimate_scale(page.gray)
    if guess.px_per_mm <= 0:
        return (said, "") if said else (guess.page_px_per_mm * 25.4 or 100.0, "")
    return guess.dpi, f"{why}: {guess.describe()}"


def _marker_picture(path: Path):
    """The marker picture at ``path`` in grey levels, or an input error saying why not."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("L")).copy()
    except (OSError, UnidentifiedImageError) as exc:
        raise InputFileError(f"{path}: cannot read the marker image ({exc})") from exc


@dataclass(frozen=True)
class FormFit:
    """What ``omr forms fit`` produces: the proposal, its check on the scan and an overlay.

    ``refusal`` is set when there is no form to write (no bubble found): the
    overlay is still the page, for the person to see what the finder saw.
    """

    proposal: object  # omr.formfit.FormProposal
    problems: list[tuple[str, str]]
    fields: dict[str, float]
    png: bytes
    refusal: OmrError | None = None


def fit_form_on_scan(
    scan: Path, name: str, *, dpi: float | None = None, marker: Path | None = None
) -> FormFit:
    """Propose a form definition from the first page of ``scan`` and check it on that page.

    ``marker`` is a picture printed as registration marks (``marker-image``).

    Raises
    ------
    InputFileError
        The scan cannot be read, or says no resolution and none is given.
    OmrError
        The layout finder failed on this scan (a bug: the message says so).
    """
    import cv2

    from omr.detect.overlay import label_fields, overlay
    from omr.detect.register import field_fits, grey_percentiles
    from omr.detect.sampling import mm_to_px
    from omr.formfit import check_proposal, draw_found, propose_form
    from omr.forms import Form

    page = first_page(scan)
    picture = None if marker is None else (_marker_picture(marker), marker.name)
    try:
        resolution, said = (dpi, "") if dpi else fit_resolution(scan, page)
        proposal = propose_form(page.gray, resolution / 25.4, name=name, marker=picture)
        if said:
            proposal.notes.insert(0, said)
    except OmrError:
        raise
    except (ArithmeticError, ValueError, IndexError, cv2.error, RecursionError) as exc:
        raise OmrError(
            f"{scan}: the layout finder failed on this scan at {resolution:.0f} dpi "
            f"({type(exc).__name__}: {exc}). Try another --dpi or a cleaner scan, and "
            "please report this with the scan: it is a bug."
        ) from exc
    refusal = None
    if not proposal.data and not dpi:
        says = f"says {page.dpi:.0f} dpi" if page.dpi else "does not say its resolution"
        refusal = InputFileError(
            f"{scan}: no bubbles found: the image {says}, and at no scale from a fifth to "
            "five times its width as a page do its outlines stand in grids at the size and "
            "spacing of printed bubbles (2.3-6.5 mm across). Give --dpi; a photo must be "
            "flattened and cropped to the sheet first."
        )
    elif not proposal.data:
        refusal = InputFileError(
            f"{scan}: no bubbles found at {resolution:.0f} dpi (looked for closed outlines "
            f"2.5-8 mm across, {2.5 * resolution / 25.4:.0f}-{8 * resolution / 25.4:.0f} px). "
            "If the resolution is wrong, give the right one with --dpi; a photo must be "
            "flattened and cropped to the sheet first."
        )
    problems = check_proposal(proposal) if proposal.data else []
    straight = proposal.page
    fits: dict[str, float] = {}
    drawn = draw_found(proposal)
    if proposal.data and not problems:
        form = Form.model_validate(proposal.data)
        if marker is not None:
            form._source_dir = marker.resolve().parent  # the picture, where the user has it
        if form.registration.kind != "reference-image":
            from omr.detect.register import register_page

            reg = register_page(straight, form)
            if not reg and form.registration.kind in ("corner-marks", "marker-image"):
                # Marks found but no fit on them (the way up not told, say):
                # the sheet is its own reference instead.
                again = propose_form(page.gray, resolution / 25.4, name=name, marks=False)
                if said:
                    again.notes.insert(0, said)
                what = getattr(form.registration, "shape", None) or "marker image's"
                again.notes.append(
                    f"the {what} marks found do not register the scan "
                    f"({reg.message}): aligning on the scan itself instead"
                )
                proposal, straight = again, again.page
                problems = check_proposal(proposal)
                form = Form.model_validate(proposal.data) if not problems else form
                drawn = draw_found(proposal)
            elif not reg:
                problems = [("registration", f"the scan does not register on it: {reg.message}")]
        matrix = mm_to_px(resolution / 25.4)
        darkest, paper = grey_percentiles(straight, (0.5, 90))
        _, fits = field_fits(straight, matrix, form, paper=paper, ink=darkest)
        drawn = label_fields(overlay(drawn, matrix, form), matrix, form)
    ok, png = cv2.imencode(".png", cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR))
    return FormFit(proposal, problems, fits, png.tobytes(), refusal)
