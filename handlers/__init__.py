"""The edges: one package per chat platform, each with one `register(...)`.

`handlers.slack` holds the Bolt listeners, `handlers.teams` the Teams SDK ones. A handler reads
the request, calls one service method and lays out the answer with its platform's renderer.
"""
