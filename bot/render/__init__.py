"""Platform-free renderings of view-models: terminal text, HTML review packs, chart images."""
