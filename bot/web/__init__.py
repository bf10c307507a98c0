"""The web process's routes, apart from the composition root that builds what they serve."""
