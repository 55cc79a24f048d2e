"""The web app behind the links in emails (``tracker serve``): confirm pages and the POSTs
that record a decision through the same services as the CLI. See ``app.create_app``."""
