"""Pigeon's tooling: build, local Lambda runtime, events, queues, broker, bench, Terraform.

The entry points in scripts/ are thin command lines over this package. Nothing here ships: the
function is function/pigeon, and the tools import from it only its declared settings.
"""
