"""The in-app inbox: each user reads their own messages and marks them read."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.notify.models import InboxMessage
from orderhub.orders.models import Order
from tests.web.conftest import page_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def messages_for(staff: dict[str, User]) -> Callable[..., list[InboxMessage]]:
    def make(role: str, *titles: str, order: Order | None = None) -> list[InboxMessage]:
        return [
            InboxMessage.objects.create(
                user=staff[role],
                key=f"test:{role}:{title}",
                order=order,
                title=title,
                body="请尽快处理",
            )
            for title in titles
        ]

    return make


def unread_badge(response: Any) -> str:
    match = re.search(r'id="inbox-unread"[^>]*>([^<]*)<', response.content.decode())
    assert match is not None
    return match.group(1)


def test_inbox_lists_only_the_users_own_messages(
    client_for: Callable[[str], Client],
    messages_for: Callable[..., list[InboxMessage]],
    make_order: Callable[..., Order],
) -> None:
    order = make_order()
    messages_for(Role.WAREHOUSE, "订单 A 已进入「已拆单」", order=order)
    messages_for(Role.WAREHOUSE, "订单 B 已进入「分仓中」")
    messages_for(Role.LOGISTICS, "给物流的消息")

    response = client_for(Role.WAREHOUSE).get("/inbox/")

    text = page_text(response)
    assert "订单 A 已进入「已拆单」" in text
    assert "订单 B 已进入「分仓中」" in text
    assert "请尽快处理" in text
    assert "给物流的消息" not in text
    assert f'href="/orders/{order.pk}/"' in response.content.decode()
    assert unread_badge(response) == "2"


def test_marking_one_message_read(
    client_for: Callable[[str], Client], messages_for: Callable[..., list[InboxMessage]]
) -> None:
    first, _second = messages_for(Role.WAREHOUSE, "消息一", "消息二")
    client = client_for(Role.WAREHOUSE)

    response = client.post(f"/inbox/{first.pk}/read/", follow=True)

    first.refresh_from_db()
    assert first.read_at is not None
    assert unread_badge(response) == "1"
    assert "已读" in page_text(response)
    unread_page = client.get("/inbox/", {"unread": "1"})
    assert "消息二" in page_text(unread_page)
    assert "消息一" not in page_text(unread_page)


def test_marking_all_read(
    client_for: Callable[[str], Client], messages_for: Callable[..., list[InboxMessage]]
) -> None:
    messages_for(Role.WAREHOUSE, "消息一", "消息二")
    client = client_for(Role.WAREHOUSE)

    response = client.post("/inbox/read-all/", follow=True)

    assert "已将 2 条消息标为已读" in page_text(response)
    assert unread_badge(response) == ""
    assert "没有未读消息" in page_text(client.get("/inbox/", {"unread": "1"}))


def test_another_users_message_cannot_be_marked(
    client_for: Callable[[str], Client], messages_for: Callable[..., list[InboxMessage]]
) -> None:
    (theirs,) = messages_for(Role.LOGISTICS, "给物流的消息")

    client_for(Role.WAREHOUSE).post(f"/inbox/{theirs.pk}/read/")

    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_unread_count_shows_in_the_header_of_every_page(
    client_for: Callable[[str], Client], messages_for: Callable[..., list[InboxMessage]]
) -> None:
    messages_for(Role.WAREHOUSE, "消息一", "消息二", "消息三")

    assert unread_badge(client_for(Role.WAREHOUSE).get("/orders/")) == "3"
    assert unread_badge(client_for(Role.LOGISTICS).get("/orders/")) == ""
