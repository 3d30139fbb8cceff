"""The parsing process: an import's rows parsed in a forked child while this process writes."""

import ctypes
import multiprocessing
import queue
import signal
import threading
from collections.abc import Callable, Iterator

POLL_SECONDS = 0.1  # how often the receiving thread looks whether the consumer has stopped


def _die_with_parent() -> None:
    """Linux: the parsing process is killed when the importing one dies, however it dies (a
    worker killed with SIGKILL cannot stop its children; they would linger, blocked on a queue
    nobody reads)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # another system: the orphan ends when its queue breaks
        pass


def in_background(
    items: Iterator,
    *,
    depth: int = 2,
    encode: Callable[[object], bytes] | None = None,
    decode: Callable[[bytes], object] | None = None,
) -> Iterator:
    """Run an iterator in a forked child process and yield its items here.

    Parsing and validating rows is pure Python; writing them waits on the database. Two cores
    let the two overlap. The child never touches the database connection it inherits, and the
    bounded queues keep at most `depth` + 1 items in flight, so memory stays flat.

    The items are received and decoded by a thread of this process: the writer spends most of
    its time waiting on the database, without the GIL, so decoding the next chunk then is free
    (a tenth of the writer's work on the critical path of an import)."""
    context = multiprocessing.get_context("fork")
    pipe = context.Queue(maxsize=depth)
    received: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    child = context.Process(target=_produce, args=(items, pipe, encode), daemon=True)
    child.start()
    receiver = threading.Thread(
        target=_receive,
        args=(pipe, received, stop, child, decode),
        name="gocua-receive",
        daemon=True,
    )
    receiver.start()
    try:
        while True:
            kind, payload = received.get()
            if kind == "item":
                yield payload
            elif kind == "error":
                raise payload
            else:
                break
    finally:
        stop.set()
        receiver.join(timeout=5)
        if child.is_alive():
            child.terminate()
        child.join(timeout=5)
        pipe.close()


def _produce(items: Iterator, pipe, encode: Callable[[object], bytes] | None) -> None:
    """The child: each item (encoded) into the pipe, then "done", or the error that stopped it."""
    _die_with_parent()
    try:
        for item in items:
            pipe.put(("item", encode(item) if encode else item))
        pipe.put(("done", None))
    except BaseException as exc:  # noqa: BLE001 - handed to the parent, which re-raises
        pipe.put(("error", exc))


def _receive(
    pipe,
    received: queue.Queue,
    stop: threading.Event,
    child,
    decode: Callable[[bytes], object] | None,
) -> None:
    """The receiving thread: each message from the child, decoded, handed to the consumer
    until the last one or until the consumer stops."""
    kind = "item"
    while kind == "item" and not stop.is_set():
        try:
            kind, payload = pipe.get(timeout=POLL_SECONDS)
            if kind == "item" and decode:
                payload = decode(payload)
        except queue.Empty:
            if child.is_alive():
                continue
            # Killed (the OOM killer, a signal) without a word: say so, do not wait forever.
            kind, payload = (
                "error",
                RuntimeError(
                    f"the parsing process ended unexpectedly (exit code {child.exitcode})"
                ),
            )
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which re-raises
            kind, payload = "error", exc
        while not stop.is_set():
            try:
                received.put((kind, payload), timeout=POLL_SECONDS)
                break
            except queue.Full:
                continue
