"""Sending one claimed batch through its kind's spec, and deciding every document in it.

Whatever Xero answers, each document of the batch ends up decided: published, failed, or (after an
unknown outcome and not found in Xero) pending again. A pause or a blip gives the batch back untouched.
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from ledgerbridge.common.clients.xero import OrganisationParkedError, UnknownOutcomeError
from ledgerbridge.common.messaging.errors import PermanentError, TransientError
from ledgerbridge.publisher.claimed import Claimed, Decided, Outcome, PartialSend
from ledgerbridge.publisher.claims import release
from ledgerbridge.publisher.kinds import SPECS, Destination, KindSpec
from ledgerbridge.publisher.recording import record_outcomes

log = structlog.get_logger(__name__)


async def send_batch(destination: Destination, spec: KindSpec, batch: list[Claimed]) -> int:
    """Send ``batch`` and record its outcomes; returns how many documents were decided."""
    try:
        decided = await spec.send(destination, batch)
    except PartialSend as partial:
        # Changes sent one by one: those answered before the error are settled, so a fault on the
        # tenth does not send the first nine again.
        await record_outcomes(destination.sessions, partial.decided)
        rest = [d for d in batch if d.id not in partial.decided]
        return len(partial.decided) + await _after(destination, spec, rest, partial.error)
    except (UnknownOutcomeError, OrganisationParkedError, TransientError, PermanentError) as error:
        return await _after(destination, spec, batch, error)
    await record_outcomes(destination.sessions, decided)
    return len(decided)


async def _after(destination: Destination, spec: KindSpec, batch: list[Claimed], error: Exception) -> int:
    """Decide a batch whose send raised ``error``."""
    if isinstance(error, UnknownOutcomeError):
        # The create may have happened (5xx, timeout, dropped connection): look before sending again.
        log.warning("publish.unknown_outcome", kind=str(spec.kind), count=len(batch), error=str(error))
        decided = await look_up(destination, batch)
    elif isinstance(error, OrganisationParkedError | TransientError):
        # Nothing was created: the batch goes back to pending and the run ends or retries later.
        await release(destination.sessions, batch)
        raise error
    else:
        decided = {d.id: Outcome(False, error=str(error)) for d in batch}
    await record_outcomes(destination.sessions, decided)
    return len(decided)


async def look_up(destination: Destination, documents: Sequence[Claimed]) -> Decided:
    """Find documents whose create may have happened; those not found go back to pending."""
    decided: Decided = {}
    for kind in {d.kind for d in documents}:
        group = [d for d in documents if d.kind is kind]
        found = await SPECS[kind].find(destination, group)
        for document in group:
            decided[document.id] = found.get(document.id) or Outcome(False)
    return decided
