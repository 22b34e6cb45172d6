"""
A task backend whose `aenqueue` is natively async (no thread hop), for the thread-hop test.

Results live in a process-wide dict, so every request of the test process can read them.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from daf_drf._tasks_compat import (
    RESULT_DOES_NOT_EXIST,
    BaseTaskBackend,
    TaskResult,
    TaskResultStatus,
)


class AsyncMemoryBackend(BaseTaskBackend):
    supports_native_aenqueue = True
    supports_get_result = True
    supports_async_task = True

    results: ClassVar[dict[str, Any]] = {}

    def enqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        self.validate_task(task)
        result = TaskResult(
            task=task,
            id=uuid.uuid4().hex,
            status=TaskResultStatus.READY,
            enqueued_at=None,
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=list(args),
            kwargs=dict(kwargs),
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        self.results[result.id] = result
        return result

    async def aenqueue(self, task: Any, args: Any, kwargs: Any) -> Any:
        return self.enqueue(task, args, kwargs)

    def get_result(self, result_id: str) -> Any:
        try:
            return self.results[result_id]
        except KeyError:
            raise RESULT_DOES_NOT_EXIST[0](result_id) from None

    async def aget_result(self, result_id: str) -> Any:
        return self.get_result(result_id)
