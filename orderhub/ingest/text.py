"""Small text helpers shared by readers, the suggestion engine and the transforms."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache

_SPACES = re.compile(r"\s+")
_BRACKETS = re.compile(r"[(\[【（][^)\]】）]*[)\]】）]")
_PUNCT = re.compile(r"[\s_\-:：/\\.·・|]+")


_HALF = {
    0x3000: " ",
    **{c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)},
    0x200B: None,
    0xFEFF: None,
    0: None,
}


def half_width(value: str) -> str:
    """Full-width letters, digits, punctuation and the ideographic space → their ASCII forms."""
    if value.isascii():
        return value
    return value.translate(_HALF)


def clean_text(value: object) -> str:
    """A cell as text: half-width, trimmed, inner whitespace runs collapsed, NULs dropped."""
    if value is None:
        return ""
    if type(value) is not str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        value = str(value)
    text = value.translate(_HALF) if not value.isascii() or "\x00" in value else value
    if "  " in text or "\t" in text or "\n" in text or "\r" in text or "\u00a0" in text:
        return _SPACES.sub(" ", text).strip()
    return text.strip()


def clean_code(value: object) -> str:
    """An identifier cell (order number, SKU code, phone): also drop Excel's leading apostrophe,
    the tab some platforms prepend to keep Excel from reformatting it, and a trailing ".0"."""
    text = clean_text(value).lstrip("'`\t=").strip()
    if text.startswith('"') and text.endswith('"') and len(text) > 1:
        text = text[1:-1].strip()
    return text


def header_key(value: object) -> str:
    """Normalised header for matching: half-width, lower case, no spaces or separators."""
    text = unicodedata.normalize("NFKC", clean_text(value)).lower()
    return _PUNCT.sub("", text)


def header_core(value: object) -> str:
    """Header without bracketed units or notes: 「商品总价(元)」→「商品总价」."""
    text = unicodedata.normalize("NFKC", clean_text(value))
    return _PUNCT.sub("", _BRACKETS.sub("", text)).lower()


# --- numbers ----------------------------------------------------------------------------------

_NUM_JUNK = re.compile(r"[,，\s¥￥元$]")


def parse_decimal(value: object) -> Decimal | None:
    """「¥1,234.50」→ Decimal('1234.50'); empty → None; raises ValueError when not a number."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float | Decimal):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            raise ValueError(value) from None
    text = _NUM_JUNK.sub("", clean_text(value))
    if text == "":
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValueError(value) from None
    if not number.is_finite():
        raise ValueError(value)
    return number


def parse_int(value: object) -> int | None:
    number = parse_decimal(value)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise ValueError(value)
    if abs(number) > 2_000_000_000:
        raise ValueError(value)
    return int(number)


# --- dates ------------------------------------------------------------------------------------

EXCEL_EPOCH = datetime(1899, 12, 30)
DATE_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y.%m.%d %H:%M:%S",
    "%Y.%m.%d",
    "%Y%m%d%H%M%S",
    "%Y%m%d",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H:%M:%S",
    "%Y年%m月%d日",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S.%f",
)


def excel_serial_to_datetime(serial: float) -> datetime:
    """Excel's 1900 date system (with its fictitious 1900-02-29, hence the 1899-12-30 epoch)."""
    if not 1 <= serial < 2958466:  # 9999-12-31
        raise ValueError(serial)
    return EXCEL_EPOCH + timedelta(days=float(serial))


def parse_datetime_cell(value: object, formats: tuple[str, ...] | list[str] = ()) -> datetime | None:
    """A naive local datetime from a cell: datetime, date, Excel serial number or text."""
    if type(value) is str:
        return _parse_datetime_text(value, tuple(formats))
    return _parse_datetime_any(value, tuple(formats))


@lru_cache(maxsize=65536)
def _parse_datetime_text(value: str, formats: tuple[str, ...]) -> datetime | None:
    return _parse_datetime_any(value, formats)


_LAST_FORMAT: list[str] = []


def _parse_datetime_any(value: object, formats: tuple[str, ...]) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return excel_serial_to_datetime(float(value))
    text = clean_text(value)
    if not text:
        return None
    for fmt in (*formats, *_LAST_FORMAT, *DATE_FORMATS):
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if not _LAST_FORMAT or _LAST_FORMAT[0] != fmt:
            _LAST_FORMAT[:] = [fmt]  # exports repeat one format: try it first next time
        return parsed
    # A serial number exported as text ("45292" or "45292.5").
    if re.fullmatch(r"\d{5}(\.\d+)?", text):
        return excel_serial_to_datetime(float(text))
    raise ValueError(value)


# --- spreadsheet safety -----------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise_formula(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula (OWASP CSV injection) with an apostrophe.

    Plain negative numbers stay numbers.
    """
    if not isinstance(value, str) or not value:
        return value
    if value.startswith(_FORMULA_START):
        if re.fullmatch(r"-?\d+(\.\d+)?", value):
            return value
        return "'" + value
    return value
