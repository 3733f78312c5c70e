"""Finding the header row and suggesting which standard field each column holds.

Scores are confidences in [0, 1]: an exact known header is 1.0, the same header with a unit or a
note in brackets 0.95, a known header inside a longer one (or the reverse) up to 0.8, a similar
spelling up to 0.6; sample values (phone-, date-, address-like) add evidence when headers are vague.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

from orderhub.ingest.fields import FIELDS_BY_KIND, FieldType, StdField
from orderhub.ingest.readers import Cell, Row
from orderhub.ingest.text import clean_text, header_core, header_key

HEADER_SCAN_ROWS = 30
MIN_CONFIDENCE = 0.5


@dataclass
class Suggestion:
    column: int
    header: str
    field: str | None
    confidence: float
    alternatives: list[tuple[str, float]] = field(default_factory=list)


@lru_cache(maxsize=16)
def _synonym_index(kind: str) -> list[tuple[str, str, StdField, Counter[str]]]:
    out = []
    for f in FIELDS_BY_KIND[kind]:
        for syn in (*f.synonyms, f.label, f.name):
            core = header_core(syn)
            out.append((header_key(syn), core, f, Counter(core)))
    return out


def _similar(core: str, core_chars: Counter[str], syn_core: str, syn_chars: Counter[str]) -> float:
    """SequenceMatcher's ratio when it can reach 0.6, else 0: its cheap upper bounds (the lengths,
    then the characters in common, as `real_quick_ratio` / `quick_ratio`) rule most pairs out
    before the costly matching (header detection runs this for every cell of the first rows)."""
    total = len(core) + len(syn_core)
    if 2.0 * min(len(core), len(syn_core)) / total < 0.6:  # difflib's own arithmetic
        return 0.0
    if 2.0 * sum((core_chars & syn_chars).values()) / total < 0.6:
        return 0.0
    return SequenceMatcher(None, core, syn_core).ratio()


@lru_cache(maxsize=4096)
def header_scores(kind: str, header: str) -> tuple[tuple[str, float], ...]:
    """Every field's best score for one header text, best first."""
    key, core = header_key(header), header_core(header)
    if not key:
        return ()
    best: dict[str, float] = {}
    core_chars = Counter(core)
    for syn_key, syn_core, f, syn_chars in _synonym_index(kind):
        if not syn_key:
            continue
        if key == syn_key:
            score = 1.0
        elif core and core == syn_core:
            score = 0.95
        elif len(syn_core) >= 2 and len(core) >= 2 and (syn_core in core or core in syn_core):
            shorter, longer = sorted((len(syn_core), len(core)))
            score = 0.55 + 0.25 * shorter / longer
        elif len(core) >= 2 and len(syn_core) >= 2:
            ratio = _similar(core, core_chars, syn_core, syn_chars)
            score = 0.6 * ratio if ratio >= 0.6 else 0.0
        else:
            score = 0.0
        if score > best.get(f.name, 0.0):
            best[f.name] = score
    return tuple(sorted(best.items(), key=lambda kv: -kv[1]))


_PHONE_RE = re.compile(r"^(\+?86)?[\s-]?1[3-9]\d[\s\d*-]{7,12}$|^\d{3,4}-\d{7,8}$")
_DATE_RE = re.compile(r"^\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}")
_ADDR_RE = re.compile(r"(省|市|区|县|路|号|街道|镇)")


def _value_hints(kind: str, values: list[Cell]) -> dict[str, float]:
    texts = [clean_text(v) for v in values if v not in (None, "")][:20]
    if not texts:
        return {}
    n = len(texts)
    hints: dict[str, float] = {}
    phone = sum(1 for t in texts if _PHONE_RE.match(t)) / n
    date = sum(1 for t in texts if _DATE_RE.match(t)) / n + sum(
        1 for v in values if hasattr(v, "year")
    ) / max(len(values), 1)
    addr = sum(1 for t in texts if len(t) >= 8 and len(_ADDR_RE.findall(t)) >= 2) / n
    if kind == "orders":
        if phone >= 0.8:
            hints["receiver_phone"] = 0.6
        if date >= 0.8:
            hints["ordered_at"] = 0.55
        if addr >= 0.8:
            hints["address"] = 0.6
    return hints


def suggest_columns(
    kind: str, headers: list[str], samples: list[list[Cell]] | None = None
) -> list[Suggestion]:
    """One suggestion per column; each field is given to at most one column (the likeliest)."""
    samples = samples or []
    candidates: list[tuple[float, int, str]] = []
    per_column: dict[int, list[tuple[str, float]]] = {}
    for col, header in enumerate(headers):
        scores = dict(header_scores(kind, header))
        values = [r[col] if col < len(r) else None for r in samples]
        for name, hint in _value_hints(kind, values).items():
            scores[name] = max(scores.get(name, 0.0), hint) + (0.1 if name in scores else 0.0)
        ranked = sorted(((n, min(s, 1.0)) for n, s in scores.items() if s > 0), key=lambda kv: -kv[1])
        per_column[col] = ranked[:4]
        for name, score in ranked:
            if score >= MIN_CONFIDENCE:
                candidates.append((score, col, name))
    taken_fields: set[str] = set()
    chosen: dict[int, tuple[str, float]] = {}
    for score, col, name in sorted(candidates, key=lambda c: (-c[0], c[1])):
        if col in chosen or name in taken_fields:
            continue
        chosen[col] = (name, score)
        taken_fields.add(name)
    out = []
    for col, header in enumerate(headers):
        name, score = chosen.get(col, (None, 0.0))
        alts = [(n, round(s, 2)) for n, s in per_column.get(col, []) if n != name]
        out.append(Suggestion(col, header, name, round(score, 2), alts))
    return out


def header_row_score(kind: str, cells: list[Cell]) -> float:
    texts = [clean_text(c) for c in cells if c not in (None, "")]
    if len(texts) < 2:
        return 0.0
    known = 0.0
    for t in set(texts):
        scores = header_scores(kind, t)
        if scores and scores[0][1] >= 0.9:
            known += 1
        elif scores and scores[0][1] >= MIN_CONFIDENCE:
            known += 0.5
    textual = sum(1 for c in cells if isinstance(c, str) and c.strip() and not _looks_numeric(c))
    distinct = len(set(texts)) / len(texts)
    return known * 2 + textual * 0.2 * distinct


def _looks_numeric(text: str) -> bool:
    return bool(re.fullmatch(r"[\d\s.,:/\-+*'年月日]+", text.strip()))


def find_header_row(kind: str, rows: list[Row]) -> int:
    """Index (into `rows`) of the header row among the first rows; title rows above it are skipped."""
    best_i, best = 0, -1.0
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = header_row_score(kind, row.cells)
        if score > best + 1e-9:
            best_i, best = i, score
    return best_i


def header_texts(cells: list[Cell]) -> list[str]:
    """Header cells as text; blank headers get a positional name, duplicates a suffix."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, c in enumerate(cells):
        text = clean_text(c) or f"列{i + 1}"
        if text in seen:
            seen[text] += 1
            text = f"{text}#{seen[text]}"
        else:
            seen[text] = 1
        out.append(text)
    return out


def header_signature(headers: list[str]) -> str:
    """Order-independent fingerprint of a header row: same columns → same signature."""
    keys = sorted({header_key(h) for h in headers if header_key(h) and not re.fullmatch(r"列\d+", h)})
    return hashlib.sha1("|".join(keys).encode()).hexdigest()  # noqa: S324 - a fingerprint, not security


def field_type(kind: str, name: str) -> FieldType:
    for f in FIELDS_BY_KIND[kind]:
        if f.name == name:
            return f.type
    return FieldType.TEXT
