"""Biweekly payouts: pricing of used bookings per pricing point, payments, files and statements (issue #12)."""
