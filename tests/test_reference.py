"""Reference-image fits rest on the print only, and take small sheets and tilted photos."""

from __future__ import annotations

import cv2
import numpy as np
import yaml
from designs import design
from fithelpers import reference_image

from omr.detect.read import register
from omr.detect.reference import MIN_WORK_SIDE_PX, form_reference, work_scale
from omr.detect.sampling import apply_transform
from omr.forms import Form, load_form
from omr.simulate.session import render_blank

# Bubbles of a grid the form leaves out (a name grid), filled on the reference sheet only.
LEFT_OUT = [(22 + 6 * i, 100 + 6 * j) for i in range(6) for j in range(6) if (i + 2 * j) % 5 == 0]


def _form(tmp_path, image: np.ndarray, name: str) -> Form:
    data = design("plain-a5")
    data["registration"] = {**data["registration"], "image": f"{name}.png"}
    cv2.imwrite(str(tmp_path / f"{name}.png"), image)
    (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_form(tmp_path / f"{name}.yaml")


def _filled(clean: np.ndarray, form: Form) -> np.ndarray:
    """The reference sheet as one candidate left it: bubbles filled in and out of the form,
    a name written in pen."""
    k = form.registration.dpi / 25.4
    out = clean.copy()
    layout = form.layout
    for f in layout.fields.values():
        for row in f.index[::2]:
            x, y = np.round(layout.centers_xy[row[len(row) // 2]] * k).astype(int)
            axes = (round(2.4 * k), round(1.7 * k))
            cv2.ellipse(out, (int(x), int(y)), axes, 0, 0, 360, 60, -1)
    for x, y in LEFT_OUT:
        cv2.circle(out, (round(x * k), round(y * k)), round(1.8 * k), 50, -1)
    rng = np.random.default_rng(4)
    stroke = np.cumsum(rng.normal(0, 1.2, (60, 2)), axis=0) + (30, 185)
    cv2.polylines(out, [np.round(stroke * k).astype(np.int32)], False, 30, max(1, round(0.4 * k)))
    return out


def _page(form: Form, degrees: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
    """A blank page turned by ``degrees``, and where its bubbles truly are (N, 2) px."""
    blank = render_blank(form, dpi=150)
    h, w = blank.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    page = cv2.warpAffine(blank, m, (w, h), borderValue=255)
    xy = form.layout.centers_xy * np.array([w / form.page.width, h / form.page.height]) - 0.5
    return page, xy @ m[:, :2].T + m[:, 2]


def test_a_filled_reference_gives_the_fit_of_a_clean_one(tmp_path):
    clean = _form(tmp_path, reference_image(Form.model_validate(design("plain-a5"))), "clean")
    filled = _form(tmp_path, _filled(clean.reference_gray, clean), "filled")
    features = form_reference(filled)
    k = features.image_px_per_mm
    # No feature is taken on what the candidate wrote: every fill left out of the form is masked.
    for x, y in LEFT_OUT:
        assert features.mask[round(y * k), round(x * k)] == 0, (x, y)
    near = np.linalg.norm(features.xy_mm[:, None] - np.array(LEFT_OUT)[None], axis=-1)
    assert near.min() > 2.5
    page, truth = _page(clean)
    placed = []
    for form in (clean, filled):
        reg = register(page, form)
        assert reg and reg.proof["proven"], reg
        placed.append(apply_transform(reg.matrix, form.layout.centers_xy))
    px_per_mm = 150 / 25.4
    assert np.abs(placed[1] - placed[0]).max() / px_per_mm < 0.1
    assert np.abs(placed[1] - truth).max() / px_per_mm < 0.15


def test_a_small_sheet_is_matched_finer_than_a_page():
    assert work_scale((3300, 2550), 300 / 25.4) == 5.0  # a letter page at 300 dpi
    card = work_scale((700, 525), 196 / 25.4)  # a 68 x 91 mm card
    assert 10 < card <= 12 and card * 700 / (196 / 25.4) >= 0.99 * MIN_WORK_SIDE_PX


def test_a_page_photographed_at_an_angle_is_fitted_with_its_perspective(tmp_path):
    form = _form(tmp_path, reference_image(Form.model_validate(design("plain-a5"))), "clean")
    blank = render_blank(form, dpi=150)
    h, w = blank.shape
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    # The top edge nearer the camera: 6% wider than the bottom, which is shorter.
    tilted = np.float32([[-0.03 * w, 0], [1.03 * w, 0], [0.97 * w, 0.97 * h], [0.03 * w, 0.97 * h]])
    hom = cv2.getPerspectiveTransform(corners, tilted)
    page = cv2.warpPerspective(blank, hom, (w, h), borderValue=255)
    reg = register(page, form)
    assert reg and reg.proof["proven"], reg
    xy = form.layout.centers_xy * np.array([w / form.page.width, h / form.page.height]) - 0.5
    truth = apply_transform(hom, xy)
    err = np.linalg.norm(apply_transform(reg.matrix, form.layout.centers_xy) - truth, axis=1)
    assert err.max() / (150 / 25.4) < 0.3


def test_a_page_whose_bubbles_were_printed_off_its_text_fails_the_print_check(tmp_path):
    """Fitted on its bubbles, the text lies off; fitted on its text, the bubbles do."""
    import copy

    from omr.detect.proof import form_pitches
    from omr.detect.reference import print_in_register

    form = _form(tmp_path, reference_image(Form.model_validate(design("plain-a5"))), "clean")
    limit = 0.25 * min(form_pitches(form).values())
    features = form_reference(form)
    data = copy.deepcopy(design("plain-a5"))
    first, second = form.layout.fields["quiz"].index[0, :2]
    dx = 0.5 * float(form.layout.centers_xy[second, 0] - form.layout.centers_xy[first, 0])
    for spec in (data["group"], data["identity"]["student_number"], data["answer_blocks"]["quiz"]):
        spec["first"] = [spec["first"][0] + dx, spec["first"][1]]
        spec["last"] = [spec["last"][0] + dx, spec["last"][1]]
    shifted = Form.model_validate({**data, "name": "plain-a5-shifted"})
    page = render_blank(shifted, dpi=150)
    h, w = page.shape
    on_text = np.array([[w / form.page.width, 0, -0.5], [0, h / form.page.height, -0.5], [0, 0, 1]])
    on_bubbles = on_text @ np.array([[1, 0, dx], [0, 1, 0], [0, 0, 1.0]])
    assert print_in_register(render_blank(form, dpi=150), on_text, features, limit_mm=limit).ok
    for matrix in (on_text, on_bubbles):
        check = print_in_register(page, matrix, features, limit_mm=limit)
        assert not check.ok, check.summary()
        assert check.offsets_mm.max() > 0.8 * dx
    reg = register(page, form)
    assert not reg and reg.reason == "registration-weak", reg
