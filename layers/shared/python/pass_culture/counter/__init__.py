"""The counter ("guichet"): countermark look-up and validation by pros and venue software, booking tracking and
its CSV export (issue #6). rules.py holds the ordered checks; repository.py the token look-ups, transitions and the
failed-look-up counters; service.py the use cases; export.py the CSV."""
