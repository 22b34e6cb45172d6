"""
What the tests (and the benchmarks) share, written once.

- `processes`: a free loopback port, a process started and given a bounded time to listen,
  and stopped by its PID (or its process group) with bounded waits, also when a test fails;
- `redis`: a throwaway `redis-server`, a black-hole TCP server, a server's command counts;
- `hops`: thread hops (`sync_to_async` calls) counted while a block runs;
- `projects`: the settings of a project as `django-admin startproject` writes them.

Test modules import from here, never from each other. `processes` and `projects` import only
the standard library, so `bench/` (run from the same checkout) uses them too.
"""
