from django.contrib import admin

from orderhub.ingest.models import Channel


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "kind", "masks_phone", "active"]
