"""
The public API: every public module of daf_drf, and the exact names its `__all__` exports.

A public module is one whose dotted path has no component starting with an underscore; each
has a page in docs/reference/ and an `__all__`. Adding, renaming or removing a public name is
a change of the public API: update `PUBLIC_API` here, the docs and the CHANGELOG with it.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path
from typing import TypeVar

import pytest

import daf_drf

DOCS = Path(__file__).resolve().parent.parent / "docs"

PUBLIC_API: dict[str, set[str]] = {
    "daf_drf": {
        "__version__",
    },
    "daf_drf.apps": {
        "DafDrfConfig",
    },
    "daf_drf.asgi": {
        "ASGIHandler",
        "get_asgi_application",
    },
    "daf_drf.authentication": {
        "BaseAuthentication",
        "BasicAuthentication",
        "CSRFCheck",
        "RemoteUserAuthentication",
        "SessionAuthentication",
        "TokenAuthentication",
        "clear_token_cache",
        "get_authorization_header",
    },
    "daf_drf.backends": {
        "CacheStore",
        "Decision",
        "History",
        "MemoryStore",
        "REDIS_SCHEMES",
        "Store",
        "StoreUnavailable",
        "get_store",
        "validate_store_url",
    },
    "daf_drf.backends.base": {
        "Check",
        "Decision",
        "History",
        "OutageLog",
        "Store",
        "StoreUnavailable",
    },
    "daf_drf.backends.cache": {
        "CacheStore",
        "is_in_process",
    },
    "daf_drf.backends.memory": {
        "MemoryStore",
    },
    "daf_drf.backends.redis": {
        "RedisStore",
        "UnexpectedReply",
    },
    "daf_drf.checks": {
        "CHECKS",
        "CheckId",
        "check_async_exception_handler",
        "check_exception_handler",
        "check_settings",
        "register_checks",
    },
    "daf_drf.checks.generics": {
        "check_async_get_queryset",
        "sync_get_queryset_callers",
    },
    "daf_drf.checks.permissions": {
        "check_async_hooks_on_drf_views",
        "is_async_authenticator",
        "is_async_permission",
        "is_coroutine_function",
    },
    "daf_drf.checks.registry": {
        "CHECKS",
        "CheckId",
        "URL_CHECKS",
        "check_functions",
        "register_checks",
    },
    "daf_drf.checks.settings": {
        "check_async_exception_handler",
        "check_exception_handler",
        "check_settings",
    },
    "daf_drf.checks.tasks": {
        "check_fire_and_forget_limit",
        "check_task_backends",
        "check_task_status_url",
    },
    "daf_drf.checks.throttling": {
        "check_async_throttles_on_drf_views",
        "check_throttle_rates",
        "check_throttle_settings",
        "check_throttle_store_atomicity",
    },
    "daf_drf.checks.transaction": {
        "check_atomic_requests",
    },
    "daf_drf.checks.urls": {
        "RoutedView",
        "routed_views",
        "routes",
    },
    "daf_drf.decorators": {
        "ApiViewMisuse",
        "action",
        "api_view",
        "authentication_classes",
        "content_negotiation_class",
        "metadata_class",
        "parser_classes",
        "permission_classes",
        "renderer_classes",
        "schema",
        "throttle_classes",
        "throttle_scope",
        "versioning_class",
    },
    "daf_drf.exceptions": {
        "APIException",
        "AuthenticationFailed",
        "ErrorDetail",
        "MethodNotAllowed",
        "NotAcceptable",
        "NotAuthenticated",
        "NotFound",
        "ParseError",
        "PayloadTooLarge",
        "PermissionDenied",
        "Throttled",
        "UnsupportedMediaType",
        "UserNotLoaded",
        "ValidationError",
        "bad_request",
        "exception_handler",
        "problem_details_handler",
        "server_error",
    },
    "daf_drf.generics": {
        "CreateAPIView",
        "DestroyAPIView",
        "GenericAPIView",
        "ListAPIView",
        "ListCreateAPIView",
        "RetrieveAPIView",
        "RetrieveDestroyAPIView",
        "RetrieveUpdateAPIView",
        "RetrieveUpdateDestroyAPIView",
        "UpdateAPIView",
        "get_object_or_404",
    },
    "daf_drf.generics_checks": set(),
    "daf_drf.hooks": {
        "HookNotAwaitable",
        "answers_sync_callers",
        "call_hook",
        "has_inline_safe_mark",
        "inline_safe",
        "is_async_hook",
        "is_inline_safe",
        "is_noop",
        "on_event_loop",
        "overrides",
        "project_override",
        "pure_renderers",
        "register_inline_safe",
        "resolve_sync",
    },
    "daf_drf.mixins": {
        "CreateModelMixin",
        "DestroyModelMixin",
        "ListModelMixin",
        "RetrieveModelMixin",
        "UpdateModelMixin",
        "awrite",
    },
    "daf_drf.permission_checks": set(),
    "daf_drf.permissions": {
        "AND",
        "AllowAny",
        "BasePermission",
        "DjangoModelPermissions",
        "DjangoModelPermissionsOrAnonReadOnly",
        "DjangoObjectPermissions",
        "IsAdminUser",
        "IsAuthenticated",
        "IsAuthenticatedOrReadOnly",
        "NOT",
        "OR",
        "OperandHolder",
        "SAFE_METHODS",
        "SingleOperandHolder",
        "ahas_object_permission",
        "ahas_permission",
        "has_object_permission",
        "has_permission",
        "inline_safe",
    },
    "daf_drf.request": {
        "Request",
    },
    "daf_drf.response": {
        "LoopRenderedResponse",
        "PURE_RENDERERS",
        "is_pure_renderer",
        "render_on_loop",
    },
    "daf_drf.serializers": {
        "AsyncSerializerMixin",
        "adata",
        "ais_valid",
        "asave",
        "data_in_thread",
        "find_awaitables",
        "may_hold_awaitables",
        "native_async_method",
        "resolve_awaitables",
        "resolve_data_sync",
    },
    "daf_drf.settings": {
        "DEFAULTS",
        "DafSettings",
        "IMPORT_STRINGS",
        "daf_settings",
    },
    "daf_drf.shortcuts": {
        "aget_list_or_404",
        "aget_object_or_404",
        "get_object_or_404",
    },
    "daf_drf.tasks": {
        "Task",
        "TaskArgumentError",
        "TaskNotQueued",
        "TaskResult",
        "TaskResultStatus",
        "TaskStatusView",
        "TaskStoreUnavailable",
        "aenqueue",
        "default_task_backend",
        "enqueue_response",
        "fire_and_forget",
        "make_status_token",
        "read_status_token",
        "task",
        "task_backends",
        "task_result_data",
        "task_status_urlpatterns",
        "uses_native_aenqueue",
    },
    "daf_drf.test": {
        "APIClient",
        "APILiveServerTestCase",
        "APIRequestFactory",
        "APISimpleTestCase",
        "APITestCase",
        "APITransactionTestCase",
        "AsyncAPIClient",
        "AsyncAPIRequestFactory",
        "ForceAuthAsyncClientHandler",
        "RequestsClient",
        "URLPatternsTestCase",
        "asgi_header_name",
        "force_authenticate",
    },
    "daf_drf.throttling": {
        "AnonRateThrottle",
        "BaseThrottle",
        "RateLimitHeadersMiddleware",
        "ScopedRateThrottle",
        "SimpleRateThrottle",
        "UserRateThrottle",
        "aallow_together",
        "parse_rate",
        "rate_problem",
    },
    "daf_drf.throttling_checks": set(),
    "daf_drf.throttling_headers": {
        "ATTRIBUTE",
        "CheckedThrottle",
        "RateLimitHeadersMiddleware",
        "add_headers",
        "record_ratelimit",
    },
    "daf_drf.throttling_rates": {
        "parse_rate",
        "rate_problem",
    },
    "daf_drf.transaction": {
        "atomic",
        "check_atomic_requests",
        "mark_non_atomic",
        "request_atomic",
    },
    "daf_drf.views": {
        "APIView",
        "check_async_handlers",
        "dual_mode_view",
        "exception_handler",
        "get_view_description",
        "get_view_name",
        "set_rollback",
    },
    "daf_drf.viewsets": {
        "GenericViewSet",
        "ModelViewSet",
        "ReadOnlyModelViewSet",
        "ViewSet",
        "ViewSetMixin",
        "check_async_actions",
    },
}


def public_modules() -> list[str]:
    """The dotted paths of daf_drf's modules that have no underscored component."""
    found = ["daf_drf"]
    for info in pkgutil.walk_packages(daf_drf.__path__, prefix="daf_drf."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            found.append(info.name)
    return sorted(found)


def test_every_public_module_is_pinned() -> None:
    assert public_modules() == sorted(PUBLIC_API)


@pytest.mark.parametrize("name", sorted(PUBLIC_API))
def test_public_module_exports_exactly_the_pinned_names(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert len(exported) == len(set(exported)), f"{name}.__all__ repeats a name"
    assert set(exported) == PUBLIC_API[name]


@pytest.mark.parametrize("name", sorted(PUBLIC_API))
def test_every_exported_name_is_importable(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from {name} import *", namespace)
    missing = PUBLIC_API[name] - set(namespace)
    assert not missing, f"`from {name} import *` does not give {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(PUBLIC_API))
def test_public_classes_and_functions_defined_in_a_module_are_exported(name: str) -> None:
    # A class or function without a leading underscore is public: it must be in `__all__`
    # (the reference pages render `__all__`), or be renamed with an underscore.
    module = importlib.import_module(name)
    defined = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith("_")
        and getattr(value, "__module__", None) == name
        and not isinstance(value, TypeVar)
        and (isinstance(value, type) or callable(value))
    }
    assert defined <= set(module.__all__), sorted(defined - set(module.__all__))


@pytest.mark.parametrize("name", sorted(set(PUBLIC_API) - {"daf_drf"}))
def test_every_public_module_has_a_reference_page(name: str) -> None:
    pages = "\n".join(page.read_text() for page in (DOCS / "reference").glob("*.md"))
    assert re.search(rf"^::: {re.escape(name)}$", pages, re.M), f"no docs/reference page: {name}"
