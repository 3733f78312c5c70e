"""Screenshots and photos: OCR offline, lines in reading order, then the same parser."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import pytest

from orderhub.accounts.roles import Role
from orderhub.drafts.models import Draft, DraftSource
from orderhub.drafts.ocr import ImageRefused, OcrLine, image_open, reading_order
from orderhub.drafts.services import Upload, draft_confirm, draft_create_from_images, fields_from_parsed
from orderhub.orders.selectors import order_timeline
from tests.drafts import render

CHAT = ["老板，刹车片 BP-2231 要20套，滤芯两箱", "发到浙江台州椒江区东环大道88号 王师傅 138 1234 5678"]


def _lines(draft: Draft) -> list[tuple[str, int | None]]:
    return [(ln["sku_code"], ln["quantity"]) for ln in draft.parsed["lines"]]


def _address(draft: Draft) -> tuple[str, str]:
    return draft.parsed["address"]["district_code"], draft.parsed["address"]["detail"]


@pytest.fixture
def clerk(staff: dict[str, Any]) -> Any:
    return staff[Role.CUSTOMER_SERVICE]


def test_a_chat_screenshot_becomes_a_draft_with_the_image_kept(
    ocr: Any, clerk: Any, catalog: Any, dealers: Any, media_root: Any
) -> None:
    data = render.png(render.chat(CHAT))

    draft = draft_create_from_images(actor=clerk, uploads=[Upload("wechat.png", data, "image/png")])

    assert draft.source == DraftSource.IMAGE
    assert _lines(draft) == [("BP-2231", 20), ("OF-1102", 48)]
    assert _address(draft) == ("331002", "东环大道88号")
    assert (draft.parsed["receiver_name"]["value"], draft.parsed["phone"]["value"]) == (
        "王师傅",
        "13812345678",
    )
    assert draft.parsed["customer"]["code"] == "D0001"
    # Our own reply bubble and the timestamp are read too, but order nothing.
    assert "好的" in draft.text and len(draft.parsed["lines"]) == 2
    image = draft.images.get()
    assert image.file.read() == data and image.content_type == "image/png"
    assert (image.width, image.height) == render.chat(CHAT).size
    assert any("BP-2231" in ln["text"] for ln in image.ocr_lines)


def test_a_purchase_order_table_is_read_row_by_row(ocr: Any, clerk: Any, catalog: Any, dealers: Any) -> None:
    image = render.table(
        [
            ("BP-2232", "陶瓷刹车片 后轮", "30", "套"),
            ("SP-5501", "铱金火花塞", "1", "箱"),
            ("CL-1501", "防冻冷却液", "12", "瓶"),
        ],
        ["收货人：林师傅  电话：13906561234", "地址：浙江省台州市路桥区汽配城B区22号"],
    )

    draft = draft_create_from_images(actor=clerk, uploads=[Upload("po.png", render.png(image))])

    assert _lines(draft) == [("BP-2232", 30), ("SP-5501", 40), ("CL-1501", 12)]
    assert _address(draft) == ("331004", "汽配城B区22号")
    assert draft.parsed["receiver_name"]["value"] == "林师傅"


def test_a_noisy_phone_photo_is_read(ocr: Any, clerk: Any, catalog: Any, dealers: Any) -> None:
    photo = render.noisy(
        ["空滤 AF-2201 两箱", "机油 三箱", "江苏苏州昆山市玉山镇前进中路168号", "王伟 13700002222"], seed=3
    )

    draft = draft_create_from_images(
        actor=clerk, uploads=[Upload("photo.jpg", render.jpeg(photo), "image/jpeg")]
    )

    assert _lines(draft) == [("AF-2201", 40), ("EO-1401", 18)]
    assert _address(draft) == ("320583", "玉山镇前进中路168号")
    assert draft.parsed["phone"]["value"] == "13700002222"
    assert draft.images.get().content_type == "image/jpeg"


def test_several_screenshots_make_one_draft_and_the_order_keeps_them(
    ocr: Any, clerk: Any, catalog: Any, dealers: Any
) -> None:
    first = render.png(render.chat(["后刹车片十套，火花塞一箱"], reply=""))
    second = render.png(render.chat(["地址 河南省郑州市金水区花园路59号 周杰 17712345678"], reply="收到"))

    draft = draft_create_from_images(actor=clerk, uploads=[Upload("1.png", first), Upload("2.png", second)])

    assert _lines(draft) == [("BP-2232", 10), ("SP-5501", 40)]
    assert _address(draft) == ("410105", "花园路59号")
    assert [img.position for img in draft.images.all()] == [0, 1]
    order = draft_confirm(actor=clerk, draft_id=draft.pk, fields=fields_from_parsed(draft.parsed))
    _order, events = order_timeline(actor=clerk, order_id=order.pk)
    source = next(e for e in events if e.kind == "source")
    assert "2 张截图" in source.title
    assert source.details["images"] == [f"/drafts/{draft.pk}/images/0", f"/drafts/{draft.pk}/images/1"]


def test_reading_order_joins_table_cells_and_wrapped_bubbles() -> None:
    lines = [
        OcrLine("20", 0.99, (300, 100, 330, 120)),
        OcrLine("BP-2231", 0.99, (10, 101, 90, 121)),
        OcrLine("套", 0.99, (380, 99, 400, 119)),
        OcrLine("发到浙江台州椒江区东环大道88", 0.99, (10, 200, 300, 225)),
        OcrLine("号 王师傅", 0.99, (11, 227, 120, 252)),
        OcrLine("好的", 0.99, (300, 300, 340, 325)),
    ]
    assert reading_order(lines) == "BP-2231 20 套\n发到浙江台州椒江区东环大道88号 王师傅\n好的"


# --- hostile uploads --------------------------------------------------------------------------


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims `width`×`height` pixels with almost no data: a decompression bomb's shape."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "空文件"),
        (b"%PDF-1.7 not an image at all", "不是可识别的图片"),
        (b"<html><script>alert(1)</script></html>", "不是可识别的图片"),
        (_png_header(9000, 9000), "尺寸过大：9000×9000"),
        (_png_header(100_000, 100_000), "解压炸弹"),
        (_png_header(20_000, 10), "尺寸过大"),
        (render.png(render.chat(CHAT))[:400], "已损坏"),
    ],
    ids=["empty", "pdf", "html", "huge", "bomb", "too-long-a-side", "truncated"],
)
def test_hostile_images_are_refused_with_a_clear_message(data: bytes, message: str) -> None:
    with pytest.raises(ImageRefused) as refused:
        image_open(data, "upload.png")
    assert message in refused.value.message
    assert refused.value.code == "image_refused"


def test_an_image_over_the_byte_limit_is_refused_before_decoding(settings: Any) -> None:
    settings.ORDERHUB_DRAFTS = {"MAX_IMAGE_BYTES": 1000}
    with pytest.raises(ImageRefused, match="太大"):
        image_open(b"\x89PNG" + b"\0" * 2000, "big.png")


def test_one_bad_file_refuses_the_whole_upload_and_stores_nothing(
    clerk: Any, catalog: Any, media_root: Any
) -> None:
    good = Upload("ok.png", render.png(render.chat(CHAT)))
    with pytest.raises(ImageRefused, match="bomb"):
        draft_create_from_images(
            actor=clerk, uploads=[good, Upload("bomb.png", _png_header(100_000, 100_000))]
        )
    assert not Draft.objects.exists()
    assert not media_root.exists() or not any(media_root.rglob("*.png"))


def test_too_many_images_are_refused(clerk: Any, settings: Any) -> None:
    settings.ORDERHUB_DRAFTS = {"MAX_IMAGES": 2}
    with pytest.raises(Exception, match="最多 2 张"):
        draft_create_from_images(actor=clerk, uploads=[Upload(f"{i}.png", b"x") for i in range(3)])
