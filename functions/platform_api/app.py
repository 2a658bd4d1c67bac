"""Platform API: health and the subcategory reference table (public, no authentication)."""

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from pass_culture.access import allow
from pass_culture.http import build_resolver
from pass_culture.subcategories import SUBCATEGORIES

logger = Logger()
app = build_resolver()


@app.get("/health")
@allow()
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/subcategories")
@allow()
def subcategories() -> dict[str, list[dict[str, object]]]:
    return {"items": [subcategory.to_api() for subcategory in SUBCATEGORIES]}


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
