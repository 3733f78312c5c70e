"""Admin: every fulfilment rule is a table a manager edits here, with a dry run where it decides."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from orderhub.fulfilment.allocation import strategy_choices
from orderhub.fulfilment.carriers import carrier_rules_dry_run
from orderhub.fulfilment.models import (
    AllocationPolicy,
    AllocationStep,
    BlacklistEntry,
    Carrier,
    CarrierRule,
    EntityRule,
    LabelPrint,
    ProvincePreference,
    ReviewRule,
    ReviewRun,
    ShipReport,
    SplitRule,
    Wave,
    Waybill,
)
from orderhub.fulfilment.reporting import ship_report_retry
from orderhub.fulfilment.review import RULES, review_rule_dry_run, rule_choices

DRY_RUN_DAYS = 7


def dry_run_page(request: HttpRequest, title: str, blocks: list[dict[str, Any]]) -> HttpResponse:
    return TemplateResponse(
        request,
        "admin/fulfilment/dry_run.html",
        {**admin.site.each_context(request), "title": title, "blocks": blocks},
    )


class AllocationStepForm(forms.ModelForm):
    strategy = forms.ChoiceField(label="策略", choices=strategy_choices)

    class Meta:
        model = AllocationStep
        fields = ["position", "strategy"]


class AllocationStepInline(admin.TabularInline):
    model = AllocationStep
    form = AllocationStepForm
    extra = 1


@admin.register(AllocationPolicy)
class AllocationPolicyAdmin(admin.ModelAdmin):
    list_display = ["name", "selling_entity", "active"]
    inlines = [AllocationStepInline]


@admin.register(ProvincePreference)
class ProvincePreferenceAdmin(admin.ModelAdmin):
    list_display = ["province", "warehouse", "rank"]
    list_filter = ["warehouse"]
    search_fields = ["province"]


class ReviewRuleForm(forms.ModelForm):
    rule = forms.ChoiceField(label="规则", choices=rule_choices)

    class Meta:
        model = ReviewRule
        fields = ["position", "name", "rule", "params", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        defaults = "；".join(
            f"{k}: {json.dumps(spec.defaults, ensure_ascii=False)}"
            for k, spec in RULES.items()
            if spec.defaults
        )
        self.fields["params"].help_text = "JSON 对象，留空用默认值。各规则默认参数 — " + defaults

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("rule") in RULES and not isinstance(data.get("params"), dict):
            self.add_error("params", "参数必须是 JSON 对象，例如 " + str(RULES[data["rule"]].defaults))
        return data


@admin.register(ReviewRule)
class ReviewRuleAdmin(admin.ModelAdmin):
    form = ReviewRuleForm
    list_display = ["position", "name", "rule", "params", "active"]
    list_display_links = ["name"]
    list_editable = ["position", "active"]
    actions = ["dry_run"]

    @admin.action(description=f"试运行：近 {DRY_RUN_DAYS} 天的订单中哪些会被拦截")
    def dry_run(self, request: HttpRequest, queryset: QuerySet[ReviewRule]) -> HttpResponse:
        now = timezone.now()
        blocks = []
        for r in queryset:
            checked, held = review_rule_dry_run(rule=r.rule, params=r.params, days=DRY_RUN_DAYS, now=now)
            blocks.append(
                {
                    "name": f"{r.name}（{r.rule}）",
                    "summary": f"检查 {checked} 单，会拦截 {len(held)} 单",
                    "headers": ["订单号", "下单时间", "原因"],
                    "rows": [(h.order_no, timezone.localtime(h.ordered_at), h.detail) for h in held],
                }
            )
        return dry_run_page(request, "审单规则试运行", blocks)


@admin.register(BlacklistEntry)
class BlacklistEntryAdmin(admin.ModelAdmin):
    list_display = ["kind", "value", "note", "active", "created_at"]
    list_filter = ["kind", "active"]
    search_fields = ["value"]


@admin.register(ReviewRun)
class ReviewRunAdmin(admin.ModelAdmin):
    list_display = ["order", "at", "outcome"]
    list_filter = ["outcome"]
    raw_id_fields = ["order"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SplitRule)
class SplitRuleAdmin(admin.ModelAdmin):
    list_display = ["position", "kind", "params", "active"]
    list_display_links = ["kind"]
    list_editable = ["position", "active"]


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "provider",
        "cp_code",
        "taobao_code",
        "pdd_logistics_id",
        "douyin_code",
        "alibaba_code",
        "next_number",
        "active",
    ]


@admin.register(CarrierRule)
class CarrierRuleAdmin(admin.ModelAdmin):
    list_display = ["position", "name", "provinces", "customer_tiers", "min_weight_kg", "carrier", "active"]
    list_display_links = ["name"]
    list_editable = ["position", "active"]
    actions = ["dry_run"]

    @admin.action(description=f"试运行整张快递策略表（近 {DRY_RUN_DAYS} 天订单）")
    def dry_run(self, request: HttpRequest, queryset: QuerySet[CarrierRule]) -> HttpResponse:
        report = carrier_rules_dry_run(days=DRY_RUN_DAYS)
        summary = "；".join(f"{k}：{v} 单" for k, v in report["by_rule"].items())
        block = {
            "name": f"检查 {report['checked']} 单",
            "summary": summary,
            "headers": ["订单号", "省份", "客户等级", "重量(kg)", "命中规则", "快递"],
            "rows": report["rows"],
        }
        return dry_run_page(request, "快递策略试运行", [block])


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Waybill)
class WaybillAdmin(ReadOnlyAdmin):
    list_display = ["number", "carrier", "order", "rule", "status", "created_at"]
    list_filter = ["carrier", "status"]
    search_fields = ["number", "order__order_no"]


@admin.register(LabelPrint)
class LabelPrintAdmin(ReadOnlyAdmin):
    list_display = ["waybill", "reprint", "reason", "actor", "at"]
    list_filter = ["reprint"]


@admin.register(Wave)
class WaveAdmin(admin.ModelAdmin):
    list_display = ["code", "warehouse", "created_at", "created_by"]
    raw_id_fields = ["orders"]


@admin.register(ShipReport)
class ShipReportAdmin(ReadOnlyAdmin):
    list_display = [
        "channel_order_no",
        "order",
        "adapter",
        "carrier",
        "tracking_number",
        "status",
        "attempts",
        "last_error",
    ]
    list_filter = ["status", "adapter"]
    search_fields = ["channel_order_no", "tracking_number", "order__order_no"]
    actions = ["retry"]

    @admin.action(description="重新回传所选（失败的）")
    def retry(self, request: HttpRequest, queryset: QuerySet[ShipReport]) -> None:
        n = 0
        for report in queryset.exclude(status=ShipReport.Status.SENT):
            ship_report_retry(report_id=report.pk)
            n += 1
        self.message_user(request, f"已重新排队 {n} 条发货回传")


@admin.register(EntityRule)
class EntityRuleAdmin(admin.ModelAdmin):
    list_display = [
        "position", "name", "channels", "provinces", "warehouse", "customer_tiers",
        "selling_entity", "shipping_entity", "invoicing_entity", "active",
    ]  # fmt: skip
    list_display_links = ["name"]
    list_editable = ["position", "active"]
