"""The package report in HTML (Russian), from the stored JSON report.

Two audiences: ``staff`` sees every finding with its technical detail (folded) and the
verification steps of every signature; ``member`` (the copy attached to emails) gets the
same findings, stamps and remedies without the staff-only detail. Dates are Moscow time,
kinds by their Russian names, stamps as :mod:`gateway.render.stamps` prints them; the decision
shows the automatic result and, when there is one, the staff decision. Autoescaped; the
template is ``gateway/render/templates/report.html``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import jinja2

from gateway.render.labels import TEMPLATE_FILTERS, show_direction_controls
from gateway.store.report import PackageReport

__all__ = ["render_html", "REPORT_HEADERS"]

_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "templates"),
    autoescape=True,
    undefined=jinja2.ChainableUndefined,
    finalize=show_direction_controls,
)
_ENV.filters.update(TEMPLATE_FILTERS)

#: Headers of the report page wherever a browser may open it (staff workspace, API): no
#: script, no frame, no fetch, no sniffing; only the page's own inline style block.
REPORT_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; form-action 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def render_html(report: PackageReport, audience: Literal["staff", "member"] = "staff") -> str:
    """The HTML page of a package report for ``audience``."""
    return _ENV.get_template("report.html").render(r=report.to_json(), sub=report.submission or {}, staff=audience == "staff")
