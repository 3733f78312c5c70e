"""Which quantity belongs to which SKU in a run of chat text, spaces or not.

Dealers write 「刹车片20套 滤芯两箱」, 「二十套后刹车片两箱空滤」 and mixtures of both; OCR drops the
spaces (「2箱减震器AF-2201 30个」). The text between quantities is cut into SKU mentions (at merchant
codes; a name and a code naming the same SKU stay one mention; two names run together are split when
both halves are clearly SKUs); words that name no SKU are dropped; then each quantity pairs with the
mention next to it, whichever side it is on.
"""

from __future__ import annotations

from orderhub.drafts.quantities import QuantityMention
from orderhub.drafts.skus import FILLERS, SkuIndex, name_key

SPLIT_SCORE = 85.0


def _meaningful(text: str) -> bool:
    return bool(name_key(FILLERS.sub("", text)))


def _names_sku(text: str, index: SkuIndex) -> bool:
    return bool(index.codes_in(text) or index.by_name(text, limit=1))


def _split_names(text: str, index: SkuIndex) -> list[str]:
    """「刹车盘雨刮」 → 刹车盘, 雨刮 when the whole is a poor match and both halves are good ones."""
    found = index.by_name(text, limit=1)
    key = name_key(FILLERS.sub("", text))
    if (found and found[0].score >= 90) or len(key) < 4:
        return [text]
    best: tuple[float, int] | None = None
    for i in range(2, len(text) - 1):
        left, right = index.by_name(text[:i], limit=1), index.by_name(text[i:], limit=1)
        if left and right and left[0].code != right[0].code:
            score = min(left[0].score, right[0].score)
            if score >= SPLIT_SCORE and (best is None or score > best[0]):
                best = (score, i)
    return [text] if best is None else [text[: best[1]], text[best[1] :]]


def mentions(text: str, index: SkuIndex) -> list[str]:
    """The SKU mentions in a piece of text that holds no quantity."""
    pieces: list[tuple[str, str]] = []  # (text, code or "")
    last = 0
    for m, candidate in index.codes_in(text):
        if _meaningful(text[last : m.start()]):
            pieces.extend((p, "") for p in _split_names(text[last : m.start()], index))
        pieces.append((m.group(0), candidate.code))
        last = m.end()
    if _meaningful(text[last:]):
        pieces.extend((p, "") for p in _split_names(text[last:], index))
    merged: list[tuple[str, str]] = []
    for piece in pieces:
        if merged and _same_sku(merged[-1], piece, index):
            merged[-1] = (f"{merged[-1][0]} {piece[0]}", merged[-1][1] or piece[1])
        else:
            merged.append(piece)
    return [t for t, code in merged if code or _names_sku(t, index)]


def _same_sku(a: tuple[str, str], b: tuple[str, str], index: SkuIndex) -> bool:
    """「刹车片 BP-2231」 is one mention; 「减震器 AF-2201」 is two."""
    if bool(a[1]) == bool(b[1]):
        return False
    name, code = (a[0], b[1]) if b[1] else (b[0], a[1])
    candidates = index.by_name(name, limit=3)
    return not candidates or any(c.code == code for c in candidates)


def pair(
    chunk: str, qtys: list[QuantityMention], index: SkuIndex
) -> list[tuple[str, QuantityMention | None]]:
    """(SKU words, quantity) in the order written; a quantity takes the mention beside it."""
    tokens: list[str | QuantityMention] = []
    last = 0
    for q in qtys:
        tokens.extend(mentions(chunk[last : q.start], index))
        tokens.append(q)
        last = q.end
    tokens.extend(mentions(chunk[last:], index))
    out: list[tuple[str, QuantityMention | None]] = []
    pending_sku: str | None = None
    pending_qty: QuantityMention | None = None
    for token in tokens:
        if isinstance(token, str):
            if pending_qty is not None:  # 20套刹车片
                out.append((token, pending_qty))
                pending_qty = None
            else:
                if pending_sku is not None:
                    out.append((pending_sku, None))
                pending_sku = token
        elif pending_sku is not None:  # 刹车片20套
            out.append((pending_sku, token))
            pending_sku = None
        else:
            if pending_qty is not None:
                out.append(("", pending_qty))
            pending_qty = token
    if pending_sku is not None:
        out.append((pending_sku, None))
    if pending_qty is not None:
        out.append(("", pending_qty))
    return out
