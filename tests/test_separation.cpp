// Hyperplanes: LP separability with certificates checked independently; the lectures' four
// points; the SVM's exact QP solution against its KKT conditions and against SGD.
#include "nnlab/backends/backend.hpp"
#include "nnlab/methods/separation.hpp"

#include <catch2/catch.hpp>

using namespace nnlab;
using namespace nnlab::sep;

namespace {
// Two Gaussian clouds at +-c, labels +-1 (seeded).
void clouds(std::size_t N, std::size_t D, double sep, unsigned seed, arma::mat& X, arma::vec& y) {
  arma::arma_rng::set_seed(seed);
  X = arma::randn(N, D);
  y.set_size(N);
  for (std::size_t n = 0; n < N; ++n) {
    y[n] = n % 2 ? 1.0 : -1.0;
    X.row(n) += y[n] * sep * arma::linspace<arma::rowvec>(1, 0.5, D);
  }
}
}  // namespace

TEST_CASE("the lectures' four points: no plane, and the Farkas certificate proves it", "[separation]") {
  const arma::mat X = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
  const arma::vec y = {1, 1, -1, -1};
  const auto s = linear_separation(X, y);
  REQUIRE_FALSE(s.separable);
  REQUIRE(s.t > 0.5);
  // Independent check: lambda >= 0, sum 1, sum lambda_n y_n [x_n; 1] = 0.
  REQUIRE(farkas_residual(X, y, s.lambda) <= 1e-12);
  // The certificate is the uniform one (1/4 each) -- the only one here.
  REQUIRE(arma::norm(s.lambda - 0.25, "inf") <= 1e-12);
}

TEST_CASE("a 2-layer ReLU network separates the four points (hand-built)", "[separation]") {
  // f(x) = |x1| - |x2| = relu(x1) + relu(-x1) - relu(x2) - relu(-x2)
  Network<double> net;
  net.loss = Loss::hinge;
  net.layers.push_back({Activation::relu, arma::mat{{1, 0}, {-1, 0}, {0, 1}, {0, -1}}, arma::vec(4, arma::fill::zeros)});
  net.layers.push_back({Activation::identity, arma::mat{{1, 1, -1, -1}}, arma::vec{0.0}});
  const arma::mat X = arma::mat{{1, 0}, {-1, 0}, {0, 1}, {0, -1}}.t();
  const arma::rowvec y = {1, 1, -1, -1};
  for (BackendKind k : kAllBackends) {
    Cache<double> c;
    make_backend<double>(k)->forward(net, X, c);
    REQUIRE(arma::all(y % c.A.back() >= 1));  // right side, margin 1: zero hinge loss
  }
}

TEST_CASE("separable clouds: the LP plane separates; close clouds: the certificate is valid", "[separation]") {
  for (std::size_t D : {1u, 2u, 3u, 5u})
    for (unsigned seed : {1u, 2u, 3u}) {
      arma::mat X;
      arma::vec y;
      clouds(40, D, 6.0, seed, X, y);
      auto s = linear_separation(X, y);
      REQUIRE(s.separable);
      REQUIRE(min_signed_margin(X, y, s.w, s.b) >= 1 - 1e-9);
      clouds(40, D, 0.2, seed, X, y);  // overlapping: not separable
      s = linear_separation(X, y);
      REQUIRE_FALSE(s.separable);
      REQUIRE(farkas_residual(X, y, s.lambda) <= 1e-9);
      REQUIRE(arma::accu(s.lambda > 0) >= 2);
    }
}

TEST_CASE("exact SVM: KKT conditions hold, and no feasible point beats it", "[separation][svm]") {
  for (unsigned seed : {4u, 5u, 6u}) {
    arma::mat X;
    arma::vec y;
    clouds(24, 2, 2.5, seed, X, y);
    const auto svm = svm_exact(X, y);
    // Stationarity w = sum alpha y x, sum alpha y = 0, alpha >= 0, complementary slackness.
    REQUIRE(arma::norm(svm.w - X.t() * (svm.alpha % y), "inf") <= 1e-10);
    REQUIRE(std::abs(arma::dot(svm.alpha, y)) <= 1e-10);
    REQUIRE(arma::all(svm.alpha >= -1e-12));
    const arma::vec m = y % (X * svm.w + svm.b);
    REQUIRE(arma::min(m) >= 1 - 1e-9);
    for (std::size_t n = 0; n < X.n_rows; ++n)
      if (svm.alpha[n] > 1e-9) REQUIRE(m[n] == Approx(1).epsilon(1e-9));
    // Strong duality: w'w = sum alpha.
    REQUIRE(arma::dot(svm.w, svm.w) == Approx(arma::accu(svm.alpha)).epsilon(1e-9));
  }
}

TEST_CASE("SGD on the hinge loss with L2 reaches the exact SVM margin to 1e-6", "[separation][svm][sgd]") {
  for (unsigned seed : {4u, 5u}) {
    arma::mat X;
    arma::vec y;
    clouds(24, 2, 2.5, seed, X, y);
    const auto exact = svm_exact(X, y);
    // lambda <= 1/(N max alpha*) makes the soft-margin minimiser the hard-margin SVM.
    const double lambda = 0.5 / (double(X.n_rows) * exact.alpha.max());
    const auto sgd = svm_sgd(X, y, lambda, 200000000, seed);
    INFO("seed " << seed << ": exact margin " << exact.margin << ", SGD " << sgd.margin);
    REQUIRE(std::abs(sgd.margin - exact.margin) <= 1e-6);
  }
}
