"""Default policy and seed data, shipped inside the wheel as ``tracker.config`` package data."""
