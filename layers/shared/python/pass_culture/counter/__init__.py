"""The counter ("guichet"): countermark look-up and validation by pros and venue software (issue #6; guessing
limited per offerer, issue #9). rules.py holds the ordered checks; window.py the sliding window of failed look-ups
(pure); repository.py the token look-ups, the failed-look-up windows and the transitions; service.py the use cases.
Booking tracking and its CSV export are in pass_culture.bookings.tracking."""
