"""The bwai command: run services, the embedded platform, clients, dead letters, demo."""
