"""Python's ``round(x, digits)`` of a whole array in one numpy step, to the same floats."""

from __future__ import annotations

import numpy as np

NEAR_HALF = 1e-6  # scaled values this close to a half are rounded by round() itself


def rounded(values, digits: int) -> np.ndarray:
    """``round(float(x), digits)`` of every element of ``values``, as a float64 array.

    ``rint(x * 10**digits) / 10**digits`` is what Python's ``round`` gives
    wherever the scaled value is clearly on one side of a half: the integer is
    then the one the exact decimal value of ``x`` rounds to, and dividing it by
    the power of ten is correctly rounded, as Python's conversion back is.
    Within ``NEAR_HALF`` of a half (where the scaling's own rounding may cross
    it), beyond 1e9 once scaled, and for NaN or infinities, ``round`` itself
    decides.
    """
    x = np.asarray(values, dtype=np.float64)
    scale = 10.0**digits
    scaled = x * scale
    out = np.rint(scaled) / scale
    with np.errstate(invalid="ignore"):  # infinities: round() decides
        clear = (np.abs(scaled - np.floor(scaled) - 0.5) > NEAR_HALF) & (np.abs(scaled) < 1e9)
    doubt = ~clear
    if doubt.any():
        out[doubt] = [round(v, digits) for v in x[doubt].tolist()]
    return out
