"""Drills: scenarios as code (`drills/*.yaml`), timed injects, scoring against the plan's deadlines."""
