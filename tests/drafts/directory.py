"""An in-memory customer directory for parser tests (the database one is tested separately)."""

from __future__ import annotations

from dataclasses import dataclass, field

from orderhub.drafts.parser import CustomerRef


@dataclass
class FakeDirectory:
    phones: dict[str, CustomerRef] = field(default_factory=dict)
    names: dict[str, CustomerRef] = field(default_factory=dict)
    history: dict[str, dict[str, int]] = field(default_factory=dict)
    addresses: dict[str, dict[str, str]] = field(default_factory=dict)

    def by_phone(self, phone: str) -> CustomerRef | None:
        return self.phones.get(phone)

    def by_text(self, text: str) -> CustomerRef | None:
        return next((ref for name, ref in self.names.items() if name in text), None)

    def sku_history(self, customer_code: str) -> dict[str, int]:
        return self.history.get(customer_code, {})

    def last_address(self, customer_code: str) -> dict[str, str] | None:
        return self.addresses.get(customer_code)


HENGTONG = CustomerRef("D0001", "椒江恒通汽配")
LUQIAO = CustomerRef("D0002", "路桥顺达汽修")


def directory() -> FakeDirectory:
    """Two dealers: 恒通 buys rear pads, 顺达 buys front pads (the tie-breaker's evidence)."""
    return FakeDirectory(
        phones={"13812345678": HENGTONG, "13957600001": LUQIAO},
        names={"恒通汽配": HENGTONG, "顺达汽修": LUQIAO},
        history={"D0001": {"BP-2232": 12, "OF-1102": 30}, "D0002": {"BP-2231": 8, "AF-2201": 5}},
        addresses={
            "D0001": {
                "receiver_name": "王师傅",
                "receiver_phone": "13812345678",
                "province": "浙江省",
                "province_code": "330000",
                "city": "台州市",
                "city_code": "331000",
                "district": "椒江区",
                "district_code": "331002",
                "detail": "东环大道88号",
            }
        },
    )
