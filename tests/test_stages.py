"""Tests for colorlib.stages: items come out in order, errors where the items are taken, and no thread is left."""
import threading
import time

import pytest

from colorlib.stages import ahead, behind, in_order


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


def test_in_order_gives_results_in_the_items_order_from_several_threads():
    def slow_square(i):
        time.sleep(0.02 * (i % 3 == 0))  # some finish after those behind them
        return i * i, threading.current_thread().name
    results = list(in_order(slow_square, range(12), workers=3, name='test-in-order'))
    assert [r for r, _ in results] == [i * i for i in range(12)]
    assert len({name for _, name in results}) > 1 and all(name.startswith('test-in-order') for _, name in results)
    assert not [t for t in threading.enumerate() if t.name.startswith('test-in-order')]


def test_in_order_takes_at_most_workers_plus_one_items_ahead():
    taken = []

    def items():
        for i in range(100):
            taken.append(i)
            yield i
    got = in_order(lambda i: i, items(), workers=2, name='test-in-order')
    assert next(got) == 0 and len(taken) == 3
    assert next(got) == 1 and len(taken) == 4
    got.close()


def test_in_order_raises_errors_in_their_place():
    def fails_at_3(i):
        if i == 3:
            raise ValueError('3 is bad')
        return i
    got = in_order(fails_at_3, range(10), workers=2, name='test-in-order')
    assert [next(got) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(ValueError, match='3 is bad'):
        next(got)

    def items():  # the items themselves fail: the results before come first
        yield from range(4)
        raise OSError('the decoder stopped')
    got = in_order(lambda i: i, items(), workers=3, name='test-in-order')
    assert [next(got) for _ in range(4)] == [0, 1, 2, 3]
    with pytest.raises(OSError, match='the decoder stopped'):
        next(got)
    assert not [t for t in threading.enumerate() if t.name.startswith('test-in-order')]


def test_closing_in_order_early_cancels_the_rest_and_leaves_no_thread():
    done = []

    def work(i):
        time.sleep(0.01)
        done.append(i)
        return i
    got = in_order(work, iter(int, 1), workers=2, name='test-in-order')  # endless zeros
    next(got)
    got.close()
    count = len(done)
    time.sleep(0.05)
    assert len(done) == count <= 3
    assert not [t for t in threading.enumerate() if t.name.startswith('test-in-order')]
