"""The draft API, the staff pages (upload → check → confirm → order) and `orderhub draft`."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from orderhub.accounts.roles import Role
from orderhub.drafts.models import Draft, DraftStatus
from orderhub.orders.models import Order
from orderhub.orders.states import OrderStatus
from tests.drafts import render
from tests.drafts.test_ocr import CHAT, _png_header
from tests.drafts.test_services import ISSUE_MESSAGE


def client_as(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


# --- API --------------------------------------------------------------------------------------


def test_post_a_message_returns_the_draft_json(
    api_client: Any, staff: Any, catalog: Any, dealers: Any
) -> None:
    response = api_client(staff[Role.CUSTOMER_SERVICE]).post("/api/drafts", {"text": ISSUE_MESSAGE})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft" and body["source"] == "text" and body["order_no"] is None
    draft = body["draft"]
    assert draft["receiver_name"] == {"value": "王师傅", "confidence": 0.92}
    assert draft["phone"]["value"] == "13812345678"
    assert {k: draft["address"][k] for k in ("province_code", "city_code", "district_code", "detail")} == {
        "province_code": "330000",
        "city_code": "331000",
        "district_code": "331002",
        "detail": "东环大道88号",
    }
    assert [(ln["sku_code"], ln["quantity"]) for ln in draft["lines"]] == [("BP-2231", 20), ("OF-1102", 48)]
    assert all(0 < ln["confidence"] <= 1 for ln in draft["lines"])
    assert body["url"] == f"/drafts/{body['id']}/"
    assert Order.objects.count() == 0
    # The same message again is answered as a likely duplicate.
    again = api_client(staff[Role.CUSTOMER_SERVICE]).post("/api/drafts", {"text": ISSUE_MESSAGE}).json()
    assert again["status"] == "duplicate" and again["duplicate_of"] == {"draft": body["id"]}


def test_post_an_image_returns_the_draft_json(
    ocr: Any, api_client: Any, staff: Any, catalog: Any, dealers: Any
) -> None:
    upload = SimpleUploadedFile("chat.png", render.png(render.chat(CHAT)), content_type="image/png")

    response = api_client(staff[Role.CUSTOMER_SERVICE]).post("/api/drafts", {"images": [upload]})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["source"] == "image"
    assert [(ln["sku_code"], ln["quantity"]) for ln in body["draft"]["lines"]] == [
        ("BP-2231", 20),
        ("OF-1102", 48),
    ]


def test_api_refusals_are_clear(api_client: Any, staff: Any, catalog: Any) -> None:
    client = api_client(staff[Role.CUSTOMER_SERVICE])
    empty = client.post("/api/drafts", {"text": ""})
    assert empty.status_code == 422 and empty.json()["field"] == "text"
    bomb = SimpleUploadedFile("bomb.png", _png_header(100_000, 100_000), content_type="image/png")
    refused = client.post("/api/drafts", {"images": [bomb]})
    assert refused.status_code == 422
    assert refused.json()["code"] == "image_refused" and "解压炸弹" in refused.json()["message"]
    assert Client().post("/api/drafts", {"text": ISSUE_MESSAGE}).status_code == 401
    warehouse = api_client(staff[Role.WAREHOUSE]).post("/api/drafts", {"text": ISSUE_MESSAGE})
    assert warehouse.status_code == 403
    assert not Draft.objects.exists()


def test_an_upload_over_the_byte_limit_is_refused_unread(api_client: Any, staff: Any, settings: Any) -> None:
    settings.ORDERHUB_DRAFTS = {"MAX_IMAGE_BYTES": 1024}
    big = SimpleUploadedFile("big.png", b"\x89PNG" + b"\0" * 4096, content_type="image/png")
    refused = api_client(staff[Role.CUSTOMER_SERVICE]).post("/api/drafts", {"images": [big]})
    assert refused.status_code == 422 and "太大" in refused.json()["message"]


def test_a_salesperson_sees_only_their_own_drafts(api_client: Any, staff: Any, catalog: Any) -> None:
    mine = api_client(staff[Role.SALES]).post("/api/drafts", {"text": "BP-2231 10套"}).json()
    page = reverse("drafts:detail", args=[mine["id"]])
    assert client_as(staff[Role.SALES]).get(page).status_code == 200
    assert client_as(staff["sales2"]).get(page).status_code == 404
    assert client_as(staff[Role.CUSTOMER_SERVICE]).get(page).status_code == 200


# --- pages ------------------------------------------------------------------------------------


def test_the_upload_page_offers_paste_and_camera(staff: Any) -> None:
    page = client_as(staff[Role.CUSTOMER_SERVICE]).get(reverse("drafts:home")).content.decode()
    assert 'name="text"' in page
    assert 'type="file" name="images" accept="image/*" capture="environment" multiple' in page


def test_upload_check_confirm_gives_an_order_with_its_source(
    ocr: Any, staff: Any, catalog: Any, dealers: Any
) -> None:
    c = client_as(staff[Role.CUSTOMER_SERVICE])
    png = render.png(render.chat(["杀车片20套", "发到浙江台州椒江区东环大道88号 王师傅 13812345678"]))

    uploaded = c.post(reverse("drafts:home"), {"images": [SimpleUploadedFile("wx.png", png, "image/png")]})
    draft = Draft.objects.get()
    assert uploaded.status_code == 302 and uploaded["Location"] == reverse("drafts:detail", args=[draft.pk])

    page = c.get(uploaded["Location"]).content.decode()
    assert 'name="line-0-sku" value="BP-2231"' in page
    assert 'class="low" data-testid="line-0"' in page  # the typo'd name is highlighted
    assert '<option value="BP-2232">' in page  # …with the alternatives a person may mean
    assert 'name="detail" value="东环大道88号"' in page
    assert f'src="/drafts/{draft.pk}/images/0"' in page
    assert Order.objects.count() == 0

    form = {
        "customer_code": "D0001",
        "receiver_name": "王师傅",
        "receiver_phone": "13812345678",
        "province": "浙江省",
        "city": "台州市",
        "district": "椒江区",
        "detail": "东环大道88号",
        "line-0-sku": "BP-2231",
        "line-0-qty": "20",
        "line-1-sku": "",
        "line-1-qty": "",
    }
    confirmed = c.post(reverse("drafts:detail", args=[draft.pk]), form)
    order = Order.objects.get()
    assert confirmed.status_code == 302 and confirmed["Location"] == reverse(
        "web:order_detail", args=[order.pk]
    )
    assert order.status == OrderStatus.PENDING_REVIEW and order.channel.code == "wechat"
    detail = c.get(confirmed["Location"]).content.decode()
    assert "来源：1 张截图/照片识别" in detail
    image = c.get(reverse("drafts:image", args=[draft.pk, 0]))
    assert image["Content-Type"] == "image/png" and b"".join(image.streaming_content) == png


def test_a_form_error_keeps_the_draft_and_says_which_line(staff: Any, catalog: Any) -> None:
    c = client_as(staff[Role.CUSTOMER_SERVICE])
    c.post(reverse("drafts:home"), {"text": "BP-2231 20套"})
    draft = Draft.objects.get()
    response = c.post(reverse("drafts:detail", args=[draft.pk]), {"line-0-sku": "NOPE-1", "line-0-qty": "3"})
    assert response.status_code == 200
    assert "第 1 行：商品编码「NOPE-1」不存在" in response.content.decode()
    assert Order.objects.count() == 0


def test_a_duplicate_needs_the_person_to_say_it_is_not(staff: Any, catalog: Any, dealers: Any) -> None:
    c = client_as(staff[Role.CUSTOMER_SERVICE])
    c.post(reverse("drafts:home"), {"text": ISSUE_MESSAGE})
    c.post(reverse("drafts:home"), {"text": ISSUE_MESSAGE})
    dup = Draft.objects.get(status=DraftStatus.DUPLICATE)
    page = c.get(reverse("drafts:detail", args=[dup.pk])).content.decode()
    assert 'data-testid="duplicate-warning"' in page and 'name="not_duplicate"' in page
    form = {"line-0-sku": "BP-2231", "line-0-qty": "20", "receiver_phone": "13812345678"}
    refused = c.post(reverse("drafts:detail", args=[dup.pk]), form)
    assert "疑似重复" in refused.content.decode() and Order.objects.count() == 0
    c.post(reverse("drafts:detail", args=[dup.pk]), {**form, "not_duplicate": "1"})
    assert Order.objects.count() == 1


def test_other_roles_cannot_reach_drafts_or_their_images(staff: Any, catalog: Any) -> None:
    client_as(staff[Role.CUSTOMER_SERVICE]).post(reverse("drafts:home"), {"text": "BP-2231 20套"})
    draft = Draft.objects.get()
    warehouse = client_as(staff[Role.WAREHOUSE])
    assert warehouse.get(reverse("drafts:home")).status_code == 404
    assert warehouse.get(reverse("drafts:detail", args=[draft.pk])).status_code == 404
    assert warehouse.get(reverse("drafts:image", args=[draft.pk, 0])).status_code == 404
    assert Client().get(reverse("drafts:home")).status_code == 302  # to the log-in page


# --- command line -----------------------------------------------------------------------------


def test_orderhub_draft_prints_one_json_per_message(
    ocr: Any, tmp_path: Path, catalog: Any, dealers: Any
) -> None:
    messages = tmp_path / "messages.txt"
    messages.write_text(
        f"{ISSUE_MESSAGE}\n\n空滤20 机滤20 发浙江省温州市瑞安市塘下镇工业区12号 陈师傅 13968881234\n"
    )
    screenshot = tmp_path / "chat.png"
    screenshot.write_bytes(render.png(render.chat(CHAT)))
    out = StringIO()

    call_command("draft", str(messages), str(screenshot), stdout=out)

    drafts = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(drafts) == 3
    first, second, image = drafts
    assert first["receiver_name"]["value"] == "王师傅" and first["phone"]["value"] == "13812345678"
    assert first["address"]["district_code"] == "331002" and first["address"]["province"] == "浙江省"
    assert [(ln["sku_code"], ln["quantity"]) for ln in first["lines"]] == [("BP-2231", 20), ("OF-1102", 48)]
    assert second["address"]["district_code"] == "330381"
    assert image["source"].endswith("chat.png") and image["lines"][0]["sku_code"] == "BP-2231"
    assert not Draft.objects.exists()  # the command only reads


def test_orderhub_draft_reports_a_refused_file(tmp_path: Path, catalog: Any) -> None:
    bad = tmp_path / "bomb.png"
    bad.write_bytes(_png_header(100_000, 100_000))
    err = StringIO()
    with pytest.raises(SystemExit):
        call_command("draft", str(bad), stderr=err)
    assert "解压炸弹" in err.getvalue()
