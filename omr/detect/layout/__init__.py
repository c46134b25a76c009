"""Find a sheet's layout on one scan: printed bubbles, their grids, the registration marks.

The image-analysis core of ``omr forms fit``. It knows pixels only: no form, no
file. Everything is measured on a *darkness* map (local paper level minus the
image), so a pencil-filled bubble and a thin printed outline are found on the
same footing, on blank and on filled scans alike.

Positions are image pixels in (x, y) order; sizes are millimetres.
"""

from __future__ import annotations

from omr.detect.layout.bubbles import FoundBubbles, find_bubbles
from omr.detect.layout.grids import Grid, estimate_skew, find_grids
from omr.detect.layout.marks import FoundRegistration, find_marker_image, find_registration
from omr.detect.layout.scale import ScaleGuess, bubbles_at, estimate_scale

__all__ = [
    "FoundBubbles",
    "FoundRegistration",
    "Grid",
    "ScaleGuess",
    "bubbles_at",
    "estimate_scale",
    "estimate_skew",
    "find_bubbles",
    "find_grids",
    "find_marker_image",
    "find_registration",
]
