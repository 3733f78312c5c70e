"""The free-text parser on a table of realistic dealer messages: every field, each confidence."""

from __future__ import annotations

import pytest

from orderhub.drafts.parser import LOW_CONFIDENCE, parse_message
from tests.drafts.catalog import catalog_index
from tests.drafts.directory import directory
from tests.drafts.messages import CASES, Case

INDEX = catalog_index()


@pytest.mark.parametrize("case", CASES, ids=[f"{i:02d}" for i in range(len(CASES))])
def test_message(case: Case) -> None:
    parsed = parse_message(case.message, index=INDEX, directory=directory()).as_dict()

    got = {
        "name": parsed["receiver_name"]["value"],
        "phone": parsed["phone"]["value"],
        "code": parsed["address"]["district_code"] or parsed["address"]["city_code"],
        "detail": parsed["address"]["detail"],
        "lines": [(ln["sku_code"], ln["quantity"]) for ln in parsed["lines"]],
        "customer": parsed["customer"]["code"],
    }
    want = {
        "name": case.name,
        "phone": case.phone,
        "code": case.code,
        "detail": case.detail,
        "lines": case.lines,
        "customer": case.customer,
    }
    assert got == want, case.message
    assert set(case.flags) <= set(parsed["flags"])
    assert set(case.low) <= set(parsed["low_confidence"])
    if case.code:
        province = parsed["address"]["province_code"]
        assert province == case.code[:2] + "0000" and parsed["address"]["province"]


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 60


def test_every_field_carries_a_confidence() -> None:
    parsed = parse_message(CASES[0].message, index=INDEX, directory=directory()).as_dict()
    for key in ("customer", "receiver_name", "phone", "address"):
        assert 0.0 <= parsed[key]["confidence"] <= 1.0
    for line in parsed["lines"]:
        assert {"sku_confidence", "quantity_confidence", "confidence", "candidates"} <= set(line)
    assert parsed["low_confidence"] == []  # the example reads cleanly


def test_cartons_are_converted_by_pack_size_and_say_so() -> None:
    line = parse_message("滤芯两箱", index=INDEX).lines[0]
    assert (line.sku_code, line.quantity, line.unit) == ("OF-1102", 48, "箱")
    assert "2×24" in line.note


def test_a_tie_is_broken_by_the_customers_history_and_still_shows_the_alternative() -> None:
    parsed = parse_message("陶瓷刹车片10套 138 1234 5678", index=INDEX, directory=directory())
    line = parsed.lines[0]
    assert line.sku_code == "BP-2232"
    assert [c["code"] for c in line.candidates[:2]] == ["BP-2232", "BP-2231"]
    assert "历史" in line.note


def test_an_unresolved_tie_is_low_confidence() -> None:
    line = parse_message("陶瓷刹车片10套", index=INDEX).lines[0]
    assert line.sku_confidence < LOW_CONFIDENCE


def test_old_address_without_a_known_customer_is_flagged_not_guessed() -> None:
    parsed = parse_message("电瓶2个 发老地址", index=INDEX, directory=directory())
    assert "old_address_unknown_customer" in parsed.flags
    assert parsed.address["detail"] == "" and parsed.address["confidence"] == 0


def test_a_message_with_no_items_says_so() -> None:
    parsed = parse_message("老板你好，在吗？", index=INDEX)
    assert parsed.lines == [] and "no_lines" in parsed.flags


@pytest.mark.parametrize(
    ("ocr_text", "lines"),
    [
        ("刹车片BP-223120套", [("BP-2231", 20)]),  # the space after the code is lost
        ("AF-2201x12CL-150110桶", [("AF-2201", 12), ("CL-1501", 10)]),
        ("老板，0F-11028个", [("OF-1102", 8)]),  # O read as 0
        ("EO-1401+桶", [("EO-1401", 10)]),  # 十 read as +
        ("E0-1401十桶", [("EO-1401", 10)]),  # O read as 0 inside the code
        ("SP-55016个BP-2232—箱", [("SP-5501", 6), ("BP-2232", 10)]),  # 一 read as a dash
        ("老板，2箱减震器前AF-220130个", [("SA-1301", 4), ("AF-2201", 30)]),  # quantity before, then after
        ("陶瓷刹车片后轮十套15支避震", [("BP-2232", 10), ("SA-1301", 15)]),
        ("5个刹车盘雨刮x4SP-5501x5", [("BD-9901", 5), ("WB-6601", 4), ("SP-5501", 5)]),  # names run together
        ("汽滤20个SP-5501五个BD-99018个", [("FF-4401", 20), ("SP-5501", 5), ("BD-9901", 8)]),
        ("急用 二十个火花塞", [("SP-5501", 20)]),  # words naming no SKU take no quantity
    ],
)
def test_ocr_text_without_spaces(ocr_text: str, lines: list[tuple[str, int]]) -> None:
    parsed = parse_message(ocr_text, index=INDEX)
    assert [(ln.sku_code, ln.quantity) for ln in parsed.lines] == lines
