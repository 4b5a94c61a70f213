"""The unit of work: one database transaction and the repository that works inside it.

    with UnitOfWork() as uow:
        uow.repository.claim(...)

The block commits when it ends and rolls back when it raises, so nothing is ever half
written. Services take a unit-of-work factory, so unit tests can hand them an in-memory fake.
"""
from . import db
from .repository import Repository


class UnitOfWork:
    def __enter__(self) -> "UnitOfWork":
        self._transaction = db.transaction()
        self.repository = Repository(self._transaction.__enter__())
        return self

    def __exit__(self, exc_type, exc, traceback):
        return self._transaction.__exit__(exc_type, exc, traceback)
