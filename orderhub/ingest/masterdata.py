"""Master-data imports: SKUs, customers and stock per warehouse, idempotent on natural keys.

SKU: code. Customer: code. Stock: (warehouse code, SKU code) — a stock row sets on-hand by a
stock count (盘点) through `inventory.services.stock_adjust`, so the ledger reconciles.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.catalog.models import Customer, CustomerTier, Sku
from orderhub.core.errors import AppError
from orderhub.ingest.drafts import Rejection
from orderhub.ingest.fields import ImportKind, fields_for
from orderhub.ingest.mapping import MappedRow
from orderhub.ingest.models import ImportChunk, ImportIssue, RowOutcome
from orderhub.ingest.normalize import Phone, resolve_address

if TYPE_CHECKING:
    from orderhub.ingest.pipeline import Context

_TIERS = {
    "vip": CustomerTier.VIP,
    "a": CustomerTier.A,
    "a类": CustomerTier.A,
    "b": CustomerTier.B,
    "b类": CustomerTier.B,
    "c": CustomerTier.C,
    "c类": CustomerTier.C,
}


def _required(kind: str, row: MappedRow) -> list[Rejection]:
    out = []
    for f in fields_for(kind).values():
        if f.required and row.values.get(f.name) in (None, ""):
            out.append(
                Rejection(row.row_no, str(f.label), "missing_field", _("「%(f)s」为空") % {"f": f.label})
            )
    return out


def _sku_values(v: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": str(v["name"])[:128]}
    for name in ("spec", "barcode"):
        if v.get(name) not in (None, ""):
            out[name] = str(v[name])[: 128 if name == "spec" else 64]
    for name in ("weight_g", "pack_size", "unit_price", "fragile"):
        if v.get(name) is not None:
            out[name] = v[name]
    if v.get("aliases"):
        out["aliases"] = [a.strip() for a in str(v["aliases"]).replace("，", ",").split(",") if a.strip()]
    return out


def _customer_values(v: dict[str, Any], owners: dict[str, User]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": str(v["name"])[:128]}
    phone = v.get("phone")
    if isinstance(phone, Phone) and phone.value:
        out["phone"] = phone.value
    if v.get("tier"):
        tier = _TIERS.get(str(v["tier"]).strip().lower())
        if tier is None:
            raise ValueError(_("客户等级「%(t)s」无效（VIP/A/B/C）") % {"t": v["tier"]})
        out["tier"] = tier
    if any(v.get(k) for k in ("address", "province", "city", "district", "address_detail")):
        addr = resolve_address(
            full=v.get("address") or "",
            province=v.get("province") or "",
            city=v.get("city") or "",
            district=v.get("district") or "",
            detail=v.get("address_detail") or "",
        )
        out.update(province=addr.province, city=addr.city, district=addr.district, address_detail=addr.detail)
    if v.get("credit_limit") is not None:
        out["credit_limit"] = v["credit_limit"]
    if v.get("owner_username"):
        owner = owners.get(str(v["owner_username"]))
        if owner is None:
            raise ValueError(_("负责销售「%(u)s」不存在") % {"u": v["owner_username"]})
        out["owner"] = owner
    return out


def _changed(obj: Any, values: dict[str, Any]) -> bool:
    return any(getattr(obj, k) != val for k, val in values.items())


def process_master_chunk(ctx: Context, chunk: ImportChunk) -> tuple[list[list[Any]], list[ImportIssue]]:
    from orderhub.ingest.pipeline import is_total_row, map_chunk_rows

    kind = ctx.batch.kind
    mapped, rejected = map_chunk_rows(ctx.plan, chunk.rows)
    outcomes: list[list[Any]] = []
    good: list[MappedRow] = []
    for r in mapped:
        if is_total_row(r.cells):
            outcomes.append([r.row_no, RowOutcome.SKIPPED, None])
            continue
        problems = [Rejection(r.row_no, e.column, e.code, e.message) for e in r.errors] or _required(kind, r)
        if problems:
            rejected.extend(problems)
        else:
            good.append(r)
    if kind == ImportKind.SKUS:
        _upsert(ctx, good, Sku, _sku_values, outcomes, rejected)
    elif kind == ImportKind.CUSTOMERS:
        names = {str(r.values.get("owner_username")) for r in good if r.values.get("owner_username")}
        owners = {u.username: u for u in User.objects.filter(username__in=names)}
        _upsert(ctx, good, Customer, lambda v: _customer_values(v, owners), outcomes, rejected)
    else:
        _stock(ctx, good, outcomes, rejected)
    issues = []
    rejected_rows: set[int] = set()
    for rj in rejected:
        if rj.row_no not in rejected_rows:
            rejected_rows.add(rj.row_no)
            outcomes.append([rj.row_no, RowOutcome.REJECTED, None])
        issues.append(
            ImportIssue(
                batch=ctx.batch,
                row_no=rj.row_no,
                column=rj.column[:128],
                outcome=RowOutcome.REJECTED,
                code=rj.code[:32],
                message=rj.message[:500],
            )
        )
    outcomes.sort(key=lambda o: o[0])
    return outcomes, issues


def _upsert(
    ctx: Context,
    rows: list[MappedRow],
    model: Any,
    values_of: Any,
    outcomes: list[list[Any]],
    rejected: list[Rejection],
) -> None:
    codes = {str(r.values["code"]) for r in rows}
    existing = {o.code: o for o in model.objects.filter(code__in=codes)}
    seen: dict[str, int] = {}
    for r in rows:
        code = str(r.values["code"])[:64]
        if code in seen:
            outcomes.append([r.row_no, RowOutcome.SKIPPED, None])
            continue
        seen[code] = r.row_no
        try:
            values = values_of(r.values)
        except ValueError as exc:
            rejected.append(Rejection(r.row_no, "", "invalid", str(exc)))
            continue
        obj = existing.get(code)
        if obj is None:
            obj = model.objects.create(code=code, **values)
            outcomes.append([r.row_no, RowOutcome.CREATED, obj.pk])
        elif _changed(obj, values):
            for k, val in values.items():
                setattr(obj, k, val)
            obj.save(update_fields=list(values))
            outcomes.append([r.row_no, RowOutcome.UPDATED, obj.pk])
        else:
            outcomes.append([r.row_no, RowOutcome.UNCHANGED, obj.pk])


def _stock(ctx: Context, rows: list[MappedRow], outcomes: list[list[Any]], rejected: list[Rejection]) -> None:
    from orderhub.inventory.models import Stock, StockAdjustment, Warehouse
    from orderhub.inventory.services import stock_adjust

    warehouses = {
        w.code: w for w in Warehouse.objects.filter(code__in={str(r.values["warehouse_code"]) for r in rows})
    }
    skus = {s.code: s for s in Sku.objects.filter(code__in={str(r.values["sku_code"]) for r in rows})}
    for r in rows:
        wh = warehouses.get(str(r.values["warehouse_code"]))
        sku = skus.get(str(r.values["sku_code"]))
        qty = r.values["on_hand"]
        if wh is None:
            rejected.append(
                Rejection(
                    r.row_no,
                    _("仓库编码"),
                    "unknown_warehouse",
                    _("仓库「%(w)s」不存在") % {"w": r.values["warehouse_code"]},
                )
            )
            continue
        if sku is None:
            rejected.append(
                Rejection(
                    r.row_no,
                    _("商家编码"),
                    "unknown_sku",
                    _("商品「%(s)s」不存在") % {"s": r.values["sku_code"]},
                )
            )
            continue
        current = Stock.objects.filter(warehouse=wh, sku=sku).values_list("on_hand", flat=True).first()
        if current == qty:
            outcomes.append([r.row_no, RowOutcome.UNCHANGED, None])
            continue
        try:
            with transaction.atomic():
                stock_adjust(
                    warehouse=wh,
                    sku=sku,
                    kind=StockAdjustment.Kind.COUNT,
                    quantity=qty,
                    actor=ctx.actor,
                    note=_("导入批次 #%(b)s 第 %(r)s 行") % {"b": ctx.batch.pk, "r": r.row_no},
                )
        except AppError as exc:
            rejected.append(Rejection(r.row_no, _("在库数量"), "stock_refused", exc.message))
            continue
        outcomes.append([r.row_no, RowOutcome.CREATED if current is None else RowOutcome.UPDATED, None])
