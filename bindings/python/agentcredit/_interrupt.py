"""Long library calls that Ctrl-C can stop.

CPython runs signal handlers on the main thread only, and only between
bytecodes: while the main thread is inside a C call (a run with a ``Game``
oracle: the library's own loop, no Python in it) a SIGINT just sets a flag,
and KeyboardInterrupt comes when the call has returned, however long that
takes, and then throws the result away.

So a long call made on the main thread runs on a worker thread instead (the
GIL stays released for the C code) while the main thread waits in an
interruptible wait. The Python callbacks that the call makes are handed back
to the main thread and run there: they still run on the thread that made
the call (thread-locals, context variables, re-entering the handle, and an
interrupt landing inside a callback all behave as before). When a signal
handler raises during the wait (KeyboardInterrupt, or what a handler of
another signal raises), the handle is cancelled (``ac_*_cancel`` is
thread-safe), the wait goes on until the C call has returned, and then the
handler's exception is raised. A call that nothing can cancel
(``Game.exact``, ``shapley_exact``) is abandoned instead: the exception is
raised at once and the worker finishes the call alone; what the call uses
stays referenced, and a handle's next call waits for it (``Guard``).

Calls from other threads are made directly: no signal handler runs there.

A handler's exception can come at any call, function entry or backward
jump of the waiting thread (where CPython looks for pending signals), so
the wait is written to lose neither a message nor the call to one: the job
is posted and its guard set with no such point in between, a message is
peeked at and dropped only once handled (handling it twice is harmless),
and an exception inside the loop re-enters it. What is left is the outer
loop's own backward jump, a window of a few instructions.
"""

import collections
import os
import queue
import threading

#: The main thread's wait wakes up this often (seconds) even without news:
#: lock waits are interruptible on POSIX; this is the fallback.
_POLL = 0.1
#: Idle workers kept for the next call (starting a thread costs ~0.2 ms, a
#: hand-over to a waiting one ~0.02 ms). A nested call (a callback that
#: runs another handle) takes a second one.
_MAX_IDLE = 2


class _Pool:
    """The idle workers. A child of fork() gets a new, empty one: the
    parent's threads do not exist there, and its lock may have been held."""

    def __init__(self):
        self.lock = threading.Lock()
        self.idle = []


_pool = _Pool()


def _after_fork():
    global _pool
    _pool = _Pool()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)

_tls = threading.local()    # .job: the job a worker thread is running


class Guard:
    """A handle's record of a call left running by an interrupt: the next
    call on the handle waits for it, and the finalizer does not free the C
    object under it."""

    __slots__ = ("job",)

    def __init__(self):
        self.job = None

    def busy(self):
        job = self.job
        return job is not None and not job.finished

    def settle(self):
        """Waits (interruptibly) for an abandoned call to return."""
        job = self.job
        if job is not None:
            while not job.finished:
                job.wake.acquire(True, _POLL)
            self.job = None


class _Done:
    __slots__ = ()


#: The worker's last message to the waiting thread: the call has returned.
_DONE = _Done()


class _Callback:
    """A Python callback that C called on a worker, to run on the waiting
    thread. ``body`` is a trampoline: it catches every exception and
    returns the int C gets."""

    __slots__ = ("body", "args", "reply", "answered")

    def __init__(self, body, args):
        self.body, self.args = body, args
        self.reply = queue.SimpleQueue()
        self.answered = False

    def serve(self, interrupted):
        # After an interrupt the callback is not run: it fails (non-zero,
        # AC_E_CALLBACK), as if the interrupt had landed inside it. The
        # reply goes before `answered` is set: an exception between the two
        # makes the loop serve it again (the worker reads the first reply),
        # never not at all.
        if self.answered:
            return
        value = 1
        try:
            if not interrupted:
                value = self.body(*self.args)
        finally:
            self.reply.put(value)
            self.answered = True


class _Wait:
    """Where one wait stands; survives an exception in the loop."""

    __slots__ = ("posted", "interrupt", "cancelled")

    def __init__(self):
        self.posted = self.cancelled = False
        self.interrupt = None


class Job:
    """One call on a worker: ``fn(*args)``. ``finished`` once it has
    returned (``rc`` its value, ``error`` what it raised); ``keep`` stays
    referenced until then."""

    __slots__ = ("fn", "args", "keep", "inbox", "wake", "finished", "rc",
                 "error", "lock", "abandoned")

    def __init__(self, fn, args, keep):
        self.fn, self.args, self.keep = fn, args, keep
        self.inbox = collections.deque()     # _Callback, then _DONE
        self.wake = threading.Lock()         # released: the inbox has news
        self.wake.acquire()
        self.finished = self.abandoned = False
        self.rc = self.error = None
        self.lock = threading.Lock()

    # -- the worker's side ---------------------------------------------------
    def _post(self, msg):
        self.inbox.append(msg)
        try:
            self.wake.release()
        except RuntimeError:
            pass    # news already signalled

    def forward(self, body, args):
        """Runs a callback on the waiting thread; returns its value."""
        cb = _Callback(body, args)
        with self.lock:
            if self.abandoned:
                return 1
            self._post(cb)
        return cb.reply.get()

    # -- the waiting thread's side -------------------------------------------
    def _abandon(self):
        with self.lock:
            self.abandoned = True
        for msg in list(self.inbox):    # already posted: answer (failed)
            if isinstance(msg, _Callback):
                msg.serve(True)

    def _loop(self, worker, cancel, guard, st):
        inbox = self.inbox
        while True:
            if not st.posted:
                st.posted = True
                if guard is not None:
                    guard.job = self
                worker.jobs.put(self)
            if st.interrupt is not None:
                if cancel is None:
                    self._abandon()
                    return
                if not st.cancelled:
                    st.cancelled = True
                    cancel()
            if not inbox:
                self.wake.acquire(True, _POLL)
                continue
            msg = inbox[0]
            if msg is _DONE:
                return
            msg.serve(st.interrupt is not None)
            inbox.popleft()

    def wait(self, worker, cancel, guard):
        """Posts the job and serves its callbacks until it has returned (or
        is abandoned). Returns the exception that interrupted the wait, or
        None."""
        st = _Wait()
        while True:
            try:
                self._loop(worker, cancel, guard, st)
                return st.interrupt
            except BaseException as exc:  # noqa: B902: a signal handler's
                if st.interrupt is None:
                    st.interrupt = exc


class _Worker:
    def __init__(self):
        self.jobs = queue.SimpleQueue()
        threading.Thread(target=self._main, name="agentcredit-call",
                         daemon=True).start()

    def _main(self):
        while True:
            job = self.jobs.get()
            _tls.job = job
            try:
                job.rc = job.fn(*job.args)
            except BaseException as exc:  # noqa: B902: the caller's
                job.error = exc
            _tls.job = None
            job.keep = None
            job.finished = True
            # back in the pool before the caller hears of it, so that its
            # next call finds this worker
            pool = _pool
            with pool.lock:
                stay = len(pool.idle) < _MAX_IDLE
                if stay:
                    pool.idle.append(self)
            job._post(_DONE)
            del job
            if not stay:
                return


def _worker():
    pool = _pool
    with pool.lock:
        if pool.idle:
            return pool.idle.pop()
    return _Worker()


def forward(body, args):
    """Runs a trampoline: on the waiting thread when C called it on a
    worker, else right here."""
    job = getattr(_tls, "job", None)
    if job is None:
        return body(*args)
    return job.forward(body, args)


def call(fn, args, cancel=None, keep=None, guard=None):
    """``fn(*args)`` (a ctypes function: the GIL is released while C runs),
    interruptible when made on the main thread. Returns ``(rc,
    interrupt)``: interrupt is None, or the exception a signal handler
    raised during the call, which the caller raises once it has looked at
    rc.

    With ``cancel``, an interrupt calls ``cancel()`` (the call stops at the
    library's next check) and the call is waited for: rc is its status.
    Without, the call is abandoned: rc is None, ``keep`` and ``args`` stay
    referenced until it returns, and ``guard.job`` (a :class:`Guard`)
    holds it."""
    if threading.current_thread() is not threading.main_thread():
        return fn(*args), None
    try:
        worker = _worker()
    except RuntimeError:    # no new thread at interpreter shutdown
        return fn(*args), None
    job = Job(fn, args, keep)
    interrupt = job.wait(worker, cancel, guard)
    if interrupt is not None and cancel is None:
        return None, interrupt
    if guard is not None:
        guard.job = None
    if job.error is not None and interrupt is None:
        raise job.error
    return job.rc, interrupt
