"""Writes on accounts: tokens and role membership."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from orderhub.accounts.models import ApiToken, User, hash_token
from orderhub.accounts.roles import Role


def roles_ensure() -> dict[str, Group]:
    """Create one group per role (idempotent)."""
    return {role: Group.objects.get_or_create(name=role)[0] for role in Role.values}


def user_set_roles(*, user: User, roles: list[str]) -> None:
    groups = roles_ensure()
    unknown = set(roles) - set(groups)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")
    user.groups.set([groups[r] for r in roles])
    user.__dict__.pop("role_names", None)


def system_user() -> User:
    """The account that automatic rules and background jobs act as (created on first use)."""
    user = User.objects.filter(username="system").first()
    if user is not None and user.has_role(Role.SYSTEM):
        return user
    # User and role in one transaction: a concurrent caller never sees a system user without
    # its role (and so without the right to act).
    with transaction.atomic():
        user, created = User.objects.get_or_create(
            username="system", defaults={"display_name": "系统", "is_active": False}
        )
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user_set_roles(user=user, roles=[Role.SYSTEM])
    return user


@transaction.atomic
def api_token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """Issue a token; the raw value is returned once and only its hash is stored."""
    raw = ApiToken.generate()
    token = ApiToken.objects.create(user=user, name=name, prefix=raw[:10], token_hash=hash_token(raw))
    return token, raw


def api_token_authenticate(raw: str) -> User | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    # Touch at most once a minute so a busy integration does not write on every request.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
