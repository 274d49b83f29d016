"""Helpers shared by the test suite: real databases and real servers, started for tests."""
