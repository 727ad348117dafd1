"""Shared pieces of the server-rendered UI: access rules, formatting, error pages."""
