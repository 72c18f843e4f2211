"""Terraform read without providers: python-hcl2 for the module docs and the wiring tests."""
