"""Every SQL statement, loaded once from `sql/*.sql` (readable, and runnable with psql)."""
from pathlib import Path

SQL_DIR = Path(__file__).parent / "sql"

QUERIES = {path.stem: path.read_text() for path in sorted(SQL_DIR.glob("*.sql"))}
