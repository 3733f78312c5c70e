"""Staff pages of the notify app: failed deliveries with a retry button and the message templates
(managers and admins); everyone's own notification preferences."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from orderhub.core.errors import AppError
from orderhub.notify import selectors
from orderhub.notify.forms import MessageTemplateForm, PreferenceForm
from orderhub.notify.models import EVENT_CHOICES, UserPreference
from orderhub.notify.rendering import FIELDS_HELP, event_context
from orderhub.notify.rendering import render as render_text
from orderhub.notify.services import (
    NOTIFY_MANAGERS,
    deliveries_retry_dead,
    delivery_retry,
    message_template_reset,
    message_template_save,
    user_preference_set,
)

FAILED_LIMIT = 200


def _require_manager(request: HttpRequest) -> None:
    if not request.user.has_role(*NOTIFY_MANAGERS):
        raise PermissionDenied


@login_required
@require_GET
def failed_deliveries(request: HttpRequest) -> HttpResponse:
    """Messages that could not be delivered: to whom, through what, why; each can be retried."""
    _require_manager(request)
    rows, total = selectors.deliveries_failed(limit=FAILED_LIMIT)
    context = {
        "nav": "notify",
        "deliveries": rows,
        "total": total,
        "limit": FAILED_LIMIT,
        "notify_manager": True,
    }
    return render(request, "notify/failed.html", context)


@login_required
@require_POST
def delivery_retry_view(request: HttpRequest, delivery_id: int) -> HttpResponse:
    _require_manager(request)
    try:
        delivery = delivery_retry(delivery_id=delivery_id, actor=request.user)
    except AppError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已重新发送：%(title)s") % {"title": delivery.title})
    return redirect("notify:failed")


@login_required
@require_POST
def deliveries_retry_all_view(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    count = deliveries_retry_dead(actor=request.user)
    messages.success(request, _("已重新发送 %(n)s 条通知") % {"n": count})
    return redirect("notify:failed")


@login_required
@require_GET
def templates_list(request: HttpRequest) -> HttpResponse:
    """The words of every notification, built-in or the managers' own, with an edit link."""
    _require_manager(request)
    return render(request, "notify/templates.html", {"nav": "notify", "rows": selectors.templates_overview()})


@login_required
def template_edit(request: HttpRequest, event: str) -> HttpResponse:
    """Edit one event's words (for every channel); "预览" renders them on a real order first."""
    _require_manager(request)
    labels = dict(EVENT_CHOICES)
    if event not in labels:
        raise Http404
    current = next(r for r in selectors.templates_overview() if r["event"] == event)
    if request.method == "POST" and request.POST.get("action") == "reset":
        message_template_reset(actor=request.user, event=event)
        messages.success(request, _("已恢复默认文字：%(e)s") % {"e": labels[event]})
        return redirect("notify:templates")
    form = MessageTemplateForm(
        request.POST or None, initial={"title": current["title"], "body": current["body"]}
    )
    preview = None
    if request.method == "POST" and form.is_valid():
        if request.POST.get("action") == "save":
            try:
                message_template_save(
                    actor=request.user,
                    event=event,
                    channel="",
                    title=form.cleaned_data["title"],
                    body=form.cleaned_data["body"],
                )
            except AppError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("已保存：%(e)s") % {"e": labels[event]})
                return redirect("notify:templates")
        preview = _preview(event, form.cleaned_data["title"], form.cleaned_data["body"], request)
    context = {
        "nav": "notify",
        "event": event,
        "label": labels[event],
        "form": form,
        "current": current,
        "preview": preview,
        "fields_help": FIELDS_HELP,
    }
    return render(request, "notify/template_edit.html", context)


def _preview(event: str, title: str, body: str, request: HttpRequest) -> dict[str, str] | None:
    order = selectors.template_sample_order(event)
    if order is None:
        return {"order_no": "—", "title": "", "body": "", "error": _("还没有订单，无法预览")}
    context = event_context(
        order=order,
        event=event,
        actor=str(request.user),
        reason="（示例原因）",
        extra={"hold_labels": "地址不完整", "carrier": "顺丰", "tracking_no": "SF1234567890", "hours": "30"},
    )
    try:
        return {
            "order_no": order.order_no,
            "title": render_text(title, context),
            "body": render_text(body, context),
        }
    except Exception as exc:  # a filter failing at render time: show why instead of a 500
        return {"order_no": order.order_no, "title": "", "body": "", "error": str(exc)}


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    """Each person chooses which notifications they do not want (the inbox always gets them)."""
    pref = UserPreference.objects.filter(user=request.user).first()
    initial = {"muted_channels": pref.muted_channels, "muted_events": pref.muted_events} if pref else {}
    form = PreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        user_preference_set(user=request.user, **form.values())
        messages.success(request, _("通知偏好已保存"))
        return redirect("notify:preferences")
    context = {"nav": "notify", "form": form, "notify_manager": request.user.has_role(*NOTIFY_MANAGERS)}
    return render(request, "notify/preferences.html", context)
