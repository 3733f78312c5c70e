"""Fixtures for the staff pages: clients logged in as one role each, and HTML helpers."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.web import board_cache


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """The board keeps its columns in the cache under the newest log id; ids repeat between tests."""
    board_cache.clear()


@pytest.fixture
def client_for(staff: dict[str, User]) -> Callable[[str], Client]:
    """A Django test client logged in as the staff member holding `role` (or "sales2")."""

    def make(role: str) -> Client:
        client = Client()
        client.force_login(staff[role])
        return client

    return make


@pytest.fixture
def cs_client(client_for: Callable[[str], Client]) -> Client:
    return client_for(Role.CUSTOMER_SERVICE)


def page_text(response: Any) -> str:
    """The response body as a user would read it: tags dropped, whitespace collapsed."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", body)
    return re.sub(r"\s+", " ", html.unescape(text)).strip()


def transition_buttons(response: Any) -> set[str]:
    """Names of the transition buttons the page offers."""
    return set(re.findall(r'data-transition="([a-z_]+)"', response.content.decode()))
