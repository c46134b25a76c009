"""A reference-image form made from one simulated filled sheet, as a user makes one.

Sheets without marks of their own are defined on a scan of one sheet
(``registration.kind: reference-image``): the form's millimetres are that
image's pixels divided by ``dpi / 25.4``. A centre often has only filled
sheets at hand, so :func:`reference_form` scans one simulated candidate's
filled sheet of ``form`` straight (no turn, shift or scale, grey, JPEG 92)
at ``dpi`` and writes it beside a copy of ``form`` whose registration is
that image: every bubble where the form says, since the scan is straight.
The sheets of a session printed on ``form`` then read with it (name it in
the exam with ``simulate_session(..., exam_form=...)``).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import yaml
from PIL import Image

from omr.forms import Form, load_form
from omr.simulate.candidates import make_exam, make_roster
from omr.simulate.profile import PROFILES, Profile
from omr.simulate.session import SESSION_STREAM, SheetMaker, render_blank

REFERENCE_STREAM = 98  # third word of the session stream: the reference sheet's candidate
REFERENCE_JPEG = 92


def straight_scanner(profile: Profile, dpi: int) -> Profile:
    """``profile``'s students on a scanner that takes the sheet straight at ``dpi``.

    No turn, shift, scale or upside-down feed, grey, light noise, JPEG
    :data:`REFERENCE_JPEG`; no folds, shadows, 1-bit storage, photos or
    misregistered prints.
    """
    return replace(
        profile,
        dpi_choices=(dpi,),
        dpi_weights=(1.0,),
        rotation_sd_deg=0.0,
        rotation_max_deg=0.0,
        shift_max_mm=0.0,
        scale=(1.0, 1.0),
        p_upside_down=0.0,
        p_colour=0.0,
        blur_sigma=(0.3, 0.3),
        noise_sigma=(1.5, 1.5),
        jpeg_quality=(REFERENCE_JPEG, REFERENCE_JPEG),
        p_fold=0.0,
        p_shadow=0.0,
        p_bilevel=0.0,
        p_photo=0.0,
        p_misregister=0.0,
        response_jitter=0.0,
    )


def reference_sheet(
    form: Form, *, dpi: int = 150, seed: int = 0, profile: str | Profile = "standard"
) -> tuple[np.ndarray, dict]:
    """One candidate's filled sheet of ``form``, scanned straight at ``dpi``.

    Returns
    -------
    image : (M, N) ndarray of uint8
        The grey scan; its pixel ``(x + 0.5, y + 0.5) * 25.4 / dpi`` is the
        page's point ``(x, y)`` mm.
    truth : dict
        The sheet's truth record (what the candidate marked), as in ``truth.json``.
    """
    base = PROFILES[profile] if isinstance(profile, str) else profile
    p = straight_scanner(base, dpi)
    rng = np.random.default_rng([seed, SESSION_STREAM, REFERENCE_STREAM])
    roster = make_roster(form, 1, rng, p)
    exam = make_exam(form, rng, p, name="reference sheet")
    data, truth = SheetMaker(form, p, seed, exam, roster, render_blank(form))(0)
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    return image, truth


def reference_form(
    form: Form,
    folder: Path,
    *,
    dpi: int = 150,
    seed: int = 0,
    name: str | None = None,
    profile: str | Profile = "standard",
) -> Path:
    """Write a reference-image form of ``form`` made from one simulated filled sheet.

    Writes ``folder/NAME.png`` (:func:`reference_sheet`, with its dpi) and
    ``folder/NAME.yaml``: ``form`` with ``registration: {kind:
    reference-image, image: NAME.png, dpi: DPI}`` and every position in mm
    (the fields, their names and labels as in ``form``).

    Parameters
    ----------
    form : Form
        The printed sheet the session's stack is made on.
    folder : Path
        Created if missing.
    dpi : int
        Resolution of the reference scan.
    seed : int
        Seed of the reference sheet's candidate and scan.
    name : str, optional
        The new form's name (default ``FORM-reference``).
    profile : str or Profile
        Whose students fill the reference sheet.

    Returns
    -------
    Path
        The form file; it loads with :func:`omr.forms.load_form`.
    """
    name = name or f"{form.name}-reference"
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    image, _ = reference_sheet(form, dpi=dpi, seed=seed, profile=profile)
    Image.fromarray(image).save(folder / f"{name}.png", dpi=(dpi, dpi))
    data = json.loads(form.model_dump_json(exclude_none=True))
    data.pop("dpi", None)
    data.update(
        name=name,
        unit="mm",
        registration={"kind": "reference-image", "image": f"{name}.png", "dpi": dpi},
    )
    path = folder / f"{name}.yaml"
    text = (
        f"# {form.name} defined on one simulated filled sheet scanned at {dpi} dpi "
        "(omr.simulate.reference)\n"
        + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    )
    path.write_text(text, encoding="utf-8")
    load_form(path)  # what is written must load
    return path
