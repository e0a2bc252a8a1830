// Armadillo must call OpenBLAS, not the reference BLAS.
#include "nnlab/blas.hpp"

#include <armadillo>
#include <catch2/catch.hpp>

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
