"""The daily jobs on bookings: auto-validation (03:00) and expiry with its reminders (00:30), Europe/Paris."""
