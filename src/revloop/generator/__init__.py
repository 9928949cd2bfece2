"""A synthetic B2B company with known ground truth (see docs/generator.md)."""
