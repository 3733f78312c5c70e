from django.urls import path

from orderhub.drafts import views

app_name = "drafts"

urlpatterns = [
    path("", views.draft_home, name="home"),
    path("<int:draft_id>/", views.draft_detail, name="detail"),
    path("<int:draft_id>/discard", views.draft_discard_view, name="discard"),
    path("<int:draft_id>/images/<int:position>", views.draft_image, name="image"),
]
