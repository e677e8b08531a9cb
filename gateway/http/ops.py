"""Operations routes: ``/healthz`` (liveness, trust-data currency), ``/metrics``
(Prometheus text) and ``/api/v1/openapi.json``."""

from __future__ import annotations

import asyncio
import re
import time

from aiohttp import web

from gateway.http.openapi_spec import full_document
from gateway.http.responses import dumps
from gateway.keys import (
    CONFIG_KEY,
    GOST_KEY,
    MEMBERS_KEY,
    METRICS_KEY,
    OUTBOX_KEY,
    PIPELINE_KEY,
    REPOSITORY_KEY,
    ROLE_KEY,
    STARTED_KEY,
)
from gateway.trust.revocation import trust_data_health

__all__ = ["setup_ops_routes"]

#: An absolute path (POSIX or Windows) up to its last part, which group 1 keeps.
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\s\\/'\"]*)*[\\/]([^\s\\/:'\"]*)")



async def healthz(request: web.Request) -> web.Response:
    """Liveness and the currency of the trust data. Problem texts name files and folders:
    in full only for a caller with a key; anyone else (and everyone on an open API) gets
    them with every path cut to its last part. The full texts are in the start-up log."""
    support = request.app[GOST_KEY]
    pipeline = request.app[PIPELINE_KEY]
    store = pipeline.trust  # current (a TSL refresh may replace it)
    members = request.app[MEMBERS_KEY]
    detailed = bool(request.app[CONFIG_KEY].auth.api_keys) and ROLE_KEY in request

    def shown(problem: str | None) -> str | None:
        return problem if detailed or problem is None else _PATH.sub(lambda m: m.group(1), problem)

    loop = asyncio.get_running_loop()
    health = await loop.run_in_executor(None, trust_data_health, request.app[CONFIG_KEY], store, pipeline.policy.online)
    trust_data = health.to_json()
    for item in trust_data["items"]:
        item["source"], item["note"] = shown(item["source"]), shown(item["note"])
    return web.json_response(
        {
            # CRLs or the TSL past their nextUpdate with no refresh possible: degraded.
            "status": "degraded" if health.level == "degraded" else "ok",
            "trust_data": trust_data,
            "awaiting_revocation": await loop.run_in_executor(None, pipeline.waits.count),
            "gost": {"available": support.available, "problem": shown(support.problem)},
            "trust_store": {
                "roots": len(store.roots),
                "ca": len(store.intermediates),
                "crl": len(store.crls),
                "tsl": store.tsl is not None,
                "problems": [shown(problem) for problem in store.problems],
            },
            "members": {"count": len(members), "problem": shown(members.problem)},
            "queue": request.app[PIPELINE_KEY].queue.qsize(),
            "uptime_seconds": round(time.monotonic() - request.app[STARTED_KEY], 1),
        },
        dumps=dumps,
    )


async def metrics(request: web.Request) -> web.Response:
    loop = asyncio.get_running_loop()
    counts = await loop.run_in_executor(None, request.app[REPOSITORY_KEY].counts_by_decision)
    stats = request.app[PIPELINE_KEY].stats
    lines = [
        "# HELP gateway_submissions Submissions by current status.",
        "# TYPE gateway_submissions gauge",
        *[f'gateway_submissions{{status="{status}"}} {count}' for status, count in sorted(counts.items())],
        "# HELP gateway_decisions_total Decisions taken by this process.",
        "# TYPE gateway_decisions_total counter",
        *[f'gateway_decisions_total{{decision="{d}"}} {n}' for d, n in sorted(stats.by_decision.items())],
        "# HELP gateway_validation_seconds Time spent validating packages.",
        "# TYPE gateway_validation_seconds summary",
        f"gateway_validation_seconds_sum {stats.seconds_sum:.3f}",
        f"gateway_validation_seconds_count {stats.seconds_count}",
        "# HELP gateway_upload_bytes_total Bytes of files received.",
        "# TYPE gateway_upload_bytes_total counter",
        f"gateway_upload_bytes_total {request.app[METRICS_KEY].get('upload_bytes', 0)}",
        "# HELP gateway_outbox_jobs Outbox jobs by kind and status (dead = dead letter).",
        "# TYPE gateway_outbox_jobs gauge",
        *[
            f'gateway_outbox_jobs{{kind="{kind}",status="{status}"}} {count}'
            for (kind, status), count in sorted((await loop.run_in_executor(None, request.app[OUTBOX_KEY].counts)).items())
        ],
        "# HELP gateway_validation_queue Submissions waiting for validation.",
        "# TYPE gateway_validation_queue gauge",
        f"gateway_validation_queue {request.app[PIPELINE_KEY].queue.qsize()}",
    ]
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain", charset="utf-8")




async def openapi(request: web.Request) -> web.Response:
    return web.json_response(full_document(), dumps=dumps)


def setup_ops_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/v1/openapi.json", openapi)
