"""Reading uploaded files as rows of cells: CSV (UTF-8, UTF-8 BOM, GBK/GB18030), XLSX and XLS.

Hostile files are refused with a message that says why: too large, not a spreadsheet, corrupt or
truncated, a zip bomb, an encoding we cannot read, a field or row beyond the limits.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from orderhub.core.errors import ValidationFailed
from orderhub.ingest.conf import ingest_setting

Cell = str | int | float | datetime | bool | None


class FileRefused(ValidationFailed):
    """The file as a whole cannot be read; nothing from it is imported."""

    code = "file_refused"


@dataclass
class Row:
    row_no: int  # 1-based, as a spreadsheet shows it
    cells: list[Cell]
    width: int  # number of cells before trailing empties were dropped and the width was capped


@dataclass
class FileInfo:
    format: str  # csv | xlsx | xls
    encoding: str = ""
    sheet: str = ""
    delimiter: str = ","
    notes: list[str] = field(default_factory=list)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.0f} MB"


def check_size(size: int) -> None:
    limit = ingest_setting("MAX_UPLOAD_BYTES")
    if size > limit:
        raise FileRefused(
            _("文件大小 %(size)s 超过上限 %(limit)s（可在设置 ORDERHUB_INGEST['MAX_UPLOAD_BYTES'] 中调整）")
            % {"size": _mb(size), "limit": _mb(limit)},
            field="file",
        )
    if size == 0:
        raise FileRefused(_("文件是空的"), field="file")


def sniff_format(head: bytes, filename: str = "") -> str:
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    if head.startswith(b"PK"):
        raise FileRefused(_("文件已损坏：不是完整的 XLSX（ZIP）文件"), field="file")
    lowered = head[:512].lstrip().lower()
    if lowered.startswith((b"<html", b"<!doctype", b"<table", b"<?xml")):
        raise FileRefused(
            _("这是网页/XML 格式的“表格”，请在 Excel 中另存为 .xlsx 或 .csv 后再导入"), field="file"
        )
    if filename.lower().endswith((".xlsx", ".xlsm", ".xls")):
        raise FileRefused(_("文件扩展名是 Excel，但内容不是 Excel 文件（可能已损坏或被截断）"), field="file")
    return "csv"


def detect_encoding(sample: bytes) -> str:
    """UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK and GB2312)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        raise FileRefused(_("文件含有二进制内容，不是文本 CSV：请确认文件格式"), field="file")
    for encoding in ("utf-8", "gb18030"):
        try:
            # The sample may end inside a multi-byte character: decode incrementally, not final.
            codecs.getincrementaldecoder(encoding)("strict").decode(sample, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is not None and best.encoding:
        return best.encoding
    raise FileRefused(_("无法识别文件编码：请另存为 UTF-8 或 GBK 编码的 CSV"), field="file")


def _trim(cells: list[Cell], row_no: int, limit: int | None = None) -> Row:
    """The row without its empty trailing cells, and at most MAX_COLUMNS + 1 of them (`limit`:
    that setting, when the caller has read it once for all rows)."""
    width = len(cells)
    while width and (cells[width - 1] is None or cells[width - 1] == ""):
        width -= 1
    if limit is None:
        limit = ingest_setting("MAX_COLUMNS")
    return Row(row_no=row_no, cells=list(cells[: min(width, limit + 1)]), width=width)


# --- CSV --------------------------------------------------------------------------------------


def _csv_rows(path: Path, info: FileInfo) -> Iterator[Row]:
    max_cell = ingest_setting("MAX_CELL_CHARS")
    csv.field_size_limit(max_cell * 4)
    raw = path.open("rb")
    text = io.TextIOWrapper(raw, encoding=info.encoding, errors="strict", newline="")
    reader = csv.reader(text, delimiter=info.delimiter)
    row_no = 0
    max_columns = ingest_setting("MAX_COLUMNS")
    try:
        for cells in reader:
            row_no += 1
            yield _trim(cells, row_no, max_columns)  # type: ignore[arg-type]
    except UnicodeDecodeError:
        raise FileRefused(
            _("第 %(row)s 行附近的内容无法按 %(enc)s 解码：文件编码混杂或文件已损坏")
            % {"row": row_no + 1, "enc": info.encoding},
            field="file",
        ) from None
    except csv.Error as exc:
        raise FileRefused(
            _("第 %(row)s 行无法解析：%(err)s") % {"row": row_no + 1, "err": exc}, field="file"
        ) from None
    finally:
        text.close()


def _sniff_delimiter(sample: str) -> str:
    first_lines = "\n".join(sample.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(first_lines, delimiters=",\t;|").delimiter
    except csv.Error:
        return "\t" if first_lines.count("\t") > first_lines.count(",") else ","


# --- XLSX -------------------------------------------------------------------------------------


def _check_zip(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, EOFError):
        raise FileRefused(_("XLSX 文件已损坏或不完整（可能下载/上传被截断）"), field="file") from None
    total = sum(i.file_size for i in infos)
    if total > ingest_setting("MAX_UNZIPPED_BYTES"):
        raise FileRefused(
            _("XLSX 解压后达 %(size)s，超过上限：疑似压缩炸弹，已拒绝") % {"size": _mb(total)}, field="file"
        )
    ratio = ingest_setting("MAX_ZIP_RATIO")
    for i in infos:
        if i.file_size > 10 * 1024 * 1024 and i.file_size > ratio * max(i.compress_size, 1):
            raise FileRefused(
                _("XLSX 中的 %(name)s 压缩比异常（%(r)s 倍）：疑似压缩炸弹，已拒绝")
                % {"name": i.filename, "r": i.file_size // max(i.compress_size, 1)},
                field="file",
            )
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/worksheets/") for n in names):
        raise FileRefused(_("ZIP 文件中没有 Excel 工作表：不是 XLSX 文件"), field="file")


def _xlsx_rows(path: Path, info: FileInfo, sheet: str | None) -> Iterator[Row]:
    import openpyxl

    _check_zip(path)
    # A file object, not the path: openpyxl would refuse an .xlsx that a platform named ".xls".
    fh = path.open("rb")
    try:
        wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for malformed parts
        fh.close()
        raise FileRefused(
            _("XLSX 文件无法打开：%(err)s") % {"err": type(exc).__name__}, field="file"
        ) from None
    try:
        if sheet and sheet not in wb.sheetnames:
            raise FileRefused(_("工作簿中没有名为「%(s)s」的工作表") % {"s": sheet}, field="sheet")
        ws = wb[sheet] if sheet else wb.worksheets[0]
        info.sheet = ws.title
        ws.reset_dimensions()  # trust the rows in the file, not its (possibly wrong) dimension tag
        row_no = 0
        max_columns = ingest_setting("MAX_COLUMNS")
        try:
            for values in ws.iter_rows(values_only=True):
                row_no += 1
                yield _trim(list(values), row_no, max_columns)
        except FileRefused:
            raise
        except Exception as exc:
            raise FileRefused(
                _("第 %(row)s 行之后的内容已损坏（%(err)s）：文件可能被截断")
                % {"row": row_no, "err": type(exc).__name__},
                field="file",
            ) from None
    finally:
        wb.close()
        fh.close()


# --- XLS --------------------------------------------------------------------------------------


def _xls_rows(path: Path, info: FileInfo, sheet: str | None) -> Iterator[Row]:
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), on_demand=True)
    except Exception as exc:
        raise FileRefused(_("XLS 文件无法打开：%(err)s") % {"err": exc}, field="file") from None
    try:
        if sheet and sheet not in book.sheet_names():
            raise FileRefused(_("工作簿中没有名为「%(s)s」的工作表") % {"s": sheet}, field="sheet")
        ws = book.sheet_by_name(sheet) if sheet else book.sheet_by_index(0)
        info.sheet = ws.name
        max_columns = ingest_setting("MAX_COLUMNS")
        for r in range(ws.nrows):
            cells: list[Any] = []
            for cell in ws.row(r):
                if cell.ctype == xlrd.XL_CELL_DATE:
                    try:
                        cells.append(xlrd.xldate_as_datetime(cell.value, book.datemode))
                    except Exception:
                        cells.append(cell.value)
                elif cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
                    cells.append(None)
                elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                    cells.append(bool(cell.value))
                else:
                    cells.append(cell.value)
            yield _trim(cells, r + 1, max_columns)
    finally:
        book.release_resources()


# --- entry point ------------------------------------------------------------------------------


def open_rows(
    path: Path, *, filename: str = "", encoding: str | None = None, sheet: str | None = None
) -> tuple[FileInfo, Iterator[Row]]:
    """Sniff the file and return its description plus a lazy iterator over its rows."""
    size = path.stat().st_size
    check_size(size)
    with path.open("rb") as fh:
        head = fh.read(1024 * 1024)
    fmt = sniff_format(head, filename or path.name)
    info = FileInfo(format=fmt)
    if fmt == "xlsx":
        return info, _xlsx_rows(path, info, sheet)
    if fmt == "xls":
        return info, _xls_rows(path, info, sheet)
    info.encoding = encoding or detect_encoding(head)
    try:
        sample = codecs.getincrementaldecoder(info.encoding)("replace").decode(head, final=False)
    except LookupError:
        raise FileRefused(_("不支持的编码：%(e)s") % {"e": info.encoding}, field="encoding") from None
    info.delimiter = _sniff_delimiter(sample)
    return info, _csv_rows(path, info)
