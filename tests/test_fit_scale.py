"""The scale of a scan that does not say its resolution: from its page width and its bubbles."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from test_layout_finder import a4_scan

from omr.detect.layout import estimate_scale


@pytest.mark.parametrize("dpi", [100, 150, 300])
def test_a_whole_page_is_taken_at_its_width_when_its_bubbles_agree(dpi):
    gray, _ = a4_scan(dpi)
    guess = estimate_scale(gray)
    assert guess.px_per_mm == pytest.approx(dpi / 25.4, rel=0.03)  # 210 mm taken as 213
    assert 3.5 < guess.size_mm < 4.5 and guess.bubbles > 50
    assert "page" in guess.describe() and "--dpi" in guess.describe()


def test_a_crop_of_a_sheet_is_scaled_by_its_bubbles_not_its_width():
    gray, _ = a4_scan(150)
    crop = gray[:, : gray.shape[1] // 2]  # half the page's width: the width alone says 75 dpi
    guess = estimate_scale(crop)
    assert 120 < guess.dpi < 260, guess.describe()
    assert 2.3 <= guess.size_mm <= 6.5
    assert "not the page's width" in guess.describe()


def test_a_page_without_bubbles_has_no_scale():
    assert estimate_scale(np.full((400, 300), 240, np.uint8)).px_per_mm == 0


def test_fit_without_a_dpi_says_what_it_assumed(tmp_path):
    from click.testing import CliRunner

    from omr.cli import cli

    path = tmp_path / "sheet.jpg"
    Image.fromarray(a4_scan(150)[0]).save(path, quality=92, dpi=(72, 72))  # a placeholder dpi
    out = tmp_path / "f.yaml"
    result = CliRunner().invoke(cli, ["forms", "fit", str(path), "--out", str(out)])
    assert result.exit_code in (0, 4), result.output
    assert "72 dpi, a JPEG's placeholder" in result.output and "assumed" in result.output
    assert "dpi" in out.read_text().splitlines()[0]
    result = CliRunner().invoke(cli, ["forms", "fit", str(path), "--out", str(out), "--dpi", "150"])
    assert "assumed" not in result.output  # --dpi overrides


def test_filled_bubbles_at_grid_positions_are_never_corner_marks():
    """Discs filled past their outline at a grid's four corners: bubbles, not marks."""
    import cv2

    from omr.detect.layout import find_bubbles, find_registration

    px = 6.0
    page = np.full((int(140 * px), int(100 * px)), 245, np.uint8)
    rows, cols, x0, y0, pitch = 18, 12, 12.0, 12.0, 7.0
    corners = {(0, 0), (0, cols - 1), (rows - 1, 0), (rows - 1, cols - 1)}
    for r in range(rows):
        for c in range(cols):
            xy = (int((x0 + c * pitch) * px), int((y0 + r * pitch) * px))
            if (r, c) in corners:
                cv2.circle(page, xy, int(3.0 * px), 25, -1, cv2.LINE_AA)  # 6 mm disc
            else:
                cv2.circle(page, xy, int(2.0 * px), 25, 2, cv2.LINE_AA)
    bubbles = find_bubbles(page, px)
    assert len(bubbles) >= rows * cols - 4
    assert find_registration(page, px, bubbles).kind == "none"
