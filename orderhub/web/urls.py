from django.urls import path

from orderhub.web import views

app_name = "web"
urlpatterns = [
    path("", views.home, name="home"),
    path("board/", views.board, name="board"),
    path("board/poll/", views.board_poll, name="board_poll"),
    path("board/column/<str:status>/", views.board_more, name="board_more"),
    path("board/move/", views.board_move, name="board_move"),
    path("board/bulk/", views.board_bulk, name="board_bulk"),
    path("board/labels/", views.board_labels, name="board_labels"),
    path("search/", views.search, name="search"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/<int:order_id>/", views.order_detail, name="order_detail"),
    path("orders/<int:order_id>/transition/", views.order_transition, name="order_transition"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/read-all/", views.inbox_mark_all_read, name="inbox_mark_all_read"),
    path("inbox/<int:message_id>/read/", views.inbox_mark_read, name="inbox_mark_read"),
]
