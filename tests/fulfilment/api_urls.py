"""A URLconf mounting the fulfilment router on its own API, as orderhub/api.py will."""

from django.urls import path
from ninja import NinjaAPI

from orderhub.accounts.auth import BearerTokenAuth
from orderhub.core.errors import AppError
from orderhub.fulfilment.api import build_router

api = NinjaAPI(urls_namespace="fulfilment_test_api", auth=[BearerTokenAuth()])
api.add_router("/", build_router())


@api.exception_handler(AppError)
def _app_error(request, exc: AppError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


urlpatterns = [path("api/", api.urls)]
