"""Tests for colorlib.stages: items come out in order, errors where the items are taken, and no thread is left."""
import threading
import time

import pytest

from colorlib.stages import ahead, behind


def named(name):
    return [t for t in threading.enumerate() if t.name == name]


def test_ahead_gives_every_item_in_order_from_its_thread():
    seen = []

    def items():
        for i in range(10):
            seen.append(threading.current_thread().name)
            yield i
    assert list(ahead(items(), size=2, name='test-ahead')) == list(range(10))
    assert set(seen) == {'test-ahead'} and not named('test-ahead')


def test_ahead_raises_its_error_after_the_items_before_it():
    def items():
        yield 1
        yield 2
        raise ValueError('broken at 3')
    got = ahead(items(), name='test-ahead')
    assert next(got) == 1 and next(got) == 2
    with pytest.raises(ValueError, match='broken at 3'):
        next(got)
    assert not named('test-ahead')


def test_closing_ahead_early_stops_its_thread():
    def endless():
        while True:
            yield 0
    got = ahead(endless(), size=2, name='test-ahead')
    next(got)
    assert named('test-ahead')
    got.close()
    assert not named('test-ahead')


def test_behind_hands_items_to_its_thread_and_raises_its_error():
    taken = []
    with behind(lambda items: taken.extend(items)) as send:
        for i in range(5):
            send(i)
    assert taken == list(range(5))

    def fails(items):
        next(items)
        raise OSError('disk full')
    with pytest.raises(OSError, match='disk full'):
        with behind(fails, size=1) as send:
            for i in range(100):
                send(i)
                time.sleep(0.001)
