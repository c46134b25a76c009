"""Synthetic exam sessions with known truth: roster, exam, marked sheets, scanned stack.

The simulator uses the form model and the form renderer, never the reader
(:mod:`omr.detect`, the pipeline): what it writes is the ground truth the
reader is measured against.

``truth.json`` holds, per sheet id (``stack.pdf:3``, or ``photo-0001.jpg:1``
for a photographed sheet), the candidate, ``intended_group``, ``group_marks``,
``status``, ``identity``, ``boxes``, ``answers`` (what the candidate means:
the options per question, ``""`` blank), ``marks``, the pens (below) and
``scan``.

Pens (article 7.7, pencil only): ``ink`` is true when anything on the sheet
is in a pen other than pencil; ``ink_pen`` names that pen (null if none) and
``ink_use`` says how it was used: ``none``, ``answers`` (every answer mark),
``all`` (answers, group and identity marks, the handwritten digits and the
signature) or ``corrections`` (a few answer marks, the rest pencil);
``pencil`` is the candidate's graphite (``HB`` or ``2B``), ``hand`` their
pressure (0 lightest .. 1 heaviest; null in profiles without the pen models,
whose generic pencil is labelled ``HB`` below a darkness of 0.7 and ``2B``
from there) and ``writing_pen`` the pen of the digits and the signature.
The pens' colours, densities and textures are in :mod:`omr.simulate.pens`.

Each entry of ``marks`` has ``field``, ``item`` (0-based), ``option``,
``medium`` (``pencil`` or ``ink``), ``pen`` (``HB``, ``2B``,
``blue-ballpoint``, ``black-ballpoint``, ``red-ballpoint``,
``green-ballpoint``, ``black-gel``, ``blue-gel`` or ``felt-tip``; erasure
residue and stray strokes are always the candidate's pencil), ``darkness``
(for ink: the share of light a full stroke takes in its most absorbed
channel), ``coverage`` and ``kind``:

- answers, listed first and exactly as ``group_marks``, ``identity`` and
  ``answers`` say: ``fill`` (the usual full or partial fill), ``faint``
  (darkness 0.25–0.4), ``half`` (coverage 0.35–0.6), ``tick`` and ``cross``
  (a stroke pattern through the bubble: an answer), ``circle`` and ``dot``
  (a ring around the bubble, or a small dot in it: the candidate's intended
  answer, but ``"ambiguous": true``: a reader may send it to review instead
  of reading it);
- no answer, after them: ``erasure`` (residue of a rubbed-out answer on a
  question now blank or answered elsewhere; ``darkness`` is the residue's,
  ``coverage`` the smear's share of the bubble), ``ring`` (a ring in a pen
  or marker inside another bubble of a question answered with one option:
  ``medium`` ink, ``"ambiguous": true``; a person may be asked, a second
  answer it is not) and ``stray`` (a pencil
  stroke between bubbles: ``option`` null, ``coverage`` 0, ``points_mm`` its
  polyline; ``field`` and ``item`` the nearest question).

An answer of kind ``light`` is a full fill shaded lightly (a sheet whose
candidate shades every answer so); ``print_darkness`` (present when the
profile varies it) is the factor on the sheet's printed ink.

A mark a thresholded 1-bit scan wiped out (a faint mark, most residue)
carries ``"visible": false``: the candidate meant it, but no reader can see
it (absent means visible).

``scan`` holds the scanner's parameters (:class:`omr.simulate.scanner.ScanParams`):
``dpi``, ``rotation_deg``, ``shift_mm``, ``scale``, ``upside_down``,
``colour``, ``paper_white``, ``tint``, ``blur_sigma``, ``noise_sigma``,
``jpeg_quality`` (null on a 1-bit page), and ``fold`` (a list of creases,
each ``from_mm``, ``to_mm``, ``depth``, ``highlight``, ``width_mm``,
``shade``, ``shade_mm``, ``shade_side``), ``shadow`` (null or ``edge``,
``strength``, ``width_mm``), ``bilevel``, ``bilevel_threshold`` (null when not
bilevel), ``dither`` and ``photo`` (null, or the photo's
``frame_px``, ``corners_px`` of the page's top-left, top-right, bottom-right
and bottom-left corners in the upright photo, ``exif_orientation``, light,
desk, blur, noise and ``jpeg_quality``; ``dpi`` is then the page's mean
resolution in the photo and ``rotation_deg`` its turn before the corners
moved), and ``response`` (null, or the scanner's own colour response:
``gain``, ``gamma`` and ``black`` per channel R, G, B, and ``saturation``).

In the misregistration stress mode (``Profile.p_misregister``, or
``simulate_session(..., misregister=share)``, which the truth's top level
records as ``misregister``) every sheet also has ``misregistered``: null for
a page printed in register, else how its bubble fields were printed off the
marks (:mod:`omr.simulate.misprint`): ``kind`` (``shift``, ``lower-half`` or
``sister-form``), ``axis`` (``x`` or ``y``), ``pitches`` (signed, in bubble
pitches), ``shift_mm``, ``fields`` (the fields moved) and ``pitch_scale``
(a sister form's). Its marks are where the shifted print is; no reader
should score such a page.

:func:`omr.simulate.calibration.simulate_calibration_scan` scans the
calibration sheet (``calibration/calibration-sheet.yaml``), every block
filled with its pen, with the same truth records.
"""

from __future__ import annotations

from omr.simulate.calibration import simulate_calibration_scan
from omr.simulate.profile import PROFILES, Profile
from omr.simulate.session import simulate_session

__all__ = ["PROFILES", "Profile", "simulate_calibration_scan", "simulate_session"]
