"""Forms of the notify pages: a message template (checked by rendering it) and one's own preferences."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from orderhub.notify.models import EVENT_CHOICES, NotifyChannel
from orderhub.notify.rendering import template_problem


class MessageTemplateForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=300)
    body = forms.CharField(label=_("正文"), required=False, widget=forms.Textarea(attrs={"rows": 6}))

    def _check(self, name: str) -> str:
        value = self.cleaned_data.get(name, "")
        problem = template_problem(value)
        if problem:
            raise forms.ValidationError(problem)
        return value

    def clean_title(self) -> str:
        return self._check("title")

    def clean_body(self) -> str:
        return self._check("body")


class PreferenceForm(forms.Form):
    muted_channels = forms.MultipleChoiceField(
        label=_("不接收这些方式的通知"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[c for c in NotifyChannel.choices if c[0] != NotifyChannel.INBOX],
    )
    muted_events = forms.MultipleChoiceField(
        label=_("不接收这些事件的通知"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=EVENT_CHOICES,
    )

    def values(self) -> dict[str, Any]:
        return {
            "muted_channels": self.cleaned_data["muted_channels"],
            "muted_events": self.cleaned_data["muted_events"],
        }
