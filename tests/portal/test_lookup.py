"""Customer self-service lookup: codes by SMS, order number + last four digits, masking,
limits, and answers that never tell a known number from an unknown one."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orderhub.notify.models import Delivery
from orderhub.orders.models import Order, PhoneKind
from orderhub.portal.models import LookupCode, LookupEvent
from orderhub.portal.services import Outcome, code_request, code_verify
from tests.web.conftest import page_text

pytestmark = pytest.mark.django_db
PHONE = "13812345678"  # the receiver of every order made by make_order
UNKNOWN = "13900001111"


@pytest.fixture(autouse=True)
def day_long_windows(settings: Any) -> None:
    """The same limits in windows of a day, so a test never straddles a window boundary."""
    from orderhub.portal.conf import DEFAULTS

    limits = {k: [(n, 86400) for n, _w in v] for k, v in DEFAULTS["LIMITS"].items()}
    settings.ORDERHUB_PORTAL = {"LIMITS": limits}


def sent_code(phone: str = PHONE) -> str:
    delivery = Delivery.objects.filter(channel="sms", address=phone).order_by("-pk").first()
    assert delivery is not None, "no SMS was owed"
    return re.search(r"验证码为 (\d{6})", delivery.body).group(1)  # type: ignore[union-attr]


def normalise(body: bytes, phone: str) -> str:
    text = body.decode().replace(phone, "PHONE")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", text)


def test_phone_and_code_show_every_order_of_that_phone(make_order: Callable[..., Order]) -> None:
    first, second = make_order(), make_order()
    client = Client()

    response = client.post("/track/code", {"phone": "138 1234 5678"})
    assert response.status_code == 200
    assert "验证码已通过短信发送" in page_text(response)
    response = client.post("/track/verify", {"phone": PHONE, "code": sent_code()})
    assert response.status_code == 302 and response["Location"] == "/track/orders"

    text = page_text(client.get("/track/orders"))
    assert first.order_no in text and second.order_no in text
    assert "138****5678" in text and PHONE not in text
    assert "王**" in text and "王师傅" not in text
    assert "浙江省 台州市 椒江区 ****" in text and "东环大道" not in text
    assert "订单已提交" in text
    assert LookupEvent.objects.get().orders_found == 2


def test_codes_are_stored_hashed(make_order: Callable[..., Order]) -> None:
    make_order()
    code_request(phone_raw=PHONE, ip="10.0.0.1")
    code = sent_code()
    row = LookupCode.objects.get()

    assert code not in row.code_digest and PHONE not in row.phone_digest
    assert len(row.code_digest) == 64


def test_a_code_expires_after_five_minutes(make_order: Callable[..., Order]) -> None:
    make_order()
    t0 = timezone.now()
    code_request(phone_raw=PHONE, ip="10.0.0.1", now=t0)

    late = code_verify(phone_raw=PHONE, code=sent_code(), ip="10.0.0.1", now=t0 + timedelta(seconds=301))
    assert late[0] is Outcome.REJECTED
    in_time = code_verify(phone_raw=PHONE, code=sent_code(), ip="10.0.0.1", now=t0 + timedelta(seconds=299))
    assert in_time == (Outcome.OK, PHONE)


def test_a_code_works_once(make_order: Callable[..., Order]) -> None:
    make_order()
    code_request(phone_raw=PHONE, ip="10.0.0.1")
    code = sent_code()

    assert code_verify(phone_raw=PHONE, code=code, ip="10.0.0.1")[0] is Outcome.OK
    assert code_verify(phone_raw=PHONE, code=code, ip="10.0.0.1")[0] is Outcome.REJECTED


def test_five_wrong_guesses_burn_the_code(make_order: Callable[..., Order]) -> None:
    make_order()
    code_request(phone_raw=PHONE, ip="10.0.0.1")
    code = sent_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    for _ in range(5):
        assert code_verify(phone_raw=PHONE, code=wrong, ip="10.0.0.1")[0] is Outcome.REJECTED
    assert code_verify(phone_raw=PHONE, code=code, ip="10.0.0.1")[0] is Outcome.REJECTED


def on_the_hour() -> Any:
    return timezone.now().replace(minute=0, second=0, microsecond=0)


def test_a_new_code_replaces_the_old_one(make_order: Callable[..., Order], settings: Any) -> None:
    del settings.ORDERHUB_PORTAL  # the real limits: one code a minute
    make_order()
    t0 = on_the_hour()
    assert code_request(phone_raw=PHONE, ip="10.0.0.1", now=t0) is Outcome.OK
    old_row = LookupCode.objects.get()
    assert code_request(phone_raw=PHONE, ip="10.0.0.1", now=t0 + timedelta(seconds=61)) is Outcome.OK
    new = sent_code()

    later = t0 + timedelta(seconds=62)
    old_row.refresh_from_db()
    assert old_row.expires_at == t0 + timedelta(seconds=61)  # the first code no longer works
    assert code_verify(phone_raw=PHONE, code=new, ip="10.0.0.1", now=later)[0] is Outcome.OK


def test_unknown_and_known_numbers_get_the_same_answers(make_order: Callable[..., Order]) -> None:
    make_order()
    known = Client().post("/track/code", {"phone": PHONE})
    unknown = Client().post("/track/code", {"phone": UNKNOWN})

    assert known.status_code == unknown.status_code == 200
    assert normalise(known.content, PHONE) == normalise(unknown.content, UNKNOWN)
    assert not Delivery.objects.filter(address=UNKNOWN).exists()  # no SMS to strangers
    assert LookupCode.objects.count() == 2  # but the same work was done

    wrong_known = Client().post("/track/verify", {"phone": PHONE, "code": "000000"})
    wrong_unknown = Client().post("/track/verify", {"phone": UNKNOWN, "code": "000000"})
    assert wrong_known.status_code == wrong_unknown.status_code == 200
    assert normalise(wrong_known.content, PHONE) == normalise(wrong_unknown.content, UNKNOWN)
    assert "验证码错误或已过期" in page_text(wrong_known)


def test_per_phone_rate_limit(make_order: Callable[..., Order], settings: Any) -> None:
    del settings.ORDERHUB_PORTAL  # the real limits: one code a minute, five an hour
    make_order()
    t0 = on_the_hour()
    assert code_request(phone_raw=PHONE, ip="10.0.0.1", now=t0) is Outcome.OK
    assert code_request(phone_raw=PHONE, ip="10.0.0.2", now=t0 + timedelta(seconds=10)) is Outcome.LIMITED
    # …and the same for a number nobody has: limits do not reveal which numbers exist
    assert code_request(phone_raw=UNKNOWN, ip="10.0.0.3", now=t0) is Outcome.OK
    assert code_request(phone_raw=UNKNOWN, ip="10.0.0.4", now=t0 + timedelta(seconds=10)) is Outcome.LIMITED
    minutes = [
        code_request(phone_raw=PHONE, ip="10.0.0.5", now=t0 + timedelta(minutes=m)) for m in range(1, 6)
    ]
    # five an hour, refused attempts included (the refused one above was the second)
    assert minutes == [Outcome.OK] * 3 + [Outcome.LIMITED] * 2

    response = Client().post("/track/code", {"phone": PHONE})
    assert response.status_code == 429
    assert "操作过于频繁" in page_text(response)


def test_per_ip_rate_limit(db: Any) -> None:
    client = Client(REMOTE_ADDR="203.0.113.9")
    statuses = [client.post("/track/code", {"phone": f"1390000{n:04d}"}).status_code for n in range(11)]

    assert statuses == [200] * 10 + [429]
    assert Client(REMOTE_ADDR="203.0.113.10").post("/track/code", {"phone": "13900009999"}).status_code == 200


def test_guessing_codes_is_limited_per_ip(make_order: Callable[..., Order]) -> None:
    make_order()
    client = Client(REMOTE_ADDR="203.0.113.7")
    statuses = {
        client.post("/track/verify", {"phone": f"1390000{n:04d}", "code": "123456"}).status_code
        for n in range(30)
    }
    assert statuses == {200}
    assert client.post("/track/verify", {"phone": PHONE, "code": "123456"}).status_code == 429


def test_order_number_and_last_four_digits(make_order: Callable[..., Order]) -> None:
    order = make_order(channel_code="pdd", receiver_phone="138****5678", phone_kind=PhoneKind.MASKED)
    client = Client()

    response = client.post("/track/order", {"order_no": order.channel_order_no, "last4": "5678"})
    assert response.status_code == 302
    text = page_text(client.get("/track/orders"))
    assert order.channel_order_no in text and "138****5678" in text
    assert LookupEvent.objects.get().order_ids == [order.pk]

    by_our_number = Client().post("/track/order", {"order_no": order.order_no, "last4": "5678"})
    assert by_our_number.status_code == 302


def test_virtual_numbers_match_their_extension(make_order: Callable[..., Order]) -> None:
    order = make_order(channel_code="pdd", receiver_phone="13800001111-1234", phone_kind=PhoneKind.VIRTUAL)

    assert (
        Client().post("/track/order", {"order_no": order.channel_order_no, "last4": "1234"}).status_code
        == 302
    )
    # a masked or virtual number can never be used for the SMS path
    Client().post("/track/code", {"phone": "13800001111"})
    assert not Delivery.objects.filter(channel="sms").exists()


def test_wrong_digits_and_unknown_orders_look_the_same(make_order: Callable[..., Order]) -> None:
    order = make_order()
    wrong = Client().post("/track/order", {"order_no": order.order_no, "last4": "0000"})
    unknown = Client().post("/track/order", {"order_no": "OH0000000000", "last4": "5678"})

    assert wrong.status_code == unknown.status_code == 200
    assert "订单号或手机尾号不正确" in page_text(wrong)
    assert normalise(wrong.content, order.order_no) == normalise(unknown.content, "OH0000000000")
    assert not LookupEvent.objects.exists()


def test_order_number_guessing_is_limited(make_order: Callable[..., Order]) -> None:
    order = make_order()
    statuses = [
        Client(REMOTE_ADDR=f"198.51.100.{n}")
        .post("/track/order", {"order_no": order.order_no, "last4": f"{n:04d}"})
        .status_code
        for n in range(6)
    ]
    assert statuses == [200] * 5 + [429]  # five tries per order number, from anywhere


def test_orders_page_needs_a_verified_session(db: Any) -> None:
    response = Client().get("/track/orders")
    assert response.status_code == 302 and response["Location"] == "/track"


def test_the_start_page_is_public_and_mobile(db: Any) -> None:
    response = Client().get("/track")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="viewport" content="width=device-width, initial-scale=1"' in body
    assert "手机号查询" in body and "订单号查询" in body


def verified(client: Client, phone: str = PHONE) -> None:
    client.post("/track/code", {"phone": phone})
    assert client.post("/track/verify", {"phone": phone, "code": sent_code(phone)}).status_code == 302


def test_orders_page_query_count_is_fixed(make_order: Callable[..., Order]) -> None:
    def queries(n_orders: int) -> int:
        for _ in range(n_orders):
            make_order()
        client = Client()
        verified(client)
        client.get("/track/orders")
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/track/orders").status_code == 200
        return len(ctx.captured_queries)

    # the orders, their lines, their parts, their log, their parcels (no session row: the grant
    # is a signed cookie)
    assert queries(1) == queries(3) == 5


def test_the_grant_is_a_signed_cookie_that_expires(
    make_order: Callable[..., Order], monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from orderhub.portal.conf import portal_conf
    from orderhub.portal.views import GRANT_COOKIE

    order = make_order()
    client = Client()
    verified(client)
    cookie = client.cookies[GRANT_COOKIE]
    assert PHONE not in cookie.value and cookie["httponly"] and cookie["path"] == "/track"
    assert order.order_no in page_text(client.get("/track/orders"))

    forged = Client()
    forged.cookies[GRANT_COOKIE] = cookie.value.replace(str(order.pk), str(order.pk + 1))
    assert forged.get("/track/orders")["Location"] == "/track"

    later = time.time() + portal_conf("SESSION_SECONDS") + 1
    monkeypatch.setattr(time, "time", lambda: later)
    response = client.get("/track/orders")
    assert response.status_code == 302 and response["Location"] == "/track"


def test_leaving_forgets_the_orders(make_order: Callable[..., Order]) -> None:
    make_order()
    client = Client()
    verified(client)
    assert client.get("/track/orders").status_code == 200

    assert client.post("/track/leave").status_code == 302
    assert client.get("/track/orders")["Location"] == "/track"


def test_a_lookup_counts_its_limits_in_one_statement(make_order: Callable[..., Order]) -> None:
    order = make_order()

    def statements(last4: str) -> list[str]:
        with CaptureQueriesContext(connection) as ctx:
            Client().post("/track/order", {"order_no": order.order_no, "last4": last4})
        return [q["sql"].split()[0] for q in ctx.captured_queries]

    refused, found = statements("0000"), statements("5678")
    assert refused == ["INSERT", "SELECT"]  # every limit of the request in one upsert; the order
    assert found == ["INSERT", "SELECT", "INSERT"]  # … and the lookup record (no session row)
