"""Browser: a customer-service clerk builds a preset for a new layout in the editor, then imports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orderhub.ingest.models import MappingPreset
from orderhub.orders.models import Order
from tests.browser.conftest import open_as  # noqa: F401 - the shared browser fixture
from tests.ingest import exports as ex

pytestmark = pytest.mark.browser


def test_preset_editor_walkthrough(
    open_as: Callable[..., Any],  # noqa: F811
    live_server: Any,
    staff: dict[str, Any],
    shop_channels: dict[str, Any],
    skus: dict[str, Any],
    tmp_path: Path,
) -> None:
    sample = tmp_path / "接龙.xlsx"
    sample.write_bytes(
        ex.xlsx_bytes(
            [
                ["微信群接龙 12月12日"],
                ["接龙号", "客户", "电话", "地址", "货品", "件数"],
                ["JL-1", "老王", "138 1234 5678", "浙江台州椒江区东环大道1号", "BP-2231", 2],
            ]
        )
    )
    page = open_as("customer_service1")
    page.goto(f"{live_server.url}/ingest/presets/new/")

    page.set_input_files("input[name=sample]", str(sample))
    page.click("text=识别表头")
    # the suggestions are already selected; the clerk corrects the one the engine left open
    assert page.input_value('select[aria-label="电话"]') == "receiver_phone"
    page.select_option('select[aria-label="接龙号"]', "channel_order_no")
    page.select_option('select[aria-label="货品"]', "sku_code")
    page.fill('input[name="transforms_0"]', "replace:JL-:WX-")
    page.fill("input[name=name]", "微信接龙")
    page.select_option("select[name=channel]", "manual")
    page.click("button[value=preview]")
    preview = page.inner_text("[data-testid=preview]")
    assert "WX-1" in preview and "13812345678" in preview and "椒江区" in preview

    page.click("button[value=save]")
    page.wait_for_url(f"{live_server.url}/ingest/presets/")
    assert "映射方案「微信接龙」已保存" in page.inner_text("main")
    assert MappingPreset.objects.filter(name="微信接龙", channel__code="manual").exists()

    page.goto(f"{live_server.url}/ingest/")
    page.set_input_files("input[name=file]", str(sample))
    page.click("text=开始导入")
    page.wait_for_selector("[data-status=done]")
    assert "按表头自动识别为映射方案「微信接龙」" in page.inner_text("main")
    assert Order.objects.get().channel_order_no == "WX-1"
