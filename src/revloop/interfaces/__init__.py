"""Interfaces: CLI, API and web pages; they call the facade only."""
