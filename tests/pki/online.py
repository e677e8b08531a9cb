"""A GOST test PKI whose certificates name revocation addresses on 127.0.0.1, and a real
aiohttp server that publishes them (CRLs at the CDP, an ``openssl ocsp`` responder at
the AIA address).

Built with the builder's primitives (its openssl configuration and ``openssl ca``);
nothing here imports the code under test.

Labels: ``online_root`` (trust anchor), ``online_ca`` (CDP ``/root.crl``), and leaves
issued by ``online_ca`` with the head's qualified profile:
``crl_good``, ``crl_revoked`` (CDP ``/ca.crl``, which lists ``crl_revoked``),
``ocsp_good``, ``ocsp_revoked`` (AIA OCSP ``/ocsp``, no CDP; the responder's index
marks ``ocsp_revoked`` revoked).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from tests.pki.builder import (
    _BASE_CONF,
    _GENPKEY_ARGS,
    GOST_OPENSSL_CONF,
    HEAD_DN,
    SUBJECT_SIGN_TOOL,
    _ca_section,
    _conf_quote,
    _fmt_time,
    _fmt_utctime,
    _org_dn,
    _run_openssl,
    _subj,
)

__all__ = ["OnlinePki", "build_online_pki", "RevocationServer", "free_port"]

_LABELS = ("online_root", "online_ca", "crl_good", "crl_revoked", "ocsp_good", "ocsp_revoked")
_REVOKED_CRL = ("crl_revoked",)
_REVOKED_OCSP = ("ocsp_revoked",)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _extensions(base: str) -> str:
    qualified = f"""
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectSignTool = {_conf_quote(SUBJECT_SIGN_TOOL)}
issuerSignTool = @issuer_sign_tool
certificatePolicies = 1.2.643.100.113.1, 1.2.643.100.113.2
"""
    return f"""
[v3_online_ca]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
crlDistributionPoints = URI:{base}/root.crl
{qualified}
[v3_online_crl]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = emailProtection, clientAuth
crlDistributionPoints = URI:{base}/ca.crl
{qualified}
[v3_online_ocsp]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = emailProtection, clientAuth
authorityInfoAccess = OCSP;URI:{base}/ocsp
{qualified}
"""


@dataclass(frozen=True)
class OnlinePki:
    """The generated PKI: files under ``root_dir``; ``port`` is where the server must listen."""

    __test__ = False

    root_dir: Path
    port: int
    serials: dict[str, str] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cert(self, label: str) -> Path:
        return self.root_dir / "certs" / f"{label}.pem"

    def key(self, label: str) -> Path:
        return self.root_dir / "keys" / f"{label}.key"

    def crl(self, name: str) -> Path:
        """``root`` or ``ca``: the DER CRL published at ``/<name>.crl``."""
        return self.root_dir / "crl" / f"{name}.crl"

    def trust_copy(self, dest: Path) -> Path:
        """A trust store with the online root as anchor, the CA, and NO CRLs."""
        for sub in ("roots", "ca", "crl"):
            (dest / sub).mkdir(parents=True, exist_ok=True)
        shutil.copy(self.cert("online_root"), dest / "roots" / "online_root.pem")
        shutil.copy(self.cert("online_ca"), dest / "ca" / "online_ca.pem")
        return dest

    def sign(self, label: str, content: Path, out: Path) -> Path:
        """Detached CAdES-BES (DER) over ``content`` with the key of ``label``."""
        _run_openssl([
            "cms", "-sign", "-binary", "-in", str(content), "-signer", str(self.cert(label)),
            "-inkey", str(self.key(label)), "-md", "md_gost12_256", "-cades", "-nosmimecap",
            "-outform", "DER", "-out", str(out),
        ])
        return out

    def ocsp_response(self, request: bytes) -> bytes:
        """What the AIA responder answers (``openssl ocsp`` with the CA's GOST key)."""
        work = self.root_dir / "work"
        proc = subprocess.run(
            ["openssl", "ocsp", "-index", str(work / "ocsp_index.txt"), "-CA", str(self.cert("online_ca")),
             "-rsigner", str(self.cert("online_ca")), "-rkey", str(self.key("online_ca")), "-rmd", "md_gost12_256",
             "-reqin", "/dev/stdin", "-respout", "/dev/stdout", "-ndays", "1"],
            input=request, capture_output=True, env={"OPENSSL_CONF": str(GOST_OPENSSL_CONF), "PATH": "/usr/bin:/bin"},
            check=True,
        )
        return proc.stdout


def build_online_pki(dest: Path, port: int | None = None) -> OnlinePki:
    """Generate the online PKI into ``dest``; certificates point at 127.0.0.1:``port``."""
    dest = Path(dest).resolve()
    port = port or free_port()
    now = datetime.now(UTC).replace(microsecond=0)
    base = f"http://127.0.0.1:{port}"
    for sub in ("keys", "certs", "crl", "work"):
        (dest / sub).mkdir(parents=True, exist_ok=True)
    serials = {label: f"{0x5A17000000000000 + 0x11 * (i + 1):016X}" for i, label in enumerate(_LABELS)}
    root_dn = (*_org_dn("Онлайн головной УЦ", "1027700000400", "7700000400"), ("CN", "Онлайн головной УЦ"))
    ca_dn = (*_org_dn("Онлайн аккредитованный УЦ", "1027700000500", "7700000500"), ("CN", "Онлайн аккредитованный УЦ"))
    specs = [
        ("online_root", None, root_dn, "v3_root", now - timedelta(days=365), now + timedelta(days=3650)),
        ("online_ca", "online_root", ca_dn, "v3_online_ca", now - timedelta(days=365), now + timedelta(days=1800)),
        *((label, "online_ca", HEAD_DN, "v3_online_crl", now - timedelta(days=30), now + timedelta(days=365)) for label in ("crl_good", "crl_revoked")),
        *((label, "online_ca", HEAD_DN, "v3_online_ocsp", now - timedelta(days=30), now + timedelta(days=365)) for label in ("ocsp_good", "ocsp_revoked")),
    ]
    extensions = _extensions(base)
    for label, issuer, dn, ext, not_before, not_after in specs:
        key = dest / "keys" / f"{label}.key"
        _run_openssl(["genpkey", *_GENPKEY_ARGS["gost256"], "-out", str(key)])
        work = dest / "work" / label
        work.mkdir(parents=True, exist_ok=True)
        (work / "index.txt").write_text("")
        (work / "serial").write_text(serials[label] + "\n")
        conf = work / "openssl.cnf"
        conf.write_text(_BASE_CONF + extensions + _ca_section(work, "md_gost12_256"), encoding="utf-8")
        csr = work / "req.pem"
        _run_openssl(["req", "-config", str(conf), "-new", "-utf8", "-key", str(key), "-subj", _subj(dn), "-out", str(csr)])
        args = ["ca", "-config", str(conf), "-batch", "-notext", "-utf8", "-preserveDN", "-md", "md_gost12_256",
                "-in", str(csr), "-startdate", _fmt_time(not_before), "-enddate", _fmt_time(not_after),
                "-extensions", ext, "-out", str(dest / "certs" / f"{label}.pem")]
        if issuer is None:
            args += ["-selfsign", "-keyfile", str(key)]
        else:
            args += ["-cert", str(dest / "certs" / f"{issuer}.pem"), "-keyfile", str(dest / "keys" / f"{issuer}.key")]
        _run_openssl(args)

    def index(labels: tuple[str, ...], revoked: tuple[str, ...]) -> str:
        lines = []
        for label in labels:
            expiry = _fmt_utctime(now + timedelta(days=365))
            if label in revoked:
                lines.append(f"R\t{expiry}\t{_fmt_utctime(now - timedelta(days=1))},keyCompromise\t{serials[label]}\tunknown\t/CN={label}\n")
            else:
                lines.append(f"V\t{expiry}\t\t{serials[label]}\tunknown\t/CN={label}\n")
        return "".join(lines)

    for name, issuer, revoked in (("root", "online_root", ()), ("ca", "online_ca", _REVOKED_CRL)):
        work = dest / "work" / f"crl_{name}"
        work.mkdir(parents=True, exist_ok=True)
        (work / "index.txt").write_text(index(revoked, revoked))
        (work / "crlnumber").write_text("01\n")
        conf = work / "openssl.cnf"
        conf.write_text(_BASE_CONF + _ca_section(work, "md_gost12_256"), encoding="utf-8")
        _run_openssl(["ca", "-config", str(conf), "-gencrl", "-md", "md_gost12_256",
                      "-cert", str(dest / "certs" / f"{issuer}.pem"), "-keyfile", str(dest / "keys" / f"{issuer}.key"),
                      "-crl_lastupdate", _fmt_time(now - timedelta(hours=1)),
                      "-crl_nextupdate", _fmt_time(now + timedelta(days=7)), "-out", str(work / "crl.pem")])
        _run_openssl(["crl", "-in", str(work / "crl.pem"), "-outform", "DER", "-out", str(dest / "crl" / f"{name}.crl")])
    (dest / "work" / "ocsp_index.txt").write_text(index(("ocsp_good", "ocsp_revoked"), _REVOKED_OCSP))
    return OnlinePki(dest, port, serials)


class RevocationServer:
    """A real aiohttp server on 127.0.0.1:``pki.port`` in its own thread: ``/root.crl``,
    ``/ca.crl`` and ``POST /ocsp``. ``hits`` counts requests per path."""

    def __init__(self, pki: OnlinePki) -> None:
        self.pki = pki
        self.hits: dict[str, int] = {}
        self.files: dict[str, bytes] = {}
        """Further documents served at ``/files/<name>`` (e.g. an accredited-CA list)."""
        self.redirects: dict[str, str] = {}
        """``/files/<name>`` answered with a 302 to this address."""
        self.delay = 0.0
        """Seconds ``/files/*`` waits before answering (slow CA)."""
        self.active = 0
        self.max_active = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    async def _crl(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.hits[f"/{name}.crl"] = self.hits.get(f"/{name}.crl", 0) + 1
        path = self.pki.crl(name)
        if not path.is_file():
            raise web.HTTPNotFound()
        return web.Response(body=path.read_bytes(), content_type="application/pkix-crl")

    async def _file(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.hits[f"/files/{name}"] = self.hits.get(f"/files/{name}", 0) + 1
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.active -= 1
        if name in self.redirects:
            raise web.HTTPFound(self.redirects[name])
        if name not in self.files:
            raise web.HTTPNotFound()
        return web.Response(body=self.files[name], content_type="application/octet-stream")

    async def _ocsp(self, request: web.Request) -> web.Response:
        self.hits["/ocsp"] = self.hits.get("/ocsp", 0) + 1
        body = await request.read()
        answer = await asyncio.get_running_loop().run_in_executor(None, self.pki.ocsp_response, body)
        return web.Response(body=answer, content_type="application/ocsp-response")

    def start(self) -> RevocationServer:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_get("/{name}.crl", self._crl)
            app.router.add_post("/ocsp", self._ocsp)
            app.router.add_get("/files/{name}", self._file)
            self._runner = web.AppRunner(app)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", self.pki.port, reuse_address=True)
            loop.run_until_complete(site.start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("revocation server did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
            self._loop = None

    def __enter__(self) -> RevocationServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

