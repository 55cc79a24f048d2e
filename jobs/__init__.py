"""Thin scheduled jobs (installed as ``tracker.jobs``): they claim work and call the domain."""
