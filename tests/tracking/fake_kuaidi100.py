"""A local HTTP server that speaks Kuaidi100's documented contract (integrations.md §5) and
checks every request the way Kuaidi100 does: form encoding, field names, the query sign
UPPER(MD5(param + key + customer)), and the subscription's key, callback URL and salt.

Its signing is written here independently of the adapter, so a mistake in one is caught by
the other; the reference's test vectors pin both."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

CUSTOMER = "TESTCUSTOMER"
KEY = "testkey"
SALT = "0123456789abcdef0123456789abcdef"
KNOWN_COMPANIES = {"zhongtong", "yuantong", "shentong", "yunda", "shunfeng", "jd", "ems", "jtexpress"}


def sign(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest().upper()  # noqa: S324 (the protocol's)


@dataclass
class Recorded:
    path: str
    content_type: str
    form: dict[str, str]


@dataclass
class FakeKuaidi100:
    """Tracks: tracking number → a query response body (as Kuaidi100 would return it)."""

    tracks: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_next: list[int] = field(default_factory=list)  # HTTP statuses to answer next, once each

    def handle(self, path: str, content_type: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.requests.append(Recorded(path, content_type, form))
        if self.fail_next:
            return self.fail_next.pop(0), {"message": "busy"}
        if content_type.split(";")[0].strip() != "application/x-www-form-urlencoded":
            return 200, {"result": False, "returnCode": "400", "message": "请求格式错误"}
        if path == "/poll/query.do":
            return 200, self.query(form)
        if path == "/poll":
            return 200, self.subscribe(form)
        return 404, {"message": "not found"}

    def query(self, form: dict[str, str]) -> dict[str, Any]:
        if form.get("customer") != CUSTOMER:
            return {"result": False, "returnCode": "601", "message": "key 已过期或没有余额"}
        param = form.get("param", "")
        if form.get("sign") != sign(param + KEY + CUSTOMER):
            return {"result": False, "returnCode": "503", "message": "验证签名失败"}
        p = json.loads(param)
        if not p.get("com") or not p.get("num"):
            return {"result": False, "returnCode": "400", "message": "找不到对应公司"}
        if p["com"] == "shunfeng" and not p.get("phone"):
            return {"result": False, "returnCode": "408", "message": "手机号码校验失败"}
        track = self.tracks.get(p["num"])
        if track is None:
            return {"result": False, "returnCode": "500", "message": "查询无结果，请隔段时间再查"}
        return {"message": "ok", "status": "200", "com": p["com"], "nu": p["num"], **track}

    def subscribe(self, form: dict[str, str]) -> dict[str, Any]:
        if form.get("schema") != "json":
            return {"result": False, "returnCode": "400", "message": "schema 错误"}
        p = json.loads(form.get("param", "{}"))
        if p.get("key") != KEY:
            return {"result": False, "returnCode": "601", "message": "key 不正确"}
        if p.get("company") not in KNOWN_COMPANIES:
            return {"result": False, "returnCode": "700", "message": "不支持此快递公司"}
        parameters = p.get("parameters") or {}
        if not str(parameters.get("callbackurl", "")).startswith("http"):
            return {"result": False, "returnCode": "400", "message": "callbackurl 不正确"}
        if p["number"] in self.subscriptions:
            return {"result": False, "returnCode": "501", "message": "重复订阅"}
        self.subscriptions[p["number"]] = p
        return {"result": True, "returnCode": "200", "message": "提交成功"}


def push_param(
    nu: str,
    data: list[dict[str, str]],
    *,
    state: str = "0",
    com: str = "zhongtong",
    status: str = "polling",
    ischeck: str = "0",
) -> str:
    """A push's `param` exactly as Kuaidi100 sends it (its bytes are what the sign covers)."""
    body = {
        "status": status,
        "message": "",
        "autoCheck": "0",
        "comOld": "",
        "comNew": "",
        "lastResult": {
            "message": "ok",
            "state": state,
            "status": "200",
            "condition": "F00",
            "ischeck": ischeck,
            "com": com,
            "nu": nu,
            "data": data,
        },
    }
    return json.dumps(body, ensure_ascii=False)


def entry(time: str, context: str, status: str = "在途", area: str = "浙江,杭州市") -> dict[str, str]:
    return {"context": context, "time": time, "ftime": time, "status": status, "areaName": area}


class Server:
    """The fake on 127.0.0.1 and a free port, in a thread, for the length of a test."""

    def __init__(self, fake: FakeKuaidi100) -> None:
        fake_ = fake

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8")
                form = {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}
                status, body = fake_.handle(self.path, self.headers.get("Content-Type", ""), form)
                payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json;charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
