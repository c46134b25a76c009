"""How much of each OMRChecker layout `omr forms fit` finds, against its own ``template.json``.

For every image under ``../shared/data/omrchecker`` (its layout is the
nearest ``template.json`` above it), the fit is proposed as ``omr forms fit``
does (the scale from the file or the sheet), and its questions are compared
with the template's: a template question (one field label: a question, a
digit place, a group) is *found* when a fitted question has the same number
of options and its centre lies within half the template's bubble pitch of the
template question's centre.

The template's positions are in OMRChecker's processed page (resized, and
cropped to the page or its markers), not the image's pixels: the two are put
together by an affine transform fitted to the bubbles themselves (nearest
neighbours, iterated from two starts: the plain resize, and the fitted
bubbles' box onto the template's), so a layout is not scored down for
OMRChecker's crop. Prints one line per image and a total per layout; with
``--json`` appends them to ``bench/results.jsonl``.

    python bench/omrchecker_layouts.py [--only sample1 UPSC] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from omr.formfit import propose_form  # noqa: E402
from omr.pipeline import first_page, fit_resolution  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "omrchecker"
SKIP_NAMES = {"omr_marker.jpg"}  # OMRChecker's marker picture, not a sheet
FIELD_TYPES = {
    "QTYPE_INT": ("0123456789", "vertical"),
    "QTYPE_INT_FROM_1": ("1234567890", "vertical"),
    "QTYPE_MCQ4": ("ABCD", "horizontal"),
    "QTYPE_MCQ4_RTL": ("DCBA", "horizontal"),
    "QTYPE_MCQ5": ("ABCDE", "horizontal"),
}


@dataclass(frozen=True)
class Question:
    """One question's bubbles: their centres (K, 2) and the pitch between options."""

    name: str
    centres: np.ndarray

    @property
    def n(self) -> int:
        return len(self.centres)

    @property
    def centre(self) -> np.ndarray:
        return self.centres.mean(axis=0)

    @property
    def pitch(self) -> float:
        if self.n < 2:
            return 0.0
        return float(np.median(np.linalg.norm(np.diff(self.centres, axis=0), axis=1)))


def _labels(spec: str) -> list[str]:
    m = re.fullmatch(r"([^.]*?)(\d+)\.\.(\d+)", spec)
    if not m:
        return [spec]
    return [f"{m[1]}{i}" for i in range(int(m[2]), int(m[3]) + 1)]


def template_questions(path: Path) -> list[Question]:
    """Every field label of an OMRChecker template as a question, in its page's pixels."""
    t = json.loads(path.read_text(encoding="utf-8"))
    out: list[Question] = []
    for name, block in t["fieldBlocks"].items():
        values, direction = FIELD_TYPES.get(block.get("fieldType", ""), ("", "horizontal"))
        values = block.get("bubbleValues", values)
        direction = block.get("direction", direction)
        size = np.asarray(block.get("bubbleDimensions", t["bubbleDimensions"]), dtype=float)
        origin = np.asarray(block["origin"], dtype=float) + size / 2
        gap, lgap = float(block["bubblesGap"]), float(block["labelsGap"])
        labels = [lab for spec in block["fieldLabels"] for lab in _labels(spec)]
        along, across = (np.array([1.0, 0]), np.array([0, 1.0]))
        if direction == "vertical":
            along, across = across, along
        for i, label in enumerate(labels):
            first = origin + i * lgap * across
            centres = np.array([first + j * gap * along for j in range(len(values))])
            out.append(Question(f"{name}:{label}", centres))
    return out


def _xy(v) -> np.ndarray:
    return np.asarray(v, dtype=float)


def fitted_questions(data: dict, px_per_mm: float) -> list[Question]:
    """The proposal's questions (answer blocks, digit places, the group), in page pixels."""
    out: list[Question] = []

    def add(name: str, first, step, n: int, offsets=None) -> None:
        first = _xy(first)
        if offsets is not None:
            pts = [first + (_xy(o) if np.ndim(o) else o * _unit(step)) for o in offsets]
        else:
            pts = [first + k * _xy(step) for k in range(n)]
        out.append(Question(name, np.array(pts) * px_per_mm - 0.5))

    g = data.get("group")
    if g:
        add("group", g["origin"], g["option_step"], len(g["options"]), g.get("option_offsets"))
    for section in ("identity", "score_fields"):
        for name, d in (data.get(section) or {}).items():
            n = len(d.get("order", "0123456789"))
            for k in range(d["digits"]):
                first = _xy(d["origin"]) + k * _xy(d["digit_step"])
                add(f"{name}:{k}", first, d["option_step"], n)
    for name, d in (data.get("answer_blocks") or {}).items():
        per = d.get("per_column", d["questions"])
        for i in range(d["questions"]):
            c, r = divmod(i, per)
            first = _xy(d["origin"]) + r * _xy(d["question_step"])
            if c:
                first = first + c * _xy(d["column_step"])
            add(
                f"{name}:{i + 1}",
                first,
                d["option_step"],
                len(d["options"]),
                d.get("option_offsets"),
            )
    return out


def _unit(step) -> np.ndarray:
    s = _xy(step)
    return s / max(np.linalg.norm(s), 1e-9)


def _apply(m: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return pts @ m[:, :2].T + m[:, 2]


def _affine(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    a = np.hstack([src, np.ones((len(src), 1))])
    sol, *_ = np.linalg.lstsq(a, dst, rcond=None)
    return sol.T


def _inliers(m: np.ndarray, fit: np.ndarray, tree: cKDTree, radius: float) -> np.ndarray:
    d, j = tree.query(_apply(m, fit), distance_upper_bound=radius)
    return np.isfinite(d), j


def _matched(m: np.ndarray, fit: np.ndarray, tree: cKDTree, radius: float) -> tuple:
    """(template bubbles reached by a fitted bubble, minus the RMS distance): a
    transform that squeezes many fitted bubbles onto a few template ones (a
    fitted field the template does not have) must not outscore the right one."""
    d, j = tree.query(_apply(m, fit), distance_upper_bound=radius)
    ok = np.isfinite(d)
    if not ok.any():
        return (0, 0.0)
    return (len(np.unique(j[ok])), -float(np.sqrt(np.mean(d[ok] ** 2))))


def _similarity(a0, a1, b0, b1) -> np.ndarray | None:
    """The similarity (2, 3) taking points a0, a1 onto b0, b1."""
    va, vb = a1 - a0, b1 - b0
    na = np.dot(va, va)
    if na < 1e-9:
        return None
    c = np.dot(va, vb) / na
    s = (va[0] * vb[1] - va[1] * vb[0]) / na
    r = np.array([[c, -s], [s, c]])
    return np.hstack([r, (b0 - r @ a0)[:, None]])


def align(fq, tq, starts: list[np.ndarray], pitch: float) -> np.ndarray:
    """The affine transform (2, 3) taking fitted bubbles onto the template's.

    Starts: the given ones, and every pairing of a fitted question with a
    template question of as many options (first and last bubbles matched);
    the start that brings most template bubbles within 0.3 pitch of a
    fitted one is refined by nearest neighbours.
    """
    fit = np.vstack([q.centres for q in fq])
    tpl = np.vstack([q.centres for q in tq])
    tree = cKDTree(tpl)
    rng = np.random.default_rng(0)
    chosen = [q for q in fq if q.n > 1]
    if len(chosen) > 40:
        chosen = [chosen[i] for i in rng.choice(len(chosen), 40, replace=False)]
    starts = list(starts)
    for f in chosen:
        for t in tq:
            if t.n == f.n:
                m = _similarity(f.centres[0], f.centres[-1], t.centres[0], t.centres[-1])
                if m is not None:
                    starts.append(m)
    best, best_n = starts[0], (-1, 0.0)
    for m in starts:
        n = _matched(m, fit, tree, 0.3 * pitch)
        if n > best_n:
            best, best_n = m, n
    m = best
    for radius in (0.5, 0.4, 0.3, 0.3):
        ok, j = _inliers(m, fit, tree, radius * pitch)
        if ok.sum() < 3:
            break
        m = _affine(fit[ok], tpl[j[ok]])
    if _matched(m, fit, tree, 0.3 * pitch) < best_n:
        m = best
    return m


def _template_pitch(tq: list[Question]) -> float:
    """The template's bubble pitch: between options, or (one option a question, as
    a questionnaire) between neighbouring questions."""
    steps = [q.pitch for q in tq if q.n > 1]
    if steps:
        return float(np.median(steps))
    c = np.array([q.centre for q in tq])
    d = np.linalg.norm(c[:, None] - c[None], axis=-1) + np.eye(len(c)) * 1e9
    return float(np.median(d.min(axis=1))) if len(c) > 1 else 1.0


def score(image: Path, template: Path) -> dict:
    page = first_page(image)
    dpi, _ = fit_resolution(image, page)
    px = dpi / 25.4
    prop = propose_form(page.gray, px, name="x")
    tq = template_questions(template)
    fq = fitted_questions(prop.data, px) if prop.data else []
    line = {"image": str(image.relative_to(DATA)), "template_q": len(tq), "fitted_q": len(fq)}
    if not fq:
        return line | {"found": 0}
    tpl = np.vstack([q.centres for q in tq])
    fit = np.vstack([q.centres for q in fq])
    pitch = _template_pitch(tq)
    dims = json.loads(template.read_text(encoding="utf-8"))["pageDimensions"]
    h, w = page.gray.shape
    resize = np.array([[dims[0] / w, 0, 0], [0, dims[1] / h, 0]])
    lo, hi = fit.min(axis=0), fit.max(axis=0)
    tlo, thi = tpl.min(axis=0), tpl.max(axis=0)
    s = (thi - tlo) / np.maximum(hi - lo, 1e-9)
    box = np.array([[s[0], 0, tlo[0] - s[0] * lo[0]], [0, s[1], tlo[1] - s[1] * lo[1]]])
    m = align(fq, tq, [resize, box], pitch)
    found = 0
    missed = []
    for q in tq:
        near = [
            f
            for f in fq
            if f.n == q.n
            and np.linalg.norm(_apply(m, f.centre[None])[0] - q.centre) <= 0.5 * max(q.pitch, pitch)
        ]
        if near:
            found += 1
        else:
            missed.append(q.name)
    return line | {"found": found, "missed": missed[:6], "dpi": round(dpi)}


def cases(only: list[str]) -> list[tuple[Path, Path]]:
    out = []
    for image in sorted(DATA.rglob("*")):
        if image.suffix.lower() not in {".jpg", ".jpeg", ".png"} or image.name in SKIP_NAMES:
            continue
        if image.name == "reference.png":
            continue
        rel = str(image.relative_to(DATA))
        if only and not any(o in rel for o in only):
            continue
        for parent in image.parents:
            if (parent / "template.json").exists():
                out.append((image, parent / "template.json"))
                break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=[])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"no OMRChecker samples at {DATA}")
    total = found = 0
    per_layout: dict[str, list[int]] = {}
    for image, template in cases(args.only):
        start = time.perf_counter()
        line = score(image, template)
        line["seconds"] = round(time.perf_counter() - start, 1)
        print(json.dumps(line), flush=True)
        total += line["template_q"]
        found += line["found"]
        layout = str(template.parent.relative_to(DATA))
        acc = per_layout.setdefault(layout, [0, 0])
        acc[0] += line["found"]
        acc[1] += line["template_q"]
        if args.json:
            with (ROOT / "bench" / "results.jsonl").open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"bench": "omrchecker-layouts"} | line) + "\n")
    for layout, (f, t) in per_layout.items():
        print(f"{layout}: {f}/{t}")
    print(f"total: {found}/{total} template questions found")


if __name__ == "__main__":
    main()
