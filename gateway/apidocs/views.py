"""The ``docs`` blueprint: the committed OpenAPI documents and Swagger UI, all served locally.

Swagger UI's files come from the ``swagger-ui-bundle`` package, served from an allow-list of file
names (nothing else under its folder is reachable); the page starts Swagger UI from a static
script, not an inline one, so that a strict Content-Security-Policy can be added.
"""

from __future__ import annotations

from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask.typing import ResponseReturnValue
from markdown_it import MarkdownIt
from markupsafe import Markup
from swagger_ui_bundle import swagger_ui_path

from gateway.apidocs.common import GUIDE, SCENARIOS, SPECS_DIR
from gateway.apidocs.documents import BY_API, BY_NAME, DOCUMENTS
from partners import example_client

bp = Blueprint("docs", __name__)
_MARKDOWN = MarkdownIt("commonmark", {"html": False}).enable("table")
# The files the guide links to, by the name partners save them under.
EXAMPLES = {"partner_client.py": Path(example_client.__file__)}

# Everything the pages load comes from this origin; Swagger UI styles elements inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

# The Swagger UI files the page uses (the bundle's own index.html and initializer point at an
# example on the internet: they are not served).
_ASSET_FILES = (
    "swagger-ui.css",
    "swagger-ui-bundle.js",
    "oauth2-redirect.html",
    "favicon-16x16.png",
    "favicon-32x32.png",
)
ASSETS = frozenset(_ASSET_FILES) | {f"{name}.map" for name in _ASSET_FILES if "." in name}


@bp.after_request
def _content_security_policy(response: Response) -> Response:
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    return response


@bp.get("/specs/<name>.json")
def spec(name: str) -> ResponseReturnValue:
    """A committed OpenAPI document (``specs/openapi/<name>.json``)."""
    document = BY_NAME.get(name)
    if document is None:
        abort(404)
    return send_from_directory(SPECS_DIR, document.filename, mimetype="application/json")


@bp.get("/")
def home() -> ResponseReturnValue:
    """A browser opening the gateway's base URL goes to the API documentation (which links the
    portal); any other client gets the OBIE 404 of a path with no resource."""
    # What the client prefers of the two (a browser's */* ranks below its text/html; werkzeug's
    # "best" would pick Chrome's application/signed-exchange instead).
    if request.accept_mimetypes.best_match(("application/json", "text/html")) == "text/html":
        return redirect(url_for(".index"))
    abort(404)


@bp.get("/docs")
def index() -> ResponseReturnValue:
    """The list of published APIs."""
    return render_template("docs/index.html", documents=DOCUMENTS)


@bp.get("/docs/getting-started")
def guide() -> ResponseReturnValue:
    """The getting-started guide, rendered from its Markdown (CommonMark with tables; raw HTML
    in the source is shown as text, not interpreted)."""
    return _page(GUIDE, "Getting started")


@bp.get("/docs/scenarios")
def scenarios() -> ResponseReturnValue:
    """The catalogue of sandbox scenarios (every outcome a partner can rehearse), rendered as
    the guide is."""
    return _page(SCENARIOS, "Sandbox scenarios")


# The pages' Markdown files link each other by file name (as they read in the repository).
_PAGES = {"getting-started": "docs.guide", "scenarios": "docs.scenarios"}


@bp.get("/docs/<name>.md")
def markdown_link(name: str) -> ResponseReturnValue:
    """A page's link to another by its file name goes to that page."""
    endpoint = _PAGES.get(name)
    if endpoint is None:
        abort(404)
    return redirect(url_for(endpoint))


def _page(path: Path, title: str) -> ResponseReturnValue:
    if not path.is_file():
        abort(404)
    body = Markup(_MARKDOWN.render(path.read_text(encoding="utf-8")))  # noqa: S704 - see guide
    return render_template("docs/guide.html", body=body, title=title)


@bp.get("/docs/examples/<name>")
def example(name: str) -> ResponseReturnValue:
    """A file of the guide's examples (the example partner client), as text to read or save."""
    path = EXAMPLES.get(name)
    if path is None:
        abort(404)
    return send_from_directory(path.parent, path.name, mimetype="text/plain")


@bp.get("/docs/<api>")
def api(api: str) -> ResponseReturnValue:
    """Swagger UI on one document."""
    document = BY_API.get(api)
    if document is None:
        abort(404)
    return render_template(
        "docs/swagger.html",
        document=document,
        spec_url=url_for(".spec", name=document.name),
        redirect_url=url_for(".asset", filename="oauth2-redirect.html"),
    )


@bp.get("/docs/assets/<path:filename>")
def asset(filename: str) -> ResponseReturnValue:
    """A Swagger UI file from the installed ``swagger-ui-bundle`` package."""
    if filename not in ASSETS:
        abort(404)
    return send_from_directory(swagger_ui_path, filename)
