"""Tests of the tooling around the product: admin CLI, deployment, the stress tool, the storm."""
