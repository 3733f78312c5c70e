"""The orders app's common refusal: an order that is absent (or outside the actor's scope)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from orderhub.core.errors import NotFound


def order_not_found(order_id: int) -> NotFound:
    """Absent and out of scope read the same: no probing of other salespeople's orders."""
    return NotFound(_("订单 %(id)s 不存在") % {"id": order_id}, field="id")
