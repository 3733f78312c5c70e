from django.urls import path

from orderhub.tracking import views

app_name = "tracking"
urlpatterns = [
    path("kuaidi100/callback", views.kuaidi100_callback, name="kuaidi100_callback"),
]
