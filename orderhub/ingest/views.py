"""Import pages: upload with progress, batch reports, and the mapping-preset editor.

Views are thin: they parse the request, call the ingest services and render.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from orderhub.core.errors import AppError, PermissionDenied
from orderhub.ingest.conf import ingest_setting
from orderhub.ingest.fields import FIELDS_BY_KIND, ImportKind
from orderhub.ingest.models import BatchStatus, Channel, ImportBatch, ImportIssue, MappingPreset
from orderhub.ingest.permissions import can_import, require_import
from orderhub.ingest.presets import preset_copy, preset_save, presets_ensure_builtin
from orderhub.ingest.preview import mapping_preview, sample_inspect
from orderhub.ingest.report import batch_report_xlsx, batch_summary_lines, reason_label
from orderhub.ingest.services import batch_create_from_file, batch_run
from orderhub.ingest.transforms import TRANSFORMS, TransformError, format_transforms, parse_transform_text

KINDS = [(k.value, label) for k, label in zip(ImportKind, ["订单", "商品", "客户", "库存"], strict=True)]
SESSION_SAMPLE = "ingest_preset_sample"


def _guard(request: HttpRequest, kind: str = "orders") -> None:
    try:
        require_import(request.user, kind)  # type: ignore[arg-type]
    except PermissionDenied:
        raise Http404 from None


def _batch(request: HttpRequest, batch_id: int) -> ImportBatch:
    _guard(request)
    return get_object_or_404(
        ImportBatch.objects.select_related("channel", "preset", "created_by"), pk=batch_id
    )


# --- upload and batches -----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def import_home(request: HttpRequest) -> HttpResponse:
    """Upload a file; small files are imported at once, large ones by the worker with progress."""
    _guard(request)
    presets_ensure_builtin()
    if request.method == "POST":
        upload = request.FILES.get("file")
        kind = request.POST.get("kind", ImportKind.ORDERS)
        if upload is None:
            messages.error(request, _("请选择要导入的文件"))
        elif kind not in ImportKind._value2member_map_ or not can_import(request.user, kind):  # type: ignore[arg-type]
            messages.error(request, _("不能导入这种数据"))
        else:
            try:
                batch = batch_create_from_file(
                    fileobj=upload,
                    filename=upload.name or "upload",
                    actor=request.user,  # type: ignore[arg-type]
                    kind=kind,
                    preset_name=request.POST.get("preset") or None,
                    channel_code=request.POST.get("channel") or None,
                    size=upload.size,
                )
            except AppError as exc:
                messages.error(request, exc.message)
            else:
                if batch.size >= ingest_setting("BACKGROUND_BYTES"):
                    from orderhub.ingest.tasks import run_import_batch

                    run_import_batch.enqueue(batch.pk)
                    messages.info(request, _("文件较大，已交给后台处理，本页会显示进度"))
                else:
                    batch_run(batch.pk, actor=request.user)  # type: ignore[arg-type]
                return redirect("ingest:batch", batch_id=batch.pk)
    context = {
        "nav": "ingest",
        "kinds": KINDS,
        "channels": Channel.objects.filter(active=True).order_by("code"),
        "presets": MappingPreset.objects.order_by("-builtin", "name"),
        "batches": ImportBatch.objects.select_related("channel", "created_by")[:30],
        "max_mb": ingest_setting("MAX_UPLOAD_BYTES") // 1024 // 1024,
    }
    return render(request, "ingest/import_home.html", context)


def _batch_context(batch: ImportBatch) -> dict[str, Any]:
    issues = list(ImportIssue.objects.filter(batch=batch).order_by("row_no", "pk")[:200])
    return {
        "nav": "ingest",
        "batch": batch,
        "running": batch.status not in (BatchStatus.DONE, BatchStatus.FAILED),
        "summary": batch_summary_lines(batch) if batch.status == BatchStatus.DONE else [],
        "hold_counts": [(reason_label(k), v) for k, v in sorted(batch.hold_counts.items())],
        "reject_counts": [(reason_label(k), v) for k, v in sorted(batch.reject_counts.items())],
        "issues": issues,
        "more_issues": batch.rejected_count + batch.held_count + batch.conflict_count > len(issues),
    }


@login_required
@require_GET
def batch_detail(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(request, batch_id)
    template = (
        "ingest/_batch_status.html" if request.headers.get("HX-Request") else "ingest/batch_detail.html"
    )
    return render(request, template, _batch_context(batch))


@login_required
@require_GET
def batch_report(request: HttpRequest, batch_id: int) -> HttpResponse:
    """The problem rows as Excel, with a reason column; formulas neutralised."""
    batch = _batch(request, batch_id)
    response = HttpResponse(
        batch_report_xlsx(batch),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-problems.xlsx"'
    return response


# --- export -----------------------------------------------------------------------------------

EXPORT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "jsonl": "application/x-ndjson",
}


@login_required
@require_GET
def export_orders(request: HttpRequest) -> HttpResponse:
    """The order list's filters (same query string as /orders/) plus `format`: a file download.

    Everyone sees only what the order list shows them: sales export their own orders.
    """
    from orderhub.ingest.export import orders_export
    from orderhub.web.forms import OrderFilterForm

    fmt = request.GET.get("format", "xlsx")
    if fmt not in EXPORT_TYPES:
        raise Http404
    channels = list(Channel.objects.order_by("code").values_list("code", "name"))
    filters = OrderFilterForm(request.GET or None, channels=channels).to_filters()
    buf = io.BytesIO()
    orders_export(actor=request.user, filters=filters, fmt=fmt, out=buf)  # type: ignore[arg-type]
    response = HttpResponse(buf.getvalue(), content_type=EXPORT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="orders.{fmt}"'
    return response


# --- presets ----------------------------------------------------------------------------------


@login_required
@require_GET
def preset_list(request: HttpRequest) -> HttpResponse:
    _guard(request)
    presets_ensure_builtin()
    presets = MappingPreset.objects.select_related("channel").order_by("-builtin", "kind", "name")
    return render(
        request, "ingest/preset_list.html", {"nav": "ingest", "presets": presets, "kinds": dict(KINDS)}
    )


@login_required
@require_POST
def preset_copy_view(request: HttpRequest, preset_id: int) -> HttpResponse:
    _guard(request)
    source = get_object_or_404(MappingPreset, pk=preset_id)
    name = (request.POST.get("name") or "").strip() or _("%(n)s（副本）") % {"n": source.name}
    try:
        copy = preset_copy(preset=source, name=name, actor=request.user)  # type: ignore[arg-type]
    except AppError as exc:
        messages.error(request, exc.message)
        return redirect("ingest:presets")
    messages.success(request, _("已复制为「%(n)s」，可以修改后保存") % {"n": copy.name})
    return redirect("ingest:preset_edit", preset_id=copy.pk)


def _field_choices(kind: str) -> list[tuple[str, str]]:
    return [(f.name, f.label) for f in FIELDS_BY_KIND[kind]]


def _editor_state(preset: MappingPreset | None, sample: dict[str, Any] | None) -> dict[str, Any]:
    """Rows of the editor: one per column (header, samples, chosen field, transforms)."""
    headers = (sample or {}).get("headers") or (list(preset.headers) if preset else [])
    rows = (sample or {}).get("rows") or []
    suggested = {s["column"]: s for s in (sample or {}).get("suggestions", [])}
    chosen: dict[str, tuple[str, str]] = {}
    constants: list[tuple[str, str]] = []
    if preset:
        for name, spec in preset.mapping.get("fields", {}).items():
            for col in spec.get("columns", []):
                chosen[col] = (name, format_transforms(spec.get("transforms", [])))
            if not spec.get("columns"):
                value = next(
                    (t.get("value", "") for t in spec.get("transforms", []) if t.get("op") == "const"), ""
                )
                constants.append((name, str(value)))
    columns = []
    for i, h in enumerate(headers):
        s = suggested.get(i, {})
        field, transforms = chosen.get(h, (s.get("field") or "", ""))
        columns.append(
            {
                "index": i,
                "header": h,
                "samples": [
                    str(r[1][i]) if i < len(r[1]) and r[1][i] not in (None, "") else "" for r in rows[:3]
                ],
                "field": field,
                "suggested": s.get("field") or "",
                "confidence": round(100 * s.get("confidence", 0)) if s.get("field") else None,
                "transforms": transforms,
            }
        )
    return {"columns": columns, "constants": constants}


def _mapping_from_post(request: HttpRequest, headers: list[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for i, h in enumerate(headers):
        name = request.POST.get(f"field_{i}", "")
        if not name:
            continue
        spec = fields.setdefault(name, {"columns": [], "transforms": []})
        spec["columns"].append(h)
        text = request.POST.get(f"transforms_{i}", "").strip()
        if text:
            try:
                spec["transforms"] = parse_transform_text(text)
            except TransformError as exc:
                raise AppError(
                    _("「%(h)s」的转换规则无效：%(e)s") % {"h": h, "e": exc}, field=f"transforms_{i}"
                ) from None
    for name, value in zip(
        request.POST.getlist("const_field"), request.POST.getlist("const_value"), strict=False
    ):
        if name and value:
            fields[name] = {"columns": [], "transforms": [{"op": "const", "value": value}]}
    return {"fields": fields}


@login_required
@require_http_methods(["GET", "POST"])
def preset_edit(request: HttpRequest, preset_id: int | None = None) -> HttpResponse:
    """Upload a sample, see the suggestions, correct them, preview, save."""
    _guard(request)
    preset = get_object_or_404(MappingPreset, pk=preset_id) if preset_id else None
    if preset and preset.builtin:
        messages.info(request, _("内置方案不能直接修改，请先复制"))
        return redirect("ingest:presets")
    key = f"{SESSION_SAMPLE}:{preset_id or 'new'}"
    sample: dict[str, Any] | None = request.session.get(key)
    kind = request.POST.get("kind") or (preset.kind if preset else request.GET.get("kind", ImportKind.ORDERS))
    if kind not in ImportKind._value2member_map_:
        kind = ImportKind.ORDERS
    channel_code = request.POST.get("channel", preset.channel.code if preset and preset.channel else "")
    preview: list[dict[str, Any]] | None = None
    state: dict[str, Any] | None = None
    action = request.POST.get("action", "")
    if request.method == "POST" and action == "sample":
        sample = _read_sample(request, kind)
        if sample is not None:
            request.session[key] = sample
    elif request.method == "POST" and action in ("preview", "save"):
        headers = (sample or {}).get("headers") or (list(preset.headers) if preset else [])
        try:
            mapping = _mapping_from_post(request, headers)
            channel = Channel.objects.filter(code=channel_code).first() if channel_code else None
            if action == "preview":
                preview = mapping_preview(
                    kind=kind,
                    headers=headers,
                    rows=(sample or {}).get("rows", []),
                    mapping=mapping,
                    channel=channel,
                )
            else:
                saved = preset_save(
                    name=request.POST.get("name", ""),
                    kind=kind,
                    headers=headers,
                    mapping=mapping,
                    actor=request.user,  # type: ignore[arg-type]
                    channel=channel,
                    description=request.POST.get("description", ""),
                    preset=preset,
                )
                request.session.pop(key, None)
                messages.success(request, _("映射方案「%(n)s」已保存") % {"n": saved.name})
                return redirect("ingest:presets")
        except AppError as exc:
            messages.error(request, exc.message)
        # keep what the user chose on screen
        preset_view = MappingPreset(
            name=request.POST.get("name", ""),
            kind=kind,
            headers=headers,
            mapping=_safe_mapping(request, headers),
        )
        state = _editor_state(preset_view, sample)
    if state is None:
        state = _editor_state(preset, sample)
    context = {
        "nav": "ingest",
        "preset": preset,
        "name": request.POST.get("name", preset.name if preset else ""),
        "description": request.POST.get("description", preset.description if preset else ""),
        "kind": kind,
        "kinds": KINDS,
        "channel_code": channel_code,
        "channels": Channel.objects.filter(active=True).order_by("code"),
        "fields": _field_choices(kind),
        "sample": sample,
        "preview": preview,
        "transform_help": [(op, label) for op, (label, _fn) in TRANSFORMS.items()],
        **state,
    }
    return render(request, "ingest/preset_edit.html", context)


def _safe_mapping(request: HttpRequest, headers: list[str]) -> dict[str, Any]:
    try:
        return _mapping_from_post(request, headers)
    except AppError:
        return {"fields": {}}


def _read_sample(request: HttpRequest, kind: str) -> dict[str, Any] | None:
    upload = request.FILES.get("sample")
    if upload is None:
        messages.error(request, _("请选择样例文件"))
        return None
    if upload.size and upload.size > ingest_setting("MAX_UPLOAD_BYTES"):
        messages.error(request, _("样例文件太大"))
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sample"
        with path.open("wb") as fh:
            for piece in upload.chunks():
                fh.write(piece)
        try:
            s = sample_inspect(path, kind=kind, filename=upload.name or "")
        except AppError as exc:
            messages.error(request, exc.message)
            return None
    return {
        "filename": upload.name,
        "format": s.format,
        "encoding": s.encoding,
        "header_row": s.header_row,
        "headers": s.headers,
        "rows": s.rows,
        "suggestions": [
            {"column": x.column, "field": x.field, "confidence": x.confidence} for x in s.suggestions
        ],
    }
