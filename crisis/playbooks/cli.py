"""CLI commands for playbooks."""

import click

commands: list[click.Command] = []
