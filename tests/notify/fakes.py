"""Local stand-ins for the providers, started by the tests on 127.0.0.1.

Each speaks its provider's documented contract (integrations.md §1–4): it checks the URL, the
signature (re-implemented here from the reference, independently of the adapters) and the
payload shape, answers with the provider's own success and error bodies, and records every
request, counted by the message id header our adapters send.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

DINGTALK_OK = {"errcode": 0, "errmsg": "ok"}
FEISHU_OK = {
    "code": 0,
    "msg": "success",
    "data": {},
    "Extra": None,
    "StatusCode": 0,
    "StatusMessage": "success",
}
FEISHU_BAD_SIGN = {
    "code": 19021,
    "data": {},
    "msg": "sign match fail or timestamp is not within one hour from current time",
}
ALIYUN_OK = {
    "Code": "OK",
    "Message": "OK",
    "BizId": "900619746936498440^0",
    "RequestId": "F655A8D5-B967-440B",
}


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client killed mid-request (the SIGKILL test) resets its connection: expected


@dataclass
class Recorded:
    method: str
    path: str
    raw_query: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any = None
    form: dict[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)

    @property
    def message_id(self) -> str:
        return self.headers.get("x-orderhub-message-id", "")


def _single(values: dict[str, list[str]]) -> dict[str, str]:
    return {k: v[0] for k, v in values.items()}


# --- the signatures, from the reference (not from the adapters) ------------------------------


def expected_dingtalk_sign(secret: str, timestamp: str) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def expected_feishu_sign(secret: str, timestamp: str) -> str:
    mac = hmac.new(f"{timestamp}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def expected_aliyun_signature(params: dict[str, str], secret: str, method: str) -> str:
    def enc(s: str) -> str:
        return quote(s, safe="~")

    canonical = "&".join(f"{enc(k)}={enc(v)}" for k, v in sorted(params.items()) if k != "Signature")
    to_sign = f"{method}&{enc('/')}&{enc(canonical)}"
    return base64.b64encode(hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


class FakeProvider:
    """One provider on a local port. `kind`: dingtalk, wecom, feishu or aliyun."""

    def __init__(
        self,
        kind: str,
        *,
        secret: str = "",
        key: str = "robot-key-1",
        access_key_id: str = "testId",
        clock: float | None = None,
    ) -> None:
        self.kind = kind
        self.secret = secret
        self.key = key
        self.access_key_id = access_key_id
        self.clock = clock  # seconds; None = real time
        self.requests: list[Recorded] = []
        self.counts: Counter[str] = Counter()
        self.problems: list[str] = []
        self._script: deque[tuple[str, Any]] = deque()
        self._lock = threading.Lock()
        self.server = _QuietServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    # --- lifecycle and scripting ---------------------------------------------------------------

    def __enter__(self) -> FakeProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """The webhook URL as the provider shows it to an admin."""
        return {
            "dingtalk": f"{self.base}/robot/send?access_token=tok123",
            "wecom": f"{self.base}/cgi-bin/webhook/send?key={self.key}",
            "feishu": f"{self.base}/open-apis/bot/v2/hook/hook-abc",
            "aliyun": f"{self.base}/",
        }[self.kind]

    def answer(self, *responses: tuple[str, Any]) -> None:
        """Queue answers for the next requests: ("json", body), ("status", code), ("sleep", s)."""
        self._script.extend(responses)

    def now(self) -> float:
        return self.clock if self.clock is not None else time.time()

    # --- the handler ---------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One segment per answer: headers and body apart, Nagle and delayed ACKs add 40 ms.
            disable_nagle_algorithm = True
            wbufsize = -1

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: Any) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                rec = Recorded(
                    method=self.command,
                    path=parts.path,
                    raw_query=parts.query,
                    query=_single(parse_qs(parts.query, keep_blank_values=True)),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                ctype = rec.headers.get("content-type", "")
                if "json" in ctype:
                    try:
                        rec.json = json.loads(body.decode("utf-8"))
                    except ValueError:
                        rec.json = None
                elif "form" in ctype:
                    rec.form = _single(parse_qs(body.decode("utf-8"), keep_blank_values=True))
                with fake._lock:
                    fake.requests.append(rec)
                    fake.counts[rec.message_id] += 1
                    scripted = fake._script.popleft() if fake._script else None
                if scripted is not None:
                    kind, value = scripted
                    if kind == "sleep":
                        time.sleep(value)
                    elif kind == "status":
                        self._reply(value, b"<html>upstream error</html>")
                        return
                    elif kind == "json":
                        self._reply(200, value)
                        return
                status, answer = getattr(fake, f"_check_{fake.kind}")(rec)
                self._reply(status, answer)

            do_GET = _handle
            do_POST = _handle

        return Handler

    def _problem(self, text: str) -> None:
        with self._lock:
            self.problems.append(text)

    # --- per provider: the documented contract ------------------------------------------------

    def _check_dingtalk(self, rec: Recorded) -> tuple[int, Any]:
        if rec.path != "/robot/send" or not rec.query.get("access_token"):
            return 200, {"errcode": 40035, "errmsg": "缺少参数 access_token"}
        if self.secret:
            ts, sign = rec.query.get("timestamp", ""), rec.query.get("sign", "")
            if not ts.isdigit() or abs(int(ts) - self.now() * 1000) > 3600 * 1000:
                self._problem(f"dingtalk: stale timestamp {ts}")
                return 200, {"errcode": 310000, "errmsg": "invalid timestamp, more: [...]"}
            if sign != expected_dingtalk_sign(self.secret, ts):
                self._problem(f"dingtalk: sign mismatch {sign}")
                return 200, {"errcode": 310000, "errmsg": "sign not match"}
        if "application/json" not in rec.headers.get("content-type", "") or not isinstance(rec.json, dict):
            return 200, {"errcode": 40035, "errmsg": "invalid json"}
        msgtype = rec.json.get("msgtype")
        if msgtype not in ("text", "markdown", "actionCard", "link", "feedCard") or msgtype not in rec.json:
            return 200, {"errcode": 40035, "errmsg": f"bad msgtype {msgtype}"}
        return 200, DINGTALK_OK

    def _check_wecom(self, rec: Recorded) -> tuple[int, Any]:
        if rec.path != "/cgi-bin/webhook/send" or rec.query.get("key") != self.key:
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
        if not isinstance(rec.json, dict) or rec.json.get("msgtype") not in (
            "text",
            "markdown",
            "image",
            "news",
        ):
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}
        if rec.json["msgtype"] == "text":
            content = rec.json.get("text", {}).get("content", "")
            if not content:
                return 200, {"errcode": 44004, "errmsg": "empty text"}
            if len(content.encode("utf-8")) > 2048:
                self._problem("wecom: text over 2048 bytes")
        return 200, {"errcode": 0, "errmsg": "ok"}

    def _check_feishu(self, rec: Recorded) -> tuple[int, Any]:
        if not rec.path.startswith("/open-apis/bot/v2/hook/") or not isinstance(rec.json, dict):
            return 400, {"code": 9499, "msg": "Bad Request", "data": {}}
        if "sign" in rec.query or "timestamp" in rec.query:
            self._problem("feishu: signature sent in the URL")
        if self.secret:
            ts, sign = str(rec.json.get("timestamp", "")), rec.json.get("sign", "")
            if (
                not ts.isdigit()
                or abs(int(ts) - self.now()) > 3600
                or sign != expected_feishu_sign(self.secret, ts)
            ):
                self._problem(f"feishu: bad sign {sign} at {ts}")
                return 200, FEISHU_BAD_SIGN
        if rec.json.get("msg_type") not in ("text", "post", "image", "share_chat", "interactive"):
            return 400, {"code": 9499, "msg": "Bad Request", "data": {}}
        return 200, FEISHU_OK

    def _check_aliyun(self, rec: Recorded) -> tuple[int, Any]:
        params = rec.query if rec.method == "GET" else rec.form
        missing = [
            p
            for p in (
                "AccessKeyId",
                "Action",
                "Format",
                "RegionId",
                "SignatureMethod",
                "SignatureNonce",
                "SignatureVersion",
                "Timestamp",
                "Version",
                "PhoneNumbers",
                "SignName",
                "TemplateCode",
                "Signature",
            )
            if not params.get(p)
        ]
        if missing:
            return 400, {"Code": "MissingParameter", "Message": f"missing {missing}"}
        if params["AccessKeyId"] != self.access_key_id:
            return 404, {
                "Code": "InvalidAccessKeyId.NotFound",
                "Message": "Specified access key is not found.",
            }
        if params["Signature"] != expected_aliyun_signature(params, self.secret, rec.method):
            self._problem(f"aliyun: signature mismatch {params['Signature']}")
            return 400, {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched."}
        if (params["Action"], params["Version"], params["SignatureMethod"]) != (
            "SendSms",
            "2017-05-25",
            "HMAC-SHA1",
        ):
            return 400, {"Code": "InvalidParameter", "Message": "bad action/version"}
        template_param = json.loads(params.get("TemplateParam") or "{}")
        if any(not isinstance(v, str) for v in template_param.values()):
            return 200, {"Code": "isv.INVALID_JSON_PARAM", "Message": "JSON参数不合法，只接受字符串值"}
        if not params["PhoneNumbers"].isdigit():
            return 200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"}
        if params.get("Format") == "XML":
            xml = "<SendSmsResponse><Code>OK</Code><Message>OK</Message><BizId>1^0</BizId></SendSmsResponse>"
            return 200, xml.encode()
        return 200, ALIYUN_OK
