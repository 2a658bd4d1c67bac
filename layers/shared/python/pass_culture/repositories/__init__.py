"""Repositories: the only code that knows DynamoDB key shapes (see docs/data-model.md)."""
