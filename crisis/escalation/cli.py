"""CLI commands for escalation."""

import click

commands: list[click.Command] = []
