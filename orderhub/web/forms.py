"""Forms of the staff pages: they parse and validate request data, nothing more."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orderhub.catalog.models import CustomerTier
from orderhub.orders.selectors import OrderFilters
from orderhub.orders.states import OrderStatus
from orderhub.web.board import BoardFilters


def _start_of_day(day: date) -> datetime:
    """Midnight of `day` in the current time zone (Asia/Shanghai), as an aware datetime."""
    return timezone.make_aware(datetime.combine(day, time.min))


class OrderFilterForm(forms.Form):
    """The order list's filters, all optional, read from the query string."""

    status = forms.ChoiceField(label=_("状态"), required=False)
    channel = forms.ChoiceField(label=_("渠道"), required=False)
    tier = forms.ChoiceField(label=_("客户等级"), required=False)
    date_from = forms.DateField(
        label=_("下单日期起"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("下单日期止"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    mine = forms.BooleanField(label=_("只看我的"), required=False)

    def __init__(self, *args: object, channels: list[tuple[str, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["status"].choices = [("", _("全部状态")), *OrderStatus.choices]
        self.fields["channel"].choices = [("", _("全部渠道")), *channels]
        self.fields["tier"].choices = [("", _("全部等级")), *CustomerTier.choices]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("结束日期不能早于开始日期"))
        return data

    def to_filters(self) -> OrderFilters:
        """Selector filters from whatever fields are valid (an invalid one is simply not applied)."""
        if not self.is_bound:
            return OrderFilters()
        self.is_valid()
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        return OrderFilters(
            status=[data["status"]] if data.get("status") else [],
            channel=[data["channel"]] if data.get("channel") else [],
            customer_tier=[data["tier"]] if data.get("tier") else [],
            only_mine=bool(data.get("mine")),
            ordered_from=_start_of_day(start) if start else None,
            # The end date is inclusive for people, exclusive for the selector.
            ordered_to=_start_of_day(end + timedelta(days=1)) if end else None,
        )


class TransitionForm(forms.Form):
    """One transition button: the target status, the version the user saw, and a reason."""

    to = forms.ChoiceField(choices=OrderStatus.choices)
    expected_version = forms.IntegerField(
        min_value=1,
        error_messages={
            "required": _("页面已过期，请刷新后重试"),
            "invalid": _("页面已过期，请刷新后重试"),
        },
    )
    reason = forms.CharField(required=False, max_length=500)

    def first_error(self) -> str:
        for errors in self.errors.values():
            return str(errors[0])
        return ""


class BoardFilterForm(forms.Form):
    """The board's filters (all optional). Unbound, "only my orders" follows the role's preset."""

    status = forms.ChoiceField(label=_("状态"), required=False)
    date_from = forms.DateField(
        label=_("下单日期起"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("下单日期止"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    tier = forms.ChoiceField(label=_("客户等级"), required=False)
    channel = forms.ChoiceField(label=_("渠道"), required=False)
    warehouse = forms.TypedChoiceField(label=_("仓库"), required=False, coerce=int, empty_value=None)
    owner = forms.TypedChoiceField(label=_("负责销售"), required=False, coerce=int, empty_value=None)
    entity = forms.TypedChoiceField(label=_("法人主体"), required=False, coerce=int, empty_value=None)
    mine = forms.BooleanField(label=_("只看我的"), required=False)
    show_cancelled = forms.BooleanField(label=_("显示已取消"), required=False)

    def __init__(
        self,
        data: Any = None,
        *,
        choices: dict[str, list[tuple[Any, str]]] | None,
        mine_default: bool = False,
    ) -> None:
        # The board sends `f=1` with every filter change, so an unticked box means "off".
        bound = data is not None and "f" in data
        super().__init__(data if bound else None, initial={"mine": mine_default})
        self.mine_default = mine_default
        self.fields["status"].choices = [("", _("全部状态")), *OrderStatus.choices]
        self.fields["tier"].choices = [("", _("全部等级")), *CustomerTier.choices]
        if choices is None:
            # Polls and moves only re-apply filters already chosen: check types, skip the lists.
            self.fields["channel"] = forms.CharField(required=False, max_length=32)
            for name in ("warehouse", "owner", "entity"):
                self.fields[name] = forms.IntegerField(required=False, min_value=1)
            return
        self.fields["channel"].choices = [("", _("全部渠道")), *choices["channel"]]
        self.fields["warehouse"].choices = [("", _("全部仓库")), *choices["warehouse"]]
        self.fields["owner"].choices = [("", _("全部销售")), *choices["owner"]]
        self.fields["entity"].choices = [("", _("全部主体")), *choices["entity"]]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("结束日期不能早于开始日期"))
        return data

    def to_filters(self) -> BoardFilters:
        """Selector filters from the valid fields (an invalid one is shown with its error, not applied)."""
        if not self.is_bound:
            return BoardFilters(mine=self.mine_default)
        self.is_valid()
        d = self.cleaned_data
        start, end = d.get("date_from"), d.get("date_to")
        return BoardFilters(
            status=d.get("status") or "",
            ordered_from=_start_of_day(start) if start else None,
            ordered_to=_start_of_day(end + timedelta(days=1))
            if end and "date_to" not in self.errors
            else None,
            tier=d.get("tier") or "",
            channel=d.get("channel") or "",
            warehouse=d.get("warehouse"),
            owner=d.get("owner"),
            entity=d.get("entity"),
            mine=bool(d.get("mine")),
            show_cancelled=bool(d.get("show_cancelled")),
        )

    def query_string(self) -> str:
        """Just the filters as a query string (for "more" links and the landing page's links)."""
        if not self.is_bound:
            return "f=1&mine=on" if self.mine_default else "f=1"
        pairs = [("f", "1")] + [(k, v) for k in self.fields for v in self.data.getlist(k) if v]
        return urlencode(pairs)
