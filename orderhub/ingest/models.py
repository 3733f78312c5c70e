"""Sales channels, mapping presets, import batches with their staged rows, and SQL sources."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils.translation import gettext_lazy as _


class ChannelKind(models.TextChoices):
    PINDUODUO = "pinduoduo", _("拼多多")
    DOUYIN = "douyin", _("抖店")
    ALIBABA_1688 = "1688", _("1688")
    TAOBAO = "taobao", _("淘宝/天猫")
    KUAISHOU = "kuaishou", _("快手")
    ERP = "erp", _("ERP")
    WECHAT = "wechat", _("微信")
    MANUAL = "manual", _("手工")
    API = "api", _("API")
    SIMULATED = "simulated", _("模拟")


class Channel(models.Model):
    code = models.CharField(_("渠道编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=64)
    kind = models.CharField(_("类型"), max_length=16, choices=ChannelKind.choices)
    # Marketplaces mask or virtualise the buyer's phone; OrderHub must not "repair" it.
    masks_phone = models.BooleanField(_("平台隐藏手机号"), default=False)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("渠道")
        verbose_name_plural = _("渠道")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


# --- mapping presets (字段映射方案) ----------------------------------------------------------


class ImportKindChoices(models.TextChoices):
    ORDERS = "orders", _("订单")
    SKUS = "skus", _("商品")
    CUSTOMERS = "customers", _("客户")
    STOCK = "stock", _("库存")


class IngestStorage(FileSystemStorage):
    """Uploaded import files, under settings.ORDERHUB_INGEST["FILES_DIR"] (read at each use)."""

    @property  # type: ignore[override]
    def base_location(self) -> str:
        from orderhub.ingest.conf import files_dir

        return str(files_dir())

    @property  # type: ignore[override]
    def location(self) -> str:
        return os.path.abspath(self.base_location)


ingest_storage = IngestStorage()


class MappingPreset(models.Model):
    """A named mapping from a file layout's columns to OrderHub's standard fields.

    `mapping` is {"fields": {field: {"columns": [header, …], "transforms": [{"op": …}, …]}}}; columns
    are named by header text (matched tolerant of spacing and full-width characters), so column
    order may change between exports.
    """

    name = models.CharField(_("名称"), max_length=64, unique=True)
    kind = models.CharField(
        _("导入类型"), max_length=16, choices=ImportKindChoices.choices, default=ImportKindChoices.ORDERS
    )
    channel = models.ForeignKey(
        Channel,
        verbose_name=_("渠道"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="presets",
    )
    channel_kind = models.CharField(_("渠道类型"), max_length=16, choices=ChannelKind.choices, blank=True)
    builtin = models.BooleanField(_("内置"), default=False)
    description = models.CharField(_("说明"), max_length=255, blank=True)
    headers = models.JSONField(_("表头"), default=list, blank=True)
    signature = models.CharField(_("表头签名"), max_length=40, db_index=True, blank=True)
    mapping = models.JSONField(_("映射"), default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("字段映射方案")
        verbose_name_plural = _("字段映射方案")
        ordering = ["-builtin", "name"]

    def __str__(self) -> str:
        return self.name


# --- batches ----------------------------------------------------------------------------------


class BatchStatus(models.TextChoices):
    PENDING = "pending", _("排队中")
    READING = "reading", _("读取中")
    RUNNING = "running", _("导入中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class BatchSource(models.TextChoices):
    FILE = "file", _("文件")
    API = "api", _("API")
    SQL = "sql", _("数据库")


class RowOutcome(models.TextChoices):
    CREATED = "created", _("新建")
    HELD = "held", _("新建并拦截")
    UPDATED = "updated", _("已更新")
    UNCHANGED = "unchanged", _("无变化")
    CONFLICT = "conflict", _("改单冲突")
    REJECTED = "rejected", _("拒绝")
    SKIPPED = "skipped", _("跳过")


class ImportBatch(models.Model):
    """One import: the file (or payload) as received, the mapping used, counts and per-row outcomes."""

    kind = models.CharField(
        _("导入类型"), max_length=16, choices=ImportKindChoices.choices, default=ImportKindChoices.ORDERS
    )
    source = models.CharField(_("来源"), max_length=8, choices=BatchSource.choices, default=BatchSource.FILE)
    status = models.CharField(
        _("状态"), max_length=10, choices=BatchStatus.choices, default=BatchStatus.PENDING
    )
    channel = models.ForeignKey(
        Channel, verbose_name=_("渠道"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    preset = models.ForeignKey(
        MappingPreset,
        verbose_name=_("映射方案"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    preset_name = models.CharField(_("映射方案名称"), max_length=64, blank=True)
    mapping_note = models.CharField(_("映射来源"), max_length=255, blank=True)
    mapping = models.JSONField(_("实际使用的映射"), default=dict, blank=True)
    file = models.FileField(_("文件"), storage=ingest_storage, upload_to="%Y/%m/", blank=True, max_length=255)
    filename = models.CharField(_("文件名"), max_length=255, blank=True)
    size = models.BigIntegerField(_("大小"), default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    file_format = models.CharField(_("格式"), max_length=8, blank=True)
    encoding = models.CharField(_("编码"), max_length=32, blank=True)
    sheet = models.CharField(_("工作表"), max_length=64, blank=True)
    header_row = models.PositiveIntegerField(_("表头行"), null=True, blank=True)
    headers = models.JSONField(_("表头"), default=list, blank=True)
    total_rows = models.PositiveIntegerField(_("数据行数"), default=0)
    processed_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    created_count = models.PositiveIntegerField(_("新建"), default=0)
    held_count = models.PositiveIntegerField(_("新建并拦截"), default=0)
    updated_count = models.PositiveIntegerField(_("更新"), default=0)
    unchanged_count = models.PositiveIntegerField(_("无变化"), default=0)
    conflict_count = models.PositiveIntegerField(_("改单冲突"), default=0)
    rejected_count = models.PositiveIntegerField(_("拒绝"), default=0)
    skipped_count = models.PositiveIntegerField(_("跳过"), default=0)
    hold_counts = models.JSONField(_("拦截原因统计"), default=dict, blank=True)
    reject_counts = models.JSONField(_("拒绝原因统计"), default=dict, blank=True)
    message = models.TextField(_("说明"), blank=True)
    options = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.filename or self.get_source_display()}"

    @property
    def progress(self) -> int:
        if self.status == BatchStatus.DONE:
            return 100
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0


class ImportChunk(models.Model):
    """Raw rows as read (staged before any mapping), and each row's outcome once processed."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="chunks")
    seq = models.PositiveIntegerField()
    rows = models.JSONField(default=list)  # [[row_no, [cell, …]], …]
    processed = models.BooleanField(default=False)
    outcomes = models.JSONField(default=list, blank=True)  # [[row_no, outcome, order_id|None], …]

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "seq"], name="importchunk_unique_seq")]
        ordering = ["batch_id", "seq"]

    def __str__(self) -> str:
        return f"{self.batch_id}/{self.seq}"


class ImportIssue(models.Model):
    """A problem row: rejected (not imported) or imported and held/conflicting, with its reason."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="issues")
    row_no = models.PositiveIntegerField(_("行号"))
    column = models.CharField(_("列"), max_length=128, blank=True)
    outcome = models.CharField(_("结果"), max_length=10, choices=RowOutcome.choices)
    code = models.CharField(_("原因代码"), max_length=32)
    message = models.CharField(_("原因"), max_length=500)
    channel_order_no = models.CharField(_("渠道订单号"), max_length=64, blank=True)
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("导入问题")
        verbose_name_plural = _("导入问题")
        ordering = ["batch_id", "row_no", "id"]
        indexes = [models.Index(fields=["batch", "row_no"], name="importissue_batch_row")]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row_no} {self.code}"


class ChannelChange(models.Model):
    """A channel changed an order after it was allocated: kept for a person to reconcile."""

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="channel_changes")
    batch = models.ForeignKey(ImportBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    fingerprint = models.CharField(max_length=64)
    changes = models.JSONField(_("变更"), default=dict)
    data = models.JSONField(_("渠道新数据"), default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("渠道改单冲突")
        verbose_name_plural = _("渠道改单冲突")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "fingerprint"],
                condition=models.Q(resolved_at__isnull=True),
                name="channelchange_unique_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.order_id} {self.created_at:%Y-%m-%d}"


# --- SQL sources (库存/订单同步) ---------------------------------------------------------------


class SqlSource(models.Model):
    """A read-only database the worker pulls orders or stock from on a schedule.

    `url` is an SQLAlchemy URL; write `env:NAME` to read it from the environment variable NAME so
    that passwords stay out of the database.
    """

    name = models.CharField(_("名称"), max_length=64, unique=True)
    kind = models.CharField(
        _("导入类型"), max_length=16, choices=ImportKindChoices.choices, default=ImportKindChoices.ORDERS
    )
    url = models.CharField(_("连接 URL"), max_length=500)
    query = models.TextField(_("查询 SQL"))
    preset = models.ForeignKey(MappingPreset, on_delete=models.PROTECT, related_name="+")
    channel = models.ForeignKey(Channel, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    watermark_column = models.CharField(_("增量列"), max_length=64, blank=True)
    watermark = models.CharField(_("增量水位"), max_length=64, blank=True)
    every_minutes = models.PositiveIntegerField(_("间隔(分钟)"), default=10)
    active = models.BooleanField(_("启用"), default=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_batch = models.ForeignKey(
        ImportBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("数据库数据源")
        verbose_name_plural = _("数据库数据源")

    def __str__(self) -> str:
        return self.name
