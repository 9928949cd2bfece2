"""revloop — a closed-loop revenue engine for B2B companies."""

__version__ = "0.1.0"
