#!/usr/bin/python3
"""The PyTorch equivalent of `nnlab train` on Fashion-MNIST, for the speed comparison.

    torch_mlp.py [--epochs E] [--threads N] [--precision float|double] [--batch B] [--seed S]

Same data (the Debian package's IDX files, pixels / 255), same split (10% of the training
images held out), same network (784-256-128-10, ReLU, softmax + cross-entropy), same
optimizer (Adam, lr 1e-3), batch and precision.  Prints one line per epoch and a final
`torch: <seconds per epoch> s/epoch, best val acc <a>, test acc <t>` line.
Exit 77 when PyTorch is absent.
"""
import argparse, os, sys, time
try:
    import numpy as np
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from fmnist import D, idx
    import torch
    from torch_threads import set_threads
except ImportError:
    print("torch_mlp: PyTorch not installed: skipped")
    sys.exit(77)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--precision", default="float")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    set_threads(a.threads)  # PyTorch's pool and OpenBLAS's: see torch_threads.py
    torch.manual_seed(a.seed)
    dt = torch.float32 if a.precision == "float" else torch.float64
    X = torch.tensor(idx(D + "train-images-idx3-ubyte.gz") / 255.0, dtype=dt)
    y = torch.tensor(idx(D + "train-labels-idx1-ubyte.gz").astype(np.int64))
    Xt = torch.tensor(idx(D + "t10k-images-idx3-ubyte.gz") / 255.0, dtype=dt)
    yt = torch.tensor(idx(D + "t10k-labels-idx1-ubyte.gz").astype(np.int64))
    perm = torch.randperm(len(X))
    nval = len(X) // 10
    Xv, yv, X, y = X[perm[:nval]], y[perm[:nval]], X[perm[nval:]], y[perm[nval:]]
    net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(), torch.nn.Linear(256, 128), torch.nn.ReLU(),
                              torch.nn.Linear(128, 10)).to(dt)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    lossf = torch.nn.CrossEntropyLoss()
    times, best, best_state = [], -1, None
    for e in range(a.epochs):
        t0 = time.perf_counter()
        p = torch.randperm(len(X))
        for s in range(0, len(X), a.batch):
            i = p[s:s + a.batch]
            opt.zero_grad()
            loss = lossf(net(X[i]), y[i])
            loss.backward()
            opt.step()
        with torch.no_grad():
            va = (net(Xv).argmax(1) == yv).double().mean().item()
        times.append(time.perf_counter() - t0)  # as nnlab's epoch: training + validation pass
        if va > best:
            best = va
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
        print(f"torch epoch {e + 1}: {times[-1]:.3f} s, val acc {va:.4f}", flush=True)
    net.load_state_dict(best_state)
    with torch.no_grad():
        ta = (net(Xt).argmax(1) == yt).double().mean().item()
    print(f"torch: {np.median(times):.3f} s/epoch (median), best val acc {best:.4f}, test acc {ta:.4f}")


if __name__ == "__main__":
    main()
