"""Email: building messages (Jinja2 templates) and delivering them (SMTP or an outbox folder)."""
