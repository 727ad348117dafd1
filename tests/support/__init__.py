"""Shared test helpers: plain modules, not test modules or conftests, so tests may import them.

Fixtures stay in the conftests; what they and the tests share lives here.
"""
