"""Tests of the AWS templates: cfn-lint, and the SAM template `chalice package` makes."""
