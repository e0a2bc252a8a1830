// QR factorizations through LAPACK (private): Householder QR (dgeqrf) and QR with column
// pivoting (dgeqp3) in LAPACK's compact form, and Q or Q' applied to a block (dormqr).
// Armadillo wraps dgeqp3 but not dormqr, which keeps Q implicit (never a K x K matrix).
#pragma once
#include "nnlab/core/error.hpp"

#include <armadillo>

#include <algorithm>
#include <stdexcept>
#include <vector>

extern "C" {
void dgeqrf_(const int* m, const int* n, double* a, const int* lda, double* tau, double* work, const int* lwork,
             int* info);
void dgeqp3_(const int* m, const int* n, double* a, const int* lda, int* jpvt, double* tau, double* work,
             const int* lwork, int* info);
void dormqr_(const char* side, const char* trans, const int* m, const int* n, const int* k, const double* a,
             const int* lda, const double* tau, double* c, const int* ldc, double* work, const int* lwork, int* info,
             std::size_t side_len, std::size_t trans_len);
}

namespace nnlab::detail {

struct Qr {
  arma::mat QR;          // rows x cols: R in the upper triangle, the reflectors below it
  arma::vec tau;         // min(rows, cols) reflector scalars
  std::vector<int> piv;  // with pivoting: column j of the factored matrix is column piv[j] of A
};

// A = Q R, or A P = Q R with pivoting (the largest remaining column norm first).
inline Qr qr(arma::mat A, bool pivot) {
  Qr f;
  const int m = int(A.n_rows), n = int(A.n_cols), lda = std::max(1, m);
  f.tau.set_size(std::size_t(std::min(m, n)));
  std::vector<int> jpvt(std::size_t(n), 0);
  int info = 0, lwork = -1;
  double wq = 0;
  if (pivot) dgeqp3_(&m, &n, A.memptr(), &lda, jpvt.data(), f.tau.memptr(), &wq, &lwork, &info);
  else dgeqrf_(&m, &n, A.memptr(), &lda, f.tau.memptr(), &wq, &lwork, &info);
  lwork = std::max(1, int(wq));
  std::vector<double> work(static_cast<std::size_t>(lwork));
  if (pivot) dgeqp3_(&m, &n, A.memptr(), &lda, jpvt.data(), f.tau.memptr(), work.data(), &lwork, &info);
  else dgeqrf_(&m, &n, A.memptr(), &lda, f.tau.memptr(), work.data(), &lwork, &info);
  if (info != 0) throw std::runtime_error(pivot ? "qr: dgeqp3 failed" : "qr: dgeqrf failed");
  if (pivot)
    for (int p : jpvt) f.piv.push_back(p - 1);  // LAPACK counts from 1
  f.QR = std::move(A);
  return f;
}

// C <- Q C (trans 'N') or Q' C (trans 'T'); C has as many rows as the factored matrix.
inline void apply_q(const Qr& f, arma::mat& C, char trans) {
  const int m = int(C.n_rows), n = int(C.n_cols), k = int(f.tau.n_elem), lda = std::max(1, int(f.QR.n_rows)),
            ldc = std::max(1, m);
  int info = 0, lwork = -1;
  double wq = 0;
  dormqr_("L", &trans, &m, &n, &k, f.QR.memptr(), &lda, f.tau.memptr(), C.memptr(), &ldc, &wq, &lwork, &info, 1, 1);
  lwork = std::max(1, int(wq));
  std::vector<double> work(static_cast<std::size_t>(lwork));
  dormqr_("L", &trans, &m, &n, &k, f.QR.memptr(), &lda, f.tau.memptr(), C.memptr(), &ldc, work.data(), &lwork, &info,
          1, 1);
  if (info != 0) throw std::runtime_error("qr: dormqr failed");
}

}  // namespace nnlab::detail
