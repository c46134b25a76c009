"""`omr forms fit` on every real image under ``../shared/data``: a form or a typed refusal.

Real sheets made by strangers (OMRChecker's samples, open-mcr's scans and
blank sheets; see ``../shared/data/README.md``). Whatever the image, the
command must end with a form file written (exit 0, or 4 with its problems
listed by key path) or a refusal that says what was found and what to try
(exit 3), and the overlay picture: never a traceback, nor the last-resort
"layout finder failed" message. The images that once crashed it run by
default; all of them with ``--runslow``. Skips without the shared folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from omr.cli import cli
from omr.errors import ExitCode


def _shared_data() -> Path:
    env = os.environ.get("OMR_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"


DATA = _shared_data()
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".pdf", ".bmp"}
pytestmark = pytest.mark.skipif(
    not DATA.is_dir(), reason=f"no shared real scans at {DATA} (set OMR_SHARED_DATA)"
)

# Images (and a --dpi) on which `forms fit` once ended in a traceback.
ONCE_CRASHED = [
    ("omrchecker/community/UPSC-mock/scan-angles/angle-1.jpg", None),  # singular lattice
    ("omrchecker/community/UPSC-mock/scan-angles/angle-2.jpg", None),  # _merge_columns ==
    ("omrchecker/community/UmarFarootAPS/scans/scan-type-1.jpg", 120),
    ("omrchecker/community/Sandeep-1507/omr-1.png", 100),
    ("omrchecker/community/UPSC-mock/answer_key.jpg", 150),
]


def _images() -> list[str]:
    if not DATA.is_dir():
        return []
    return sorted(
        str(p.relative_to(DATA)) for p in DATA.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES
    )


def _fit(tmp_path: Path, image: str, dpi: float | None) -> None:
    out = tmp_path / "fitted.yaml"
    args = ["forms", "fit", str(DATA / image), "--out", str(out)]
    if dpi:
        args += ["--dpi", str(dpi)]
    result = CliRunner().invoke(cli, args)
    exc = result.exception
    assert exc is None or isinstance(exc, SystemExit), (image, repr(exc), result.output)
    assert "Traceback" not in result.output
    assert "layout finder failed" not in result.output, result.output
    assert result.exit_code in {ExitCode.ok, ExitCode.input_file, ExitCode.invalid_form}, (
        image,
        result.exit_code,
        result.output,
    )
    if result.exit_code == ExitCode.input_file:
        assert re.search(r"error: .*(--dpi|cannot|no )", result.output), result.output
        return
    assert (tmp_path / "fitted.fit.png").stat().st_size > 0, result.output
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", data["name"])
    if result.exit_code == ExitCode.invalid_form:
        problems = [line for line in result.output.splitlines() if line.startswith("problem: ")]
        assert problems, result.output
        assert "validation error for Form" not in result.output  # listed one by one instead


@pytest.mark.skipif(not DATA.is_dir(), reason="no shared real scans")
@pytest.mark.parametrize(("image", "dpi"), ONCE_CRASHED, ids=[i for i, _ in ONCE_CRASHED])
def test_fit_on_the_scans_that_once_crashed_it(tmp_path, image, dpi):
    if not (DATA / image).is_file():
        pytest.skip(f"{image} not in {DATA}")
    _fit(tmp_path, image, dpi)


@pytest.mark.slow
@pytest.mark.parametrize("image", _images())
def test_fit_on_every_real_image_writes_a_form_or_refuses_in_words(tmp_path, image):
    _fit(tmp_path, image, None)
