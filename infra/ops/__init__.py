"""Operators' tools, run from a workstation against a deployed stack (or the local stack with AWS_ENDPOINT_URL)."""
