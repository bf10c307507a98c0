"""The Learning Board: server-rendered pages for the people who are not in Slack or Teams."""
