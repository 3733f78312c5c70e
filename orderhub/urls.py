from django.contrib import admin
from django.urls import include, path, re_path

from orderhub.api import api, api_not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    # After the API's own routes: unknown /api/ URLs answer in the API's JSON error shape.
    re_path(r"^api/(?P<path>.*)$", api_not_found),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("orderhub.accounts.urls")),
    path("packing/", include("orderhub.fulfilment.urls")),
    path("notify/", include("orderhub.notify.urls")),
    path("tracking/", include("orderhub.tracking.urls")),
    path("ingest/", include("orderhub.ingest.urls")),
    path("drafts/", include("orderhub.drafts.urls")),
    path("dashboard/", include("orderhub.insights.urls")),
    path("", include("orderhub.portal.urls")),
    path("", include("orderhub.web.urls")),
]
