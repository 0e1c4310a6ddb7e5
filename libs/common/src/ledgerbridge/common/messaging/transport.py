"""Moving message envelopes over Redis. arq is behind this small seam so it could be swapped."""

from __future__ import annotations

import json
from typing import Any, Protocol

from arq.connections import ArqRedis
from redis.asyncio import ConnectionPool

from ledgerbridge.common.messaging.queues import queue_key

JOB_FUNCTION = "handle_message"


def serialize_job(job: dict[str, Any]) -> bytes:
    # JSON, never pickle: a message must be readable by any version of any service.
    return json.dumps(job, separators=(",", ":")).encode()


def deserialize_job(raw: bytes) -> dict[str, Any]:
    decoded: dict[str, Any] = json.loads(raw)
    return decoded


class Transport(Protocol):
    async def send(self, queue: str, job_id: str, envelope: dict[str, Any]) -> bool:
        """Put an envelope on ``queue``; False when a job with that id is still there (nothing to do)."""

    async def depth(self, queue: str) -> int: ...


class ArqTransport:
    def __init__(self, redis: ArqRedis, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    @classmethod
    async def connect(cls, redis_url: str, prefix: str) -> ArqTransport:
        # Connections are made on first use: a process must start (and report itself unready) while
        # Redis is down, rather than block in arq's connect-and-retry loop.
        pool = ConnectionPool.from_url(redis_url, socket_connect_timeout=5, health_check_interval=30)
        return cls(ArqRedis(pool, job_serializer=serialize_job, job_deserializer=deserialize_job), prefix)

    async def send(self, queue: str, job_id: str, envelope: dict[str, Any]) -> bool:
        job = await self.redis.enqueue_job(
            JOB_FUNCTION,
            envelope,
            _job_id=f"{self.prefix}:{job_id}",
            _queue_name=queue_key(self.prefix, queue),
        )
        return job is not None

    async def depth(self, queue: str) -> int:
        count: int = await self.redis.zcard(queue_key(self.prefix, queue))
        return count

    async def close(self) -> None:
        await self.redis.aclose()
