"""
The compat project's API migrated to daf_drf, endpoint by endpoint.

Each view keeps its DRF twin's name, docstring, serializer, permissions and URL; what changed
is the import (`daf_drf.views`, `daf_drf.generics`, `daf_drf.viewsets`, `daf_drf.decorators`)
and `async def` handlers that use the async ORM. `urls.py` serves the fully migrated API;
`compat/project/mixed_urls.py` an intermediate state.
"""
