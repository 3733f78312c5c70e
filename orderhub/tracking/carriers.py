"""Carriers we know by name, and the normalised carrier status of a tracking event.

A carrier code is ours (`zto`, `sf`, …); each adapter maps it to the provider's own code. An
unknown lowercase code is accepted as is, so a carrier Kuaidi100 supports but this table lacks
still works (its name is then the code).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str
    kuaidi100: str
    # For the simulated carrier: transit hops between pickup and delivery, and hours per hop.
    hops: tuple[int, int] = (3, 5)
    hop_hours: tuple[float, float] = (4.0, 12.0)


CARRIERS: dict[str, Carrier] = {
    c.code: c
    for c in (
        Carrier("zto", "中通快递", "zhongtong"),
        Carrier("yto", "圆通速递", "yuantong"),
        Carrier("sto", "申通快递", "shentong"),
        Carrier("yunda", "韵达快递", "yunda"),
        Carrier("sf", "顺丰速运", "shunfeng", hops=(2, 3), hop_hours=(2.0, 6.0)),
        Carrier("jd", "京东物流", "jd", hops=(2, 3), hop_hours=(2.0, 8.0)),
        Carrier("ems", "EMS", "ems", hops=(3, 6), hop_hours=(6.0, 16.0)),
        Carrier("jt", "极兔速递", "jtexpress"),
        Carrier("post", "邮政快递包裹", "youzhengguonei", hops=(4, 6), hop_hours=(6.0, 18.0)),
        Carrier("deppon", "德邦快递", "debangkuaidi", hops=(3, 5), hop_hours=(6.0, 14.0)),
    )
}
_CODE_RE = re.compile(r"^[a-z0-9]{2,32}$")


def carrier_get(code: str) -> Carrier | None:
    """The carrier for `code`: a known one, an ad-hoc one for a well-formed code, else None."""
    code = (code or "").strip().lower()
    if code in CARRIERS:
        return CARRIERS[code]
    if _CODE_RE.match(code):
        return Carrier(code, code, code)
    return None


def carrier_name(code: str) -> str:
    carrier = carrier_get(code)
    return carrier.name if carrier else code


class TrackingStatus(models.TextChoices):
    """Normalised carrier status (Kuaidi100 `state` codes in comments)."""

    PENDING = "pending", _("待揽收")
    IN_TRANSIT = "in_transit", _("运输中")  # 0 在途
    PICKED_UP = "picked_up", _("已揽收")  # 1 揽收
    PROBLEM = "problem", _("疑难")  # 2 疑难
    DELIVERED = "delivered", _("已签收")  # 3 签收
    RETURN_SIGNED = "return_signed", _("退签")  # 4 退签
    OUT_FOR_DELIVERY = "out_for_delivery", _("派件中")  # 5 派件
    RETURNING = "returning", _("退回")  # 6 退回
    REDIRECTED = "redirected", _("转投")  # 7 转投
    CUSTOMS = "customs", _("清关")  # 8, 10, 11, 12
    CUSTOMS_PROBLEM = "customs_problem", _("清关异常")  # 13
    REJECTED = "rejected", _("拒签")  # 14 拒签


T = TrackingStatus
# Carrier statuses that move a shipped order to 物流异常, with the event as the reason.
PROBLEM_STATUSES: frozenset[str] = frozenset(
    {T.PROBLEM, T.RETURN_SIGNED, T.RETURNING, T.CUSTOMS_PROBLEM, T.REJECTED}
)

KUAIDI100_STATES: dict[str, str] = {
    "0": T.IN_TRANSIT,
    "1": T.PICKED_UP,
    "2": T.PROBLEM,
    "3": T.DELIVERED,
    "4": T.RETURN_SIGNED,
    "5": T.OUT_FOR_DELIVERY,
    "6": T.RETURNING,
    "7": T.REDIRECTED,
    "8": T.CUSTOMS,
    "10": T.CUSTOMS,
    "11": T.CUSTOMS,
    "12": T.CUSTOMS,
    "13": T.CUSTOMS_PROBLEM,
    "14": T.REJECTED,
}
# The per-event `status` text Kuaidi100 returns with resultv2 (checked in this order: 退签
# before 签收, 清关异常 before 清关).
KUAIDI100_WORDS: tuple[tuple[str, str], ...] = (
    ("退签", T.RETURN_SIGNED),
    ("拒签", T.REJECTED),
    ("签收", T.DELIVERED),
    ("疑难", T.PROBLEM),
    ("退回", T.RETURNING),
    ("派件", T.OUT_FOR_DELIVERY),
    ("揽收", T.PICKED_UP),
    ("转投", T.REDIRECTED),
    ("清关异常", T.CUSTOMS_PROBLEM),
    ("清关", T.CUSTOMS),
    ("在途", T.IN_TRANSIT),
)


def kuaidi100_status(state: str | None, word: str | None = None) -> str:
    """Normalise a Kuaidi100 state code (an open set: sub-codes like 1001 map by prefix) or word."""
    state = (state or "").strip()
    if state in KUAIDI100_STATES:
        return KUAIDI100_STATES[state]
    # The event's own word is the surest; the resultv2=4 sub-state codes are unconfirmed
    # (3 digits: parent state first, e.g. 301 signed; 10xx: in transit), so they come second.
    for needle, status in KUAIDI100_WORDS:
        if word and needle in word:
            return status
    if len(state) == 3 and state[0] in KUAIDI100_STATES:
        return KUAIDI100_STATES[state[0]]
    return T.IN_TRANSIT
