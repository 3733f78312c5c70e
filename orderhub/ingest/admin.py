from django.contrib import admin

from orderhub.ingest.models import Channel, ChannelChange, ImportBatch, MappingPreset, SqlSource


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "masks_phone", "active"]


@admin.register(MappingPreset)
class MappingPresetAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "channel", "channel_kind", "builtin", "updated_at"]
    list_filter = ["kind", "builtin"]
    search_fields = ["name"]


@admin.register(ImportBatch)
class ImportBatchAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "filename",
        "kind",
        "source",
        "status",
        "total_rows",
        "created_count",
        "held_count",
        "updated_count",
        "rejected_count",
        "created_at",
    ]
    list_filter = ["kind", "source", "status"]
    readonly_fields = [f.name for f in ImportBatch._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(SqlSource)
class SqlSourceAdmin(admin.ModelAdmin):
    """SQL sources are configured here; write the URL as `env:NAME` to keep passwords out of the DB."""

    list_display = [
        "name",
        "kind",
        "preset",
        "channel",
        "every_minutes",
        "active",
        "last_run_at",
        "last_error",
    ]
    readonly_fields = ["last_run_at", "last_batch", "last_error"]


@admin.register(ChannelChange)
class ChannelChangeAdmin(admin.ModelAdmin):
    list_display = ["order", "batch", "created_at", "resolved_at"]
    readonly_fields = ["order", "batch", "fingerprint", "changes", "data", "created_at"]
