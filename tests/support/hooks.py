"""Hooks that tests name by dotted path (in `DAF_DRF["INLINE_HOOKS"]`, for instance)."""

from __future__ import annotations

import threading
from typing import Any

from rest_framework import permissions


class IOPermission(permissions.BasePermission):
    def has_permission(self, request: Any, view: Any) -> bool:
        return True


def configured_hook(*args: Any) -> str:
    return threading.current_thread().name
