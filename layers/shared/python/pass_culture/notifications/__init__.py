"""Emails. The table's stream is the outbox: `decide` says which emails a committed change calls for (pure),
`render` fills the Jinja2 templates (French, text and HTML), `service` sends each once with SES."""
