// Double descent: the minimum-norm and ridge fits against direct formulas, the condition
// number, label noise, thread-count invariance, and the shape of the curve.
#include "nnlab/formats/data.hpp"
#include "nnlab/methods/double_descent.hpp"

#include <catch2/catch.hpp>

using namespace nnlab;
using namespace nnlab::dd;

namespace {
// Inputs N(0, I) in 20 dimensions, 3 classes by the largest of three random linear scores.
Split small_split(std::size_t n, std::size_t m, unsigned seed) {
  arma::arma_rng::set_seed(seed);
  const arma::mat B = arma::randn(3, 20);
  auto make = [&](std::size_t k, arma::mat& X, arma::mat& Y) {
    X = arma::randn(20, k);
    const arma::mat S = B * X;
    Y.zeros(3, k);
    for (arma::uword i = 0; i < k; ++i) Y(S.col(i).index_max(), i) = 1;
  };
  Split D;
  make(n, D.Xtr, D.Ytr);
  make(m, D.Xte, D.Yte);
  return D;
}
}  // namespace

TEST_CASE("minimum-norm fit: least squares below n, interpolation with the smallest norm above", "[dd]") {
  arma::arma_rng::set_seed(1);
  const arma::mat X = arma::randn(5, 40), Y = arma::randn(2, 40);
  // p < n: ordinary least squares on [A 1] (the output bias)
  auto m = fit_model(X, Y, 10, 0, 3);
  arma::mat A = features(m, X).t();  // n x p
  const arma::mat Wb = arma::solve(arma::join_rows(A, arma::ones(40)), Y.t());  // (p+1) x k
  REQUIRE(arma::norm(m.W.t() - Wb.head_rows(10), "inf") <= 1e-10);
  REQUIRE(arma::norm(m.b - Wb.row(10).t(), "inf") <= 1e-10);
  // p > n: interpolates, and W' = pinv(A_c) Y_c' (centred), b = ybar - W mu
  m = fit_model(X, Y, 120, 0, 3);
  A = features(m, X).t();
  arma::mat P = m.W * A.t();
  P.each_col() += m.b;
  REQUIRE(arma::norm(P - Y, "inf") <= 1e-9);
  const arma::mat Ac = A.each_row() - arma::mean(A, 0);
  const arma::mat Yc = Y.each_col() - arma::mean(Y, 1);
  REQUIRE(arma::norm(m.W.t() - arma::pinv(Ac) * Yc.t(), "inf") <= 1e-9);
  // condition = largest / smallest non-zero singular value of the centred A
  const arma::vec s = arma::svd(Ac);
  const arma::vec nz = s.elem(arma::find(s > 1e-10 * s.max()));
  REQUIRE(m.condition == Approx(nz.max() / nz.min()).epsilon(1e-9));
}

TEST_CASE("ridge fit from the SVD equals (A_c'A_c + lambda I)^-1 A_c'Y_c' (centred)", "[dd]") {
  arma::arma_rng::set_seed(2);
  const arma::mat X = arma::randn(4, 30), Y = arma::randn(3, 30);
  for (double lam : {1e-3, 0.1, 10.0})
    for (std::size_t p : {10u, 30u, 80u}) {
      const auto m = fit_model(X, Y, p, lam, 4);
      arma::mat A = features(m, X).t();
      A.each_row() -= arma::mean(A, 0);  // the bias is fitted by centring and not penalised
      const arma::mat Yc = Y.each_col() - arma::mean(Y, 1);
      const arma::mat direct = arma::solve(A.t() * A + lam * arma::eye(p, p), A.t() * Yc.t());
      REQUIRE(arma::norm(m.W.t() - direct, "inf") <= 1e-8 * std::max(1.0, arma::norm(direct, "inf")));
    }
}

TEST_CASE("label noise replaces the asked share of labels", "[dd]") {
  const auto d = data::blobs(20000, 4, 1, 3);
  arma::mat Y = data::encode(d, Loss::ce, 4);
  const arma::mat Y0 = Y;
  add_label_noise(Y, 0.2, 5);
  const double changed = arma::mean(arma::conv_to<arma::rowvec>::from(arma::any(Y != Y0, 0)));
  REQUIRE(changed == Approx(0.2 * 0.75).margin(0.01));  // a redrawn label is the old one 1/4 of the time
  REQUIRE(arma::all(arma::sum(Y, 0) == 1));
}

TEST_CASE("the sweep gives the same numbers for any thread count", "[dd][threads]") {
  const Split D = small_split(60, 200, 7);
  Options o;
  o.features = {5, 30, 55, 60, 65, 120, 400};
  o.trials = 2;
  o.ensemble = 3;
  o.seed = 9;
  o.threads = 1;
  const std::string one = to_csv(sweep(D, o), true);
  o.threads = 2;
  REQUIRE(to_csv(sweep(D, o), true) == one);
  o.threads = 3;
  REQUIRE(to_csv(sweep(D, o), true) == one);
}

TEST_CASE("double descent: the test error peaks at p = n, interpolation beyond, ensembles damp the peak", "[dd]") {
  const Split D = small_split(80, 1000, 11);
  Options o;
  o.features = {10, 20, 40, 60, 70, 80, 90, 100, 120, 160, 320, 640, 1600};
  o.trials = 3;
  o.ensemble = 8;
  o.seed = 1;
  o.threads = 2;
  const auto pts = sweep(D, o);
  std::size_t peak = 0;
  for (std::size_t j = 0; j < pts.size(); ++j) if (pts[j].test_mse > pts[peak].test_mse) peak = j;
  INFO(to_csv(pts, true));
  REQUIRE(pts[peak].features >= 64);   // within [0.8 n, 1.25 n]
  REQUIRE(pts[peak].features <= 100);
  REQUIRE(pts.back().test_mse * 3 < pts[peak].test_mse);
  for (const auto& p : pts)
    if (p.features > 100) REQUIRE(p.train_mse < 1e-20);  // interpolation
  REQUIRE(pts[4].features == 70);
  REQUIRE(pts[6].features == 90);
  for (std::size_t j : {4u, 6u}) {  // near the threshold, the average of 8 models errs less
    REQUIRE(pts[j].ens_test_error < pts[j].test_error - 0.05);
    REQUIRE(pts[j].ens_test_mse < pts[j].test_mse);
  }
  REQUIRE(pts[5].condition > 10 * pts.back().condition);
  const std::string csv = to_csv(pts, true);
  REQUIRE(csv.rfind("features,train_mse,test_mse,test_error,weight_norm,condition,ensemble_test_mse,ensemble_test_error\n", 0) == 0);
}
