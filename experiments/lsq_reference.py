#!/usr/bin/python3
"""Independent reference for `nnlab gauss-newton`: the same single-neuron least-squares
problems solved by SciPy (scipy.optimize.least_squares, MINPACK's Levenberg-Marquardt).

    lsq_reference.py NNLAB_EXE

Checks the targets of the Gauss-Newton issue:
  * noise-free data from a sigmoid neuron: cost < 1e-20 within 15 iterations from zero
    (both --method gn and --method lm);
  * noisy data: the same minimum as SciPy to 1e-8 relative in cost.
Exit 0 when all hold, 1 otherwise, 77 when SciPy is absent (ctest: skipped).
"""
import json, os, subprocess, sys, tempfile
try:
    import numpy as np
    from scipy.optimize import least_squares
except ImportError:
    print("lsq_reference: SciPy (python3-scipy) not installed: skipped")
    sys.exit(77)

G = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh, "identity": lambda z: z}


def main():
    exe = sys.argv[1]
    rng = np.random.default_rng(2026)
    passed = failed = 0
    with tempfile.TemporaryDirectory() as d:
        for case in range(24):
            g = ["sigmoid", "tanh", "identity"][case % 3] if case >= 12 else "sigmoid"
            noisy = case % 2 == 1
            K, n = int(rng.integers(20, 80)), int(rng.integers(1, 5))
            X = rng.uniform(-2, 2, size=(K, n))
            beta = rng.normal(size=n + 1)
            y = G[g](X @ beta[:n] + beta[n]) + (0.05 * rng.normal(size=K) if noisy else 0)
            xp, yp = os.path.join(d, "x.csv"), os.path.join(d, "y.csv")
            np.savetxt(xp, X, delimiter=",", fmt="%.17g")
            np.savetxt(yp, y.reshape(-1, 1), delimiter=",", fmt="%.17g")
            res = least_squares(lambda b: y - G[g](X @ b[:n] + b[n]), np.zeros(n + 1), method="lm",
                                xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=100000)
            ref = 0.5 * float(res.fun @ res.fun)
            for method in ["gn", "lm"]:
                r = subprocess.run([exe, "gauss-newton", "--x", xp, "--y", yp, "--activation", g,
                                    "--method", method, "--max-iter", "100"], capture_output=True, text=True)
                out = json.loads(r.stdout) if r.returncode == 0 else None
                if out is None:
                    ok, why = False, f"exit {r.returncode}: {r.stderr.strip()[-200:]}"
                elif noisy:
                    rel = abs(out["cost"] - ref) / ref
                    ok, why = rel <= 1e-8, f"cost {out['cost']:.12e} vs scipy {ref:.12e} (rel {rel:.1e})"
                else:
                    ok = out["cost"] < 1e-20 and out["iterations"] <= 15
                    why = f"cost {out['cost']:.2e} after {out['iterations']} iterations (scipy {ref:.2e})"
                print(f"case {case:2d} {g:8s} K={K:2d} n={n} {'noisy' if noisy else 'exact'} {method}: "
                      f"{'ok  ' if ok else 'FAIL'} {why}")
                passed += ok
                failed += not ok
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
