"""Find the pages of a scanned stack and load them one at a time.

A stack is any mix of multi-page PDF files, multi-page TIFF files, single
images and folders of those. Each page is addressed by a :class:`PageRef`
(file and page number), so worker processes load pages themselves and memory
stays flat however long the stack is.
"""

from __future__ import annotations

import atexit
import functools
import io
import logging
import mmap
import os
import re
import stat
import struct
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageOps, UnidentifiedImageError

from omr.errors import InputFileError
from omr.jpeg_damage import jpeg_damage

log = logging.getLogger(__name__)

PDF_SUFFIXES = {".pdf"}
TIFF_SUFFIXES = {".tif", ".tiff"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif"} | TIFF_SUFFIXES
RENDER_DPI = 200  # for PDF pages that are not one embedded scan image

# The guards on what a page may cost before it is decoded. A hostile file can claim
# 30,000 × 30,000 px in a few KB (a decompression bomb): its size is checked from the
# header, the page box or the image dictionary, never by decoding it.
MAX_PAGE_PIXELS = 100_000_000  # an A3 sheet at 600 dpi is 70 Mpx (70 MB grey, 210 MB colour)
MIN_PAGE_SIDE = 100  # px: an A5 sheet at 50 dpi is 290 × 410
IGNORED_FILES = {"thumbs.db", "desktop.ini"}  # what office machines leave in folders

Image.MAX_IMAGE_PIXELS = 200_000_000  # for other users of Pillow; pages.py checks its own


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
    ``one_bit``: the file stored the page in black and white (a group-4 TIFF).
    """

    ref: PageRef
    pixels: np.ndarray
    dpi: float | None
    jpeg_quality: int | None = None
    one_bit: bool = False  # stored with one bit a pixel: every pixel is 0 or 255

    @cached_property
    def gray(self) -> np.ndarray:
        """(H, W) uint8 luminance (converted once: the JPEG check and the reader share it)."""
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
    rest of the stack is still read. Folders are walked through links to other
    folders (each folder once); a broken or looping link, a pipe or device, an
    unreadable file and a file that is no scan are problems too: nothing in a
    folder is left out without a word (hidden files and ``Thumbs.db`` excepted).
    """
    refs: list[PageRef] = []
    problems: list[StackProblem] = []
    for item in inputs:
        if not item.exists():
            raise InputFileError(f"{item}: no such file or folder")
        base = root or (item if item.is_dir() else item.parent)
        if item.is_dir():
            found, odd = _walk(item, base)
            problems.extend(odd)
        else:
            found = [item]
        for path in found:
            name = _relative_name(path, base)
            if file_kind(path) is None:
                problems.append(StackProblem(name, _not_a_scan(path)))
                continue
            try:
                count = page_count(path)
            except PageLoadError as exc:
                problems.append(StackProblem(name, str(exc)))
                continue
            refs.extend(PageRef(path, i, name) for i in range(count))
    return refs, problems


def _relative_name(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.name


def _not_a_scan(path: Path) -> str:
    suffix = path.suffix.lower() or "no extension"
    return f"{path.name}: not a PDF, TIFF or image file ({suffix}); left out"


def _walk(folder: Path, base: Path) -> tuple[list[Path], list[StackProblem]]:
    """Every regular file under ``folder`` (through folder links, each folder once), sorted;
    and a problem for each entry that cannot be read as one."""
    files: list[Path] = []
    problems: list[StackProblem] = []
    seen: set[tuple[int, int]] = set()
    pending = [folder]
    while pending:
        here = pending.pop()
        try:
            info = here.stat()
        except OSError as exc:
            problems.append(StackProblem(_relative_name(here, base), _link_problem(here, exc)))
            continue
        if (info.st_dev, info.st_ino) in seen:
            problems.append(
                StackProblem(
                    _relative_name(here, base),
                    f"{here.name}: a link to a folder already read ({here.resolve()}); "
                    "its files are read once",
                )
            )
            continue
        seen.add((info.st_dev, info.st_ino))
        try:
            entries = sorted(here.iterdir())
        except OSError as exc:
            problems.append(
                StackProblem(_relative_name(here, base), f"{here.name}: cannot list: {exc}")
            )
            continue
        for entry in entries:
            if entry.name.startswith(".") or entry.name.lower() in IGNORED_FILES:
                continue
            problem = _entry_problem(entry)
            if problem == "folder":
                pending.append(entry)
            elif problem:
                problems.append(StackProblem(_relative_name(entry, base), problem))
            else:
                files.append(entry)
    files.sort(key=lambda p: p.relative_to(folder).parts)
    problems.sort(key=lambda p: p.name)
    return files, problems


def _entry_problem(entry: Path) -> str:
    """``""`` for a readable regular file, ``"folder"`` for a folder, else why it is left out."""
    try:
        mode = entry.stat().st_mode
    except OSError as exc:
        return _link_problem(entry, exc)
    if stat.S_ISDIR(mode):
        return "folder"
    if not stat.S_ISREG(mode):
        kind = "a pipe (FIFO)" if stat.S_ISFIFO(mode) else "a device or socket"
        return f"{entry.name}: {kind}, not a file; left out"
    if not os.access(entry, os.R_OK):
        return f"{entry.name}: cannot be read (permission denied); left out"
    return ""


def _link_problem(entry: Path, exc: OSError) -> str:
    if entry.is_symlink():
        target = entry.readlink()
        return f"{entry.name}: a link that is broken or loops ({target}: {exc.strerror}); left out"
    return f"{entry.name}: cannot be read ({exc.strerror}); left out"


_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF87a", "image"),
    (b"GIF89a", "image"),
    (b"BM", "image"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),
    (b"MM\x00+", "tiff"),
)


def file_kind(path: Path) -> str | None:
    """``"pdf"``, ``"tiff"``, ``"image"`` or None, told by the file's first bytes, or by its
    extension when they say nothing known (a broken file is then refused with a reason)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(1024)
    except OSError:
        head = b""
    if b"%PDF-" in head:
        return "pdf"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    suffix = path.suffix.lower()
    if suffix in PDF_SUFFIXES:
        return "pdf"
    if suffix in TIFF_SUFFIXES:
        return "tiff"
    return "image" if suffix in IMAGE_SUFFIXES else None


# PDFium's reasons for not opening a document, as a person can act on them.
_PDF_OPEN_ERRORS = {
    pdfium.raw.FPDF_ERR_PASSWORD: "an encrypted (password-protected) PDF: save it without "
    "a password (or export the scans again) and add it to the stack",
    pdfium.raw.FPDF_ERR_SECURITY: "a PDF protected by a security handler PDFium does not "
    "support: save it without protection",
    pdfium.raw.FPDF_ERR_FILE: "the file cannot be read",
}


def page_count(path: Path) -> int:
    """Number of pages in a PDF, frames in a TIFF, 1 for another image.

    Raises :class:`PageLoadError` for a file with no page, an encrypted PDF, an
    animated image, or one that cannot be opened.
    """
    kind = file_kind(path)
    try:
        if kind == "pdf":
            count = len(_open_pdf(str(path)))
        elif kind == "tiff":
            count = tiff_page_count(path)
        else:
            with _pillow_open(path) as img:
                count = getattr(img, "n_frames", 1)
                if count > 1 and img.format != "MPO":  # a camera's MPO: the photo, then previews
                    raise PageLoadError(
                        f"{path.name}: an animated image ({count} frames), not a scanned page; "
                        "scan the sheets to PDF or TIFF"
                    )
                count = 1
    except PageLoadError:
        raise
    except pdfium.PdfiumError as exc:
        why = _PDF_OPEN_ERRORS.get(getattr(exc, "err_code", None))
        why = why or f"not a PDF, or a damaged one ({exc})"
        raise PageLoadError(f"cannot open {path.name}: {why}") from exc
    except DECODE_ERRORS as exc:
        raise PageLoadError(f"cannot open {path.name}: {_describe(exc)}") from exc
    if count < 1:
        raise PageLoadError(f"{path.name}: the file has no pages")
    return count


def tiff_page_count(path: Path) -> int:
    """Pages of a TIFF, counted along its chain of page directories without decoding any.

    A damaged directory in the middle (no dimensions, an unknown pixel mode) is
    still a page, refused alone when it is loaded; a chain that loops or points
    outside the file ends there. BigTIFF is counted by Pillow.
    """
    with path.open("rb") as fh:
        head = fh.read(8)
        if head[:4] in (b"II+\x00", b"MM\x00+"):
            with _pillow_open(path) as img:
                return getattr(img, "n_frames", 1)
        order = "<" if head[:2] == b"II" else ">"
        size = path.stat().st_size
        (offset,) = struct.unpack(order + "I", head[4:8])
        seen: set[int] = set()
        while offset and offset not in seen and offset + 2 <= size:
            seen.add(offset)
            fh.seek(offset)
            (entries,) = struct.unpack(order + "H", fh.read(2))
            fh.seek(offset + 2 + 12 * entries)
            link = fh.read(4)
            if len(link) < 4:
                break
            (offset,) = struct.unpack(order + "I", link)
    if not seen:
        raise PageLoadError(f"cannot open {path.name}: a TIFF without a page directory")
    return len(seen)


@contextmanager
def _pillow_open(path: Path) -> Iterator[Image.Image]:
    """Open an image with Pillow's own size check off: :func:`check_page_size` checks each
    page (Pillow checks only the first, and refuses a whole file for one page). Pillow's
    warnings on damaged metadata (corrupt EXIF, a tag past the end) are not shown: the
    page is read if it decodes, refused with a reason if not."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        saved = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            img = Image.open(path)
        finally:
            Image.MAX_IMAGE_PIXELS = saved
        with img:
            yield img


def check_page_size(width: float, height: float, what: str) -> None:
    """Refuse a page of ``width`` × ``height`` px before it is decoded or rendered.

    Raises :class:`PageLoadError` when it would hold more than
    :data:`MAX_PAGE_PIXELS` (a decompression bomb, an absurd page box) or is
    smaller than :data:`MIN_PAGE_SIDE` on a side.
    """
    pixels = float(width) * float(height)
    if not pixels <= MAX_PAGE_PIXELS:  # also NaN
        raise PageLoadError(
            f"{what} is {width:,.0f} × {height:,.0f} px ({pixels / 1e6:,.0f} Mpx): oversized, "
            f"larger than any scanned sheet (at most {MAX_PAGE_PIXELS / 1e6:.0f} Mpx; an A3 "
            "sheet at 600 dpi is 70); refused without decoding it"
        )
    if min(width, height) < MIN_PAGE_SIDE:
        raise PageLoadError(
            f"{what} is {width:,.0f} × {height:,.0f} px: too small to be a scanned sheet "
            f"(at least {MIN_PAGE_SIDE} px a side)"
        )


# What decoders raise on hostile bytes: Pillow's plugins raise SyntaxError, TypeError,
# KeyError, IndexError, struct.error and ZeroDivisionError as well as OSError.
DECODE_ERRORS = (
    OSError,
    ValueError,
    EOFError,
    SyntaxError,
    TypeError,
    KeyError,
    IndexError,
    ZeroDivisionError,
    struct.error,
    MemoryError,
    Image.DecompressionBombError,
    UnidentifiedImageError,
    pdfium.PdfiumError,
    cv2.error,
)


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, (OSError, ValueError)) else f"{type(exc).__name__}: {text}"


# PDFium keeps every stream it has decoded (a scan's JPEG) until its document is
# closed: a document kept open for a whole stack grew a worker by ~1.1 MB a page
# (measured on 4,000 colour sheets). It is reopened after this many pages.
PAGES_PER_OPENING = 32
_OPEN_PDF: dict[tuple, list] = {}


def _open_pdf(path: str) -> pdfium.PdfDocument:
    """The document at ``path``, kept open for a few pages (one document at a time).

    Keyed by the file's size and time too: a long-lived worker (a Dask
    cluster's) that read a stack keeps no page of it once the file is scanned
    again at the same path.
    """
    try:
        st = Path(path).stat()
        key = (path, st.st_size, st.st_mtime_ns)
    except OSError:
        key = (path, None, None)  # PDFium says what is wrong with it
    entry = _OPEN_PDF.get(key)
    if entry is None or entry[1] >= PAGES_PER_OPENING:
        for doc, _ in _OPEN_PDF.values():
            doc.close()
        _OPEN_PDF.clear()
        entry = _OPEN_PDF[key] = [pdfium.PdfDocument(path), 0]
    entry[1] += 1
    return entry[0]


_USER_UNIT = re.compile(rb"/UserUnit\s*([0-9]*\.?[0-9]+)")


def _pdf_unit(path: str) -> float:
    """:func:`user_unit` of the file at ``path`` as it is now (searched once per version)."""
    try:
        st = Path(path).stat()
    except OSError:
        return 1.0
    return _user_unit_of(path, st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _user_unit_of(path: str, size: int, mtime_ns: int) -> float:
    return user_unit(path)


def user_unit(path: str) -> float:
    """The largest ``/UserUnit`` a PDF's page dictionaries give (1 when none does).

    A page's size is its box times its UserUnit (PDF 1.6): ``/UserUnit 75`` on an
    A4 box is a page 15 m wide. PDFium ignores it and has no call that tells
    it, so the file's bytes are searched (a memory map; ~0.1 s a GB); a page
    dictionary compressed in an object stream is not seen (PDFium then renders
    its box, as ever).
    """
    try:
        with Path(path).open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as m:
            if m.find(b"/UserUnit") < 0:
                return 1.0
            units = [float(u) for u in _USER_UNIT.findall(m)]
    except (OSError, ValueError):  # missing, empty: PDFium says what is wrong with it
        return 1.0
    return max(units, default=1.0)


def load_page(ref: PageRef) -> PageImage:
    """Decode one page; raise :class:`PageLoadError` if it cannot be read or is refused
    (see :func:`check_page_size`)."""
    try:
        if file_kind(ref.path) == "pdf":
            return _load_pdf_page(ref)
        return _load_image_page(ref)
    except PageLoadError:
        raise
    except DECODE_ERRORS as exc:
        raise PageLoadError(
            f"cannot decode page {ref.index + 1} of {ref.name}: {_describe(exc)}"
        ) from exc


def _load_pdf_page(ref: PageRef) -> PageImage:
    page = _open_pdf(str(ref.path))[ref.index]
    what = f"page {ref.index + 1} of {ref.name}"
    unit = _pdf_unit(str(ref.path))
    if unit != 1.0:
        check_pdf_box(page, what, unit)
    scan = _single_scan_image(page)
    if scan is not None:
        check_page_size(*scan.get_px_size(), f"the scan on {what}")
        pixels = _bitmap_pixels(scan.get_bitmap(render=False))
        image = PageImage(ref, pixels, _page_dpi(page, pixels), _embedded_jpeg_quality(scan))
        if "DCTDecode" in scan.get_filters():  # a JPEG scan, its blocks as stored
            _check_jpeg_pixels(image.gray, f"the scan on {what}")
        return image
    check_pdf_page(page, what)
    bitmap = page.render(scale=RENDER_DPI / 72.0, grayscale=True)
    return PageImage(ref, _bitmap_pixels(bitmap), float(RENDER_DPI))


def check_pdf_page(page: pdfium.PdfPage, what: str) -> None:
    """Refuse a PDF page to be rendered whose box at :data:`RENDER_DPI`, or any image on
    it, is oversized (:func:`check_page_size`); PDFium ignores ``/UserUnit``, so the box in
    points is what it renders."""
    check_pdf_box(page, what)
    for image in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE]):
        w, h = image.get_px_size()
        if float(w) * float(h) > MAX_PAGE_PIXELS:
            check_page_size(w, h, f"an image on {what}")


def check_pdf_box(page: pdfium.PdfPage, what: str, unit: float = 1.0) -> None:
    """Refuse a PDF page whose size (its box times ``unit``, its ``/UserUnit``) at
    :data:`RENDER_DPI` is oversized (:func:`check_page_size`)."""
    width, height = (side * unit for side in page.get_size())
    mm = f"{width / 72 * 25.4:,.0f} × {height / 72 * 25.4:,.0f} mm"
    if unit != 1.0:
        mm += f", its box times /UserUnit {unit:g}"
    check_page_size(width / 72 * RENDER_DPI, height / 72 * RENDER_DPI, f"{what} ({mm})")


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
    opened = _tiff_page if file_kind(ref.path) == "tiff" else _pillow_open
    with opened(ref.path) as img:
        if ref.index and img.tell() != ref.index:
            img.seek(ref.index)
        check_page_size(*img.size, f"page {ref.index + 1} of {ref.name}")
        dpi = img.info.get("dpi")
        quality = jpeg_quality(img) if img.format == "JPEG" else None
        pixels = _jpeg_pixels(ref.path, img) if img.format == "JPEG" else None
        if pixels is None:
            upright = ImageOps.exif_transpose(img)  # phone photos carry their rotation in EXIF
            pixels = _as_gray_or_rgb(upright)
        turned = img.getexif().get(0x0112, 1) in (5, 6, 7, 8) if img.format == "JPEG" else None
        one_bit = img.mode == "1"
    resolution = float(dpi[0]) if dpi and dpi[0] and float(dpi[0]) > 10 else None
    page = PageImage(ref, pixels, resolution, quality, one_bit)
    if turned is not None:
        _check_jpeg_pixels(page.gray, f"page {ref.index + 1} of {ref.name}", turned=turned)
    return page


# A multi-page TIFF stays open between its pages in a worker: reopened, page i
# walked i page directories again (27 ms at page 1, 549 ms at page 4,000 of a
# group-4 file). Keyed by the file's size and time, so a file scanned again is
# opened again.
_OPEN_TIFF: dict[tuple, tuple] = {}


@contextmanager
def _tiff_page(path: Path) -> Iterator[Image.Image]:
    """The TIFF at ``path`` opened once for the pages read from it in order (one at a time)."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    entry = _OPEN_TIFF.get(key)
    if entry is None:
        _close_tiffs()
        stack = ExitStack()
        entry = _OPEN_TIFF[key] = (stack.enter_context(_pillow_open(path)), stack)
    try:
        yield entry[0]
    except BaseException:
        _close_tiffs()  # a damaged page may leave the file half-read: open it afresh
        raise


def _close_tiffs() -> None:
    for _, stack in _OPEN_TIFF.values():
        stack.close()
    _OPEN_TIFF.clear()


atexit.register(_close_tiffs)  # before the interpreter takes Pillow apart


# EXIF orientation -> the numpy view of Pillow's ImageOps.exif_transpose (lossless).
_ORIENT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
    8: lambda a: np.rot90(a, 1),
}


def _jpeg_pixels(path: Path, img: Image.Image) -> np.ndarray | None:
    """A plain grey or colour JPEG's pixels decoded by OpenCV, upright; None to leave it to Pillow.

    The same libjpeg-turbo decode as Pillow's, the same pixels (checked on 260
    scanned and photographed pages, grey and colour), at half the CPU. Left to
    Pillow: other modes (CMYK), and files that do not end where a JPEG ends
    (truncated: Pillow refuses them, OpenCV would fill the rest with grey).
    """
    if img.mode not in ("L", "RGB"):
        return None
    data = np.fromfile(path, dtype=np.uint8)
    if data.size < 4 or data[-2] != 0xFF or data[-1] != 0xD9:
        return None
    pixels = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    channels = 1 if img.mode == "L" else 3
    if pixels is None or pixels.shape[:2] != img.size[::-1]:
        return None
    if (pixels.ndim == 2) != (channels == 1) or (pixels.ndim == 3 and pixels.shape[2] != 3):
        return None
    if channels == 3:
        pixels = cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB)
    turn = _ORIENT.get(img.getexif().get(0x0112, 1))
    return np.ascontiguousarray(turn(pixels)) if turn else pixels


def _check_jpeg_pixels(gray: np.ndarray, what: str, *, turned: bool = False) -> None:
    """Refuse a JPEG whose coded data is damaged where no decoder warns (omr/jpeg_damage.py)."""
    why = jpeg_damage(gray, turned=turned)
    if why:
        raise PageLoadError(f"{what}: {why}")


def _as_gray_or_rgb(img: Image.Image) -> np.ndarray:
    """uint8 (H, W) for grey and bilevel images, (H, W, 3) RGB for colour.

    16- and 32-bit grey is scaled to 8 bits (Pillow's own conversion clips at
    255, which made a 16-bit scan a white page).
    """
    if img.mode.startswith("I;16"):
        return _deep_grey(np.asarray(img), 65535.0)
    if img.mode in {"I", "F"}:
        return _deep_grey(np.asarray(img), None)
    if img.mode in {"1", "L", "LA", "P"} and _is_grey_palette(img):
        return np.asarray(img.convert("L"))
    return np.asarray(img.convert("RGB"))


def _deep_grey(values: np.ndarray, full: float | None) -> np.ndarray:
    """8-bit grey from deeper grey whose white is ``full`` (None: told by the values,
    0-1 for floats, 0-255, 0-65535 or their maximum)."""
    values = np.nan_to_num(values.astype(np.float64))
    if full is None:
        top = float(values.max()) if values.size else 0.0
        full = next((f for f in (1.0, 255.0, 65535.0) if top <= f), top)
    return np.clip(values * (255.0 / full) + 0.5, 0, 255).astype(np.uint8)


def _is_grey_palette(img: Image.Image) -> bool:
    if img.mode != "P":
        return True
    palette = np.asarray(img.convert("RGB"))
    return bool(
        np.all(palette[..., 0] == palette[..., 1]) and np.all(palette[..., 1] == palette[..., 2])
    )
