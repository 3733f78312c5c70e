"""Admin: every fulfilment rule is a table a manager edits here."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from orderhub.fulfilment.allocation import strategy_choices
from orderhub.fulfilment.models import AllocationPolicy, AllocationStep, ProvincePreference


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
