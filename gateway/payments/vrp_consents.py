"""Domestic VRP consents (OBIE VRP v4.0, ``/domestic-vrp-consents``): the rules beyond the
reference schema for creating, updating and revoking one.

A VRP consent is a standing permission: its ``ControlParameters``
(:mod:`gateway.consents.vrp_limits`) bound every payment made under it, and it is never consumed
(its statuses are ``AWAU``, ``AUTH``, ``RJCT``, ``CANC`` and ``EXPD``:
OBDomesticVRPConsentResponse ``Data.Status``). It expires once its ``ValidToDateTime`` has passed
on the tenant's clock. The consent keeps the request's ``Data`` and ``Risk`` as sent.

An update (``PUT``, or ``PATCH`` with a JSON Patch) is "only to be used for version migrations"
(vrp-openapi.yaml, domesticVrpConsentsPut and domesticVrpConsentsPatch): it must leave what the
customer authorised as it is (the Initiation, the limits, the validity, the payment types and
authentication methods), and may set only what a v4.0 consent adds or the customer does not
approve: :data:`UPDATABLE`. Any other change is ``U008`` (UK.OBIE.Resource.ConsentMismatch) with
the path of the first field that differs.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from gateway.consents import services as consents
from gateway.consents import vrp_limits
from gateway.consents.models import Consent
from gateway.edge.errors import ApiError
from gateway.payments import domestic

CONSENT_FAMILY = "domestic-vrp-consents"
# What a version migration may set or change: the v4.0 additions (ReadRefundAccount,
# PSUInteractionTypes), the free-form SupplementaryData and the Risk (the partner's assessment,
# not part of what the customer approves).
UPDATABLE = (
    "Data.ReadRefundAccount",
    "Data.ControlParameters.PSUInteractionTypes",
    "Data.ControlParameters.SupplementaryData",
    "Risk",
)


_INSTANT = dt.timedelta(microseconds=1)


def check_request(data: dict[str, Any], now: dt.datetime | None) -> vrp_limits.ControlParameters:
    """Refuse what the schema admits but the bank cannot honour: the control parameters
    (:func:`gateway.consents.vrp_limits.control_parameters`) and the accounts of the
    Initiation (schemes the bank reaches, identifications of their shape)."""
    control = vrp_limits.control_parameters(data["ControlParameters"], now)
    initiation = data["Initiation"]
    for side in ("CreditorAccount", "DebtorAccount"):
        if side in initiation:
            domestic.check_account(initiation[side], f"Data.Initiation.{side}")
    return control


def create_consent(
    session: Session, *, client_id: str, tenant_id: str, body: dict[str, Any], now: dt.datetime
) -> Consent:
    """A VRP consent awaiting the customer, from an ``OBDomesticVRPConsentRequest``; it expires
    at its ``ValidToDateTime``."""
    data = body["Data"]
    control = check_request(data, now)
    kept = dict(data) | {"family": CONSENT_FAMILY, "Risk": body["Risk"]}
    # A payment at ValidToDateTime itself is still allowed (gateway.consents.vrp_limits: both
    # ends included): the consent expires just after it.
    expires = control.valid_to + _INSTANT if control.valid_to is not None else None
    return consents.create(
        session, client_id=client_id, tenant_id=tenant_id, kind="payments", data=kept,
        expires_at=expires, now=now,
    )  # fmt: skip


def request_of(consent: Consent) -> dict[str, Any]:
    """The consent as the partner's request had it (``OBDomesticVRPConsentRequest``)."""
    kept = copy.deepcopy(consent.data or {})
    risk = kept.pop("Risk")
    kept.pop("family", None)
    return {"Data": kept, "Risk": risk}


def _without_updatable(body: dict[str, Any]) -> dict[str, Any]:
    stripped = copy.deepcopy(body)
    for path in UPDATABLE:
        *parents, name = path.split(".")
        node: Any = stripped
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(name, None)
    return stripped


def update_consent(
    session: Session, consent: Consent, body: dict[str, Any], now: dt.datetime
) -> Consent:
    """Apply a version migration (a full ``OBDomesticVRPConsentRequest``) to a consent awaiting
    authorisation or authorised (``U009`` otherwise); ``U008`` for a change of anything but
    :data:`UPDATABLE`."""
    status = consents.effective_status(consent, now)
    if status not in (consents.AWAITING, consents.AUTHORISED):
        raise ApiError.one("U009", f"The consent is {status}: it can no longer be updated")
    check_request(body["Data"], None)
    sent, kept = _without_updatable(body), _without_updatable(request_of(consent))
    first = next(domestic.differences(sent, kept, ""), None)
    if first is not None:
        path = first.lstrip(".")
        raise ApiError.one("U008", f"{path} cannot change: an update only migrates the consent "
                           "to v4.0 (what the customer approved stays)", path=path)  # fmt: skip
    consent.data = dict(body["Data"]) | {"family": CONSENT_FAMILY, "Risk": body["Risk"]}
    session.flush()
    return consent


def revoke(session: Session, consent: Consent, now: dt.datetime) -> None:
    """Revoke the consent (``CANC``) if it is still in force: no payment can be made under it any
    more. Revoking a consent no longer in force changes nothing (the partner "must call the
    DELETE operation" when the customer revokes it with the partner: a repeat does no harm)."""
    if consents.effective_status(consent, now) in (consents.AWAITING, consents.AUTHORISED):
        consents.cancel(session, consent, now=now)


# JSON Patch (RFC 6902) of a consent: domesticVrpConsentsPatch ----------------------------------


def patched(document: dict[str, Any], operations: Any) -> dict[str, Any]:
    """``document`` with the JSON Patch ``operations`` applied (RFC 6902 ``add``, ``remove``,
    ``replace`` and ``test``); ``U002`` for a patch that cannot apply ("If a normative
    requirement is violated by a JSON Patch document, or if an operation is not successful,
    evaluation of the JSON Patch document SHOULD terminate": none of it applies)."""
    if not isinstance(operations, list) or not operations:
        raise ApiError.one("U010", "A JSON Patch is a non-empty array of operations")
    result: Any = copy.deepcopy(document)
    for index, operation in enumerate(operations):
        result = _apply(result, operation, f"[{index}]")
    if not isinstance(result, dict):
        raise ApiError.one("U002", "The patched consent is not an object")
    return result


def _pointer(value: Any, where: str) -> list[str]:
    if not isinstance(value, str) or (value and not value.startswith("/")):
        raise ApiError.one("U002", f"{value!r} is not a JSON Pointer", path=f"{where}.path")
    # RFC 6901: "~1" is "/", then "~0" is "~".
    return [p.replace("~1", "/").replace("~0", "~") for p in value.split("/")[1:]]


def _apply(document: Any, operation: Any, where: str) -> Any:
    op = operation.get("op") if isinstance(operation, dict) else None
    if op not in ("add", "remove", "replace", "test"):
        raise ApiError.one("U002", "op must be add, remove, replace or test", path=f"{where}.op")
    parts = _pointer(operation.get("path"), where)
    if op in ("add", "replace", "test") and "value" not in operation:
        raise ApiError.one("U004", f"A {op} operation needs a value", path=f"{where}.value")
    if not parts:
        if op == "test" and document != operation["value"]:
            raise ApiError.one("U002", "The test failed", path=f"{where}.value")
        return document if op == "test" else operation.get("value")
    parent = document
    for part in parts[:-1]:
        parent = _child(parent, part, where)
    last = parts[-1]
    if op == "test":
        if _child(parent, last, where) != operation["value"]:
            raise ApiError.one("U002", "The test failed", path=f"{where}.value")
    elif isinstance(parent, dict):
        if op != "add" and last not in parent:
            raise ApiError.one("U002", f"No member {last} to {op}", path=f"{where}.path")
        if op == "remove":
            del parent[last]
        else:
            parent[last] = operation["value"]
    elif isinstance(parent, list):
        _apply_to_list(parent, op, last, operation, where)
    else:
        raise ApiError.one("U002", "The path goes through a value", path=f"{where}.path")
    return document


def _child(node: Any, part: str, where: str) -> Any:
    if isinstance(node, dict) and part in node:
        return node[part]
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)]
    raise ApiError.one("U002", f"The path has no {part}", path=f"{where}.path")


def _apply_to_list(
    items: list[Any], op: str, last: str, operation: dict[str, Any], where: str
) -> None:
    size = len(items) + (1 if op == "add" else 0)
    index = len(items) if op == "add" and last == "-" else int(last) if last.isdigit() else -1
    if not 0 <= index < size:
        raise ApiError.one("U002", f"No index {last} to {op}", path=f"{where}.path")
    if op == "add":
        items.insert(index, operation["value"])
    elif op == "remove":
        del items[index]
    else:
        items[index] = operation["value"]
