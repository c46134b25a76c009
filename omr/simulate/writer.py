"""Write a stack of scanned pages, one page at a time: a multi-page PDF or TIFF.

The PDF holds each page's JPEG bytes as they are (no re-encoding), on a page
of the sheet's paper size, so the embedded image's resolution is the scan's
dpi. A bilevel page arrives as a 1-bit PNG: the PDF embeds its compressed
rows as they are (Flate with the PNG predictor), the TIFF stores it as CCITT
group 4. Only the page being written is held in memory.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path
from types import TracebackType

from PIL import Image, TiffImagePlugin

POINTS_PER_MM = 72 / 25.4


def _num(x: float) -> bytes:
    return f"{x:.4f}".rstrip("0").rstrip(".").encode()


def png_rows(png: bytes) -> tuple[int, int, bytes]:
    """Width, height and zlib stream (rows with PNG filter bytes) of a 1-bit grey PNG."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, header = 8, [], None
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", data)
        elif kind == b"IDAT":
            idat.append(data)
    if header is None or header[2:5] != (1, 0, 0) or header[6] != 0:
        raise ValueError("need a non-interlaced 1-bit grey PNG")
    return header[0], header[1], b"".join(idat)


class _StackWriter:
    """Context-manager behaviour shared by the stack writers: keep on success, drop on error."""

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def abort(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class PdfStackWriter(_StackWriter):
    """A PDF of full-page JPEG images, written as pages arrive.

    Objects 1 and 2 are the catalogue and the page tree, written last; each
    page adds an image, a content stream and a page object.
    """

    suffix = ".pdf"

    def __init__(self, path: Path, page_mm: tuple[float, float]) -> None:
        self.path = Path(path)
        self._part = self.path.with_name(self.path.name + ".part")
        self._fp = self._part.open("wb")
        self._offsets: dict[int, int] = {}
        self._pages: list[int] = []
        self._next = 3
        self._size_pt = (page_mm[0] * POINTS_PER_MM, page_mm[1] * POINTS_PER_MM)
        self._fp.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")

    def _object(self, number: int, body: bytes, stream: bytes | None = None) -> None:
        self._offsets[number] = self._fp.tell()
        self._fp.write(b"%d 0 obj\n" % number + body)
        if stream is not None:
            self._fp.write(b"\nstream\n" + stream + b"\nendstream")
        self._fp.write(b"\nendobj\n")

    def add_page(
        self,
        jpeg: bytes,
        *,
        dpi: int,
        size_px: tuple[int, int],
        colour: bool,
        bilevel: bool = False,
    ) -> None:
        """Append one page showing ``jpeg`` (``size_px`` = width, height) over the whole page.

        With ``bilevel``, ``jpeg`` holds a 1-bit PNG instead.
        """
        del dpi  # the page size fixes the resolution
        image, content, page = self._next, self._next + 1, self._next + 2
        self._next += 3
        space = b"/DeviceRGB" if colour else b"/DeviceGray"
        if bilevel:
            width, height, rows = png_rows(jpeg)
            if (width, height) != tuple(size_px):
                raise ValueError(f"page image is {(width, height)}, expected {size_px}")
            self._object(
                image,
                b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                b"/BitsPerComponent 1 /Filter /FlateDecode /DecodeParms << /Predictor 15 "
                b"/Colors 1 /BitsPerComponent 1 /Columns %d >> /Length %d >>"
                % (width, height, width, len(rows)),
                rows,
            )
        else:
            self._object(
                image,
                b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s "
                b"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>"
                % (size_px[0], size_px[1], space, len(jpeg)),
                jpeg,
            )
        w, h = (_num(v) for v in self._size_pt)
        draw = b"q " + w + b" 0 0 " + h + b" 0 0 cm /Im0 Do Q"
        self._object(content, b"<< /Length %d >>" % len(draw), draw)
        self._object(
            page,
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 " + w + b" " + h + b"] "
            b"/Resources << /XObject << /Im0 %d 0 R >> /ProcSet [/PDF %s] >> "
            b"/Contents %d 0 R >>" % (image, b"/ImageC" if colour else b"/ImageB", content),
        )
        self._pages.append(page)

    def close(self) -> None:
        """Write the page tree, cross-reference table and trailer; move the file into place."""
        self._object(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        kids = b" ".join(b"%d 0 R" % p for p in self._pages)
        self._object(2, b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(self._pages)))
        xref = self._fp.tell()
        n = self._next
        self._fp.write(b"xref\n0 %d\n0000000000 65535 f \n" % n)
        for i in range(1, n):
            self._fp.write(b"%010d 00000 n \n" % self._offsets[i])
        self._fp.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (n, xref))
        self._fp.close()
        self._part.replace(self.path)

    def abort(self) -> None:
        """Drop the partial file."""
        self._fp.close()
        self._part.unlink(missing_ok=True)


class TiffStackWriter(_StackWriter):
    """A multi-page TIFF, each page decoded from its JPEG and stored losslessly with its dpi."""

    suffix = ".tif"

    def __init__(self, path: Path, page_mm: tuple[float, float], *, compression: str = "tiff_lzw"):
        del page_mm  # each page carries its own dpi
        self.path = Path(path)
        self._part = self.path.with_name(self.path.name + ".part")
        self.compression = compression
        self._fp = self._part.open("w+b")
        self._tiff = TiffImagePlugin.AppendingTiffWriter(self._fp, new=True)

    def add_page(
        self,
        jpeg: bytes,
        *,
        dpi: int,
        size_px: tuple[int, int],
        colour: bool,
        bilevel: bool = False,
    ) -> None:
        """Append one page: the pixels of ``jpeg``, tagged with ``dpi``.

        With ``bilevel``, ``jpeg`` holds a 1-bit PNG, stored as CCITT group 4.
        """
        del colour
        with Image.open(io.BytesIO(jpeg)) as im:
            if im.size != tuple(size_px):
                raise ValueError(f"page image is {im.size}, expected {size_px}")
            if bilevel:
                if im.mode != "1":
                    raise ValueError(f"a bilevel page must be 1-bit, got mode {im.mode}")
                im.save(self._tiff, format="TIFF", dpi=(dpi, dpi), compression="group4")
            else:
                im.save(self._tiff, format="TIFF", dpi=(dpi, dpi), compression=self.compression)
        self._tiff.newFrame()

    def close(self) -> None:
        """Finish the file and move it into place."""
        self._tiff.close()
        self._fp.close()
        self._part.replace(self.path)

    def abort(self) -> None:
        """Drop the partial file."""
        self._tiff.close()
        self._fp.close()
        self._part.unlink(missing_ok=True)


WRITERS = {"pdf": PdfStackWriter, "tiff": TiffStackWriter}


def open_stack(scans: Path, image_format: str, page_mm: tuple[float, float], name: str = "stack"):
    """A writer for ``scans/<name>.pdf`` or ``scans/<name>.tif`` (``image_format`` pdf or tiff)."""
    try:
        writer = WRITERS[image_format]
    except KeyError:
        raise ValueError(
            f"image_format must be one of {', '.join(WRITERS)}, got {image_format!r}"
        ) from None
    Path(scans).mkdir(parents=True, exist_ok=True)
    return writer(Path(scans) / f"{name}{writer.suffix}", page_mm)
