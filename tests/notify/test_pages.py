"""The managers' template editor and everyone's notification preferences, as a person uses them."""

from __future__ import annotations

from django.test import Client
from django.utils import translation

from orderhub.accounts.roles import Role
from orderhub.core.jobs import jobs_run_pending
from orderhub.notify.models import Delivery, MessageTemplate, UserPreference
from orderhub.orders.services import order_transition
from orderhub.orders.states import OrderStatus as S
from tests.web.conftest import page_text


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_manager_previews_then_saves_a_template_and_the_next_notice_uses_it(make_order, staff) -> None:
    order = make_order()
    manager = login(staff[Role.MANAGER])
    listing = page_text(manager.get("/notify/templates/"))
    assert "已拆单" in listing and "订单 {{ order.order_no }} 已进入「{{ status_label }}」" in listing

    words = {
        "title": "【待配货】{{ order.order_no }}",
        "body": "客户 {{ order.customer }}，{{ order.address }}",
    }
    preview = manager.post(f"/notify/templates/{S.SPLIT}/", {**words, "action": "preview"})
    text = page_text(preview)
    assert f"预览（订单 {order.order_no}）" in text
    assert (
        f"【待配货】{order.order_no}" in text and "客户 椒江恒通汽配，浙江省台州市椒江区东环大道88号" in text
    )
    assert not MessageTemplate.objects.exists(), "a preview saves nothing"

    saved = manager.post(f"/notify/templates/{S.SPLIT}/", {**words, "action": "save"}, follow=True)
    assert "已保存" in page_text(saved)
    order_transition(order_id=order.pk, to=S.SPLIT, actor=staff[Role.CUSTOMER_SERVICE])
    jobs_run_pending()  # the notice job routes, renders and plans
    assert Delivery.objects.get(order=order).title == f"【待配货】{order.order_no}"

    manager.post(f"/notify/templates/{S.SPLIT}/", {"action": "reset"})
    assert not MessageTemplate.objects.exists()


def test_a_broken_template_is_shown_with_its_error_and_not_saved(staff) -> None:
    manager = login(staff[Role.MANAGER])
    response = manager.post(
        f"/notify/templates/{S.SHIPPED}/", {"title": "{% if %}", "body": "", "action": "save"}
    )
    assert response.status_code == 200 and "模板语法错误" in page_text(response)
    assert not MessageTemplate.objects.exists()


def test_only_managers_edit_templates(staff) -> None:
    assert login(staff[Role.WAREHOUSE]).get("/notify/templates/").status_code == 403
    assert login(staff[Role.SALES]).post(f"/notify/templates/{S.SPLIT}/", {"title": "x"}).status_code == 403
    assert login(staff[Role.MANAGER]).get("/notify/templates/no-such-event/").status_code == 404


def test_everyone_sets_their_own_preferences(staff) -> None:
    warehouse = staff[Role.WAREHOUSE]
    client = login(warehouse)
    page = client.get("/notify/preferences/")
    assert page.status_code == 200 and "我的通知偏好" in page_text(page)
    assert "消息模板" not in page_text(page), "no manager tabs for a warehouse clerk"
    response = client.post(
        "/notify/preferences/", {"muted_channels": ["sms"], "muted_events": [S.ALLOCATING]}, follow=True
    )
    assert "通知偏好已保存" in page_text(response)
    pref = UserPreference.objects.get(user=warehouse)
    assert (pref.muted_channels, pref.muted_events) == (["sms"], [S.ALLOCATING])
    # The inbox cannot be muted, even by a hand-made request.
    client.post("/notify/preferences/", {"muted_channels": ["inbox"]})
    pref.refresh_from_db()
    assert pref.muted_channels == [] or "inbox" not in pref.muted_channels


def test_messages_stay_in_chinese_when_the_actor_reads_english(make_order, staff) -> None:
    order = make_order()
    with translation.override("en"):
        order_transition(order_id=order.pk, to=S.SPLIT, actor=staff[Role.CUSTOMER_SERVICE])
        jobs_run_pending()  # the notice job routes, renders and plans
    assert Delivery.objects.get(order=order).title == f"订单 {order.order_no} 已进入「已拆单」"


def test_the_pages_speak_english_too(staff) -> None:
    manager = login(staff[Role.MANAGER])
    manager.cookies["django_language"] = "en"
    with translation.override("zh-hans"):  # the middleware's activation must not outlive the test
        failed = page_text(manager.get("/notify/failed/", headers={"accept-language": "en"}))
        templates = page_text(manager.get("/notify/templates/", headers={"accept-language": "en"}))
    assert "Failed notifications" in failed and "No failed notifications." in failed
    assert "Message templates" in templates
