"""From mapped rows to order drafts: grouping lines by order number, addresses, phones, holds.

Rules:
- rows with the same channel order number form one order (one row per order or one per line);
- a row identical to an earlier row of the same order is a duplicate row and is skipped;
- a row that cannot form an order line rejects its whole order (nothing half-imported), and every
  row of that order is listed with the reason;
- problems that a person can fix (unknown SKU, quantity ≤ 0, incomplete address, masked phone on a
  channel that needs a real one, invalid phone, unknown customer) import the order held in 待审核.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext as _

from orderhub.catalog.models import Customer, Sku
from orderhub.ingest.mapping import CellError, MappedRow
from orderhub.ingest.models import Channel
from orderhub.ingest.normalize import Phone, resolve_address
from orderhub.orders.models import HoldReason, PhoneKind
from orderhub.orders.services import LineDraft, OrderDraft


@dataclass
class Catalog:
    """SKU codes, names and aliases (alias / barcode → code), loaded once per batch."""

    names: dict[str, str]
    ids: dict[str, int]
    aliases: dict[str, str]

    @classmethod
    def load(cls) -> Catalog:
        names: dict[str, str] = {}
        ids: dict[str, int] = {}
        aliases: dict[str, str] = {}
        for pk, code, name, barcode, alias_list in Sku.objects.values_list(
            "pk", "code", "name", "barcode", "aliases"
        ).iterator(chunk_size=5000):
            names[code] = name
            ids[code] = pk
            if barcode:
                aliases.setdefault(barcode, code)
            for alias in alias_list or []:
                aliases.setdefault(str(alias), code)
        return cls(names, ids, aliases)

    def resolve(self, code: str) -> str:
        if code in self.names or not code:
            return code
        return self.aliases.get(code, code)


@dataclass
class Rejection:
    row_no: int
    column: str
    code: str
    message: str


@dataclass
class DraftResult:
    key: str
    row_nos: list[int]
    draft: OrderDraft | None = None
    fingerprint: str = ""
    rejections: list[Rejection] = field(default_factory=list)
    skipped: list[tuple[int, str]] = field(default_factory=list)


def _first(rows: list[MappedRow], name: str) -> Any:
    for r in rows:
        value = r.values.get(name)
        if value not in (None, ""):
            return value
    return None


def _money(value: Decimal | None) -> Decimal:
    return (value or Decimal("0")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def draft_fingerprint(draft: OrderDraft) -> str:
    """What the channel told us about an order; a change means the channel changed the order."""
    data = {
        "no": draft.channel_order_no,
        "at": draft.ordered_at.isoformat() if draft.ordered_at else None,
        "customer": draft.customer_code,
        "name": draft.receiver_name,
        "phone": draft.receiver_phone,
        "addr": [draft.province, draft.city, draft.district, draft.address_detail],
        "fee": str(draft.shipping_fee),
        "remark": draft.remark,
        "promised": draft.promised_at.isoformat() if draft.promised_at else None,
        "lines": [[ln.sku_code, ln.quantity, str(ln.unit_price), ln.name] for ln in draft.lines],
    }
    return hashlib.sha256(json.dumps(data, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _line(row: MappedRow, catalog: Catalog) -> tuple[LineDraft | None, Rejection | None]:
    v = row.values
    code = catalog.resolve(str(v.get("sku_code") or ""))
    name = str(v.get("sku_name") or "")
    if v.get("sku_spec"):
        name = f"{name} {v['sku_spec']}".strip()
    if not code and not name:
        return None, Rejection(row.row_no, _("商家编码"), "no_sku", _("缺少商家编码和商品名称，无法确定商品"))
    qty = v.get("quantity")
    if qty is None:
        return None, Rejection(row.row_no, _("数量"), "no_quantity", _("缺少数量"))
    price = v.get("unit_price")
    if price is None and v.get("line_amount") is not None and qty:
        price = v["line_amount"] / qty
    line = LineDraft(
        sku_code=code[:64],
        quantity=qty,
        unit_price=_money(price),
        name=name[:128],
        sub_order_no=str(v.get("sub_order_no") or "")[:64],
    )
    return line, None


def _phone_holds(phone: Phone, channel: Channel) -> list[tuple[str, str]]:
    if phone.kind in (PhoneKind.MASKED, PhoneKind.VIRTUAL) and not channel.masks_phone:
        return [(HoldReason.MASKED_PHONE, _("渠道需要真实手机号，收到：%(p)s") % {"p": phone.value})]
    if phone.kind == PhoneKind.INVALID:
        return [(HoldReason.INVALID_PHONE, _("电话号码无效：%(p)s") % {"p": phone.value})]
    if phone.kind == PhoneKind.EMPTY:
        return [(HoldReason.INVALID_PHONE, _("缺少收货电话"))]
    return []


def build_draft(
    key: str,
    rows: list[MappedRow],
    *,
    channel: Channel,
    catalog: Catalog,
    customers: dict[str, Customer],
) -> DraftResult:
    result = DraftResult(key=key, row_nos=[r.row_no for r in rows])
    seen: dict[tuple[Any, ...], int] = {}
    kept: list[MappedRow] = []
    for r in rows:
        sig = tuple(r.cells)
        if sig in seen:
            result.skipped.append((r.row_no, _("与第 %(n)s 行完全相同，按重复行跳过") % {"n": seen[sig]}))
            continue
        seen[sig] = r.row_no
        kept.append(r)
    lines: list[LineDraft] = []
    for r in kept:
        for e in r.errors:
            result.rejections.append(Rejection(r.row_no, e.column, e.code, e.message))
        if r.errors:
            continue
        line, rejection = _line(r, catalog)
        if rejection:
            result.rejections.append(rejection)
        elif line:
            lines.append(line)
    if result.rejections:
        bad = {rj.row_no for rj in result.rejections}
        first = min(bad)
        for r in kept:
            if r.row_no not in bad:
                result.rejections.append(
                    Rejection(
                        r.row_no,
                        "",
                        "order_rejected",
                        _("同一订单的第 %(n)s 行有错误，整单未导入") % {"n": first},
                    )
                )
        return result
    result.draft = _draft(key, kept, lines, channel, customers)
    result.fingerprint = draft_fingerprint(result.draft)
    return result


def _draft(
    key: str, rows: list[MappedRow], lines: list[LineDraft], channel: Channel, customers: dict[str, Customer]
) -> OrderDraft:
    holds: list[tuple[str, str]] = []
    customer_code = _first(rows, "customer_code") or None
    customer = customers.get(customer_code) if customer_code else None
    if customer_code and customer is None:
        holds.append((HoldReason.MANUAL, _("客户编码「%(c)s」不存在") % {"c": customer_code}))
        customer_code = None
    address = resolve_address(
        full=_first(rows, "address") or "",
        province=_first(rows, "province") or "",
        city=_first(rows, "city") or "",
        district=_first(rows, "district") or "",
        detail=_first(rows, "address_detail") or "",
    )
    if customer and not (address.province or address.detail):
        address = resolve_address(
            province=customer.province,
            city=customer.city,
            district=customer.district,
            detail=customer.address_detail,
        )
    phone = _first(rows, "receiver_phone") or Phone("", PhoneKind.EMPTY)
    if phone.kind == PhoneKind.EMPTY and customer and customer.phone:
        from orderhub.ingest.normalize import normalize_phone

        phone = normalize_phone(customer.phone)
    holds.extend(_phone_holds(phone, channel))
    remark = str(_first(rows, "remark") or "")
    seller = _first(rows, "seller_remark")
    if seller:
        remark = f"{remark}\n" if remark else ""
        remark += _("商家备注：%(r)s") % {"r": seller}
    receiver = _first(rows, "receiver_name") or (customer.name if customer else "")
    return OrderDraft(
        channel_code=channel.code,
        channel_order_no=key[:64],
        lines=lines,
        ordered_at=_first(rows, "ordered_at"),
        customer_code=customer_code,
        receiver_name=str(receiver)[:64],
        receiver_phone=phone.value[:32],
        phone_kind=phone.kind,
        province=address.province[:32],
        province_code=address.province_code,
        city=address.city[:32],
        city_code=address.city_code,
        district=address.district[:32],
        district_code=address.district_code,
        address_detail=address.detail[:255],
        shipping_fee=_money(_first(rows, "shipping_fee")),
        remark=remark,
        promised_at=_first(rows, "promised_at"),
        owner_username=_first(rows, "owner_username") or None,
        holds=holds,
    )


def reject_rows_without_key(rows: list[MappedRow]) -> list[Rejection]:
    return [Rejection(r.row_no, _("渠道订单号"), "no_order_no", _("缺少渠道订单号")) for r in rows]


def cell_error_message(e: CellError) -> str:
    return f"{e.column}: {e.message}" if e.column else e.message
