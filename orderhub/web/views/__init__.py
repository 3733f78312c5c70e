"""Staff pages: thin views (parse → selector/service → render)."""

from orderhub.web.views.board import board, board_bulk, board_labels, board_more, board_move, board_poll
from orderhub.web.views.home import home
from orderhub.web.views.inbox import inbox, inbox_mark_all_read, inbox_mark_read
from orderhub.web.views.orders import order_detail, order_list, order_transition
from orderhub.web.views.search import search

__all__ = [
    "board",
    "board_bulk",
    "board_labels",
    "board_more",
    "board_move",
    "board_poll",
    "home",
    "inbox",
    "inbox_mark_all_read",
    "inbox_mark_read",
    "order_detail",
    "order_list",
    "order_transition",
    "search",
]
