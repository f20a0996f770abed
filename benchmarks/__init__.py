"""Benchmarks: scripts that print figures and JSON; each is smoke-tested from the test suite."""
