// Armadillo must call OpenBLAS, not the reference BLAS.
#include "nnlab/backends/backend.hpp"
#include "nnlab/runtime/blas.hpp"
#include "helpers.hpp"

#include <armadillo>
#include <catch2/catch.hpp>
#include <cmath>

TEST_CASE("Armadillo's dgemm and dgesdd come from OpenBLAS", "[blas]") {
  const auto b = nnlab::blas_info();
  INFO(nnlab::describe(b));
  REQUIRE(b.openblas);
  REQUIRE(b.blas_library.find("openblas") != std::string::npos);
  REQUIRE(b.lapack_library.find("openblas") != std::string::npos);
  REQUIRE(b.openblas_config.rfind("OpenBLAS", 0) == 0);
}

TEST_CASE("the OpenBLAS thread count can be set and read back", "[blas]") {
  const int old = nnlab::set_blas_threads(1);
  REQUIRE(nnlab::blas_info().threads == 1);
  nnlab::set_blas_threads(old);
  REQUIRE(nnlab::blas_info().threads == old);
}

using nnlab::test::process_threads;
using nnlab::test::process_threads_once_below;

TEST_CASE("park_blas_threads ends OpenBLAS's workers, keeps the count, and a threaded call restarts them", "[blas]") {
  const int old = nnlab::set_blas_threads(2);
  // A product large enough that OpenBLAS splits it over its 2 threads (its pool then exists).
  arma::mat A(400, 300), B(300, 200);
  for (arma::uword i = 0; i < A.n_elem; ++i) A[i] = std::sin(0.37 * double(i));
  for (arma::uword i = 0; i < B.n_elem; ++i) B[i] = std::cos(0.11 * double(i));
  const arma::mat C0 = A * B;
  const std::size_t with_pool = process_threads();
  REQUIRE(nnlab::park_blas_threads());
  const std::size_t parked = process_threads_once_below(with_pool);
  CHECK(parked < with_pool);  // its workers (at least the one a 2-thread call needs) are gone
  CHECK(nnlab::blas_info().threads == 2);
  const arma::mat C1 = A * B;  // starts the worker again
  CHECK(process_threads() == with_pool);
  // Same kernels, same split, same bits.
  CHECK(arma::approx_equal(C0, C1, "absdiff", 0.0));
  CHECK(nnlab::park_blas_threads());  // twice in a row is harmless
  CHECK(nnlab::park_blas_threads());
  nnlab::set_blas_threads(old);
}

TEST_CASE("give_cores: OpenBLAS gets the threads for matrix and graph, 1 (its workers parked) for the others and on 1 thread", "[blas]") {
  const int old = nnlab::set_blas_threads(2);
  arma::mat A(400, 300, arma::fill::ones), B(300, 200, arma::fill::ones);
  for (auto k : nnlab::kAllBackends) {
    nnlab::set_blas_threads(2);
    const arma::mat C = A * B;  // the pool exists
    REQUIRE(C(0, 0) == 300.0);
    const std::size_t with_pool = process_threads();
    nnlab::give_cores(k, 2);
    const bool blas = k == nnlab::BackendKind::matrix || k == nnlab::BackendKind::graph;
    INFO(nnlab::name(k));
    CHECK(nnlab::blas_info().threads == (blas ? 2 : 1));
    if (blas) CHECK(process_threads() == with_pool);
    else CHECK(process_threads_once_below(with_pool) < with_pool);
    // On 1 thread every backend parks the workers, matrix and graph included.
    nnlab::set_blas_threads(2);
    REQUIRE(arma::mat(A * B)(0, 0) == 300.0);
    const std::size_t again = process_threads();
    nnlab::give_cores(k, 1);
    CHECK(nnlab::blas_info().threads == 1);
    CHECK(process_threads_once_below(again) < again);
  }
  nnlab::set_blas_threads(old);
}
