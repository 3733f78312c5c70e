"""Reads for drafts: the catalog index, the customer directory the parser asks, draft lists."""

from __future__ import annotations

from collections import Counter
from difflib import SequenceMatcher
from typing import Any

from django.db.models import Q, QuerySet

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.catalog.models import Customer, Sku
from orderhub.core.errors import NotFound
from orderhub.drafts.models import Draft
from orderhub.drafts.parser import CustomerRef
from orderhub.drafts.skus import SkuEntry, SkuIndex
from orderhub.orders.models import Order, OrderLine

ALL_DRAFT_ROLES = frozenset({Role.CUSTOMER_SERVICE, Role.MANAGER, Role.ADMIN, Role.SYSTEM})
DRAFT_ROLES = ALL_DRAFT_ROLES | {Role.SALES}


def sku_index_load() -> SkuIndex:
    """The active catalog as a match index (one query)."""
    rows = Sku.objects.filter(active=True).values_list("code", "name", "spec", "aliases", "pack_size")
    return SkuIndex.build(
        SkuEntry(code, name, spec, tuple(str(a) for a in (aliases or [])), pack_size or 1)
        for code, name, spec, aliases, pack_size in rows.iterator(chunk_size=2000)
    )


class DatabaseDirectory:
    """Customers as the parser sees them: by phone (theirs or a past receiver's), by name in the text."""

    HISTORY_ORDERS = 50

    def __init__(self) -> None:
        self._names: list[tuple[str, str]] | None = None

    def by_phone(self, phone: str) -> CustomerRef | None:
        found = Customer.objects.filter(phone=phone).values_list("code", "name").first()
        if found is None:
            found = (
                Order.objects.filter(receiver_phone=phone, customer__isnull=False)
                .order_by("-ordered_at")
                .values_list("customer__code", "customer__name")
                .first()
            )
        return CustomerRef(*found) if found else None

    def by_text(self, text: str) -> CustomerRef | None:
        """The one customer whose name (four characters of it, in a row) is written in the message:
        「恒通汽配」 names 椒江恒通汽配."""
        if self._names is None:
            self._names = list(Customer.objects.values_list("code", "name"))
        found: list[tuple[int, str, str]] = []
        for code, name in self._names:
            match = SequenceMatcher(None, text, name, autojunk=False).find_longest_match()
            if match.size >= 4 and match.size >= 0.6 * len(name):
                found.append((match.size, code, name))
        found.sort(reverse=True)
        if not found or (len(found) > 1 and found[1][0] == found[0][0]):
            return None  # nobody, or two customers equally likely: let the person choose
        return CustomerRef(found[0][1], found[0][2])

    def sku_history(self, customer_code: str) -> dict[str, int]:
        recent = Order.objects.filter(customer__code=customer_code).order_by("-ordered_at")[
            : self.HISTORY_ORDERS
        ]
        codes = OrderLine.objects.filter(order__in=recent.values("pk")).values_list("sku_code", flat=True)
        return dict(Counter(codes))

    def last_address(self, customer_code: str) -> dict[str, str] | None:
        fields = (
            "receiver_name",
            "receiver_phone",
            "province",
            "province_code",
            "city",
            "city_code",
            "district",
            "district_code",
            "address_detail",
        )
        last = (
            Order.objects.filter(customer__code=customer_code)
            .exclude(address_detail="")
            .order_by("-ordered_at")
            .values(*fields)
            .first()
        )
        if last is not None:
            last["detail"] = last.pop("address_detail")
            return last
        customer = Customer.objects.filter(code=customer_code).first()
        if customer is None or not customer.address_detail:
            return None
        from orderhub.ingest.normalize import resolve_address

        address = resolve_address(
            province=customer.province,
            city=customer.city,
            district=customer.district,
            detail=customer.address_detail,
        )
        return {**address.__dict__, "receiver_name": "", "receiver_phone": customer.phone}


def can_draft(user: Any) -> bool:
    return bool(user.is_authenticated and (user.is_superuser or user.role_names & DRAFT_ROLES))


def draft_scope(actor: User) -> QuerySet[Draft]:
    """Customer service and managers see every draft; a salesperson sees the drafts they made."""
    drafts = Draft.objects.all()
    if actor.is_superuser or actor.role_names & ALL_DRAFT_ROLES:
        return drafts
    if actor.role_names & DRAFT_ROLES:
        return drafts.filter(Q(created_by=actor))
    return drafts.none()


def draft_get(*, actor: User, draft_id: int) -> Draft:
    draft = (
        draft_scope(actor)
        .select_related("customer", "duplicate_of", "duplicate_order", "order", "created_by")
        .prefetch_related("images")
        .filter(pk=draft_id)
        .first()
    )
    if draft is None:
        raise NotFound(f"草稿 #{draft_id} 不存在 / draft #{draft_id} not found", field="draft")
    return draft


def draft_list(*, actor: User, limit: int = 50) -> list[Draft]:
    return list(
        draft_scope(actor)
        .select_related("customer", "order", "created_by")
        .order_by("-created_at", "-pk")[:limit]
    )
