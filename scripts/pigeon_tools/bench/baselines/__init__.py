"""Handlers the bench measures Pigeon against, run from a copy of the same zip."""
