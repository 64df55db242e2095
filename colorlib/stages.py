"""Stages of a pipeline in threads, a few items between them: a film decodes, colours and encodes at once, and the
network colours several frames at once, ahead of the steadying. Errors come out where the items are taken."""
import collections
import concurrent.futures
import contextlib
import queue
import threading

IN_FLIGHT = 3  # frames each queue between two stages holds


def put(q, item, stop):
    """q.put(item), giving up (False) once `stop` is set, so that no thread waits for ever on a queue nobody reads."""
    while not stop.is_set():
        try:
            q.put(item, timeout=0.1)
            return True
        except queue.Full:
            continue
    return False


END = object()


def ahead(items, size=IN_FLIGHT, name='colorlib-decode'):
    """Iterate `items` in a thread named `name`, up to `size` items ahead of the caller (decoding overlaps
    colouring). Its error is raised here, in order; closing this generator stops the thread."""
    q, stop = queue.Queue(size), threading.Event()

    def work():
        try:
            for item in items:
                if not put(q, item, stop):
                    return
            put(q, (END, None), stop)
        except BaseException as err:  # to the consumer, which raises it
            put(q, (END, err), stop)
    thread = threading.Thread(target=work, name=name, daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if isinstance(item, tuple) and item and item[0] is END:
                if item[1] is not None:
                    raise item[1]
                return
            yield item
    finally:
        stop.set()
        thread.join()


def in_order(function, items, workers, name):
    """function(item) for each of `items`, in their order, `workers` at a time in threads named `name` (the network
    on several frames at once): at most workers + 1 items are taken and not yet given back. `items` is iterated
    here. An error, of function or of items, is raised in its place, after the results before it; closing this
    generator cancels the work not started and waits for the work started."""
    pool = concurrent.futures.ThreadPoolExecutor(workers, thread_name_prefix=name)
    pending, items = collections.deque(), iter(items)
    try:
        while True:
            try:
                item = next(items)
            except StopIteration:
                break
            except Exception:
                while pending:  # the results before the error first
                    yield pending.popleft().result()
                raise
            pending.append(pool.submit(function, item))
            if len(pending) > workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def behind(consume, size=IN_FLIGHT):
    """A function send(item) that hands items to consume(items), which runs in a thread (encoding overlaps
    colouring). Leaving the block ends the items; consume's error is raised in send or on leaving."""
    q, stop, errors = queue.Queue(size), threading.Event(), []

    def items():
        while True:
            try:
                item = q.get(timeout=0.1)
            except queue.Empty:
                if stop.is_set():
                    return
                continue
            if item is END:
                return
            yield item

    def work():
        try:
            consume(items())
        except BaseException as err:
            errors.append(err)
            stop.set()
    thread = threading.Thread(target=work, name='colorlib-encode', daemon=True)
    thread.start()

    def send(item):
        if not put(q, item, stop):
            raise errors[0] if errors else RuntimeError('the encoder stopped')
    try:
        yield send
        put(q, END, stop)
        thread.join()
    finally:
        stop.set()  # on an error or an interruption: the encoder drops what is queued and ends
        thread.join()
    if errors:
        raise errors[0]
