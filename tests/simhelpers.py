"""Helpers shared by the simulator tests."""

from __future__ import annotations

from omr.simulate.scanner import ScanParams


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
