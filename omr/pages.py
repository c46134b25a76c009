"""Find the pages of a scanned stack and load them one at a time.

A stack is any mix of multi-page PDF files, multi-page TIFF files, single
images and folders of those. Each page is addressed by a :class:`PageRef`
(file and page number), so worker processes load pages themselves and memory
stays flat however long the stack is.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageOps, UnidentifiedImageError

from omr.errors import InputFileError

log = logging.getLogger(__name__)

PDF_SUFFIXES = {".pdf"}
TIFF_SUFFIXES = {".tif", ".tiff"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif"} | TIFF_SUFFIXES
RENDER_DPI = 200  # for PDF pages that are not one embedded scan image

Image.MAX_IMAGE_PIXELS = 200_000_000  # a 600-dpi A3 scan is ~70 Mpx; refuse absurd sizes


@dataclass(frozen=True)
class PageRef:
    """One page of one file of the stack; ``index`` counts from 0."""

    path: Path
    index: int
    name: str  # the file's path relative to the stack folder, used in sheet ids

    @property
    def sheet_id(self) -> str:
        """Stable identifier: ``stack.pdf:12`` (file name and 1-based page number)."""
        return f"{self.name}:{self.index + 1}"


# IJG (libjpeg) standard luminance quantisation table, zig-zag order as Pillow gives it.
_IJG_LUMA = np.array(
    [16, 11, 12, 14, 12, 10, 16, 14, 13, 14, 18, 17, 16, 19, 24, 40, 26, 24, 22, 22, 24, 49,
     35, 37, 29, 40, 58, 51, 61, 60, 57, 51, 56, 55, 64, 72, 92, 78, 64, 68, 87, 69, 55, 56,
     80, 109, 81, 87, 95, 98, 103, 104, 103, 62, 77, 113, 121, 112, 100, 120, 92, 101, 103, 99],
    dtype=float,
)  # fmt: skip


def jpeg_quality(img: Image.Image) -> int | None:
    """The IJG quality (1–100) a JPEG was saved at, estimated from its luminance table."""
    tables = getattr(img, "quantization", None)
    if not tables or 0 not in tables:
        return None
    scale = 100.0 * float(np.mean(np.asarray(tables[0], dtype=float))) / float(_IJG_LUMA.mean())
    quality = (200.0 - scale) / 2.0 if scale <= 100 else 5000.0 / scale
    return int(round(min(max(quality, 1.0), 100.0)))


@dataclass(frozen=True, eq=False)
class PageImage:
    """A loaded page: ``pixels`` is (H, W) grey or (H, W, 3) RGB, uint8.

    ``jpeg_quality`` is the estimated quality of a JPEG-compressed page (None
    for lossless pages): heavy compression invents colour around dark marks.
    """

    ref: PageRef
    pixels: np.ndarray
    dpi: float | None
    jpeg_quality: int | None = None

    @property
    def gray(self) -> np.ndarray:
        """(H, W) uint8 luminance."""
        if self.pixels.ndim == 2:
            return self.pixels
        return cv2.cvtColor(self.pixels, cv2.COLOR_RGB2GRAY)


class PageLoadError(Exception):
    """A page that cannot be decoded; the pipeline turns it into a sheet status."""


@dataclass(frozen=True)
class StackProblem:
    """A file of the stack that could not be opened at all."""

    name: str
    message: str


def find_pages(
    inputs: list[Path], root: Path | None = None
) -> tuple[list[PageRef], list[StackProblem]]:
    """List every page of ``inputs`` (files or folders), in a stable order.

    Files that cannot be opened are returned as problems, not raised, so the
    rest of the stack is still read.
    """
    refs: list[PageRef] = []
    problems: list[StackProblem] = []
    for item in inputs:
        if not item.exists():
            raise InputFileError(f"{item}: no such file or folder")
        base = root or (item if item.is_dir() else item.parent)
        files = sorted(p for p in item.rglob("*") if p.is_file()) if item.is_dir() else [item]
        for path in files:
            suffix = path.suffix.lower()
            if suffix not in PDF_SUFFIXES | IMAGE_SUFFIXES:
                if item.is_file():
                    problems.append(
                        StackProblem(path.name, f"not a PDF, TIFF or image file ({suffix})")
                    )
                continue
            name = path.relative_to(base).as_posix()
            try:
                count = page_count(path)
            except PageLoadError as exc:
                problems.append(StackProblem(name, str(exc)))
                continue
            refs.extend(PageRef(path, i, name) for i in range(count))
    return refs, problems


def page_count(path: Path) -> int:
    """Number of pages in a PDF, frames in a TIFF, 1 for another image."""
    suffix = path.suffix.lower()
    try:
        if suffix in PDF_SUFFIXES:
            return len(_open_pdf(str(path)))
        with Image.open(path) as img:
            return getattr(img, "n_frames", 1)
    except (pdfium.PdfiumError, UnidentifiedImageError, OSError, ValueError) as exc:
        raise PageLoadError(f"cannot open {path.name}: {exc}") from exc


# PDFium keeps every stream it has decoded (a scan's JPEG) until its document is
# closed: a document kept open for a whole stack grew a worker by ~1.1 MB a page
# (measured on 4,000 colour sheets). It is reopened after this many pages.
PAGES_PER_OPENING = 32
_OPEN_PDF: dict[str, list] = {}


def _open_pdf(path: str) -> pdfium.PdfDocument:
    """The document at ``path``, kept open for a few pages (one document at a time)."""
    entry = _OPEN_PDF.get(path)
    if entry is None or entry[1] >= PAGES_PER_OPENING:
        for doc, _ in _OPEN_PDF.values():
            doc.close()
        _OPEN_PDF.clear()
        entry = _OPEN_PDF[path] = [pdfium.PdfDocument(path), 0]
    entry[1] += 1
    return entry[0]


def load_page(ref: PageRef) -> PageImage:
    """Decode one page; raise :class:`PageLoadError` if it cannot be read."""
    suffix = ref.path.suffix.lower()
    try:
        if suffix in PDF_SUFFIXES:
            return _load_pdf_page(ref)
        return _load_image_page(ref)
    except PageLoadError:
        raise
    except (pdfium.PdfiumError, UnidentifiedImageError, OSError, ValueError, EOFError) as exc:
        raise PageLoadError(f"cannot decode page {ref.index + 1} of {ref.name}: {exc}") from exc


def _load_pdf_page(ref: PageRef) -> PageImage:
    page = _open_pdf(str(ref.path))[ref.index]
    scan = _single_scan_image(page)
    if scan is not None:
        pixels = _bitmap_pixels(scan.get_bitmap(render=False))
        return PageImage(ref, pixels, _page_dpi(page, pixels), _embedded_jpeg_quality(scan))
    bitmap = page.render(scale=RENDER_DPI / 72.0, grayscale=True)
    return PageImage(ref, _bitmap_pixels(bitmap), float(RENDER_DPI))


def _bitmap_pixels(bitmap: pdfium.PdfBitmap) -> np.ndarray:
    """uint8 (H, W) grey or (H, W, 3) RGB pixels of a PDFium bitmap, copied once.

    PDFium hands grey images over as ``L`` and colour as ``BGR`` (or ``BGRA``
    / ``BGRX``); going through Pillow cost three copies of every page.
    """
    view = bitmap.to_numpy()
    if view.ndim == 2:
        return np.array(view)  # the page owns its pixels: the bitmap's buffer goes with it
    code = cv2.COLOR_BGR2RGB if view.shape[2] == 3 else cv2.COLOR_BGRA2RGB
    return cv2.cvtColor(view, code)


def _single_scan_image(page: pdfium.PdfPage) -> pdfium.PdfImage | None:
    """The embedded image, if the page is exactly one image covering it (a scan)."""
    objects = list(page.get_objects(max_depth=1))
    if len(objects) != 1 or objects[0].type != pdfium.raw.FPDF_PAGEOBJ_IMAGE:
        return None
    left, bottom, right, top = objects[0].get_bounds()
    width, height = page.get_size()
    covers = (right - left) >= 0.9 * width and (top - bottom) >= 0.9 * height
    return objects[0] if covers else None


def _embedded_jpeg_quality(image: pdfium.PdfImage) -> int | None:
    if "DCTDecode" not in image.get_filters():
        return None
    try:
        with Image.open(io.BytesIO(bytes(image.get_data(decode_simple=False)))) as img:
            return jpeg_quality(img)
    except (OSError, ValueError, UnidentifiedImageError):
        return None


def _page_dpi(page: pdfium.PdfPage, pixels: np.ndarray) -> float:
    width, height = page.get_size()
    long_px = max(pixels.shape[:2])
    return long_px / (max(width, height) / 72.0)


def _load_image_page(ref: PageRef) -> PageImage:
    with Image.open(ref.path) as img:
        if ref.index:
            img.seek(ref.index)
        dpi = img.info.get("dpi")
        quality = jpeg_quality(img) if img.format == "JPEG" else None
        upright = ImageOps.exif_transpose(img)  # phone photos carry their rotation in EXIF
        pixels = _as_gray_or_rgb(upright)
    resolution = float(dpi[0]) if dpi and dpi[0] and float(dpi[0]) > 10 else None
    return PageImage(ref, pixels, resolution, quality)


def _as_gray_or_rgb(img: Image.Image) -> np.ndarray:
    """uint8 (H, W) for grey and bilevel images, (H, W, 3) RGB for colour."""
    if img.mode in {"1", "L", "I;16", "I", "F", "LA", "P"} and _is_grey_palette(img):
        return np.asarray(img.convert("L"))
    return np.asarray(img.convert("RGB"))


def _is_grey_palette(img: Image.Image) -> bool:
    if img.mode != "P":
        return True
    palette = np.asarray(img.convert("RGB"))
    return bool(
        np.all(palette[..., 0] == palette[..., 1]) and np.all(palette[..., 1] == palette[..., 2])
    )
