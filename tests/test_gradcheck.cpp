// The checker itself: it must catch wrong gradients, report kinks, refuse vacuous passes,
// and its complex-step and directional modes must agree with the analytic gradient.
#include "helpers.hpp"
#include "nnlab/methods/gradcheck.hpp"

#include <catch2/catch.hpp>

using namespace nnlab;
using test::make_case;

namespace {
// A backend with a planted bug: dW[0](0,0) off by a relative 1e-5.
class Broken final : public Backend<double> {
 public:
  explicit Broken(double rel) : inner_(make_backend<double>(BackendKind::matrix)), rel_(rel) {}
  BackendKind kind() const override { return BackendKind::matrix; }
  void forward(const Network<double>& n, const arma::mat& X, Cache<double>& c) override { inner_->forward(n, X, c); }
  double cost(const Network<double>& n, const arma::mat& Y, Cache<double>& c) override { return inner_->cost(n, Y, c); }
  void backward(const Network<double>& n, const arma::mat& X, const arma::mat& Y, Cache<double>& c,
                Grads<double>& g, bool dx) override {
    inner_->backward(n, X, Y, c, g, dx);
    g.dW[0](0, 0) *= 1 + rel_;
  }

  void vjp(const Network<double>& n, const arma::mat& X, const arma::mat& dA, Cache<double>& c, Grads<double>& g,
           bool dx) override {
    inner_->vjp(n, X, dA, c, g, dx);
  }

 private:
  std::unique_ptr<Backend<double>> inner_;
  double rel_;
};
}  // namespace

TEST_CASE("a gradient wrong by 1e-5 relative in one entry fails, and the entry is named", "[gradcheck]") {
  auto c = make_case(1, 2, Activation::tanh, Loss::mse, 10);
  Broken bad(1e-5);
  const auto r = check_fd(bad, c.net, c.X, c.Y);
  REQUIRE_FALSE(r.passed);
  REQUIRE(r.blocks[0].name == "W1");
  REQUIRE_FALSE(r.blocks[0].passed);
  REQUIRE(r.blocks[0].worst == 0);
  REQUIRE(r.blocks[0].max_rel == Approx(1e-5).epsilon(1e-3));
  for (std::size_t i = 1; i < r.blocks.size(); ++i) REQUIRE(r.blocks[i].passed);
  // The directional mode sees it too when the error is large enough to show in v'g.
  Broken worse(1e-2);
  REQUIRE_FALSE(check_directional(worse, c.net, c.X, c.Y, 1).passed);
  REQUIRE(check_directional(*make_backend<double>(BackendKind::matrix), c.net, c.X, c.Y, 1).passed);
}

TEST_CASE("a stencil across a ReLU kink is reported as a kink, not as a failure", "[gradcheck]") {
  // One relu neuron whose pre-activation is 1e-5 at sample 0: the FD stencil (h = 1e-3)
  // straddles 0 when b moves.
  Network<double> net;
  net.loss = Loss::mse;
  const arma::mat W = arma::mat{1.0, 0.7}.t();  // 2 x 1
  net.layers.push_back({Activation::relu, W, arma::vec{1e-5 - 0.5, 0.2}});
  arma::mat X = {{0.5, 2.0}}, Y = {{0.3, -1.0}, {0.1, 0.4}};
  auto be = make_backend<double>(BackendKind::naive);
  const auto r = check_fd(*be, net, X, Y);
  REQUIRE(r.blocks[1].name == "b1");
  REQUIRE(r.blocks[1].n_kink == 1);
  REQUIRE(r.blocks[0].n_kink == 1);
  REQUIRE(r.passed);
}

TEST_CASE("an all-zero gradient never passes", "[gradcheck]") {
  // Every relu dead: gradient exactly 0, FD exactly 0.  A vacuous pass is refused.
  Network<double> net;
  net.loss = Loss::mse;
  net.layers.push_back({Activation::relu, arma::mat{{1.0, -1.0}}, arma::vec{-100.0}});
  arma::mat X = {{0.5, 1.0}, {0.1, 0.2}}, Y = {{1.0, 1.0}};
  auto be = make_backend<double>(BackendKind::matrix);
  REQUIRE_FALSE(check_fd(*be, net, X, Y).passed);
}

TEST_CASE("complex step agrees with the analytic gradient to 1e-13", "[gradcheck][complex]") {
  std::size_t idx = 0;
  for (Activation a : kAllActivations) {
    if (!complex_step_ok(a)) continue;
    for (Loss loss : kAllLosses) {
      ++idx;
      auto c = make_case(900 + idx, 1 + idx % 4, a, loss, 1 + idx % 9, idx % 2 ? 0.01 : 0, 0.01);
      const auto r = check_complex_step(c.net, c.X, c.Y, true);
      INFO(name(a) << " " << name(loss));
      for (const auto& b : r.blocks) {
        INFO(b.name << " rel " << b.max_rel << " verdict " << b.verdict);
        REQUIRE(b.max_rel <= kComplexStepRelTol);
      }
    }
  }
  auto g = make_case(1, 2, Activation::gelu, Loss::mse, 3);
  REQUIRE_THROWS(check_complex_step(g.net, g.X, g.Y));
}

TEST_CASE("central differences: error of order 2 and 4 shrinks as h^2 and h^4", "[gradcheck]") {
  auto f = [](double x) { return std::sin(3 * x) * std::exp(x); };
  const double x = 0.3, d = 3 * std::cos(0.9) * std::exp(0.3) + std::sin(0.9) * std::exp(0.3);
  const double e2a = std::abs(fd_central(f, x, 1e-2, 2) - d), e2b = std::abs(fd_central(f, x, 5e-3, 2) - d);
  const double e4a = std::abs(fd_central(f, x, 1e-2, 4) - d), e4b = std::abs(fd_central(f, x, 5e-3, 4) - d);
  CHECK(e2a / e2b == Approx(4).epsilon(0.02));
  CHECK(e4a / e4b == Approx(16).epsilon(0.05));
  CHECK(std::abs(fd_forward(f, x, 1e-4) - d) > 1e-5);  // forward differences are O(h)
}
