"""The pros' side of the payouts ("remboursements"): an offerer's payouts with links to their statement and CSV, and
the priced bookings of one payout, read from the lines its batch froze (`GET /pro/reimbursements…`). The route's gate
has already checked that the caller belongs to the offerer (a payout's id names it)."""

from __future__ import annotations

from typing import Any, Protocol

from pass_culture.errors import NotFound
from pass_culture.payouts.models import parse_payout_id
from pass_culture.payouts.repository import PayoutsRepository

LINK_SECONDS = 3600  # a presigned link works for an hour: the portal asks again for a fresh one


class FileLinks(Protocol):
    def link(self, key: str) -> str: ...


class S3Links:
    """Presigned GET URLs in AWS; locally, the gateway's `/_local/files/{key}` (the bytes of the embedded S3)."""

    def __init__(self, s3: Any, bucket: str, *, local: bool) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._local = local

    def link(self, key: str) -> str:
        if self._local:
            return f"/_local/files/{key}"
        url: str = self._s3.generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=LINK_SECONDS
        )
        return url


class Reimbursements:
    def __init__(self, repository: PayoutsRepository, links: FileLinks) -> None:
        self._repository = repository
        self._links = links

    def payouts(self, offerer_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
        items, next_cursor = self._repository.payouts_of(offerer_id, limit, cursor)
        return {"items": [self._payout(item) for item in items], "nextCursor": next_cursor}

    def bookings(self, payout_id: str, cursor: str | None) -> dict[str, Any]:
        """The payout and a page of its bookings (up to 1 000), in the order of the statement."""
        parsed = parse_payout_id(payout_id)
        payout = self._repository.payout(*parsed) if parsed else None
        if parsed is None or payout is None:
            raise NotFound("No such payout.", code="PAYOUT_NOT_FOUND")
        lines, next_cursor = self._repository.lines_page(parsed[1], parsed[0], cursor)
        return {"payout": self._payout(payout), "items": [line.to_api() for line in lines], "nextCursor": next_cursor}

    def _payout(self, item: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": item["id"], "offererId": item["offererId"],
            "period": {"start": item["periodStart"], "end": item["periodEnd"], "label": item["periodLabel"]},
            "status": item["status"], "paidAt": item["paidAt"], "bookingsCount": int(item["bookingsCount"]),
            "amountCents": int(item["amountCents"]), "reimbursedCents": int(item["reimbursedCents"]),
            "bankAccount": {"iban": item["iban"], "label": item["bankLabel"]},
            "statementUrl": self._links.link(str(item["statementKey"])),
            "csvUrl": self._links.link(str(item["csvKey"])),
        }  # fmt: skip


def build_reimbursements() -> Reimbursements:
    from pass_culture import aws
    from pass_culture.dynamo import Table
    from pass_culture.settings import get_settings

    settings = get_settings()
    links = S3Links(aws.client("s3"), settings.files_bucket, local=settings.aws_endpoint_url is not None)
    return Reimbursements(PayoutsRepository(Table(aws.dynamodb(), settings.table_name)), links)
