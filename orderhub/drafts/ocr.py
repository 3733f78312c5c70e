"""Screenshots and photos → text lines in reading order, with an offline OCR engine.

RapidOCR on ONNX Runtime (`rapidocr-onnxruntime`), whose PP-OCR models ship inside the wheel:
nothing is downloaded at run time. Images are checked before they are decoded: byte size, format,
pixel count and side length (a decompression bomb is refused from its header alone).
"""

from __future__ import annotations

import io
import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from orderhub.core.errors import ValidationFailed
from orderhub.drafts.conf import drafts_setting

FORMATS = {"PNG", "JPEG", "MPO", "WEBP", "BMP", "GIF"}
OCR_MAX_SIDE = 2000  # larger images are scaled down first: text in screenshots stays legible


class ImageRefused(ValidationFailed):
    code = "image_refused"


@dataclass(frozen=True)
class OcrLine:
    text: str
    score: float
    box: tuple[int, int, int, int]  # left, top, right, bottom

    @property
    def height(self) -> int:
        return self.box[3] - self.box[1]

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "score": round(self.score, 3), "box": list(self.box)}


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def image_open(data: bytes, name: str = "image") -> Image.Image:
    """Decode one upload as an RGB image, upright (EXIF orientation), or refuse it with a reason."""
    max_bytes = drafts_setting("MAX_IMAGE_BYTES")
    if not data:
        raise ImageRefused(f"「{name}」是空文件 / empty file", field="images")
    if len(data) > max_bytes:
        raise ImageRefused(
            f"图片「{name}」太大：{_mb(len(data))}，上限 {_mb(max_bytes)} / image too large", field="images"
        )
    max_pixels, max_side = drafts_setting("MAX_IMAGE_PIXELS"), drafts_setting("MAX_IMAGE_SIDE")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            fmt = image.format or ""
            if fmt not in FORMATS:
                raise ImageRefused(
                    f"「{name}」的格式 {fmt or '未知'} 不支持，请上传 PNG/JPEG/WebP 截图或照片"
                    " / unsupported format",
                    field="images",
                )
            width, height = image.size
            if width * height > max_pixels or max(width, height) > max_side:
                raise ImageRefused(
                    f"图片「{name}」尺寸过大：{width}×{height} 像素，"
                    f"上限 {max_pixels // 1_000_000} 百万像素、边长 {max_side} / image dimensions too large",
                    field="images",
                )
            image.load()
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRefused(
            f"图片「{name}」尺寸过大，疑似解压炸弹，已拒绝 / decompression bomb refused", field="images"
        ) from exc
    except UnidentifiedImageError as exc:
        raise ImageRefused(
            f"「{name}」不是可识别的图片（支持 PNG/JPEG/WebP/BMP/GIF）/ not an image", field="images"
        ) from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageRefused(f"图片「{name}」已损坏，无法读取 / damaged image: {exc}", field="images") from exc
    image = ImageOps.exif_transpose(image) or image
    rgb = image.convert("RGB")
    rgb.info["mime"] = Image.MIME.get(fmt, "application/octet-stream")  # from the bytes, not the client
    return rgb


def image_for_ocr(image: Image.Image) -> Image.Image:
    if max(image.size) > OCR_MAX_SIDE:
        image = image.copy()
        image.thumbnail((OCR_MAX_SIDE, OCR_MAX_SIDE), Image.Resampling.LANCZOS)
    return image


_engine_lock = threading.Lock()


@lru_cache(maxsize=1)
def ocr_engine() -> Any:
    """One engine per process (loading the models takes about a second)."""
    from rapidocr_onnxruntime import RapidOCR

    threads = int(drafts_setting("OCR_THREADS"))
    return RapidOCR(
        intra_op_num_threads=threads,
        inter_op_num_threads=1,
        det_limit_type="max",
        det_limit_side_len=int(drafts_setting("OCR_DETECT_SIDE")),
        print_verbose=False,
    )


def ocr_lines(image: Image.Image) -> list[OcrLine]:
    """The text lines of one image, each with the engine's score and its box."""
    scaled = image_for_ocr(image)
    factor = image.width / scaled.width
    with _engine_lock:  # ONNX sessions are shared; one call at a time keeps memory flat
        result, _elapsed = ocr_engine()(scaled, use_cls=False)
    lines = []
    for box, text, score in result or []:
        xs = [p[0] * factor for p in box]
        ys = [p[1] * factor for p in box]
        if text.strip():
            lines.append(
                OcrLine(text.strip(), float(score), (int(min(xs)), int(min(ys)), int(max(xs)), int(max(ys))))
            )
    return lines


def reading_order(lines: list[OcrLine]) -> str:
    """Lines top to bottom; boxes on one row left to right (table cells, joined by a space); a
    bubble's wrapped continuation joined to its first line."""
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda ln: (ln.box[1], ln.box[0])):
        centre = (line.box[1] + line.box[3]) / 2
        for row in rows:
            top, bottom = min(r.box[1] for r in row), max(r.box[3] for r in row)
            overlap = min(bottom, line.box[3]) - max(top, line.box[1])
            if top <= centre <= bottom and overlap >= 0.5 * min(line.height, bottom - top):
                row.append(line)
                break
        else:
            rows.append([line])
    texts: list[str] = []
    previous: list[OcrLine] | None = None
    singles = [row[0] for row in rows if len(row) == 1]
    for row in rows:
        row.sort(key=lambda ln: ln.box[0])
        text = " ".join(ln.text for ln in row)
        if previous is not None and _continues(previous, row, singles):
            # A wrap inside a sentence: Chinese needs no space; only English words do.
            glue = " " if texts[-1][-1:].isalpha() and texts[-1][-1:].isascii() and text[:1].isalpha() else ""
            texts[-1] += glue + text
        else:
            texts.append(text)
        previous = row
    return "\n".join(texts)


def _continues(previous: list[OcrLine], row: list[OcrLine], singles: list[OcrLine]) -> bool:
    """A wrapped line of the same chat bubble: single boxes, same left edge, hardly any gap, and the
    line before it is full (as wide as the widest line starting at that edge)."""
    if len(previous) != 1 or len(row) != 1:
        return False
    a, b = previous[0], row[0]
    height = max(a.height, 1)
    if abs(a.box[0] - b.box[0]) >= 0.6 * height or not 0 <= b.box[1] - a.box[3] < 0.35 * height:
        return False
    widest = max(ln.box[2] for ln in singles if abs(ln.box[0] - a.box[0]) < 0.6 * height)
    return a.box[2] >= widest - 1.2 * height


def ocr_confidence(lines: list[OcrLine]) -> float:
    if not lines:
        return 0.0
    return sum(ln.score for ln in lines) / len(lines)
