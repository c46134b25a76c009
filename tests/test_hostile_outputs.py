"""Outputs complete or absent: a file written through :mod:`omr.atomic` replaces the old one
whole or not at all, a set of them is renamed together, and what a killed writer left is
swept by the next writer."""

from __future__ import annotations

import os
import stat

import pytest

from omr.atomic import Staged, sweep_temps, temp_files, write_atomic
from omr.session_lock import session_lock


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("old\n")

    def half(tmp):
        tmp.write_text("new, half wr")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space"):
        write_atomic(path, half)
    assert path.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.csv"]


def test_a_mode_is_set_before_the_file_appears(tmp_path):
    seen = []

    def write(tmp):
        tmp.write_text("full identities")
        seen.append(tmp)

    write_atomic(tmp_path / "internal.csv", write, mode=0o600)
    assert stat.S_IMODE((tmp_path / "internal.csv").stat().st_mode) == 0o600
    assert seen[0].name.startswith(".internal.csv.") and not seen[0].exists()
    write_atomic(tmp_path / "posted.csv", lambda tmp: tmp.write_text("x"))
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE((tmp_path / "posted.csv").stat().st_mode) == 0o666 & ~umask


def test_a_staged_set_is_renamed_together_or_not_at_all(tmp_path):
    for name in ("a.csv", "b.xlsx", "c.html"):
        (tmp_path / name).write_text("old")
    with pytest.raises(RuntimeError), Staged() as staged:
        staged.write(tmp_path / "a.csv", lambda tmp: tmp.write_text("new"))
        staged.write(tmp_path / "b.xlsx", lambda tmp: tmp.write_text("new"))
        assert (tmp_path / "a.csv").read_text() == "old"  # nothing moved before the end
        raise RuntimeError("the workbook failed")
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == dict.fromkeys(
        ("a.csv", "b.xlsx", "c.html"), "old"
    )
    with Staged() as staged:
        for name in ("a.csv", "b.xlsx", "c.html"):
            staged.write(tmp_path / name, lambda tmp: tmp.write_text("new"))
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == dict.fromkeys(
        ("a.csv", "b.xlsx", "c.html"), "new"
    )


def test_the_next_writer_sweeps_what_a_killed_one_left(tmp_path):
    out = tmp_path / "out"
    (out / "evidence").mkdir(parents=True)
    left = [
        out / ".results.csv.k2j4h5g1.tmp.csv",
        out / ".report.html.abcdefgh.tmp.html",
        out / "evidence" / ".s.pdf-p1.png.a1b2c3d4.tmp.png",
    ]
    kept = [out / "results.csv", out / ".hidden-note", out / "my.tmp.csv"]
    for p in left + kept:
        p.write_text("x")
    assert sorted(temp_files(out)) == sorted(left[:2])
    assert sweep_temps(tmp_path) == 0  # never below the folder given
    with session_lock(out, wait=0):
        pass
    assert [p for p in left if p.exists()] == []
    assert all(p.exists() for p in kept)
