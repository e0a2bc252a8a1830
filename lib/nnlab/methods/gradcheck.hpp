// nnlab/methods/gradcheck.hpp -- finite-difference verification of gradients (a library module:
// the tests, the labs and `nnlab gradcheck` all call it).
//
// Modes
//   check_fd          central differences over every parameter (and X if asked), with a
//                     step scaled to the parameter: h_i = h * max(1, |theta_i|)
//   check_directional one random direction v (seeded): v'grad against the central
//                     difference of J(theta + t v) at t = 0 (PyTorch's "fast" gradcheck idea)
//   check_complex_step Im J(theta + i h e_i) / h with h = 1e-20 on the naive backend run in
//                     complex arithmetic: no subtractive cancellation, so it agrees with the
//                     analytic gradient to round-off.  Not for gelu (no complex erf in C++).
//   compare_backends  two backends on the same batch, blockwise relative difference
//
// Error measures, per block (W[l], b[l], X):
//   abs_i = |analytic_i - numeric_i|
//   rel_i = abs_i / max(|analytic_i|, |numeric_i|, floor),
//   floor = kRelFloor * (|J| + max_i |numeric_i|): round-off in J(theta +- h) is about
//   eps |J| / h ~ 2e-13 |J|, so a component far below the scale of J cannot be resolved
//   relative to itself and is judged relative to that scale instead.
//   Complex step and backend comparisons are blockwise: max_i |a_i - b_i| / max_i |b_i|.
//   Both sides are exact up to round-off there, and round-off in a sum that cancels is
//   relative to the size of its terms (the block's scale), not to the small result.
// Kinks: if any pre-activation of the stencil's evaluations lies on another side of a kink
// of its activation than at theta (or the hinge margin changes sign, or an l1-regularised
// weight crosses 0), the entry is reported as a kink and left out of the verdict.
// A check never passes vacuously: an all-zero analytic gradient, a block where the
// analytic gradient is zero and the numeric one is not, a check where every entry was a
// kink, or a NaN or inf anywhere (J, an analytic entry, a difference), is a failure.
#pragma once
#include "nnlab/backends/backend.hpp"

#include <complex>
#include <functional>
#include <string>
#include <vector>

namespace nnlab {

// Tolerances (double).  Each with its reason.
// Fourth-order central difference, h = 1e-3: truncation h^4 f^(5)/30 ~ 3e-14, round-off
// ~ eps |J| / h ~ 2e-13 |J|: 1e-7 leaves five orders of margin for curvature.
inline constexpr double kFdRelTol = 1e-7;
// Second-order central difference at its optimal h = eps^(1/3) ~ 6e-6 has an error near
// eps^(2/3) ~ 4e-11 |J| + h^2 |f'''|: 1e-5 is what it can promise on curved networks.
inline constexpr double kFd2RelTol = 1e-5;
// The backends do the same arithmetic in different orders (BLAS blocking, FMA), so they
// differ by a few ulps per product, amplified by depth: 1e-12 relative (blockwise).
inline constexpr double kBackendRelTol = 1e-12;
// Complex step has no cancellation: only the round-off of the analytic gradient remains.
inline constexpr double kComplexStepRelTol = 1e-13;
// Float against double: float round-off (6e-8) amplified by depth and batch sums.
inline constexpr double kFloatRelTol = 2e-4;
// See the floor above: 2e-13 / 1e-5 = 2e-8, safely under kFdRelTol.
inline constexpr double kRelFloor = 1e-5;
// Forward mode against reverse mode: both exact to round-off; a dot product's error is
// relative to the sum of its terms' sizes, sum |v_i g_i|: a few ulps of that.
inline constexpr double kForwardModeRelTol = 1e-13;
// H v, dual numbers against the R-operator: both exact, other orders of sums: ~1e-14 per
// product, amplified by depth.
inline constexpr double kHvpRopRelTol = 1e-11;
// H v, dual numbers against the complex step of the gradient: no cancellation in either.
inline constexpr double kHvpComplexStepRelTol = 1e-12;
// H v against fourth-order differences of the gradient, h = 1e-3: truncation h^4 ~ 1e-12 times
// the fifth derivative, round-off eps |grad| / h ~ 2e-13 |grad| / |Hv|: 1e-6 leaves room for
// curvature and for |grad| much larger than |H v|.
inline constexpr double kHvpFdRelTol = 1e-6;

struct FdOptions {
  int order = 4;             // 2: (f(+h) - f(-h)) / 2h;  4: (-f(+2h) + 8f(+h) - 8f(-h) + f(-2h)) / 12h
  double h = 0;              // 0: the default for the order (1e-3 for 4, 6.0555e-6 = eps^(1/3) for 2)
  bool check_input = false;  // also differentiate with respect to X
  double rel_tol = 0;        // 0: kFdRelTol or kFd2RelTol
};

struct BlockReport {
  std::string name;           // "W1", "b1", ..., "X"
  int layer = 0;              // 1..L, 0 for X
  std::size_t n = 0;          // entries
  std::size_t n_kink = 0;     // entries left out (stencil straddled a kink)
  double max_abs = 0, max_rel = 0;
  std::size_t worst = 0;      // index (column-major) of the largest rel error
  double analytic = 0, numeric = 0;  // values at `worst`
  double grad_norm = 0;       // Euclidean norm of the analytic block
  double tol = 0;
  bool passed = false;
  std::string verdict;        // "ok", "FAIL", "zero", "kink-only", "non-finite"
};

struct CheckReport {
  std::string what;           // e.g. "matrix vs central FD (order 4)"
  double cost = 0;
  std::vector<BlockReport> blocks;
  bool passed = false;
  std::size_t evaluations = 0;  // cost evaluations used
};

CheckReport check_fd(Backend<double>& backend, const Network<double>& net, const arma::mat& X,
                     const arma::mat& Y, const FdOptions& opt = {});
CheckReport check_complex_step(const Network<double>& net, const arma::mat& X, const arma::mat& Y,
                               bool check_input = false);
CheckReport compare_backends(Backend<double>& a, Backend<double>& b, const Network<double>& net,
                             const arma::mat& X, const arma::mat& Y, double rel_tol = kBackendRelTol);

struct DirectionalReport {
  double analytic = 0, numeric = 0, abs_err = 0, rel_err = 0, tol = 0;
  bool finite = true;  // J, v'grad and the difference are finite (else the check fails)
  bool passed = false;
};
DirectionalReport check_directional(Backend<double>& backend, const Network<double>& net,
                                    const arma::mat& X, const arma::mat& Y, std::uint64_t seed,
                                    const FdOptions& opt = {});

// Forward mode: v' grad J by dual numbers (hessian.hpp's jvp) against the backend's reverse-mode
// gradient, along the seeded unit direction v; rel_err = |a - n| / sum_i |v_i g_i|.
DirectionalReport check_forward_mode(Backend<double>& backend, const Network<double>& net, const arma::mat& X,
                                     const arma::mat& Y, std::uint64_t seed);
// Second order along the seeded unit direction v: H v by dual numbers (the reference) against
// `method`: "fd" (fourth-order differences of the gradient), "complex-step" (not for gelu) or
// "rop" (the matrix R-operator); per block W[l], b[l], relative to the block's largest entry
// with a floor of 1e-3 of the largest entry of H v.  "fd" tries up to five directions for one
// whose stencil crosses no kink, and fails as kink-only when there is none.
CheckReport check_hvp(const Network<double>& net, const arma::mat& X, const arma::mat& Y, std::uint64_t seed,
                      const std::string& method);

// Scalar helper used by the labs: derivative of f at x by forward, central (order 2 or 4)
// differences or complex step.
double fd_forward(const std::function<double(double)>& f, double x, double h);
double fd_central(const std::function<double(double)>& f, double x, double h, int order = 2);

// Blockwise relative difference max|a - b| / max|b| (0 when both are 0).
template <class T> double rel_diff(const arma::Mat<T>& a, const arma::Mat<T>& b);

// Which side of each kink every pre-activation of a forward cache lies on, and the sign of
// every hinge margin: two evaluations with different signatures lie on different smooth pieces.
std::vector<std::uint8_t> kink_signature(const Network<double>& net, const Cache<double>& c, const arma::mat& Y);

// The cost evaluated by the naive backend in complex arithmetic (for the complex step).
std::complex<double> naive_cost_complex(const Network<std::complex<double>>& net,
                                        const arma::cx_mat& X, const arma::cx_mat& Y);

}  // namespace nnlab
