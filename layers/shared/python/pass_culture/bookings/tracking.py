"""The pro's "suivi des réservations": their offerers' bookings with filters, and the CSV export (spreadsheet-safe:
pass_culture.csv_files)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pass_culture.access import Caller
from pass_culture.accounts.repository import AccountsRepository
from pass_culture.bookings.models import Booking
from pass_culture.bookings.repository import BookingsRepository
from pass_culture.bookings.rules import BookingStatus
from pass_culture.clock import PARIS, isoformat, paris_midnight
from pass_culture.csv_files import Cell, SpreadsheetCsv, euro_cell
from pass_culture.dynamo import Expression
from pass_culture.errors import BadRequest, Forbidden
from pass_culture.models import QueryDate
from pass_culture.subcategories import BY_ID

if TYPE_CHECKING:
    from pass_culture.collective.models import CollectiveBooking
    from pass_culture.collective.repository import CollectiveRepository

# `status=` takes the statuses the bookings show (CONFIRMED, USED, REIMBURSED, CANCELLED), in any case; the words of
# the first version (those of the pro portal's filter) are still understood.
STATUS_ALIASES = {
    "booked": BookingStatus.CONFIRMED,
    "validated": BookingStatus.USED,
    "reimbursed": BookingStatus.REIMBURSED,
    "cancelled": BookingStatus.CANCELLED,
}
STATUS_LABELS = {"CONFIRMED": "réservé", "USED": "validé", "REIMBURSED": "remboursé", "CANCELLED": "annulé"}
CSV_COLUMNS = [
    "Lieu", "Nom de l'offre", "Date de l'évènement", "EAN", "Prénom du bénéficiaire", "Nom du bénéficiaire",
    "Email du bénéficiaire", "Téléphone du bénéficiaire", "Date et heure de réservation", "Date et heure de validation",
    "Contremarque", "Prix de la réservation", "Statut de la contremarque", "Date et heure de remboursement",
    "Type d'offre", "Code postal du bénéficiaire", "Duo",
]  # fmt: skip
COLLECTIVE_CSV_COLUMNS = [
    "Lieu", "Nom de l'offre", "Date de l'évènement", "Établissement", "UAI", "Email de l'enseignant",
    "Nombre d'élèves", "Date et heure de réservation", "Date et heure de confirmation", "Prix de la réservation",
    "Statut", "Date et heure d'annulation",
]  # fmt: skip
COLLECTIVE_STATUS_LABELS = {"PENDING": "préréservé", "CONFIRMED": "confirmé", "USED": "validé",
                            "REIMBURSED": "remboursé", "CANCELLED": "annulé"}  # fmt: skip
EXPORT_PAGE = 500


class BookingFilters(BaseModel):
    """The query of `GET /pro/bookings` and its export (validated by the handler's resolver: a bad date is a 400)."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    offerer_id: str | None = Field(default=None, alias="offererId")
    venue_id: str | None = Field(default=None, alias="venueId")
    offer_id: str | None = Field(default=None, alias="offerId")
    status: BookingStatus | None = Field(
        default=None,
        description="the status the bookings show: CONFIRMED, USED, REIMBURSED or CANCELLED (any case)",
    )
    # The period applies to the status's date (booked, used, reimbursed, cancelled); days are Europe/Paris.
    period_from: QueryDate | None = Field(default=None, alias="from")
    period_to: QueryDate | None = Field(default=None, alias="to")
    event_date: QueryDate | None = Field(default=None, alias="eventDate")
    kind: Literal["individual", "collective"] = Field(
        default="individual", description="individual bookings (young people's) or collective ones (school groups)"
    )

    @field_validator("status", mode="before")
    @classmethod
    def _status_as_shown(cls, value: Any) -> Any:
        """`used`, `Used` and `USED` are USED; anything else is refused (400) with the accepted values."""
        if isinstance(value, str):
            text = value.strip()
            return STATUS_ALIASES.get(text.lower(), text.upper())
        return value

    def status_value(self) -> BookingStatus | None:
        return self.status

    def period(self) -> tuple[str, str] | None:
        if self.period_from is None and self.period_to is None:
            return None
        low = isoformat(paris_midnight(self.period_from)) if self.period_from else "0"
        high = isoformat(paris_midnight(self.period_to + timedelta(days=1))) if self.period_to else "9"
        if low > high:
            raise BadRequest("from must not be after to.", code="BAD_REQUEST", details=[{"field": "from"}])
        return low, high

    def expression(self) -> Expression | None:
        """The filters on individual bookings (the status is their index's key, not a filter)."""
        return self._filters(event_attribute="eventDate", with_status=False)

    def collective_expression(self) -> Expression | None:
        """The same filters on collective bookings (the event is their `startDatetime`; the status a filter)."""
        return self._filters(event_attribute="startDatetime", with_status=True)

    def _filters(self, event_attribute: str, with_status: bool) -> Expression | None:
        parts, names, values = [], {}, {}
        if self.venue_id:
            parts.append("venueId = :venue")
            values[":venue"] = self.venue_id
        if self.offer_id:
            parts.append("offerId = :offer")
            values[":offer"] = self.offer_id
        if with_status and self.status:
            parts.append("#status = :status")
            names["#status"], values[":status"] = "status", self.status.value
        if self.event_date:
            parts.append(f"{event_attribute} BETWEEN :day_start AND :day_end")
            values[":day_start"] = isoformat(paris_midnight(self.event_date))
            values[":day_end"] = isoformat(paris_midnight(self.event_date + timedelta(days=1)))
        return Expression(" AND ".join(parts), names, values) if parts else None


def paris(instant: Any) -> str:
    return instant.astimezone(PARIS).strftime("%d/%m/%Y %H:%M") if instant else ""


def csv_rows(booking: Booking) -> Iterator[list[Cell]]:
    """One line per place: a duo booking is two lines, "DUO 1" and "DUO 2". Text cells are made spreadsheet-safe by
    the writer; the price is a number cell (`12,90`)."""
    subcategory = BY_ID.get(booking.subcategory_id)
    beneficiary = booking.beneficiary
    common: list[Cell] = [
        booking.venue_name, booking.offer_name, paris(booking.event_date), booking.ean or "", beneficiary.first_name,
        beneficiary.last_name, beneficiary.email, beneficiary.phone, paris(booking.booked_at), paris(booking.used_at),
        booking.token, euro_cell(booking.unit_price_cents), STATUS_LABELS[booking.status.value],
        paris(booking.reimbursed_at), subcategory.label if subcategory else booking.subcategory_id,
        beneficiary.postal_code,
    ]  # fmt: skip
    if booking.quantity == 2:
        yield [*common, "DUO 1"]
        yield [*common, "DUO 2"]
    else:
        yield [*common, "Non"]


def collective_csv_row(booking: CollectiveBooking) -> list[Cell]:
    return [
        booking.venue_name, booking.offer_name, paris(booking.start_datetime), booking.institution_name, booking.uai,
        booking.teacher_email, str(booking.number_of_students), paris(booking.booked_at), paris(booking.confirmed_at),
        euro_cell(booking.total_price_cents), COLLECTIVE_STATUS_LABELS[booking.status.value],
        paris(booking.cancelled_at),
    ]  # fmt: skip


class TrackingService:
    def __init__(
        self, bookings: BookingsRepository, accounts: AccountsRepository, collective: CollectiveRepository | None = None
    ) -> None:
        self._bookings = bookings
        self._accounts = accounts
        self._collective = collective

    def _offerer(self, caller: Caller, offerer_id: str | None) -> str:
        """The offerer whose bookings are asked for: one the pro is a member of."""
        caller.require("pro")
        assert caller.user_id is not None
        if offerer_id is not None:
            if not self._accounts.is_member(caller.user_id, offerer_id):
                raise Forbidden("You are not a member of this offerer.", code="NOT_OFFERER_MEMBER")
            return offerer_id
        offerers = self._accounts.offerers_of(caller.user_id)
        if len(offerers) != 1:
            raise BadRequest(
                "Say which offerer (offererId): you are a member of several, or none.", code="OFFERER_REQUIRED"
            )
        return offerers[0]

    def bookings(self, caller: Caller, filters: BookingFilters, limit: int, cursor: str | None) -> dict[str, Any]:
        offerer_id = self._offerer(caller, filters.offerer_id)
        if filters.kind == "collective":
            collective, next_cursor = self._collective_page(offerer_id, filters, limit, cursor)
            return {"items": [booking.to_api() for booking in collective], "nextCursor": next_cursor}
        found, next_cursor = self._bookings.for_offerer(
            offerer_id, status=filters.status_value(), period=filters.period(), filter_=filters.expression(),
            limit=limit, cursor=cursor,
        )  # fmt: skip
        return {"items": [booking.to_api() for booking in found], "nextCursor": next_cursor}

    def export_csv(self, caller: Caller, filters: BookingFilters) -> str:
        """`;`-separated, UTF-8 with a BOM (spreadsheets read the accents), built page by page; no cell a
        beneficiary or a pro typed can become a formula."""
        offerer_id = self._offerer(caller, filters.offerer_id)
        cursor: str | None = None
        if filters.kind == "collective":
            collective_out = SpreadsheetCsv(COLLECTIVE_CSV_COLUMNS)
            while True:
                collective, cursor = self._collective_page(offerer_id, filters, EXPORT_PAGE, cursor)
                collective_out.rows(collective_csv_row(booking) for booking in collective)
                if cursor is None:
                    return collective_out.text()
        out = SpreadsheetCsv(CSV_COLUMNS)
        while True:
            page, cursor = self._bookings.for_offerer(
                offerer_id, status=filters.status_value(), period=filters.period(), filter_=filters.expression(),
                limit=EXPORT_PAGE, cursor=cursor,
            )  # fmt: skip
            for booking in page:
                out.rows(csv_rows(booking))
            if cursor is None:
                return out.text()

    def _collective_page(
        self, offerer_id: str, filters: BookingFilters, limit: int, cursor: str | None
    ) -> tuple[list[CollectiveBooking], str | None]:
        if self._collective is None:
            raise BadRequest("Collective bookings are not listed here.", code="BAD_REQUEST")
        return self._collective.for_offerer(
            offerer_id, period=filters.period(), filter_=filters.collective_expression(), limit=limit, cursor=cursor
        )


def build_tracking_service() -> TrackingService:
    from pass_culture import aws
    from pass_culture.dynamo import Table
    from pass_culture.settings import get_settings

    table = Table(aws.dynamodb(), get_settings().table_name)
    from pass_culture.collective.repository import CollectiveRepository

    return TrackingService(BookingsRepository(table), AccountsRepository(table), CollectiveRepository(table))
