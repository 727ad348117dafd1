"""CLI commands for incidents."""

import click

commands: list[click.Command] = []
