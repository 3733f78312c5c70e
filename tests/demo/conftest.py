"""One small demo company per test module: loaded once, rolled back when the module is done."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from orderhub.demo.generate import DemoLoadResult, demo_load

# A fixed clock makes the generated history identical on every run.
NOW = datetime(2025, 6, 18, 20, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SMALL = 300


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[DemoLoadResult]:
    with django_db_blocker.unblock(), transaction.atomic():
        result = demo_load(orders=SMALL, now=NOW)
        yield result
        transaction.set_rollback(True)
