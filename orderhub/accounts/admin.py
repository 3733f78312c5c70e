from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from orderhub.accounts.models import ApiToken, LegalEntity, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, ("OrderHub", {"fields": ("display_name", "mobile")}))
    list_display = ["username", "display_name", "mobile", "is_active", "is_staff"]


@admin.register(LegalEntity)
class LegalEntityAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "tax_id"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "token_hash", "created_at", "last_used_at"]
