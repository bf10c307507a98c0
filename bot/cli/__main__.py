"""`python -m bot.cli`: the same as the `learnloop` script."""

from bot.cli.main import main

main()
