// Activations: values and derivatives against finite differences (both sides of every
// kink), PyTorch's kink conventions, the lectures' identities, softmax JVP.
#include "nnlab/core/activations.hpp"
#include "nnlab/methods/gradcheck.hpp"

#include <catch2/catch.hpp>
#include <cmath>

using namespace nnlab;

namespace {
bool is_kink(Activation a, double x, double h) {
  for (double k : kinks(a)) if (std::abs(x - k) <= 2.5 * h) return true;
  return false;
}
}  // namespace

TEST_CASE("every activation's derivative matches a 4th-order central difference", "[activations]") {
  for (Activation a : kAllActivations) {
    if (a == Activation::softmax) continue;
    INFO("activation " << name(a));
    const double h = 1e-3;
    int checked = 0;
    for (double x = -7.013; x <= 7.0; x += 0.0371) {  // dense grid, hits both sides of kinks
      if (is_kink(a, x, h)) continue;
      auto f = [a](double t) { return act::value(a, t); };
      const double fd = fd_central(f, x, h, 4);
      const double an = act::deriv(a, x);
      INFO("x = " << x);
      REQUIRE(std::abs(an - fd) <= 1e-9 * std::max(1.0, std::abs(an)));
      ++checked;
    }
    REQUIRE(checked > 300);
  }
}

TEST_CASE("derivatives just left and right of each kink are the one-sided limits", "[activations]") {
  for (Activation a : kAllActivations) {
    if (a == Activation::softmax) continue;
    for (double k : kinks(a)) {
      for (double side : {-1.0, 1.0}) {
        const double x = k + side * 1e-4, h = 1e-6;
        auto f = [a](double t) { return act::value(a, t); };
        INFO(name(a) << " at " << x);
        REQUIRE(act::deriv(a, x) == Approx(fd_central(f, x, h, 2)).epsilon(1e-6).margin(1e-9));
      }
    }
  }
}

TEST_CASE("values at kinks follow PyTorch", "[activations]") {
  auto d = [](Activation a, double x) { return act::deriv(a, x); };
  CHECK(d(Activation::relu, 0) == 0);
  CHECK(d(Activation::leaky_relu, 0) == 0.01);
  CHECK(d(Activation::rrelu, 0) == Approx(11.0 / 48).epsilon(1e-15));
  CHECK(d(Activation::elu, 0) == 1);
  CHECK(d(Activation::celu, 0) == 1);
  CHECK(d(Activation::selu, 0) == Approx(1.7580993408473766).epsilon(1e-15));
  CHECK(d(Activation::softsign, 0) == 1);
  CHECK(d(Activation::hardtanh, 1) == 0);
  CHECK(d(Activation::hardtanh, -1) == 0);
  CHECK(d(Activation::relu6, 0) == 0);
  CHECK(d(Activation::relu6, 6) == 0);
  CHECK(d(Activation::hardsigmoid, 3) == 0);
  CHECK(d(Activation::hardsigmoid, -3) == 0);
  CHECK(d(Activation::hardsigmoid, 1) == 1.0 / 6.0);  // exactly 1/6, not float-rounded
  for (double x : {-0.5, 0.5}) {
    CHECK(d(Activation::hardshrink, x) == 0);
    CHECK(d(Activation::softshrink, x) == 0);
    CHECK(act::value(Activation::hardshrink, x) == 0);
  }
  CHECK(act::value(Activation::softplus, 20.5) == 20.5);  // threshold: x itself above 20
  CHECK(act::value(Activation::softplus, 19.5) == Approx(std::log1p(std::exp(19.5))).epsilon(1e-15));
}

TEST_CASE("hand-checked values", "[activations]") {
  CHECK(act::value(Activation::sigmoid, 0.0) == 0.5);
  CHECK(act::value(Activation::gelu, 1.0) == Approx(0.8413447460685429).epsilon(1e-15));
  CHECK(act::value(Activation::selu, -1.0) == Approx(-1.1113307378125628).epsilon(1e-15));
  CHECK(act::value(Activation::logsigmoid, -800.0) == -800.0);  // stable, not -inf
  CHECK(act::value(Activation::sigmoid, -800.0) == 0.0);
  CHECK(act::value(Activation::softsign, -3.0) == -0.75);
  CHECK(act::value(Activation::hardsigmoid, 1.5) == 0.75);
  CHECK(act::value(Activation::tanhshrink, 0.5) == Approx(0.5 - std::tanh(0.5)).epsilon(1e-15));
}

TEST_CASE("the lectures' identities hold numerically", "[activations]") {
  // |x| <= 20: beyond, softplus switches to x (PyTorch's threshold) and drops log1p(e^-|x|).
  for (double x = -20; x <= 20; x += 0.25) {
    const double s = act::value(Activation::sigmoid, x);
    REQUIRE(s == Approx((std::tanh(x / 2) + 1) / 2).epsilon(1e-14).margin(1e-16));
    REQUIRE(act::value(Activation::logsigmoid, x) ==
            Approx(-act::value(Activation::softplus, -x)).epsilon(1e-14).margin(1e-300));
    REQUIRE(act::deriv(Activation::sigmoid, x) == Approx(s * (1 - s)).epsilon(1e-14).margin(1e-300));
  }
}

TEST_CASE("softmax: positive, sums to 1, stable, and its JVP matches the FD Jacobian", "[activations]") {
  arma::mat Z = {{1000.0, -3.0, 0.1}, {999.0, 2.0, 0.2}, {-1000.0, 0.5, 0.3}, {998.5, 1.0, -0.4}};
  arma::mat A;
  activate(Activation::softmax, Z, A);
  REQUIRE(A.is_finite());
  REQUIRE(arma::all(arma::vectorise(A) >= 0));
  for (arma::uword t = 0; t < A.n_cols; ++t) REQUIRE(arma::accu(A.col(t)) == Approx(1).epsilon(1e-15));
  // Full Jacobian by FD, then g' J against the JVP.
  arma::mat G = {{0.3, -1.0, 2.0}, {0.7, 0.5, -0.1}, {-0.2, 0.25, 1.0}, {1.5, -0.3, 0.0}};
  arma::mat dZ;
  activate_backward(Activation::softmax, Z, A, G, dZ);
  for (arma::uword t = 0; t < Z.n_cols; ++t)
    for (arma::uword j = 0; j < Z.n_rows; ++j) {
      auto f = [&](double v) {
        arma::mat Zp = Z;
        Zp(j, t) = v;
        arma::mat Ap;
        activate(Activation::softmax, Zp, Ap);
        return arma::dot(G.col(t), Ap.col(t));
      };
      REQUIRE(dZ(j, t) == Approx(fd_central(f, Z(j, t), 1e-3, 4)).epsilon(1e-8).margin(1e-12));
    }
}

TEMPLATE_TEST_CASE("matrix forms agree with the scalar forms", "[activations]", float, double) {
  arma::Mat<TestType> Z(5, 7, arma::fill::randn);
  Z *= TestType(3);
  for (Activation a : kAllActivations) {
    if (a == Activation::softmax) continue;
    arma::Mat<TestType> A, dZ, D = activation_derivative(a, Z);
    activate(a, Z, A);
    activate_backward(a, Z, A, arma::Mat<TestType>(5, 7, arma::fill::ones), dZ);
    for (arma::uword i = 0; i < Z.n_elem; ++i) {
      REQUIRE(A[i] == act::value(a, Z[i]));
      REQUIRE(dZ[i] == Approx(D[i]).epsilon(std::is_same_v<TestType, float> ? 1e-6 : 1e-15));
    }
  }
}

TEST_CASE("names round-trip and unknown names are refused", "[activations]") {
  for (Activation a : kAllActivations) REQUIRE(activation_from_name(name(a)) == a);
  REQUIRE_FALSE(activation_from_name("ReLU"));
  REQUIRE_FALSE(activation_from_name("swish"));
  REQUIRE_FALSE(complex_step_ok(Activation::gelu));
}
