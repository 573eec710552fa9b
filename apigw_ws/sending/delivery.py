"""One recipient's delivery, the same for every transport: attempts, pauses and outcome.

``Delivery.deliver`` takes a request slot under the rate limit, makes an attempt, retries
what ``apigw_ws.sending.outcome`` says may be retried with the pauses of
``apigw_ws.sending.retry``, and records the outcome in the fan-out's ``Tally``. A
transport subclasses ``Delivery`` and supplies only its I/O: what it makes once per
endpoint (``_make``), where a recipient is reached (``_address``), one call
(``_attempt``) and a pause (``_sleep``).

``deliver`` is a coroutine so that the aiohttp transport awaits it on its event loop,
with no await beyond its own I/O. The boto3 transport's I/O blocks its thread instead:
its awaits never suspend, so ``run_blocking`` runs the same coroutine to its end on that
thread, without an event loop.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from .options import SendOptions
from .outcome import Retry
from .tally import Tally
from .types import Endpoint, Operation, Recipient


class Delivery:
    """One fan-out's deliveries of ``operation``, recorded in ``tally``."""

    sender: SendOptions
    operation: Operation
    tally: Tally

    def _make(self, endpoint: Endpoint) -> Any:
        """Return what calls to ``endpoint`` need (a client, a signer); ``Fail`` if none."""
        raise NotImplementedError

    def _address(self, endpoint: Endpoint, recipient: Recipient) -> str:
        """Return where ``_attempt`` reaches ``recipient`` (its URL, its connection id)."""
        raise NotImplementedError

    async def _attempt(self, made: Any, address: str) -> None:
        """Make one call; raise ``Gone``, ``Retry`` or ``Fail`` unless it succeeded."""
        raise NotImplementedError

    async def _sleep(self, seconds: float) -> None:
        raise NotImplementedError

    async def deliver(self, recipient: Recipient) -> None:
        """Deliver to ``recipient``, retrying as the outcome allows; record what happened."""
        sender, tally = self.sender, self.tally
        retried = 0
        try:
            endpoint = tally.endpoint_of(recipient)
            made = tally.prepared.get(endpoint)
            if made is None:
                made = tally.prepare(endpoint, self._make)
            address = self._address(endpoint, recipient)
            while True:
                pause = sender.slot_delay(endpoint)
                if pause:
                    await self._sleep(pause)
                try:
                    await self._attempt(made, address)
                    tally.answered(endpoint)
                    break
                except Retry as retry:
                    tally.retrying(endpoint, retry)
                    pause = sender.retry.pause(retry, retried)
                    retried += 1
                    await self._sleep(pause)
                    tally.check(endpoint)
        except Exception as exc:
            tally.settle(recipient, exc, retried)
        else:
            tally.sent(recipient, retried)


def run_blocking(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run ``coroutine``, whose awaits never suspend, to its end on this thread."""
    try:
        coroutine.send(None)
    except StopIteration:
        return
    coroutine.close()
    raise RuntimeError("a blocking delivery awaited something that suspends")
