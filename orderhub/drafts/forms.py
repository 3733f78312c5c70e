"""Reading the confirmation form: the fields a person checked, and the lines as rows."""

from __future__ import annotations

from django.http import QueryDict

from orderhub.core.errors import ValidationFailed
from orderhub.drafts.services import ConfirmedFields

MAX_LINES = 50


def confirmed_fields(post: QueryDict) -> ConfirmedFields:
    """Lines come as line-N-sku / line-N-qty pairs; an empty row (no SKU, no quantity) is dropped."""
    lines: list[tuple[str, int]] = []
    for i in range(MAX_LINES):
        code = (post.get(f"line-{i}-sku") or "").strip()
        raw_qty = (post.get(f"line-{i}-qty") or "").strip()
        if f"line-{i}-sku" not in post and f"line-{i}-qty" not in post:
            continue
        if not code and not raw_qty:
            continue
        try:
            qty = int(raw_qty)
        except ValueError:
            raise ValidationFailed(
                f"第 {len(lines) + 1} 行：数量「{raw_qty}」不是整数 / quantity is not a whole number",
                field=f"line-{i}-qty",
            ) from None
        lines.append((code, qty))
    return ConfirmedFields(
        lines=lines,
        customer_code=(post.get("customer_code") or "").strip(),
        receiver_name=(post.get("receiver_name") or "").strip(),
        receiver_phone=(post.get("receiver_phone") or "").strip(),
        province=(post.get("province") or "").strip(),
        city=(post.get("city") or "").strip(),
        district=(post.get("district") or "").strip(),
        detail=(post.get("detail") or "").strip(),
        remark=(post.get("remark") or "").strip(),
    )
