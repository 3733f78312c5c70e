"""Settings of chat and screenshot drafts: settings.ORDERHUB_DRAFTS overrides these defaults."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # One image upload: bytes, pixels (width × height) and the longer side.
    "MAX_IMAGE_BYTES": 12 * 1024 * 1024,
    "MAX_IMAGE_PIXELS": 40_000_000,
    "MAX_IMAGE_SIDE": 12_000,
    "MAX_IMAGES": 9,
    "MAX_TEXT_CHARS": 5000,
    # ONNX Runtime threads per OCR call (one web or CLI process): 1 keeps a busy server responsive.
    "OCR_THREADS": int(os.environ.get("ORDERHUB_OCR_THREADS", "1")),
    # The longest side the text detector sees; screenshots are scaled down to it, never up.
    "OCR_DETECT_SIDE": 960,
    # A message repeating a draft or an order of the same customer within this window is a duplicate.
    "DUPLICATE_WINDOW_MINUTES": int(os.environ.get("ORDERHUB_DRAFT_DUPLICATE_MINUTES", "120")),
    "CHANNEL_CODE": "wechat",
}


def drafts_setting(name: str) -> Any:
    return getattr(settings, "ORDERHUB_DRAFTS", {}).get(name, DEFAULTS[name])
