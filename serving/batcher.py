"""Cross-request batching: requests that arrive together and decode alike are merged into one decoder batch.

Decoding is CPU-bound numpy and onnxruntime work, so it runs on one worker thread, off the event loop, which goes
on reading requests meanwhile; `Runtime.decode` already spreads a large batch over every core. While
the worker decodes one batch, the next gathers: under load batches fill up by themselves, and `max_wait_ms` is
only what a lone request may wait for company.
"""
import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress


def split(results, item_lists):
    """One batch's results handed back: per request (its list of items), its own results and the batch's size."""
    size, start, answers = sum(len(items) for items in item_lists), 0, []
    for items in item_lists:
        answers.append((results[start : start + len(items)], size))
        start += len(items)
    return answers


class Batcher:
    """`await submit(key, items, run)` gives `(results, batch_items)`: `run(items)` returns one result per item, and
    requests of equal `key` (same model, route and options) are run as one list, at most `max_batch` items unless a
    single request holds more. A request of key None is never merged, so it waits for nothing but the worker.
    `merging=False` runs every request alone, for measuring what merging gives."""

    def __init__(self, max_batch=64, max_wait_ms=5.0, merging=True):
        self.max_batch, self.max_wait, self.merging = max_batch, max_wait_ms / 1000, merging
        self.waiting = []  # [key, items, run, future, arrival], oldest first
        self.worker = ThreadPoolExecutor(1, thread_name_prefix="decoder")
        self.arrived = None

    async def submit(self, key, items, run):
        future = asyncio.get_running_loop().create_future()
        self.waiting.append((key, items, run, future, time.monotonic()))
        self.arrived.set()
        return await future  # a caller that gives up (timeout, closed connection) cancels it: the batch skips it

    @asynccontextmanager
    async def running(self, app=None):
        """Batches while the context is open (an ASGI lifespan); on exit, the batch being decoded finishes first."""
        self.arrived = asyncio.Event()
        task = asyncio.create_task(self.serve())
        try:
            yield
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
            self.worker.shutdown(wait=True)

    def companions(self, first):
        """The waiting requests that may share `first`'s batch, oldest first, `first` among them."""
        if first[0] is None or not self.merging:
            return [first]
        return [entry for entry in self.waiting if entry[0] == first[0] and not entry[3].done()]

    async def gather(self, first):
        """Waits until `first`'s batch is full, or `first` has waited `max_wait` since it arrived."""
        key, _, _, future, arrival = first
        while key is not None and self.merging and not future.done():
            left = arrival + self.max_wait - time.monotonic()
            if left <= 0 or sum(len(entry[1]) for entry in self.companions(first)) >= self.max_batch:
                return
            self.arrived.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), left)

    async def serve(self):
        loop = asyncio.get_running_loop()
        while True:
            self.waiting = [entry for entry in self.waiting if not entry[3].done()]
            if not self.waiting:
                self.arrived.clear()
                await self.arrived.wait()
                continue
            first = self.waiting[0]
            await self.gather(first)
            batch, size = [], 0
            for entry in self.companions(first):
                if not entry[3].done() and (not batch or size + len(entry[1]) <= self.max_batch):
                    batch.append(entry)
                    size += len(entry[1])
            taken = {id(entry) for entry in batch}
            self.waiting = [entry for entry in self.waiting if id(entry) not in taken]
            if not batch:
                continue
            run = first[2]
            try:
                results = await loop.run_in_executor(self.worker, run, [item for entry in batch for item in entry[1]])
            except Exception as error:  # every request of the batch gets it; the handler makes it one line
                for entry in batch:
                    if not entry[3].done():
                        entry[3].set_exception(error)
                continue
            for entry, answer in zip(batch, split(results, [entry[1] for entry in batch])):
                if not entry[3].done():
                    entry[3].set_result(answer)
