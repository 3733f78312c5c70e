"""The auto-parts catalog the draft tests and bench/unstructured.py read messages against."""

from __future__ import annotations

from orderhub.drafts.skus import SkuEntry, SkuIndex

# code, name, spec, aliases, pack size (pieces per carton)
SKUS: list[tuple[str, str, str, tuple[str, ...], int]] = [
    ("BP-2231", "陶瓷刹车片 前轮", "适配 朗逸/速腾", ("刹车片", "前刹车片", "前片"), 10),
    ("BP-2232", "陶瓷刹车片 后轮", "适配 朗逸/速腾", ("后刹车片", "后片"), 10),
    ("OF-1102", "机油滤清器", "M20×1.5", ("滤芯", "机滤", "机油滤芯"), 24),
    ("AF-2201", "空气滤清器", "", ("空滤", "空气滤芯"), 20),
    ("CF-3301", "空调滤清器", "", ("空调滤芯", "空调格"), 20),
    ("FF-4401", "燃油滤清器", "", ("汽滤", "汽油滤芯"), 20),
    ("SP-5501", "铱金火花塞", "", ("火花塞",), 40),
    ("WB-6601", "无骨雨刮片", "24寸", ("雨刮", "雨刮器"), 50),
    ("HL-8810", "LED 大灯总成", "H7 6000K", ("大灯",), 2),
    ("BT-7701", "蓄电池 60AH", "", ("电瓶",), 1),
    ("BD-9901", "刹车盘 前", "", ("刹车盘",), 4),
    ("TB-1201", "正时皮带", "", ("正时带",), 10),
    ("SA-1301", "减震器 前", "", ("避震", "减震"), 2),
    ("EO-1401", "全合成机油 5W-30 4L", "", ("机油",), 6),
    ("CL-1501", "防冻冷却液", "", ("防冻液", "冷却液"), 6),
    ("WP-1601", "水泵总成", "", ("水泵",), 6),
]


def catalog_index() -> SkuIndex:
    return SkuIndex.build(
        SkuEntry(code, name, spec, aliases, pack) for code, name, spec, aliases, pack in SKUS
    )
