"""Threads of one process opening the same new alliance store at once (a request and the
obligations ticker while the alliance is onboarded): one opens it, the others wait and
share it. Before, each created its tables at the same time and PostgreSQL refused all but
one (duplicate key in pg_type), which a request answered as a 409."""

from __future__ import annotations

import threading

from services.runtime import Runtime

THREADS = 6


def test_a_new_store_opened_by_many_threads_at_once_opens_once(settings):
    runtime = Runtime(settings)
    errors: list[str] = []
    opened: list[object] = []
    try:
        for number in range(8):
            slug = f"opened-at-once-{number}"
            barrier = threading.Barrier(THREADS)

            def open_it(slug: str = slug, barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                try:
                    with runtime.tenant(slug, provision=True) as store:
                        opened.append(store)
                except Exception as error:  # the test's whole point: none may fail
                    errors.append(f"{type(error).__name__}: {error}")

            threads = [threading.Thread(target=open_it) for _ in range(THREADS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert errors == [], errors[:3]
            # One store object per alliance, shared by every thread.
            assert len({id(s) for s in opened[-THREADS:]}) == 1
    finally:
        runtime.close()


def test_a_table_made_on_first_use_is_made_once_by_many_at_once(settings):
    """Two runtimes (as two processes: their own pools) and their threads all make the same
    non-projection table at once (ViewStore.ensure_table): none fails."""
    runtimes = [Runtime(settings), Runtime(settings)]
    errors: list[str] = []
    ddl = "CREATE TABLE IF NOT EXISTS made_at_once_{n} (id INTEGER PRIMARY KEY)"
    try:
        for n in range(5):
            barrier = threading.Barrier(2 * THREADS)

            def make(runtime: Runtime, n: int = n, barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                try:
                    runtime.platform.views.ensure_table(f"made_at_once_{n}", ddl.format(n=n))
                except Exception as error:  # the test's whole point: none may fail
                    errors.append(f"{type(error).__name__}: {error}")

            threads = [
                threading.Thread(target=make, args=(runtime,))
                for runtime in runtimes
                for _ in range(THREADS)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert errors == [], errors[:3]
        with runtimes[1].platform.read() as sql:
            assert sql.all("SELECT id FROM made_at_once_4") == []
    finally:
        for runtime in runtimes:
            runtime.close()
