"""Stateful workflows: routing, SLA clocks, recycling, scheduled jobs."""
