"""Helpers for the tests: the broker node, the function in the local runtime and in-process,
a TCP proxy for network faults, and the evidence the reliability suite leaves behind."""
