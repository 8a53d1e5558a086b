"""A fit's time alone and beside a busy Python thread (which holds the GIL whenever it can).

A fit releases the GIL; each time it takes it back it may wait up to the interpreter's switch
interval (`sys.getswitchinterval()`, 5 ms) for the other thread. Run from a Python environment
with the wheel installed:

    python nlsq-python/benches/bench_gil.py
"""

import sys
import threading
import time

import numpy as np

import nlsq_rs


def timed(f, x, y, rounds=100):
    ts = []
    for _ in range(rounds):
        t = time.perf_counter()
        r = nlsq_rs.fit(f, x, y, p0=(1, 1, 0))
        ts.append(time.perf_counter() - t)
    return np.median(ts), min(ts), r.nfev


def main():
    n = 10_000
    x = np.linspace(0, 5, n)
    y = 2.5 * np.exp(-1.3 * x) + 0.5 + 0.01 * np.random.default_rng(0).standard_normal(n)
    f = "a*exp(-b*x)+c"
    nlsq_rs.fit(f, x, y, p0=(1, 1, 0))
    print("switch interval %.1f ms, N = %d" % (sys.getswitchinterval() * 1e3, n))
    med, best, nfev = timed(f, x, y)
    print("alone:                       median %.3f ms, best %.3f ms (%d passes)" % (med * 1e3, best * 1e3, nfev))
    stop = threading.Event()

    def busy():
        k = 0
        while not stop.is_set():
            k += 1

    th = threading.Thread(target=busy)
    th.start()
    try:
        med, best, nfev = timed(f, x, y)
    finally:
        stop.set()
        th.join()
    print("beside a busy Python thread: median %.3f ms, best %.3f ms (%d passes)" % (med * 1e3, best * 1e3, nfev))


if __name__ == "__main__":
    main()
