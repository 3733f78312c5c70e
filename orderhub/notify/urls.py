from django.urls import path

from orderhub.notify import views

app_name = "notify"
urlpatterns = [
    path("failed/", views.failed_deliveries, name="failed"),
    path("failed/retry-all/", views.deliveries_retry_all_view, name="retry_all"),
    path("failed/<int:delivery_id>/retry/", views.delivery_retry_view, name="retry"),
    path("templates/", views.templates_list, name="templates"),
    path("templates/<slug:event>/", views.template_edit, name="template_edit"),
    path("preferences/", views.preferences, name="preferences"),
]
