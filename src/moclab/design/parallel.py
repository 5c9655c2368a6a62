"""Running the chunks of a power analysis: in this process, on local cores (joblib) or on a Dask cluster.

Every chunk is a pure function of its task (the compiled design, the replication numbers and the root
seed), and each replication draws its data and its resamples from its own seed, so the results are the
same whatever runs them, in whatever order: one core, eight, or a Dask cluster (the ``dask`` extra). Tasks
are chunks of replications, not single replications, so the cost of shipping a task (the compiled design,
~100 kB) and of scheduling it stays small against its work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from moclab.errors import MoclabError, require

__all__ = ["CONNECT_TIMEOUT", "run_tasks"]

#: Seconds to wait for a Dask scheduler before giving up with a clear error.
CONNECT_TIMEOUT = 20


@contextmanager
def _dask_client(scheduler: Any) -> Iterator[Any]:
    """A dask.distributed Client for an address (closed afterwards) or the Client given (left open)."""
    Client = require("distributed", "dask", "running on a Dask cluster").Client
    if isinstance(scheduler, Client):
        yield scheduler
        return
    try:
        client = Client(str(scheduler), timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError) as error:
        raise MoclabError(
            f"cannot reach the Dask scheduler at {scheduler}: {error}",
            hint="start one with `dask scheduler` (and workers with `dask worker ADDRESS`), or leave out "
            "--scheduler to use this machine's cores",
        ) from None
    try:
        yield client
    finally:
        client.close()


def run_tasks(
    function: Callable[[Any], Any],
    tasks: Sequence[Any],
    *,
    n_jobs: int = 1,
    scheduler: Any = None,
    on_done: Callable[[Any], None] | None = None,
) -> list[Any]:
    """Apply `function` to every task and return the results in task order.

    Parameters
    ----------
    function : callable
        A module-level function (it is pickled to the workers).
    tasks : sequence
        Picklable task objects.
    n_jobs : int
        Local worker processes (joblib's loky back end); 1 runs in this process, -1 uses every core.
    scheduler : str or distributed.Client, optional
        A Dask scheduler address (``tcp://host:8786``) or a connected Client: run the tasks on that cluster
        instead (``n_jobs`` is then ignored).
    on_done : callable, optional
        Called with each result as it arrives (for a progress bar).
    """
    done = on_done or (lambda result: None)
    if scheduler is not None:
        with _dask_client(scheduler) as client:
            from distributed import as_completed

            futures = client.map(function, list(tasks), pure=False)
            position = {future.key: index for index, future in enumerate(futures)}
            results: list[Any] = [None] * len(futures)
            for future in as_completed(futures):
                result = future.result()
                results[position[future.key]] = result
                done(result)
            return results
    if n_jobs == 1 or len(tasks) <= 1:
        results = []
        for task in tasks:
            result = function(task)
            done(result)
            results.append(result)
        return results
    from joblib import Parallel, delayed

    results = []
    for result in Parallel(n_jobs=n_jobs, return_as="generator")(delayed(function)(task) for task in tasks):
        done(result)
        results.append(result)
    return results
