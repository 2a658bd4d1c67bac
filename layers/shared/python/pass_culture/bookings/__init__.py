"""Bookings: book, cancel, the beneficiary's bookings (issue #5); the counter's transitions (issue #6).

models.py  the booking as stored and answered     rules.py      pure rules (cancellation limit, expiry, due jobs)
repository.py  the only code that knows the keys   service.py    the use cases
"""
