// Losses: hand-checked values, stability, gradients against finite differences.
#include "nnlab/methods/gradcheck.hpp"
#include "nnlab/core/loss.hpp"

#include <catch2/catch.hpp>
#include <cmath>

using namespace nnlab;

namespace {
// Per-sample loss as a function of z (the last activation applied as the loss requires).
double loss_of_z(Loss l, Activation g, const arma::vec& z, const arma::vec& y) {
  arma::mat Z(z), A;
  activate(g, Z, A);
  return lossfn::value(l, Z.memptr(), A.memptr(), y.memptr(), z.n_elem);
}
}  // namespace

TEST_CASE("hand-checked loss values", "[loss]") {
  const double z[] = {0.0, 2.0}, a[] = {0.5, 1.5}, y[] = {1.0, 0.5};
  CHECK(lossfn::value(Loss::mse, z, a, y, 2) == Approx(0.5 * (0.25 + 1.0)).epsilon(1e-15));
  const double yh[] = {1.0, -1.0};
  CHECK(lossfn::value(Loss::hinge, z, a, yh, 2) == Approx(0.5 + 2.5).epsilon(1e-15));
  // bce at z = 0: log 2 whatever y
  const double z0[] = {0.0}, a0[] = {0.5}, y0[] = {0.3};
  CHECK(lossfn::value(Loss::bce, z0, a0, y0, 1) == Approx(std::log(2.0)).epsilon(1e-15));
  // ce with equal logits over 4 classes: log 4
  const double z4[] = {1.0, 1.0, 1.0, 1.0}, a4[] = {0.25, 0.25, 0.25, 0.25}, y4[] = {0, 0, 1, 0};
  CHECK(lossfn::value(Loss::ce, z4, a4, y4, 4) == Approx(std::log(4.0)).epsilon(1e-15));
}

TEST_CASE("bce and ce are stable for huge logits", "[loss]") {
  const double z[] = {800.0, -800.0}, a[] = {1.0, 0.0}, y[] = {0.0, 1.0};
  const double b = lossfn::value(Loss::bce, z, a, y, 2);
  CHECK(b == Approx(1600.0).epsilon(1e-15));  // each term is |z|
  const double zc[] = {1000.0, 0.0, -1000.0}, ac[] = {1.0, 0.0, 0.0}, yc[] = {0.0, 1.0, 0.0};
  CHECK(lossfn::value(Loss::ce, zc, ac, yc, 3) == Approx(1000.0).epsilon(1e-15));
}

TEST_CASE("each loss's gradient matches finite differences", "[loss]") {
  struct L { Loss loss; Activation g; };
  for (auto [loss, g] : {L{Loss::mse, Activation::identity}, L{Loss::mse, Activation::softmax},
                         L{Loss::hinge, Activation::tanh}, L{Loss::bce, Activation::sigmoid},
                         L{Loss::ce, Activation::softmax}}) {
    INFO("loss " << name(loss) << " with " << name(g));
    arma::arma_rng::set_seed(3);
    for (int trial = 0; trial < 20; ++trial) {
      arma::vec z = 2.0 * arma::randn<arma::vec>(4), y(4);
      if (loss == Loss::hinge) y = {1, -1, -1, 1};
      else if (loss == Loss::ce) { y = arma::randu<arma::vec>(4); y /= arma::accu(y); }
      else y = arma::randu<arma::vec>(4);
      arma::mat Z(z), A;
      activate(g, Z, A);
      arma::vec G(4), dz(4);
      lossfn::gradient(loss, A.memptr(), y.memptr(), G.memptr(), 4, 1.0);
      if (fused_with_activation(loss)) dz = G;
      else { arma::mat D; activate_backward(g, Z, A, arma::mat(G), D); dz = D; }
      for (int k = 0; k < 4; ++k) {
        if (loss == Loss::hinge && std::abs(1 - y[k] * A[k]) < 1e-2) continue;  // kink
        auto f = [&](double v) { arma::vec zz = z; zz[k] = v; return loss_of_z(loss, g, zz, y); };
        REQUIRE(dz[k] == Approx(fd_central(f, z[k], 1e-3, 4)).epsilon(1e-8).margin(1e-11));
      }
    }
  }
}

TEST_CASE("hinge derivative is 0 at the kink; ce gradient uses sum(y)", "[loss]") {
  const double a[] = {1.0}, y[] = {1.0};
  double g[1];
  lossfn::gradient(Loss::hinge, a, y, g, 1, 1.0);
  CHECK(g[0] == 0);
  const double ac[] = {0.2, 0.8}, yc[] = {0.5, 0.7};  // not normalised: gradient a*1.2 - y
  double gc[2];
  lossfn::gradient(Loss::ce, ac, yc, gc, 2, 1.0);
  CHECK(gc[0] == Approx(0.2 * 1.2 - 0.5).epsilon(1e-15));
  CHECK(gc[1] == Approx(0.8 * 1.2 - 0.7).epsilon(1e-15));
}

TEST_CASE("loss names and requirements", "[loss]") {
  for (Loss l : kAllLosses) REQUIRE(loss_from_name(name(l)) == l);
  REQUIRE_FALSE(loss_from_name("MSE"));
  REQUIRE(required_last_activation(Loss::bce) == Activation::sigmoid);
  REQUIRE(required_last_activation(Loss::ce) == Activation::softmax);
  REQUIRE_FALSE(required_last_activation(Loss::mse));
}
