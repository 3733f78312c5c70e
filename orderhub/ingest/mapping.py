"""Applying a mapping: raw cells → typed field values (with per-cell errors) for one row."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from orderhub.ingest.fields import FieldType, fields_for
from orderhub.ingest.normalize import normalize_phone
from orderhub.ingest.readers import FileRefused
from orderhub.ingest.suggest import Suggestion
from orderhub.ingest.text import (
    clean_code,
    clean_text,
    header_core,
    header_key,
    parse_datetime_cell,
    parse_decimal,
    parse_int,
)
from orderhub.ingest.transforms import TransformError, apply_transforms, validate_transforms


@dataclass
class FieldPlan:
    name: str
    type: FieldType
    columns: list[int]
    headers: list[str]
    transforms: list[dict[str, Any]]
    date_formats: list[str] = field(default_factory=list)
    # One column as is (the usual case): an empty cell maps to `empty`, computed once.
    simple: bool = field(init=False, default=False)
    empty: Any = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.simple = len(self.columns) == 1 and not self.transforms
        if self.simple:
            self.empty = _typed(self, None)


@dataclass
class CellError:
    column: str
    code: str
    message: str


@dataclass
class MappedRow:
    row_no: int
    cells: list[Any]
    values: dict[str, Any]
    errors: list[CellError]


def mapping_from_suggestions(suggestions: list[Suggestion], *, min_confidence: float = 0.0) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for s in suggestions:
        if s.field and s.confidence >= min_confidence:
            fields[s.field] = {"columns": [s.header], "transforms": []}
    return {"fields": fields}


def _find_column(header: str, headers: list[str]) -> int | None:
    if header in headers:
        return headers.index(header)
    key = header_key(header)
    for i, h in enumerate(headers):
        if header_key(h) == key:
            return i
    core = header_core(header)
    for i, h in enumerate(headers):
        if core and header_core(h) == core:
            return i
    return None


def compile_mapping(
    kind: str, mapping: dict[str, Any], headers: list[str], *, strict: bool = True
) -> list[FieldPlan]:
    """Resolve a stored mapping against this file's headers; refuse when a mapped column is absent
    (`strict`, for files) or, for API payloads that simply omit empty keys, when a required one is."""
    known = fields_for(kind)
    plans: list[FieldPlan] = []
    missing: list[str] = []
    for name, spec in (mapping.get("fields") or {}).items():
        if name not in known:
            continue
        columns: list[int] = []
        for header in spec.get("columns") or []:
            idx = _find_column(str(header), headers)
            if idx is None:
                if strict:
                    missing.append(str(header))
            else:
                columns.append(idx)
        try:
            transforms = validate_transforms(spec.get("transforms") or [])
        except TransformError as exc:
            raise FileRefused(_("映射方案的转换规则无效：%(e)s") % {"e": exc}, field="mapping") from None
        if not columns and not any(t.get("op") == "const" for t in transforms):
            continue
        formats = [f for t in transforms if t.get("op") == "date" for f in t.get("formats", [])]
        plans.append(
            FieldPlan(name, known[name].type, columns, [headers[i] for i in columns], transforms, formats)
        )
    if missing:
        raise FileRefused(
            _("映射方案需要的列在文件中不存在：%(cols)s") % {"cols": "、".join(missing)}, field="mapping"
        )
    present = {p.name for p in plans}
    absent = [str(f.label) for f in known.values() if f.required and f.name not in present]
    if absent:
        raise FileRefused(
            _("无法确定必需字段对应的列：%(f)s。请指定映射方案（--preset）或在网页上建立映射")
            % {"f": "、".join(absent)},
            field="mapping",
        )
    return plans


@lru_cache(maxsize=65536)
def _aware(value: datetime) -> datetime:
    return timezone.make_aware(value)


_TRUE = {"1", "是", "y", "yes", "true", "t", "√", "✓", "对"}


def _typed(plan: FieldPlan, value: Any) -> Any:
    t = plan.type
    if t == FieldType.CODE:
        text = clean_code(value)
        return text[:-2] if text.endswith(".0") and text[:-2].isdigit() else text
    if t == FieldType.TEXT:
        return clean_text(value)
    if t == FieldType.INT:
        return parse_int(value)
    if t == FieldType.DECIMAL:
        return parse_decimal(value)
    if t == FieldType.DATETIME:
        parsed = parse_datetime_cell(value, plan.date_formats)
        return _aware(parsed) if parsed and parsed.tzinfo is None else parsed
    if t == FieldType.PHONE:
        return normalize_phone(value)
    if t == FieldType.BOOL:
        return clean_text(value).lower() in _TRUE
    return value


_TYPE_WORDS = {
    FieldType.INT: "整数",
    FieldType.DECIMAL: "数字",
    FieldType.DATETIME: "日期时间",
}


def map_row(plans: list[FieldPlan], row_no: int, cells: list[Any]) -> MappedRow:
    values: dict[str, Any] = {}
    errors: list[CellError] = []
    width = len(cells)
    for plan in plans:
        if plan.simple:
            i = plan.columns[0]
            cell = cells[i] if i < width else None
            if cell is None or cell == "":
                values[plan.name] = plan.empty
                continue
            raw = [cell]
        else:
            raw = [cells[i] if i < width else None for i in plan.columns]
        try:
            out = apply_transforms(raw, plan.transforms) if plan.transforms else raw
            if len(out) > 1:
                out = [" ".join(clean_text(v) for v in out if v not in (None, ""))]
            values[plan.name] = _typed(plan, out[0] if out else None)
        except (ValueError, TransformError, OverflowError, ArithmeticError):
            shown = clean_text(raw[0] if len(raw) == 1 else " ".join(clean_text(v) for v in raw))[:40]
            column = "、".join(plan.headers) or plan.name
            errors.append(
                CellError(
                    column,
                    f"bad_{plan.type}",
                    _("「%(v)s」不是有效的%(t)s") % {"v": shown, "t": _TYPE_WORDS.get(plan.type, "值")},
                )
            )
    return MappedRow(row_no, cells, values, errors)


def as_naive_text(value: Any) -> Any:
    """JSON-safe cell for staging: datetimes as text, everything else as read."""
    if type(value) is str:
        # PostgreSQL stores no NUL character, in text or in JSON.
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
