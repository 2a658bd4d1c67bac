"""The pro portal's files: served under /pro/ by the local gateway without ever shadowing an API route, and published
to the portal bucket by `make deploy-portal` (infra/ops/deploy_portal.py) against the embedded AWS."""

from __future__ import annotations

import json
from pathlib import Path

from infra.local.embedded_aws import EmbeddedAws, Provisioned
from infra.local.portal import PORTAL_DIR, PortalFiles, chained
from infra.ops import deploy_portal

CONFIG = {"apiUrl": "", "cognitoEndpoint": "http://x/_local/cognito", "userPoolId": "eu-west-3_abc", "clientId": "c"}


def serve(path: str, method: str = "GET") -> dict | None:  # type: ignore[type-arg]
    return PortalFiles(lambda: CONFIG)(method, path, {}, None)


def test_the_portal_is_served_under_pro_with_its_types_and_config() -> None:
    index = serve("/pro/")
    assert index is not None and index["statusCode"] == 200
    assert index["headers"]["Content-Type"] == "text/html; charset=utf-8"
    assert b'<html lang="fr">' in index["body"]
    script = serve("/pro/js/app.js")
    assert script is not None and script["headers"]["Content-Type"].startswith("text/javascript")
    assert script["headers"]["X-Content-Type-Options"] == "nosniff"
    config = serve("/pro/config.json")
    assert config is not None and json.loads(config["body"]) == CONFIG
    assert config["headers"]["Cache-Control"] == "no-store"
    assert serve("/pro") == {"statusCode": 301, "headers": {"Location": "/pro/"}, "body": ""}


def test_api_routes_under_pro_and_anything_outside_the_folder_go_on_to_the_api() -> None:
    for path in ("/pro/bookings", "/pro/bookings/export?format=csv", "/pro/reimbursements", "/pro/../template.yaml",
                 "/pro/%2e%2e/template.yaml", "/pro/js/../../pyproject.toml", "/offers", "/pro/js"):  # fmt: skip
        assert serve(path) is None, path
    assert serve("/pro/index.html", method="POST") is None  # a write is never a file's
    fallback = chained(PortalFiles(lambda: CONFIG), lambda *_: {"statusCode": 200, "headers": {}, "body": "api"})
    assert fallback("GET", "/pro/bookings", {}, None) == {"statusCode": 200, "headers": {}, "body": "api"}


def test_deploy_portal_uploads_every_file_with_the_stacks_config_and_removes_stale_ones(
    embedded: tuple[EmbeddedAws, Provisioned],
) -> None:
    aws, provisioned = embedded
    s3, bucket = aws.client("s3"), str(provisioned.ref("PortalBucket"))
    s3.put_object(Bucket=bucket, Key="pro/js/old-page.js", Body=b"gone")
    s3.put_object(Bucket=bucket, Key="elsewhere.txt", Body=b"kept")
    outputs = {"ApiUrl": "https://abc.execute-api.eu-west-3.amazonaws.com/prod", "UserPoolId": "eu-west-3_Pool",
               "UserPoolClientId": "client123"}  # fmt: skip
    files = deploy_portal.portal_files()
    uploaded, deleted = deploy_portal.publish(s3, bucket, files, deploy_portal.config_for(outputs, "eu-west-3"))
    assert (uploaded, deleted) == (len(files) + 1, 1)
    keys = {item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == set(files) | {"pro/config.json", "elsewhere.txt"}
    assert {Path(key).name for key in files} >= {"index.html", "app.js", "portal.css"}
    assert len(files) == sum(1 for path in PORTAL_DIR.rglob("*") if path.is_file())
    script = s3.get_object(Bucket=bucket, Key="pro/js/app.js")
    assert script["ContentType"] == "text/javascript; charset=utf-8"
    config = json.loads(s3.get_object(Bucket=bucket, Key="pro/config.json")["Body"].read())
    assert config == {"apiUrl": outputs["ApiUrl"], "cognitoEndpoint": "https://cognito-idp.eu-west-3.amazonaws.com/",
                      "userPoolId": "eu-west-3_Pool", "clientId": "client123", "region": "eu-west-3"}  # fmt: skip


def test_the_files_bucket_answers_the_portals_cors_as_the_template_configures_it(
    embedded: tuple[EmbeddedAws, Provisioned],
) -> None:
    """The browser's image upload (a presigned POST straight to S3) is cross-origin: the bucket's CorsConfiguration
    is applied locally as in AWS, with S3's names (MaxAge → MaxAgeSeconds)."""
    aws, provisioned = embedded
    rules = aws.client("s3").get_bucket_cors(Bucket=str(provisioned.ref("FilesBucket")))["CORSRules"]
    assert [(r["AllowedMethods"], r["MaxAgeSeconds"], len(r["AllowedOrigins"])) for r in rules] == [(["POST"], 3000, 1)]
    assert rules[0]["AllowedOrigins"][0].startswith("https://")  # no PortalOrigin given: the portal's distribution
