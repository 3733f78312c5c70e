"""Kuaidi100 (快递100): subscription with a signed callback, and real-time query as a fallback.

Protocol (shared/reference/integrations.md §5):
- query: POST form `customer`, `param` (JSON), `sign` = UPPER(MD5(param + key + customer));
- subscribe: POST form `schema=json`, `param` (JSON, with `key` inside; no request sign), its
  `parameters.salt` makes every push carry a sign;
- callback: form `param` (JSON) and `sign` = UPPER(MD5(param + salt)); reply
  {"result": true, "returnCode": "200", "message": "成功"}.
The sign always covers the exact `param` string sent or received, so it is serialised once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from orderhub.tracking.adapters.base import CarrierEvent, ShipmentRef, TrackingError, TrackResult
from orderhub.tracking.carriers import CARRIERS, KUAIDI100_STATES, TrackingStatus, kuaidi100_status
from orderhub.tracking.conf import tracking_conf

SHANGHAI = ZoneInfo("Asia/Shanghai")
# returnCodes after which a retry cannot help (key, account, carrier or number problems).
PERMANENT_SUBSCRIBE = {"600", "601", "700", "701", "702"}
PERMANENT_QUERY = {"400", "408", "503", "601"}
CALLBACK_OK: dict[str, Any] = {"result": True, "returnCode": "200", "message": "成功"}


def md5_upper(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest().upper()


def dumps(value: dict[str, Any]) -> str:
    """Compact JSON with Chinese kept as is: the exact string the sign is computed over."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def kuaidi100_code(carrier: str) -> str:
    known = CARRIERS.get(carrier)
    return known.kuaidi100 if known else carrier


def _carrier_from_code(com: str) -> str:
    for c in CARRIERS.values():
        if c.kuaidi100 == com:
            return c.code
    return com


def _parse_time(raw: str) -> datetime | None:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(raw.strip(), fmt).replace(tzinfo=SHANGHAI)
        except ValueError:
            continue
    return None


def parse_result(result: dict[str, Any]) -> TrackResult:
    """Events of a query response or of a push's `lastResult` (newest first or not)."""
    events: list[CarrierEvent] = []
    rows = [r for r in result.get("data") or [] if isinstance(r, dict)]
    newest: tuple[datetime, int] | None = None
    for row in rows:
        at = _parse_time(str(row.get("time") or row.get("ftime") or ""))
        text = str(row.get("context") or "").strip()
        if at is None or not text:
            continue
        code = str(row.get("statusCode") or "")
        events.append(
            CarrierEvent(
                at=at,
                status=kuaidi100_status(code, str(row.get("status") or "")),
                description=text[:500],
                carrier_state=code[:16],
                area=str(row.get("areaName") or "")[:100],
            )
        )
        if newest is None or at > newest[0]:
            newest = (at, len(events) - 1)
    state = str(result.get("state") or "")
    if newest is not None and state in KUAIDI100_STATES:
        # The overall `state` describes the newest event and is the authoritative one.
        e = events[newest[1]]
        events[newest[1]] = CarrierEvent(
            at=e.at,
            status=KUAIDI100_STATES[state],
            description=e.description,
            carrier_state=state,
            area=e.area,
        )
    signed = str(result.get("ischeck") or "") == "1" or state == "3"
    return TrackResult(events=events, finished=signed)


@dataclass(frozen=True)
class Push:
    """One callback from Kuaidi100, parsed."""

    status: str  # polling / shutdown / abort / updateall
    message: str
    carrier: str  # our carrier code (after Kuaidi100's own correction, if any)
    tracking_no: str
    result: TrackResult

    @property
    def aborted(self) -> bool:
        return self.status == "abort"


class Kuaidi100:
    name = "kuaidi100"
    pushes = True

    def __init__(
        self,
        *,
        customer: str,
        key: str,
        salt: str,
        callback_url: str,
        query_url: str,
        subscribe_url: str,
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.customer = customer
        self.key = key
        self.salt = salt
        self.callback_url = callback_url
        self.query_url = query_url
        self.subscribe_url = subscribe_url
        self.timeout = timeout
        self.transport = transport

    @classmethod
    def from_settings(cls) -> Kuaidi100:
        c = tracking_conf()["KUAIDI100"]
        return cls(
            customer=c["CUSTOMER"],
            key=c["KEY"],
            salt=c["SALT"],
            callback_url=c["CALLBACK_URL"],
            query_url=c["QUERY_URL"],
            subscribe_url=c["SUBSCRIBE_URL"],
            timeout=float(c["TIMEOUT_SECONDS"]),
        )

    # --- signing ------------------------------------------------------------------------------

    def query_sign(self, param: str) -> str:
        return md5_upper(param + self.key + self.customer)

    @staticmethod
    def callback_sign(param: str, salt: str) -> str:
        return md5_upper(param + salt)

    def callback_verify(self, param: str, sign: str) -> bool:
        """Constant-time check of a push's sign; with no salt configured nothing verifies."""
        if not self.salt or not sign:
            return False
        return hmac.compare_digest(self.callback_sign(param, self.salt), sign.strip().upper())

    # --- calls --------------------------------------------------------------------------------

    def _post(self, url: str, form: dict[str, str]) -> dict[str, Any]:
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                response = client.post(url, data=form)
        except httpx.HTTPError as exc:
            raise TrackingError(f"kuaidi100 unreachable: {exc}", code="network") from exc
        if response.status_code >= 500:
            raise TrackingError(f"kuaidi100 HTTP {response.status_code}", code=str(response.status_code))
        try:
            body = response.json()
        except ValueError as exc:
            raise TrackingError(
                f"kuaidi100 answered HTTP {response.status_code} with non-JSON", code="bad_response"
            ) from exc
        if not isinstance(body, dict):
            raise TrackingError("kuaidi100 answered with a non-object", code="bad_response")
        return body

    def _require(self, *names: str) -> None:
        missing = [n for n in names if not getattr(self, n)]
        if missing:
            keys = ", ".join(m.upper() for m in missing)
            raise TrackingError(
                f"kuaidi100 is not configured: set TRACKING['KUAIDI100'] {keys}",
                code="not_configured",
                permanent=True,
            )

    def subscribe(self, ref: ShipmentRef) -> None:
        """Subscribe to pushes; a duplicate subscription (501) counts as success."""
        # Without a salt pushes are unsigned and the callback endpoint would refuse them all.
        self._require("key", "salt", "callback_url")
        parameters = {"callbackurl": self.callback_url, "salt": self.salt, "resultv2": "1"}
        if ref.phone:
            parameters["phone"] = ref.phone
        param: dict[str, Any] = {
            "company": kuaidi100_code(ref.carrier),
            "number": ref.tracking_no,
            "key": self.key,
            "parameters": parameters,
        }
        if ref.from_area:
            param["from"] = ref.from_area
        if ref.to_area:
            param["to"] = ref.to_area
        body = self._post(self.subscribe_url, {"schema": "json", "param": dumps(param)})
        code = str(body.get("returnCode") or "")
        if body.get("result") is True or code in {"200", "501"}:
            return
        raise TrackingError(
            f"kuaidi100 subscribe refused: {code} {body.get('message', '')}".strip(),
            code=code,
            permanent=code in PERMANENT_SUBSCRIBE,
        )

    def query(self, ref: ShipmentRef, *, now: datetime) -> TrackResult:
        """Real-time query (实时查询); "no result yet" (500) is an empty result, not an error."""
        self._require("key", "customer")
        param: dict[str, Any] = {"com": kuaidi100_code(ref.carrier), "num": ref.tracking_no}
        if ref.phone:
            param["phone"] = ref.phone
        if ref.from_area:
            param["from"] = ref.from_area
        if ref.to_area:
            param["to"] = ref.to_area
        param.update({"resultv2": "1", "show": "0", "order": "desc"})
        text = dumps(param)
        form = {"customer": self.customer, "param": text, "sign": self.query_sign(text)}
        body = self._post(self.query_url, form)
        if str(body.get("status") or "") == "200":
            return parse_result(body)
        code = str(body.get("returnCode") or "")
        if code == "500":
            return TrackResult()
        raise TrackingError(
            f"kuaidi100 query refused: {code} {body.get('message', '')}".strip(),
            code=code,
            permanent=code in PERMANENT_QUERY,
        )

    # --- callbacks ----------------------------------------------------------------------------

    @staticmethod
    def push_parse(param: str) -> Push:
        """Parse a verified push. Raises ValueError on a payload that is not a push."""
        data = json.loads(param)
        if not isinstance(data, dict) or not isinstance(data.get("lastResult"), dict):
            raise ValueError("push without lastResult")
        last: dict[str, Any] = data["lastResult"]
        com = str(last.get("com") or "")
        if str(data.get("autoCheck") or "") == "1" and data.get("comNew"):
            com = str(data["comNew"])
        return Push(
            status=str(data.get("status") or ""),
            message=str(data.get("message") or ""),
            carrier=_carrier_from_code(com.lower()),
            tracking_no=str(last.get("nu") or "").strip(),
            result=parse_result(last),
        )


__all__ = ["CALLBACK_OK", "Kuaidi100", "Push", "TrackingStatus", "parse_result"]
