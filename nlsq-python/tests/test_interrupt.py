"""Ctrl-C stops a long fit cleanly (KeyboardInterrupt), and the GIL is free during a fit."""

import os
import signal
import sys
import threading
import time

import numpy as np
import pytest

import nlsq_rs

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT by os.kill")


def long_problem(n=1_000_000):
    x = np.linspace(0, 50, n)
    rng = np.random.default_rng(1)
    y = np.sin(1.7 * x) * np.exp(-0.01 * x) + 0.3 * rng.standard_normal(n)
    kw = dict(p0=[1, 1.1, 0, 0.1, 0.5, 3], max_nfev=100000, ftol=1e-15, xtol=1e-15, gtol=1e-15,
              method="trf", backend="cpu")
    return "a*sin(b*x+c)*exp(-d*x)+e*cos(f*x)", x, y, kw


def test_ctrl_c_stops_a_long_fit():
    model, x, y, kw = long_problem()
    # Timed warm (the first call also compiles the model and faults the arrays in).
    nlsq_rs.fit(model, x, y, **kw)
    t0 = time.perf_counter()
    full = nlsq_rs.fit(model, x, y, **kw)
    t_full = time.perf_counter() - t0
    # Ctrl-C from another thread, 15 % into the fit and then every 20 ms until the fit is over
    # (so a loaded machine that wakes the thread late still interrupts the fit); the first
    # SIGINT raises KeyboardInterrupt, the rest are counted and dropped.
    stop = threading.Event()
    sent = []

    def interrupter():
        if stop.wait(0.15 * t_full):
            return
        while not stop.is_set():
            sent.append(time.perf_counter())
            os.kill(os.getpid(), signal.SIGINT)
            stop.wait(0.02)

    raised = []

    def handler(signum, frame):
        if not raised:
            raised.append(time.perf_counter())
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    thread = threading.Thread(target=interrupter)
    try:
        thread.start()
        t0 = time.perf_counter()
        with pytest.raises(KeyboardInterrupt):
            nlsq_rs.fit(model, x, y, **kw)
        elapsed = time.perf_counter() - t0
    finally:
        stop.set()
        thread.join()
        signal.signal(signal.SIGINT, previous)
    print("full fit %.2f s (%d passes); interrupted after %.2f s (%d SIGINT sent)"
          % (t_full, full.nfev, elapsed, len(sent)))
    # Stopped within a pass or two of the first signal, long before the fit's end.
    assert elapsed < 0.6 * t_full
    # The next fit runs normally.
    again = nlsq_rs.fit(model, x, y, **kw)
    np.testing.assert_array_equal(again.popt, full.popt)


def test_gil_released_during_a_fit():
    """Another Python thread runs while a fit is in progress."""
    model, x, y, kw = long_problem(300_000)
    ticks = []
    done = threading.Event()

    def counter():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.005)

    t = threading.Thread(target=counter)
    t0 = time.perf_counter()
    t.start()
    nlsq_rs.fit(model, x, y, **kw)
    t1 = time.perf_counter()
    done.set()
    t.join()
    during = [v for v in ticks if t0 + 0.05 < v < t1 - 0.05]
    print("fit %.2f s, %d ticks of the other thread during it" % (t1 - t0, len(during)))
    assert len(during) >= 0.3 * (t1 - t0 - 0.1) / 0.005
