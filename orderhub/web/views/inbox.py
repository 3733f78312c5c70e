"""The in-app inbox (站内消息): the user's own messages and marking them read."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from orderhub.notify.selectors import inbox_list
from orderhub.notify.services import inbox_mark_read as inbox_mark_read_service

INBOX_LIMIT = 100


def _back_to_inbox(request: HttpRequest) -> HttpResponse:
    url = reverse("web:inbox")
    if request.POST.get("unread") == "1":
        url += "?unread=1"
    return redirect(url)


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    context = {
        "nav": "inbox",
        "unread_only": unread_only,
        "inbox_messages": inbox_list(user=request.user, unread_only=unread_only, limit=INBOX_LIMIT),
        "limit": INBOX_LIMIT,
    }
    return render(request, "web/inbox.html", context)


@login_required
@require_POST
def inbox_mark_read(request: HttpRequest, message_id: int) -> HttpResponse:
    inbox_mark_read_service(user=request.user, message_id=message_id)
    return _back_to_inbox(request)


@login_required
@require_POST
def inbox_mark_all_read(request: HttpRequest) -> HttpResponse:
    count = inbox_mark_read_service(user=request.user)
    if count:
        messages.success(request, _("已将 %(n)s 条消息标为已读") % {"n": count})
    return _back_to_inbox(request)
