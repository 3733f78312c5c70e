"""`orderhub token create USERNAME`: print a new API token for that user."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orderhub.accounts.models import User
from orderhub.accounts.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user; the token is printed once and stored hashed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["create"])
        parser.add_argument("username")
        parser.add_argument("--name", default="cli")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = User.objects.filter(username=opts["username"]).first()
        if user is None:
            raise CommandError(f"no user named {opts['username']!r}")
        _, raw = api_token_create(user=user, name=opts["name"])
        self.stdout.write(raw)
