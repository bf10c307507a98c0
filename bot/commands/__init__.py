"""Sub-commands of the `learnloop` CLI, one module per capability (wired in bot/cli.py)."""
