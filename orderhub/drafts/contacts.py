"""Receiver phone, name and address inside a chat message, found by pattern and by the address
parser of file import (orderhub.ingest.normalize), so both paths store the same codes."""

from __future__ import annotations

import re
from dataclasses import dataclass

from orderhub.ingest.normalize import Address, Phone, normalize_phone, parse_address
from orderhub.orders.models import PhoneKind

_MOBILE = re.compile(r"(?<![\d])(?:\+?86[-\s]?)?(1[3-9]\d(?:[-\s]?\d){8})(?![\d])")
_LANDLINE = re.compile(r"(?<![\d-])(0\d{2,3})[-\s]?(\d{7,8})(?![\d])")

# Common surnames (百家姓, the frequent ones) and compound surnames: a receiver's name starts with one.
SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武"
    "戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮"
    "柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古"
    "吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫"
    "寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "夏侯")
TITLES = "师傅|先生|女士|小姐|老板|经理|老师|总|工|姐|哥"
_TITLED = re.compile(rf"(?P<name>(?:{'|'.join(COMPOUND_SURNAMES)}|[\u4e00-\u9fff])(?:{TITLES}))")
_KEYED = re.compile(r"(?:收货人|收件人|联系人|姓名|收货|名字|收)\s*[:：]?\s*(?P<name>[\u4e00-\u9fff]{2,4})")
_NAME_STOP = re.compile(r"(电话|手机|地址|联系|号码|收货|收|电)$")
_CJK = re.compile(r"[\u4e00-\u9fff]+$")

ADDRESS_TRIGGERS = re.compile(
    r"(?:收货地址|送货地址|地址|发到|寄到|送到|发往|寄往|送往|发至|寄至|送至|到)\s*[:：]?\s*"
)
OLD_ADDRESS = re.compile(
    r"老地址|老地方|原地址|地址同上|地址不变|还是原来的?地址|还发原来|上次的?地址|之前的?地址"
)


@dataclass(frozen=True)
class Found:
    value: str
    start: int
    end: int
    confidence: float


def is_name(text: str) -> bool:
    return bool(
        2 <= len(text) <= 4 and _CJK.match(text) and (text[0] in SURNAMES or text[:2] in COMPOUND_SURNAMES)
    )


def find_phone(text: str) -> tuple[Phone | None, Found | None]:
    """The first phone in the message: mobile (spaces and dashes allowed) or a landline."""
    hits = [(m, m.group(1)) for m in _MOBILE.finditer(text)]
    if not hits:
        hits = [(m, f"{m.group(1)}-{m.group(2)}") for m in _LANDLINE.finditer(text)]
    if not hits:
        return None, None
    m, digits = hits[0]
    phone = normalize_phone(re.sub(r"[\s-]", "", digits) if digits.startswith("1") else digits)
    confidence = {PhoneKind.NORMAL: 0.98, PhoneKind.VIRTUAL: 0.8}.get(phone.kind, 0.3)
    if len({re.sub(r"\D", "", d) for _m, d in hits}) > 1:
        confidence = min(confidence, 0.7)  # two different numbers: which is the receiver's?
    return phone, Found(phone.value, m.start(), m.end(), confidence)


def _strip_receipt(word: str) -> str:
    """「何勇收」: the receiver is 何勇."""
    return word[:-1] if word.endswith("收") and len(word) > 2 else word


def find_name(text: str, phone: Found | None) -> Found | None:
    """The receiver: after 收货人/联系人, a surname with a title (王师傅), or a name beside the phone."""
    for m in _KEYED.finditer(text):
        name = _NAME_STOP.sub("", _NAME_STOP.sub("", m.group("name")))
        strong = m.group(0).startswith(("收货人", "收件人", "联系人", "姓名"))
        if len(name) >= 2 and (strong or is_name(name)):
            return Found(name, m.start("name"), m.start("name") + len(name), 0.95)
    titled = [
        m
        for m in _TITLED.finditer(text)
        if m.group("name")[0] in SURNAMES or m.group("name")[:2] in COMPOUND_SURNAMES
    ]

    def distance(m: re.Match[str]) -> int:
        return max(phone.start - m.end(), m.start() - phone.end, 0) if phone else m.start()

    near = [m for m in titled if phone is None or distance(m) <= 8]
    if near:
        # 「王老板你好 … 林师傅 139…」: the one beside the phone is the receiver.
        m = min(near, key=distance)
        return Found(m.group("name"), m.start(), m.end(), 0.92)
    beside = _beside_phone(text, phone)
    if beside is not None:
        return beside
    if titled:
        # A chat screenshot's header names the contact (王师傅) far from the phone.
        m = min(titled, key=distance)
        return Found(m.group("name"), m.start(), m.end(), 0.8)
    return None


def _beside_phone(text: str, phone: Found | None) -> Found | None:
    if phone is None:
        return None
    before = re.search(r"([\u4e00-\u9fff]{2,6})[\s,，:：/]*$", text[: phone.start])
    if before:
        run = before.group(1)
        end = before.start(1) + len(run)
        word = _strip_receipt(run)
        for size in (4, 3, 2):
            candidate = word[-size:]
            if (
                len(candidate) == size
                and is_name(candidate)
                and (size != 4 or candidate[:2] in COMPOUND_SURNAMES)
            ):
                start = end - (len(run) - len(word)) - size
                return Found(candidate, start, end, 0.85)
    after = re.match(r"[\s,，:：/]*([\u4e00-\u9fff]{2,5})(?![\u4e00-\u9fff])", text[phone.end :])
    if after:
        word = _strip_receipt(after.group(1))
        if is_name(word) and len(word) <= 4:
            start = phone.end + after.start(1)
            return Found(word, start, start + len(after.group(1)), 0.85)
    return None


def find_address(
    segments: list[str], starts: list[list[int]] | None = None
) -> tuple[int, int, Address] | None:
    """(segment index, offset where the address starts, address) for the first segment holding one.

    A trigger word (发到, 地址:) marks it; without one, it starts a segment, follows a space or
    follows an item's quantity (`starts`, per segment)."""
    best: tuple[int, int, Address] | None = None
    for i, seg in enumerate(segments):
        for m in ADDRESS_TRIGGERS.finditer(seg):
            address = parse_address(seg[m.end() :])
            if _usable(address):
                return i, m.start(), address
        if best is not None:
            continue
        offsets = sorted(
            {0, *(j for j in range(1, len(seg)) if seg[j - 1] == " "), *(starts[i] if starts else [])}
        )
        for j in offsets:
            address = parse_address(seg[j:])
            if _usable(address):
                # The parser forgives a few leading characters: start where the place name does.
                while j + 1 < len(seg) and parse_address(seg[j + 1 :]) == address:
                    j += 1
                best = (i, j, address)
                break
    return best


def _usable(address: Address) -> bool:
    return bool(address.province and (address.city or address.district))


def address_confidence(address: Address) -> float:
    if not address.province:
        return 0.3 if address.detail else 0.0
    score = 0.95
    if not address.district:
        score -= 0.15
    if len(address.detail) < 3:
        score -= 0.35
    return round(score, 2)
