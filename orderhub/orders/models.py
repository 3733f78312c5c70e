"""The order master table (订单主表), its lines, holds and the operation log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from orderhub.catalog.models import CustomerTier
from orderhub.core.db import CompiledRows
from orderhub.orders.states import OrderStatus

# Keys under which an order's snapshot keeps a line's channel sub-order id: ours (imports, the
# API), then the channel's own names in raw lines kept as the channel sent them.
SUB_ORDER_KEYS = ("sub_order_no", "sub_order_id", "sourceEntryId")


class PhoneKind(models.TextChoices):
    NORMAL = "normal", _("正常")
    MASKED = "masked", _("平台打码")
    VIRTUAL = "virtual", _("虚拟号")
    INVALID = "invalid", _("无效")
    EMPTY = "empty", _("缺失")


class Order(models.Model):
    # --- the eight anchor fields -------------------------------------------------------------
    order_no = models.CharField(_("订单号"), max_length=40, unique=True)
    channel = models.ForeignKey(
        "ingest.Channel", verbose_name=_("来源渠道"), on_delete=models.PROTECT, related_name="orders"
    )
    ordered_at = models.DateTimeField(_("下单时间"))
    customer_tier = models.CharField(
        _("客户等级"), max_length=8, choices=CustomerTier.choices, default=CustomerTier.C
    )
    # (the SKU list is OrderLine below)
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=OrderStatus.choices,
        default=OrderStatus.PENDING_REVIEW,
    )
    last_operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("最后操作人"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Not indexed: every move rewrites it and nothing searches or sorts orders by it.
    updated_at = models.DateTimeField(_("最后更新时间"))
    # --- around them ---------------------------------------------------------------------------
    # NULL, not "", for parts and manual orders: the unique constraint applies only when present.
    channel_order_no = models.CharField(_("渠道订单号"), max_length=64, null=True, blank=True)  # noqa: DJ001
    customer = models.ForeignKey(
        "catalog.Customer",
        verbose_name=_("客户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    receiver_name = models.CharField(_("收货人"), max_length=64, blank=True)
    receiver_phone = models.CharField(_("收货电话"), max_length=32, blank=True)
    phone_kind = models.CharField(
        _("电话类型"), max_length=10, choices=PhoneKind.choices, default=PhoneKind.NORMAL
    )
    province = models.CharField(_("省"), max_length=32, blank=True)
    province_code = models.CharField(_("省代码"), max_length=6, blank=True)
    city = models.CharField(_("市"), max_length=32, blank=True)
    city_code = models.CharField(_("市代码"), max_length=6, blank=True)
    district = models.CharField(_("区县"), max_length=32, blank=True)
    district_code = models.CharField(_("区县代码"), max_length=6, blank=True)
    address_detail = models.CharField(_("详细地址"), max_length=255, blank=True)
    goods_amount = models.DecimalField(_("商品金额"), max_digits=14, decimal_places=2, default=0)
    shipping_fee = models.DecimalField(_("运费"), max_digits=12, decimal_places=2, default=0)
    total_amount = models.DecimalField(_("订单金额"), max_digits=14, decimal_places=2, default=0)
    remark = models.TextField(_("备注"), blank=True)
    promised_at = models.DateTimeField(_("承诺送达时间"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(_("优先级"), default=0)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("负责销售"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="owned_orders",
    )
    selling_entity = models.ForeignKey(
        "accounts.LegalEntity",
        verbose_name=_("销售主体"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    shipping_entity = models.ForeignKey(
        "accounts.LegalEntity",
        verbose_name=_("发货主体"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    invoicing_entity = models.ForeignKey(
        "accounts.LegalEntity",
        verbose_name=_("开票主体"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="+",
    )
    warehouse = models.ForeignKey(
        "inventory.Warehouse",
        verbose_name=_("发货仓"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("母单"),
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.PROTECT,
        related_name="parts",
    )
    part_no = models.PositiveSmallIntegerField(_("子单序号"), null=True, blank=True)
    lines_snapshot = models.JSONField(_("原始明细"), default=list, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    status_changed_at = models.DateTimeField(_("进入当前状态时间"))
    version = models.PositiveIntegerField(_("版本"), default=1)
    # Head of this order's hash chain, so truncating its log tail is detectable.
    log_seq = models.PositiveIntegerField(default=0)
    log_head = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        constraints = [
            # Re-importing a channel's export never creates a second order.
            models.UniqueConstraint(
                fields=["channel", "channel_order_no"],
                condition=Q(channel_order_no__isnull=False),
                name="order_unique_channel_order_no",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="order_version_gte_1"),
        ]
        # Every index costs each transition's UPDATE and each imported order's INSERT, so a column
        # gets its own only when no composite below already leads with it: status, ordered_at,
        # owner and warehouse are covered by these; last operator and the legal entities are
        # never searched by (their rows are protected, not deleted).
        indexes = [
            models.Index(fields=["status", "-ordered_at", "-id"], name="order_status_ordered"),
            models.Index(fields=["-ordered_at", "-id"], name="order_ordered_keyset"),
            # Partial where a column is often empty (imported orders have no owner, no warehouse
            # until allocated, no promised time): no index entry to write for those, and every
            # query by these columns compares them with a value, which implies IS NOT NULL.
            models.Index(
                fields=["owner", "-ordered_at"], condition=Q(owner__isnull=False), name="order_owner_ordered"
            ),
            # The board: each column's most urgent cards, overall, per salesperson, per warehouse.
            models.Index(
                fields=["status", "-priority", "status_changed_at", "id"], name="order_board_urgency"
            ),
            models.Index(
                fields=["owner", "status", "-priority", "status_changed_at", "id"],
                condition=Q(owner__isnull=False),
                name="order_owner_board",
            ),
            models.Index(
                fields=["warehouse", "status", "-priority", "status_changed_at", "id"],
                condition=Q(warehouse__isnull=False),
                name="order_warehouse_board",
            ),
            # A parent's parts. Partial: most orders are no part, and SQLite's statistics would
            # count all their NULLs as one value and prefer a full scan for `parent_id = ?`.
            models.Index(fields=["parent"], condition=Q(parent__isnull=False), name="order_parts"),
            # Exact look-ups by phone (search, customer self-service, duplicate check on import).
            models.Index(fields=["receiver_phone"], name="order_receiver_phone"),
            # Look-ups by the channel's own number (search, customer self-service).
            models.Index(fields=["channel_order_no"], name="order_channel_order_no"),
            # "Late against the promised time" only ever looks at open orders.
            models.Index(
                fields=["promised_at"],
                condition=~Q(status__in=["completed", "cancelled"]) & Q(promised_at__isnull=False),
                name="order_open_promised",
            ),
        ]

    def __str__(self) -> str:
        return self.order_no

    def sub_order_nos(self) -> list[str]:
        """Each line's channel sub-order id as the order's snapshot kept it ("" where it did
        not), in line order. An import keeps its lines under "lines" next to what re-imports
        compare; the API keeps the list of lines itself."""
        snap = self.lines_snapshot
        lines = snap.get("lines") if isinstance(snap, dict) else snap
        if not isinstance(lines, list):
            return []
        return [
            next((str(ln[k]) for k in SUB_ORDER_KEYS if ln.get(k)), "") if isinstance(ln, dict) else ""
            for ln in lines
        ]

    def open_hold_reasons(self) -> list[str]:
        """Labels of unresolved holds; uses prefetched holds when present.

        Otherwise read by a query compiled once: the approve guard asks on every approval.
        """
        prefetched = getattr(self, "_prefetched_objects_cache", {}).get("holds")
        if prefetched is not None:
            return [h.get_reason_display() for h in prefetched if h.resolved_at is None]
        labels = dict(HoldReason.choices)
        return [str(labels.get(reason, reason)) for _pk, reason in open_holds(self.pk)]


class OrderLine(models.Model):
    # No index of its own: the unique (order, line_no) index serves every look-up by order.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_index=False)
    line_no = models.PositiveSmallIntegerField()
    sku = models.ForeignKey(
        "catalog.Sku", null=True, blank=True, on_delete=models.PROTECT, related_name="order_lines"
    )
    sku_code = models.CharField(_("商家编码"), max_length=64, db_index=True)
    name = models.CharField(_("商品名称"), max_length=128, blank=True)
    quantity = models.IntegerField(_("数量"))
    unit_price = models.DecimalField(_("单价"), max_digits=12, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("订单明细")
        verbose_name_plural = _("订单明细")
        ordering = ["order_id", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="orderline_unique_no"),
        ]

    def __str__(self) -> str:
        return f"{self.sku_code} × {self.quantity}"


class HoldReason(models.TextChoices):
    INCOMPLETE_ADDRESS = "incomplete_address", _("地址不完整")
    INVALID_PHONE = "invalid_phone", _("电话无效")
    MASKED_PHONE = "masked_phone", _("电话被平台隐藏")
    STOCK_CONFLICT = "stock_conflict", _("库存冲突")
    UNKNOWN_SKU = "unknown_sku", _("未知商品")
    BAD_QUANTITY = "bad_quantity", _("数量错误")
    DUPLICATE = "duplicate", _("疑似重复")
    BLACKLISTED = "blacklisted", _("黑名单")
    AMOUNT_REVIEW = "amount_review", _("金额需人工审核")
    REMARK_KEYWORD = "remark_keyword", _("备注需处理")
    CREDIT_LIMIT = "credit_limit", _("超出信用额度")
    CHANGED_AFTER_ALLOCATION = "changed_after_allocation", _("分仓后渠道改单")
    MANUAL = "manual", _("人工拦截")


class OrderHold(models.Model):
    """An interception (拦截): keeps the order in 待审核 until someone resolves it."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="holds")
    reason = models.CharField(_("拦截原因"), max_length=32, choices=HoldReason.choices)
    detail = models.CharField(_("说明"), max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolution = models.CharField(_("处理说明"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("拦截")
        verbose_name_plural = _("拦截")
        constraints = [
            # One open hold per reason: re-running a rule does not stack duplicates.
            models.UniqueConstraint(
                fields=["order", "reason"],
                condition=Q(resolved_at__isnull=True),
                name="hold_unique_open_reason",
            )
        ]

    def __str__(self) -> str:
        return self.get_reason_display()


class LogAction(models.TextChoices):
    CREATE = "create", _("创建")
    TRANSITION = "transition", _("状态变更")
    HOLD = "hold", _("拦截")
    RELEASE = "release", _("解除拦截")
    EDIT = "edit", _("修改")
    NOTE = "note", _("备注")


class OperationLog(models.Model):
    """Append-only operation log (操作留痕), hash-chained per order.

    Each entry carries the hash of the previous entry of the same order, so unrelated orders
    never serialise on one global chain head; AuditAnchor seals ranges of entries globally so
    deleting a whole order's history is still detectable.
    """

    # No index of its own: the unique (order, seq) index serves every look-up by order.
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="log", db_index=False)
    seq = models.PositiveIntegerField()
    action = models.CharField(max_length=16, choices=LogAction.choices)
    transition = models.CharField(max_length=32, blank=True)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)
    automatic = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(db_index=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("操作日志")
        verbose_name_plural = _("操作日志")
        constraints = [
            models.UniqueConstraint(fields=["order", "seq"], name="oplog_unique_order_seq"),
        ]
        indexes = [models.Index(fields=["to_status", "at"], name="oplog_to_status_at")]

    def __str__(self) -> str:
        return f"{self.order_id}#{self.seq} {self.action}"


class AuditAnchor(models.Model):
    """A seal over every log entry with id in (previous anchor's last_log_id, last_log_id]."""

    first_log_id = models.BigIntegerField()
    last_log_id = models.BigIntegerField(unique=True)
    entry_count = models.PositiveIntegerField()
    digest = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("审计锚点")
        verbose_name_plural = _("审计锚点")
        ordering = ["last_log_id"]

    def __str__(self) -> str:
        return f"{self.first_log_id}-{self.last_log_id}"


class IdempotencyRecord(models.Model):
    """Remembers which order an `Idempotency-Key` created, per user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=128)
    request_hash = models.CharField(max_length=64)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key"),
        ]

    def __str__(self) -> str:
        return self.key


# Unresolved holds of one order, in the order they were placed: read on every approval (the
# guard) and every review, so built once.
_OPEN_HOLDS = CompiledRows(
    lambda order_id: (
        OrderHold.objects.filter(order_id=order_id, resolved_at__isnull=True)
        .order_by("pk")
        .values_list("pk", "reason")
    )
)


def open_holds(order_id: int) -> list[tuple[int, str]]:
    """(hold id, reason) of the order's unresolved holds, oldest first."""
    return _OPEN_HOLDS.rows(order_id)
