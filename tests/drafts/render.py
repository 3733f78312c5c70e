"""Images of orders as dealers send them, drawn with a CJK font: chat screenshots, a purchase-order
table, and a noisy phone photo of a handwritten-style note. Used by the OCR tests and the bench."""

from __future__ import annotations

import io
import random
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SC = 2  # the Simplified Chinese face in the collection


@lru_cache(maxsize=16)
def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT), size, index=SC)


def _wrap(draw: ImageDraw.ImageDraw, text: str, face: ImageFont.FreeTypeFont, width: int) -> list[str]:
    lines, current = [], ""
    for ch in text:
        if draw.textlength(current + ch, font=face) > width and current:
            lines.append(current)
            current = ch
        else:
            current += ch
    return [*lines, current] if current else lines


def chat(
    messages: list[str], *, reply: str = "好的，马上安排", contact: str = "王师傅", size: int = 20
) -> Image.Image:
    """A WeChat-style screenshot: the dealer's bubbles on the left, our reply on the right."""
    width, face, small = 460, font(size), font(size - 6)
    scratch = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    bubbles = [(m, _wrap(scratch, m, face, 300), "left") for m in messages]
    if reply:
        bubbles.append((reply, _wrap(scratch, reply, face, 300), "right"))
    line_h = int(size * 1.45)
    height = 56 + 34 + sum(len(lines) * line_h + 24 + 14 for _m, lines, _s in bubbles) + 20
    image = Image.new("RGB", (width, height), "#ededed")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 48), fill="#f7f7f7")
    draw.text((width // 2, 24), contact, font=font(size - 2), fill="#111", anchor="mm")
    draw.text((width // 2, 70), "上午 10:32", font=small, fill="#999", anchor="mm")
    y = 90
    for _m, lines, side in bubbles:
        text_w = max(int(draw.textlength(ln, font=face)) for ln in lines)
        box_h = len(lines) * line_h + 20
        if side == "left":
            draw.rectangle((12, y, 48, y + 36), fill="#7aa6d8")  # avatar
            x0 = 60
            fill = "#ffffff"
        else:
            draw.rectangle((width - 48, y, width - 12, y + 36), fill="#e0a96d")
            x0 = width - 60 - text_w - 24
            fill = "#95ec69"
        draw.rounded_rectangle((x0, y, x0 + text_w + 24, y + box_h), 6, fill=fill)
        for i, ln in enumerate(lines):
            draw.text((x0 + 12, y + 10 + i * line_h), ln, font=face, fill="#111")
        y += box_h + 14
    return image


def table(rows: list[tuple[str, str, str, str]], footer: list[str], *, size: int = 18) -> Image.Image:
    """A purchase order: title, a ruled table (编码 / 名称 / 数量 / 单位), receiver lines below."""
    face = font(size)
    cols = [0, 110, 300, 380, 450]
    row_h = int(size * 2)
    header = ("商品编码", "商品名称", "数量", "单位")
    height = 60 + row_h * (len(rows) + 1) + 16 + len(footer) * int(size * 1.8) + 16
    image = Image.new("RGB", (cols[-1] + 30, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((15, 16), "采购单", font=font(size + 4), fill="black")
    top = 60
    for r, row in enumerate([header, *rows]):
        y = top + r * row_h
        if r == 0:
            draw.rectangle((15, y, 15 + cols[-1], y + row_h), fill="#eef2f7")
        for c, cell in enumerate(row):
            draw.text((15 + cols[c] + 8, y + row_h // 2), cell, font=face, fill="black", anchor="lm")
    bottom = top + row_h * (len(rows) + 1)
    for r in range(len(rows) + 2):
        draw.line((15, top + r * row_h, 15 + cols[-1], top + r * row_h), fill="#888", width=1)
    for x in cols:
        draw.line((15 + x, top, 15 + x, bottom), fill="#888", width=1)
    y = bottom + 16
    for ln in footer:
        draw.text((15, y), ln, font=face, fill="black")
        y += int(size * 1.8)
    return image


def noisy(lines: list[str], *, seed: int = 0, size: int = 22) -> Image.Image:
    """A phone photo of a note: warm paper, uneven light, slight tilt, blur, sensor noise, JPEG."""
    rnd = random.Random(seed)
    face = font(size)
    scratch = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    width = max(int(scratch.textlength(ln, font=face)) for ln in lines) + 60
    height = len(lines) * int(size * 1.7) + 50
    image = Image.new("RGB", (width, height), (238, 230, 212))
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 4):  # light falling off to one side
        shade = int(25 * x / width)
        draw.line((x, 0, x, height), fill=(238 - shade, 230 - shade, 212 - shade), width=4)
    for i, ln in enumerate(lines):
        draw.text((30 + rnd.randint(-3, 3), 25 + i * int(size * 1.7)), ln, font=face, fill=(40, 40, 60))
    image = image.rotate(
        rnd.uniform(-1.5, 1.5), expand=True, fillcolor=(120, 110, 100), resample=Image.Resampling.BICUBIC
    )
    image = image.filter(ImageFilter.GaussianBlur(0.6))
    noise = Image.effect_noise(image.size, 18).convert("RGB")
    image = Image.blend(image, noise, 0.08)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=60)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
