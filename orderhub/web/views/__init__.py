"""Staff pages: thin views (parse → selector/service → render)."""

from orderhub.web.views.inbox import inbox, inbox_mark_all_read, inbox_mark_read
from orderhub.web.views.orders import order_detail, order_list, order_transition

__all__ = [
    "inbox",
    "inbox_mark_all_read",
    "inbox_mark_read",
    "order_detail",
    "order_list",
    "order_transition",
]
