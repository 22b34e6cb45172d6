"""
The scripted scenarios of the differential suite, and the database state they start from.

Each `Scenario` is a list of requests with the status DRF answers (and, where it matters, the
`Retry-After`), grouped in `GROUPS`: happy paths, validation errors, authentication failures,
permission denials, throttling sequences (injected timer), malformed bodies, unknown methods
and content negotiation. `compat/test_differential_suite.py` plays them against the DRF project
and its daf_drf twin; `compat/test_intermediate.py` against the half-migrated project.
"""

from __future__ import annotations

import rest_framework
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from compat.project.drf_app.models import Label, Project, Ticket
from compat.runner import Scenario, delete, get, head, options, patch, post, put, request
from tests.databases import reset_sequences

DRF_VERSION = tuple(int(part) for part in rest_framework.__version__.split(".")[:2])

TOKENS = {name: (name[0] * 40) for name in ("alice", "bob", "carol", "eve")}

HTML = {"Accept": "text/html"}
READONLY = {"X-Client": "readonly"}
NEW_PROJECT = {"name": "Orion", "description": "A new one"}
NEW_TICKET = {"project": 1, "title": "Write tests", "priority": 2, "labels": ["bug"]}


def seed() -> None:
    """The starting state of every scenario (both sides)."""
    users = {}
    for pk, name in enumerate(("alice", "bob", "carol", "eve"), start=1):
        users[name] = get_user_model().objects.create_user(
            pk=pk, username=name, password="pw", is_active=name != "eve"
        )
        Token.objects.create(key=TOKENS[name], user=users[name])
    labels = {n: Label.objects.create(name=n) for n in ("bug", "feature", "ux")}
    projects = [
        Project(pk=1, name="Apollo", description="Moon tracker", owner=users["alice"]),
        Project(
            pk=2,
            name="Borealis",
            description="Private lights",
            owner=users["alice"],
            is_public=False,
        ),
        Project(pk=3, name="Cygnus", description="Swan songs", owner=users["bob"]),
        Project(pk=4, name="Draco", description="Dragon keeping", owner=users["bob"]),
        Project(
            pk=5, name="Eridanus", description="River, archived", owner=users["bob"], archived=True
        ),
    ]
    Project.objects.bulk_create(projects)
    tickets = [
        (1, 1, "Crash on save", "open", 1, "bob", ["bug"]),
        (2, 1, "Dark mode", "doing", 3, None, ["feature", "ux"]),
        (3, 1, "Docs", "done", 5, None, []),
        (4, 3, "Login page", "open", 2, "alice", ["ux"]),
        (5, 2, "Secret plan", "open", 1, None, []),
        (6, 5, "Old bug", "done", 4, None, ["bug"]),
    ]
    for pk, project, title, status, priority, assignee, names in tickets:
        ticket = Ticket.objects.create(
            pk=pk,
            project_id=project,
            title=title,
            status=status,
            priority=priority,
            assignee=users[assignee] if assignee else None,
        )
        ticket.labels.set([labels[n] for n in names])
    # Ids continue after the seeded ones on PostgreSQL too, on both sides of a comparison.
    reset_sequences()


S = Scenario

HAPPY_PATHS = [
    S("api_root_lists_the_router_routes", get("", 200), get("", 200, user="alice")),
    S(
        "project_list_is_paginated",
        get("projects/", 200),
        get("projects/?page=2", 200),
        get("projects/?page=3", 404),
        get("projects/?page=x", 404),
    ),
    S(
        "project_list_shows_private_projects_to_their_owner",
        get("projects/", 200, user="alice"),
        get("projects/?page=2", 200, user="alice"),
        get("projects/", 200, user="bob"),
    ),
    S(
        "project_list_filters_searches_and_orders",
        get("projects/?is_public=false", 200, user="alice"),
        get("projects/?archived=true", 200),
        get("projects/?search=dra", 200),
        get("projects/?search=river", 200),
        get("projects/?ordering=-name", 200),
        get("projects/?ordering=nope", 200),
        get("projects/?search=o&ordering=-id", 200),
        get("projects/?search=o&ordering=-id&page=2", 404),
    ),
    S(
        "project_retrieve",
        get("projects/1/", 200),
        get("projects/3/", 200, user="alice"),
        get("projects/2/", 200, user="alice"),
    ),
    S(
        "private_and_missing_projects_are_404",
        get("projects/2/", 404),
        get("projects/2/", 404, user="bob"),
        get("projects/999/", 404),
        get("projects/abc/", 404),
    ),
    S(
        "project_crud_as_owner",
        post("projects/", 201, NEW_PROJECT, user="alice"),
        get("projects/6/", 200),
        put("projects/6/", 200, {"name": "Orion II", "is_public": False}, user="alice"),
        get("projects/6/", 404),
        get("projects/6/", 200, user="alice"),
        patch("projects/6/", 200, {"description": "patched"}, user="alice"),
        delete("projects/6/", 204, user="alice"),
        get("projects/6/", 404, user="alice"),
    ),
    S(
        "project_create_with_a_session",
        post("projects/", 201, NEW_PROJECT, user="alice", session=True),
        get("projects/?search=orion", 200, user="alice", session=True),
    ),
    S(
        "archive_action_then_tickets_are_read_only",
        post("projects/1/archive/", 200, user="alice"),
        get("projects/?archived=true", 200),
        post("tickets/", 400, NEW_TICKET, user="alice"),
        patch("tickets/1/", 400, {"title": "late"}, user="alice"),
    ),
    S(
        "ticket_list_filters",
        get("tickets/", 200),
        get("tickets/?status=open", 200),
        get("tickets/?min_priority=3", 200),
        get("tickets/?label=bug", 200),
        get("tickets/?ordering=-priority", 200),
        get("tickets/?search=dark", 200),
        get("tickets/?project=3", 200),
        get("tickets/", 200, user="alice"),
        get("tickets/?status=nope", 400),
        get("tickets/?min_priority=high", 400),
    ),
    S(
        "ticket_crud_as_project_members",
        post("tickets/", 201, NEW_TICKET, user="alice"),
        get("tickets/7/", 200),
        patch("tickets/7/", 200, {"status": "doing", "labels": ["bug", "ux"]}, user="alice"),
        patch("tickets/1/", 200, {"status": "done"}, user="bob"),
        put(
            "tickets/4/",
            200,
            {"project": 3, "title": "Login", "priority": 1, "assignee": 1},
            user="alice",
        ),
        delete("tickets/7/", 204, user="alice"),
        get("tickets/7/", 404),
    ),
    S(
        "private_tickets_are_hidden",
        get("tickets/5/", 404),
        get("tickets/5/", 200, user="alice"),
        get("tickets/?project=2", 200),
        get("tickets/?project=2", 200, user="alice"),
    ),
    S(
        "project_stats",
        get("projects/1/stats/", 200),
        get("projects/3/stats/", 200, user="alice"),
        get("projects/2/stats/", 404),
        get("projects/2/stats/", 200, user="alice"),
    ),
    S(
        "function_views",
        get("health/", 200),
        get("echo/", 200),
        get("labels/", 200),
        get("whoami/", 200, user="bob"),
        get("whoami/", 200, user="bob", session=True),
    ),
    S(
        "echo_and_label_batch",
        post("echo/", 201, {"message": "hi", "repeat": 3}),
        post("echo/", 201, {"message": "x"}),
        post("labels/batch/", 201, {"names": ["docs", "perf"]}, user="carol"),
        get("labels/", 200),
    ),
    S(
        "head_and_options",
        head("projects/", 200),
        head("health/", 405),
        options("projects/", 200),
        options("projects/", 200, user="alice"),
        options("projects/1/", 200, user="alice"),
        options("tickets/", 200, user="bob"),
        options("echo/", 200),
        options("health/", 200),
    ),
]

VALIDATION_ERRORS = [
    S(
        "project_create_validation",
        post("projects/", 400, {}, user="alice"),
        post("projects/", 400, {"name": "Admin"}, user="alice"),
        post("projects/", 400, {"name": "Apollo"}, user="alice"),
        post("projects/", 400, {"name": "x" * 61}, user="alice"),
        post("projects/", 400, {"name": "Ok", "is_public": "maybe"}, user="alice"),
        post("projects/", 400, {"name": ""}, user="alice"),
        put("projects/1/", 400, {"description": "no name"}, user="alice"),
    ),
    S(
        "ticket_create_validation",
        post("tickets/", 400, {**NEW_TICKET, "priority": 9}, user="alice"),
        post("tickets/", 400, {**NEW_TICKET, "labels": ["nope"]}, user="alice"),
        post("tickets/", 400, {**NEW_TICKET, "project": 999}, user="alice"),
        post("tickets/", 400, {**NEW_TICKET, "status": "blocked"}, user="alice"),
        post("tickets/", 400, {**NEW_TICKET, "assignee": "bob"}, user="alice"),
        post("tickets/", 400, {"title": ""}, user="alice"),
        post("tickets/", 400, {**NEW_TICKET, "project": 5}, user="bob"),
        patch("tickets/1/", 400, {"priority": 0}, user="alice"),
    ),
    S(
        "echo_validation",
        post("echo/", 400, {}),
        post("echo/", 400, {"message": "hi", "repeat": 0}),
        post("echo/", 400, {"message": "x" * 51}),
        post("echo/", 400, {"message": ["a"]}),
        post("echo/", 400, {"message": "hi", "repeat": "many"}),
    ),
    S(
        "label_batch_is_all_or_nothing",
        post("labels/batch/", 400, {"names": []}, user="alice"),
        post("labels/batch/", 400, {"names": ["new", "bug"]}, user="carol"),
        get("labels/", 200),
        post("labels/batch/", 400, {"names": "bug"}, user="alice"),
    ),
]

AUTH_FAILURES = [
    S(
        "anonymous_writes_are_refused",
        post("projects/", 403, NEW_PROJECT),
        patch("projects/1/", 403, {"name": "x"}),
        delete("tickets/1/", 403),
        post("labels/batch/", 403, {"names": ["a"]}),
        get("whoami/", 403),
    ),
    S(
        "bad_tokens",
        get("whoami/", 403, headers={"Authorization": "Token " + "z" * 40}),
        get("projects/", 403, headers={"Authorization": "Token"}),
        get("projects/", 403, headers={"Authorization": "Token a b"}),
        get("health/", 403, headers={"Authorization": "Token " + "z" * 40}),
        get("whoami/", 403, user="eve"),
        post("echo/", 403, {"message": "x"}, user="eve"),
    ),
    S(
        "other_schemes_are_ignored",
        get("whoami/", 403, headers={"Authorization": "Basic YTpi"}),
        get("projects/", 200, headers={"Authorization": "Bearer abc"}),
    ),
    S(
        "session_writes_need_a_csrf_token",
        post("projects/", 403, NEW_PROJECT, user="alice", session=True, csrf=True),
        post("echo/", 403, {"message": "x"}, user="bob", session=True, csrf=True),
        get("whoami/", 200, user="alice", session=True, csrf=True),
        post("projects/", 201, NEW_PROJECT, user="alice", csrf=True),
    ),
]

PERMISSION_DENIALS = [
    S(
        "only_the_owner_changes_a_project",
        patch("projects/1/", 403, {"name": "Mine"}, user="bob"),
        delete("projects/1/", 403, user="bob"),
        put("projects/3/", 403, {"name": "Cyg"}, user="alice"),
        post("projects/3/archive/", 403, user="alice"),
        get("projects/1/", 200, user="bob"),
    ),
    S(
        "project_quota_queries_the_database",
        post("projects/", 403, NEW_PROJECT, user="bob"),
        post("projects/", 201, NEW_PROJECT, user="alice"),
        post("projects/", 403, {"name": "Pegasus"}, user="alice"),
    ),
    S(
        "permissions_run_in_declared_order",
        post("projects/", 403, NEW_PROJECT, headers=READONLY),
        post("projects/", 403, NEW_PROJECT, user="bob", headers=READONLY),
        patch("projects/1/", 403, {"name": "x"}, user="bob", headers=READONLY),
        patch("projects/1/", 200, {"name": "Apollo 11"}, user="alice"),
        post("tickets/", 403, NEW_TICKET, user="alice", headers=READONLY),
    ),
    S(
        "only_project_members_change_tickets",
        patch("tickets/2/", 403, {"status": "done"}, user="carol"),
        delete("tickets/1/", 403, user="carol"),
        patch("tickets/4/", 200, {"priority": 1}, user="alice"),
        delete("tickets/3/", 204, user="alice"),
    ),
]

_ANON_FLOOD = [get("health/", 200) for _ in range(30)]
THROTTLING = [
    S(
        "scoped_throttle_answers_429_with_retry_after",
        get("projects/1/stats/", 200),
        get("projects/1/stats/", 200),
        get("projects/1/stats/", 200),
        get("projects/1/stats/", 429, retry_after="60"),
        get("projects/1/stats/", 429, advance=30, retry_after="30"),
        get("projects/1/stats/", 200, advance=31),
    ),
    S(
        "throttle_wait_follows_the_oldest_request",
        get("projects/3/stats/", 200),
        get("projects/3/stats/", 200, advance=10),
        get("projects/3/stats/", 200, advance=10),
        get("projects/3/stats/", 429, advance=5, retry_after="35"),
        get("projects/3/stats/", 200, advance=36),
    ),
    S(
        "scoped_throttle_counts_per_user",
        post("labels/batch/", 201, {"names": ["a1"]}, user="alice"),
        post("labels/batch/", 400, {"names": []}, user="alice"),
        post("labels/batch/", 429, {"names": ["a2"]}, user="alice"),
        post("labels/batch/", 201, {"names": ["b1"]}, user="bob"),
        post("labels/batch/", 201, {"names": ["a2"]}, user="alice", advance=60),
    ),
    S(
        "anon_throttle_then_recovery",
        *_ANON_FLOOD,
        get("health/", 429),
        get("echo/", 429, advance=1),
        get("whoami/", 200, user="bob"),
        get("health/", 200, advance=60),
    ),
    S(
        "throttle_idents_follow_x_forwarded_for",
        *[get("projects/1/stats/", 200, headers={"X-Forwarded-For": "10.0.0.1"}) for _ in range(3)],
        get("projects/1/stats/", 429, headers={"X-Forwarded-For": "10.0.0.1"}),
        get("projects/1/stats/", 200, headers={"X-Forwarded-For": "10.0.0.2"}),
        get("projects/1/stats/", 200, headers={"X-Forwarded-For": "10.0.0.1, 10.0.0.9"}),
    ),
    S(
        "the_largest_wait_of_all_failing_throttles_wins",
        *[get("health/", 200, user="alice") for _ in range(57)],
        get("projects/1/stats/", 200, user="alice", advance=10),
        get("projects/1/stats/", 200, user="alice"),
        get("projects/1/stats/", 200, user="alice"),
        # stats waits 50 s, user 40 s: the largest wins. Then only the user throttle fails.
        get("projects/1/stats/", 429, user="alice", advance=10, retry_after="50"),
        get("health/", 429, user="alice", retry_after="40"),
        get("projects/1/stats/", 429, user="alice", advance=41, retry_after="9"),
        get("health/", 200, user="alice"),
        get("projects/1/stats/", 200, user="alice", advance=10),
    ),
    S(
        "throttled_error_renders_as_html",
        get("projects/1/stats/", 200, headers=HTML),
        get("projects/1/stats/", 200),
        get("projects/1/stats/", 200),
        get("projects/1/stats/", 429, headers=HTML),
    ),
]

MALFORMED_BODIES = [
    S(
        "malformed_json",
        post("echo/", 400, b'{"message": "hi"', content_type="application/json"),
        post("echo/", 400, b"\xff\xfe", content_type="application/json"),
        post("projects/", 400, b"{", user="alice"),
        patch("tickets/1/", 400, b"[", user="alice"),
    ),
    S(
        "unsupported_media_type",
        post("echo/", 415, b"message=hi", content_type="text/plain"),
        post("projects/", 415, b"<p/>", content_type="application/xml", user="alice"),
    ),
    S(
        "form_bodies_are_parsed",
        post(
            "echo/", 201, b"message=hi&repeat=2", content_type="application/x-www-form-urlencoded"
        ),
        post(
            "projects/",
            201,
            b"name=Lyra&is_public=false",
            content_type="application/x-www-form-urlencoded",
            user="alice",
        ),
    ),
    S(
        "wrong_shapes",
        post("echo/", 400, ["message"]),
        post("echo/", 400, "message"),
        post("echo/", 400, b"", content_type="application/json"),
        post("echo/", 400, None),
        post("tickets/", 400, [NEW_TICKET], user="alice"),
    ),
    *(
        [
            S(
                "bad_charset",
                post(
                    "echo/",
                    400,
                    b'{"message": "hi"}',
                    content_type="application/json; charset=bz2_codec",
                ),
                post(
                    "echo/",
                    201,
                    b'{"message": "hi"}',
                    content_type="application/json; charset=utf-8",
                ),
            )
        ]
        # The oracle's answer changed: DRF 3.16 raises OSError (a 500) on a bytes-to-bytes
        # charset, DRF 3.18 answers 400. daf_drf answers 400 on every version.
        if DRF_VERSION >= (3, 18)
        else []
    ),
]

UNKNOWN_METHODS = [
    S(
        "method_not_allowed_lists_allow",
        delete("health/", 405),
        put("echo/", 405),
        patch("tickets/", 405, {}, user="alice"),
        post("projects/1/", 405, {}, user="alice"),
        delete("projects/", 405, user="alice"),
        post("whoami/", 405, {}, user="bob"),
        get("labels/batch/", 405, user="alice"),
        post("projects/1/stats/", 405, user="bob"),
    ),
    S(
        "methods_outside_http_method_names",
        request("BREW", "health/", 405),
        request("TRACE", "projects/", 405, user="bob"),
        request("PROPFIND", "tickets/", 405, user="carol"),
        request("BREW", "projects/1/", 405, user="alice"),
    ),
    S(
        "method_checks_come_after_authentication_and_permissions",
        put("echo/", 403, {}, headers={"Authorization": "Token nope"}),
        post("whoami/", 403, {}),
        request("BREW", "projects/1/stats/", 403),
        request("TRACE", "projects/", 403),
        post("projects/1/stats/", 403),
    ),
]

CONTENT_NEGOTIATION = [
    S(
        "browsable_api_pages",
        get("", 200, headers=HTML),
        get("projects/", 200, headers=HTML),
        get("projects/1/", 200, headers=HTML),
        get("tickets/", 200, headers=HTML),
        get("tickets/1/", 200, headers=HTML),
        get("health/", 200, headers=HTML),
        get("projects/1/stats/", 200, headers=HTML),
    ),
    S(
        "browsable_api_pages_for_a_user",
        get("projects/", 200, headers=HTML, user="alice"),
        get("projects/1/", 200, headers=HTML, user="alice"),
        get("projects/3/", 200, headers=HTML, user="alice"),
        get("tickets/4/", 200, headers=HTML, user="alice"),
        get("echo/", 200, headers=HTML, user="alice"),
    ),
    S(
        "browsable_api_errors",
        get("projects/2/", 404, headers=HTML),
        get("whoami/", 403, headers=HTML),
        post("echo/", 400, {}, headers=HTML),
        delete("health/", 405, headers=HTML),
    ),
    S(
        "format_query_parameter",
        get("projects/?format=json", 200),
        get("projects/?format=api", 200),
        get("projects/?format=xml", 404),
        get("health/?format=api", 200),
    ),
    S(
        "accept_header_negotiation",
        get("health/", 200, headers={"Accept": "application/json"}),
        get("health/", 200, headers={"Accept": "application/json; indent=2"}),
        get("health/", 406, headers={"Accept": "application/xml"}),
        get("health/", 200, headers={"Accept": "text/html;q=0.5, application/json"}),
        get("health/", 200, headers={"Accept": "*/*"}),
        get("projects/", 406, headers={"Accept": "image/png"}),
        post("echo/", 406, {"message": "x"}, headers={"Accept": "text/csv"}),
    ),
]

GROUPS: dict[str, list[Scenario]] = {
    "happy_path": HAPPY_PATHS,
    "validation": VALIDATION_ERRORS,
    "authentication": AUTH_FAILURES,
    "permissions": PERMISSION_DENIALS,
    "throttling": THROTTLING,
    "malformed_body": MALFORMED_BODIES,
    "unknown_method": UNKNOWN_METHODS,
    "negotiation": CONTENT_NEGOTIATION,
}
