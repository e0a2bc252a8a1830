#!/usr/bin/python3
"""The double-descent sweep in NumPy, for the timing comparison with `nnlab double-descent`.

    dd_numpy.py --n-train N --features p1,p2,... [--trials T] [--noise S] [--seed S]

The same computation per (trial, p): random ReLU features of the centred, RMS-scaled
Fashion-MNIST images, the output layer by numpy.linalg.lstsq (LAPACK gelsd, minimum norm),
train/test MSE and error.  NumPy's own threads (OpenBLAS) are left at their default.
Prints the curve and a final line `numpy: <seconds> s for the sweep (<T> trials, <P> values of p)`.
"""
import argparse, os, sys, time
try:
    import numpy as np
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from fmnist import D, idx
except ImportError:
    print("dd_numpy: NumPy not installed: skipped")
    sys.exit(77)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-train", type=int, required=True)
    ap.add_argument("--n-test", type=int, default=2000)
    ap.add_argument("--features", required=True)
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--noise", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    X, y = idx(D + "train-images-idx3-ubyte.gz") / 255.0, idx(D + "train-labels-idx1-ubyte.gz")
    Xt, yt = idx(D + "t10k-images-idx3-ubyte.gz") / 255.0, idx(D + "t10k-labels-idx1-ubyte.gz")
    i, j = rng.permutation(len(X))[:a.n_train], rng.permutation(len(Xt))[:a.n_test]
    X, y, Xt, yt = X[i], y[i].copy(), Xt[j], yt[j]
    flip = rng.uniform(size=len(y)) < a.noise
    y[flip] = rng.integers(0, 10, flip.sum())
    Y, Yt = np.eye(10)[y], np.eye(10)[yt]
    mu = X.mean(0)
    rms = np.sqrt(((X - mu) ** 2).mean())
    X, Xt = (X - mu) / rms, (Xt - mu) / rms
    ps = [int(p) for p in a.features.split(",")]
    t0 = time.perf_counter()
    for p in ps:
        te = []
        for t in range(a.trials):
            V = rng.normal(size=(784, p)) / np.sqrt(784)
            c = rng.normal(size=p)
            F, Ft = np.maximum(X @ V + c, 0), np.maximum(Xt @ V + c, 0)
            W = np.linalg.lstsq(F, Y, rcond=None)[0]
            te.append(((Ft @ W - Yt) ** 2).sum(1).mean())
        print(f"p = {p:6d}: test mse {np.mean(te):.4e}", flush=True)
    print(f"numpy: {time.perf_counter() - t0:.2f} s for the sweep ({a.trials} trials, {len(ps)} values of p)")


if __name__ == "__main__":
    main()
