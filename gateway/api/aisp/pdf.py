"""A minimal PDF 1.4 writer for plain-text documents (a statement file): monospaced lines on A4
pages, the standard Courier font, no dependencies.

The file is a catalogue, a page tree, one font, then a page and a content stream per page, an
information dictionary and the cross-reference table with the byte offset of every object
(ISO 32000-1, 7.5). Text is encoded in WinAnsi (cp1252); characters outside it become ``?``.
"""

from __future__ import annotations

from collections.abc import Sequence

WIDTH, HEIGHT = 595, 842  # A4 in points
MARGIN = 40
FONT_SIZE = 9
LEADING = 11
LINES_PER_PAGE = (HEIGHT - 2 * MARGIN) // LEADING
# Courier glyphs are 0.6 em wide: the characters that fit between the margins.
COLUMNS = int((WIDTH - 2 * MARGIN) / (0.6 * FONT_SIZE))


def _literal(text: str) -> bytes:
    """A PDF literal string of ``text``: WinAnsi bytes with ``\\``, ``(`` and ``)`` escaped and
    control characters shown as spaces."""
    printable = "".join(ch if ch.isprintable() else " " for ch in text[:COLUMNS])
    raw = printable.encode("cp1252", errors="replace")
    escaped = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + escaped + b")"


def _content(lines: Sequence[str]) -> bytes:
    """The content stream of one page: the lines top to bottom."""
    top = HEIGHT - MARGIN - FONT_SIZE
    ops = [b"BT", b"/F1 %d Tf" % FONT_SIZE, b"%d TL" % LEADING, b"%d %d Td" % (MARGIN, top)]
    for line in lines:
        ops.append(_literal(line) + b" Tj T*")
    ops.append(b"ET")
    return b"\n".join(ops)


def text_pdf(lines: Sequence[str], *, title: str) -> bytes:
    """A PDF of ``lines`` (cut to the page width), as many A4 pages as they need."""
    pages = [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)] or [[]]
    count = len(pages)
    # Objects: 1 catalogue, 2 page tree, 3 font, then (page, contents) pairs, then the info.
    page_ids = [4 + 2 * n for n in range(count)]
    info_id = 4 + 2 * count
    kids = b" ".join(b"%d 0 R" % n for n in page_ids)
    objects: list[bytes] = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % count,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>",
    ]
    for page_id, page in zip(page_ids, pages, strict=True):
        stream = _content(page)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d] " % (WIDTH, HEIGHT)
            + b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (page_id + 1)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    objects.append(b"<< /Title " + _literal(title) + b" /Producer (Sandbox Bank) >>")

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info %d 0 R >>\n" % (len(objects) + 1, info_id)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)
