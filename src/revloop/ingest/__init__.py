"""Importers: one adapter per source, all feeding one loss-free pipeline."""
