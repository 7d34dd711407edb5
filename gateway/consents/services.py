"""Consent lifecycle shared by every API family (OBIE ``OBInternalConsentStatus1Code``).

``AWAU`` (awaiting authorisation) -> ``AUTH`` (authorised) or ``RJCT`` (rejected) on the consent
page, where the customer may also re-authenticate an ``AUTH`` account-access or
funds-confirmation consent (it stays ``AUTH``); ``AUTH`` -> ``CANC`` when the customer or partner
revokes it, ``EXPD`` when its expiry passes on the tenant's clock, ``COND`` when a single-use
payment consent is consumed. The family APIs (account information, payments, ...) add their own
rules on top.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol, cast

from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from gateway.consents.models import Consent
from gateway.core import changes

AWAITING = "AWAU"
AUTHORISED = "AUTH"
REJECTED = "RJCT"
CANCELLED = "CANC"
EXPIRED = "EXPD"
CONSUMED = "COND"

# Consent id prefixes per kind, so that support can tell them apart at a glance.
PREFIXES = {
    "accounts": "aac-",
    "payments": "pmc-",
    "fundsconfirmations": "cof-",
    "financing": "fin-",
}


class ConsentError(Exception):
    """A consent cannot make the requested transition."""


class HasStatus(Protocol):
    """What :func:`effective_status` reads: a consent row or a snapshot of one."""

    @property
    def status(self) -> str: ...

    @property
    def expires_at(self) -> dt.datetime | None: ...


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A consent as a resource request reads it (it changes nothing). Read-only all through:
    a worker's token cache shares one snapshot among the requests of its threads."""

    id: str
    client_id: str
    tenant_id: str
    kind: str
    status: str
    permissions: tuple[str, ...]
    data: Mapping[str, Any]
    customer_id: str | None
    account_ids: tuple[str, ...]
    expires_at: dt.datetime | None


# The columns of a snapshot, labelled ``consent__*`` so as not to clash with the token's own, for
# the statement that reads a consent with the token that carries it (gateway.oauth.tokens).
SNAPSHOT_COLUMNS = tuple(
    Consent.__table__.c[name].label(f"consent__{name}") for name in Snapshot.__slots__
)


def snapshot_of(values: Sequence[Any]) -> Snapshot | None:
    """The snapshot in the values of :data:`SNAPSHOT_COLUMNS`; ``None`` when no consent was
    joined (its id is null)."""
    if values[0] is None:
        return None
    named = dict(zip(Snapshot.__slots__, values, strict=True))
    named["permissions"] = tuple(named["permissions"] or ())
    named["data"] = MappingProxyType(dict(named["data"] or {}))
    named["account_ids"] = tuple(named["account_ids"] or ())
    return Snapshot(**named)


def create(
    session: Session,
    *,
    client_id: str,
    tenant_id: str,
    kind: str,
    permissions: Sequence[str] = (),
    data: dict[str, Any] | None = None,
    expires_at: dt.datetime | None = None,
    now: dt.datetime,
) -> Consent:
    """Create a consent awaiting the customer's authorisation."""
    if kind not in PREFIXES:
        raise ValueError(f"unknown consent kind {kind!r}")
    consent = Consent(
        id=PREFIXES[kind] + secrets.token_hex(16),
        client_id=client_id,
        tenant_id=tenant_id,
        kind=kind,
        status=AWAITING,
        permissions=list(permissions),
        data=data or {},
        account_ids=[],
        created_at=now,
        status_updated_at=now,
        expires_at=expires_at,
    )
    session.add(consent)
    session.flush()
    return consent


def effective_status(consent: HasStatus, now: dt.datetime) -> str:
    """Return the status, reading an authorised or awaiting consent past its expiry as expired."""
    if (
        consent.status in (AWAITING, AUTHORISED)
        and consent.expires_at is not None
        and consent.expires_at <= now
    ):
        return EXPIRED
    return consent.status


def _transition(consent: Consent, allowed_from: tuple[str, ...], to: str, now: dt.datetime) -> None:
    current = effective_status(consent, now)
    if current not in allowed_from:
        raise ConsentError(f"consent {consent.id} is {current}, cannot become {to}")
    consent.status = to
    consent.status_updated_at = now


# The long-lived consents: OBIE AIS v4.0 profile and Confirmation of Funds API Profile v4.0,
# Consent Re-authentication ("can be re-authenticated if ... a Status of AUTH and the
# ExpirationDateTime, if specified, has not elapsed").
REAUTHENTICABLE = ("accounts", "fundsconfirmations")


def reauthenticable(consent: Consent, now: dt.datetime) -> bool:
    """Whether the customer may authorise this consent again: an account-access or
    funds-confirmation consent that is authorised and not expired (long-lived consents are
    refreshed under the same ConsentId, not duplicated)."""
    return consent.kind in REAUTHENTICABLE and effective_status(consent, now) == AUTHORISED


def authorise(
    session: Session,
    consent: Consent,
    *,
    customer_id: str,
    account_ids: Sequence[str],
    now: dt.datetime,
) -> None:
    """Record the customer's approval and the accounts they picked: of a consent awaiting
    authorisation, or again of an authorised one by the same customer (re-authentication: the
    status stays, the accounts are those picked now)."""
    if reauthenticable(consent, now):
        if consent.customer_id != customer_id:
            raise ConsentError(f"consent {consent.id} was authorised by another customer")
    else:
        _transition(consent, (AWAITING,), AUTHORISED, now)
        consent.customer_id = customer_id
    consent.account_ids = list(account_ids)
    session.flush()


def reject(session: Session, consent: Consent, *, now: dt.datetime) -> None:
    """Record the customer's refusal."""
    _transition(consent, (AWAITING,), REJECTED, now)
    session.flush()


def cancel(session: Session, consent: Consent, *, now: dt.datetime) -> None:
    """Revoke a consent (by the partner or the customer)."""
    _transition(consent, (AWAITING, AUTHORISED), CANCELLED, now)
    session.flush()


def consume(session: Session, consent: Consent, *, now: dt.datetime) -> None:
    """Mark a single-use payment consent as used by its payment order (``COND``): one
    ``UPDATE`` of its row (which the caller holds locked), marked as a change of the consent for
    the workers' token caches (:mod:`gateway.core.changes`), and the same values on the object
    the session holds."""
    current = effective_status(consent, now)
    if current != AUTHORISED:
        raise ConsentError(f"consent {consent.id} is {current}, cannot become {CONSUMED}")
    changes.mark(session.info, "consent", consent.id)
    session.connection().execute(_CONSUMED, {"consent_id": consent.id, "now": now})
    set_committed_value(consent, "status", CONSUMED)
    set_committed_value(consent, "status_updated_at", now)


_CONSENTS = cast(Table, Consent.__table__)
_CONSUMED = (
    update(_CONSENTS)
    .where(_CONSENTS.c.id == bindparam("consent_id"))
    .values(
        status=CONSUMED,
        status_updated_at=bindparam("now", type_=_CONSENTS.c.status_updated_at.type),
    )
)
