"""Configuration: frozen dataclasses read from ``config.toml``; unknown keys are refused.

Relative paths are resolved against the folder of the configuration file. Secrets (API
keys) may be given as ``env:NAME`` so they stay out of the file and the repository.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import tomllib
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any

from gateway.store.status import Decision
from validators.checks import CATALOGUE, Severity
from validators.signatures.model import RevocationMode
from validators.signatures.policy import GOST_2001_SUNSET, SIGNING_TIME_SKEW, WEAK_DIGEST_SUNSET, VerificationPolicy

__all__ = [
    "Config",
    "ServerConfig",
    "VerificationConfig",
    "TrustConfig",
    "StorageConfig",
    "LimitsConfig",
    "DecisionConfig",
    "AuthConfig",
    "PoaConfig",
    "WebhooksConfig",
    "ConfigError",
    "SmtpSecurity",
    "load_config",
    "verification_policy",
    "REPO_ROOT",
]

REPO_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """The configuration cannot be used; the message says which key and why."""


@dataclass(frozen=True, slots=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    max_request_bytes: int = 256 * 1024 * 1024
    """Bodies over this size are cut off with HTTP 413."""
    verify_workers: int = 2
    """Threads running signature verification off the event loop."""
    header_timeout: float = 15.0
    """A connection that has not sent a complete request head by then is closed (slowloris)."""
    body_timeout: float = 60.0
    """Longest wait for the next chunk of an upload; then 408."""
    keepalive_timeout: float = 15.0
    db_busy_timeout: float = 10.0
    """How long a write waits for a locked SQLite database; then 503."""
    max_parts: int = 32
    """Parts (fields and files) in one multipart upload; more is cut off with 413."""
    max_json_bytes: int = 1 << 20
    """JSON bodies (registry events, notices) over this size are refused with 413 unread."""
    login_burst: int = 10
    """Staff sign-in attempts one client address may make at once (each costs an argon2 hash)."""
    login_per_minute: float = 10.0
    """How fast a client's sign-in attempts come back; beyond them: 429 with Retry-After."""
    trusted_proxies: tuple[str, ...] = ()
    """Reverse proxies (IP addresses or networks) whose X-Forwarded-For names the client
    for the sign-in limit; empty: the connection's address is the client."""


@dataclass(frozen=True, slots=True)
class VerificationConfig:
    trust_dir: Path = REPO_ROOT / "certs"
    revocation: RevocationMode = RevocationMode.REQUIRE
    openssl_gost_conf: Path = REPO_ROOT / "certs" / "openssl-gost.cnf"
    # --- online revocation (CRLs from CDP, OCSP from AIA) and its cache ---
    offline: bool = False
    """True: never fetch CRLs/OCSP online (air-gapped); the cache is still used."""
    revocation_cache_dir: str = ""
    """Empty: <storage.data_dir>/revocation (shared by the service, verify and check)."""
    fetch_connect_timeout: float = 5.0
    fetch_read_timeout: float = 15.0
    fetch_total_timeout: float = 120.0
    fetch_max_bytes: int = 128 << 20
    fetch_per_host: int = 2
    fetch_allow_hosts: tuple[str, ...] = ()
    fetch_deny_hosts: tuple[str, ...] = ()
    fetch_retry_after_seconds: float = 60.0
    crl_refresh_ahead_hours: float = 1.0
    crl_refresh_interval_minutes: float = 15.0
    """The service looks this often for cached CRLs due for refresh and fetches them ahead."""
    revocation_keep_days: float = 400.0
    """Superseded CRLs stay in the cache this long after their nextUpdate (audits of past moments)."""
    revocation_grace_hours: float = 24.0
    """How long a package whose revocation status cannot be obtained waits (awaiting_revocation)."""
    revocation_recheck_seconds: float = 300.0
    """First re-check of a waiting package; doubles each time, at most one hour."""
    # --- algorithm sunsets and the signing-time skew (VerificationPolicy) ---
    gost2001_sunset: datetime = GOST_2001_SUNSET
    """GOST R 34.10-2001 signatures judged at or after this moment are not acceptable."""
    weak_digest_sunset: datetime = WEAK_DIGEST_SUNSET
    """Signatures (and PDF bindings) with a digest of ``weak_digests`` judged at or after
    this moment are not acceptable."""
    weak_digests: tuple[str, ...] = ("sha1", "md5")
    """Digests retired at ``weak_digest_sunset``: ``sha1``, ``md5`` or dotted OIDs."""
    signing_time_skew_seconds: float = SIGNING_TIME_SKEW.total_seconds()
    """A claimed signingTime (or a genTime) later than receipt by more is a warning (a failure)."""


@dataclass(frozen=True, slots=True)
class TrustConfig:
    """The accredited-CA list (TSL) of the Ministry of digital development."""

    tsl_url: str = ""
    """Empty: no scheduled refresh (``gateway trust import-tsl FILE|URL`` by hand)."""
    tsl_refresh_hours: float = 24.0
    prefetch_crls: bool = True
    """After an import, fetch the CRLs at the list's addresses into the revocation cache."""


@dataclass(frozen=True, slots=True)
class StorageConfig:
    data_dir: Path = REPO_ROOT / "var"
    """SQLite database, stored files and scratch space."""
    members_csv: Path = REPO_ROOT / "var" / "members.csv"
    """The member list (header number,ogrn,inn,name,email,head,status); re-read on change."""


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    max_document_bytes: int = 100 << 20
    max_attachment_bytes: int = 500 << 20
    max_signature_bytes: int = 1 << 20
    archive_max_entries: int = 4000  # 1,000 documents + signatures (+ folders) fit
    archive_max_total_bytes: int = 1 << 30
    archive_max_entry_bytes: int = 512 << 20
    archive_max_ratio: int = 200
    archive_max_depth: int = 2
    validation_workers: int = 2
    validation_max_attempts: int = 2
    """Validations of one package that may start and not finish (the process killed or
    crashed); the next claim records a ``processing.error`` decision instead of trying again."""


class SmtpSecurity(StrEnum):
    """How the SMTP connection is protected."""

    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class DecisionConfig:
    """Which decision each severity leads to (SPEC section 6), and per-code severities."""

    fatal: Decision = Decision.REJECTED
    fixable: Decision = Decision.RETURNED
    warning: Decision = Decision.ACCEPTED
    info: Decision = Decision.ACCEPTED
    severity: Mapping[str, Severity] = field(default_factory=dict)
    """Per check code severity overrides, e.g. {"pdf.active_content" = "fixable"}; codes
    must be in the catalogue (``validators.checks``)."""

    def by_severity(self) -> dict[Severity, Decision]:
        """The decision of each severity."""
        return {Severity.FATAL: self.fatal, Severity.FIXABLE: self.fixable, Severity.WARNING: self.warning, Severity.INFO: self.info}


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    registry_url: str = ""
    """Empty: the embedded local registry (numbers and files packages under data_dir)."""
    registry_timeout: float = 30.0
    registry_ca_bundle: str = ""
    registry_concurrency: int = 4
    email_concurrency: int = 2
    email_rate_per_second: float = 5.0
    max_attempts: int = 12
    base_delay: float = 2.0
    max_delay: float = 3600.0
    lease_seconds: float = 300.0
    poll_interval: float = 0.5
    defer_while_validating: float = 5.0
    """While uploads come in or packages are validated, registry deliveries and emails wait,
    for at most this many seconds after they were due (0: never wait)."""
    digest_hour_utc: int = 17
    """When the daily digest of returned and rejected packages goes to staff (-1: never)."""


@dataclass(frozen=True, slots=True)
class MailConfig:
    sender: str = "СРО «Кооперативные Финансы» <noreply@sro.local>"
    reply_to: str = ""
    sro_contact: str = "info@sro.local"
    staff_address: str = "staff@sro.local"
    portal_url: str = "https://lk.sro.local"
    staff_url: str = "http://127.0.0.1:8080/staff/"
    """The staff workspace as staff reach it (links in the digest)."""
    smtp_host: str = ""
    """Empty: the embedded default writes .eml files to eml_dir."""
    smtp_port: int = 587
    smtp_security: SmtpSecurity = SmtpSecurity.STARTTLS
    smtp_username: str = ""
    smtp_password: str = ""
    """Use "env:NAME" to keep it out of the file."""
    smtp_timeout: float = 30.0
    smtp_ca_bundle: str = ""
    eml_dir: Path = REPO_ROOT / "var" / "mail"


@dataclass(frozen=True, slots=True)
class PoaConfig:
    """Machine-readable powers of attorney (МЧД, issue 11 §1)."""

    revoked_list: Path = REPO_ROOT / "var" / "poa-revoked.txt"
    """Numbers (НомДовер) of revoked МЧД kept by the operator, one per line; missing = none."""
    registry_url: str = ""
    """Online МЧД registry (GET ?number=&inn= -> JSON status); empty: not consulted."""
    registry_timeout: float = 10.0


@dataclass(frozen=True, slots=True)
class WebhooksConfig:
    """Portal status callbacks (``gateway.webhook_targets``)."""

    allow_hosts: tuple[str, ...] = ()
    """Non-public receivers the operator allows besides public addresses: host names
    (``hooks.corp.local``) and IP addresses or networks (``127.0.0.1``, ``10.20.0.0/16``).
    Empty: webhooks reach public addresses only."""


@dataclass(frozen=True, slots=True)
class AuthConfig:
    api_keys: Mapping[str, str] = field(default_factory=dict)
    """role -> key. When empty, the API is open (embedded default on loopback)."""


@dataclass(frozen=True, slots=True)
class Config:
    server: ServerConfig = ServerConfig()
    verification: VerificationConfig = VerificationConfig()
    trust: TrustConfig = TrustConfig()
    auth: AuthConfig = AuthConfig()
    storage: StorageConfig = StorageConfig()
    limits: LimitsConfig = LimitsConfig()
    decision: DecisionConfig = DecisionConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    mail: MailConfig = MailConfig()
    poa: PoaConfig = PoaConfig()
    webhooks: WebhooksConfig = WebhooksConfig()
    source: Path | None = None


def _section(cls: type, data: Any, name: str, base: Path) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"[{name}] must be a table")
    known = {f.name: f for f in dataclasses.fields(cls)}
    defaults = cls()
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(f"[{name}] unknown key(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    values: dict[str, Any] = {}
    for key, raw in data.items():
        default = getattr(defaults, key)
        try:
            values[key] = _convert(raw, default, base, allow_negative=key in _MAY_BE_NEGATIVE)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"[{name}] {key}: {exc}") from None
    return _checked(name, cls(**values))


_MAY_BE_NEGATIVE = {"digest_hour_utc"}


def _convert(raw: Any, default: Any, base: Path, allow_negative: bool = False) -> Any:
    if isinstance(default, Path):
        if not isinstance(raw, str):
            raise TypeError("a path string is expected")
        path = Path(os.path.expanduser(raw))
        return path if path.is_absolute() else (base / path).resolve()
    if isinstance(default, tuple):
        if not isinstance(raw, list) or not all(isinstance(v, str) for v in raw):
            raise TypeError("a list of strings is expected")
        return tuple(raw)
    if isinstance(default, Enum):
        return _enum(type(default), raw)
    if isinstance(default, datetime):
        return _moment(raw)
    if isinstance(default, float):
        if not isinstance(raw, (int, float)) or isinstance(raw, bool):
            raise TypeError(f"a number is expected, got {raw!r}")
        if raw < 0:
            raise ValueError("must not be negative")
        return float(raw)
    if isinstance(default, (bool, int)):
        if type(raw) is not type(default):
            raise TypeError(f"{type(default).__name__} expected, got {raw!r}")
        if isinstance(raw, int) and raw < 0 and not allow_negative:
            raise ValueError("must not be negative")
        return raw
    if isinstance(default, str):
        if not isinstance(raw, str):
            raise TypeError("a string is expected")
        return raw
    if isinstance(raw, dict):
        if not all(isinstance(v, str) for v in raw.values()):
            raise TypeError("a table of strings is expected")
        return dict(raw)
    return raw


def _moment(raw: Any) -> datetime:
    """A TOML offset date-time (``2017-01-01T00:00:00Z``), a date (midnight UTC) or the
    same as an ISO 8601 string; a local time without an offset is ambiguous and refused."""
    value = raw
    if isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw) if "T" in raw or " " in raw.strip() else date.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"{raw!r} is not a date or date-time (e.g. 2017-01-01T00:00:00Z)") from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{raw!s} has no UTC offset; write it as e.g. 2017-01-01T00:00:00Z")
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(0), tzinfo=UTC)
    raise TypeError(f"a date or date-time is expected (e.g. 2017-01-01T00:00:00Z), got {raw!r}")


_DIGEST_NAMES = {"sha1": "1.3.14.3.2.26", "sha-1": "1.3.14.3.2.26", "md5": "1.2.840.113549.2.5"}
_OID = re.compile(r"^[0-2](\.(0|[1-9][0-9]*))+$")


def _verification(verification: VerificationConfig) -> VerificationConfig:
    """Checks the algorithm policy values beyond their types (refused at start)."""
    for digest in verification.weak_digests:
        if digest.lower() not in _DIGEST_NAMES and not _OID.match(digest):
            raise ConfigError(f"[verification] weak_digests: {digest!r} is neither sha1, md5 nor a dotted OID")
    return verification


def verification_policy(config: Config, **overrides: Any) -> VerificationPolicy:
    """The :class:`VerificationPolicy` of ``[verification]``: revocation mode, algorithm
    sunsets, weak digests and the signing-time skew (what the service, ``gateway verify``
    and ``gateway check`` judge with); ``overrides`` set the rest (``at``, ``online``...)."""
    verification = config.verification
    values: dict[str, Any] = {
        "revocation": verification.revocation,
        "gost2001_sunset": verification.gost2001_sunset,
        "weak_digest_sunset": verification.weak_digest_sunset,
        "weak_digests": frozenset(_DIGEST_NAMES.get(d.lower(), d) for d in verification.weak_digests),
        "signing_time_skew": timedelta(seconds=verification.signing_time_skew_seconds),
    }
    values.update(overrides)
    return VerificationPolicy(**values)


def _enum(kind: type[Enum], raw: Any) -> Any:
    try:
        return kind(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is not one of {', '.join(str(m.value) for m in kind)}") from None


def _decision(section: DecisionConfig) -> DecisionConfig:
    overrides: dict[str, Severity] = {}
    for code, raw in section.severity.items():
        if code not in CATALOGUE:
            raise ConfigError(f"[decision.severity] {code}: not a check code of the catalogue")
        try:
            overrides[code] = _enum(Severity, raw)
        except ValueError as exc:
            raise ConfigError(f"[decision.severity] {code}: {exc}") from None
    return dataclasses.replace(section, severity=overrides)


#: Settings that must be at least 1 (0 would stall the service or refuse everything).
_AT_LEAST_ONE = {
    "server": ("port", "max_request_bytes", "verify_workers", "max_parts", "max_json_bytes", "login_burst"),
    "limits": (
        "max_document_bytes", "max_attachment_bytes", "max_signature_bytes", "archive_max_entries", "archive_max_total_bytes",
        "archive_max_entry_bytes", "archive_max_ratio", "validation_workers", "validation_max_attempts",
    ),
    "delivery": ("registry_concurrency", "email_concurrency", "max_attempts"),
    "mail": ("smtp_port",),
}

#: Settings holding an http(s) URL when not empty.
_URLS = {"delivery": ("registry_url",), "trust": ("tsl_url",), "poa": ("registry_url",), "mail": ("portal_url", "staff_url")}


def _checked(name: str, section: Any) -> Any:
    """``section`` after the checks that look at a value's meaning, not only its type."""
    for key in _AT_LEAST_ONE.get(name, ()):
        if getattr(section, key) < 1:
            raise ConfigError(f"[{name}] {key}: must be at least 1, got {getattr(section, key)}")
    for key in _URLS.get(name, ()):
        value = getattr(section, key)
        if value and (urllib.parse.urlsplit(value).scheme not in ("http", "https") or not urllib.parse.urlsplit(value).netloc):
            raise ConfigError(f"[{name}] {key}: an http:// or https:// URL is expected, got {value!r}")
    if name == "server" and section.port > 65535:
        raise ConfigError(f"[server] port: must be at most 65535, got {section.port}")
    if name == "server" and section.login_per_minute <= 0:
        raise ConfigError(f"[server] login_per_minute: must be over 0, got {section.login_per_minute}")
    if name == "server":
        for proxy in section.trusted_proxies:
            try:
                ipaddress.ip_network(proxy.strip())
            except ValueError as exc:
                raise ConfigError(f"[server] trusted_proxies: {proxy!r} is not an IP address or network: {exc}") from None
    if name == "delivery" and not -1 <= section.digest_hour_utc <= 23:
        raise ConfigError(f"[delivery] digest_hour_utc: an hour 0-23 (or -1: never) is expected, got {section.digest_hour_utc}")
    if name == "delivery" and section.base_delay > section.max_delay:
        raise ConfigError(f"[delivery] base_delay ({section.base_delay}) is over max_delay ({section.max_delay})")
    if name == "webhooks":
        from gateway.webhook_targets import parse_allow_hosts

        try:
            parse_allow_hosts(section.allow_hosts)
        except ValueError as exc:
            raise ConfigError(f"[webhooks] allow_hosts: {exc}") from None
    return section


def _auth(data: Any) -> AuthConfig:
    if not isinstance(data, dict):
        raise ConfigError("[auth] must be a table")
    unknown = sorted(set(data) - {"api_keys"})
    if unknown:
        raise ConfigError(f"[auth] unknown key(s): {', '.join(unknown)}")
    keys: dict[str, str] = {}
    for role, value in (data.get("api_keys") or {}).items():
        if role not in {"portal", "staff", "registry"}:
            raise ConfigError(f"[auth.api_keys] unknown role {role!r}; roles: portal, staff, registry")
        if not isinstance(value, str) or not value:
            raise ConfigError(f"[auth.api_keys] {role}: a non-empty string is expected")
        if value.startswith("env:"):
            resolved = os.environ.get(value[4:])
            if not resolved:
                raise ConfigError(f"[auth.api_keys] {role}: environment variable {value[4:]} is not set")
            value = resolved
        keys[role] = value
    return AuthConfig(api_keys=keys)


def _secret(value: str, name: str) -> str:
    if value.startswith("env:"):
        resolved = os.environ.get(value[4:])
        if not resolved:
            raise ConfigError(f"{name}: environment variable {value[4:]} is not set")
        return resolved
    return value


def _mail(mail: MailConfig) -> MailConfig:
    return dataclasses.replace(mail, smtp_password=_secret(mail.smtp_password, "[mail] smtp_password"))


def load_config(path: Path | None) -> Config:
    """Read ``config.toml``; ``None`` gives the embedded defaults."""
    if path is None:
        return Config()
    try:
        with open(path, "rb") as stream:
            data = tomllib.load(stream)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    base = path.resolve().parent
    unknown = sorted(set(data) - {"server", "verification", "auth", "storage", "limits", "decision", "delivery", "mail", "poa", "trust", "webhooks"})
    if unknown:
        raise ConfigError(f"{path}: unknown section(s): {', '.join(unknown)}")
    # Paths not given follow the data folder, so one data_dir setting moves everything.
    storage_data = dict(data.get("storage", {}))
    if "data_dir" in storage_data and "members_csv" not in storage_data:
        storage_data["members_csv"] = str(Path(storage_data["data_dir"]) / "members.csv")
    data["storage"] = storage_data
    mail_data = dict(data.get("mail", {}))
    if "data_dir" in storage_data and "eml_dir" not in mail_data:
        mail_data["eml_dir"] = str(Path(storage_data["data_dir"]) / "mail")
    data["mail"] = mail_data
    poa_data = dict(data.get("poa", {}))
    if "data_dir" in storage_data and "revoked_list" not in poa_data:
        poa_data["revoked_list"] = str(Path(storage_data["data_dir"]) / "poa-revoked.txt")
    return Config(
        server=_section(ServerConfig, data.get("server", {}), "server", base),
        verification=_verification(_section(VerificationConfig, data.get("verification", {}), "verification", base)),
        trust=_section(TrustConfig, data.get("trust", {}), "trust", base),
        auth=_auth(data.get("auth", {})),
        storage=_section(StorageConfig, data.get("storage", {}), "storage", base),
        limits=_section(LimitsConfig, data.get("limits", {}), "limits", base),
        decision=_decision(_section(DecisionConfig, data.get("decision", {}), "decision", base)),
        delivery=_section(DeliveryConfig, data.get("delivery", {}), "delivery", base),
        mail=_mail(_section(MailConfig, data.get("mail", {}), "mail", base)),
        poa=_section(PoaConfig, poa_data, "poa", base),
        webhooks=_section(WebhooksConfig, data.get("webhooks", {}), "webhooks", base),
        source=path,
    )
