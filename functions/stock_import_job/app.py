"""Scheduled job 'stock-import' (daily, 01:00 Europe/Paris): lists the venues connected to a stock provider (an
index, never a Scan) and queues one import per venue; the worker imports each one."""

from typing import Any

from pass_culture.jobs import JobEvent, scheduled_job
from pass_culture.settings import require_at_init
from pass_culture.stock_import.queue import build_import_queue
from pass_culture.stock_import.service import build_stock_importer

require_at_init("stock_import_queue_url")  # else the init fails (the table too)


def import_stocks(job: JobEvent) -> dict[str, Any]:
    venues = build_stock_importer().connected_venues()
    return {"venuesQueued": build_import_queue().send(venues, job.time)}


lambda_handler = scheduled_job("stock-import", import_stocks)
