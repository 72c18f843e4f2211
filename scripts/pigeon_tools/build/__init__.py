"""The Lambda artifact: export the locked dependencies, install them for the Lambda platform,
package them with function/pigeon into a reproducible zip, and verify it.

`artifact.build()` runs the steps; each step is a module of its own.
"""
