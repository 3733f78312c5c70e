"""`orderhub draft FILE…`: print one JSON draft per message (text files: one message per paragraph;
images: OCR'd offline, all of one file as one message). Reads the catalog; writes nothing."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orderhub.core.errors import AppError
from orderhub.drafts.ocr import ocr_confidence, reading_order
from orderhub.drafts.selectors import DatabaseDirectory, sku_index_load
from orderhub.drafts.services import Upload, images_read, message_parse, scale_confidence

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif"}


def summary(parsed: dict[str, Any], source: str) -> dict[str, Any]:
    address = parsed["address"]
    return {
        "source": source,
        "receiver_name": parsed["receiver_name"],
        "phone": parsed["phone"],
        "customer": parsed["customer"],
        "address": address,
        "lines": [
            {
                "sku_code": ln["sku_code"],
                "quantity": ln["quantity"],
                "confidence": ln["confidence"],
                "text": ln["text"],
                "candidates": [c["code"] for c in ln["candidates"]],
            }
            for ln in parsed["lines"]
        ],
        "flags": parsed["flags"],
        "low_confidence": parsed["low_confidence"],
    }


class Command(BaseCommand):
    help = "Parse chat messages (text files, one per paragraph) or screenshots into draft orders (JSON lines)"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", help="text files or images")
        parser.add_argument("--text", action="store_true", help="also print the (OCR) text of each message")

    def handle(self, *args: Any, **options: Any) -> None:
        index, directory = sku_index_load(), DatabaseDirectory()
        failed = 0
        for name in options["files"]:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"{name}: no such file")
            try:
                for source, text, factor in self._messages(path):
                    parsed = message_parse(text, index=index, directory=directory)
                    if factor is not None:
                        scale_confidence(parsed, factor)
                    out = summary(parsed.as_dict(), source)
                    if options["text"]:
                        out["text"] = text
                    self.stdout.write(json.dumps(out, ensure_ascii=False))
            except AppError as exc:
                failed += 1
                self.stderr.write(f"{name}: {exc.message}")
        if failed:
            sys.exit(1)

    def _messages(self, path: Path) -> list[tuple[str, str, float | None]]:
        if path.suffix.lower() in IMAGE_SUFFIXES:
            text, read = images_read([Upload(path.name, path.read_bytes())])
            lines = [ln for _u, _img, found in read for ln in found]
            return [(str(path), text or reading_order(lines), ocr_confidence(lines))]
        raw = path.read_bytes()
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            content = raw.decode("gb18030", errors="replace")
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", content) if p.strip()]
        return [(f"{path}#{i}", p, None) for i, p in enumerate(paragraphs, start=1)]
