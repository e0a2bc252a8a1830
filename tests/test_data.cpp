// Data sets: determinism by seed, shapes, target encodings, accuracy, Fashion-MNIST.
#include "nnlab/formats/data.hpp"
#include "nnlab/core/error.hpp"

#include <catch2/catch.hpp>

using namespace nnlab;
using namespace nnlab::data;

namespace {
// A (r x c) equals the row-major values v exactly.
bool equals(const arma::mat& A, std::size_t r, std::size_t c, std::initializer_list<double> v) {
  if (A.n_rows != r || A.n_cols != c || v.size() != r * c) return false;
  std::size_t k = 0;
  for (double x : v) { if (A(k / c, k % c) != x) return false; ++k; }
  return true;
}
}  // namespace

TEST_CASE("generated sets: same seed, same numbers; another seed, other numbers", "[data]") {
  for (const char* n : {"moons", "circles", "spirals", "blobs"}) {
    const auto a = by_name(n, 5), b = by_name(n, 5), c = by_name(n, 6);
    INFO(n);
    REQUIRE(a.X.n_rows == 2);
    REQUIRE(a.X.n_cols == 1000);
    REQUIRE(arma::approx_equal(a.X, b.X, "absdiff", 0.0));
    REQUIRE(arma::all(a.labels == b.labels));
    REQUIRE_FALSE(arma::approx_equal(a.X, c.X, "absdiff", 1e-12));
    REQUIRE(a.seed == 5);
    REQUIRE(a.generated);
    REQUIRE(by_name(n, 0).generated);  // seed 0 is a seed like any other (the summaries print it)
    const auto t = by_name(std::string(n) + ":test", 5);
    REQUIRE(t.seed == 5 + kTestSeedOffset);
    REQUIRE(t.generated);
    for (std::size_t k = 0; k < a.classes; ++k)  // balanced classes
      REQUIRE(std::abs(double(arma::accu(a.labels == k)) - 1000.0 / double(a.classes)) <= 1);
  }
  const auto x = xor4();
  REQUIRE_FALSE(x.generated);
  REQUIRE(x.X.n_cols == 4);
  REQUIRE(equals(arma::conv_to<arma::mat>::from(x.labels.t()), 1, 4, {1, 1, 0, 0}));
  REQUIRE(equals(x.X, 2, 4, {1, -1, 0, 0, 0, 0, 1, -1}));
  REQUIRE_THROWS_AS(by_name("mnist", 1), InputError);
  REQUIRE_THROWS_AS(by_name("moons:valid", 1), InputError);
}

TEST_CASE("targets per loss", "[data]") {
  const auto d = xor4();
  CHECK(equals(encode(d, Loss::bce, 1), 1, 4, {1, 1, 0, 0}));
  CHECK(equals(encode(d, Loss::hinge, 1), 1, 4, {1, 1, -1, -1}));
  CHECK(equals(encode(d, Loss::mse, 1), 1, 4, {1, 1, -1, -1}));
  CHECK(equals(encode(d, Loss::ce, 2), 2, 4, {0, 0, 1, 1, 1, 1, 0, 0}));
  CHECK(equals(encode(d, Loss::hinge, 2), 2, 4, {-1, -1, 1, 1, 1, 1, -1, -1}));
  CHECK_THROWS_AS(encode(d, Loss::ce, 1), InputError);
  CHECK_THROWS_AS(encode(by_name("spirals", 1), Loss::ce, 2), InputError);
}

TEST_CASE("accuracy follows the contract: argmax, or a threshold for one output", "[data]") {
  CHECK(accuracy(arma::mat{{0.1, 0.9}, {0.8, 0.2}}, arma::mat{{0, 1}, {1, 0}}, Loss::ce) == 1.0);
  CHECK(accuracy(arma::mat{{0.6, 0.4, 0.51}}, arma::mat{{1, 0, 0}}, Loss::bce) == Approx(2.0 / 3));
  CHECK(accuracy(arma::mat{{0.2, -0.1}}, arma::mat{{1, 1}}, Loss::hinge) == 0.5);
  CHECK(accuracy(arma::mat{{0.2, -0.1}}, arma::mat{{1, -1}}, Loss::mse) == 1.0);
}

TEST_CASE("standardisation: zero mean, unit variance; constant inputs untouched", "[data]") {
  arma::mat X = arma::randn(3, 500) * 4 + 7;
  X.row(2).fill(3.0);
  Standardizer s;
  s.fit(X);
  const arma::mat Z = s.apply(X);
  REQUIRE(arma::abs(arma::mean(Z.rows(0, 1), 1)).max() < 1e-12);
  REQUIRE(arma::abs(arma::stddev(Z.rows(0, 1), 1, 1) - 1).max() < 1e-12);
  REQUIRE(arma::all(Z.row(2) == 0));
}

TEST_CASE("Fashion-MNIST from the Debian package", "[data][fashion]") {
  const auto te = fashion_mnist(true);
  REQUIRE(te.X.n_rows == 784);
  REQUIRE(te.X.n_cols == 10000);
  REQUIRE(te.X.min() == 0.0);
  REQUIRE(te.X.max() == 1.0);
  REQUIRE(te.labels.max() == 9);
  for (arma::uword k = 0; k < 10; ++k) REQUIRE(arma::accu(te.labels == k) == 1000);  // balanced test set
  REQUIRE_THROWS_WITH(fashion_mnist(true, "/nonexistent"), Catch::Contains("dataset-fashion-mnist"));
}

TEST_CASE("permutations are seeded", "[data]") {
  REQUIRE(arma::all(permutation(100, 3) == permutation(100, 3)));
  REQUIRE(arma::any(permutation(100, 3) != permutation(100, 4)));
  REQUIRE(arma::all(arma::sort(permutation(100, 3)) == arma::regspace<arma::uvec>(0, 99)));
}
