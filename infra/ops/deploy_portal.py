"""Publishes the pro portal after `sam deploy`: every file of portal/ into the stack's PortalBucket (with its content
type), a config.json built from the stack's outputs (the API's URL, the user pool and its client), then a CloudFront
invalidation of /pro/* so browsers get the new files at once.

    python -m infra.ops.deploy_portal --stack pass-culture        (that is `make deploy-portal STACK=…`)

The files go under pro/ (the distribution's root object is pro/index.html). Files no longer in portal/ are deleted
(the bucket is versioned: a bad upload is rolled back by restoring the previous versions)."""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
import time
from pathlib import Path
from typing import Any

import boto3

from infra.local.portal import PORTAL_DIR, TYPES, portal_config

PREFIX = "pro/"


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in described.get("Outputs", [])}


def config_for(outputs: dict[str, str], region: str) -> dict[str, Any]:
    """config.json in AWS: the portal calls the API Gateway stage and Cognito's regional endpoint directly."""
    return portal_config(
        api_url=outputs["ApiUrl"],
        cognito_endpoint=f"https://cognito-idp.{region}.amazonaws.com/",
        user_pool_id=outputs["UserPoolId"],
        client_id=outputs["UserPoolClientId"],
    )


def portal_files(root: Path = PORTAL_DIR) -> dict[str, Path]:
    return {PREFIX + path.relative_to(root).as_posix(): path for path in sorted(root.rglob("*")) if path.is_file()}


def publish(s3: Any, bucket: str, files: dict[str, Path], config: dict[str, Any]) -> tuple[int, int]:
    """Uploads the files and config.json; deletes what the bucket holds under pro/ that portal/ no longer has.
    Answers (uploaded, deleted)."""
    for key, path in files.items():
        content_type = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=content_type,
                      CacheControl="no-cache")  # fmt: skip
    s3.put_object(Bucket=bucket, Key=PREFIX + "config.json", Body=json.dumps(config).encode(),
                  ContentType="application/json", CacheControl="no-store")  # fmt: skip
    wanted = set(files) | {PREFIX + "config.json"}
    stale = [
        item["Key"]
        for listed in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=PREFIX)
        for item in listed.get("Contents", [])
        if item["Key"] not in wanted
    ]
    for start in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in stale[start : start + 1000]]})
    return len(files) + 1, len(stale)


def main(arguments: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True, help="the CloudFormation stack sam deploy created")
    parser.add_argument("--region", default=None, help="the stack's region (default: the AWS configuration's)")
    options = parser.parse_args(arguments)
    session = boto3.session.Session(region_name=options.region)
    outputs = stack_outputs(session.client("cloudformation"), options.stack)
    uploaded, deleted = publish(
        session.client("s3"), outputs["PortalBucketName"], portal_files(), config_for(outputs, session.region_name)
    )
    session.client("cloudfront").create_invalidation(
        DistributionId=outputs["PortalDistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/pro/*"]}, "CallerReference": str(time.time_ns())},
    )
    print(f"{uploaded} files uploaded, {deleted} deleted; the portal: {outputs['PortalUrl']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
