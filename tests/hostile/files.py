"""Byte-level makers of hostile files: PNG, TIFF and PDF written by hand, so a file can
claim what no well-behaved writer would (30,000 px sides, a page directory without its
dimensions, a page box of 5 m), while staying a few kilobytes on disk."""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass, field

import numpy as np
from PIL import Image


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def deflate_rows(row: bytes, rows: int) -> bytes:
    """zlib stream of ``rows`` copies of ``row``, compressed as it goes (never held whole)."""
    comp = zlib.compressobj(9)
    block = row * max(1, (1 << 20) // len(row))
    per_block = len(block) // len(row)
    out = []
    left = rows
    while left > 0:
        take = min(left, per_block)
        out.append(comp.compress(block[: take * len(row)]))
        left -= take
    out.append(comp.flush())
    return b"".join(out)


def png_bomb(width: int, height: int) -> bytes:
    """A white 1-bit grey PNG of ``width`` × ``height``: a few hundred KB, gigabytes decoded."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    row = b"\x00" + b"\xff" * ((width + 7) // 8)  # filter byte, then white pixels
    idat = deflate_rows(row, height)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )


def png_with_broken_chunk(image: Image.Image) -> bytes:
    """``image`` as PNG with one byte of its image data flipped (the chunk's CRC then fails)."""
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    data = bytearray(buf.getvalue())
    at = data.index(b"IDAT") + 40
    data[at] ^= 0xFF
    return bytes(data)


@dataclass
class TiffPage:
    """One page directory of a hand-written TIFF: grey, one strip.

    ``data`` is the strip as stored (``compression`` 1 none, 8 Deflate); ``white_is_zero``
    sets the photometric interpretation; ``drop`` lists tags left out (a damaged directory).
    """

    width: int
    height: int
    data: bytes
    bits: int = 8
    compression: int = 1
    white_is_zero: bool = False
    dpi: int = 150
    drop: set[int] = field(default_factory=set)


def tiff_page(pixels: np.ndarray, dpi: int = 150) -> TiffPage:
    """An uncompressed grey page (uint8 or uint16 pixels) of a hand-written TIFF."""
    bits = 16 if pixels.dtype == np.uint16 else 8
    data = pixels.astype("<u2" if bits == 16 else np.uint8).tobytes()
    return TiffPage(pixels.shape[1], pixels.shape[0], data, bits=bits, dpi=dpi)


def tiff_bomb_page(width: int, height: int) -> TiffPage:
    """A white 1-bit Deflate page: kilobytes stored, ``width`` × ``height`` bytes decoded."""
    data = deflate_rows(b"\x00" * ((width + 7) // 8), height)
    return TiffPage(width, height, data, bits=1, compression=8, white_is_zero=True)


def tiff(pages: list[TiffPage]) -> bytes:
    """A little-endian multi-page TIFF of ``pages``."""
    out = bytearray(b"II*\x00\x00\x00\x00\x00")
    link_at = 4  # where the offset of the next directory goes
    for page in pages:
        strip_at = len(out)
        out += page.data
        if len(out) % 2:
            out += b"\x00"
        res_at = len(out)
        out += struct.pack("<IIII", page.dpi, 1, page.dpi, 1)
        entries = [
            (256, 4, page.width),
            (257, 4, page.height),
            (258, 3, page.bits),
            (259, 3, page.compression),
            (262, 3, 0 if page.white_is_zero else 1),
            (273, 4, strip_at),
            (277, 3, 1),
            (278, 4, page.height),
            (279, 4, len(page.data)),
            (282, 5, res_at),
            (283, 5, res_at + 8),
            (296, 3, 2),
        ]
        entries = [e for e in entries if e[0] not in page.drop]
        ifd_at = len(out)
        struct.pack_into("<I", out, link_at, ifd_at)
        out += struct.pack("<H", len(entries))
        for tag, kind, value in entries:
            packed = struct.pack("<HH", value, 0) if kind == 3 else struct.pack("<I", value)
            out += struct.pack("<HHI", tag, kind, 1) + packed
        link_at = len(out)
        out += b"\x00\x00\x00\x00"
    return bytes(out)


@dataclass
class PdfPage:
    """One page of a hand-written PDF: a media box in points, a content stream, images.

    ``images`` maps a resource name to ``(width, height, bits, flate data)`` of a
    DeviceGray image; ``extra`` is written into the page dictionary (``/UserUnit 75``).
    """

    box: tuple[float, float]
    content: bytes = b"0 0 m 100 100 l S"
    images: dict[str, tuple[int, int, int, bytes]] = field(default_factory=dict)
    extra: str = ""
    image_filter: str = "FlateDecode"  # DCTDecode: the image data is a JPEG file


def pdf(pages: list[PdfPage], *, count: int | None = None) -> bytes:
    """A PDF of ``pages``; ``count`` overrides the page tree's /Count (a lying tree)."""
    objects: list[bytes] = [b"", b""]  # catalog and page tree, filled in at the end

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    kids = []
    for page in pages:
        names = []
        for name, (w, h, bits, data) in page.images.items():
            ref = add(
                b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray"
                b" /BitsPerComponent %d /Filter /%s /Length %d >>\nstream\n"
                % (w, h, bits, page.image_filter.encode(), len(data))
                + data
                + b"\nendstream"
            )
            names.append(f"/{name} {ref} 0 R")
        stream = add(
            b"<< /Length %d >>\nstream\n" % len(page.content) + page.content + b"\nendstream"
        )
        resources = f"<< /XObject << {' '.join(names)} >> >>" if names else "<< >>"
        kids.append(
            add(
                (
                    f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {page.box[0]} {page.box[1]}]"
                    f" /Contents {stream} 0 R /Resources {resources} {page.extra} >>"
                ).encode()
            )
        )
    objects[0] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[1] = (
        f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}]"
        f" /Count {len(kids) if count is None else count} >>"
    ).encode()
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def pdf_image_bomb(width: int, height: int) -> bytes:
    """An A4 page that is one white 1-bit image of ``width`` × ``height`` (a 'scan')."""
    data = deflate_rows(b"\xff" * ((width + 7) // 8), height)
    content = b"q 595 0 0 842 0 0 cm /Im0 Do Q"
    return pdf([PdfPage((595, 842), content, {"Im0": (width, height, 1, data)})])


def encrypted_pdf(password: str = "gizli") -> bytes:
    """A one-page PDF that opens only with ``password`` (RC4 encryption by reportlab)."""
    from reportlab.lib import pdfencrypt
    from reportlab.lib.pagesizes import A5
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    enc = pdfencrypt.StandardEncryption(password, ownerPassword=password + "-owner")
    sheet = canvas.Canvas(buf, pagesize=A5, encrypt=enc)
    sheet.drawString(72, 500, "sifreli sayfa / encrypted page")
    sheet.showPage()
    sheet.save()
    return buf.getvalue()


def sheet_grey(value: int = 200, size: tuple[int, int] = (300, 420)) -> np.ndarray:
    """A small grey page of ``size`` (width, height) with one black square: no sheet, but a
    page any loader must deliver as it is."""
    page = np.full(size[::-1], value, np.uint8)
    page[20:60, 20:60] = 0
    return page
