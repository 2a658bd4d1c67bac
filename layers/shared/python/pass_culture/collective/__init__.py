"""Collective offers for school groups (issue 17): educational institutions and their budgets, collective offers and
their one stock, the teachers' search, collective bookings (pre-booked by a teacher, confirmed by the head)."""
