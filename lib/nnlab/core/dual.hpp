// nnlab/core/dual.hpp -- dual numbers: x = v + d eps with eps^2 = 0, for forward-mode
// differentiation.  f(v + d eps) = f(v) + f'(v) d eps, so running any template of nnlab in
// Dual arithmetic (the naive backend's loops, the activations, the losses) carries a
// directional derivative along with every value, exactly (no step, no cancellation).
//
// Branches on the value (act::re) keep the branch of the value: at a kink the derivative is
// that branch's, the rule the first derivatives follow (a piecewise-linear piece has second
// derivative 0).  Armadillo holds Dual elements (is_supported_elem_type below) for element
// access and storage; nothing here calls BLAS on them.
#pragma once
#include <armadillo>

#include <cmath>
#include <ostream>

namespace nnlab::ad {

template <class R> struct Dual {
  R v{}, d{};  // value and tangent
  constexpr Dual() = default;
  constexpr Dual(R value, R tangent = R(0)) : v(value), d(tangent) {}  // NOLINT: numbers convert
  constexpr Dual(int value) : v(R(value)), d(R(0)) {}                  // NOLINT

  constexpr Dual& operator+=(const Dual& o) { v += o.v; d += o.d; return *this; }
  constexpr Dual& operator-=(const Dual& o) { v -= o.v; d -= o.d; return *this; }
  constexpr Dual& operator*=(const Dual& o) { d = d * o.v + v * o.d; v *= o.v; return *this; }
  constexpr Dual& operator/=(const Dual& o) { d = (d * o.v - v * o.d) / (o.v * o.v); v /= o.v; return *this; }
};

template <class R> constexpr Dual<R> operator+(Dual<R> a, const Dual<R>& b) { return a += b; }
template <class R> constexpr Dual<R> operator-(Dual<R> a, const Dual<R>& b) { return a -= b; }
template <class R> constexpr Dual<R> operator*(Dual<R> a, const Dual<R>& b) { return a *= b; }
template <class R> constexpr Dual<R> operator/(Dual<R> a, const Dual<R>& b) { return a /= b; }
template <class R> constexpr Dual<R> operator-(const Dual<R>& a) { return {-a.v, -a.d}; }
template <class R> constexpr bool operator==(const Dual<R>& a, const Dual<R>& b) { return a.v == b.v && a.d == b.d; }
template <class R> constexpr bool operator!=(const Dual<R>& a, const Dual<R>& b) { return !(a == b); }

// f(v + d eps) = f(v) + f'(v) d eps
template <class R> Dual<R> exp(const Dual<R>& x) { using std::exp; const R e = exp(x.v); return {e, e * x.d}; }
template <class R> Dual<R> log(const Dual<R>& x) { using std::log; return {log(x.v), x.d / x.v}; }
template <class R> Dual<R> log1p(const Dual<R>& x) { using std::log1p; return {log1p(x.v), x.d / (R(1) + x.v)}; }
template <class R> Dual<R> expm1(const Dual<R>& x) {
  using std::exp, std::expm1;
  return {expm1(x.v), exp(x.v) * x.d};
}
template <class R> Dual<R> sqrt(const Dual<R>& x) { using std::sqrt; const R s = sqrt(x.v); return {s, x.d / (R(2) * s)}; }
template <class R> Dual<R> tanh(const Dual<R>& x) { using std::tanh; const R t = tanh(x.v); return {t, (R(1) - t * t) * x.d}; }
template <class R> Dual<R> atan(const Dual<R>& x) { using std::atan; return {atan(x.v), x.d / (R(1) + x.v * x.v)}; }
template <class R> Dual<R> erf(const Dual<R>& x) {
  using std::erf, std::exp;
  return {erf(x.v), R(M_2_SQRTPI) * exp(-x.v * x.v) * x.d};
}

template <class R> std::ostream& operator<<(std::ostream& o, const Dual<R>& x) { return o << x.v << " + " << x.d << " eps"; }

template <class S> struct is_dual : std::false_type {};
template <class R> struct is_dual<Dual<R>> : std::true_type {};

}  // namespace nnlab::ad

namespace arma {
template <class R> struct is_supported_elem_type<nnlab::ad::Dual<R>> {
  static constexpr bool value = true;
};
}  // namespace arma
