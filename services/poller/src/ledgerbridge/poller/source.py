"""What the poller needs from ONTRAPORT, as a protocol: the client is an adapter at the edge."""

from __future__ import annotations

from typing import Any, Protocol


class TransactionSource(Protocol):
    async def transactions_after_or_in(self, mark: int, ids: list[int], limit: int) -> list[dict[str, Any]]:
        """Transactions with id above ``mark`` or in ``ids``, ascending by id, at most ``limit`` (≤ 50).

        One request: an idle poll costs exactly one call while still re-reading a slice of older records.
        """
        ...

    async def contacts(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        """Raw contact records by id (one request per 50)."""
        ...

    async def purchases(self, transaction_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        """Raw Purchase objects (17) by transaction id, every id present (one request per 50 purchases)."""
        ...

    async def latest_transaction_id(self) -> int | None: ...

    async def count_between(self, since: int | None, until: int | None) -> int:
        """How many transactions are dated within [since, until] (unix seconds; None = open)."""
        ...

    async def transactions_between(
        self, after_id: int, since: int | None, until: int | None, limit: int
    ) -> list[dict[str, Any]]:
        """Transactions dated within [since, until] with id above ``after_id``, ascending, at most ``limit``."""
        ...

    async def nth_latest_id(self, n: int) -> int | None:
        """The id of the n-th most recent transaction (1 = the latest), or None when there are fewer."""
        ...
