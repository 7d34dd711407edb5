"""The organisation's sandbox bank in the portal, made on first use.

Making a sandbox takes seconds. A page that needs one that is not made yet answers at once with a
"Preparing your sandbox" page whose ``<meta http-equiv="refresh">`` loads :func:`prepare`, which
makes it and sends the browser back: the browser keeps showing that page meanwhile, and no script
is needed.
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from gateway.core.administration import SandboxBank
from gateway.edge.transaction import get_session
from gateway.portal import services as portal
from gateway.portal.auth import login_required, safe_next, signed_in
from partners.models import Organisation


def core() -> SandboxBank:
    """The sandbox, bound to this request's unit of work."""
    bank: SandboxBank = current_app.extensions["sandbox"](get_session())
    return bank


def _organisation() -> Organisation | None:
    developer = signed_in()
    if developer.organisation_id is None:
        return None
    return get_session().get_one(Organisation, developer.organisation_id)


def preparing(tenant: str) -> ResponseReturnValue | None:
    """The "Preparing your sandbox" page while ``tenant`` is not made, else ``None`` (and for
    ops, who have no sandbox of their own to prepare: a page they open makes it as it goes)."""
    if signed_in().is_ops or portal.sandbox_ready(core(), tenant) is not None:
        return None
    here = request.full_path.rstrip("?")
    return render_template(
        "portal/preparing.html", prepare_url=url_for("portal.prepare_sandbox", next=here)
    )


@login_required
def prepare() -> ResponseReturnValue:
    """Make the organisation's sandbox (the slow part: seconds), then go back to the page that
    needed it."""
    organisation = _organisation()
    if organisation is None:
        return redirect(url_for("portal.home"), code=303)
    core().ensure_tenant(organisation.id)
    target = safe_next(request.args.get("next")) or url_for("portal.organisation")
    return redirect(target, code=303)
