from __future__ import annotations

import pytest
from sqlmodel import SQLModel

from store.db import create_schema, make_engine
from tests.support import database_url


@pytest.fixture(scope="session")
def engine(tmp_path_factory):
    """PostgreSQL when CLOSELOOP_TEST_DATABASE_URL is set (CI), else a SQLite file."""
    eng = make_engine(database_url(tmp_path_factory.mktemp("db")))
    SQLModel.metadata.drop_all(eng)
    create_schema(eng)
    yield eng
    eng.dispose()
