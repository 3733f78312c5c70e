from django.urls import path

from orderhub.notify import views

app_name = "notify"
urlpatterns = [
    path("failed/", views.failed_deliveries, name="failed"),
    path("failed/retry-all/", views.deliveries_retry_all_view, name="retry_all"),
    path("failed/<int:delivery_id>/retry/", views.delivery_retry_view, name="retry"),
]
