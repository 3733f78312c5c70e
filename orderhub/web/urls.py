from django.urls import path
from django.views.generic import RedirectView

from orderhub.web import views

app_name = "web"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="web:order_list"), name="home"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/<int:order_id>/", views.order_detail, name="order_detail"),
    path("orders/<int:order_id>/transition/", views.order_transition, name="order_transition"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read-all/", views.inbox_mark_all_read, name="inbox_mark_all_read"),
    path("inbox/<int:message_id>/read/", views.inbox_mark_read, name="inbox_mark_read"),
]
