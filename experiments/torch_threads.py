"""Thread control for the PyTorch comparisons.

torch.set_num_threads(n) sets PyTorch's own (OpenMP) pool, but Debian's PyTorch does its
matrix products in OpenBLAS (libblas.so.3), whose pthread pool keeps its own count: with
set_num_threads(1) alone, a float 784-256-128-10 step still runs on both cores here (process
CPU time / wall time = 1.99).  set_threads(n) sets both, and cpu_per_wall() lets a script
check what it really used.
"""
import ctypes, time
import torch


def _openblas_libs():
    seen = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1]
            if ".so" in path and "blas" in path and path not in seen:
                seen.append(path)
    libs = []
    for p in seen:
        try:
            lib = ctypes.CDLL(p)  # already loaded: the same instance PyTorch calls
            lib.openblas_set_num_threads  # noqa: B018 (raises AttributeError if absent)
            libs.append(lib)
        except (OSError, AttributeError):
            pass
    return libs


def set_threads(n):
    """PyTorch's pool and OpenBLAS's pool both to n threads; returns the OpenBLAS libraries set."""
    torch.set_num_threads(n)
    torch.ones(2, 2) @ torch.ones(2, 2)  # makes sure the BLAS is loaded
    libs = _openblas_libs()
    for lib in libs:
        lib.openblas_set_num_threads(ctypes.c_int(n))
    return len(libs)


def park():
    """Ends OpenBLAS's worker threads now (blas_thread_shutdown_, as nnlab's park_blas_threads):
    left alone they spin for 0.06-0.1 s after a threaded call, on the core that the other side
    of a paired comparison is about to use.  The next threaded call starts them again."""
    for lib in _openblas_libs():
        fn = getattr(lib, "blas_thread_shutdown_", None)
        if fn is not None:
            fn()


def cpu_per_wall(f, seconds=0.2):
    """Process CPU time / wall time while calling f repeatedly for about `seconds`."""
    w0, c0 = time.perf_counter(), time.process_time()
    while time.perf_counter() - w0 < seconds:
        f()
    return (time.process_time() - c0) / (time.perf_counter() - w0)
