from django.contrib import admin

from orderhub.catalog.models import Customer, Sku


@admin.register(Sku)
class SkuAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "spec", "weight_g", "fragile", "active"]
    search_fields = ["code", "name", "barcode"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "tier", "phone", "province", "owner"]
    list_filter = ["tier"]
    search_fields = ["code", "name", "phone"]
