from django.urls import path

from orderhub.portal import views

app_name = "portal"
urlpatterns = [
    path("track", views.start, name="start"),
    path("track/code", views.code, name="code"),
    path("track/verify", views.verify, name="verify"),
    path("track/order", views.by_order, name="by_order"),
    path("track/orders", views.orders, name="orders"),
    path("track/leave", views.leave, name="leave"),
]
