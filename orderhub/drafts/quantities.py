"""Quantities as people write them in chat: 20套, 二十套, 两箱, 1打, x20, 要20 — converted to pieces."""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

NUMERAL = r"(?:\d+(?:\.\d+)?|半|[零〇一二两俩三四五六七八九十廿百千万壹贰叁肆伍陆柒捌玖拾佰仟]+)"
# Units that count pieces of the SKU itself; 箱 (carton) and 打 (dozen) are converted.
PIECE_UNITS = [
    "套",
    "个",
    "只",
    "件",
    "片",
    "条",
    "支",
    "根",
    "对",
    "副",
    "瓶",
    "桶",
    "罐",
    "盒",
    "包",
    "袋",
    "台",
    "把",
    "组",
    "卷",
    "张",
    "块",
    "粒",
    "颗",
    "pcs",
    "pc",
    "PCS",
]
CARTON_UNITS = ("箱", "整箱", "件箱")
DOZEN_UNITS = ("打",)
UNIT = "|".join(sorted({*PIECE_UNITS, *CARTON_UNITS, *DOZEN_UNITS}, key=len, reverse=True))

# A numeral with a unit; x20 / ×20 / *20; 要20 / 数量20; a bare number closing a table row.
_WITH_UNIT = re.compile(rf"(?P<num>{NUMERAL})\s*(?P<unit>{UNIT})")
_TIMES = re.compile(r"[x×X*＊]\s*(?P<num>\d{1,5})(?![\d.:])")
_ASKED = re.compile(r"(?:数量|要|来|订|拿)\s*[:：]?\s*(?P<num>\d{1,5})(?![\d.:A-Za-z])")
_AFTER_NAME = re.compile(r"(?<=[\u4e00-\u9fff])\s?(?P<num>\d{1,4})(?=\s|$)")  # 空滤20 机滤20
_TRAILING = re.compile(r"(?<![\d.:/A-Za-z-])(?P<num>\d{1,5})\s*$")


@dataclass(frozen=True)
class QuantityMention:
    start: int
    end: int
    number: float
    unit: str
    confidence: float
    raw: str

    @property
    def kind(self) -> str:
        if self.unit in CARTON_UNITS:
            return "carton"
        if self.unit in DOZEN_UNITS:
            return "dozen"
        return "piece"


def numeral_value(text: str) -> float | None:
    """二十 → 20, 两 → 2, 1.5 → 1.5; None when it is not a number."""
    if text == "半":
        return 0.5
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    text = text.replace("俩", "两").replace("〇", "零")
    import cn2an

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(cn2an.cn2an(text, "smart"))
        except (ValueError, KeyError, IndexError):
            return None


_PLUS_AS_TEN = re.compile(rf"(?<!\+)\+(?=(?:{UNIT}))")
_DASH_AS_ONE = re.compile(rf"[—–―－](?=(?:{UNIT}))")


def find_quantities(text: str, *, allow_trailing: bool = False) -> list[QuantityMention]:
    """Every quantity in `text`, left to right, without overlaps. (OCR reads 十 as + and 一 as a
    dash: 「+桶」, 「—箱」.)"""
    text = _DASH_AS_ONE.sub("一", _PLUS_AS_TEN.sub("十", text))
    found: list[QuantityMention] = []
    taken: list[tuple[int, int]] = []

    def add(m: re.Match[str], unit: str, confidence: float) -> None:
        if any(m.start() < e and s < m.end() for s, e in taken):
            return
        value = numeral_value(m.group("num"))
        if value is None or value <= 0:
            return
        chinese = not m.group("num")[0].isdigit()
        found.append(
            QuantityMention(
                m.start(), m.end(), value, unit, confidence - (0.03 if chinese else 0), m.group(0)
            )
        )
        taken.append((m.start(), m.end()))

    for m in _WITH_UNIT.finditer(text):
        add(m, m.group("unit"), 0.97)
    for m in _TIMES.finditer(text):
        add(m, "", 0.92)
    for m in _ASKED.finditer(text):
        add(m, "", 0.9)
    for m in _AFTER_NAME.finditer(text):
        add(m, "", 0.8)
    if allow_trailing and not found:
        m = _TRAILING.search(text)
        if m:
            add(m, "", 0.8)
    return sorted(found, key=lambda q: q.start)


def to_pieces(q: QuantityMention, pack_size: int) -> tuple[int, float, str]:
    """(pieces, confidence, note): cartons by the SKU's pack size, dozens by 12."""
    if q.kind == "carton":
        if pack_size > 1:
            return round(q.number * pack_size), q.confidence, f"{q.raw} = {q.number:g}×{pack_size}"
        return round(q.number), 0.5, "箱规未知"
    if q.kind == "dozen":
        return round(q.number * 12), q.confidence, f"{q.raw} = {q.number:g}×12"
    if q.number != int(q.number):
        return round(q.number), 0.5, "数量不是整数"
    return int(q.number), q.confidence, ""
