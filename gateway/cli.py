"""Command line: ``gateway serve``, ``gateway verify``, ``gateway trust``.

Exit codes of ``verify`` (SPEC section 7): 0 when every signature is TOTAL_PASSED and
qualified; 1 otherwise (no signature, unreadable signature included); 2 for usage or
I/O errors. Heavy imports (aiohttp) happen only in the commands that need them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from gateway.config import REPO_ROOT, Config, ConfigError, load_config, verification_policy
from gateway.store.status import Decision

__all__ = ["main"]

EXIT_OK, EXIT_NOT_VALID, EXIT_USAGE = 0, 1, 2


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter with the terminal width read by ``os``: argparse builds one
    formatter per ``add_argument`` and the stock one imports ``shutil`` (with bz2, lzma)
    for the width, a cost on every ``gateway verify`` that never prints help."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, width if width is not None else _terminal_width() - 2)


def _terminal_width() -> int:
    """Columns of the terminal, as ``shutil.get_terminal_size`` gives them (COLUMNS, then
    the terminal of standard output, then 80)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns if sys.__stdout__ else 0
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:  # argparse exits 2 on usage errors: keep that
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _parse_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


if TYPE_CHECKING:
    _Commands = argparse._SubParsersAction[_Parser]


def _add_serve(commands: _Commands) -> None:
    serve = commands.add_parser("serve", help="run the HTTP API")
    serve.add_argument("--config", type=Path, default=argparse.SUPPRESS)
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None, help="TCP port (default: [server] port of config.toml)")


def _add_verify(commands: _Commands) -> None:
    verify = commands.add_parser("verify", help="verify the signatures of one document")
    verify.add_argument("document", type=Path)
    verify.add_argument("--signature", type=Path, default=None, help="detached signature (.sig/.p7s/.sgn)")
    verify.add_argument("--trust", type=Path, default=None, help="trust store folder (roots/, ca/, crl/)")
    verify.add_argument("--at", type=_parse_time, default=None, help="judge certificates at this ISO time")
    verify.add_argument("--revocation", choices=("require", "soft", "off"), default=None)
    verify.add_argument("--json", action="store_true", help="print the JSON report")
    verify.add_argument("--offline", action="store_true", help="do not fetch CRLs/OCSP online (cache only)")
    verify.add_argument("--config", type=Path, default=argparse.SUPPRESS)


def _add_check(commands: _Commands) -> None:
    check = commands.add_parser("check", help="validate a package offline (the same pipeline, no server)")
    check.add_argument("files", type=Path, nargs="+", metavar="FILE")
    check.add_argument("--doc-type", required=True)
    check.add_argument("--member", required=True, help="the member's number in the SRO register")
    check.add_argument("--report-kind", default=None)
    check.add_argument("--regulation-kind", default=None)
    check.add_argument("--members", type=Path, default=None, help="member list CSV (default: from config)")
    check.add_argument("--trust", type=Path, default=None)
    check.add_argument("--at", type=_parse_time, default=None)
    check.add_argument("--revocation", choices=("require", "soft", "off"), default=None)
    check.add_argument("--json", action="store_true")
    check.add_argument("--offline", action="store_true", help="do not fetch CRLs/OCSP online (cache only)")
    check.add_argument("--power-of-attorney", type=Path, action="append", default=[], metavar="FILE", help="МЧД (EMCHD_1 XML) of the representative; FILE.sig beside it is taken too")
    check.add_argument("--config", type=Path, default=argparse.SUPPRESS)


def _add_outbox(commands: _Commands) -> None:
    outbox = commands.add_parser("outbox", help="registry deliveries and emails waiting, done or dead")
    outbox.add_argument("action", choices=("list", "show", "retry"))
    outbox.add_argument("job", nargs="?", type=int, help="job id (show, retry)")
    outbox.add_argument("--status", choices=("pending", "leased", "done", "dead"), default=None)
    outbox.add_argument("--limit", type=int, default=50)
    outbox.add_argument("--config", type=Path, default=argparse.SUPPRESS)


def _add_staff(commands: _Commands) -> None:
    staff = commands.add_parser("staff", help="staff accounts of the browser workspace (/staff/)")
    staff.add_argument("action", choices=("add", "passwd", "disable", "list"))
    staff.add_argument("login", nargs="?")
    staff.add_argument("--name", default=None, help="full name shown in the workspace and the «Движения» (add)")
    staff.add_argument("--password-stdin", action="store_true", help="read the password from standard input, not a prompt")
    staff.add_argument("--config", type=Path, default=argparse.SUPPRESS)


def _add_trust(commands: _Commands) -> None:
    trust = commands.add_parser(
        "trust",
        help="show the trust store and the currency of its data; import the accredited-CA list; add a CA",
        description="gateway trust [show] | import-tsl FILE|URL | add FILE [--anchor] [--accredited] | refresh",
    )
    trust.add_argument("action", nargs="?", choices=("show", "import-tsl", "add", "refresh"), default="show")
    trust.add_argument("source", nargs="?", help="import-tsl: file or http(s) URL of the list; add: a certificate file")
    trust.add_argument("--anchor", action="store_true", help="add: as a trust anchor (roots/) instead of a CA (ca/)")
    trust.add_argument("--accredited", action="store_true", help="add: treat this CA as accredited by law (Bank of Russia CA)")
    trust.add_argument("--offline", action="store_true", help="do not fetch anything")
    trust.add_argument("--json", action="store_true", help="show: print the data currency as JSON")
    trust.add_argument("--trust", type=Path, default=None)
    trust.add_argument("--config", type=Path, default=argparse.SUPPRESS)


def _add_verifyd(commands: _Commands) -> None:
    verifyd = commands.add_parser("verifyd", help="serve `gateway verify` warm on a UNIX socket (GATEWAY_VERIFY_SOCKET)")
    verifyd.add_argument("--socket", type=Path, required=True, help="socket path, in a folder only this user may write")
    verifyd.add_argument("--workers", type=int, default=8, help="requests verified at once (default 8)")
    verifyd.add_argument("--trust", type=Path, action="append", default=None, help="trust store folder read once, reused while unchanged (repeatable; default: the configuration's)")
    verifyd.add_argument("--config", type=Path, default=argparse.SUPPRESS)


#: Sub-command -> the function adding its parser, in the order ``gateway --help`` lists them.
_COMMANDS = {"serve": _add_serve, "verify": _add_verify, "check": _add_check, "outbox": _add_outbox, "staff": _add_staff, "trust": _add_trust, "verifyd": _add_verifyd}


def _command_of(argv: Sequence[str]) -> str | None:
    """The sub-command ``argv`` names (the first word that is not an option or the value of
    ``--config``), or None (no known command, or help asked before it)."""
    words = iter(argv)
    for word in words:
        if word in ("-h", "--help"):
            return None
        if word == "--config":
            next(words, None)
        elif not word.startswith("-"):
            return word if word in _COMMANDS else None
    return None


def _build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command-line parser; given ``argv`` naming a sub-command, with that one only.

    Every parser argparse builds costs a few locale-file look-ups (gettext) and terminal
    queries; ``gateway verify`` called once per file by scripts should not pay them for
    the five commands it does not run. Without a recognisable command (a typo, ``--help``)
    all are built, so usage and errors list every command.
    """
    parser = _Parser(prog="gateway", description="SRO intake gateway")
    parser.add_argument("--config", type=Path, default=None, help="config.toml (default: embedded defaults)")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    command = _command_of(argv) if argv is not None else None
    for name, add in _COMMANDS.items():
        if command is None or name == command:
            add(commands)
    return parser


def _load_config(path: Path | None) -> Config:
    if path is None:
        default = REPO_ROOT / "config.toml"
        path = default if default.is_file() else None
    return load_config(path)


def _verification_setup(command: str, args: argparse.Namespace, config: Config) -> tuple[Any, Any] | None:
    """The trust store and verification policy of `verify` and `check` (None: usage error)."""
    from validators.signatures.model import RevocationMode
    from validators.trust import load_trust_store

    trust_dir = args.trust or config.verification.trust_dir
    if not trust_dir.is_dir():
        print(f"gateway {command}: trust store {trust_dir}: no such folder", file=sys.stderr)
        return None
    store = load_trust_store(trust_dir)
    for problem in store.problems:
        print(f"gateway {command}: trust store: {problem}", file=sys.stderr)
    revocation = RevocationMode(args.revocation) if args.revocation else config.verification.revocation
    online = None
    if revocation is not RevocationMode.OFF:
        # The revocation cache (SQLite) and the fetcher only when revocation is checked.
        from gateway.trust.revocation import online_revocation

        online = online_revocation(config, offline=True if args.offline else None)
    policy = verification_policy(config, revocation=revocation, at=args.at, online=online)
    return store, policy


def _cmd_verify(args: argparse.Namespace, config: Config) -> int:
    from validators import gost
    from validators.digests import REPORTED, FileDigests

    # The GOST provider and engine load when first needed (a signature without GOST
    # needs neither); what could not be switched on is said once the verdict is out.
    gost.configure(config.verification.openssl_gost_conf)
    document: Path = args.document
    if not document.is_file():
        print(f"gateway verify: {document}: no such file", file=sys.stderr)
        return EXIT_USAGE
    # The document's digests (Streebog-256 and SHA-256, in one pass) run on the other core
    # while the ASN.1 machinery loads and the signature is parsed: on large files they are
    # the critical path. Started by the console entry point when it could; here otherwise.
    # A signer's other digest (Streebog-512) is computed when asked for, in parallel.
    from gateway.entry import early_digests

    digests = early_digests(document)
    if digests is None:
        digests = FileDigests(document)
        digests.prefetch(REPORTED)

    from validators.signatures.locate import is_pdf, verify_document

    if args.signature is not None and not args.signature.is_file():
        print(f"gateway verify: {args.signature}: no such file", file=sys.stderr)
        return EXIT_USAGE
    setup = _verification_setup("verify", args, config)
    if setup is None:
        return EXIT_USAGE
    store, policy = setup
    try:
        if is_pdf(document):
            _quiet_library_logs()  # pyHanko reads PDFs only; for other documents logging stays unloaded
        report = verify_document(document, store, policy, args.signature, digests)
    except OSError as exc:
        print(f"gateway verify: {exc.filename or document}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    for problem in dict.fromkeys(s.problem for s in gost.tried() if s.problem):
        print(problem, file=sys.stderr)
    if args.json:
        json.dump(report.to_json(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        from gateway.render.text import render_text

        print(render_text(report))
    return EXIT_OK if report.all_qualified_and_passed else EXIT_NOT_VALID


def _cmd_verifyd(args: argparse.Namespace, config: Config) -> int:
    from gateway.verifyd import serve

    if args.workers < 1:
        print("gateway verifyd: --workers must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    trust = [Path(os.path.abspath(folder)) for folder in args.trust or [config.verification.trust_dir]]
    return serve(args.socket, config_path=args.config, workers=args.workers, trust=trust)


def _cmd_trust(args: argparse.Namespace, config: Config) -> int:
    import dataclasses

    from validators import gost

    gost.configure(config.verification.openssl_gost_conf)  # loaded when a CRL or certificate needs it
    if args.trust is not None:
        config = dataclasses.replace(config, verification=dataclasses.replace(config.verification, trust_dir=args.trust))
    trust_dir = config.verification.trust_dir
    if args.action == "import-tsl":
        return _trust_import_tsl(args, config)
    if args.action == "add":
        return _trust_add(args, trust_dir)
    if args.action == "refresh":
        return _trust_refresh(args, config)
    return _trust_show(args, config)


def _trust_show(args: argparse.Namespace, config: Config) -> int:
    from gateway.trust.revocation import online_revocation, trust_data_health
    from validators.signatures.certificates import format_name
    from validators.trust import load_trust_store

    trust_dir = config.verification.trust_dir
    store = load_trust_store(trust_dir)
    online = online_revocation(config, offline=True if args.offline else None)
    health = trust_data_health(config, store, online)
    if args.json:
        json.dump(health.to_json(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return EXIT_NOT_VALID if store.problems else EXIT_OK
    print(f"trust store {trust_dir}")
    for title, certificates in (("roots", store.roots), ("ca", store.intermediates)):
        print(f"{title}: {len(certificates)}")
        for cert in certificates:
            validity = cert["tbs_certificate"]["validity"]
            print(
                f"  {format_name(cert.subject)[:90]}  serial {cert.serial_number:X}  "
                f"{validity['not_before'].native:%Y-%m-%d}..{validity['not_after'].native:%Y-%m-%d}"
            )
    print(f"crl: {len(store.crls)} in the trust store, {sum(1 for i in health.items if i.kind == 'crl') - len(store.crls)} in the revocation cache")
    for item in health.items:
        if item.kind != "crl":
            continue
        until = f"{item.next_update:%Y-%m-%d %H:%M}Z" if item.next_update else "(no next update)"
        age = f"{item.age_hours:.0f} h old" if item.age_hours is not None else ""
        print(f"  [{item.level}] {item.name[:70]}  issued {item.issued:%Y-%m-%d %H:%M}Z, next update {until}, {age}; {item.source}; {item.note}")
    tsl = next((i for i in health.items if i.kind == "tsl"), None)
    if tsl is None:
        print("tsl.xml: absent — accreditation of CAs is not checked")
    else:
        age = f"imported {tsl.age_hours:.0f} h ago" if tsl.age_hours is not None else ""
        print(f"tsl.xml: [{tsl.level}] {tsl.name}, {tsl.note}; {age}")
    print(f"trust data: {health.level}")
    for problem in store.problems:
        print(f"problem: {problem}")
    return EXIT_NOT_VALID if store.problems else EXIT_OK


def _trust_import_tsl(args: argparse.Namespace, config: Config) -> int:
    from gateway.trust.revocation import fetch_policy, online_revocation
    from gateway.trust.tsl_refresh import import_tsl, prefetch_crls
    from validators.signatures.fetch import Fetcher
    from validators.tsl import TslError

    source = args.source or config.trust.tsl_url
    if not source:
        print("gateway trust import-tsl: give a file or URL (or set [trust] tsl_url)", file=sys.stderr)
        return EXIT_USAGE
    offline = args.offline or config.verification.offline
    try:
        parsed = import_tsl(source, config.verification.trust_dir, None if offline else Fetcher(fetch_policy(config)))
    except TslError as exc:
        print(f"gateway trust import-tsl: {exc} (the previous list, if any, is kept)", file=sys.stderr)
        return EXIT_NOT_VALID
    certificates = sum(len(c.certificates_der) for c in parsed.centres)
    print(f"imported {len(parsed.centres)} accredited centres, {certificates} CA certificates (version {parsed.version}, {parsed.date})")
    if config.trust.prefetch_crls and not offline:
        online = online_revocation(config)
        if online is not None:
            problems = prefetch_crls(parsed, online)
            for problem in problems:
                print(f"  CRL not fetched: {problem}")
    return EXIT_OK


def _trust_add(args: argparse.Namespace, trust_dir: Path) -> int:
    from validators.signatures.certificates import format_name, load_certificates
    from validators.trust import ACCREDITED_EXTRA

    if not args.source or not Path(args.source).is_file():
        print("gateway trust add: a certificate file is required", file=sys.stderr)
        return EXIT_USAGE
    certificates = load_certificates(Path(args.source).read_bytes())
    if not certificates:
        print(f"gateway trust add: {args.source}: no certificate could be read", file=sys.stderr)
        return EXIT_NOT_VALID
    for cert in certificates:
        is_ca = bool(cert.basic_constraints_value and cert.basic_constraints_value["ca"].native)
        if not is_ca:
            print(f"gateway trust add: {format_name(cert.subject)[:80]} is not a CA certificate", file=sys.stderr)
            return EXIT_NOT_VALID
        if args.anchor and cert.self_signed != "maybe" and cert.self_signed != "yes":
            print(f"gateway trust add: {format_name(cert.subject)[:80]} is not self-signed; add it as a CA (without --anchor)", file=sys.stderr)
            return EXIT_NOT_VALID
        name = f"{cert.sha1.hex().upper()[:16]}.cer"
        folders = ["roots" if args.anchor else "ca"] + ([ACCREDITED_EXTRA] if args.accredited else [])
        for folder in folders:
            (trust_dir / folder).mkdir(parents=True, exist_ok=True)
            (trust_dir / folder / name).write_bytes(cert.dump())
        print(f"added {format_name(cert.subject)[:90]} to {', '.join(f + '/' for f in folders)}")
    return EXIT_OK


def _trust_refresh(args: argparse.Namespace, config: Config) -> int:
    """Fetch again the CRLs of the accredited-CA list (and its own URL, when configured)."""
    from gateway.trust.revocation import online_revocation
    from gateway.trust.tsl_refresh import prefetch_crls
    from validators.trust import load_trust_store

    if config.trust.tsl_url:
        code = _trust_import_tsl(argparse.Namespace(source=config.trust.tsl_url, offline=args.offline), config)
        if code != EXIT_OK:
            return code
    store = load_trust_store(config.verification.trust_dir)
    online = online_revocation(config, offline=True if args.offline else None)
    if store.tsl is None or online is None:
        print("nothing to refresh: no accredited-CA list or no revocation cache")
        return EXIT_OK
    problems = prefetch_crls(store.tsl, online)
    for problem in problems:
        print(f"CRL not fetched: {problem}")
    return EXIT_NOT_VALID if problems else EXIT_OK


def _slot_for(path: Path, doc_type: str) -> str:
    """The upload slot ``gateway check`` gives a file, as a member would in the cabinet.

    Whether it is a signature is decided by parsing it (the one parser): a detached CMS
    goes to ``signature``; an attached one is a document like the one it carries.
    For letter-like types a name ending in ``.pdf`` is the cover letter whatever it
    contains (a ZIP named ``.pdf`` is then refused as a wrong format, not quietly taken
    for the attachment), ``.zip``/``.rar`` is the attachment, other names go by content.
    Reports, charters and regulations have only the document slot.
    """
    from validators.files import FileKind, detect_type
    from validators.signatures.locate import signed_name

    # МЧД (issue 11 §1): recognised by content; its signature (X.xml.sig) goes with it.
    signed = signed_name(path.name)
    if _is_power_of_attorney(path) or (signed is not None and _is_power_of_attorney(path.with_name(signed))):
        return "power_of_attorney"
    detected = detect_type(path)
    name, kind = path.name, detected.kind
    if kind is FileKind.SIGNATURE:
        if not detected.attached:
            return "signature"
        name = signed_name(path.name) or path.name
        kind = detected.content_kind or FileKind.OTHER
    elif kind is FileKind.OTHER and signed_name(path.name) is not None:
        return "signature"  # named as a signature but not one: reported as a broken signature
    if doc_type in ("report", "charter", "regulation"):
        return "document"
    lower = name.lower()
    if lower.endswith(".pdf"):
        return "document"
    if lower.endswith((".zip", ".rar")) or kind in (FileKind.ZIP, FileKind.RAR):
        return "attachment"
    return "document"


def _is_power_of_attorney(path: Path) -> bool:
    from validators.poa.parse import looks_like_poa

    try:
        with open(path, "rb") as stream:
            return looks_like_poa(stream.read(4096))
    except OSError:
        return False


def _cmd_check(args: argparse.Namespace, config: Config) -> int:
    import tempfile

    from gateway.pipeline.worker import PackageRequest, run_validation
    from validators.catalogue import Slot
    from validators.gost import gost_support
    from validators.members import MemberList
    from validators.package import UploadedFile

    support = gost_support(config.verification.openssl_gost_conf)
    if not support.available:
        print(support.problem, file=sys.stderr)
    for poa in list(args.power_of_attorney):
        args.power_of_attorney.extend(p for p in (poa.with_name(poa.name + s) for s in (".sig", ".p7s", ".sgn")) if p.is_file())
    for path in [*args.files, *args.power_of_attorney]:
        if not path.is_file():
            print(f"gateway check: {path}: no such file", file=sys.stderr)
            return EXIT_USAGE
    members_csv = args.members or config.storage.members_csv
    if not members_csv.is_file():
        print(f"gateway check: member list {members_csv}: no such file", file=sys.stderr)
        return EXIT_USAGE
    members = MemberList(members_csv)
    if members.problem or len(members) == 0:
        print(f"gateway check: member list: {members.problem or 'empty'}", file=sys.stderr)
        return EXIT_USAGE
    setup = _verification_setup("check", args, config)
    if setup is None:
        return EXIT_USAGE
    store, policy = setup
    uploads = [UploadedFile(Slot(_slot_for(p, args.doc_type)), p.name, p) for p in args.files]
    uploads += [UploadedFile(Slot.POWER_OF_ATTORNEY, p.name, p) for p in args.power_of_attorney]
    request = PackageRequest(args.member, args.doc_type, args.report_kind, args.regulation_kind, uploads)
    with tempfile.TemporaryDirectory(prefix="gateway-check-") as scratch:
        decision, typed = run_validation(request, config, members, store, policy, Path(scratch))
    report = typed.to_json()
    if args.json:
        output = {k: report[k] for k in ("decision", "checks", "files", "signatures")}
        json.dump(output, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print(f"Решение (decision): {report['decision_ru']} ({decision.value})")
        for check in report["checks"]:
            print(f"  [{check['severity']}] {check['code']} {check['file'] or ''}: {check['message_ru']}")
            print(f"      {check['remedy_ru']}")
            if check["detail"]:
                print(f"      ({check['detail']})")
        for signature in report["signatures"]:
            signer = signature.get("signer") or {}
            who = " ".join(p for p in (signer.get("surname"), signer.get("given_name")) if p) or signer.get("common_name") or "?"
            print(f"  подпись {signature['file']}: {who}, {signer.get('organization') or ''} — {signature['indication']}{'/' + signature['sub_indication'] if signature['sub_indication'] else ''}")
            poa = signature.get("power_of_attorney")
            if poa and poa.get("stamp_ru"):
                print(f"      {poa['stamp_ru']}{'' if poa['valid'] else ' (доверенность не принята)'}")
    return EXIT_OK if decision is Decision.ACCEPTED else EXIT_NOT_VALID


def _cmd_outbox(args: argparse.Namespace, config: Config) -> int:
    """Staff view of the durable outbox (works on the database while the gateway runs)."""
    from datetime import datetime

    from gateway.delivery.outbox import Outbox
    from gateway.store.db import Database

    database = config.storage.data_dir / "gateway.sqlite3"
    if not database.is_file():
        print(f"gateway outbox: no database at {database}", file=sys.stderr)
        return EXIT_USAGE
    outbox = Outbox(Database(database))
    if args.action == "list":
        for row in outbox.rows(args.status, args.limit):
            due = datetime.fromtimestamp(row["next_attempt_at"], UTC).strftime("%Y-%m-%d %H:%M:%S")
            error = f"  {row['last_error'][:120]}" if row["last_error"] else ""
            print(f"{row['id']:>6} {row['status']:<7} {row['kind']:<8} {row['dedupe_key'][:48]:<48} attempts={row['attempts']} due={due}Z{error}")
        counts = outbox.counts()
        print("totals: " + ", ".join(f"{kind}/{status}={n}" for (kind, status), n in sorted(counts.items())))
        return EXIT_OK
    if args.job is None:
        print(f"gateway outbox {args.action}: a job id is required", file=sys.stderr)
        return EXIT_USAGE
    if args.action == "show":
        job = outbox.row(args.job)
        if job is None:
            print(f"gateway outbox: no job {args.job}", file=sys.stderr)
            return EXIT_NOT_VALID
        json.dump(job, sys.stdout, ensure_ascii=False, indent=2, default=str)
        sys.stdout.write("\n")
        return EXIT_OK
    if outbox.retry_dead(args.job):
        print(f"job {args.job} will be tried again now")
        return EXIT_OK
    print(f"gateway outbox: job {args.job} is not dead or waiting", file=sys.stderr)
    return EXIT_NOT_VALID


def _cmd_staff(args: argparse.Namespace, config: Config) -> int:
    """``gateway staff add|passwd|disable|list``: accounts live in the gateway database."""
    import getpass

    from gateway.store.db import Database
    from gateway.store.staff_users import StaffUsers

    users = StaffUsers(Database(config.storage.data_dir / "gateway.sqlite3"))
    if args.action == "list":
        for user in users.users():
            print(f"{user.login}\t{user.name}\t{'disabled' if user.disabled else 'active'}")
        return EXIT_OK
    if not args.login:
        print(f"gateway staff {args.action}: a login is required", file=sys.stderr)
        return EXIT_USAGE
    if args.action == "disable":
        if users.disable(args.login):
            print(f"{args.login}: disabled, sessions ended")
            return EXIT_OK
        print(f"gateway staff: no account {args.login}", file=sys.stderr)
        return EXIT_NOT_VALID
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Пароль: ")
        if getpass.getpass("Пароль ещё раз: ") != password:
            print("gateway staff: the passwords differ", file=sys.stderr)
            return EXIT_USAGE
    problem = users.check_password(password)
    if problem:
        print(f"gateway staff: {problem}", file=sys.stderr)
        return EXIT_USAGE
    if args.action == "add":
        if not users.add(args.login, args.name or args.login, password):
            print(f"gateway staff: account {args.login} exists (use passwd)", file=sys.stderr)
            return EXIT_NOT_VALID
        print(f"{args.login}: account created; sign in at /staff/")
        return EXIT_OK
    if users.set_password(args.login, password):
        print(f"{args.login}: password changed, account unlocked, sessions ended")
        return EXIT_OK
    print(f"gateway staff: no account {args.login}", file=sys.stderr)
    return EXIT_NOT_VALID


def _bind_problem(host: str, port: int) -> int | None:
    """The errno binding ``host:port`` fails with (None when it can be bound), tried before
    the service starts anything: a second gateway on the same data folder must not claim
    validations or outbox jobs for the moment it would live. Bound as asyncio binds
    (SO_REUSEADDR)."""
    import socket

    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError):
        return None  # the server itself reports a host it cannot resolve
    for family, kind, proto, _name, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                return exc.errno
    return None


def _port_in_use(host: str, port: int) -> bool:
    """Whether ``host:port`` is taken (another process listens there)."""
    import errno

    return _bind_problem(host, port) == errno.EADDRINUSE


def _cmd_serve(args: argparse.Namespace, config: Config) -> int:
    import errno

    host = args.host or config.server.host
    port = args.port if args.port is not None else config.server.port
    problems = {
        errno.EADDRINUSE: f"port {port} on {host} is already in use; set [server] port in config.toml or --port",
        errno.EACCES: f"no permission to listen on port {port} on {host}; use a port above 1023 (and a reverse proxy)",
        errno.EADDRNOTAVAIL: f"{host} is not an address of this machine; set [server] host in config.toml or --host",
    }
    problem = _bind_problem(host, port)
    if problem in problems:
        print(f"gateway serve: {problems[problem]}", file=sys.stderr)
        return EXIT_USAGE
    from gateway.app import run

    try:
        run(config, host=host, port=port)
    except OSError as exc:
        if exc.errno not in problems:
            raise
        print(f"gateway serve: {problems[exc.errno]}", file=sys.stderr)  # changed between the probe and the bind
        return EXIT_USAGE
    return EXIT_OK


def _quiet_library_logs() -> None:
    """pyHanko logs its difference-analysis failures with tracebacks; each one becomes a
    named check of ours with the reason, so in the gateway's output and logs they are only
    noise. The application decides this here; importing the validators changes nothing."""
    import logging

    pyhanko = logging.getLogger("pyhanko")
    pyhanko.addHandler(logging.NullHandler())
    pyhanko.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gateway`` command."""
    argv = sys.argv[1:] if argv is None else argv
    args = _build_parser(argv).parse_args(argv)
    try:
        config = _load_config(args.config)
    except ConfigError as exc:
        print(f"gateway: configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.command not in ("verify", "verifyd"):  # verify quiets pyHanko when it reads a PDF (verifyd: its workers)
        _quiet_library_logs()
    import validators

    validators.init()
    handlers = {"verify": _cmd_verify, "trust": _cmd_trust, "serve": _cmd_serve, "check": _cmd_check, "outbox": _cmd_outbox, "staff": _cmd_staff, "verifyd": _cmd_verifyd}
    try:
        return handlers[args.command](args, config)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


def run() -> None:
    """Console-script entry: run and leave without the interpreter's slow teardown.

    ``gateway verify`` is often called once per file by scripts; tearing down every
    loaded module costs tens of milliseconds and nothing is left to clean up (files are
    closed, output is flushed here).
    """
    leave(main())


def leave(code: int) -> NoReturn:
    """Flush the standard streams and end the process at once with ``code`` (no teardown);
    also the end of a warm verifier's worker, which ran the same command."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
