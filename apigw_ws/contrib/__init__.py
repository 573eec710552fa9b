"""Adapters to frameworks; the core never imports them."""
