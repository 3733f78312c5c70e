from django.urls import path

from orderhub.insights import views

app_name = "insights"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("meeting/", views.meeting, name="meeting"),
    path("export.xlsx", views.export, name="export"),
    path("orders/", views.drill, name="drill"),
]
