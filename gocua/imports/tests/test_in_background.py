"""background.in_background: an iterator run in a forked process, its items decoded in a thread."""

import os
import signal
import threading
import time

import pytest

from gocua.imports.background import in_background


def receivers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "gocua-receive"]


def test_it_yields_every_item_in_order_decoded_here():
    items = in_background(iter(range(50)), encode=lambda n: str(n).encode(), decode=int)
    assert list(items) == list(range(50))
    assert not receivers()


def test_an_error_in_the_child_is_raised_here():
    def failing():
        yield 1
        raise ValueError("line 7: broken")

    with pytest.raises(ValueError, match="line 7: broken"):
        list(in_background(failing()))


def test_a_consumer_that_stops_early_ends_the_child_and_the_thread():
    items = in_background(iter(range(1000)))
    assert next(items) == 0
    items.close()
    assert not receivers()


def test_a_child_killed_without_a_word_is_reported_not_waited_for():
    def slow():
        yield os.getpid()
        time.sleep(60)
        yield "never"

    items = in_background(slow())
    child = next(items)
    os.kill(child, signal.SIGKILL)
    with pytest.raises(RuntimeError, match="parsing process ended unexpectedly"):
        next(items)
