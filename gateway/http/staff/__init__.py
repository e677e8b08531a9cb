"""The staff workspace under ``/staff/``: people sign in with staff accounts (API keys are
for machines); see :mod:`gateway.http.staff.views` for the pages."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from gateway.http.staff.auth import STAFF_USERS_KEY
from gateway.http.staff.throttle import SIGN_IN_THROTTLE_KEY, SignInThrottle
from gateway.http.staff.views import setup_staff_routes
from gateway.keys import CONFIG_KEY, DATABASE_KEY
from gateway.store.staff_users import StaffUsers

__all__ = ["setup_staff"]


async def _staff_users(app: web.Application) -> AsyncIterator[None]:
    app[STAFF_USERS_KEY] = StaffUsers(app[DATABASE_KEY])
    server = app[CONFIG_KEY].server
    app[SIGN_IN_THROTTLE_KEY] = SignInThrottle(server.login_burst, server.login_per_minute)
    yield


def setup_staff(app: web.Application) -> None:
    """Routes of the workspace; call after the app's resources context is registered."""
    app.cleanup_ctx.append(_staff_users)
    setup_staff_routes(app)
