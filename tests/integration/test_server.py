"""The managed Neo4j: started from the pinned jars, on loopback, with a stored password."""

from __future__ import annotations

import os
import socket
import stat
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from critmin.server import ManagedNeo4j, ServerError
from critmin.store.graph import GraphStore
from critmin.store.settings import ConnectionSettings

pytestmark = pytest.mark.integration


@pytest.fixture()
def server(managed_server: ManagedNeo4j | None) -> ManagedNeo4j:
    if managed_server is None:
        pytest.skip("tests use an external server (CRITMIN_TEST_NEO4J_URI)")
    return managed_server


def test_credentials_are_owner_only_and_password_is_generated(server: ManagedNeo4j) -> None:
    creds = server.credentials()
    assert creds is not None and len(creds.password) >= 24 and creds.password.isalnum()
    mode = stat.S_IMODE((server.home / "credentials.json").stat().st_mode)
    assert mode == 0o600


def test_start_is_idempotent_and_reports_the_running_server(server: ManagedNeo4j) -> None:
    before = server.status()
    again = server.start()
    assert again.running and again.pid == before.pid


def test_listens_on_loopback_only(server: ManagedNeo4j) -> None:
    creds = server.credentials()
    assert creds is not None
    conf = (server.home / "conf" / "neo4j.conf").read_text()
    assert "server.default_listen_address=127.0.0.1" in conf
    ports = (creds.bolt_port, creds.http_port)
    deadline = time.monotonic() + 60  # HTTP may start listening a moment after Bolt answers
    listening = _listening_addresses()
    while not all(port in listening for port in ports) and time.monotonic() < deadline:
        time.sleep(0.5)
        listening = _listening_addresses()
    for port in ports:
        assert listening.get(port) == {"127.0.0.1"}, listening.get(port)


def _listening_addresses() -> dict[int, set[str]]:
    """Local addresses of listening IPv4/IPv6 TCP sockets, from /proc/net (Linux)."""
    found: dict[int, set[str]] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as handle:
            next(handle)
            for line in handle:
                local, state = line.split()[1], line.split()[3]
                if state != "0A":  # LISTEN
                    continue
                address, port = local.split(":")
                if address.startswith("0000000000000000FFFF0000"):  # IPv4-mapped IPv6
                    address = address[-8:]
                if len(address) == 8:
                    text = socket.inet_ntop(socket.AF_INET, bytes.fromhex(address)[::-1])
                else:
                    text = "any6" if set(address) == {"0"} else address
                found.setdefault(int(port, 16), set()).add(text)
    return found


def test_wrong_password_is_refused(neo4j_settings: ConnectionSettings) -> None:
    from critmin.store.graph import DatabaseUnavailable

    wrong = ConnectionSettings(neo4j_settings.uri, neo4j_settings.user, "not-the-password")
    with pytest.raises(DatabaseUnavailable, match="refused the credentials"):
        GraphStore.connect(wrong)


def test_taken_port_is_a_clear_error(server: ManagedNeo4j, tmp_path) -> None:  # type: ignore[no-untyped-def]
    creds = server.credentials()
    assert creds is not None
    other = ManagedNeo4j(home=tmp_path / "other")
    with pytest.raises(ServerError, match=f"Bolt port {creds.bolt_port} .* is taken"):
        other.start(bolt_port=creds.bolt_port)


def test_data_survives_a_restart(server: ManagedNeo4j, store: GraphStore) -> None:
    store.execute("CREATE (:Country {iso3: 'ZZZ', name: 'Restart probe'})")
    server.stop()
    assert not server.status().running
    status = server.start()
    assert status.running
    creds = status.credentials
    assert creds is not None
    settings = ConnectionSettings(creds.uri, creds.user, creds.password)
    with GraphStore.connect(settings) as fresh:
        rows = fresh.records("MATCH (c:Country {iso3: 'ZZZ'}) RETURN c.name AS name")
    assert rows == [{"name": "Restart probe"}]


def test_apoc_is_installed(store: GraphStore) -> None:
    rows = store.records("RETURN apoc.version() AS version")
    assert rows[0]["version"].startswith("5.26")


def test_cli_env_prints_evaluable_lines(
    server: ManagedNeo4j, monkeypatch: pytest.MonkeyPatch
) -> None:
    from critmin.cli.main import app

    monkeypatch.setenv("CRITMIN_HOME", str(server.home.parent))
    result = CliRunner().invoke(app, ["neo4j", "env"])
    assert result.exit_code == 0, result.output
    creds = server.credentials()
    assert creds is not None
    assert f"export NEO4J_URI={creds.uri}" in result.output
    assert "export NEO4J_PASSWORD=" in result.output
    status = CliRunner().invoke(app, ["neo4j", "status"])
    assert status.exit_code == 0 and creds.browser_url in status.output


def test_browser_is_served(server: ManagedNeo4j) -> None:
    import urllib.request

    creds = server.credentials()
    assert creds is not None
    with urllib.request.urlopen(creds.browser_url, timeout=30) as response:
        page = response.read().decode("utf-8", errors="replace")
    assert response.status == 200
    assert "<title>Neo4j Browser</title>" in page


def test_discovery_document_advertises_the_real_ports(server: ManagedNeo4j) -> None:
    """GET / names the ports the server listens on: Browser fills its connect form from it."""
    import json
    import time
    import urllib.error
    import urllib.request

    creds = server.credentials()
    assert creds is not None
    request = urllib.request.Request(
        f"http://127.0.0.1:{creds.http_port}/", headers={"Accept": "application/json"}
    )
    deadline = time.monotonic() + 30  # HTTP can come up a moment after Bolt answers
    while True:
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                discovery = json.load(response)
            break
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    assert discovery["bolt_direct"] == f"bolt://127.0.0.1:{creds.bolt_port}"
    assert discovery["bolt_routing"] == f"neo4j://127.0.0.1:{creds.bolt_port}"
    assert discovery["transaction"].startswith(f"http://127.0.0.1:{creds.http_port}/")


def test_managed_home_is_owner_only_and_the_password_never_on_a_command_line(
    managed_server: ManagedNeo4j | None,
) -> None:
    if managed_server is None:
        pytest.skip("CRITMIN_TEST_NEO4J_URI names a server the tests did not start")
    exposed = []
    for folder, _subfolders, files in os.walk(managed_server.home):
        for path in [Path(folder), *(Path(folder) / name for name in files)]:
            if not path.is_symlink() and path.stat().st_mode & 0o077:
                exposed.append(f"{path} {oct(path.stat().st_mode)}")
    assert exposed == []
    # The first password went to neo4j-admin through an argument file, deleted after use;
    # the server's command line names no secret.
    assert not list(managed_server.home.rglob("initial-password.args"))
    creds = managed_server.credentials()
    assert creds is not None
    pid = managed_server.pid()
    assert pid is not None
    assert creds.password.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes()


def test_transaction_logs_are_bounded_and_browser_may_fetch_guides_from_loopback(
    server: ManagedNeo4j, store: GraphStore
) -> None:
    """The generated neo4j.conf carries the settings, and the running server took them (a
    misspelt setting stops a Neo4j 5 start: strict validation)."""
    conf = (server.home / "conf" / "neo4j.conf").read_text().splitlines()
    wanted = {
        "db.tx_log.rotation.retention_policy": "512M size",
        "db.tx_log.rotation.size": "64.00MiB",
        "browser.remote_content_hostname_whitelist": "127.0.0.1,localhost",
    }
    assert "db.tx_log.rotation.retention_policy=512M size" in conf
    assert "db.tx_log.rotation.size=64M" in conf
    assert "browser.remote_content_hostname_whitelist=127.0.0.1,localhost" in conf
    rows = store.records(
        "SHOW SETTINGS YIELD name, value WHERE name IN $names RETURN name, value",
        names=list(wanted),
    )
    assert {row["name"]: row["value"] for row in rows} == wanted
