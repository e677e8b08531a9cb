"""Fuzz targets, property tests and differential tests of the validators."""
