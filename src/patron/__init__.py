"""Patron: an open-source customer-loyalty engine."""

__version__ = "0.1.0"
