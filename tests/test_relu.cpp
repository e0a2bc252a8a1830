// ReLU constructions: each against its formula, exactly on integer inputs, on every backend;
// memorization properties over random N, D and lattice points; Zhang et al.'s construction.
#include "nnlab/backends/backend.hpp"
#include "nnlab/methods/relu_constructions.hpp"

#include <catch2/catch.hpp>
#include <random>
#include <set>

using namespace nnlab;
using namespace nnlab::relu;

namespace {
arma::rowvec eval(const Network<double>& net, const arma::mat& X, BackendKind k) {
  Cache<double> c;
  make_backend<double>(k, 2)->forward(net, X, c);
  return c.A.back().row(0);
}
// Random integer points in [-R, R]^D, one per column.
arma::mat lattice(std::size_t D, std::size_t M, int R, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> U(-R, R);
  arma::mat X(D, M);
  for (auto& v : X) v = U(rng);
  return X;
}
}  // namespace

TEST_CASE("|x|, ||x||_1, ||x - q||_1 and the pseudo-dirac: exact on integers, every backend", "[relu]") {
  std::mt19937_64 rng(1);
  for (BackendKind k : kAllBackends) {
    const arma::mat x1 = lattice(1, 50, 20, rng);
    REQUIRE(arma::all(eval(abs_net(), x1, k) == arma::abs(x1)));
    REQUIRE(abs_net().n_neurons() == 3);
    for (std::size_t D : {1u, 2u, 3u, 7u}) {
      const arma::mat X = lattice(D, 60, 5, rng);
      const arma::vec q = arma::conv_to<arma::vec>::from(lattice(D, 1, 5, rng));
      REQUIRE(l1_norm_net(D).n_neurons() == 2 * D + 1);
      REQUIRE(arma::all(eval(l1_norm_net(D), X, k) == arma::sum(arma::abs(X), 0)));
      const arma::rowvec dist = arma::sum(arma::abs(X.each_col() - q), 0);
      REQUIRE(arma::all(eval(l1_dist_net(q), X, k) == dist));
      const arma::rowvec g = eval(pseudo_dirac_net(q), arma::join_rows(X, arma::mat(q)), k);
      REQUIRE(g(g.n_elem - 1) == 1.0);  // g_q(q) = 1
      REQUIRE(arma::all(g.head(X.n_cols) == arma::clamp(1 - dist, 0.0, arma::datum::inf)));
    }
  }
}

TEST_CASE("memorization: f(x_n) = y_n exactly, 0 off the unit L1 balls, 2ND + N + 1 neurons", "[relu][memorize]") {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> Nd(1, 30), Dd(1, 4);
  std::normal_distribution<double> G(0, 3);
  for (int trial = 0; trial < 25; ++trial) {
    const std::size_t N = Nd(rng), D = Dd(rng);
    // N distinct lattice points in [-20, 20]^D (41^D >= 41 > 30 candidates)
    std::set<std::vector<int>> seen;
    arma::mat X(N, D);
    for (std::size_t n = 0; n < N;) {
      const arma::mat p = lattice(D, 1, 20, rng);
      std::vector<int> key(p.begin(), p.end());
      if (!seen.insert(key).second) continue;
      X.row(n++) = p.t();
    }
    arma::vec y(N);
    for (auto& v : y) v = G(rng);
    const auto net = memorize_net(X, y);
    REQUIRE(net.n_neurons() == 2 * N * D + N + 1);
    REQUIRE(net.layers[0].W.n_rows == 2 * N * D);
    REQUIRE(net.layers[1].W.n_rows == N);
    const arma::mat probe = lattice(D, 200, 22, rng);
    for (BackendKind k : kAllBackends) {
      INFO("N " << N << " D " << D << " backend " << name(k));
      REQUIRE(arma::all(eval(net, X.t(), k) == y.t()));  // exactly
      const arma::rowvec f = eval(net, probe, k);
      for (arma::uword m = 0; m < probe.n_cols; ++m) {
        const arma::mat Xt = X.t();
        const double dmin = arma::min(arma::sum(arma::abs(Xt.each_col() - probe.col(m)), 0));
        if (dmin >= 1) REQUIRE(f[m] == 0.0);
      }
    }
  }
}

TEST_CASE("memorization refuses non-integer or repeated points", "[relu][memorize]") {
  REQUIRE_THROWS_WITH(memorize_net(arma::mat{{0.5, 1}}, arma::vec{1.0}, "x.csv"),
                      Catch::Contains("x.csv: line 1, column 1: coordinates must be integers"));
  REQUIRE_THROWS_WITH(memorize_net(arma::mat{{1, 2}, {3, 4}, {1, 2}}, arma::vec{1.0, 2.0, 3.0}, "x.csv"),
                      Catch::Contains("lines 1 and 3 hold the same point"));
}

TEST_CASE("Zhang et al.: N hidden units, 2N + D weights, f(x_n) = y_n to 1e-12", "[relu][zhang]") {
  std::mt19937_64 rng(3);
  for (std::size_t N : {1u, 5u, 40u, 200u})
    for (std::size_t D : {1u, 3u, 10u}) {
      arma::mat X = arma::conv_to<arma::mat>::from(lattice(D, N, 1000, rng)).t();
      X += 0.001 * arma::randu(N, D);  // distinct (not integer: this one needs no lattice)
      arma::vec y = arma::randn(N);
      const auto z = zhang_net(X, y, 11);
      REQUIRE(z.net.layers[0].W.n_rows == N);
      REQUIRE(z.a.n_elem + z.b.n_elem + z.w.n_elem == 2 * N + D);
      for (BackendKind k : {BackendKind::naive, BackendKind::matrix}) {
        const arma::rowvec f = eval(z.net, X.t(), k);
        INFO("N " << N << " D " << D);
        REQUIRE(arma::norm(f.t() - y, "inf") <= 1e-12 * std::max(1.0, arma::norm(z.w, 1) * arma::abs(X * z.a).max()));
      }
    }
}
