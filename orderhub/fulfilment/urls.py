from django.urls import path

from orderhub.fulfilment import views

app_name = "fulfilment"
urlpatterns = [
    path("", views.station, name="station"),
    path("<int:session_id>/", views.session, name="pack_session"),
    path("<int:session_id>/complete/", views.complete, name="pack_complete"),
    path("waves/", views.waves, name="waves"),
    path("waves/<int:wave_id>/", views.wave, name="wave"),
    path("waves/<int:wave_id>/<str:kind>.pdf", views.wave_pdf, name="wave_pdf"),
]
