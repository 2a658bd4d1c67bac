"""`make load`: a load test on loopback through the local gateway (locust), then invariants checked from the table."""
