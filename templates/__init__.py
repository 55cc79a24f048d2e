"""Email templates, shipped inside the wheel as ``tracker.templates`` package data."""
