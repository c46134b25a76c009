"""Annotated sheet images for the people who act on a read: every bubble coloured by decision.

Pure functions over arrays (the pipeline driver loads the page and registers it).
"""

from __future__ import annotations

import unicodedata

import cv2
import numpy as np

from omr.detect.sampling import apply_transform
from omr.forms import Form
from omr.records import ItemState, SheetRead

#: RGB per decision on a bubble.
COLOURS = {
    "marked": (0, 150, 0),
    "blank": (170, 170, 170),
    "unsure": (255, 130, 0),
    "residue": (160, 0, 200),
    "ink": (220, 0, 0),
    "decided": (0, 80, 255),
}
CROP_PX_PER_MM = 10.0
_ANGLES = np.linspace(0, 2 * np.pi, 32, endpoint=False)
_CIRCLE = np.column_stack([np.cos(_ANGLES), np.sin(_ANGLES)])
_SQUARE = np.resize(np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]]), (32, 2))


def ascii_text(text: str) -> str:
    """``text`` folded to ASCII (OpenCV's fonts draw nothing else): ``Türk`` -> ``Turk``."""
    folded = unicodedata.normalize("NFKD", text.replace("ı", "i").replace("İ", "I"))
    return folded.encode("ascii", "ignore").decode()


def bubble_states(read: SheetRead, form: Form) -> dict[int, str]:
    """Bubble index -> decision (a key of :data:`COLOURS`) for every bubble read.

    Letter grids (names) are left uncoloured: what they read is personal data.
    """
    layout = form.layout
    out: dict[int, str] = {}
    for name, f in layout.fields.items():
        fr = read.fields.get(name)
        if fr is None or f.kind == "letters":
            continue
        for i, item in enumerate(fr.items[: f.index.shape[0]]):
            residue = item.reason.split(":", 1)[1] if item.reason.startswith("residue:") else ""
            for j, option in enumerate(f.option_labels):
                if item.reason == "decided":
                    state = "decided" if option in item.value else "blank"
                elif option in item.unsure:
                    state = "unsure"
                elif item.state != ItemState.blank and option in item.value:
                    state = "marked"
                elif option in residue:
                    state = "residue"
                else:
                    state = "blank"
                out[int(f.index[i, j])] = state
    for m in read.media.get("marks", []):
        f = layout.fields.get(m.get("field", ""))
        if m.get("medium") == "ink" and f is not None and m.get("option") in f.option_labels:
            out[int(f.index[m["item"], f.option_labels.index(m["option"])])] = "ink"
    return out


def annotate_sheet(
    image: np.ndarray,
    matrix: np.ndarray,
    form: Form,
    read: SheetRead,
    *,
    labels: dict[str, str] | None = None,
) -> np.ndarray:
    """The scan with every bubble outlined in its decision's colour and the question numbers.

    Parameters
    ----------
    image : (M, N) or (M, N, 3) ndarray of uint8
        The page as scanned (RGB when colour).
    matrix : (3, 3) ndarray
        Form millimetres -> image pixels.
    labels : dict, optional
        Answer block -> course code, written above each block.

    Returns
    -------
    (M, N, 3) ndarray of uint8, RGB.
    """
    out = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image.copy()
    layout = form.layout
    scale = float(np.sqrt(abs(np.linalg.det(matrix[:2, :2]))))
    thin = max(1, round(scale * 0.12))
    states = bubble_states(read, form)
    unit = np.where(layout.rectangular[:, None, None], _SQUARE, _CIRCLE)
    outlines = layout.centers_xy[:, None, :] + unit * (layout.half_axes[:, None, :] + 0.25)
    for b, pts in enumerate(apply_transform(matrix, outlines)):
        state = states.get(b)
        if state is None:
            continue
        width = thin if state == "blank" else 3 * thin
        poly = pts.round().astype(np.int32)
        cv2.polylines(out, [poly], True, COLOURS[state], width, cv2.LINE_AA)
    font = cv2.FONT_HERSHEY_SIMPLEX
    for name, f in layout.fields.items():
        if f.kind != "answers":
            continue
        for i, number in enumerate(f.item_numbers):
            first = layout.centers_xy[f.index[i, 0]]
            x, y = apply_transform(
                matrix, (first - (layout.half_axes[f.index[i, 0]][0] + 7.5, -1.0))[None]
            )[0]
            cv2.putText(
                out,
                str(number),
                (round(x), round(y)),
                font,
                scale * 0.11,
                (0, 0, 160),
                thin,
                cv2.LINE_AA,
            )
        if labels and name in labels:
            top = layout.centers_xy[f.index[0, 0]] - (0, layout.half_axes[f.index[0, 0]][1] + 9.0)
            x, y = apply_transform(matrix, top[None])[0]
            cv2.putText(
                out,
                ascii_text(labels[name]),
                (round(x), round(y)),
                font,
                scale * 0.13,
                (0, 0, 160),
                thin,
                cv2.LINE_AA,
            )
    return out


def with_caption(image: np.ndarray, caption: list[str]) -> np.ndarray:
    """``image`` (RGB) under a white band holding ``caption`` and the colour legend."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    rows = len(caption) + 1
    band = np.full((22 * rows + 10, image.shape[1], 3), 255, np.uint8)
    for row, text in enumerate(caption):
        cv2.putText(
            band, ascii_text(text)[:160], (8, 22 * row + 20), font, 0.55, (0, 0, 0), 1, cv2.LINE_AA
        )
    x, y = 8, 22 * (rows - 1) + 20
    for name, colour in COLOURS.items():
        cv2.rectangle(band, (x, y - 13), (x + 14, y + 1), colour, -1)
        cv2.putText(band, name, (x + 18, y), font, 0.55, colour, 1, cv2.LINE_AA)
        x += 28 + cv2.getTextSize(name, font, 0.55, 1)[0][0]
    return np.vstack([band, image])


def doubt_items(read: SheetRead, form: Form) -> list[tuple[str, int]]:
    """(field, item) of every item left in doubt (unsure), letter grids excepted."""
    return [
        (name, i)
        for name, fr in read.fields.items()
        if name in form.layout.fields and form.layout.fields[name].kind != "letters"
        for i, item in enumerate(fr.items)
        if item.state == ItemState.unsure
    ]


def doubt_crops(
    image: np.ndarray,
    matrix: np.ndarray,
    form: Form,
    items: list[tuple[str, int, str]],
    *,
    margin_mm: float = 3.0,
) -> np.ndarray | None:
    """Upright crops of the rows of ``items`` (field, item, caption), stacked; None if none.

    ``image`` is the annotated page (RGB) and ``matrix`` maps form millimetres
    to its pixels.
    """
    if not items:
        return None
    layout = form.layout
    tiles = []
    for name, i, caption in items:
        idx = layout.fields[name].index[i]
        lo = (layout.centers_xy[idx] - layout.half_axes[idx]).min(axis=0) - margin_mm
        hi = (layout.centers_xy[idx] + layout.half_axes[idx]).max(axis=0) + margin_mm
        lo[0] -= 6.0  # the question number
        size = np.ceil((hi - lo) * CROP_PX_PER_MM).astype(int)
        to_mm = np.array(
            [[1 / CROP_PX_PER_MM, 0, lo[0]], [0, 1 / CROP_PX_PER_MM, lo[1]], [0, 0, 1]]
        )
        crop = cv2.warpPerspective(
            image,
            matrix @ to_mm,
            (int(size[0]), int(size[1])),
            flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
            borderValue=(255, 255, 255),
        )
        band = np.full((24, crop.shape[1], 3), 255, np.uint8)
        cv2.putText(
            band,
            ascii_text(caption),
            (4, 17),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.45,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
        tiles.append(np.vstack([band, crop]))
    width = max(t.shape[1] for t in tiles)
    tiles = [
        cv2.copyMakeBorder(
            t, 3, 3, 3, 3 + width - t.shape[1], cv2.BORDER_CONSTANT, value=(255, 255, 255)
        )
        for t in tiles
    ]
    return np.vstack(tiles)


def png_bytes(rgb: np.ndarray) -> bytes:
    """An RGB image as PNG bytes."""
    ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:  # pragma: no cover
        raise RuntimeError("could not encode the image")
    return png.tobytes()
