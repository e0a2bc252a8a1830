#!/usr/bin/python3
"""The PyTorch side of the backend benchmark, measured in the same run.

    bench_torch.py [--out results/bench/torch.csv] [--min-time 0.2] [--sweeps]

The same four shapes as nnlab's perf::named_shapes() (and, with --sweeps, the width and
batch sweeps), the same network (ReLU hidden layers, identity output, loss
0.5 sum (a - y)^2 / m), the same work: forward (no autograd), backward (of a retained graph,
input gradient included: X.requires_grad), and a training step (forward + loss + backward
+ torch.optim.SGD step), float32 and float64, 1 and 2 threads (torch.set_num_threads and,
since Debian's PyTorch multiplies in OpenBLAS, openblas_set_num_threads: torch_threads.py).
Timing as nnlab's perf::seconds_per_call: one warm-up call, batches doubling until one lasts
min-time, best per-call time of three batches.  Writes
precision,op,threads,shape,seconds,cpu_per_wall (shape as nnlab labels it, e.g.
784-256-128-10/b128; cpu_per_wall = process CPU time / wall time during the case: how many
cores it really kept busy).
Exit 77 when PyTorch is absent.

    bench_torch.py --serve

The PyTorch side of bench_backends's paired comparison (perf::paired_ratio_timed): PyTorch's
training step timed in blocks that alternate with nnlab's, in the same seconds.  One line each
way on stdin/stdout:
    case <precision> <threads> <shape>   ->  ok        (builds the step, one warm-up call)
    run <n>                              ->  <seconds> (one warm-up call, n timed calls, then
                                                        OpenBLAS's workers parked: torch_threads.park)
    quit
A bad request gets "error <what>" and the server goes on.
"""
import argparse, os, sys, time
try:
    import torch
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from torch_threads import set_threads, cpu_per_wall, park
except ImportError:
    print("bench_torch: PyTorch not installed: skipped")
    sys.exit(77)

NAMED = [([784, 256, 128, 10], 128), ([784, 256, 128, 10], 1024), ([1024, 1024, 1024, 10], 512), ([2, 4, 1], 4)]
WIDTH = [([w, w, w, 10], 256) for w in (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)]
BATCH = [([784, 256, 128, 10], m) for m in (1, 4, 16, 64, 256, 1024, 4096)]


def label(sizes, m):
    return "-".join(map(str, sizes)) + "/b" + str(m)


def seconds_per_call(f, min_time):
    f()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        s = time.perf_counter() - t0
        if s >= min_time:
            break
        n = max(2 * n, int(n * min_time / s * 1.2)) if s > 0 else 2 * n
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def cases(sizes, m, dtype):
    torch.manual_seed(1)
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i + 2 < len(sizes):
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers).to(dtype)
    X = torch.randn(m, sizes[0], dtype=dtype, requires_grad=True)  # one sample per row
    Y = torch.randn(m, sizes[-1], dtype=dtype)
    opt = torch.optim.SGD(net.parameters(), lr=1e-3)

    def loss():
        return 0.5 * ((net(X) - Y) ** 2).sum() / m

    def forward():
        with torch.no_grad():
            net(X)

    L = loss()

    def backward():
        L.backward(retain_graph=True)

    def step():
        opt.zero_grad()
        X.grad = None
        loss().backward()
        opt.step()

    return {"forward": forward, "backward": backward, "step": step}


def parse_label(shape):
    """'784-256-128-10/b128' -> ([784, 256, 128, 10], 128)."""
    sizes, m = shape.split("/b")
    return [int(n) for n in sizes.split("-")], int(m)


def serve():
    dtypes = {"double": torch.float64, "float": torch.float32}
    step = None
    for line in sys.stdin:
        w = line.split()
        try:
            if w and w[0] == "case" and len(w) == 4 and w[1] in dtypes:
                set_threads(int(w[2]))
                sizes, m = parse_label(w[3])
                step = cases(sizes, m, dtypes[w[1]])["step"]
                step()
                reply = "ok"
            elif w and w[0] == "run" and len(w) == 2 and step is not None:
                n = int(w[1])
                step()
                t0 = time.perf_counter()
                for _ in range(n):
                    step()
                reply = repr(time.perf_counter() - t0)
                park()
            elif w == ["quit"]:
                return
            else:
                reply = "error bad request: " + line.strip()
        except (ValueError, RuntimeError) as e:
            reply = f"error {e}"
        print(reply, flush=True)


def main():
    if sys.argv[1:] == ["--serve"]:
        return serve()
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="results/bench/torch.csv")
    ap.add_argument("--min-time", type=float, default=0.2)
    ap.add_argument("--sweeps", action="store_true")
    a = ap.parse_args()
    shapes = NAMED + (WIDTH + BATCH if a.sweeps else [])
    rows = ["precision,op,threads,shape,seconds,cpu_per_wall"]
    print(f"bench_torch: torch {torch.__version__}, {torch.__config__.parallel_info().splitlines()[0]}", file=sys.stderr)
    for threads in (1, 2):
        nlib = set_threads(threads)
        print(f"bench_torch: {threads} thread(s): torch.set_num_threads and openblas_set_num_threads "
              f"({nlib} OpenBLAS libraries)", file=sys.stderr)
        for prec, dtype in (("double", torch.float64), ("float", torch.float32)):
            for sizes, m in shapes:
                for op, f in cases(sizes, m, dtype).items():
                    s = seconds_per_call(f, a.min_time)
                    cw = cpu_per_wall(f, min(0.2, 20 * s))
                    rows.append(f"{prec},{op},{threads},{label(sizes, m)},{s:.6g},{cw:.3f}")
                    print(f"torch {prec:6s} {op:8s} t{threads} {label(sizes, m):24s} {s * 1e3:10.4f} ms  cpu/wall {cw:.2f}",
                          file=sys.stderr)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp"
    with open(tmp, "w") as fh:
        fh.write("\n".join(rows) + "\n")
    os.replace(tmp, a.out)  # atomic
    print(f"bench_torch: wrote {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
