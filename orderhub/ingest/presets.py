"""Built-in mapping presets for the standard export layouts, preset recognition and editing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from orderhub.accounts.models import User
from orderhub.core.errors import Conflict, ValidationFailed
from orderhub.ingest.fields import ImportKind, fields_for
from orderhub.ingest.mapping import mapping_from_suggestions
from orderhub.ingest.models import Channel, ChannelKind, MappingPreset
from orderhub.ingest.suggest import header_signature, suggest_columns
from orderhub.ingest.text import header_key
from orderhub.ingest.transforms import TransformError, validate_transforms

AUTO_CONFIDENCE = 0.8


@dataclass(frozen=True)
class BuiltinPreset:
    name: str
    channel_kind: str
    description: str
    headers: tuple[str, ...]
    fields: dict[str, Any]  # field → header, or (headers, transforms)
    kind: str = ImportKind.ORDERS


BUILTIN_PRESETS: tuple[BuiltinPreset, ...] = (
    BuiltinPreset(
        "拼多多-订单导出",
        ChannelKind.PINDUODUO,
        "拼多多商家后台「订单查询 → 导出」：一行一单，省/市/区/街道分列，手机号为平台虚拟号或打码",
        (
            "商品",
            "订单号",
            "订单状态",
            "商品总价(元)",
            "店铺优惠折扣(元)",
            "平台优惠折扣(元)",
            "邮费(元)",
            "用户实付金额(元)",
            "商家实收金额(元)",
            "商品数量(件)",
            "收货人",
            "手机",
            "省",
            "市",
            "区",
            "街道",
            "拼单成功时间",
            "订单确认时间",
            "承诺发货时间",
            "商品id",
            "商品规格",
            "商家编码-SKU维度",
            "商家编码-商品维度",
            "商家备注",
            "买家留言",
            "快递单号",
            "快递公司",
            "售后状态",
        ),
        {
            "channel_order_no": "订单号",
            "sku_name": "商品",
            "sku_spec": "商品规格",
            "sku_code": "商家编码-SKU维度",
            "quantity": "商品数量(件)",
            "line_amount": "商品总价(元)",
            "shipping_fee": "邮费(元)",
            "receiver_name": "收货人",
            "receiver_phone": "手机",
            "province": "省",
            "city": "市",
            "district": "区",
            "address_detail": "街道",
            "ordered_at": "拼单成功时间",
            "promised_at": "承诺发货时间",
            "remark": "买家留言",
            "seller_remark": "商家备注",
        },
    ),
    BuiltinPreset(
        "抖店-订单导出",
        ChannelKind.DOUYIN,
        "抖店「订单管理 → 批量导出」：一行一个子订单，按主订单编号合并；收件人手机号加密/打码",
        (
            "主订单编号",
            "子订单编号",
            "选购商品",
            "商品规格",
            "商品数量",
            "商品ID",
            "商家编码",
            "商品单价",
            "订单应付金额",
            "运费",
            "优惠总金额",
            "收件人",
            "收件人手机号",
            "省",
            "市",
            "区",
            "街道",
            "详细地址",
            "买家留言",
            "订单提交时间",
            "支付完成时间",
            "承诺发货时间",
            "订单状态",
            "商家备注",
        ),
        {
            "channel_order_no": "主订单编号",
            "sub_order_no": "子订单编号",
            "sku_name": "选购商品",
            "sku_spec": "商品规格",
            "quantity": "商品数量",
            "sku_code": "商家编码",
            "unit_price": "商品单价",
            "shipping_fee": "运费",
            "receiver_name": "收件人",
            "receiver_phone": "收件人手机号",
            "province": "省",
            "city": "市",
            "district": "区",
            "address_detail": (["街道", "详细地址"], [{"op": "join", "sep": ""}]),
            "ordered_at": "订单提交时间",
            "promised_at": "承诺发货时间",
            "remark": "买家留言",
            "seller_remark": "商家备注",
        },
    ),
    BuiltinPreset(
        "1688-订单导出",
        ChannelKind.ALIBABA_1688,
        "1688 卖家工作台「已卖出的货品 → 导出」：一行一个货品，按订单编号合并，收货地址为整段",
        (
            "订单编号",
            "买家公司名",
            "买家会员名",
            "货品总价(元)",
            "运费(元)",
            "涨价或折扣(元)",
            "实付款(元)",
            "订单状态",
            "订单创建时间",
            "订单付款时间",
            "收货人姓名",
            "收货地址",
            "邮编",
            "联系电话",
            "联系手机",
            "货品标题",
            "单价(元)",
            "数量",
            "单位",
            "货号",
            "型号",
            "买家留言",
            "物流公司",
            "运单号",
        ),
        {
            "channel_order_no": "订单编号",
            "customer_name": "买家公司名",
            "buyer_nick": "买家会员名",
            "shipping_fee": "运费(元)",
            "ordered_at": "订单创建时间",
            "receiver_name": "收货人姓名",
            "address": "收货地址",
            "receiver_phone": (["联系手机", "联系电话"], [{"op": "first"}]),
            "sku_name": "货品标题",
            "unit_price": "单价(元)",
            "quantity": "数量",
            "sku_code": "货号",
            "sku_spec": "型号",
            "remark": "买家留言",
        },
    ),
    BuiltinPreset(
        "淘宝天猫-订单导出",
        ChannelKind.TAOBAO,
        "千牛「已卖出的宝贝 → 批量导出」订单与宝贝合并表：一行一个宝贝，按订单编号合并，地址整段含邮编",
        (
            "订单编号",
            "买家会员名",
            "买家应付货款",
            "买家应付邮费",
            "总金额",
            "买家实际支付金额",
            "订单状态",
            "买家留言",
            "收货人姓名",
            "收货地址",
            "运送方式",
            "联系电话",
            "联系手机",
            "订单创建时间",
            "订单付款时间",
            "宝贝标题",
            "宝贝种类",
            "物流单号",
            "物流公司",
            "订单备注",
            "宝贝总数量",
            "店铺名称",
            "商家编码",
            "价格",
            "购买数量",
            "商品属性",
        ),
        {
            "channel_order_no": "订单编号",
            "buyer_nick": "买家会员名",
            "shipping_fee": "买家应付邮费",
            "remark": "买家留言",
            "receiver_name": "收货人姓名",
            "address": "收货地址",
            "receiver_phone": "联系手机",
            "ordered_at": "订单创建时间",
            "sku_name": "宝贝标题",
            "seller_remark": "订单备注",
            "sku_code": "商家编码",
            "unit_price": "价格",
            "quantity": "购买数量",
            "sku_spec": "商品属性",
        },
    ),
    BuiltinPreset(
        "快手-订单导出",
        ChannelKind.KUAISHOU,
        "快手小店「订单 → 导出」：一行一个商品，按订单号合并，收货地址为整段",
        (
            "订单号",
            "订单状态",
            "订单创建时间",
            "订单支付时间",
            "商品名称",
            "商品ID",
            "SKU编码",
            "商品规格",
            "成交数量",
            "商品单价",
            "实付款",
            "运费",
            "收货人姓名",
            "收货人电话",
            "收货地址",
            "买家留言",
            "商家备注",
        ),
        {
            "channel_order_no": "订单号",
            "ordered_at": "订单创建时间",
            "sku_name": "商品名称",
            "sku_code": "SKU编码",
            "sku_spec": "商品规格",
            "quantity": "成交数量",
            "unit_price": "商品单价",
            "shipping_fee": "运费",
            "receiver_name": "收货人姓名",
            "receiver_phone": "收货人电话",
            "address": "收货地址",
            "remark": "买家留言",
            "seller_remark": "商家备注",
        },
    ),
    BuiltinPreset(
        "U8-销售订单",
        ChannelKind.ERP,
        "用友 U8「销售订单列表」导出（表头上方有标题行）：一行一个存货，按订单号合并；收货信息取客户档案",
        (
            "订单号",
            "订单日期",
            "客户编码",
            "客户简称",
            "业务员",
            "部门",
            "行号",
            "存货编码",
            "存货名称",
            "规格型号",
            "数量",
            "含税单价",
            "无税金额",
            "预发货日期",
            "备注",
        ),
        {
            "channel_order_no": "订单号",
            "ordered_at": "订单日期",
            "customer_code": "客户编码",
            "customer_name": "客户简称",
            "sku_code": "存货编码",
            "sku_name": "存货名称",
            "sku_spec": "规格型号",
            "quantity": "数量",
            "unit_price": "含税单价",
            "promised_at": "预发货日期",
            "remark": "备注",
        },
    ),
    BuiltinPreset(
        "U8-销售订单-SQL",
        ChannelKind.ERP,
        "用友 U8 数据库 SO_SOMain / SO_SODetails 查询结果（列名为 U8 字段名）",
        (
            "cSOCode",
            "dDate",
            "cCusCode",
            "cCusName",
            "cPersonCode",
            "iSOsID",
            "iRowNo",
            "cInvCode",
            "cInvName",
            "cInvStd",
            "iQuantity",
            "iTaxUnitPrice",
            "iMoney",
            "dPreDate",
        ),
        {
            "channel_order_no": "cSOCode",
            "ordered_at": "dDate",
            "customer_code": "cCusCode",
            "customer_name": "cCusName",
            "sub_order_no": "iSOsID",
            "sku_code": "cInvCode",
            "sku_name": "cInvName",
            "sku_spec": "cInvStd",
            "quantity": "iQuantity",
            "unit_price": "iTaxUnitPrice",
            "promised_at": "dPreDate",
        },
    ),
    BuiltinPreset(
        "U8-现存量-SQL",
        "",
        "用友 U8 现存量 CurrentStock 查询结果（仓库编码、存货编码、现存数量）",
        ("cWhCode", "cInvCode", "iQuantity"),
        {"warehouse_code": "cWhCode", "sku_code": "cInvCode", "on_hand": "iQuantity"},
        kind=ImportKind.STOCK,
    ),
)


def _mapping_of(b: BuiltinPreset) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for name, spec in b.fields.items():
        if isinstance(spec, tuple):
            fields[name] = {"columns": list(spec[0]), "transforms": list(spec[1])}
        else:
            fields[name] = {"columns": [spec], "transforms": []}
    return {"fields": fields}


def presets_ensure_builtin() -> None:
    """Create the built-in presets once (they are copied, not edited, by users)."""
    existing = set(MappingPreset.objects.filter(builtin=True).values_list("name", flat=True))
    for b in BUILTIN_PRESETS:
        if b.name in existing:
            continue
        try:
            with transaction.atomic():
                MappingPreset.objects.create(
                    name=b.name,
                    kind=b.kind,
                    channel_kind=b.channel_kind,
                    builtin=True,
                    description=b.description,
                    headers=list(b.headers),
                    signature=header_signature(list(b.headers)),
                    mapping=_mapping_of(b),
                )
        except IntegrityError:  # created concurrently
            pass


def _referenced(preset: MappingPreset) -> set[str]:
    return {
        header_key(c) for spec in preset.mapping.get("fields", {}).values() for c in spec.get("columns", [])
    }


def preset_recognise(kind: str, headers: list[str]) -> MappingPreset | None:
    """The preset whose header signature matches this file, else the one whose mapped columns
    are all present and that covers most of this file's columns."""
    presets_ensure_builtin()
    signature = header_signature(headers)
    candidates = list(MappingPreset.objects.filter(kind=kind).select_related("channel"))
    exact = [p for p in candidates if p.signature == signature]
    if exact:
        return sorted(exact, key=lambda p: (p.builtin, -p.pk))[0]  # the user's own before built-ins
    keys = {header_key(h) for h in headers}
    best, best_score = None, 0.0
    for p in candidates:
        ref = _referenced(p)
        if not ref or not ref <= keys:
            continue
        preset_keys = {header_key(h) for h in p.headers} or ref
        score = len(preset_keys & keys) / len(preset_keys | keys)
        if score > best_score + 1e-9 or (
            abs(score - best_score) < 1e-9 and best and best.builtin and not p.builtin
        ):
            best, best_score = p, score
    return best if best_score >= 0.6 else None


def resolve_mapping(
    kind: str,
    headers: list[str],
    *,
    preset: MappingPreset | None,
    samples: list[list[Any]] | None = None,
) -> tuple[dict[str, Any], MappingPreset | None, str]:
    """(mapping, preset used, a sentence saying where the mapping came from)."""
    if preset is not None:
        return preset.mapping, preset, _("使用指定的映射方案「%(n)s」") % {"n": preset.name}
    found = preset_recognise(kind, headers)
    if found is not None:
        return found.mapping, found, _("按表头自动识别为映射方案「%(n)s」") % {"n": found.name}
    suggestions = suggest_columns(kind, headers, samples)
    mapping = mapping_from_suggestions(suggestions, min_confidence=AUTO_CONFIDENCE)
    labels = {f.name: f.label for f in fields_for(kind).values()}
    used = "，".join(
        f"{s.header}→{labels.get(s.field, s.field)}"
        for s in suggestions
        if s.field and s.confidence >= AUTO_CONFIDENCE
    )
    return mapping, None, _("未匹配到映射方案，按表头自动建议映射：%(m)s") % {"m": used}


# --- editing ------------------------------------------------------------------------------------


def clean_mapping(kind: str, mapping: Any) -> dict[str, Any]:
    if not isinstance(mapping, dict) or not isinstance(mapping.get("fields"), dict):
        raise ValidationFailed(_("映射格式无效"), field="mapping")
    known = fields_for(kind)
    out: dict[str, Any] = {}
    for name, spec in mapping["fields"].items():
        if name not in known:
            raise ValidationFailed(_("未知字段：%(f)s") % {"f": name}, field="mapping")
        columns = [str(c) for c in (spec.get("columns") or []) if str(c).strip()]
        try:
            transforms = validate_transforms(spec.get("transforms") or [])
        except TransformError as exc:
            raise ValidationFailed(str(exc), field="mapping") from None
        if columns or transforms:
            out[name] = {"columns": columns, "transforms": transforms}
    missing = [str(f.label) for f in known.values() if f.required and f.name not in out]
    if missing:
        raise ValidationFailed(_("必需字段未映射：%(f)s") % {"f": "、".join(missing)}, field="mapping")
    return {"fields": out}


def preset_save(
    *,
    name: str,
    kind: str,
    headers: list[str],
    mapping: dict[str, Any],
    actor: User | None,
    channel: Channel | None = None,
    description: str = "",
    preset: MappingPreset | None = None,
    channel_kind: str = "",
) -> MappingPreset:
    """Create or edit a user preset (built-ins are copied, never edited)."""
    if preset is not None and preset.builtin:
        raise Conflict(_("内置映射方案不能修改，请先复制"), code="builtin_preset")
    name = name.strip()
    if not name:
        raise ValidationFailed(_("请填写方案名称"), field="name")
    cleaned = clean_mapping(kind, mapping)
    preset = preset or MappingPreset(created_by=actor)
    preset.name = name[:64]
    preset.kind = kind
    preset.channel = channel
    preset.channel_kind = channel.kind if channel else (channel_kind or preset.channel_kind)
    preset.description = description[:255]
    preset.headers = headers
    preset.signature = header_signature(headers)
    preset.mapping = cleaned
    try:
        with transaction.atomic():
            preset.save()
    except IntegrityError:
        raise Conflict(_("已有同名映射方案「%(n)s」") % {"n": name}, code="duplicate_name") from None
    return preset


def preset_copy(
    *, preset: MappingPreset, name: str, actor: User | None, channel: Channel | None = None
) -> MappingPreset:
    return preset_save(
        name=name,
        kind=preset.kind,
        headers=list(preset.headers),
        mapping=preset.mapping,
        actor=actor,
        channel=channel or preset.channel,
        description=preset.description,
        channel_kind=preset.channel_kind,
    )
