"""Helpers for the tests: plain functions, classes and constants, imported like any module.

Fixtures live elsewhere: tests/conftest.py and the plugin modules of tests/fixtures/ it declares are seen by
every test; a folder's conftest.py holds only what that folder alone uses. No test imports a conftest.
"""
