"""Shared test servers and helpers: the gateway as a subprocess, a recording registry, an
SMTP recorder, package builders and HTTP helpers. Test modules import from here, never
from each other."""
