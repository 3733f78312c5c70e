"""Master data of the demo company: entities, warehouses, channels, staff, SKUs and dealers."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.auth.hashers import make_password

from orderhub.accounts.models import LegalEntity, User
from orderhub.accounts.services import roles_ensure, system_user
from orderhub.catalog.models import Customer, CustomerTier, Sku
from orderhub.demo import company, names, regions
from orderhub.demo.parts import CATEGORIES, VEHICLES, YEARS, Category
from orderhub.fulfilment.models import Carrier, CarrierRule, EntityRule, ProvincePreference
from orderhub.ingest.models import Channel
from orderhub.inventory.models import Warehouse

TIER_WEIGHTS: tuple[tuple[str, int], ...] = (
    (CustomerTier.VIP, 6),
    (CustomerTier.A, 20),
    (CustomerTier.B, 34),
    (CustomerTier.C, 40),
)
CREDIT_LIMIT: dict[str, int] = {
    CustomerTier.VIP: 500_000,
    CustomerTier.A: 200_000,
    CustomerTier.B: 80_000,
    CustomerTier.C: 20_000,
}
# How many more orders a dealer of each tier places than a C dealer.
TIER_ACTIVITY: dict[str, int] = {CustomerTier.VIP: 8, CustomerTier.A: 4, CustomerTier.B: 2, CustomerTier.C: 1}


@dataclass
class SkuInfo:
    sku: Sku
    category: Category


@dataclass
class MasterData:
    """What the order generator needs, kept in memory so it never re-reads the database."""

    users: dict[str, User]
    system: User
    entities: dict[str, LegalEntity]
    warehouses: dict[str, Warehouse]
    channels: dict[str, Channel]
    skus: list[SkuInfo]
    customers: list[Customer]
    customer_weights: list[int] = field(default_factory=list)
    sku_weights: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sku_by_code: dict[str, SkuInfo] = {s.sku.code: s for s in self.skus}
        self.customer_by_code: dict[str, Customer] = {c.code: c for c in self.customers}

    def staff(self, *usernames: str) -> list[User]:
        return [self.users[u] for u in usernames]


def _money(value: float) -> Decimal:
    # Prices end in .00 or .50 as a wholesaler's list does.
    return (Decimal(str(value)) * 2).quantize(Decimal("1"), rounding=ROUND_HALF_UP) / 2


def _ean13(body12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


def create_company() -> tuple[dict[str, LegalEntity], dict[str, Warehouse], dict[str, Channel]]:
    entities = {
        code: LegalEntity.objects.create(code=code, name=name, tax_id=tax_id)
        for code, name, tax_id in company.LEGAL_ENTITIES
    }
    staff = {username: (display, mobile) for username, display, _r, mobile, _s in company.STAFF}
    warehouses = {
        w.code: Warehouse.objects.create(
            code=w.code,
            name=w.name,
            province=w.province,
            province_code=w.province_code,
            city=w.city,
            district=w.district,
            address=f"{w.province}{w.city}{w.district}{w.address}",
            contact_name=staff[w.keeper][0],
            contact_phone=staff[w.keeper][1],
            owner_entity=entities[w.entity],
            priority=w.priority,
        )
        for w in company.WAREHOUSES
    }
    _province_preferences(warehouses)
    channels = {}
    for code, name, kind, masks_phone, _d, _r in company.CHANNELS:
        channels[code] = Channel.objects.update_or_create(
            code=code, defaults={"name": name, "kind": kind, "masks_phone": masks_phone}
        )[0]
    _carriers()
    _entity_rules(entities)
    return entities, warehouses, channels


def _entity_rules(entities: dict[str, LegalEntity]) -> None:
    """Online shops sell through the Hangzhou company, dealers buy from Taizhou (主体规则)."""
    retail, dealer = entities[company.RETAIL_ENTITY], entities[company.DEALER_ENTITY]
    shops = ",".join(code for code, *_rest, dealer_share, _r in company.CHANNELS if not dealer_share)
    EntityRule.objects.bulk_create(
        [
            EntityRule(position=10, name="网店订单由杭州恒驰销售、开票", channels=shops,
                       selling_entity=retail, invoicing_entity=retail),
            EntityRule(position=20, name="经销商订单由台州恒驰销售、开票",
                       selling_entity=dealer, invoicing_entity=dealer),
        ]
    )  # fmt: skip


def _carriers() -> None:
    """Carriers with simulated e-waybill ranges and the strategy table, so labels print in the demo."""
    carriers = {}
    for code, name, cp_code, taobao, pdd, prefix, digits in company.CARRIERS:
        start = 10 ** (digits - 1)
        carriers[code] = Carrier.objects.create(
            code=code,
            name=name,
            provider=Carrier.Provider.SIMULATED,
            cp_code=cp_code,
            taobao_code=taobao,
            pdd_logistics_id=pdd,
            number_prefix=prefix,
            range_start=start,
            next_number=start,
            range_end=10 * start - 1,
        )
    CarrierRule.objects.bulk_create(
        CarrierRule(
            position=n * 10,
            name=name,
            provinces=provinces,
            customer_tiers=tiers,
            min_weight_kg=min_kg,
            carrier=carriers[code],
        )
        for n, (name, provinces, tiers, min_kg, code) in enumerate(company.CARRIER_RULES, start=1)
    )


def _province_preferences(warehouses: dict[str, Warehouse]) -> None:
    """Allocation prefers the nearest warehouse, then the others by distance (就近发货)."""
    fallback = {"TZ": ("TZ", "GZ", "CD"), "GZ": ("GZ", "TZ", "CD"), "CD": ("CD", "GZ", "TZ")}
    ProvincePreference.objects.bulk_create(
        ProvincePreference(province=province, warehouse=warehouses[code], rank=rank)
        for province in regions.PROVINCES
        for rank, code in enumerate(fallback[regions.NEAREST_WAREHOUSE[province]], start=1)
    )


def create_staff() -> dict[str, User]:
    """One account per staff member; all share the printed demo password (hashed once)."""
    groups = roles_ensure()
    password = make_password(company.DEMO_PASSWORD)
    users: dict[str, User] = {}
    for username, display, role, mobile, superuser in company.STAFF:
        user = User.objects.create(
            username=username,
            display_name=display,
            first_name=display[1:],
            last_name=display[0],
            mobile=mobile,
            email=f"{username}@hengchi-auto.example.cn",
            password=password,
            is_staff=superuser,
            is_superuser=superuser,
        )
        user.groups.set([groups[role]])
        users[username] = user
    return users


def create_skus(rng: random.Random) -> list[SkuInfo]:
    """About 300 SKUs across the categories, each with a unique merchant code and EAN-13."""
    used_numbers: set[int] = set()
    rows: list[tuple[Category, Sku]] = []
    for cat in CATEGORIES:
        if cat.specs:
            combos = [(n, s) for n in cat.names for s in cat.specs]
        else:
            combos = [(n, f"适配 {v} {y}") for n in cat.names for v in VEHICLES for y in YEARS]
        rng.shuffle(combos)
        for name, spec in combos[: cat.count]:
            number = rng.randrange(1000, 10000)
            while number in used_numbers:
                number = rng.randrange(1000, 10000)
            used_numbers.add(number)
            lo, hi = cat.weight_g
            sku = Sku(
                code=f"{cat.prefix}-{number}",
                name=name,
                spec=spec,
                barcode=_ean13(f"6973418{number:05d}"),
                weight_g=rng.randint(lo, hi) // 10 * 10,
                pack_size=cat.pack_size,
                fragile=cat.fragile,
                oversize=cat.oversize,
                liquid=cat.liquid,
                unit_price=_money(rng.uniform(*cat.price)),
                aliases=list(cat.aliases),
            )
            rows.append((cat, sku))
    Sku.objects.bulk_create([s for _c, s in rows])
    by_code = {s.code: s for s in Sku.objects.filter(code__in=[s.code for _c, s in rows])}
    return [SkuInfo(by_code[s.code], c) for c, s in rows]


def _dealer_name(rng: random.Random, place: regions.Place, taken: set[str]) -> str:
    forms, weights = zip(*names.FORMS, strict=True)
    while True:
        where = names.short_place(place.city, place.district)
        if rng.random() < 0.25 and not place.district.endswith("市"):
            where += place.district[:-1]
        name = (
            where
            + rng.choice(names.TRADE_NAMES)
            + rng.choice(names.BUSINESSES)
            + rng.choices(forms, weights)[0]
        )
        if name not in taken:
            taken.add(name)
            return name


def _address(rng: random.Random, place: regions.Place) -> str:
    if rng.random() < 0.35:
        market = place.city[:-1] + rng.choice(regions.MARKETS)
        return f"{market}{rng.choice('ABCDEFG')}区{rng.randint(1, 320)}号"
    return f"{rng.choice(regions.STREETS)}{rng.randint(1, 999)}号"


def create_customers(rng: random.Random, users: dict[str, User], count: int) -> list[Customer]:
    """`count` dealers and repair shops across the provinces, each owned by a regional salesperson."""
    taken: set[str] = set()
    tiers, tier_weights = zip(*TIER_WEIGHTS, strict=True)
    customers = []
    for i in range(1, count + 1):
        province = rng.choices(regions.PROVINCES, regions.PROVINCE_WEIGHTS)[0]
        place = rng.choice(regions.places_in(province))
        name = _dealer_name(rng, place, taken)
        tier = rng.choices(tiers, tier_weights)[0]
        phone = names.mobile(rng) if rng.random() < 0.7 else names.landline(rng, place.city)
        owner = users[f"sales{regions.SALES_REGION.get(province, 4)}"]
        customers.append(
            Customer(
                code=f"D{i:04d}",
                name=name,
                phone=phone,
                tier=tier,
                is_dealer="汽修" not in name and "维修" not in name,
                credit_limit=Decimal(CREDIT_LIMIT[tier]),
                province=place.province,
                city=place.city,
                district=place.district,
                address_detail=_address(rng, place),
                owner=owner,
            )
        )
    Customer.objects.bulk_create(customers)
    return list(Customer.objects.filter(code__in=[c.code for c in customers]).order_by("code"))


def create_master_data(rng: random.Random, *, customers: int) -> MasterData:
    entities, warehouses, channels = create_company()
    users = create_staff()
    skus = create_skus(rng)
    dealers = create_customers(rng, users, customers)
    return MasterData(
        users=users,
        system=system_user(),
        entities=entities,
        warehouses=warehouses,
        channels=channels,
        skus=skus,
        customers=dealers,
        customer_weights=[TIER_ACTIVITY[c.tier] for c in dealers],
        sku_weights=[s.category.popularity * 100 // s.category.count for s in skus],
    )
