"""The same service against S3 (moto's server standing in for OSS/MinIO)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from django.db import transaction
from PIL import Image

from civicloop.core.attachments.models import Attachment
from civicloop.core.attachments.services import (
    attachment_create,
    attachment_digest,
    attachments_sweep_orphans,
)
from tests.core.attachments.conftest import (
    image_bytes,
    jpeg_with_gps_and_orientation,
    make_upload,
    wav_bytes,
)

pytestmark = pytest.mark.django_db

BUCKET = "civicloop-test"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_client(s3_endpoint: str) -> Any:
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", **CREDENTIALS)
    client.create_bucket(Bucket=BUCKET)
    yield client
    for item in client.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        client.delete_object(Bucket=BUCKET, Key=item["Key"])
    client.delete_bucket(Bucket=BUCKET)


@pytest.fixture
def s3_storage(settings, s3_endpoint: str, s3_client: Any) -> Any:
    # Assigning settings.STORAGES fires setting_changed, whose handler in django.test
    # empties storages' cache and re-wraps default_storage, so FileField storage
    # (which is the default_storage proxy) resolves to S3 from here on.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": BUCKET,
                "endpoint_url": s3_endpoint,
                "access_key": CREDENTIALS["aws_access_key_id"],
                "secret_key": CREDENTIALS["aws_secret_access_key"],
                "region_name": "us-east-1",
                "default_acl": None,
                "file_overwrite": False,
            },
        },
    }
    return s3_client


def test_photo_round_trip_through_s3(s3_storage: Any, media_root) -> None:
    attachment = attachment_create(
        upload=make_upload("IMG_0001.jpg", jpeg_with_gps_and_orientation(), "image/jpeg"),
        uploaded_by=None,
    )
    assert type(Attachment._meta.get_field("file").storage._wrapped).__name__ == "S3Storage"

    obj = s3_storage.get_object(Bucket=BUCKET, Key=attachment.file.name)
    body = obj["Body"].read()
    assert hashlib.sha256(body).hexdigest() == attachment.sha256
    assert obj["ContentType"] == "image/jpeg"
    image = Image.open(io.BytesIO(body))
    assert image.size == (20, 40) and len(image.getexif()) == 0

    keys = {item["Key"] for item in s3_storage.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == {attachment.file.name, attachment.thumbnail.name}
    assert attachment_digest(attachment) == attachment.sha256
    assert list(media_root.rglob("*")) == []  # nothing went to disk


def test_orphan_sweep_on_s3(s3_storage: Any) -> None:
    kept = attachment_create(upload=make_upload("a.wav", wav_bytes()), uploaded_by=None)
    with pytest.raises(RuntimeError), transaction.atomic():
        attachment_create(upload=make_upload("b.jpg", image_bytes()), uploaded_by=None)
        raise RuntimeError("rolled back by the caller")
    assert len(s3_storage.list_objects_v2(Bucket=BUCKET)["Contents"]) == 3

    deleted = attachments_sweep_orphans(older_than=timedelta(0))

    assert len(deleted) == 2
    keys = {item["Key"] for item in s3_storage.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert keys == {kept.file.name}
