#!/usr/bin/python3
"""Accuracy of `nnlab gauss-newton --activation identity` (linear least squares) against exact
solutions, and against NumPy's lstsq (LAPACK dgelsd) and SciPy's lstsq with dgelsy (pivoted QR),
in the same run.

    lsq_accuracy.py NNLAB_EXE

Every problem is min ||[X 1] beta - y|| with X's columns as given (one sample per row).  Its
exact solution is computed here in rational arithmetic (Python's fractions: the normal
equations of the problem's double values, solved exactly).  Accuracy is the LRE (log relative
error, the StRD convention): per coefficient -log10(|b - b*| / |b*|), the case's the smallest,
capped at 16 (all digits).  Cases: polynomial fits of degree 2 to 10 on uncentred x (the
degree-10 one has cond([X 1]) ~ 1e15), a degree-5 fit with integer x up to 20, an exact integer
polynomial, nearly collinear regressors.
Checks: nnlab at or above the best of NumPy and SciPy on every case (at full precision, LRE 14,
all count as equal), at least 7 digits on the degree-10 case, and every linear problem
converged with a convergence status in at most 2 iterations.  Exit 0 when all hold, 1
otherwise, 77 when NumPy or SciPy is absent (ctest: skipped).
"""
import json, math, os, subprocess, sys, tempfile
from fractions import Fraction
try:
    import numpy as np
    import scipy.linalg
except ImportError:
    print("lsq_accuracy: NumPy or SciPy (python3-numpy, python3-scipy) not installed: skipped")
    sys.exit(77)

FULL = 14.0  # LRE at which every method counts as exact
CONVERGED = {"gradient_too_small", "relative_step_size_too_small", "cost_too_small", "cost_change_too_small"}


def exact_solution(A, y):
    """argmin ||A b - y|| for the exact values of the doubles in A and y: normal equations in
    rationals, Gauss-Jordan elimination."""
    K, P = A.shape
    Af = [[Fraction(float(v)) for v in row] for row in A]
    yf = [Fraction(float(v)) for v in y]
    M = [[sum(Af[k][i] * Af[k][j] for k in range(K)) for j in range(P)] + [sum(Af[k][i] * yf[k] for k in range(K))]
         for i in range(P)]
    for c in range(P):
        p = next(r for r in range(c, P) if M[r][c] != 0)
        M[c], M[p] = M[p], M[c]
        for r in range(P):
            if r != c and M[r][c] != 0:
                f = M[r][c] / M[c][c]
                M[r] = [a - f * b for a, b in zip(M[r], M[c])]
    return [M[i][P] / M[i][i] for i in range(P)]


def lre(b, exact):
    worst = 16.0
    for v, e in zip(b, exact):
        err = abs(Fraction(float(v)) - e)
        if err == 0:
            continue
        rel = err / abs(e) if e != 0 else err
        worst = min(worst, -math.log10(float(rel)))
    return max(worst, 0.0)


def cases():
    rng = np.random.default_rng(7)
    out = []
    x = np.linspace(-9.0, -3.0, 82)
    y = 0.8 + 0.02 * np.sin(1.3 * x) + 0.001 * rng.normal(size=x.size)
    for d in range(2, 11):
        out.append((f"degree {d}, x in [-9, -3]", np.column_stack([x ** k for k in range(1, d + 1)]), y))
    xi = np.arange(1.0, 21.0)
    yi = 3 + 2 * xi - 0.5 * xi ** 2 + 0.01 * rng.normal(size=xi.size)
    out.append(("degree 5, x = 1..20", np.column_stack([xi ** k for k in range(1, 6)]), yi))
    ye = 7 - 3 * xi + 2 * xi ** 2 - xi ** 3 + 4 * xi ** 4  # exact integers, zero residual
    out.append(("degree 4, x = 1..20, exact integers", np.column_stack([xi ** k for k in range(1, 5)]), ye))
    u = rng.normal(size=60)
    X = np.column_stack([u, u + 1e-7 * rng.normal(size=60), rng.normal(size=60)])
    out.append(("nearly collinear (1e-7)", X, X @ np.array([1.0, 2.0, -1.0]) + 0.05 * rng.normal(size=60)))
    return out


def main():
    exe = sys.argv[1]
    failures = 0
    print(f"{'case':40s} {'cond':>9s} {'nnlab':>6s} {'numpy':>6s} {'gelsy':>6s} {'iter':>4s}  status")
    with tempfile.TemporaryDirectory() as d:
        for name, X, y in cases():
            A = np.column_stack([X, np.ones(len(y))])
            exact = exact_solution(A, y)
            xp, yp = os.path.join(d, "x.csv"), os.path.join(d, "y.csv")
            np.savetxt(xp, X, delimiter=",", fmt="%.17g")
            np.savetxt(yp, y.reshape(-1, 1), delimiter=",", fmt="%.17g")
            r = subprocess.run([exe, "gauss-newton", "--x", xp, "--y", yp, "--activation", "identity"],
                               capture_output=True, text=True)
            if r.returncode != 0:
                print(f"{name}: nnlab exit {r.returncode}: {r.stderr.strip()}")
                failures += 1
                continue
            out = json.loads(r.stdout)
            ours = lre(out["w"] + [out["b"]], exact)
            npy = lre(np.linalg.lstsq(A, y, rcond=None)[0], exact)
            gy = lre(scipy.linalg.lstsq(A, y, lapack_driver="gelsy")[0], exact)
            cond = np.linalg.cond(A)
            print(f"{name:40s} {cond:9.2e} {ours:6.2f} {npy:6.2f} {gy:6.2f} {out['iterations']:4d}  {out['status']}")
            if ours < min(max(npy, gy), FULL):
                print(f"  FAIL: nnlab below the best of NumPy and SciPy")
                failures += 1
            if name.startswith("degree 10") and ours < 7:
                print(f"  FAIL: fewer than 7 correct digits on the degree-10 case")
                failures += 1
            if out["iterations"] > 2 or out["status"] not in CONVERGED:
                print(f"  FAIL: a linear problem must converge in at most 2 iterations")
                failures += 1
            if out["rank"] != A.shape[1]:
                print(f"  FAIL: full rank problem solved with rank {out['rank']}")
                failures += 1
    print(f"lsq_accuracy: {failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
