"""The REST API root: one NinjaAPI, token or session authentication, one error shape."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(title="OrderHub API", version="1.0", urls_namespace="api")
