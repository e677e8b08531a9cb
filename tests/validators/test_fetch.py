"""The bounded fetcher of revocation data against a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import threading

import pytest

from tests.pki.online import OnlinePki, RevocationServer
from validators.signatures.fetch import Fetcher, FetchError, FetchPolicy, host_allowed


@pytest.fixture
def server(online_pki: OnlinePki):  # type: ignore[no-untyped-def]
    with RevocationServer(online_pki) as running:
        yield running


def test_a_redirect_to_a_denied_host_is_not_followed(online_pki: OnlinePki, server: RevocationServer) -> None:
    server.redirects["moved.crl"] = f"http://localhost:{online_pki.port}/ca.crl"
    fetcher = Fetcher(FetchPolicy(deny_hosts=("localhost",)))
    with pytest.raises(FetchError, match="not allowed"):
        fetcher.get(f"{online_pki.base_url}/files/moved.crl")
    assert "/ca.crl" not in server.hits


def test_an_allowed_redirect_is_followed(online_pki: OnlinePki, server: RevocationServer) -> None:
    server.redirects["moved.crl"] = f"http://localhost:{online_pki.port}/ca.crl"
    assert Fetcher().get(f"{online_pki.base_url}/files/moved.crl") == online_pki.crl("ca").read_bytes()


def test_a_redirect_to_another_scheme_is_refused(online_pki: OnlinePki, server: RevocationServer) -> None:
    server.redirects["moved.crl"] = "file:///etc/passwd"
    with pytest.raises(FetchError, match="only http and https"):
        Fetcher().get(f"{online_pki.base_url}/files/moved.crl")


def test_a_slow_answer_hits_the_read_timeout(online_pki: OnlinePki, server: RevocationServer) -> None:
    server.files["slow.crl"] = b"x"
    server.delay = 1.0
    with pytest.raises(FetchError, match="timed out"):
        Fetcher(FetchPolicy(read_timeout=0.2)).get(f"{online_pki.base_url}/files/slow.crl")


def test_requests_to_one_host_respect_the_per_host_limit(online_pki: OnlinePki, server: RevocationServer) -> None:
    server.files["a.crl"] = b"x"
    server.delay = 0.2
    fetcher = Fetcher(FetchPolicy(per_host=1))
    threads = [threading.Thread(target=fetcher.get, args=(f"{online_pki.base_url}/files/a.crl",)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert server.hits["/files/a.crl"] == 4 and server.max_active == 1


def test_http_errors_are_fetch_errors(online_pki: OnlinePki, server: RevocationServer) -> None:
    with pytest.raises(FetchError, match="HTTP 404"):
        Fetcher().get(f"{online_pki.base_url}/files/absent.crl")


@pytest.mark.parametrize(
    ("host", "allow", "deny", "allowed"),
    [
        ("crl.nalog.ru", (), (), True),
        ("crl.nalog.ru", (".nalog.ru",), (), True),
        ("nalog.ru", (".nalog.ru",), (), True),
        ("evilnalog.ru", (".nalog.ru",), (), False),
        ("crl.nalog.ru", ("*.nalog.ru",), ("crl.nalog.ru",), False),
        ("CRL.Nalog.RU.", ("crl.nalog.ru",), (), True),
    ],
)
def test_host_list_matching(host: str, allow: tuple[str, ...], deny: tuple[str, ...], allowed: bool) -> None:
    assert host_allowed(host, FetchPolicy(allow_hosts=allow, deny_hosts=deny)) is allowed


def test_https_certificates_are_verified_although_tls_is_set_up_lazily(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The TLS context is made on the first https fetch, still verifying the server
    against the system store: a server certificate of an unknown CA is refused."""
    import socket

    from tests.pki.tls import localhost_tls, server_context

    _ca, cert, key = localhost_tls(tmp_path)
    context = server_context(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve_once() -> None:
        connection, _ = listener.accept()
        try:
            with context.wrap_socket(connection, server_side=True) as tls:
                tls.recv(1024)
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        except OSError:
            pass  # the client refused our certificate, as it should
        finally:
            connection.close()

    thread = threading.Thread(target=serve_once, daemon=True)
    thread.start()
    try:
        with pytest.raises(FetchError, match="CERTIFICATE_VERIFY_FAILED"):
            Fetcher(FetchPolicy(connect_timeout=5, read_timeout=5)).get(f"https://127.0.0.1:{port}/ca.crl")
    finally:
        thread.join(10)
        listener.close()
