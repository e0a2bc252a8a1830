// Second order: forward mode and Hessian-vector products, the triad of the first order one
// level up: hand-checked second derivatives and a hand-checked Hessian; every activation's g''
// against central differences of g'; whole networks over every activation and loss, H v by
// dual numbers against the R-operator, the complex step of the gradient and central
// differences of the gradient.
#include "helpers.hpp"
#include "nnlab/methods/gradcheck.hpp"
#include "nnlab/methods/hessian.hpp"

#include <catch2/catch.hpp>

using namespace nnlab;
using test::make_case;

namespace {
// Blockwise relative difference of two directions, the worst block.
double worst_rel(const Grads<double>& a, const Grads<double>& b) {
  double w = 0;
  for (std::size_t l = 0; l < a.dW.size(); ++l) {
    w = std::max(w, rel_diff(a.dW[l], b.dW[l]));
    w = std::max(w, rel_diff(arma::mat(a.db[l]), arma::mat(b.db[l])));
  }
  return w;
}
}  // namespace

TEST_CASE("hand-checked second derivatives of the activations, and the kink rule", "[hessian]") {
  const auto d2 = [](Activation a, double x) { return act::second_derivative(a, x); };
  for (double x : {-2.5, -0.3, 0.0, 0.7, 3.1}) {
    const double s = 1 / (1 + std::exp(-x)), t = std::tanh(x);
    INFO("x = " << x);
    CHECK(d2(Activation::sigmoid, x) == Approx(s * (1 - s) * (1 - 2 * s)).epsilon(1e-14).margin(1e-16));
    CHECK(d2(Activation::tanh, x) == Approx(-2 * t * (1 - t * t)).epsilon(1e-14).margin(1e-16));
    CHECK(d2(Activation::softplus, x) == Approx(s * (1 - s)).epsilon(1e-14));
    CHECK(d2(Activation::logsigmoid, x) == Approx(-s * (1 - s)).epsilon(1e-14));
    CHECK(d2(Activation::atan, x) == Approx(-2 * x / std::pow(1 + x * x, 2)).epsilon(1e-14).margin(1e-16));
    CHECK(d2(Activation::gelu, x) ==
          Approx(std::exp(-x * x / 2) / std::sqrt(2 * M_PI) * (2 - x * x)).epsilon(1e-14).margin(1e-16));
    CHECK(d2(Activation::tanhshrink, x) == Approx(2 * t * (1 - t * t)).epsilon(1e-14).margin(1e-16));
    CHECK(d2(Activation::identity, x) == 0);
  }
  // Piecewise linear: 0 everywhere, kinks included.  Elsewhere at a kink: the branch the first
  // derivative takes (elu'(0) = 1 from alpha e^x: elu''(0) = 1; selu the same times its scale).
  for (Activation a : {Activation::relu, Activation::leaky_relu, Activation::rrelu, Activation::hardtanh,
                       Activation::relu6, Activation::hardsigmoid, Activation::hardshrink, Activation::softshrink})
    for (double x : {-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0}) CHECK(d2(a, x) == 0);
  CHECK(d2(Activation::elu, 0.0) == 1);
  CHECK(d2(Activation::celu, 0.0) == 1);
  CHECK(d2(Activation::selu, 0.0) == Approx(act::kSeluScale * act::kSeluAlpha).epsilon(1e-15));
  CHECK(d2(Activation::elu, 0.5) == 0);
  CHECK(d2(Activation::softsign, -0.5) == Approx(2 / std::pow(1.5, 3)).epsilon(1e-14));
}

TEST_CASE("every activation's g'' matches central differences of g'", "[hessian]") {
  const double h = 1e-4;
  for (Activation a : kAllActivations) {
    if (a == Activation::softmax) continue;
    for (double x = -6.93; x <= 7.0; x += 0.173) {
      bool near_kink = false;
      for (double k : kinks(a)) near_kink = near_kink || std::abs(x - k) <= 3 * h;
      if (near_kink) continue;
      const auto f = [a](double t) { return act::deriv(a, t); };
      INFO(name(a) << " at " << x);
      REQUIRE(act::second_derivative(a, x) ==
              Approx(fd_central(f, x, h, 4)).epsilon(1e-7).margin(1e-9));
    }
  }
}

TEST_CASE("hand-checked: a linear neuron's Hessian is (1/m) sum [x; 1][x; 1]'", "[hessian]") {
  // J = (1/2m) sum_k (w.x_k + b - y_k)^2 + l2 |w|^2: H = (1/m) sum [x;1][x;1]' + 2 l2 diag(1, 1, 0).
  Network<double> net;
  net.loss = Loss::mse;
  net.l2 = 0.1;
  net.layers.push_back({Activation::identity, arma::mat{{0.3, -0.7}}, arma::vec{0.2}});
  const arma::mat X = {{1, 2, -1}, {0.5, -1, 3}}, Y = {{0.1, 0.4, -0.2}};
  arma::mat Xa = arma::join_cols(X, arma::ones(1, 3));
  arma::mat H = Xa * Xa.t() / 3;
  H(0, 0) += 0.2;
  H(1, 1) += 0.2;
  Grads<double> v;
  v.dW = {arma::mat{{1.5, -2}}};
  v.db = {arma::vec{0.25}};
  const arma::vec want = H * arma::vec{1.5, -2, 0.25};
  for (const Grads<double>& got : {hvp(net, X, Y, v), hvp_rop(net, X, Y, v), hvp_complex_step(net, X, Y, v)}) {
    CHECK(got.dW[0](0, 0) == Approx(want[0]).epsilon(1e-14));
    CHECK(got.dW[0](0, 1) == Approx(want[1]).epsilon(1e-14));
    CHECK(got.db[0](0) == Approx(want[2]).epsilon(1e-14));
  }
}

TEST_CASE("H v over every activation and loss: dual numbers = R-operator = complex step = differences",
          "[hessian]") {
  std::size_t idx = 0, fd_checked = 0;
  for (Activation a : kAllActivations)
    for (Loss loss : kAllLosses) {
      ++idx;
      const std::size_t depth = 1 + idx % 4, m = 1 + idx % 7;
      const double l1 = idx % 3 == 1 ? 0.01 : 0, l2 = idx % 3 == 2 ? 0.02 : 0;
      const auto c = make_case(700 + idx, depth, a, loss, m, l1, l2);
      const Grads<double> v = random_direction(c.net, 40 + idx);
      double J = 0;
      const Grads<double> H = hvp(c.net, c.X, c.Y, v, &J);
      INFO(name(a) << " / " << name(loss) << " depth " << depth << " m " << m << " l1 " << l1 << " l2 " << l2);
      REQUIRE(std::isfinite(J));
      REQUIRE(H.flatten().is_finite());
      // The R-operator: other code, other order of sums.
      CHECK(worst_rel(hvp_rop(c.net, c.X, c.Y, v), H) <= 1e-11);
      // Complex step: no cancellation; only the round-off of the two computations remains.
      if (complex_step_ok(a)) CHECK(worst_rel(hvp_complex_step(c.net, c.X, c.Y, v), H) <= 1e-12);
      // Central differences of the gradient (off the kinks): truncation h^4, round-off
      // eps |grad| / h, against the size of H v.
      bool kink = false;
      const Grads<double> F = hvp_fd(c.net, c.X, c.Y, v, 4, 1e-3, &kink);
      if (kink) continue;
      ++fd_checked;
      const double err = arma::norm(F.flatten() - H.flatten(), "inf"),
                   scale = std::max(arma::norm(H.flatten(), "inf"), 1e-3 * std::abs(J));
      CHECK(err <= 1e-6 * scale);
    }
  CHECK(fd_checked >= idx * 3 / 4);  // kinks are rare, or the differences say little
}

TEST_CASE("forward mode: v' grad J and the output's JVP match reverse mode and differences", "[hessian][jvp]") {
  std::size_t idx = 0;
  for (Activation a : kAllActivations)
    for (Loss loss : kAllLosses) {
      ++idx;
      const auto c = make_case(900 + idx, 1 + idx % 5, a, loss, 1 + idx % 9, idx % 2 ? 0.01 : 0, 0.02);
      const Grads<double> v = random_direction(c.net, idx);
      const Jvp f = jvp(c.net, c.X, c.Y, v);
      const arma::vec vf = v.flatten();
      for (BackendKind k : kAllBackends) {
        Cache<double> cache;
        Grads<double> g;
        const double J = make_backend<double>(k, 2)->value_and_grad(c.net, c.X, c.Y, cache, g);
        const arma::vec gf = g.flatten();
        INFO(name(a) << " / " << name(loss) << " on " << name(k));
        CHECK(f.J == Approx(J).epsilon(1e-13));
        // a dot product's error is relative to the sum of its terms' sizes
        CHECK(std::abs(f.dJ - arma::dot(vf, gf)) <= 1e-13 * arma::dot(arma::abs(vf), arma::abs(gf)));
      }
      // the output's derivative along v, against central differences of the output
      const arma::vec theta = flatten_params(c.net);
      Network<double> p = c.net;
      const auto out = [&](double t) {
        set_params(p, arma::vec(theta + t * vf));
        Cache<double> cc;
        make_backend<double>(BackendKind::naive)->forward(p, c.X, cc);
        return arma::mat(cc.A.back());
      };
      bool kink = false;
      {
        Cache<double> c0, c1;
        auto nb = make_backend<double>(BackendKind::naive);
        nb->forward(c.net, c.X, c0);
        for (double t : {-2e-3, 2e-3}) {
          set_params(p, arma::vec(theta + t * vf));
          nb->forward(p, c.X, c1);
          kink = kink || kink_signature(p, c1, c.Y) != kink_signature(c.net, c0, c.Y);
        }
      }
      if (kink) continue;
      const double h = 1e-3;
      const arma::mat d = (-out(2 * h) + 8 * out(h) - 8 * out(-h) + out(-2 * h)) / (12 * h);
      CHECK(arma::norm(d - f.dA, "inf") <= 1e-7 * std::max(1.0, arma::norm(f.dA, "inf")));
    }
}

TEST_CASE("a direction in other shapes is refused, naming the layer", "[hessian]") {
  const auto c = make_case(5, 2, Activation::tanh, Loss::mse, 3);
  Grads<double> v = random_direction(c.net, 1);
  v.dW[1] = arma::mat(2, 2);
  CHECK_THROWS_WITH(hvp(c.net, c.X, c.Y, v), Catch::Contains("layer 2"));
  v.dW.pop_back();
  CHECK_THROWS_WITH(hvp_rop(c.net, c.X, c.Y, v), Catch::Contains("layers"));
}

TEST_CASE("at the kinks every method takes the first derivative's branch (the contract's rule)", "[hessian][kinks]") {
  // Integer weights and inputs, biases on the kinks: many pre-activations exactly on them.
  for (Activation a : {Activation::relu, Activation::relu6, Activation::hardtanh, Activation::elu, Activation::selu,
                       Activation::softsign, Activation::leaky_relu, Activation::hardshrink, Activation::softshrink,
                       Activation::hardsigmoid}) {
    Network<double> net;
    net.loss = Loss::mse;
    net.l1 = 0.01;
    const auto ks = kinks(a);
    net.layers.push_back({a, arma::mat{{1, 0}, {0, 1}, {1, -1}}, arma::vec{-ks.front(), -ks.back(), 0.0}});
    net.layers.push_back({Activation::tanh, arma::mat{{0.5, -1, 0}}, arma::vec{0.0}});  // a weight exactly 0 under l1
    const arma::mat X = {{0, 1, ks.back()}, {0, 2, ks.front()}}, Y = {{0.3, -0.2, 0.1}};
    const Grads<double> v = random_direction(net, 5);
    const Grads<double> H = hvp(net, X, Y, v);
    INFO(name(a));
    CHECK(worst_rel(hvp_rop(net, X, Y, v), H) <= 1e-13);
    CHECK(worst_rel(hvp_complex_step(net, X, Y, v), H) <= 1e-13);
    // forward mode's v' grad J agrees with the reverse gradient's kink values
    Cache<double> c;
    Grads<double> g;
    make_backend<double>(BackendKind::naive)->value_and_grad(net, X, Y, c, g);
    CHECK(jvp(net, X, Y, v).dJ == Approx(arma::dot(v.flatten(), g.flatten())).epsilon(1e-14).margin(1e-16));
  }
}
