"""The whole OpenAPI 3.1 document served at ``/api/v1/openapi.json``.

It starts from the base document (uploads, status, reports) and adds
every other route: the submission list and «Движения», registry events, notices, verify,
webhooks, health and metrics, with the schema of every answer. ``tests/gateway/
test_openapi.py`` checks that each route of the running app is described and that the
real answers match their schemas, so the document cannot drift from the service.
"""

from __future__ import annotations

from typing import Any

from gateway.store.status import Decision, SubmissionStatus
from validators.catalogue import DOC_TYPES, REGULATION_KINDS, REPORT_KINDS

__all__ = ["full_document"]

_ERROR = {"$ref": "#/components/schemas/Error"}
_SECURITY: list[dict[str, list[str]]] = [{"apiKey": []}]
_NULLABLE_STRING = {"type": ["string", "null"]}
STATUSES = [status.value for status in SubmissionStatus]
DECISIONS = [decision.value for decision in Decision]


def _base_document() -> dict[str, Any]:
    """Uploads, status and reports: the routes every portal uses first."""
    error = {"$ref": "#/components/schemas/Error"}
    security: list[dict[str, list[str]]] = [{"apiKey": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "SRO intake gateway", "version": "1"},
        "components": {
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {"error": {"type": "object", "properties": {k: {"type": "string"} for k in ("code", "message_ru", "detail")}}},
                },
                "Check": {
                    "type": "object",
                    "properties": {k: {"type": ["string", "null"]} for k in ("code", "severity", "file", "message_ru", "remedy_ru", "detail")},
                },
                "Submission": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "external_id": {"type": ["string", "null"]},
                        "member": {"type": "string"},
                        "doc_type": {"type": "string", "enum": sorted(DOC_TYPES)},
                        "status": {"type": "string", "enum": ["received", "validating", "accepted", "returned", "rejected", "registered"]},
                        "decision": {"type": ["string", "null"], "enum": [*DECISIONS, None]},
                        "incoming_number": {"type": ["string", "null"]},
                        "registered_at": {"type": ["string", "null"]},
                        "received_at": {"type": "string"},
                        "decided_at": {"type": ["string", "null"]},
                    },
                },
                "Report": {
                    "type": "object",
                    "properties": {
                        "decision": {"type": "string"},
                        "decision_ru": {"type": "string"},
                        "checks": {"type": "array", "items": {"$ref": "#/components/schemas/Check"}},
                        "files": {"type": "array", "items": {"type": "object"}},
                        "signatures": {"type": "array", "items": {"type": "object"}},
                    },
                },
            },
        },
        "paths": {
            "/api/v1/submissions": {
                "post": {
                    "summary": "Upload a package (multipart)",
                    "security": security,
                    "requestBody": {
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["member", "doc_type"],
                                    "properties": {
                                        "member": {"type": "string"},
                                        "doc_type": {"type": "string", "enum": sorted(DOC_TYPES)},
                                        "report_kind": {"type": "string", "enum": sorted(REPORT_KINDS)},
                                        "regulation_kind": {"type": "string", "enum": sorted(REGULATION_KINDS)},
                                        "external_id": {"type": "string"},
                                        "document": {"type": "string", "format": "binary"},
                                        "attachment": {"type": "string", "format": "binary"},
                                        "signature": {"type": "array", "items": {"type": "string", "format": "binary"}},
                                        "power_of_attorney": {
                                            "type": "array",
                                            "items": {"type": "string", "format": "binary"},
                                            "description": "МЧД (EMCHD_1 XML) of a representative who signs with a personal certificate, and its detached signature X.xml.sig",
                                        },
                                    },
                                }
                            }
                        }
                    },
                    "responses": {
                        "202": {"description": "Stored; validation follows"},
                        "200": {"description": "The same external_id was received before: the first submission"},
                        "400": {"description": "Malformed request", "content": {"application/json": {"schema": error}}},
                        "401": {"description": "No or wrong API key", "content": {"application/json": {"schema": error}}},
                        "413": {"description": "Body too large", "content": {"application/json": {"schema": error}}},
                        "507": {"description": "Storage full", "content": {"application/json": {"schema": error}}},
                    },
                }
            },
            "/api/v1/submissions/{id}": {
                "get": {
                    "summary": "Status, decision and incoming number",
                    "security": security,
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "The submission", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Submission"}}}},
                        "404": {"description": "Unknown", "content": {"application/json": {"schema": error}}},
                    },
                }
            },
            "/api/v1/submissions/{id}/report": {
                "get": {
                    "summary": "The validation report: JSON, or HTML for staff (format=html or Accept: text/html)",
                    "security": security,
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                        {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "html"]}},
                        {"name": "member", "in": "query", "schema": {"type": "string"}, "description": "portal key: the member it acts for"},
                    ],
                    "responses": {
                        "200": {"description": "Report", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Report"}}, "text/html": {}}},
                        "202": {"description": "Not validated yet"},
                        "403": {"description": "Not allowed", "content": {"application/json": {"schema": error}}},
                        "404": {"description": "Unknown", "content": {"application/json": {"schema": error}}},
                    },
                }
            },
            "/api/v1/verify": {
                "post": {
                    "summary": "Verify the signatures of one document (multipart: document, signature)",
                    "security": security,
                    "responses": {"200": {"description": "gateway verify JSON"}, "400": {"description": "Malformed"}, "413": {"description": "Too large"}},
                }
            },
            "/healthz": {"get": {"summary": "Liveness and GOST support", "responses": {"200": {"description": "OK"}}}},
            "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "text/plain"}}}},
        },
    }




def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ERROR, description)


def _obj(properties: dict[str, Any], required: list[str] | None = None, closed: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": required if required is not None else sorted(properties)}
    if closed:
        schema["additionalProperties"] = False
    return schema


def _schemas() -> dict[str, Any]:
    signer_fields = ("common_name", "surname", "given_name", "title", "organization", "ogrn", "ogrnip", "inn", "inn_le", "snils", "email")
    signature = _obj(
        {
            "indication": {"type": "string", "enum": ["TOTAL_PASSED", "TOTAL_FAILED", "INDETERMINATE"]},
            "sub_indication": _NULLABLE_STRING,
            "qualified": {"type": "boolean"},
            "signer": {"oneOf": [{"type": "null"}, _obj({k: _NULLABLE_STRING for k in signer_fields})]},
            "certificate": {"oneOf": [{"type": "null"}, _obj({k: _NULLABLE_STRING for k in ("serial", "issuer", "not_before", "not_after", "sha256")})]},
            "signing_time": _NULLABLE_STRING,
            "validation_time": _NULLABLE_STRING,
            "digest_algorithm": _NULLABLE_STRING,
            "signature_algorithm": _NULLABLE_STRING,
            "kind": {"type": "string"},
            "signature_file": _NULLABLE_STRING,
            "checks": {"type": "array", "items": {"type": "object", "required": ["name", "passed", "detail"]}},
        },
        closed=False,  # the package report adds "file"
    )
    return {
        "Submission": _obj(
            {
                "id": {"type": "string"},
                "external_id": _NULLABLE_STRING,
                "member": {"type": "string"},
                "doc_type": {"type": "string", "enum": sorted(DOC_TYPES)},
                "report_kind": {"type": ["string", "null"], "enum": [*sorted(REPORT_KINDS), None]},
                "regulation_kind": {"type": ["string", "null"], "enum": [*sorted(REGULATION_KINDS), None]},
                "status": {"type": "string", "enum": STATUSES},
                "decision": {"type": ["string", "null"], "enum": ["accepted", "returned", "rejected", "awaiting_revocation", None]},
                "incoming_number": _NULLABLE_STRING,
                "registered_at": _NULLABLE_STRING,
                "received_at": {"type": "string"},
                "decided_at": _NULLABLE_STRING,
                "staff_decision": {"type": ["string", "null"], "enum": ["verified", "returned", "rejected", None]},
                "staff_comment": _NULLABLE_STRING,
            }
        ),
        "Accepted": _obj({"id": {"type": "string"}, "status_url": {"type": "string"}, "duplicate": {"type": "boolean"}}),
        "Pending": _obj({"id": {"type": "string"}, "status": {"type": "string", "enum": STATUSES}, "report": {"type": "null"}}),
        "SubmissionPage": _obj(
            {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Submission"}},
                "next_cursor": _NULLABLE_STRING,
                "total": {"type": "integer", "minimum": 0},
            }
        ),
        "Event": _obj(
            {
                "id": {"type": "integer"},
                "at": {"type": "string"},
                "actor": {"type": "string", "description": "portal, gateway, registry, staff or staff:<login>"},
                "kind": {
                    "type": "string",
                    "enum": ["received", "validation_started", "revalidation", "decision", "registered", "registry_failed", "email_sent", "email_failed", "staff_decision"],
                },
                "title_ru": {"type": "string"},
                "detail": {"type": "object"},
            }
        ),
        "Events": _obj({"id": {"type": "string"}, "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"}}}),
        "Signature": signature,
        "VerifyReport": _obj(
            {
                "indication": {"type": "string", "enum": ["TOTAL_PASSED", "TOTAL_FAILED", "INDETERMINATE"]},
                "sub_indication": _NULLABLE_STRING,
                "document": {
                    "oneOf": [
                        {"type": "null"},
                        _obj({"name": {"type": "string"}, "size": {"type": "integer"}, "sha256": {"type": "string"}, "streebog256": _NULLABLE_STRING}),
                    ]
                },
                "signatures": {"type": "array", "items": {"$ref": "#/components/schemas/Signature"}},
                "timestamps": {"type": "array", "items": {"type": "object"}},
                "problems": {"type": "array", "items": {"type": "string"}},
            }
        ),
        "RegistryEvent": _obj(
            {
                "submission_id": {"type": "string"},
                "incoming_number": {"type": "string"},
                "decision": {"type": "string", "enum": ["verified", "returned", "rejected"]},
                "comment": {"type": "string"},
                "event_id": {"type": "string", "description": "idempotency key; derived from the content when absent"},
            },
            required=["decision"],
        ),
        "RegistryEventAnswer": _obj({"event_id": {"type": "string"}, "duplicate": {"type": "boolean"}}),
        "Notice": _obj(
            {
                "kind": {"type": "string", "enum": ["document", "mass"]},
                "member": {"type": "string", "description": "document: the member's register number"},
                "title": {"type": "string", "description": "document: its title"},
                "subject": {"type": "string", "description": "mass: the subject"},
                "body": {"type": "string", "description": "mass: the text"},
                "notice_id": {"type": "string", "description": "idempotency key"},
            },
            required=["kind"],
        ),
        "NoticeAnswer": _obj({"notice_id": {"type": "string"}, "emails": {"type": "integer"}, "duplicate": {"type": "boolean"}}),
        "WebhookRequest": _obj({"url": {"type": "string", "format": "uri"}, "secret": {"type": "string", "minLength": 16, "maxLength": 256}}, required=["url"]),
        "Webhook": _obj({"id": {"type": "string"}, "url": {"type": "string"}, "created_at": {"type": "string"}}),
        "WebhookCreated": _obj({"id": {"type": "string"}, "url": {"type": "string"}, "created_at": {"type": "string"}, "secret": {"type": "string"}}),
        "Webhooks": _obj({"items": {"type": "array", "items": {"$ref": "#/components/schemas/Webhook"}}}),
        "WebhookRemoved": _obj({"id": {"type": "string"}, "removed": {"type": "boolean"}}),
        "WebhookEvent": _obj(
            {
                "event_id": {"type": "string"},
                "kind": {"type": "string", "enum": ["received", "decision", "registered", "staff_decision"]},
                "at": {"type": "string"},
                "submission_id": {"type": "string"},
                "member": {"type": "string"},
                "external_id": _NULLABLE_STRING,
                "status": {"type": "string", "enum": STATUSES},
                "decision": _NULLABLE_STRING,
                "staff_decision": _NULLABLE_STRING,
                "incoming_number": _NULLABLE_STRING,
                "comment": {"type": "string"},
            },
            required=["event_id", "kind", "at", "submission_id", "status"],
        ),
        "Health": {"type": "object", "required": ["status", "gost", "trust_store", "members", "queue", "uptime_seconds"]},
    }


def _list_parameters() -> list[dict[str, Any]]:
    def query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"name": name, "in": "query", "schema": schema or {"type": "string"}, "description": description}

    return [
        query("status", "current status", {"type": "string", "enum": STATUSES}),
        query("decision", "automatic decision", {"type": "string", "enum": DECISIONS}),
        query("staff_decision", "staff decision", {"type": "string", "enum": ["verified", "returned", "rejected"]}),
        query("member", "register number, or a part of the name (staff); the portal key must give its number"),
        query("doc_type", "document type", {"type": "string", "enum": sorted(DOC_TYPES)}),
        query("report_kind", "report kind", {"type": "string", "enum": sorted(REPORT_KINDS)}),
        query("regulation_kind", "regulation kind", {"type": "string", "enum": sorted(REGULATION_KINDS)}),
        query("report_year", "year of the reporting period", {"type": "string", "pattern": "^[0-9]{4}$"}),
        query("received_from", "first Moscow day (YYYY-MM-DD or DD.MM.YYYY)"),
        query("received_to", "last Moscow day, inclusive"),
        query("q", "text in the member number or name, ВХ number, external id, id or file names"),
        query("limit", "page size, 1..200 (50)", {"type": "integer", "minimum": 1, "maximum": 200}),
        query("cursor", "next_cursor of the previous page"),
    ]


def full_document() -> dict[str, Any]:
    """The OpenAPI document of every route of the service."""
    document = _base_document()
    schemas = document["components"]["schemas"]
    schemas.update(_schemas())
    paths = document["paths"]
    path_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    member_query = {"name": "member", "in": "query", "schema": {"type": "string"}, "description": "portal key: the member it acts for"}

    upload = paths["/api/v1/submissions"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]["properties"]
    form["report_year"] = {"type": "string", "pattern": "^[0-9]{4}$", "description": "reports: the year of the reporting period"}
    upload["description"] = (
        "report_kind is required for doc_type report, regulation_kind for regulation; unknown values and unknown members are "
        "refused with 400. The same external_id with the same member, type and files answers 200 with the first submission; "
        "with anything else 409."
    )
    upload["responses"].update(
        {
            "202": _json({"$ref": "#/components/schemas/Accepted"}, "Stored; validation follows"),
            "200": _json({"$ref": "#/components/schemas/Accepted"}, "The same external_id and package were received before: the first submission"),
            "403": _error("The key's role may not upload"),
            "408": _error("The client stopped sending"),
            "409": _error("external_id belongs to another package"),
            "503": _error("Database busy"),
        }
    )
    upload["responses"]["413"]["description"] = "Body or a file over its limit"
    paths["/api/v1/submissions"]["get"] = {
        "summary": "Find submissions: filters and cursor paging, newest first",
        "security": _SECURITY,
        "parameters": _list_parameters(),
        "responses": {
            "200": _json({"$ref": "#/components/schemas/SubmissionPage"}, "One page"),
            "400": _error("A filter, limit or cursor that cannot be used; portal key without member"),
            "401": _error("No or wrong API key"),
            "403": _error("Not allowed"),
        },
    }
    status = paths["/api/v1/submissions/{id}"]["get"]
    status["responses"]["401"] = _error("No or wrong API key")
    status["responses"]["403"] = _error("Not allowed")
    report = paths["/api/v1/submissions/{id}/report"]["get"]
    report["responses"]["202"] = _json({"$ref": "#/components/schemas/Pending"}, "Not validated yet")
    report["responses"]["401"] = _error("No or wrong API key")
    paths["/api/v1/submissions/{id}/events"] = {
        "get": {
            "summary": "«Движения»: every event of the submission with time and actor",
            "security": _SECURITY,
            "parameters": [path_id, member_query],
            "responses": {
                "200": _json({"$ref": "#/components/schemas/Events"}, "Oldest first"),
                "401": _error("No or wrong API key"),
                "403": _error("Not allowed"),
                "404": _error("Unknown (or, for the portal, another member's)"),
            },
        }
    }
    paths["/api/v1/registry/events"] = {
        "post": {
            "summary": "The registry reports a staff decision on a registered package (emails the member)",
            "security": _SECURITY,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RegistryEvent"}}}},
            "responses": {
                "200": _json({"$ref": "#/components/schemas/RegistryEventAnswer"}, "Recorded (or recorded before: duplicate)"),
                "400": _error("Not JSON or an unknown decision"),
                "401": _error("No or wrong API key"),
                "403": _error("Registry or staff key required"),
                "404": _error("No such submission or incoming number"),
                "409": _error("The package is not registered"),
            },
        }
    }
    paths["/api/v1/notices"] = {
        "post": {
            "summary": "The registry asks to notify members: a document for one member, or a mass mailing",
            "security": _SECURITY,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Notice"}}}},
            "responses": {
                "202": _json({"$ref": "#/components/schemas/NoticeAnswer"}, "Emails queued"),
                "400": _error("Not JSON, unknown kind, missing title or text"),
                "401": _error("No or wrong API key"),
                "403": _error("Registry or staff key required"),
                "404": _error("Unknown or excluded member"),
            },
        }
    }
    paths["/api/v1/verify"]["post"] = {
        "summary": "Verify the signatures of one document (the gateway verify JSON)",
        "security": _SECURITY,
        "parameters": [{"name": "revocation", "in": "query", "schema": {"type": "string", "enum": ["require", "soft", "off"]}}],
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["document"],
                        "properties": {"document": {"type": "string", "format": "binary"}, "signature": {"type": "string", "format": "binary"}},
                    }
                }
            }
        },
        "responses": {
            "200": _json({"$ref": "#/components/schemas/VerifyReport"}, "The verification report"),
            "400": _error("Not a form, no document, bad revocation"),
            "401": _error("No or wrong API key"),
            "403": _error("Not allowed"),
            "408": _error("The client stopped sending"),
            "413": _error("Too large"),
        },
    }
    paths["/api/v1/webhooks"] = {
        "post": {
            "summary": "Register a URL for status callbacks (HMAC-SHA256 signed, retried, deduplicated by X-Gateway-Event-Id)",
            "description": (
                "Each status change is POSTed as a WebhookEvent with headers X-Gateway-Event-Id, X-Gateway-Timestamp and "
                "X-Gateway-Signature = 'sha256=' + hex HMAC-SHA256(secret, timestamp + '.' + body)."
            ),
            "security": _SECURITY,
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookRequest"}}}},
            "responses": {
                "201": _json({"$ref": "#/components/schemas/WebhookCreated"}, "Registered; the secret is shown once"),
                "400": _error("Bad URL or secret; webhook.url_not_public: a literal non-public address not in [webhooks] allow_hosts"),
                "401": _error("No or wrong API key"),
                "403": _error("Portal or staff key required"),
            },
            "callbacks": {
                "statusChange": {
                    "{$request.body#/url}": {
                        "post": {
                            "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookEvent"}}}},
                            "responses": {"200": {"description": "Received (any 2xx)"}},
                        }
                    }
                }
            },
        },
        "get": {
            "summary": "Registered callback URLs (without secrets)",
            "security": _SECURITY,
            "responses": {
                "200": _json({"$ref": "#/components/schemas/Webhooks"}, "Active webhooks"),
                "401": _error("No or wrong API key"),
                "403": _error("Portal or staff key required"),
            },
        },
    }
    paths["/api/v1/webhooks/{id}"] = {
        "delete": {
            "summary": "Stop callbacks to a URL",
            "security": _SECURITY,
            "parameters": [path_id],
            "responses": {
                "200": _json({"$ref": "#/components/schemas/WebhookRemoved"}, "Removed"),
                "401": _error("No or wrong API key"),
                "403": _error("Portal or staff key required"),
                "404": _error("No such active webhook"),
            },
        }
    }
    paths["/api/v1/openapi.json"] = {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object", "required": ["openapi", "paths"]}}}}}}}
    paths["/healthz"]["get"]["responses"]["200"] = _json({"$ref": "#/components/schemas/Health"}, "Liveness, GOST support, trust store, member list, queue")
    paths["/metrics"]["get"]["responses"]["200"] = {"description": "Prometheus text format", "content": {"text/plain": {}}}
    return document
