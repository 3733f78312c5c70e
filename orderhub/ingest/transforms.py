"""Per-field transforms a mapping preset can add, applied to the column values in order.

Every value is also cleaned by its field's type (trim, full-width → half-width, phone normalising,
date parsing incl. Excel serial dates); the transforms here cover what a layout needs beyond that.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext_lazy as _

from orderhub.ingest.normalize import normalize_phone
from orderhub.ingest.text import clean_text, excel_serial_to_datetime, half_width

Transform = dict[str, Any]


class TransformError(ValueError):
    pass


def _join(values: list[Any], t: Transform) -> list[Any]:
    sep = str(t.get("sep", " "))
    return [sep.join(clean_text(v) for v in values if v not in (None, ""))]


def _split(values: list[Any], t: Transform) -> list[Any]:
    sep = str(t.get("sep") or " ")
    index = int(t.get("index", 0))
    text = clean_text(values[0] if values else "")
    parts = [p.strip() for p in text.split(sep)] if text else []
    return [parts[index] if -len(parts) <= index < len(parts) else ""]


def _first(values: list[Any], t: Transform) -> list[Any]:
    return [next((v for v in values if v not in (None, "")), "")]


def _const(values: list[Any], t: Transform) -> list[Any]:
    return [t.get("value", "")]


def _default(values: list[Any], t: Transform) -> list[Any]:
    return values if any(v not in (None, "") for v in values) else [t.get("value", "")]


def _trim(values: list[Any], t: Transform) -> list[Any]:
    return [v.strip() if isinstance(v, str) else v for v in values]


def _half(values: list[Any], t: Transform) -> list[Any]:
    return [half_width(v) if isinstance(v, str) else v for v in values]


def _phone(values: list[Any], t: Transform) -> list[Any]:
    return [normalize_phone(v).value for v in values]


def _replace(values: list[Any], t: Transform) -> list[Any]:
    old, new = str(t.get("from", "")), str(t.get("to", ""))
    return [v.replace(old, new) if isinstance(v, str) and old else v for v in values]


def _regex(values: list[Any], t: Transform) -> list[Any]:
    try:
        pattern = re.compile(str(t.get("pattern", "")))
    except re.error as exc:
        raise TransformError(f"regex: {exc}") from None
    out = []
    for v in values:
        m = pattern.search(clean_text(v))
        out.append(m.group(int(t.get("group", 0))) if m else "")
    return out


def _excel_date(values: list[Any], t: Transform) -> list[Any]:
    out = []
    for v in values:
        text = clean_text(v)
        if isinstance(v, int | float) and not isinstance(v, bool):
            out.append(excel_serial_to_datetime(float(v)))
        elif re.fullmatch(r"\d{5}(\.\d+)?", text):
            out.append(excel_serial_to_datetime(float(text)))
        else:
            out.append(v)
    return out


def _date(values: list[Any], t: Transform) -> list[Any]:
    return values  # formats are read by the field's own date parsing (see mapping._typed)


def _sku_alias(values: list[Any], t: Transform) -> list[Any]:
    return values  # alias lookup needs the catalogue: done by the order mapper for every SKU code


TRANSFORMS: dict[str, tuple[str, Callable[[list[Any], Transform], list[Any]]]] = {
    "trim": (str(_("去空格")), _trim),
    "half_width": (str(_("全角转半角")), _half),
    "phone": (str(_("电话规范化")), _phone),
    "date": (str(_("日期格式")), _date),
    "excel_date": (str(_("Excel 序列日期")), _excel_date),
    "join": (str(_("合并多列")), _join),
    "first": (str(_("取第一个非空列")), _first),
    "split": (str(_("拆分取段")), _split),
    "const": (str(_("固定值")), _const),
    "default": (str(_("空值默认")), _default),
    "replace": (str(_("替换")), _replace),
    "regex": (str(_("正则提取")), _regex),
    "sku_alias": (str(_("商品别名对照")), _sku_alias),
}


def apply_transforms(values: list[Any], transforms: list[Transform]) -> list[Any]:
    for t in transforms:
        op = t.get("op")
        if op not in TRANSFORMS:
            raise TransformError(f"unknown transform {op!r}")
        values = TRANSFORMS[op][1](values, t)
    return values


def validate_transforms(transforms: Any) -> list[Transform]:
    if not isinstance(transforms, list) or not all(isinstance(t, dict) for t in transforms):
        raise TransformError("transforms must be a list of objects")
    for t in transforms:
        if t.get("op") not in TRANSFORMS:
            raise TransformError(f"unknown transform {t.get('op')!r}")
        if t["op"] == "regex":
            _regex([""], t)
    return transforms


# --- the editor's one-line syntax: "split:/:0; date:%d/%m/%Y; const:ABC" ----------------------

_ARGS = {
    "date": ("formats",),
    "join": ("sep",),
    "split": ("sep", "index"),
    "const": ("value",),
    "default": ("value",),
    "replace": ("from", "to"),
    "regex": ("pattern", "group"),
}


def parse_transform_text(text: str) -> list[Transform]:
    """「split:/:0; date:%Y%m%d」→ [{"op": "split", "sep": "/", "index": 0}, {"op": "date", …}]."""
    out: list[Transform] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        op, _sep, rest = part.partition(":")
        op = op.strip()
        if op not in TRANSFORMS:
            raise TransformError(f"unknown transform {op!r}")
        t: Transform = {"op": op}
        names = _ARGS.get(op, ())
        if names and rest:
            values = rest.split(":", len(names) - 1) if op != "regex" else rest.rsplit(":", 1)
            for name, value in zip(names, values, strict=False):
                if name == "formats":
                    t[name] = [value]
                elif name in ("index", "group"):
                    try:
                        t[name] = int(value)
                    except ValueError:
                        raise TransformError(f"{op}: {name} must be a number") from None
                else:
                    t[name] = value
        out.append(t)
    return validate_transforms(out)


def format_transforms(transforms: list[Transform]) -> str:
    parts = []
    for t in transforms:
        op = str(t.get("op"))
        args = []
        for name in _ARGS.get(op, ()):
            if name in t:
                value = t[name]
                args.append(str(value[0] if isinstance(value, list) and value else value))
        parts.append(":".join([op, *args]))
    return "; ".join(parts)
