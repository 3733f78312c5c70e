from django.contrib import admin
from django.urls import include, path

from orderhub.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("orderhub.accounts.urls")),
    path("tracking/", include("orderhub.tracking.urls")),
    path("", include("orderhub.web.urls")),
]
