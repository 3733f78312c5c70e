"""Which SKU a phrase means: merchant code first, then name or alias by fuzzy match (rapidfuzz)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process
from rapidfuzz.distance import LCSseq

CODE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z]{1,5}[-_ ]?\d[0-9A-Za-z]{0,7}(?:[-_][A-Za-z0-9]{1,6})?(?![A-Za-z0-9])"
)
_GLUED = re.compile(r"(?<![A-Za-z])[A-Za-z]{1,5}[-_]?\d{3,}")
_LEADING_DIGIT = re.compile(r"(?<![A-Za-z0-9])([0158])([A-Za-z]{1,4}[-_]?\d{3,})")
_DIGIT_AS_LETTER = {"0": "O", "1": "I", "5": "S", "8": "B"}
_NOT_NAME = re.compile(r"[\s,，.。:：;；!！?？、/\\|()（）\[\]【】\"'“”‘’~～<>《》#＃+＋=-]+")
# Words around a SKU's name in chat that are not part of it.
FILLERS = re.compile(
    r"老板|你好|您好|麻烦|帮忙|帮我|给我|我要|还要|再要|再来|还有|另外|加上|要|来|拿|订|下单|发|寄|一共|共|"
    r"各|的|吧|呢|啊|哈|呀|谢谢|多谢|在吗|亲|请|数量|商品|货号|编码|型号|名称|规格|单位|补货|补|给"
)
# OCR reads these letters and digits for one another.
_OCR_CODE = str.maketrans({"O": "0", "I": "1", "L": "1", "S": "5", "B": "8", "Z": "2", "G": "6"})

MIN_NAME_SCORE = 60.0
TIE_MARGIN = 5.0


@dataclass(frozen=True)
class SkuEntry:
    code: str
    name: str
    spec: str = ""
    aliases: tuple[str, ...] = ()
    pack_size: int = 1


@dataclass(frozen=True)
class Candidate:
    code: str
    name: str
    score: float
    by: str  # code / code_fuzzy / name / alias

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "name": self.name, "score": round(self.score, 1), "by": self.by}


def normalize_code(code: str) -> str:
    return re.sub(r"[-_\s]", "", code).upper()


def name_key(text: str) -> str:
    return _NOT_NAME.sub("", text).lower()


@dataclass
class SkuIndex:
    """The active catalog in memory: codes, and every name and alias as a match key."""

    entries: dict[str, SkuEntry]
    by_code: dict[str, str] = field(default_factory=dict)
    by_ocr_code: dict[str, str] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)
    key_owner: list[tuple[str, str]] = field(default_factory=list)  # (code, "name"|"alias")

    @classmethod
    def build(cls, entries: Iterable[SkuEntry]) -> SkuIndex:
        index = cls({e.code: e for e in sorted(entries, key=lambda e: e.code)})  # ties: stable order
        for e in index.entries.values():
            index.by_code[normalize_code(e.code)] = e.code
            index.by_ocr_code.setdefault(normalize_code(e.code).translate(_OCR_CODE), e.code)
            for text, by in [(e.name, "name"), *((a, "alias") for a in e.aliases)]:
                key = name_key(text)
                if key:
                    index.keys.append(key)
                    index.key_owner.append((e.code, by))
        return index

    def get(self, code: str) -> SkuEntry | None:
        return self.entries.get(code)

    # --- codes ----------------------------------------------------------------------------

    def codes_in(self, text: str) -> list[tuple[re.Match[str], Candidate]]:
        """Merchant codes written in `text` that the catalog knows (exactly, or as OCR misreads)."""
        found = []
        for m in CODE.finditer(text):
            norm = normalize_code(m.group(0))
            code = self.by_code.get(norm)
            if code:
                found.append((m, Candidate(code, self.entries[code].name, 100.0, "code")))
                continue
            code = self.by_ocr_code.get(norm.translate(_OCR_CODE))
            if code:
                found.append((m, Candidate(code, self.entries[code].name, 90.0, "code_fuzzy")))
                continue
            best = process.extractOne(norm, list(self.by_code), scorer=fuzz.ratio, score_cutoff=85)
            if best and len(best[0]) == len(norm):
                code = self.by_code[best[0]]
                found.append((m, Candidate(code, self.entries[code].name, best[1] * 0.95, "code_fuzzy")))
        return found

    def unglue_codes(self, text: str) -> str:
        """OCR drops the space after a code: 「BP-223120套」 → 「BP-2231 20套」 when BP-2231 is known;
        and reads a code's first letter as a digit: 「0F-1102」 → 「OF-1102」."""
        text = _LEADING_DIGIT.sub(self._letter_for_digit, text)
        out, last = [], 0
        for m in _GLUED.finditer(text):
            raw = m.group(0)
            norm = normalize_code(raw)
            known = norm if norm in self.by_code else ""
            if not known:
                known = max(
                    (k for k in self.by_code if norm.startswith(k) and norm[len(k) :].isdigit()),
                    key=len,
                    default="",
                )
            if not known:
                continue
            seen, cut = 0, 0
            while seen < len(known):
                if raw[cut] not in "-_ ":
                    seen += 1
                cut += 1
            lead = " " if m.start() and text[m.start() - 1].isdigit() else ""  # 「x12CL-1501」
            out.append(text[last : m.start()] + lead + raw[:cut] + (" " if cut < len(raw) else ""))
            last = m.start() + cut
        return "".join(out) + text[last:]

    def _letter_for_digit(self, m: re.Match[str]) -> str:
        fixed = _DIGIT_AS_LETTER[m.group(1)] + m.group(2)
        norm = normalize_code(fixed)
        return fixed if any(norm.startswith(code) for code in self.by_code) else m.group(0)

    # --- names ----------------------------------------------------------------------------

    def by_name(self, text: str, *, limit: int = 5) -> list[Candidate]:
        """SKUs whose name or alias the phrase is closest to, best first (one entry per SKU)."""
        query = name_key(FILLERS.sub("", text))
        if len(query) < 2 or not self.keys:
            return []
        best: dict[str, Candidate] = {}
        for _key, score, i in process.extract(
            query, self.keys, scorer=_similarity, limit=limit * 4, score_cutoff=MIN_NAME_SCORE
        ):
            code, by = self.key_owner[i]
            if code not in best or score > best[code].score:
                best[code] = Candidate(code, self.entries[code].name, float(score), by)
        return sorted(best.values(), key=lambda c: -c.score)[:limit]


def _similarity(query: str, key: str, **_kwargs: object) -> float:
    """How much of the phrase the key explains (70 %) and how much of the key the phrase has (30 %),
    by longest common subsequence: a one-character typo of a long key (机油虑芯 → 机油滤芯) beats a
    shorter key that is merely contained (机油). A key inside a longer phrase with other words
    (上次那个大灯 ⊃ 大灯) is still found, at a confidence low enough to be checked."""
    common = LCSseq.similarity(query, key)
    score = 100 * (0.7 * common / len(query) + 0.3 * common / len(key))
    if len(key) >= 2 and key in query:
        score = max(score, 65 + 15 * len(key) / len(query))
    return score


def rank(candidates: list[Candidate], history: Mapping[str, int]) -> tuple[list[Candidate], float, bool]:
    """Order candidates; the customer's past orders break near-ties. (ranked, confidence, tie_broken)."""
    if not candidates:
        return [], 0.0, False
    top = candidates[0]
    close = [c for c in candidates if top.score - c.score < TIE_MARGIN]
    tie_broken = False
    confidence = top.score / 100
    if len(close) > 1:
        bought = sorted(close, key=lambda c: (-history.get(c.code, 0), -c.score))
        if history.get(bought[0].code, 0) > history.get(bought[1].code, 0):
            tie_broken = True
            rest = [c for c in candidates if c is not bought[0]]
            candidates = [bought[0], *rest]
            confidence = min(confidence, 0.85)
        else:
            confidence = min(confidence, 0.6)
    return candidates, round(confidence, 2), tie_broken
