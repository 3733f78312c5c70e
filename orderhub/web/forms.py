"""Forms of the staff pages: they parse and validate request data, nothing more."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orderhub.catalog.models import CustomerTier
from orderhub.orders.selectors import OrderFilters
from orderhub.orders.states import OrderStatus


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
