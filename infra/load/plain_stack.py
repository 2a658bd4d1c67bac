"""`python -m infra.load.plain_stack …`: the local stack exactly as `python -m infra.local …` runs it, but with moto's
DynamoDB answers written as DynamoDB writes them (`infra.bench.plain_dynamodb_answers`, what the benchmarks do):
moto's generic response serializer, which walks botocore's model for every attribute of every item answered, was
two thirds of the embedded AWS's busy time under load (py-spy). What the answers say does not change."""

from __future__ import annotations

import runpy

from infra.bench import plain_dynamodb_answers

if __name__ == "__main__":
    plain_dynamodb_answers()
    runpy.run_module("infra.local", run_name="__main__", alter_sys=True)
