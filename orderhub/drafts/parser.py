"""A chat message (or OCR text) → a draft order with a confidence for every field.

The parser is a pure function of the text, the catalog index and a customer directory (the
database in production, a dict in tests). It never creates anything: a person confirms.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

from orderhub.drafts.contacts import (
    OLD_ADDRESS,
    address_confidence,
    find_address,
    find_name,
    find_phone,
)
from orderhub.drafts.pairing import pair
from orderhub.drafts.quantities import QuantityMention, find_quantities, to_pieces
from orderhub.drafts.skus import Candidate, SkuIndex, name_key, rank
from orderhub.ingest.text import half_width

LOW_CONFIDENCE = 0.8
_SEGMENT = re.compile(r"[,，。;；!！?？\n\r|]+")
_ITEM = re.compile(r"、|还有|另外|加上|以及|外加")
_EACH = re.compile(r"^(?P<names>.+?)各\s*(?P<qty>.+)$")
_AND = re.compile(r"、|和|跟|及|与|/")
_GREETING = re.compile(r"^(?:老板|你好|您好|在吗|亲|老王|哥|姐|谢谢|麻烦了?|辛苦了?)+$")


@dataclass
class CustomerRef:
    code: str
    name: str


class CustomerDirectory(Protocol):
    """Who a message is from and what they bought before."""

    def by_phone(self, phone: str) -> CustomerRef | None: ...
    def by_text(self, text: str) -> CustomerRef | None: ...
    def sku_history(self, customer_code: str) -> dict[str, int]: ...
    def last_address(self, customer_code: str) -> dict[str, str] | None: ...


@dataclass
class ParsedLine:
    text: str
    sku_code: str = ""
    sku_name: str = ""
    quantity: int | None = None
    unit: str = ""
    sku_confidence: float = 0.0
    quantity_confidence: float = 0.0
    note: str = ""
    candidates: list[dict[str, Any]] = field(default_factory=list)

    @property
    def confidence(self) -> float:
        return round(min(self.sku_confidence, self.quantity_confidence), 2)


@dataclass
class ParsedMessage:
    text: str
    customer: dict[str, Any] = field(default_factory=lambda: {"code": "", "name": "", "confidence": 0.0})
    receiver_name: dict[str, Any] = field(default_factory=lambda: {"value": "", "confidence": 0.0})
    phone: dict[str, Any] = field(default_factory=lambda: {"value": "", "kind": "", "confidence": 0.0})
    address: dict[str, Any] = field(default_factory=dict)
    lines: list[ParsedLine] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for line, out in zip(self.lines, data["lines"], strict=True):
            out["confidence"] = line.confidence
        data["low_confidence"] = self.low_fields()
        return data

    def low_fields(self) -> list[str]:
        low = [
            name
            for name, value in (
                ("customer", self.customer),
                ("receiver_name", self.receiver_name),
                ("phone", self.phone),
                ("address", self.address),
            )
            if value.get("confidence", 0) < LOW_CONFIDENCE
        ]
        low += [f"lines.{i}" for i, ln in enumerate(self.lines) if ln.confidence < LOW_CONFIDENCE]
        return low


def _empty_address() -> dict[str, Any]:
    return {
        "province": "",
        "province_code": "",
        "city": "",
        "city_code": "",
        "district": "",
        "district_code": "",
        "detail": "",
        "confidence": 0.0,
        "source": "",
    }


def parse_message(text: str, *, index: SkuIndex, directory: CustomerDirectory | None = None) -> ParsedMessage:
    """Receiver, phone, address and lines of one message, each with a confidence in [0, 1]."""
    clean = index.unglue_codes(half_width(text).replace("\u3000", " ").strip())
    result = ParsedMessage(text=text, address=_empty_address())
    rest = clean

    phone, phone_at = find_phone(rest)
    if phone is not None and phone_at is not None:
        result.phone = {"value": phone.value, "kind": str(phone.kind), "confidence": phone_at.confidence}
    name_at = find_name(rest, phone_at)
    if name_at is not None:
        result.receiver_name = {"value": name_at.value, "confidence": name_at.confidence}
    # Blank out what is found so that it is not read again as an address or an item.
    for span in sorted((s for s in (phone_at, name_at) if s), key=lambda s: -s.start):
        rest = rest[: span.start] + "，" + rest[span.end :]

    segments = [s.strip() for s in _SEGMENT.split(rest) if s.strip()]
    old_address = any(OLD_ADDRESS.search(s) for s in segments)
    segments = [OLD_ADDRESS.sub("", s).strip() for s in segments]
    found = find_address(segments, [[q.end for q in find_quantities(s)] for s in segments])
    if found is not None:
        i, start, address = found
        detail, spill = _split_detail(address.detail, index)
        address = replace(address, detail=detail)
        result.address = {**asdict(address), "confidence": address_confidence(address), "source": "message"}
        segments[i] = segments[i][:start] + "，" + spill
    elif old_address:
        result.flags.append("old_address")

    customer = _customer(result, clean, directory)
    history = directory.sku_history(customer.code) if (directory and customer) else {}
    if old_address and found is None:
        _old_address(result, customer, directory)

    result.lines = _lines([s for s in segments if s], index, history)
    if not result.lines:
        result.flags.append("no_lines")
    return result


def _customer(result: ParsedMessage, text: str, directory: CustomerDirectory | None) -> CustomerRef | None:
    if directory is None:
        return None
    customer, confidence, by = None, 0.0, ""
    if result.phone["value"]:
        customer = directory.by_phone(result.phone["value"])
        confidence, by = 0.95, "phone"
    if customer is None:
        customer = directory.by_text(text)
        confidence, by = 0.8, "name"
    if customer is not None:
        result.customer = {"code": customer.code, "name": customer.name, "confidence": confidence, "by": by}
    return customer


def _old_address(
    result: ParsedMessage, customer: CustomerRef | None, directory: CustomerDirectory | None
) -> None:
    """发老地址: the known customer's last address; flagged when the customer is unknown."""
    last = directory.last_address(customer.code) if (directory and customer) else None
    if last is None:
        result.flags.append("old_address_unknown_customer" if customer is None else "old_address_missing")
        return
    keys = ("province", "province_code", "city", "city_code", "district", "district_code", "detail")
    result.address = {**{k: last.get(k, "") for k in keys}, "confidence": 0.85, "source": "last_order"}
    if not result.receiver_name["value"] and last.get("receiver_name"):
        result.receiver_name = {"value": last["receiver_name"], "confidence": 0.8, "source": "last_order"}
    if not result.phone["value"] and last.get("receiver_phone"):
        result.phone = {
            "value": last["receiver_phone"],
            "kind": "normal",
            "confidence": 0.8,
            "source": "last_order",
        }


_ADDRESS_END = "号栋楼室层幢座院弄"


def _split_detail(detail: str, index: SkuIndex) -> tuple[str, str]:
    """An address detail that runs on into the items (…8栋 二十套后刹车片): (detail, items)."""

    def orders_something(text: str) -> bool:
        qtys = [q for q in find_quantities(text) if q.unit != "组"]
        return bool(qtys or index.codes_in(text) or _strong_name(text, index))

    tokens = detail.split(" ")
    spill = ""
    for i in range(1, len(tokens)):
        if orders_something(tokens[i]):
            detail, spill = " ".join(tokens[:i]).strip(), " ".join(tokens[i:])
            break
    qtys = [q for q in find_quantities(detail) if q.unit != "组"]
    codes = index.codes_in(detail)
    cut = min([q.start for q in qtys] + [m.start() for m, _c in codes], default=-1)
    if cut < 0:
        return detail, spill
    end = max(detail.rfind(ch, 0, cut) for ch in _ADDRESS_END)
    if end < 0 and not codes:
        return detail, spill
    end = end + 1 if end >= 0 else cut
    return detail[:end].strip(), f"{detail[end:]} {spill}".strip()


# --- lines ------------------------------------------------------------------------------------


def _lines(segments: list[str], index: SkuIndex, history: dict[str, int]) -> list[ParsedLine]:
    lines: list[ParsedLine] = []
    for segment in segments:
        for chunk in (c.strip() for c in _ITEM.split(segment)):
            if chunk:
                lines.extend(_chunk_lines(chunk, index, history))
    return _merge_each(lines)


def _chunk_lines(chunk: str, index: SkuIndex, history: dict[str, int]) -> list[ParsedLine]:
    each = _EACH.match(chunk)
    if each:  # 刹车片和滤芯各10套: one quantity for every name before 各
        qtys = find_quantities(each.group("qty"), allow_trailing=True)
        names = [n for n in _AND.split(each.group("names")) if n.strip()]
        if qtys and len(names) > 1:
            return [_line(n.strip(), qtys[0], index, history, each=True) for n in names]
    has_code = bool(index.codes_in(chunk))
    qtys = find_quantities(chunk, allow_trailing=has_code)
    if not qtys:
        if _GREETING.match(name_key(chunk)) or not (has_code or _strong_name(chunk, index, 70)):
            return []
        return [_line(chunk, None, index, history)]
    return [_line(text, q, index, history) for text, q in pair(chunk, qtys, index) if text.strip() or q]


def _strong_name(chunk: str, index: SkuIndex, threshold: float = 85) -> bool:
    found = _by_name(chunk, index)
    return bool(found and found[0].score >= threshold)


def _line(
    text: str, qty: QuantityMention | None, index: SkuIndex, history: dict[str, int], *, each: bool = False
) -> ParsedLine:
    line = ParsedLine(text=text.strip() + (f" {qty.raw}" if qty and each else ""))
    codes = index.codes_in(text)
    candidates: list[Candidate] = [c for _m, c in codes]
    words = text
    for m, _c in reversed(codes):
        words = words[: m.start()] + " " + words[m.end() :]
    by_name = _by_name(words, index)
    if candidates:
        ranked, confidence = (
            candidates + [c for c in by_name if c.code != candidates[0].code],
            candidates[0].score / 100,
        )
        confidence = 0.99 if confidence == 1 else confidence
        if by_name and by_name[0].code != candidates[0].code and by_name[0].score >= 95:
            confidence, line.note = min(confidence, 0.7), "编码与名称不一致"
    else:
        ranked, confidence, tie_broken = rank(by_name, history)
        if tie_broken:
            line.note = "按客户历史订单选择"
    if ranked:
        line.sku_code, line.sku_name, line.sku_confidence = (
            ranked[0].code,
            ranked[0].name,
            round(confidence, 2),
        )
        line.candidates = [c.as_dict() for c in ranked[:4]]
    if qty is not None:
        entry = index.get(line.sku_code)
        pieces, q_conf, note = to_pieces(qty, entry.pack_size if entry else 1)
        if qty.kind == "carton" and entry is None:
            q_conf = 0.5
        line.quantity, line.unit, line.quantity_confidence = pieces, qty.unit, round(q_conf, 2)
        line.note = "；".join(n for n in (line.note, note) if n)
    else:
        line.note = "；".join(n for n in (line.note, "未写数量") if n)
    return line


_TOKENS = re.compile(r"[\s:：]+")


def _by_name(words: str, index: SkuIndex) -> list[Candidate]:
    """Match the whole phrase or only its last words (「恒通汽配 补货：陶瓷刹车片」), whichever fits best."""
    tokens = [t for t in _TOKENS.split(words) if t]
    best = index.by_name(words)
    for n in (1, 2):
        if len(tokens) > n:
            tail = index.by_name(" ".join(tokens[-n:]))
            if tail and (not best or tail[0].score > best[0].score):
                best = tail
    return best


def _merge_each(lines: list[ParsedLine]) -> list[ParsedLine]:
    """Drop a line that names no SKU and has no quantity (a stray phrase)."""
    return [ln for ln in lines if ln.sku_code or ln.quantity]
