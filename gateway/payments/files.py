"""File payments (OBIE v4.0 Payment Initiation: ``/file-payment-consents`` and
``/file-payments``): many domestic credit transfers from one account, approved once.

The partner stages the consent with the file's type, hash, number of transactions and control
sum; the consent awaits its file (``AWUP``, OBInternalConsentStatus1Code AwaitingUpload). The
partner uploads the file, which the bank checks against what the consent declared (the hash,
the count and the sum must be exactly the file's); the consent then awaits the customer
(``AWAU``), who sees how many payments, their total, from which account and to whom, and
authorises it (``AUTH``). The partner then submits the file payment: each transaction is paid
through the bank's :meth:`~gateway.core.payments.PaymentsCore.pay`, the whole file in the
request's one unit of work, and the consent is consumed (``COND``).

A transaction the bank refuses for want of funds is recorded as rejected (``RJCT``, AM04), not
an error of the API. The file payment's status is an ExternalPaymentGroupStatus1Code of the
reference's enum: ``INCO`` (InitiationCompleted) when every transaction was accepted, ``INFA``
(InitiationFailed, "in part or full") when any was refused; the report file lists each.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.consents import services as consents
from gateway.consents.models import Consent
from gateway.core.errors import InsufficientFunds, InvalidInstruction
from gateway.core.money import Money
from gateway.core.payments import PaymentOrder as BankOrder
from gateway.core.payments import PaymentsCore
from gateway.core.values import Counterparty
from gateway.edge.errors import ApiError
from gateway.payments import domestic, file_formats
from gateway.payments.file_formats import Transaction
from gateway.payments.models import FileTransaction, PaymentFile, PaymentOrder
from gateway.payments.scheduled import LONDON

FAMILY = "file-payments"
CONSENT_FAMILY = "file-payment-consents"
AWAITING_UPLOAD = "AWUP"
# The largest file accepted, in bytes: 1 MB, within the gateway's limit on any request body
# (MAX_CONTENT_LENGTH, 1 MiB by default, answered 413 by the edge). Past it the upload is a 400
# (U002): the reference lists no 413 for the operation.
MAX_FILE_BYTES = 1_000_000
# How many payees the consent page names before "and N more".
PAYEES_SHOWN = 3
_PATH = "Data.Initiation"


def create_consent(
    session: Session, *, client_id: str, tenant_id: str, body: dict[str, Any], now: dt.datetime
) -> Consent:
    """A file payment consent awaiting its file, from a body valid against
    ``OBWriteFileConsent3``."""
    data = body["Data"]
    initiation = data["Initiation"]
    _check_declared(initiation, now)
    kept = dict(data) | {"family": CONSENT_FAMILY}
    consent = consents.create(
        session, client_id=client_id, tenant_id=tenant_id, kind="payments", data=kept, now=now
    )
    consent.status = AWAITING_UPLOAD
    session.flush()
    return consent


def _check_declared(initiation: dict[str, Any], now: dt.datetime) -> None:
    """What the consent must declare for the customer to know what they approve."""
    file_type = initiation["FileType"]
    if file_type not in file_formats.MEDIA_TYPES:
        # The reference names the file types in x-namespaced-enum, which a schema validator
        # does not enforce.
        raise ApiError.one("U002", f"{file_type} is not a file type of this bank; use one of "
                           f"{', '.join(file_formats.MEDIA_TYPES)}",
                           path=f"{_PATH}.FileType")  # fmt: skip
    for name in ("NumberOfTransactions", "ControlSum"):
        if name not in initiation:
            # The customer approves a number of payments and a total: both are needed.
            raise ApiError.one("U004", f"{name} is required for a file payment",
                               path=f"{_PATH}.{name}")  # fmt: skip
    written = initiation["NumberOfTransactions"]
    # The reference's pattern [0-9]{1,15} is not anchored: "1x" passes it.
    if not (written.isascii() and written.isdigit()) or not (
        1 <= int(written) <= file_formats.MAX_TRANSACTIONS
    ):
        raise ApiError.one("U002", f"A file holds 1 to {file_formats.MAX_TRANSACTIONS} "
                           "transactions", path=f"{_PATH}.NumberOfTransactions")  # fmt: skip
    total = declared_sum(initiation)
    if not total.is_finite() or total <= 0:
        raise ApiError.one("U002", "The control sum must be more than zero",
                           path=f"{_PATH}.ControlSum")  # fmt: skip
    _check_file_hash(initiation["FileHash"])
    local = initiation.get("LocalInstrument")
    if local is not None and local not in domestic.LOCAL_INSTRUMENTS:
        raise ApiError.one("U026", f"{local} is not offered", path=f"{_PATH}.LocalInstrument")
    requested = initiation.get("RequestedExecutionDateTime")
    if requested is not None:
        _check_execution_date(requested, now)


def _check_file_hash(value: str) -> None:
    """``FileHash``: "A base64 encoding of a SHA256 hash of the file" (32 bytes)."""
    try:
        digest = base64.b64decode(value, validate=True)
    except ValueError:
        digest = b""
    if len(digest) != hashlib.sha256().digest_size:
        raise ApiError.one("U002", "FileHash must be the base64 of a SHA-256 digest (44 "
                           "characters)", path=f"{_PATH}.FileHash")  # fmt: skip


def _check_execution_date(requested: str, now: dt.datetime) -> None:
    """The bank executes a file when it is submitted: a requested day must be today (London)."""
    path = f"{_PATH}.RequestedExecutionDateTime"
    try:
        moment = dt.datetime.fromisoformat(requested)
    except ValueError:
        raise ApiError.one("U003", f"{requested!r} is not a date-time", path=path) from None
    if moment.tzinfo is None:
        raise ApiError.one("U003", "RequestedExecutionDateTime needs its UTC offset", path=path)
    today = now.astimezone(LONDON).date()
    if moment.astimezone(LONDON).date() != today:
        raise ApiError.one("U003", f"This bank executes a file when it is submitted: the "
                           f"execution date must be {today}", path=path)  # fmt: skip


def declared_sum(initiation: dict[str, Any]) -> Decimal:
    """The consent's ``ControlSum`` exactly as written (a JSON number, read without a float's
    rounding where the body kept its text)."""
    return Decimal(str(initiation["ControlSum"]))


def file_hash(content: bytes) -> str:
    """``FileHash`` of ``content``: the base64 of its SHA-256."""
    return base64.b64encode(hashlib.sha256(content).digest()).decode()


def upload(
    session: Session,
    consent: Consent,
    content: bytes,
    media_type: str,
    schema: file_formats.SchemaCheck,
    now: dt.datetime,
) -> PaymentFile:
    """Keep the file of a consent awaiting it, once it matches what the consent declared; the
    consent then awaits the customer (``AWAU``)."""
    status = consents.effective_status(consent, now)
    if status != AWAITING_UPLOAD:
        # OBIE: the file is uploaded to a consent AwaitingUpload, and once.
        raise ApiError.one("U009", f"The consent is {status}: a file is uploaded once, to a "
                           "consent awaiting it (AWUP)")  # fmt: skip
    initiation = consent.data["Initiation"]
    file_type = initiation["FileType"]
    if media_type not in file_formats.MEDIA_TYPES[file_type]:
        raise ApiError.one("U006", f"A {file_type} file is uploaded as "
                           f"{' or '.join(file_formats.MEDIA_TYPES[file_type])}",
                           path="Content-Type", status=415)  # fmt: skip
    if len(content) > MAX_FILE_BYTES:
        raise ApiError.one("U002", f"A file is at most {MAX_FILE_BYTES} bytes, this one is "
                           f"{len(content)}")  # fmt: skip
    if file_hash(content) != initiation["FileHash"]:
        raise ApiError.one("U002", "The file's SHA-256 (base64) is not the consent's FileHash",
                           path=f"{_PATH}.FileHash")  # fmt: skip
    found = file_formats.read(file_type, content, schema)
    _check_against_consent(initiation, found)
    kept = PaymentFile(
        consent_id=consent.id, media_type=media_type, content=content, uploaded_at=now,
        transactions=[_as_json(t) for t in found],
    )  # fmt: skip
    session.add(kept)
    consent.status, consent.status_updated_at = consents.AWAITING, now
    consent.data = consent.data | {"File": _summary(found)}
    session.flush()
    return kept


def _check_against_consent(initiation: dict[str, Any], found: list[Transaction]) -> None:
    """The count and the sum of the file must be exactly the consent's."""
    declared = int(initiation["NumberOfTransactions"])
    if declared != len(found):
        raise ApiError.one("U002", f"The file holds {len(found)} transactions, the consent "
                           f"{declared}", path=f"{_PATH}.NumberOfTransactions")  # fmt: skip
    total = file_formats.control_sum(found)
    if total != declared_sum(initiation):
        raise ApiError.one("U002", f"The file's amounts total {total}, the consent's "
                           f"ControlSum is {declared_sum(initiation)}",
                           path=f"{_PATH}.ControlSum")  # fmt: skip


def _as_json(transaction: Transaction) -> dict[str, Any]:
    return {name: getattr(transaction, name) for name in Transaction.__slots__}


def _summary(found: list[Transaction]) -> dict[str, Any]:
    """What the consent page shows of the file: its currency and the first payees."""
    payees = list(dict.fromkeys(t.creditor_name for t in found))
    return {
        "Currency": found[0].currency,
        "Payees": payees[:PAYEES_SHOWN],
        "MorePayees": max(0, len(payees) - PAYEES_SHOWN),
    }


def uploaded(session: Session, consent: Consent) -> PaymentFile:
    """The file uploaded for ``consent``; ``U011`` when none was."""
    found = session.get(PaymentFile, consent.id)
    if found is None:
        raise ApiError.one("U011", "No file was uploaded for this consent", status=400)
    return found


def submit(
    session: Session, bank: PaymentsCore, consent: Consent, body: dict[str, Any], now: dt.datetime
) -> PaymentOrder:
    """Pay every transaction of the approved file and consume the consent."""
    first = next(domestic.differences(body["Data"]["Initiation"], consent.data["Initiation"],
                                      _PATH), None)  # fmt: skip
    if first is not None:
        raise ApiError.one("U008", f"{first} does not match the consent", path=first)
    kept = uploaded(session, consent)
    row = PaymentOrder(
        id="fp-" + secrets.token_hex(16), consent_id=consent.id, client_id=consent.client_id,
        tenant_id=consent.tenant_id, family=FAMILY, debtor_account_id=consent.account_ids[0],
        initiation=consent.data["Initiation"], created_at=now, status_updated_at=now,
        status="INCO",
    )  # fmt: skip
    domestic.record(session, consent, row, now)
    results = [
        _pay(bank, row, position, Transaction(**item))
        for position, item in enumerate(kept.transactions)
    ]
    session.add_all(results)
    refused = [r for r in results if r.status == "RJCT"]
    if refused:
        row.status, row.status_reason = "INFA", refused[0].status_reason
        row.status_reason_description = (
            f"{len(refused)} of {len(results)} transactions were rejected: see the report file"
        )
    session.flush()
    return row


def _pay(
    bank: PaymentsCore, row: PaymentOrder, position: int, item: Transaction
) -> FileTransaction:
    """One transaction paid (``ACSP``) or refused (``RJCT`` with its reason)."""
    result = FileTransaction(
        id="fpt-" + secrets.token_hex(16), order_id=row.id, position=position,
        instruction_id=item.instruction_id, end_to_end_id=item.end_to_end_id,
        amount=item.amount, currency=item.currency, creditor_name=item.creditor_name,
        creditor_scheme=item.creditor_scheme,
        creditor_identification=item.creditor_identification,
    )  # fmt: skip
    order = BankOrder(
        debtor_account_id=row.debtor_account_id,
        amount=Money(Decimal(item.amount), item.currency),
        creditor=Counterparty(item.creditor_name, item.creditor_scheme,
                              item.creditor_identification),
        reference=item.reference, information=item.information,
    )  # fmt: skip
    try:
        paid = bank.pay(row.tenant_id, order)
    except InsufficientFunds:
        result.status, result.status_reason = "RJCT", "AM04"
    except InvalidInstruction:
        # MS03 NotSpecifiedReasonAgentGenerated: the bank could not carry it out.
        result.status, result.status_reason = "RJCT", "MS03"
    else:
        result.status, result.bank_payment_id = "ACSP", paid.id
        result.settles_at = paid.settles_at
    return result


def transactions(session: Session, order: PaymentOrder) -> list[FileTransaction]:
    """The transactions of a file payment, in file order."""
    found = session.scalars(
        select(FileTransaction)
        .where(FileTransaction.order_id == order.id)
        .order_by(FileTransaction.position)
    )
    return list(found)


def transaction_status(result: FileTransaction, now: dt.datetime) -> str:
    """A transaction's ExternalPaymentTransactionStatus1Code at ``now``: ``ACSC`` once its
    settlement moment has passed."""
    if result.status == "ACSP" and result.settles_at is not None and result.settles_at <= now:
        return "ACSC"
    return result.status
