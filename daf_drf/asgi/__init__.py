"""
An opt-in ASGI entry that serves async endpoints without Django's per-request thread cost.

Django's stock `ASGIHandler` makes every request start a thread (and, since asgiref 3.12, a
second one to join it) only to run Django's own `request_started`/`request_finished` receivers
and `response.close()` through `sync_to_async`. For an async view that never touches sync code
those receivers have nothing to do on that fresh thread. This handler runs them on the event
loop whenever that is provably the same, and takes Django's stock path otherwise.

Usage, in the project's `asgi.py`:

    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")

    from daf_drf.asgi import get_asgi_application

    application = get_asgi_application()

See `docs/deployment.md` for when not to use it, the thread pool, and measurements.

The package's modules, each with one responsibility (dependencies point down the list):

- `_handler`: `ASGIHandler` and `get_asgi_application()`, the public names;
- `_checks`: the entry's system checks (W050, E051, E052, E053, W053) and the problems the
  handler refuses to start with;
- `_middleware`: runs Django's own middleware hooks on the loop where their rule holds, once
  it has checked the fingerprints of the code the rules were read from;
- `_middleware_rules`: the rule for each hook of Django's standard middleware;
- `_rules`: the rules that run Django's request signals and `response.close()` on the loop;
- `_handle`: copies of Django's `ASGIHandler.handle()`, one per shape;
- `_pool`: the bounded thread pool lent to requests that run sync code;
- `_guard`: the fingerprint guard, Django's code as the entry was written against it, and
  the one list of Django's request receivers.
"""

from daf_drf.asgi._checks import check_asgi as check_asgi
from daf_drf.asgi._handler import ASGIHandler, get_asgi_application

__all__ = ["ASGIHandler", "get_asgi_application"]
