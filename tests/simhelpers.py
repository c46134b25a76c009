"""Helpers shared by the simulator tests."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from omr.forms import find_form
from omr.simulate import PROFILES, simulate_session
from omr.simulate.reference import reference_form
from omr.simulate.scanner import ScanParams, placement_matrix


def scan_params(**kw) -> ScanParams:
    """A plain scan (150 dpi, no turn, no noise, grey, JPEG 80) with ``kw`` changed."""
    base = dict(
        dpi=150,
        rotation_deg=0.0,
        shift_mm=(0.0, 0.0),
        scale=1.0,
        upside_down=False,
        colour="grey",
        paper_white=255.0,
        tint=(1.0, 1.0, 1.0),
        blur_sigma=0.0,
        noise_sigma=0.0,
        jpeg_quality=80,
    )
    base.update(kw)
    return ScanParams(**base)


def placement_from_truth(record: dict, page_mm) -> np.ndarray:
    """The page-to-pixel map (2, 3) of a plain scan (no photo), from its truth record."""
    keys = ("dpi", "rotation_deg", "scale", "upside_down", "colour", "paper_white")
    params = ScanParams(
        **{k: record[k] for k in keys},
        shift_mm=tuple(record["shift_mm"]),
        tint=tuple(record["tint"]),
        blur_sigma=record["blur_sigma"],
        noise_sigma=record["noise_sigma"],
        jpeg_quality=record["jpeg_quality"],
    )
    return placement_matrix(params, page_mm)


def reference_session(
    root: Path,
    *,
    form: str = "central-a4",
    sheets: int = 8,
    seed: int = 3,
    dpi: int = 150,
    misregister: float = 0.5,
    pitches: tuple[float, ...] = (1.5,),
    kinds: tuple[str, ...] = ("shift", "lower-half"),
    profile: str = "clean",
) -> dict:
    """A session read with a reference-image form made from one simulated filled sheet.

    ``root/form/FORM-reference.png`` is one candidate's filled sheet of
    ``form`` scanned straight at ``dpi``, and ``root/form/FORM-reference.yaml``
    the form defined on it (:func:`omr.simulate.reference.reference_form`);
    ``exam.yaml`` names that file. A share ``misregister`` of the stack's
    pages is printed ``pitches`` bubble pitches off the marks (``kinds`` of
    :mod:`omr.simulate.misprint`), as ``truth.json`` records under
    ``misregistered``. Returns the truth.
    """
    printed = find_form(form)
    path = reference_form(printed, root / "form", dpi=dpi, seed=seed)
    p = dataclasses.replace(
        PROFILES[profile],
        name=f"{profile}-misregistered",
        p_misregister=misregister,
        misregister_pitches=pitches,
        misregister_kinds=kinds,
        misregister_weights=(1.0,) * len(kinds),
    )
    return simulate_session(printed, sheets, seed, root, profile=p, exam_form=f"form/{path.name}")


def quiz_session(root: Path, sheets: int, seed: int = 21, *, roster_rows=()) -> Path:
    """A quiz-a5 session simulated into ``root``, ``roster_rows`` added to its roster, run."""
    import csv

    from omr.pipeline import run_session

    simulate_session(find_form("quiz-a5"), sheets, seed, root, jobs=1)
    with (root / "roster.csv").open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(roster_rows)
    run_session(root, jobs=1)
    return root


def session_copy(ran: Path, tmp_path: Path) -> Path:
    """A copy of the session folder ``ran`` to change in one test."""
    import shutil

    return Path(shutil.copytree(ran, tmp_path / "session"))
