"""The closeloop API: ``./closeloop api`` serves ``create_app()`` (tests call ``create_app(settings)``)."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client

from api import errors
from api.deps import AppState, StateDep
from api.headers import SecurityHeaders
from api.intake import relay
from api.limiter import CitizenLimiter
from api.routes import actions, audit, cases, citizen, codec, docs, intake, open311, stats, tasks, unreported
from api.web import pages
from api.web import stats as stats_page
from api.web import unreported as unreported_page
from config import Settings, get_settings
from domain.district import District
from security.codec import data_converter
from store.db import Database, PoolTuning

TAGS = [
    {"name": "intake", "description": "受理渠道：12345 热线、网格员、小程序、110 非警务、窗口"},
    {"name": "open311", "description": "Open311 GeoReport v2 兼容接口"},
    {"name": "tasks", "description": "承办单位任务收件箱"},
    {"name": "supervision", "description": "综治中心：案件列表与详情"},
    {"name": "actions", "description": "人工操作：立案、派遣、签收、退单、进展、延期、办结、督办、核查、评价、结案"},
    {"name": "citizen", "description": "群众：查询进度、评价、回访答复"},
    {"name": "stats", "description": "考核统计"},
    {"name": "codec", "description": "Temporal Web UI 载荷解密（编解码服务）"},
]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        db = Database(settings.database_url, PoolTuning.of(settings))
        await db.run(db.create_schema)
        # Lazy: the API starts (and stores reports) even while Temporal is down.
        client = await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            data_converter=data_converter(settings),
            lazy=True,
        )
        district = District.load(settings.district_file, settings.policy_file)
        app.state.closeloop = AppState(settings, db, district, client, settings.keys())
        stop = asyncio.Event()
        relay_task = asyncio.create_task(relay(client, settings, db, district, stop))
        try:
            yield
        finally:
            stop.set()
            await relay_task
            db.dispose()

    app = FastAPI(
        title="closeloop 诉求六步闭环",
        version="0.1.0",
        openapi_tags=TAGS,
        lifespan=lifespan,
        docs_url=None,  # served by api/routes/docs.py, behind sign-in outside dev
        redoc_url=None,
        openapi_url=None,
        responses={
            status: {"model": errors.ErrorResponse, "description": meaning}
            for status, meaning in errors.DOCUMENTED.items()
        },
    )
    errors.install(app)
    app.add_middleware(codec.CodecHttp, origins=settings.codec_cors_origins)
    app.add_middleware(SecurityHeaders, trusted_proxies=settings.trusted_proxies)  # outermost: every response
    app.state.citizen_limiter = CitizenLimiter(settings)  # failed last-four lookups, this app's own memory
    for module in (
        docs,
        audit,
        intake,
        open311,
        tasks,
        cases,
        actions,
        citizen,
        stats,
        unreported,
        codec,
        stats_page,
        pages,
        unreported_page,
    ):
        app.include_router(module.router)

    @app.get("/health", summary="健康检查（数据库与流程服务）", tags=["stats"])
    async def health(s: StateDep) -> JSONResponse:
        """200 when the database and Temporal both answer within a second or two; 503 naming what does not.

        Checked on their own threads and with timeouts, so a busy pool never delays the answer."""
        database, temporal = await asyncio.gather(_database_check(s), _temporal_check(s))
        checks = {"database": database, "temporal": temporal}
        ok = all(v == "ok" for v in checks.values())
        return JSONResponse(status_code=200 if ok else 503, content={"status": "ok" if ok else "degraded", **checks})

    return app


async def _database_check(s: AppState) -> str:
    try:  # the default executor, not the database pool's threads: those may all be busy with a burst
        await asyncio.wait_for(asyncio.to_thread(s.db.ping), timeout=1.5)
        return "ok"
    except Exception as err:  # report, never raise: this is what monitoring reads
        return f"unavailable: {type(err).__name__}"


async def _temporal_check(s: AppState) -> str:
    try:
        await s.client.workflow_service.get_system_info(GetSystemInfoRequest(), timeout=timedelta(seconds=1.5))
        return "ok"
    except Exception as err:
        return f"unavailable: {type(err).__name__}"
