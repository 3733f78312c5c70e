"""The standard fields each import kind maps to, with the headers the major channels use for them.

The synonym lists are the suggestion engine's knowledge: headers seen in 拼多多, 抖店, 1688,
淘宝/天猫, 快手 and Yonyou U8 exports (Chinese UI exports and U8's own column names).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class ImportKind(StrEnum):
    ORDERS = "orders"
    SKUS = "skus"
    CUSTOMERS = "customers"
    STOCK = "stock"


class FieldType(StrEnum):
    TEXT = "text"
    CODE = "code"  # identifiers: Excel's leading apostrophe and ".0" are dropped
    INT = "int"
    DECIMAL = "decimal"
    DATETIME = "datetime"
    PHONE = "phone"
    BOOL = "bool"


@dataclass(frozen=True)
class StdField:
    name: str
    label: str
    type: FieldType
    synonyms: tuple[str, ...]
    required: bool = False
    # Order fields only: True for values that belong to a line rather than to the order.
    line: bool = False


def _f(
    name: str, label: str, type_: FieldType, *syn: str, required: bool = False, line: bool = False
) -> StdField:
    return StdField(name, str(label), type_, tuple(syn), required, line)


T, C, I, D, DT, P, B = (  # noqa: E741
    FieldType.TEXT,
    FieldType.CODE,
    FieldType.INT,
    FieldType.DECIMAL,
    FieldType.DATETIME,
    FieldType.PHONE,
    FieldType.BOOL,
)

ORDER_FIELDS: tuple[StdField, ...] = (
    _f(
        "channel_order_no",
        _("渠道订单号"),
        C,
        "订单号",
        "订单编号",
        "主订单编号",
        "主订单号",
        "平台订单号",
        "网店订单号",
        "单号",
        "交易号",
        "交易编号",
        "父订单编号",
        "销售订单号",
        "单据号",
        "csocode",
        "order_no",
        "order_id",
        "tid",
        required=True,
    ),
    _f(
        "sub_order_no",
        _("子订单号"),
        C,
        "子订单编号",
        "子订单号",
        "子单号",
        "oid",
        "明细单号",
        "isosid",
        line=True,
    ),
    _f(
        "ordered_at",
        _("下单时间"),
        DT,
        "下单时间",
        "订单创建时间",
        "创建时间",
        "订单提交时间",
        "拼单成功时间",
        "成交时间",
        "订单日期",
        "单据日期",
        "日期",
        "付款时间",
        "订单付款时间",
        "支付时间",
        "ddate",
        "created",
    ),
    _f("customer_code", _("客户编码"), C, "客户编码", "客户代码", "经销商编码", "ccuscode", "customer_code"),
    _f("customer_name", _("客户名称"), T, "客户名称", "客户简称", "客户", "买家公司名", "ccusname"),
    _f("buyer_nick", _("买家昵称"), T, "买家会员名", "买家昵称", "买家账号", "用户昵称", "买家", "会员名"),
    _f(
        "receiver_name",
        _("收货人"),
        T,
        "收货人",
        "收货人姓名",
        "收件人",
        "收件人姓名",
        "联系人",
        "收货人名称",
        "ccusperson",
        "receiver_name",
    ),
    _f(
        "receiver_phone",
        _("收货电话"),
        P,
        "手机",
        "手机号",
        "联系手机",
        "收货人手机",
        "收货人电话",
        "收件人手机号",
        "收件人电话",
        "收货人手机号",
        "手机号码",
        "电话号码",
        "联系电话",
        "电话",
        "收货电话",
        "联系方式",
        "receiver_phone",
        "mobile",
    ),
    _f(
        "address",
        _("收货地址(整段)"),
        T,
        "收货地址",
        "收件地址",
        "地址",
        "详细收货地址",
        "完整地址",
        "收货人地址",
        "receiver_address",
    ),
    _f("province", _("省"), T, "省", "省份", "收货省份", "收件省", "所在省", "province"),
    _f("city", _("市"), T, "市", "城市", "收货城市", "收件市", "所在市", "city"),
    _f("district", _("区县"), T, "区", "区县", "县区", "收货区县", "收件区", "所在区", "district"),
    _f(
        "address_detail",
        _("详细地址"),
        T,
        "详细地址",
        "街道",
        "街道地址",
        "收货详细地址",
        "具体地址",
        "address_detail",
    ),
    _f(
        "sku_code",
        _("商家编码"),
        C,
        "商家编码",
        "商家编码-sku维度",
        "sku编码",
        "商家sku编码",
        "规格编码",
        "商品编码",
        "货号",
        "单品货号",
        "外部系统编号",
        "存货编码",
        "商品编号",
        "物料编码",
        "cinvcode",
        "sku_code",
        "outer_sku_id",
        line=True,
    ),
    _f(
        "sku_name",
        _("商品名称"),
        T,
        "商品名称",
        "商品",
        "选购商品",
        "宝贝标题",
        "货品标题",
        "商品标题",
        "标题",
        "存货名称",
        "品名",
        "cinvname",
        line=True,
    ),
    _f(
        "sku_spec",
        _("规格"),
        T,
        "商品规格",
        "规格",
        "规格型号",
        "商品属性",
        "销售属性",
        "型号",
        "sku属性",
        "cinvstd",
        line=True,
    ),
    _f(
        "quantity",
        _("数量"),
        I,
        "数量",
        "商品数量",
        "购买数量",
        "宝贝数量",
        "成交数量",
        "商品数量(件)",
        "件数",
        "iquantity",
        "num",
        "quantity",
        line=True,
        required=True,
    ),
    _f(
        "unit_price",
        _("单价"),
        D,
        "单价",
        "商品单价",
        "价格",
        "宝贝单价",
        "含税单价",
        "销售单价",
        "单价(元)",
        "itaxunitprice",
        "price",
        "unit_price",
        line=True,
    ),
    _f(
        "line_amount",
        _("行金额"),
        D,
        "商品总价",
        "商品金额",
        "金额",
        "价税合计",
        "小计",
        "isum",
        "imoney",
        line=True,
    ),
    _f("shipping_fee", _("运费"), D, "运费", "邮费", "买家应付邮费", "快递费", "post_fee", "shipping_fee"),
    _f("remark", _("买家留言"), T, "买家留言", "买家备注", "订单备注", "留言", "备注", "cmemo", "remark"),
    _f("seller_remark", _("商家备注"), T, "商家备注", "卖家备注", "客服备注", "卖家留言"),
    _f(
        "promised_at",
        _("承诺时间"),
        DT,
        "承诺发货时间",
        "预发货日期",
        "最晚发货时间",
        "约定发货时间",
        "承诺送达时间",
        "dpredate",
    ),
    _f("owner_username", _("负责销售"), C, "业务员", "销售员", "负责销售", "cpersoncode"),
)

SKU_FIELDS: tuple[StdField, ...] = (
    _f(
        "code",
        _("商家编码"),
        C,
        "商家编码",
        "商品编码",
        "存货编码",
        "sku编码",
        "货号",
        "物料编码",
        "cinvcode",
        "code",
        required=True,
    ),
    _f("name", _("名称"), T, "名称", "商品名称", "存货名称", "品名", "cinvname", "name", required=True),
    _f("spec", _("规格"), T, "规格", "规格型号", "型号", "cinvstd", "spec"),
    _f("barcode", _("条码"), C, "条码", "条形码", "商品条码", "barcode", "ean"),
    _f("weight_g", _("重量(克)"), I, "重量", "重量(克)", "重量(g)", "毛重", "weight"),
    _f("pack_size", _("每箱数量"), I, "每箱数量", "箱规", "装箱数", "pack_size"),
    _f("unit_price", _("单价"), D, "单价", "销售价", "售价", "参考售价", "price"),
    _f("aliases", _("别名"), T, "别名", "平台编码", "其他编码", "aliases"),
    _f("fragile", _("易碎"), B, "易碎", "易碎品", "fragile"),
)

CUSTOMER_FIELDS: tuple[StdField, ...] = (
    _f("code", _("客户编码"), C, "客户编码", "客户代码", "经销商编码", "ccuscode", "code", required=True),
    _f("name", _("名称"), T, "客户名称", "名称", "客户简称", "经销商名称", "ccusname", "name", required=True),
    _f("phone", _("电话"), P, "电话", "手机", "联系电话", "手机号", "phone"),
    _f("tier", _("客户等级"), T, "客户等级", "等级", "级别", "tier"),
    _f("address", _("地址(整段)"), T, "地址", "收货地址", "客户地址", "address"),
    _f("province", _("省"), T, "省", "省份", "province"),
    _f("city", _("市"), T, "市", "城市", "city"),
    _f("district", _("区县"), T, "区", "区县", "district"),
    _f("address_detail", _("详细地址"), T, "详细地址", "街道", "address_detail"),
    _f("credit_limit", _("信用额度"), D, "信用额度", "授信额度", "credit_limit"),
    _f("owner_username", _("负责销售"), C, "负责销售", "业务员", "销售员", "owner"),
)

STOCK_FIELDS: tuple[StdField, ...] = (
    _f(
        "warehouse_code",
        _("仓库编码"),
        C,
        "仓库编码",
        "仓库代码",
        "仓库",
        "cwhcode",
        "warehouse",
        required=True,
    ),
    _f(
        "sku_code",
        _("商家编码"),
        C,
        "商家编码",
        "商品编码",
        "存货编码",
        "sku编码",
        "货号",
        "cinvcode",
        "sku",
        required=True,
    ),
    _f(
        "on_hand",
        _("在库数量"),
        I,
        "在库数量",
        "库存",
        "库存数量",
        "现存量",
        "数量",
        "结存数量",
        "iquantity",
        "on_hand",
        required=True,
    ),
    _f("bin_location", _("库位"), T, "库位", "货位", "bin"),
)

FIELDS_BY_KIND: dict[str, tuple[StdField, ...]] = {
    ImportKind.ORDERS: ORDER_FIELDS,
    ImportKind.SKUS: SKU_FIELDS,
    ImportKind.CUSTOMERS: CUSTOMER_FIELDS,
    ImportKind.STOCK: STOCK_FIELDS,
}


def fields_for(kind: str) -> dict[str, StdField]:
    return {f.name: f for f in FIELDS_BY_KIND[kind]}
