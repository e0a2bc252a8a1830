#include "common/sheet.hpp"

#include "nnlab/runtime/blas.hpp"
#include "common/plot.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace nnlab::lab {

std::string fmt(double v, int precision) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*g", precision, v);
  return b;
}

Sheet::Sheet(std::string id, const std::string& title) : id_(std::move(id)) {
  use_fast_blas_kernels();  // may re-execute the lab with OPENBLAS_CORETYPE set (nnlab/runtime/blas.hpp)
  const std::string bar(78, '=');
  std::cout << bar << "\n  nnlab lab " << id_ << ": " << title << "\n" << bar << "\n";
}

void Sheet::section(const std::string& title) {
  std::cout << "\n" << title << "\n" << std::string(title.size(), '-') << "\n";
}

void Sheet::say(const std::string& text) { std::cout << text << "\n"; }

void Sheet::show(const std::string& label, double v) { std::cout << "  " << label << " = " << fmt(v, 10) << "\n"; }

void Sheet::show(const std::string& label, const std::string& v) { std::cout << "  " << label << " = " << v << "\n"; }

void Sheet::show(const std::string& label, const arma::mat& M, int precision) {
  std::cout << "  " << label << " (" << M.n_rows << " x " << M.n_cols << ") =\n";
  for (arma::uword i = 0; i < M.n_rows; ++i) {
    std::cout << "      [";
    for (arma::uword j = 0; j < M.n_cols; ++j) {
      char b[64];
      std::snprintf(b, sizeof b, " %*.*g", precision + 7, precision, M(i, j));
      std::cout << b;
    }
    std::cout << " ]\n";
  }
}

bool Sheet::check(const std::string& claim, bool ok) {
  ++checks_;
  if (!ok) ++failed_;
  std::cout << "  [" << (ok ? "ok" : "FAIL") << "] " << claim << "\n";
  return ok;
}

bool Sheet::check_close(const std::string& claim, double got, double want, double rel_tol, double abs_tol) {
  const double err = std::abs(got - want);
  const bool ok = std::isfinite(got) && err <= std::max(abs_tol, rel_tol * std::abs(want));
  return check(claim + "   (got " + fmt(got, 12) + ", expected " + fmt(want, 12) + ", |difference| " + fmt(err, 3) + ")", ok);
}

bool Sheet::check_equal(const std::string& claim, const arma::mat& got, const arma::mat& want, double abs_tol) {
  if (got.n_rows != want.n_rows || got.n_cols != want.n_cols)
    return check(claim + "   (shapes " + std::to_string(got.n_rows) + "x" + std::to_string(got.n_cols) + " and " +
                     std::to_string(want.n_rows) + "x" + std::to_string(want.n_cols) + ")",
                 false);
  const double err = got.n_elem ? arma::abs(got - want).max() : 0;
  return check(claim + "   (largest difference " + fmt(err, 3) + " over " + std::to_string(got.n_elem) + " entries)",
               std::isfinite(err) && err <= abs_tol);
}

std::string Sheet::path(const std::string& file) const {
  return (std::filesystem::path(plot::results_dir(id_)) / file).string();
}

void Sheet::wrote(const std::string& p) {
  if (!p.empty()) std::cout << "  -> " << p << "\n";
}

int Sheet::finish() {
  std::cout << "\n" << id_ << ": " << (checks_ - failed_) << " of " << checks_ << " checks held"
            << (failed_ ? " -- SOME FAILED" : "") << "\n";
  return failed_ ? 1 : 0;
}

}  // namespace nnlab::lab
