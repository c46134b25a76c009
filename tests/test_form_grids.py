"""Compact grid definitions, positions in pixels, bubble shapes and registration kinds in forms."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from designs import design

from omr.errors import InvalidFormError
from omr.forms import Form, load_form


def _load(tmp_path, data) -> Form:
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_form(path)


def test_a_block_by_its_first_and_last_bubble_equals_origin_and_steps(tmp_path):
    compact = design("vendor-track")
    explicit = design("vendor-track")
    explicit["answer_blocks"]["turkish"] = {
        **{
            k: v
            for k, v in explicit["answer_blocks"]["turkish"].items()
            if k not in {"first", "last"}
        },
        "origin": [95, 45.75],
        "option_step": [7.0, 0.0],
        "question_step": [0.0, 5.25],
    }
    a, b = _load(tmp_path, compact), Form.model_validate(explicit)
    assert np.allclose(a.layout.centers_xy, b.layout.centers_xy)
    turkish = a.layout.fields["turkish"]
    assert turkish.index.shape == (40, 5)
    # question 23 opens the second column, level with question 1
    assert a.layout.centers_xy[turkish.index[22, 0]] == pytest.approx([140, 45.75])


def test_options_down_and_columns_that_restart_their_numbers(tmp_path):
    form = _load(tmp_path, design("corner-circles"))
    physics = form.layout.fields["physics"]
    xy = form.layout.centers_xy
    assert physics.index.shape == (60, 4)
    # options run down, questions across: A to D of question 1 share x
    assert xy[physics.index[0], 0] == pytest.approx([30] * 4)
    assert xy[physics.index[0, 3]] == pytest.approx([30, 143])
    assert xy[physics.index[19, 0]] == pytest.approx([182, 125])  # last of the first column
    assert xy[physics.index[20, 0]] == pytest.approx([30, 175])  # next column, 50 mm down
    assert physics.item_numbers[:3] == (1, 2, 3)
    assert physics.item_numbers[19:22] == (20, 1, 2)


def test_digit_grid_by_first_and_last(tmp_path):
    form = _load(tmp_path, design("corner-circles"))
    number = form.layout.fields["student_number"]
    assert number.index.shape == (10, 10)
    xy = form.layout.centers_xy
    assert xy[number.index[0, 0]] == pytest.approx([25, 40])
    assert xy[number.index[9, 9]] == pytest.approx([70, 94])
    assert xy[number.index[1, 0]] == pytest.approx([30, 40])  # next digit, 5 mm right


def test_positions_in_reference_pixels_are_read_as_millimetres(tmp_path):
    in_mm = design("corner-circles")
    at_300dpi = yaml.safe_load(yaml.safe_dump(in_mm))
    k = 300 / 25.4

    def scale(node, key=None):
        lengths = {"width", "height", "first", "last", "column_step", "marks", "mark_size", "at"}
        if isinstance(node, dict):
            return {kk: scale(v, kk) for kk, v in node.items()}
        if isinstance(node, list):
            return [scale(v, key) for v in node]
        if key in lengths | {"bubble_diameter"} and isinstance(node, int | float):
            return node * k
        return node

    at_300dpi = scale(at_300dpi)
    at_300dpi.update(unit="px", dpi=300)
    a, b = _load(tmp_path, in_mm), Form.model_validate(at_300dpi)
    assert np.allclose(a.layout.centers_xy, b.layout.centers_xy)
    assert np.allclose(a.layout.half_axes, b.layout.half_axes)
    assert b.texts[0].size == 12  # a font size stays in points
    assert b.registration.mark_size == pytest.approx(6)


def test_pixels_without_a_resolution_are_refused(tmp_path):
    data = design("corner-circles", unit="px")
    with pytest.raises(InvalidFormError, match="unit: px needs dpi"):
        _load(tmp_path, data)


def test_ellipses_that_touch_are_refused_though_their_centres_are_apart(tmp_path):
    data = design("vendor-track")
    data["identity"]["student_number"]["last"] = [66.4, 93.0]  # 5.2 mm apart, 5 mm wide
    with pytest.raises(InvalidFormError, match="identity.student_number: bubbles overlap"):
        _load(tmp_path, data)


def test_bubbles_on_a_timing_dash_are_refused(tmp_path):
    data = design("vendor-track")
    data["group"] = {**data["group"], "first": [10, 30], "last": [37, 30]}
    with pytest.raises(InvalidFormError, match="group: overlaps a registration mark"):
        _load(tmp_path, data)


def test_unknown_registration_kind_is_named(tmp_path):
    data = design("corner-circles")
    data["registration"] = {**data["registration"], "kind": "barcode"}
    with pytest.raises(InvalidFormError, match="registration"):
        _load(tmp_path, data)


def test_layout_knows_each_bubble_shape(tmp_path):
    track = _load(tmp_path, design("vendor-track"))
    assert track.layout.half_axes[0] == pytest.approx([2.5, 1.6])
    assert not track.layout.rectangular.any()
    plain = Form.model_validate(design("plain-a5"))
    assert plain.layout.rectangular.all()
    assert plain.layout.radius[0] == pytest.approx(np.sqrt(2.5 * 1.75))
