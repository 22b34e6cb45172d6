"""Tests mount their own views with `override_settings(ROOT_URLCONF=...)`."""

urlpatterns: list[object] = []
