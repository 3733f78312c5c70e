"""Who is responsible for an order in each state (谁负责), and through which channels.

The table is `RoutingRule` (editable by managers). Of the rules of an event that match an order
(sales channel, warehouse, customer tier), only the most specific apply. An event without rules
falls back to the rules of its state, then to the built-in defaults below (in-app inbox only),
which follow DESIGN.md's "usually moved on by" column. Each person's `UserPreference` can mute
channels and events for them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.notify.models import (
    CHANNEL_PROVIDERS,
    EVENT_STATUS,
    OWNER,
    PERSONAL_CHANNELS,
    ROBOT_CHANNELS,
    Endpoint,
    NotifyChannel,
    RoutingRule,
    UserPreference,
)
from orderhub.orders.models import Order
from orderhub.orders.states import OrderStatus

RESPONSIBLE_ROLES: dict[str, tuple[str, ...]] = {
    OrderStatus.PENDING_REVIEW: (Role.CUSTOMER_SERVICE,),
    OrderStatus.SPLIT: (Role.WAREHOUSE,),
    OrderStatus.ALLOCATING: (Role.WAREHOUSE,),
    OrderStatus.LABEL_PRINTED: (Role.WAREHOUSE,),
    OrderStatus.SHIPPED: (Role.LOGISTICS,),
    OrderStatus.EXCEPTION: (Role.LOGISTICS, Role.CUSTOMER_SERVICE),
    OrderStatus.COMPLETED: (),
    OrderStatus.CANCELLED: (Role.WAREHOUSE,),
}
# States in which the order's own salesperson is told as well.
OWNER_INFORMED: frozenset[str] = frozenset(
    {OrderStatus.EXCEPTION, OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.PENDING_REVIEW}
)


@dataclass(frozen=True)
class Target:
    """One destination: a person on a personal channel, or a group robot with people to @."""

    channel: str
    user: User | None = None
    endpoint: Endpoint | None = None
    mentions: tuple[str, ...] = ()

    @property
    def suffix(self) -> str:
        return f"u{self.user.pk}" if self.user is not None else f"e{self.endpoint.pk if self.endpoint else 0}"


def responsible_users(order: Order, status: str) -> list[User]:
    """Active users who must act on (or hear about) this order in `status` by default."""
    cond = Q(groups__name__in=RESPONSIBLE_ROLES.get(status, ()))
    if status in OWNER_INFORMED and order.owner_id:
        cond |= Q(pk=order.owner_id)
    return list(User.objects.filter(cond, is_active=True).distinct().order_by("pk"))


def rule_matches(rule: RoutingRule, order: Order) -> bool:
    return (
        (rule.sales_channel_id is None or rule.sales_channel_id == order.channel_id)
        and (rule.warehouse_id is None or rule.warehouse_id == order.warehouse_id)
        and (not rule.customer_tier or rule.customer_tier == order.customer_tier)
    )


def matching_rules(order: Order, event: str) -> list[RoutingRule]:
    """The most specific active rules of `event` (else of its state) that match the order."""
    for key in dict.fromkeys([event, EVENT_STATUS.get(event, event)]):
        rules = [
            r
            for r in RoutingRule.objects.filter(event=key, is_active=True).select_related("user", "endpoint")
            if rule_matches(r, order)
        ]
        if rules:
            top = max(r.specificity for r in rules)
            return [r for r in rules if r.specificity == top]
    return []


def _people(rule: RoutingRule, order: Order) -> list[User]:
    if rule.user_id is not None:
        return [rule.user] if rule.user.is_active else []
    if rule.role == OWNER:
        return [order.owner] if order.owner_id and order.owner.is_active else []
    return list(User.objects.filter(groups__name=rule.role, is_active=True).distinct().order_by("pk"))


class DefaultEndpoints:
    """Default endpoint per channel, looked up once per routing."""

    def __init__(self) -> None:
        self._cache: dict[str, Endpoint | None] = {}

    def default(self, channel: str) -> Endpoint | None:
        if channel not in self._cache:
            self._cache[channel] = (
                Endpoint.objects.filter(is_active=True, provider__in=CHANNEL_PROVIDERS.get(channel, ()))
                .order_by("-is_default", "pk")
                .first()
            )
        return self._cache[channel]


def route(order: Order, event: str) -> list[Target]:
    """Every destination owed a message about `event` on `order`, de-duplicated."""
    rules = matching_rules(order, event)
    if rules:
        plan = [(_people(rule, order), list(rule.channels), rule.endpoint) for rule in rules]
    else:
        plan = [(responsible_users(order, EVENT_STATUS.get(event, event)), [NotifyChannel.INBOX], None)]
    everyone = {u.pk for people, _c, _e in plan for u in people}
    prefs = {p.user_id: p for p in UserPreference.objects.filter(user_id__in=everyone)}

    def wants(user: User, channel: str) -> bool:
        pref = prefs.get(user.pk)
        return pref is None or (channel not in pref.muted_channels and event not in pref.muted_events)

    endpoints = DefaultEndpoints()
    personal: dict[tuple[str, int], Target] = {}
    robots: dict[tuple[str, int], tuple[Endpoint | None, list[str]]] = {}
    for people, channels, endpoint in plan:
        for channel in channels:
            if channel in PERSONAL_CHANNELS:
                for user in people:
                    if wants(user, channel):
                        needs_endpoint = channel == NotifyChannel.SMS
                        ep = (endpoint or endpoints.default(channel)) if needs_endpoint else None
                        personal.setdefault((channel, user.pk), Target(channel, user=user, endpoint=ep))
            elif channel in ROBOT_CHANNELS:
                ep = endpoint or endpoints.default(channel)
                _ep, mobiles = robots.setdefault((channel, ep.pk if ep else 0), (ep, []))
                mobiles.extend(u.mobile for u in people if u.mobile and wants(u, channel))
    targets = list(personal.values())
    for (channel, _pk), (ep, mobiles) in robots.items():
        targets.append(Target(channel, endpoint=ep, mentions=tuple(dict.fromkeys(mobiles))))
    return targets
