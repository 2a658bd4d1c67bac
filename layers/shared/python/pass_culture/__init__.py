"""The pass Culture domain package, shipped to every function as the shared Lambda layer.

Where things live:
- `settings`      configuration read from environment variables (validated once per process)
- `clock`         "now", injectable; Europe/Paris business dates
- `ids`           opaque ids and countermarks (cryptographic generator)
- `errors`        domain errors carrying the HTTP contract's code and status
- `subcategories` the subcategory table and its flags
- `dynamo`        the DynamoDB repository base: keys, conditional writes, transactions, cursors
- `http`          the thin plumbing every API handler shares (resolver, error mapping, identity)
"""
