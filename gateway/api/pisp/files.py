"""``/file-payment-consents`` and ``/file-payments``: many payments from one account, in a file
(see :mod:`gateway.payments.files`).

Staging the consent, uploading and downloading its file, and reading consents, file payments,
their details and report files take a client-credentials token; submitting the file payment
takes the token of the customer's authorisation (OBIE Payment Initiation API profile v4.0,
"Grant types"). The file goes up and comes down in its own media type: ``application/json`` for
``UK.OBIE.PaymentInitiation.4.0``, ``application/xml`` for ``UK.OBIE.pain.001.001.08``; the
reference lists an empty ``File`` object for those bodies, a gap of the OBIE documents (as for
the account statement file).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, jsonify, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from gateway.api import reference
from gateway.api.common import check_fapi_headers, envelope, iso
from gateway.api.idempotency import idempotent
from gateway.api.pisp import REFERENCE_FILE, bp
from gateway.api.pisp import common as views
from gateway.api.pisp.bodies import consent_data
from gateway.consents.models import Consent
from gateway.edge.errors import ApiError
from gateway.edge.transaction import get_session
from gateway.oauth.protector import current_token
from gateway.payments import files
from gateway.payments.models import FileTransaction, PaymentOrder

CONSENTS = "/file-payment-consents"
PAYMENTS = "/file-payments"
# A domestic payment's initiation: what each entry of a UK.OBIE.PaymentInitiation.4.0 file is.
INITIATION = "OBWriteDomestic2/properties/Data/properties/Initiation"


@bp.post(CONSENTS)
@idempotent("file-payment-consents")
def create_file_consent() -> ResponseReturnValue:
    """CreateFilePaymentConsents: the file declared, awaiting its upload (201, AWUP)."""
    return views.stage_consent("OBWriteFileConsent3", files.create_consent, CONSENTS)


@bp.get(f"{CONSENTS}/<consent_id>")
def get_file_consent(consent_id: str) -> ResponseReturnValue:
    """GetFilePaymentConsentsConsentId: the consent and its status."""
    consent = _consent(consent_id)
    return jsonify(envelope(consent_data(consent, views.bank().now(consent.tenant_id))))


def _consent(consent_id: str) -> Consent:
    token = current_token(scope="payments", grant_types=views.CLIENT_TOKEN)
    check_fapi_headers()
    return views.own_consent(consent_id, token.client_id, files.CONSENT_FAMILY)


@bp.post(f"{CONSENTS}/<consent_id>/file")
@idempotent("file-payment-consents/file")
def upload_file(consent_id: str) -> ResponseReturnValue:
    """CreateFilePaymentConsentsConsentIdFile: the file itself, checked against the consent
    (200, no body)."""
    token = current_token(scope="payments", grant_types=views.CLIENT_TOKEN)
    check_fapi_headers()
    session = get_session()
    # Locked for this unit of work: two uploads to one consent take turns, and one is refused.
    consent = session.scalar(
        select(Consent).where(Consent.id == consent_id).with_for_update()
        .execution_options(populate_existing=True)
    )  # fmt: skip
    if consent is None:
        raise ApiError.one("U011", "No file-payment-consent with this id", status=400)
    consent = views.own_consent(consent.id, token.client_id, files.CONSENT_FAMILY)
    now = views.bank().now(consent.tenant_id)
    files.upload(session, consent, request.get_data(cache=True), request.mimetype,
                 _initiation_schema, now)  # fmt: skip
    response = Response(status=200)
    del response.headers["Content-Type"]
    return response


def _initiation_schema(initiation: Any) -> object:
    return reference.check(initiation, REFERENCE_FILE, INITIATION)


@bp.get(f"{CONSENTS}/<consent_id>/file")
def download_file(consent_id: str) -> ResponseReturnValue:
    """GetFilePaymentConsentsConsentIdFile: the file as it was uploaded, in its media type."""
    consent = _consent(consent_id)
    kept = files.uploaded(get_session(), consent)
    if request.accept_mimetypes and request.accept_mimetypes.best_match([kept.media_type]) is None:
        raise ApiError.one("U006", f"The file is {kept.media_type}", path="Accept", status=406)
    return Response(kept.content, mimetype=kept.media_type)


@bp.post(PAYMENTS)
@idempotent("file-payments")
def create_file_payment() -> ResponseReturnValue:
    """CreateFilePayments: every transaction of the approved file paid or refused (201)."""
    order, _now = views.submit_order("OBWriteFile2", files.CONSENT_FAMILY, files.submit)
    return views.created(file_order_data(order), f"{PAYMENTS}/{order.id}")


def file_order_data(order: PaymentOrder) -> dict[str, Any]:
    """``OBWriteFileResponse3.Data``."""
    data: dict[str, Any] = {
        "FilePaymentId": order.id,
        "ConsentId": order.consent_id,
        "CreationDateTime": iso(order.created_at),
        "Status": order.status,
        "StatusUpdateDateTime": iso(order.status_updated_at),
    }
    if order.status_reason:
        data["StatusReason"] = [{
            "StatusReasonCode": order.status_reason,
            "StatusReasonDescription": order.status_reason_description or order.status_reason,
        }]  # fmt: skip
    data["Initiation"] = order.initiation
    return data


def _order(payment_id: str) -> tuple[PaymentOrder, list[FileTransaction], dt.datetime]:
    order = views.own_order(payment_id, files.FAMILY)
    return order, files.transactions(get_session(), order), views.bank().now(order.tenant_id)


@bp.get(f"{PAYMENTS}/<file_payment_id>")
def get_file_payment(file_payment_id: str) -> ResponseReturnValue:
    """GetFilePaymentsFilePaymentId."""
    order, _found, _now = _order(file_payment_id)
    return jsonify(envelope(file_order_data(order)))


@bp.get(f"{PAYMENTS}/<file_payment_id>/payment-details")
def file_payment_details(file_payment_id: str) -> ResponseReturnValue:
    """GetFilePaymentsFilePaymentIdPaymentDetails: the status of each transaction of the file."""
    order, found, now = _order(file_payment_id)
    local = order.initiation.get("LocalInstrument")
    steps = []
    for result in found:
        status = files.transaction_status(result, now)
        detail: dict[str, Any] = {"Status": status}
        if local:
            detail["LocalInstrument"] = local
        if result.status_reason:
            detail["StatusReason"] = result.status_reason
        updated = result.settles_at if status == "ACSC" and result.settles_at else order.created_at
        steps.append({
            "PaymentTransactionId": result.bank_payment_id or result.id,
            "Status": status,
            "StatusUpdateDateTime": iso(updated),
            "StatusDetail": detail,
        })  # fmt: skip
    return jsonify(envelope({"PaymentStatus": steps}))


@bp.get(f"{PAYMENTS}/<file_payment_id>/report-file")
def report_file(file_payment_id: str) -> ResponseReturnValue:
    """GetFilePaymentsFilePaymentIdReportFile: a JSON report of every transaction of the file,
    in file order, with its status (and the reason of a refusal)."""
    order, found, now = _order(file_payment_id)
    rows = [_report_row(result, now) for result in found]
    report = {
        "FilePaymentId": order.id,
        "ConsentId": order.consent_id,
        "Status": order.status,
        "FileType": order.initiation["FileType"],
        "NumberOfTransactions": str(len(rows)),
        "Accepted": sum(1 for row in rows if row["Status"] != "RJCT"),
        "Rejected": sum(1 for row in rows if row["Status"] == "RJCT"),
        "Transactions": rows,
    }
    response = jsonify({"Data": report})
    response.headers["Content-Disposition"] = f'attachment; filename="{order.id}-report.json"'
    return response


def _report_row(result: FileTransaction, now: dt.datetime) -> dict[str, Any]:
    row: dict[str, Any] = {
        "Position": result.position + 1,
        "InstructionIdentification": result.instruction_id,
        "EndToEndIdentification": result.end_to_end_id,
        "InstructedAmount": {"Amount": result.amount, "Currency": result.currency},
        "CreditorAccount": {
            "SchemeName": result.creditor_scheme,
            "Identification": result.creditor_identification,
            "Name": result.creditor_name,
        },
        "Status": files.transaction_status(result, now),
    }
    if result.bank_payment_id:
        row["PaymentTransactionId"] = result.bank_payment_id
    if result.status_reason:
        row["StatusReason"] = result.status_reason
    return row
