"""The `learnloop` command line: the operators' tool, the demo and its no-op messenger.

`main.py` holds the typer app and the core commands; each other module adds one capability's
commands (digests, privacy, barriers, workspaces) or the demo.
"""

from bot.cli.main import app, main

__all__ = ["app", "main"]
