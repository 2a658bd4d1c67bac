"""Platform API: health and the subcategory reference table (public, no authentication), and the scheduled jobs'
reports for the platform team (admin)."""

from functools import cache
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.access import ADMIN, allow
from pass_culture.http import build_resolver
from pass_culture.jobs import ReportedJob
from pass_culture.observability import API, entry
from pass_culture.settings import require_at_init
from pass_culture.subcategories import SUBCATEGORIES

require_at_init()  # else the init fails (the table too)

if TYPE_CHECKING:
    from pass_culture.daily_jobs.repository import DailyJobsRepository

app = build_resolver()


@app.get("/health")
@allow()
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/subcategories")
@allow()
def subcategories() -> dict[str, list[dict[str, object]]]:
    return {"items": [subcategory.to_api() for subcategory in SUBCATEGORIES]}


@cache
def job_runs_repository() -> "DailyJobsRepository":  # built on the admin route's first call: health stays light
    from pass_culture.daily_jobs.service import build_daily_jobs_repository

    return build_daily_jobs_repository()


@app.get("/admin/job-runs")
@allow(ADMIN)
def job_runs(
    job: Annotated[ReportedJob, Query(description="auto-validate-bookings, expire-bookings or payouts")],
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    from pass_culture.daily_jobs.service import job_runs as runs

    return runs(job_runs_repository(), job, limit, cursor)


@entry(API)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
