"""The suggestion engine, header-row detection, preset recognition, phones and addresses."""

from __future__ import annotations

import pytest

from orderhub.ingest.normalize import normalize_phone, parse_address, resolve_address
from orderhub.ingest.presets import BUILTIN_PRESETS, preset_recognise, presets_ensure_builtin
from orderhub.ingest.readers import Row
from orderhub.ingest.suggest import find_header_row, header_signature, suggest_columns
from orderhub.orders.models import PhoneKind


def by_header(suggestions):
    return {s.header: (s.field, s.confidence) for s in suggestions}


def test_suggestions_tolerate_spacing_full_width_units_and_synonyms():
    headers = [
        "订 单 号",
        "收货人姓名",
        "联系手机",
        "商品总价（元）",
        "ＳＫＵ编码",
        "购买数量",
        "买家留言",
        "备用列",
    ]

    got = by_header(suggest_columns("orders", headers))

    assert got["订 单 号"] == ("channel_order_no", 1.0)
    assert got["收货人姓名"][0] == "receiver_name"
    assert got["联系手机"][0] == "receiver_phone"
    assert got["商品总价（元）"] == ("line_amount", 0.95)
    assert got["ＳＫＵ编码"] == ("sku_code", 1.0)
    assert got["购买数量"][0] == "quantity"
    assert got["买家留言"][0] == "remark"
    assert got["备用列"][0] is None


def test_each_field_goes_to_its_likeliest_column_only():
    got = by_header(suggest_columns("orders", ["订单号", "订单编号", "数量"]))
    assert [f for f, _c in got.values()].count("channel_order_no") == 1


def test_u8_column_names_are_known():
    got = by_header(suggest_columns("orders", ["cSOCode", "dDate", "cCusCode", "cInvCode", "iQuantity"]))
    assert [f for f, _c in got.values()] == [
        "channel_order_no",
        "ordered_at",
        "customer_code",
        "sku_code",
        "quantity",
    ]


def test_sample_values_help_with_vague_headers():
    got = by_header(
        suggest_columns(
            "orders", ["订单号", "号码", "数量"], [["A1", "13812345678", 1], ["A2", "13912345678", 2]]
        )
    )
    assert got["号码"][0] == "receiver_phone"


def test_master_data_kinds_have_their_own_fields():
    assert by_header(suggest_columns("stock", ["仓库编码", "存货编码", "现存量"])) == {
        "仓库编码": ("warehouse_code", 1.0),
        "存货编码": ("sku_code", 1.0),
        "现存量": ("on_hand", 1.0),
    }


def test_header_row_found_below_title_rows():
    rows = [
        Row(1, ["2023年12月销售订单导出"], 1),
        Row(2, ["导出人：张三", None, "导出时间：2023-12-12"], 3),
        Row(3, ["订单号", "收货人", "手机", "商家编码", "数量"], 5),
        Row(4, ["A1", "王", "13812345678", "BP-2231", 1], 5),
    ]
    assert find_header_row("orders", rows) == 2


@pytest.mark.django_db
@pytest.mark.parametrize("preset", [p for p in BUILTIN_PRESETS if p.kind == "orders"], ids=lambda p: p.name)
def test_each_builtin_layout_is_recognised_by_its_header_signature(preset):
    presets_ensure_builtin()
    shuffled = list(reversed(preset.headers))  # column order does not matter
    assert preset_recognise("orders", shuffled).name == preset.name
    assert header_signature(shuffled) == header_signature(list(preset.headers))


@pytest.mark.django_db
def test_a_layout_with_an_extra_column_still_matches():
    presets_ensure_builtin()
    pdd = next(p for p in BUILTIN_PRESETS if p.name.startswith("拼多多"))
    assert preset_recognise("orders", [*pdd.headers, "新增列"]).name == pdd.name


@pytest.mark.parametrize(
    ("raw", "value", "kind"),
    [
        ("+86 138-1234-5678", "13812345678", PhoneKind.NORMAL),
        ("１３８ １２３４ ５６７８", "13812345678", PhoneKind.NORMAL),
        ("8613812345678", "13812345678", PhoneKind.NORMAL),
        ("0571-88881234", "0571-88881234", PhoneKind.NORMAL),
        ("(0571)88881234", "0571-88881234", PhoneKind.NORMAL),
        ("138****5678", "138****5678", PhoneKind.MASKED),
        ("13812345678-1234", "13812345678-1234", PhoneKind.VIRTUAL),
        ("17052341234转1234", "17052341234-1234", PhoneKind.VIRTUAL),
        ("#3kQ9Y2bX0a#Zp1c==", "#3kQ9Y2bX0a#Zp1c==", PhoneKind.VIRTUAL),
        ("12345", "12345", PhoneKind.INVALID),
        ("", "", PhoneKind.EMPTY),
    ],
)
def test_phones(raw, value, kind):
    phone = normalize_phone(raw)
    assert (phone.value, phone.kind) == (value, kind)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("北京市朝阳区建国路88号", ("北京市", "北京市", "朝阳区", "110105", "建国路88号")),
        ("上海浦东新区世纪大道1号", ("上海市", "上海市", "浦东新区", "310115", "世纪大道1号")),
        ("天津市和平区南京路1号", ("天津市", "天津市", "和平区", "120101", "南京路1号")),
        ("重庆市酉阳县桃花源镇", ("重庆市", "重庆市", "酉阳土家族苗族自治县", "500242", "桃花源镇")),
        (
            "内蒙古呼和浩特市新城区中山西路1号",
            ("内蒙古自治区", "呼和浩特市", "新城区", "150102", "中山西路1号"),
        ),
        ("宁夏银川市兴庆区解放西街2号", ("宁夏回族自治区", "银川市", "兴庆区", "640104", "解放西街2号")),
        ("广东省东莞市长安镇振安路", ("广东省", "东莞市", "", "", "长安镇振安路")),
        ("广东省中山市石岐区中山路1号", ("广东省", "中山市", "", "", "石岐区中山路1号")),
        ("海南省儋州市那大镇", ("海南省", "儋州市", "", "", "那大镇")),
        ("甘肃省嘉峪关市新华路", ("甘肃省", "嘉峪关市", "", "", "新华路")),
        ("湖北省仙桃市沙嘴街道", ("湖北省", "仙桃市", "仙桃市", "429004", "沙嘴街道")),
        ("河南省济源市天坛路", ("河南省", "济源市", "济源市", "419001", "天坛路")),
        (
            "浙江省 杭州市 西湖区 文三路 478号(310000)",
            ("浙江省", "杭州市", "西湖区", "330106", "文三路 478号"),
        ),
        ("椒江区东环大道88号", ("浙江省", "台州市", "椒江区", "331002", "东环大道88号")),
        ("中山路88号", ("", "", "", "", "中山路88号")),
    ],
)
def test_addresses(text, expected):
    a = parse_address(text)
    assert (a.province, a.city, a.district, a.district_code, a.detail) == expected


def test_split_address_columns_keep_unknown_names():
    a = resolve_address(province="北京", city="北京市", district="朝阳区", detail="建国路88号")
    assert (a.province_code, a.city_code, a.district_code, a.detail) == (
        "110000",
        "110100",
        "110105",
        "建国路88号",
    )
    b = resolve_address(province="江苏省", city="苏州市", district="工业园区", detail="星湖街328号")
    assert (b.province, b.city, b.city_code) == ("江苏省", "苏州市", "320500")
    assert b.detail == "工业园区 星湖街328号" and b.complete
