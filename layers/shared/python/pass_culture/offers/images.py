"""Offer images go straight from the pro's browser to S3 with a presigned POST: the API never carries the bytes,
and S3 itself enforces the type and the 10 MB limit (the policy's conditions). They are read through CloudFront
(`IMAGES_BASE_URL`; the bucket stays private), locally through the gateway's `/_local/files/`."""

from __future__ import annotations

from typing import Any

MAX_IMAGE_BYTES = 10 * 1024 * 1024
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
UPLOAD_VALIDITY_SECONDS = 15 * 60


def image_key(offer_id: str, upload_id: str, content_type: str) -> str:
    return f"offer-images/{offer_id}/{upload_id}.{EXTENSIONS[content_type]}"


class ImageUploads:
    def __init__(self, s3_client: Any, bucket: str, public_base_url: str = "") -> None:
        self._s3 = s3_client
        self._bucket = bucket
        self._public_base_url = public_base_url.rstrip("/")

    def url_of(self, key: str | None) -> str | None:
        """Where a browser reads the image (None without an image, or where no images URL is configured)."""
        return f"{self._public_base_url}/{key}" if key and self._public_base_url else None

    def delete(self, key: str) -> None:
        """An image no offer shows any more (versioning keeps it 30 days: the bucket's lifecycle rules)."""
        self._s3.delete_object(Bucket=self._bucket, Key=key)

    def presigned_post(self, key: str, content_type: str) -> dict[str, Any]:
        post: dict[str, Any] = self._s3.generate_presigned_post(
            Bucket=self._bucket,
            Key=key,
            Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, MAX_IMAGE_BYTES]],
            ExpiresIn=UPLOAD_VALIDITY_SECONDS,
        )
        return {"url": post["url"], "fields": post["fields"], "maxBytes": MAX_IMAGE_BYTES}
