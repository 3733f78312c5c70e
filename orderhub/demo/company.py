"""The demo company: 台州恒驰汽配, its legal entities, warehouses, channels and staff."""

from __future__ import annotations

from dataclasses import dataclass

from orderhub.accounts.roles import Role
from orderhub.ingest.models import ChannelKind

COMPANY_NAME = "台州恒驰汽配有限公司"
# The marker of a loaded demo: the group's main legal entity.
MARKER_ENTITY = "HC-TZ"
DEMO_PASSWORD = "hengchi-demo-2024"  # noqa: S105 - printed by `orderhub demo`; demo data only

# (code, name, unified social credit code)
LEGAL_ENTITIES: tuple[tuple[str, str, str], ...] = (
    (MARKER_ENTITY, COMPANY_NAME, "91331002MA2AK7H3X1"),
    ("HC-HZ", "杭州恒驰供应链有限公司", "91330108MA2H4C2L6P"),
    ("HC-CD", "成都恒驰汽车配件有限公司", "91510107MA6CM8R24U"),
)
# Retail marketplace orders are sold and invoiced by the Hangzhou e-commerce company.
RETAIL_ENTITY = "HC-HZ"
DEALER_ENTITY = MARKER_ENTITY


@dataclass(frozen=True)
class WarehouseSpec:
    code: str
    name: str
    province: str
    province_code: str
    city: str
    district: str
    address: str
    entity: str
    priority: int
    keeper: str  # username of the warehouse's staff member, who is also the sender on labels


WAREHOUSES: tuple[WarehouseSpec, ...] = (
    WarehouseSpec(
        "TZ", "台州总仓", "浙江省", "330000", "台州市", "路桥区", "金清镇汽配物流园8号", "HC-TZ", 10, "wh1"
    ),
    WarehouseSpec(
        "GZ",
        "广州仓",
        "广东省",
        "440000",
        "广州市",
        "白云区",
        "太和镇永兴村物流园C区12号",
        "HC-HZ",
        20,
        "wh2",
    ),
    WarehouseSpec(
        "CD", "成都仓", "四川省", "510000", "成都市", "郫都区", "现代物流园西区3栋", "HC-CD", 30, "wh3"
    ),
)

# (code, name, kind, masks_phone, share of dealer orders, share of retail orders)
# fmt: off
CHANNELS: tuple[tuple[str, str, str, bool, int, int], ...] = (
    ("u8", "用友U8", ChannelKind.ERP, False, 40, 0),
    ("1688", "1688 批发", ChannelKind.ALIBABA_1688, False, 20, 0),
    ("wechat", "微信下单", ChannelKind.WECHAT, False, 25, 0),
    ("manual", "手工录单", ChannelKind.MANUAL, False, 15, 0),
    ("pdd", "拼多多旗舰店", ChannelKind.PINDUODUO, True, 0, 40),
    ("douyin", "抖店", ChannelKind.DOUYIN, True, 0, 30),
    ("taobao", "淘宝店", ChannelKind.TAOBAO, False, 0, 30),
)
# fmt: on
# Channels whose orders come in by API sync and are reviewed by rules, not people.
AUTO_REVIEW_CHANNELS = frozenset({"u8", "1688", "pdd", "douyin", "taobao"})

# (username, display name, role, mobile, is_staff+is_superuser)
# fmt: off
STAFF: tuple[tuple[str, str, str, str, bool], ...] = (
    ("sales1", "王建华", Role.SALES, "13857600101", False),  # 华东
    ("sales2", "李晓燕", Role.SALES, "13857600102", False),  # 华南
    ("sales3", "张志强", Role.SALES, "13857600103", False),  # 西南、西北、华中
    ("sales4", "陈俊杰", Role.SALES, "13857600104", False),  # 华北、东北, and the online shops
    ("cs1", "周婷", Role.CUSTOMER_SERVICE, "13857600201", False),
    ("cs2", "吴丹", Role.CUSTOMER_SERVICE, "13857600202", False),
    ("cs3", "郑雨欣", Role.CUSTOMER_SERVICE, "13857600203", False),
    ("wh1", "徐海波", Role.WAREHOUSE, "13857600301", False),  # 台州总仓
    ("wh2", "梁国庆", Role.WAREHOUSE, "13857600302", False),  # 广州仓
    ("wh3", "杨鹏", Role.WAREHOUSE, "13857600303", False),  # 成都仓
    ("logistics1", "孙立新", Role.LOGISTICS, "13857600401", False),
    ("logistics2", "马凯", Role.LOGISTICS, "13857600402", False),
    ("finance", "林秀英", Role.FINANCE, "13857600501", False),
    ("manager", "黄振华", Role.MANAGER, "13857600601", False),
    ("admin", "系统管理员", Role.ADMIN, "13857600701", True),
)
# fmt: on
WAREHOUSE_STAFF: dict[str, str] = {w.code: w.keeper for w in WAREHOUSES}
ONLINE_SHOP_OWNER = "sales4"

# Carriers for e-waybills (simulated number ranges in the demo): (code as tracking knows it, name,
# Cainiao cpCode, Taobao code, Pinduoduo logistics id, number prefix, digits of live numbers).
# History waybills carry one digit more, so a live number never repeats an old one.
# fmt: off
CARRIERS: tuple[tuple[str, str, str, str, str, str, int], ...] = (
    ("zto", "中通快递", "ZTO", "ZTO", "115", "78", 12),
    ("yto", "圆通速递", "YTO", "YTO", "85", "YT", 12),
    ("yunda", "韵达快递", "YUNDA", "YUNDA", "121", "43", 12),
    ("sf", "顺丰速运", "SF", "SF", "44", "SF", 12),
    ("jd", "京东物流", "JD", "JD", "120", "JDVA", 10),
    ("deppon", "德邦快递", "DBKD", "DBL", "131", "DPK", 11),
)
WEST = "四川省、重庆市、云南省、贵州省、陕西省、甘肃省、宁夏回族自治区、新疆维吾尔自治区"
EAST = "浙江省、江苏省、上海市、安徽省"
# Carrier strategy (快递策略), first match wins: (name, provinces, tiers, min kg, carrier)
CARRIER_RULES: tuple[tuple[str, str, str, int | None, str], ...] = (
    ("重货、大件走德邦", "", "", 20, "deppon"),
    ("VIP 客户走顺丰", "", "vip", None, "sf"),
    ("西南西北走韵达", WEST, "", None, "yunda"),
    ("江浙沪皖走中通", EAST, "", None, "zto"),
    ("其他地区走圆通", "", "", None, "yto"),
)
# fmt: on
