"""Fixtures for import tests: the channels of a multi-channel seller, files on disk, a runner."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orderhub.accounts.models import User
from orderhub.accounts.roles import Role
from orderhub.ingest.models import Channel, ChannelKind, ImportBatch
from orderhub.ingest.services import batch_create_from_file, batch_run


@pytest.fixture(autouse=True)
def ingest_files(settings: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "ingest-files"
    settings.ORDERHUB_INGEST = {"FILES_DIR": str(folder)}
    return folder


@pytest.fixture
def shop_channels(channels: dict[str, Channel]) -> dict[str, Channel]:
    """pdd (masks phones) and manual from the shared fixture, plus the other marketplaces and U8."""
    extra = {
        "douyin": Channel.objects.create(
            code="douyin", name="抖店", kind=ChannelKind.DOUYIN, masks_phone=True
        ),
        "1688": Channel.objects.create(code="1688", name="1688", kind=ChannelKind.ALIBABA_1688),
        "taobao": Channel.objects.create(
            code="taobao", name="天猫旗舰店", kind=ChannelKind.TAOBAO, masks_phone=True
        ),
        "kuaishou": Channel.objects.create(
            code="kuaishou", name="快手小店", kind=ChannelKind.KUAISHOU, masks_phone=True
        ),
        "u8": Channel.objects.create(code="u8", name="用友U8", kind=ChannelKind.ERP),
    }
    return {**channels, **extra}


@pytest.fixture
def run_import(tmp_path: Path, staff: dict[str, User]) -> Callable[..., ImportBatch]:
    """Import `data` as a file called `name` the way the CLI and the upload page do."""
    counter = iter(range(1_000_000))

    def run(data: bytes, name: str = "orders.csv", **kwargs: Any) -> ImportBatch:
        path = tmp_path / f"{next(counter)}-{name}"
        path.write_bytes(data)
        actor = kwargs.pop("actor", staff[Role.CUSTOMER_SERVICE])
        with path.open("rb") as fh:
            batch = batch_create_from_file(fileobj=fh, filename=name, actor=actor, size=len(data), **kwargs)
        return batch_run(batch.pk)

    return run
