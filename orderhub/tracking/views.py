"""Thin HTTP endpoints of tracking: the Kuaidi100 push callback."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from orderhub.tracking.callbacks import kuaidi100_callback_receive


@csrf_exempt  # called by Kuaidi100, authenticated by the push's own sign
@require_POST
def kuaidi100_callback(request: HttpRequest) -> JsonResponse:
    reply = kuaidi100_callback_receive(
        param=request.POST.get("param", ""), sign=request.POST.get("sign", ""), now=timezone.now()
    )
    return JsonResponse(reply.body, status=reply.status, json_dumps_params={"ensure_ascii": False})
