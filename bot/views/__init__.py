"""View-models: what a message says, independent of the platform that renders it.

Each family of messages has its module here (`checkin`, `entries`, `barriers`, `digest`, …).
"""
