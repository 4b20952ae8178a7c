"""Presentation layer: great-tables tables and matplotlib figures built from tidy results.

It formats; it computes no statistics.
"""
