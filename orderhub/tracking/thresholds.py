"""Stall thresholds (物流停滞阈值) per carrier and destination province, and keeping every watched
parcel's precomputed `stall_due_at` in step with them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.core.errors import PermissionDenied, ValidationFailed
from orderhub.tracking.carriers import carrier_get
from orderhub.tracking.conf import tracking_conf
from orderhub.tracking.models import Shipment, StallThreshold


@dataclass(frozen=True)
class Thresholds:
    """All rules, loaded once (the table is small) so a scan never queries per parcel."""

    rules: dict[tuple[str, str], float]
    default_hours: float

    @classmethod
    def load(cls) -> Thresholds:
        rules = {(r.carrier, r.province_code): float(r.hours) for r in StallThreshold.objects.all()}
        return cls(rules=rules, default_hours=float(tracking_conf()["STALL_HOURS"]))

    def hours(self, carrier: str, province_code: str) -> float:
        pair = self.rules.get((carrier, province_code))
        if pair is not None:
            return pair
        partial = [
            h for h in (self.rules.get((carrier, "")), self.rules.get(("", province_code))) if h is not None
        ]
        if partial:
            # Each rule says "silence this long is normal here"; the more patient one avoids
            # false alarms. A carrier+province rule overrides both.
            return max(partial)
        return self.rules.get(("", ""), self.default_hours)

    def delta(self, carrier: str, province_code: str) -> timedelta:
        return timedelta(hours=self.hours(carrier, province_code))


def threshold_for(carrier: str, province_code: str) -> timedelta:
    return Thresholds.load().delta(carrier, province_code)


def stall_deadlines_recompute(*, carrier: str | None = None, province_code: str | None = None) -> int:
    """Recompute stall_due_at of watched parcels (optionally one carrier / province) in set-based
    UPDATEs, one per (carrier, province) group. Returns parcels updated."""
    thresholds = Thresholds.load()
    watched = Shipment.objects.filter(stall_due_at__isnull=False)
    if carrier is not None:
        watched = watched.filter(carrier=carrier)
    if province_code is not None:
        watched = watched.filter(province_code=province_code)
    groups = watched.order_by().values_list("carrier", "province_code").distinct()
    updated = 0
    for c, p in list(groups):
        updated += watched.filter(carrier=c, province_code=p).update(
            stall_due_at=F("quiet_since") + thresholds.delta(c, p)
        )
    return updated


def stall_threshold_set(
    *, actor: User, carrier: str = "", province_code: str = "", hours: Decimal | float | None
) -> StallThreshold | None:
    """Set (or, with hours=None, remove) one threshold rule and re-time the parcels it governs."""
    if not actor.has_role(Role.LOGISTICS, Role.MANAGER, Role.ADMIN):
        raise PermissionDenied(_("只有物流、主管或管理员可以设置停滞阈值"))
    carrier = carrier.strip().lower()
    province_code = province_code.strip()
    if carrier and carrier_get(carrier) is None:
        raise ValidationFailed(_("未知承运商：%(c)s") % {"c": carrier}, field="carrier")
    if province_code and not (len(province_code) == 6 and province_code.isdigit()):
        raise ValidationFailed(_("省代码须为 6 位数字（GB/T 2260）"), field="province_code")
    if hours is not None and not Decimal(str(hours)) > 0:
        raise ValidationFailed(_("停滞阈值须大于 0 小时"), field="hours")
    with transaction.atomic():
        if hours is None:
            StallThreshold.objects.filter(carrier=carrier, province_code=province_code).delete()
            rule = None
        else:
            rule, _created = StallThreshold.objects.update_or_create(
                carrier=carrier, province_code=province_code, defaults={"hours": Decimal(str(hours))}
            )
        # A blank key widens the rule to every carrier / province.
        stall_deadlines_recompute(carrier=carrier or None, province_code=province_code or None)
    return rule
