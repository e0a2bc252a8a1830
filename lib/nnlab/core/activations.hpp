// nnlab/core/activations.hpp -- every activation of the contract, value and derivative.
//
// Definitions and constants are PyTorch's (torch.nn.functional), including the values of
// the derivative at the kinks (contract section 2).  At a kink, f's code takes the piece whose
// slope df gives there, so that a dual number's tangent (forward mode, H v) agrees with df.  Each activation is a small struct with
//     f(x)      the value
//     df(x, a)  the derivative at x, given a = f(x) (so sigmoid and tanh reuse a)
// written once and used by every backend (naive, matrix, openmp, graph) and by the
// finite-difference and complex-step checks, so the backends differ only in how they loop.
//
// The scalar type S is float, double, std::complex<double> (the complex-step derivative
// check) or ad::Dual (forward-mode differentiation, nnlab/core/dual.hpp).  Branches test the real part (re(x)), so a piecewise
// function is analytic on each piece and Im f(x + ih)/h gives f'(x) away from the kinks.
// gelu needs erf, which the C++ library does not define for complex numbers: it is the
// one activation the complex-step check skips.
#pragma once
#include "nnlab/core/dual.hpp"

#include <armadillo>
#include <cmath>
#include <complex>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

namespace nnlab {

enum class Activation {
  identity, sigmoid, tanh, relu, leaky_relu, elu, selu, celu, gelu, softplus, softsign,
  logsigmoid, hardtanh, relu6, hardsigmoid, hardshrink, softshrink, tanhshrink, atan, rrelu,
  softmax  // per column; not elementwise
};

inline constexpr Activation kAllActivations[] = {
    Activation::identity,   Activation::sigmoid,     Activation::tanh,
    Activation::relu,       Activation::leaky_relu,  Activation::elu,
    Activation::selu,       Activation::celu,        Activation::gelu,
    Activation::softplus,   Activation::softsign,    Activation::logsigmoid,
    Activation::hardtanh,   Activation::relu6,       Activation::hardsigmoid,
    Activation::hardshrink, Activation::softshrink,  Activation::tanhshrink,
    Activation::atan,       Activation::rrelu,       Activation::softmax};

std::string_view name(Activation a);
std::optional<Activation> activation_from_name(std::string_view s);  // exact, lower case

// Points where f is not twice continuously differentiable (or, for softplus at its
// threshold and hardshrink at +-lambda, not continuous).  A central difference whose
// stencil straddles one of them measures a one-sided mixture, not f'; gradcheck reports
// such entries as "kink" instead of failing them.
std::span<const double> kinks(Activation a);
// Whether the complex-step check can evaluate this activation (all but gelu).
bool complex_step_ok(Activation a);

namespace act {

template <class S> struct is_complex : std::false_type {};
template <class R> struct is_complex<std::complex<R>> : std::true_type {};

// The value a branch tests: the real part (complex step), the value (dual numbers).
template <class S> inline auto re(S x) {
  if constexpr (is_complex<S>::value) return x.real();
  else if constexpr (ad::is_dual<S>::value) return re(x.v);
  else return x;
}
// |x| continued analytically from the side of the real part (x or -x).
template <class S> inline S abs_an(S x) { return re(x) >= 0 ? x : -x; }
// |x| with the derivative sign(x), 0 at 0 (the l1 term's rule): the same value as abs_an.
template <class S> inline S abs0(S x) { return re(x) > 0 ? x : (re(x) < 0 ? -x : S(0)); }
// The elementary functions for every scalar type: std:: for real and complex numbers, the
// dual numbers' own (found by argument-dependent lookup) for ad::Dual.
template <class S> inline S exp_(S x) { using std::exp; return exp(x); }
template <class S> inline S log_(S x) { using std::log; return log(x); }
template <class S> inline S tanh_(S x) { using std::tanh; return tanh(x); }
template <class S> inline S atan_(S x) { using std::atan; return atan(x); }
template <class S> inline S erf_(S x) { using std::erf; return erf(x); }
template <class S> inline S log1p_(S x) {
  if constexpr (is_complex<S>::value) return std::log(S(1) + x);
  else { using std::log1p; return log1p(x); }
}
template <class S> inline S expm1_(S x) {
  if constexpr (is_complex<S>::value) return std::exp(x) - S(1);
  else { using std::expm1; return expm1(x); }
}
// Stable logistic function: never evaluates exp of a large positive number.
template <class S> inline S sigmoid(S x) {
  if (re(x) >= 0) return S(1) / (S(1) + exp_(-x));
  const S e = exp_(x);
  return e / (S(1) + e);
}

// PyTorch's default constants.
inline constexpr double kLeakySlope = 0.01;
inline constexpr double kRreluSlope = (1.0 / 8.0 + 1.0 / 3.0) / 2.0;  // = 11/48
inline constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
inline constexpr double kSeluScale = 1.0507009873554804934193349852946;
inline constexpr double kShrink = 0.5;           // hardshrink, softshrink lambda
inline constexpr double kSoftplusThreshold = 20; // softplus(x) = x for x > 20

#define NNLAB_ACT(NAME) static constexpr Activation id = Activation::NAME;
struct Identity { NNLAB_ACT(identity)
  template <class S> static S f(S x) { return x; }
  template <class S> static S df(S, S) { return S(1); } };
// The derivatives of sigmoid, tanh and relu are exercises (labs/exercises): the regions
// between TASK and END TASK are what a student writes; the stub after STUB replaces them in a kit.
struct Sigmoid { NNLAB_ACT(sigmoid)
  template <class S> static S f(S x) { return sigmoid(x); }
  template <class S> static S df(S x, S a) {
    // TASK act-sigmoid
    (void)x;
    return a * (S(1) - a);  // sigma' = sigma (1 - sigma)
    // STUB
    // (void)x, (void)a;
    // return S(0);
    // END TASK act-sigmoid
  } };
struct Tanh { NNLAB_ACT(tanh)
  template <class S> static S f(S x) { return tanh_(x); }
  template <class S> static S df(S x, S a) {
    // TASK act-tanh
    (void)x;
    return S(1) - a * a;  // tanh' = 1 - tanh^2
    // STUB
    // (void)x, (void)a;
    // return S(0);
    // END TASK act-tanh
  } };
struct Relu { NNLAB_ACT(relu)
  template <class S> static S f(S x) { return re(x) > 0 ? x : S(0); }
  template <class S> static S df(S x, S a) {
    // TASK act-relu
    (void)a;
    return re(x) > 0 ? S(1) : S(0);  // relu'(0) = 0
    // STUB
    // (void)x, (void)a;
    // return S(0);
    // END TASK act-relu
  } };
struct LeakyRelu { NNLAB_ACT(leaky_relu)
  template <class S> static S f(S x) { return re(x) > 0 ? x : S(kLeakySlope) * x; }
  template <class S> static S df(S x, S) { return re(x) > 0 ? S(1) : S(kLeakySlope); } };
struct Rrelu { NNLAB_ACT(rrelu)  // eval form of torch.nn.RReLU: leaky with (lower+upper)/2
  template <class S> static S f(S x) { return re(x) > 0 ? x : S(kRreluSlope) * x; }
  template <class S> static S df(S x, S) { return re(x) > 0 ? S(1) : S(kRreluSlope); } };
struct Elu { NNLAB_ACT(elu)  // alpha = 1; elu'(0) = 1 (x <= 0 branch: alpha e^x)
  template <class S> static S f(S x) { return re(x) > 0 ? x : expm1_(x); }
  template <class S> static S df(S x, S) { return re(x) > 0 ? S(1) : exp_(x); } };
struct Selu { NNLAB_ACT(selu)  // selu'(0) = scale * alpha
  template <class S> static S f(S x) {
    return re(x) > 0 ? S(kSeluScale) * x : S(kSeluScale * kSeluAlpha) * expm1_(x); }
  template <class S> static S df(S x, S) {
    return re(x) > 0 ? S(kSeluScale) : S(kSeluScale * kSeluAlpha) * exp_(x); } };
struct Celu { NNLAB_ACT(celu)  // alpha = 1, so identical to elu: max(0,x) + min(0, e^x - 1)
  template <class S> static S f(S x) { return re(x) > 0 ? x : expm1_(x); }
  template <class S> static S df(S x, S) { return re(x) > 0 ? S(1) : exp_(x); } };
struct Gelu { NNLAB_ACT(gelu)  // exact: x Phi(x), Phi(x) = (1 + erf(x/sqrt 2))/2
  template <class S> static S f(S x) {
    if constexpr (is_complex<S>::value) return S(std::nan(""));
    else return S(0.5) * x * (S(1) + erf_(x * S(M_SQRT1_2))); }
  template <class S> static S df(S x, S) {  // Phi(x) + x phi(x)
    if constexpr (is_complex<S>::value) return S(std::nan(""));
    else return S(0.5) * (S(1) + erf_(x * S(M_SQRT1_2))) +
                x * exp_(S(-0.5) * x * x) * S(0.5 * M_2_SQRTPI * M_SQRT1_2); } };
struct Softplus { NNLAB_ACT(softplus)  // beta = 1, threshold 20
  template <class S> static S f(S x) { return re(x) > kSoftplusThreshold ? x : log1p_(exp_(x)); }
  template <class S> static S df(S x, S) { return re(x) > kSoftplusThreshold ? S(1) : sigmoid(x); } };
struct Softsign { NNLAB_ACT(softsign)  // x / (1 + |x|); softsign'(0) = 1
  template <class S> static S f(S x) { return x / (S(1) + abs0(x)); }
  template <class S> static S df(S x, S) { const S d = S(1) + abs0(x); return S(1) / (d * d); } };
struct LogSigmoid { NNLAB_ACT(logsigmoid)  // min(x,0) - log1p(exp(-|x|)), derivative sigmoid(-x)
  template <class S> static S f(S x) {
    return (re(x) < 0 ? x : S(0)) - log1p_(exp_(-abs_an(x))); }
  template <class S> static S df(S x, S) { return sigmoid(-x); } };
struct Hardtanh { NNLAB_ACT(hardtanh)  // clamp to [-1, 1]; derivative 0 at +-1
  template <class S> static S f(S x) { return re(x) <= -1 ? S(-1) : (re(x) >= 1 ? S(1) : x); }
  template <class S> static S df(S x, S) { return (re(x) <= -1 || re(x) >= 1) ? S(0) : S(1); } };
struct Relu6 { NNLAB_ACT(relu6)  // clamp to [0, 6]; derivative 0 at 0 and 6
  template <class S> static S f(S x) { return re(x) <= 0 ? S(0) : (re(x) >= 6 ? S(6) : x); }
  template <class S> static S df(S x, S) { return (re(x) <= 0 || re(x) >= 6) ? S(0) : S(1); } };
struct Hardsigmoid { NNLAB_ACT(hardsigmoid)  // relu6(x + 3)/6, slope exactly 1/6
  template <class S> static S f(S x) {
    return re(x) <= -3 ? S(0) : (re(x) >= 3 ? S(1) : x / S(6) + S(0.5)); }
  template <class S> static S df(S x, S) { return (re(x) > -3 && re(x) < 3) ? S(1) / S(6) : S(0); } };
struct Hardshrink { NNLAB_ACT(hardshrink)  // 0 on [-l, l] (endpoints included), x outside
  template <class S> static S f(S x) { return (re(x) >= -kShrink && re(x) <= kShrink) ? S(0) : x; }
  template <class S> static S df(S x, S) { return (re(x) >= -kShrink && re(x) <= kShrink) ? S(0) : S(1); } };
struct Softshrink { NNLAB_ACT(softshrink)  // x - l above l, x + l below -l, 0 between
  template <class S> static S f(S x) {
    return re(x) > kShrink ? x - S(kShrink) : (re(x) < -kShrink ? x + S(kShrink) : S(0)); }
  template <class S> static S df(S x, S) { return (re(x) >= -kShrink && re(x) <= kShrink) ? S(0) : S(1); } };
struct Tanhshrink { NNLAB_ACT(tanhshrink)  // x - tanh x, derivative tanh^2 x
  template <class S> static S f(S x) { return x - tanh_(x); }
  template <class S> static S df(S x, S) { const S t = tanh_(x); return t * t; } };
struct Atan { NNLAB_ACT(atan)
  template <class S> static S f(S x) { return atan_(x); }
  template <class S> static S df(S x, S) { return S(1) / (S(1) + x * x); } };
#undef NNLAB_ACT

// Calls fn(Tag{}) with the struct of an elementwise activation, so that a loop written
// once inside fn is compiled for each activation (no switch per element).
// Softmax is not elementwise; dispatch() must not be called with it.
template <class Fn> decltype(auto) dispatch(Activation a, Fn&& fn) {
  switch (a) {
    case Activation::identity: return fn(Identity{});
    case Activation::sigmoid: return fn(Sigmoid{});
    case Activation::tanh: return fn(Tanh{});
    case Activation::relu: return fn(Relu{});
    case Activation::leaky_relu: return fn(LeakyRelu{});
    case Activation::elu: return fn(Elu{});
    case Activation::selu: return fn(Selu{});
    case Activation::celu: return fn(Celu{});
    case Activation::gelu: return fn(Gelu{});
    case Activation::softplus: return fn(Softplus{});
    case Activation::softsign: return fn(Softsign{});
    case Activation::logsigmoid: return fn(LogSigmoid{});
    case Activation::hardtanh: return fn(Hardtanh{});
    case Activation::relu6: return fn(Relu6{});
    case Activation::hardsigmoid: return fn(Hardsigmoid{});
    case Activation::hardshrink: return fn(Hardshrink{});
    case Activation::softshrink: return fn(Softshrink{});
    case Activation::tanhshrink: return fn(Tanhshrink{});
    case Activation::atan: return fn(Atan{});
    case Activation::rrelu: return fn(Rrelu{});
    case Activation::softmax: break;
  }
  throw std::logic_error("act::dispatch: softmax is not elementwise");
}

// Scalar value and derivative of an elementwise activation (a switch per call: for the
// naive reference and for tests; the fast paths use dispatch()).
template <class S> S value(Activation a, S x) {
  return dispatch(a, [x](auto F) { return decltype(F)::f(x); });
}
template <class S> S deriv(Activation a, S x) {
  return dispatch(a, [x](auto F) { return decltype(F)::df(x, decltype(F)::f(x)); });
}

// g''(x) of an elementwise activation: the derivative of its derivative, taken in dual numbers
// (the branch of x at a kink: 0 on a piecewise-linear piece).
template <class S> S second_derivative(Activation a, S x) {
  return dispatch(a, [x](auto F) {
    const ad::Dual<S> d(x, S(1));
    return decltype(F)::df(d, decltype(F)::f(d)).d;
  });
}

// Softmax of one column of length n, stable (the largest entry is subtracted first).
template <class S> void softmax_col(const S* z, S* a, std::size_t n) {
  auto mx = re(z[0]);
  for (std::size_t k = 1; k < n; ++k) mx = std::max(mx, re(z[k]));
  S s = 0;
  for (std::size_t k = 0; k < n; ++k) { a[k] = exp_(z[k] - S(mx)); s += a[k]; }
  for (std::size_t k = 0; k < n; ++k) a[k] /= s;
}
// Softmax backward for one column: dz = a o (g - sum_k a_k g_k)   (Jacobian-vector product).
template <class S> void softmax_col_backward(const S* a, const S* g, S* dz, std::size_t n) {
  // TASK softmax-vjp
  S dot = 0;
  for (std::size_t k = 0; k < n; ++k) dot += a[k] * g[k];
  for (std::size_t k = 0; k < n; ++k) dz[k] = a[k] * (g[k] - dot);
  // STUB
  // (void)a, (void)g;
  // for (std::size_t k = 0; k < n; ++k) dz[k] = S(0);
  // END TASK softmax-vjp
}

// The sweeps every backend runs, written once: A = g(Z) and dZ = dA o g'(Z) on an n x m
// block of column-major storage with leading dimension ld (ld = n: contiguous, one loop over
// n m values); softmax per column, n being the column's length.  Inline, so that each
// backend's loop is compiled with its own flags.
template <class S> inline void forward_block(Activation g, const S* Z, S* A, std::size_t n, std::size_t m,
                                             std::size_t ld) {
  if (g == Activation::softmax) {
    for (std::size_t j = 0; j < m; ++j) softmax_col(Z + j * ld, A + j * ld, n);
    return;
  }
  dispatch(g, [&](auto F) {
    if (ld == n) {
      for (std::size_t i = 0; i < n * m; ++i) A[i] = decltype(F)::f(Z[i]);
      return;
    }
    for (std::size_t j = 0; j < m; ++j)
      for (std::size_t i = 0; i < n; ++i) A[i + j * ld] = decltype(F)::f(Z[i + j * ld]);
  });
}
template <class S> inline void backward_block(Activation g, const S* Z, const S* A, const S* dA, S* dZ,
                                              std::size_t n, std::size_t m, std::size_t ld) {
  if (g == Activation::softmax) {
    for (std::size_t j = 0; j < m; ++j) softmax_col_backward(A + j * ld, dA + j * ld, dZ + j * ld, n);
    return;
  }
  dispatch(g, [&](auto F) {
    if (ld == n) {
      for (std::size_t i = 0; i < n * m; ++i) dZ[i] = dA[i] * decltype(F)::df(Z[i], A[i]);
      return;
    }
    for (std::size_t j = 0; j < m; ++j)
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t k = i + j * ld;
        dZ[k] = dA[k] * decltype(F)::df(Z[k], A[k]);
      }
  });
}

}  // namespace act

// Whole-matrix forms, one sample per column (Z, A, dA, dZ all n x m):
//   A  = g(Z)                      elementwise, or softmax per column
//   dZ = dA o g'(Z)                elementwise, or the softmax JVP per column
template <class T> void activate(Activation a, const arma::Mat<T>& Z, arma::Mat<T>& A);
template <class T>
void activate_backward(Activation a, const arma::Mat<T>& Z, const arma::Mat<T>& A,
                       const arma::Mat<T>& dA, arma::Mat<T>& dZ);
// g'(Z) elementwise (not for softmax).
template <class T> arma::Mat<T> activation_derivative(Activation a, const arma::Mat<T>& Z);

}  // namespace nnlab
