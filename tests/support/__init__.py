"""Helpers for the tests: plain functions, classes and constants, imported like any module.

Fixtures live elsewhere and are never imported: those of the tests' root, with the plugin modules of
tests/fixtures/ it declares, reach every test; a folder's own fixtures are only what that folder alone uses.
"""
