"""The local stack `make run` uses: a database on this machine, migrations, the local server."""
