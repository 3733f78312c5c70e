from django.urls import path

from orderhub.ingest import views

app_name = "ingest"
urlpatterns = [
    path("", views.import_home, name="home"),
    path("batches/<int:batch_id>/", views.batch_detail, name="batch"),
    path("batches/<int:batch_id>/report.xlsx", views.batch_report, name="batch_report"),
    path("export/", views.export_orders, name="export"),
    path("presets/", views.preset_list, name="presets"),
    path("presets/new/", views.preset_edit, name="preset_new"),
    path("presets/<int:preset_id>/edit/", views.preset_edit, name="preset_edit"),
    path("presets/<int:preset_id>/copy/", views.preset_copy_view, name="preset_copy"),
]
