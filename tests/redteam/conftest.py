"""The gateway's fixtures (configuration, in-process client) for red-team attacks through the HTTP API."""

from tests.gateway.conftest import client, config, delivery_config

__all__ = ["client", "config", "delivery_config"]
