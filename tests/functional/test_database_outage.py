"""A database outage is a 503 with ``Retry-After``, in each family's format, and the first request
after it is served: no 500, and never half of a request's writes.

* Unreachable: both engines' new connections go to an address where nothing listens (a port
  nobody serves on PostgreSQL, a folder that does not exist on SQLite), so the driver fails as
  it does when the server is down. Both stores.
* Dropped: the server ends the app's connections (``pg_terminate_backend``, from a connection of
  the test's own), between requests or in the middle of one. PostgreSQL.
* Restarted: ``pg_ctl restart -m fast`` of a private server while requests run. The shared
  server is never restarted: other test runs use it.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from gateway import migrate
from gateway.consents.models import Consent
from gateway.store.database import Database, make_engine
from partners.example_client import GatewayError
from tests.common.fapi import authenticated, protected_app
from tests.common.oauth import CSRF, Partner, flask_transport, register_partner
from tests.common.private_postgres import private_postgres

CONSENTS = "/open-banking/v4.0/aisp/account-access-consents"
READ_CONSENT = ["ReadAccountsBasic"]


# -- what an outage looks like to each family ------------------------------------------------------


def unavailable(response: TestResponse) -> None:
    """503 with Retry-After, whatever the family."""
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "5"


def obie_unavailable(response: TestResponse) -> None:
    unavailable(response)
    body = json.loads(response.get_data())
    assert body["Code"] == "503 ServiceUnavailable" and body["Errors"][0]["ErrorCode"] == "U000"


def oauth_unavailable(response: TestResponse) -> None:
    unavailable(response)
    assert json.loads(response.get_data())["error"] == "temporarily_unavailable"
    assert response.headers["Cache-Control"] == "no-store"


def page_unavailable(response: TestResponse) -> None:
    unavailable(response)
    assert response.mimetype == "text/html" and "unavailable" in response.get_data(as_text=True)


@contextmanager
def database_down(app: Flask, tmp_path: Path) -> Iterator[None]:
    """Every new connection of ``app``'s engines fails as it does with the server down (the
    pooled ones are closed first); the outage ends with the block."""
    database: Database = app.extensions["database"]

    def nowhere(dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
        if dialect.name == "sqlite":
            cargs[:] = [str(tmp_path / "no-such-folder" / "gateway.sqlite3")]
        else:
            cparams.update(host="127.0.0.1", port=1)

    engines = (database.engine, database.read_engine)
    for engine in engines:
        event.listen(engine, "do_connect", nowhere)
        engine.dispose()
    try:
        yield
    finally:
        for engine in engines:
            event.remove(engine, "do_connect", nowhere)


def consents_of(app: Flask, client_id: str) -> int:
    database: Database = app.extensions["database"]
    with database.sessions() as session:
        query = select(func.count()).select_from(Consent).where(Consent.client_id == client_id)
        return int(session.scalar(query) or 0)


def plain(app: Flask) -> FlaskClient:
    """A client that does not hold answers to the OBIE reference files, which list no 503 (the
    gateway answers it for an outage of either store)."""
    return FlaskClient(app, app.response_class)


def api_headers(partner: Partner, method: str, path: str, token: str) -> dict[str, str]:
    return partner.client.resource_headers(method, f"http://localhost{path}", token)


# -- unreachable: both stores ----------------------------------------------------------------------


def test_an_unreachable_database_is_a_503_in_each_familys_format(
    oauth_app: Flask, partner: Partner, tmp_path: Path
) -> None:
    http = plain(oauth_app)
    token = partner.client.client_credentials("accounts")["access_token"]
    consent = partner.client.create_account_access_consent(READ_CONSENT)["Data"]["ConsentId"]
    path = f"{CONSENTS}/{consent}"
    browser = oauth_app.test_client()
    login_csrf = CSRF.search(browser.get("/portal/login").get_data(as_text=True))
    assert login_csrf is not None
    login = {"csrf_token": login_csrf.group(1), "email": "nobody@tpp.example", "password": "x"}
    requests: list[tuple[Callable[[], TestResponse], Callable[[TestResponse], None], int]] = [
        (lambda: http.get(path, headers=api_headers(partner, "GET", path, token)),
         obie_unavailable, 200),
        (lambda: http.post("/token", data=authenticated(
            partner, grant_type="client_credentials", scope="accounts")),
         oauth_unavailable, 200),
        (lambda: browser.get("/authorize", query_string={"client_id": partner.client_id,
                                                        "request_uri": "urn:unknown"}),
         page_unavailable, 400),
        (lambda: browser.post("/portal/login", data=login), page_unavailable, 401),
    ]  # fmt: skip
    with database_down(oauth_app, tmp_path):
        for send, answers, _status in requests:
            answers(send())
    # Recovered at once: each answers as it would have (an unknown request_uri, a wrong
    # password), never a 500.
    for send, _answers, status in requests:
        assert send().status_code == status


def test_a_failure_after_a_write_rolls_it_back(oauth_app: Flask, partner: Partner) -> None:
    """The connection is lost right after the consent's INSERT: 503, and no consent."""
    http = plain(oauth_app)
    token = partner.client.client_credentials("accounts")["access_token"]
    database: Database = oauth_app.extensions["database"]
    before = consents_of(oauth_app, partner.client_id)

    def lost(session: Session, _context: Any) -> None:
        # After the flush: the INSERT has reached the database, in the request's transaction.
        if any(isinstance(row, Consent) for row in session.new):
            lost_connection = Exception("server closed the connection unexpectedly")
            raise OperationalError("INSERT", {}, lost_connection, connection_invalidated=True)

    body = {"Data": {"Permissions": READ_CONSENT}, "Risk": {}}
    event.listen(database.sessions, "after_flush", lost)
    try:
        failed = http.post(
            CONSENTS, json=body, headers=api_headers(partner, "POST", CONSENTS, token)
        )
    finally:
        event.remove(database.sessions, "after_flush", lost)
    obie_unavailable(failed)
    assert consents_of(oauth_app, partner.client_id) == before
    again = http.post(CONSENTS, json=body, headers=api_headers(partner, "POST", CONSENTS, token))
    assert again.status_code == 201
    assert consents_of(oauth_app, partner.client_id) == before + 1


# -- dropped: PostgreSQL ---------------------------------------------------------------------------


@dataclass
class OnPostgres:
    """The gateway on PostgreSQL, its connections named so that the test ends only its own."""

    app: Flask
    http: FlaskClient
    partner: Partner
    admin: Engine
    name: str

    def terminate(self, pid: int | None = None) -> int:
        """End the app's server sessions (or the one of ``pid``), waiting until they are gone."""
        query = (
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
            " WHERE application_name = :name AND (CAST(:pid AS integer) IS NULL OR pid = :pid)"
        )
        with self.admin.connect() as conn:
            return len(conn.execute(text(query), {"name": self.name, "pid": pid}).all())


@pytest.fixture(scope="module")
def on_postgres(postgres_url: str) -> Iterator[OnPostgres]:
    name = f"gateway-outage-{uuid.uuid4().hex[:8]}"
    url = make_url(postgres_url).update_query_dict({"application_name": name})
    app = protected_app(url.render_as_string(hide_password=False))
    http = app.test_client()
    admin = create_engine(postgres_url)
    yield OnPostgres(app, http, register_partner(app, http, roles=("AISP",)), admin, name)
    admin.dispose()
    app.extensions["database"].dispose()


def _a_consent_to_read(pg: OnPostgres) -> tuple[str, str, Database]:
    """A client-credentials token, the path of a consent it reads, and the app's database."""
    token = pg.partner.client.client_credentials("accounts")["access_token"]
    consent = pg.partner.client.create_account_access_consent(READ_CONSENT)["Data"]["ConsentId"]
    return token, f"{CONSENTS}/{consent}", pg.app.extensions["database"]


def test_connections_the_server_ended_are_replaced_without_an_error(
    on_postgres: OnPostgres,
) -> None:
    """A restart or an idle timeout ends pooled connections: the next requests are served."""
    pg = on_postgres
    token, path, database = _a_consent_to_read(pg)
    for _ in range(2):
        # Pooled connections of both engines, then none of them alive.
        assert (
            pg.http.get(path, headers=api_headers(pg.partner, "GET", path, token)).status_code
            == 200
        )
        assert database.read_engine.pool.checkedin() and database.engine.pool.checkedin()
        assert pg.terminate() >= 2
        served = pg.http.get(path, headers=api_headers(pg.partner, "GET", path, token))
        assert served.status_code == 200, served.get_data(as_text=True)
        assert pg.partner.client.client_credentials("accounts")["access_token"]


def test_a_read_after_the_server_ended_several_pooled_connections_is_served(
    on_postgres: OnPostgres,
) -> None:
    """A server that gunicorn's threads used at once leaves several connections in the read pool
    (which does not pre-ping); a restart ends them all. The first read after it meets one, and
    its retry must not meet the next: like SQLAlchemy on a disconnect, every connection older
    than the one found dropped is replaced."""
    pg = on_postgres
    token, path, database = _a_consent_to_read(pg)
    for _ in range(2):
        held = [database.read_engine.connect() for _ in range(4)]
        for connection in held:
            connection.exec_driver_sql("SELECT 1")
        for connection in held:
            connection.close()
        assert database.read_engine.pool.checkedin() >= 4
        assert pg.terminate() >= 4
        for _ in range(3):
            served = pg.http.get(path, headers=api_headers(pg.partner, "GET", path, token))
            assert served.status_code == 200, served.get_data(as_text=True)


def test_a_connection_lost_before_the_commit_is_a_503_and_writes_nothing(
    on_postgres: OnPostgres,
) -> None:
    pg = on_postgres
    token = pg.partner.client.client_credentials("accounts")["access_token"]
    database: Database = pg.app.extensions["database"]
    before = consents_of(pg.app, pg.partner.client_id)

    def end_it(session: Session) -> None:
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi is not None
        assert pg.terminate(dbapi.info.backend_pid) == 1

    body = {"Data": {"Permissions": READ_CONSENT}, "Risk": {}}
    event.listen(database.sessions, "before_commit", end_it)
    try:
        headers = api_headers(pg.partner, "POST", CONSENTS, token)
        obie_unavailable(pg.http.post(CONSENTS, json=body, headers=headers))
        form = authenticated(pg.partner, grant_type="client_credentials", scope="accounts")
        oauth_unavailable(pg.http.post("/token", data=form))
    finally:
        event.remove(database.sessions, "before_commit", end_it)
    assert consents_of(pg.app, pg.partner.client_id) == before
    created = pg.http.post(
        CONSENTS, json=body, headers=api_headers(pg.partner, "POST", CONSENTS, token)
    )
    assert created.status_code == 201
    assert consents_of(pg.app, pg.partner.client_id) == before + 1


# -- restarted: a private PostgreSQL ---------------------------------------------------------------


def test_a_restart_under_load_is_503s_then_service() -> None:
    """Reads and writes from four threads while the server restarts (``-m fast``): each answer
    is a success or a 503, and once the server is back the next request is served."""
    with private_postgres() as server:
        engine = make_engine(server.url)
        migrate.upgrade(engine)
        engine.dispose()
        app = protected_app(server.url)
        partner = register_partner(app, app.test_client(), roles=("AISP",))
        consent = partner.client.create_account_access_consent(READ_CONSENT)["Data"]["ConsentId"]
        path = f"{CONSENTS}/{consent}"
        statuses: list[int] = []
        done = threading.Event()

        def load() -> None:
            client = copy.copy(partner.client)
            client.transport = flask_transport(app.test_client())
            while not done.is_set():
                try:
                    token = client.client_credentials("accounts")["access_token"]  # a write
                    statuses.append(200)
                    client.get(path, token)  # reads
                    statuses.append(200)
                except GatewayError as exc:
                    statuses.append(exc.status)

        threads = [threading.Thread(target=load) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        server.restart()
        time.sleep(1)
        done.set()
        for thread in threads:
            thread.join(timeout=60)
        counts = {status: statuses.count(status) for status in set(statuses)}
        assert set(statuses) <= {200, 503}, counts
        assert partner.client.client_credentials("accounts")["access_token"]
        app.extensions["database"].dispose()
