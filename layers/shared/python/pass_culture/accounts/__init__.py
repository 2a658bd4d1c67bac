"""Accounts: offerers, venues, bank accounts, API keys, beneficiaries and their credit (issue #3).

models.py      what is stored and answered (camelCase)   rules.py     pure checks (SIREN/SIRET, IBAN/BIC, venues)
repository.py  the only code that knows their keys       service.py   the use cases the accounts API calls
identity.py    the identity provider (Cognito) behind a small interface
"""
