"""
The DRF side of the compat project: a small issue tracker written the way a DRF project is
written today (sync views, a `ModelViewSet` behind `DefaultRouter`, function views, custom sync
permissions, a custom exception handler). `compat/project/daf_app` is the same API migrated to
daf_drf; the models, serializers, permissions and exception handler are shared, as they are in
a real migration.
"""
