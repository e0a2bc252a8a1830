// Linear separability (GLPK) and the SVM (see nnlab/methods/separation.hpp).
#include "nnlab/methods/separation.hpp"

#include "nnlab/core/error.hpp"

#include <glpk.h>

#include <cmath>
#include <functional>
#include <random>

namespace nnlab::sep {

namespace {
void check_labels(const arma::mat& X, const arma::vec& y, const char* fn) {
  if (X.n_rows != y.n_elem || X.n_rows == 0)
    throw InputError(std::string(fn) + ": X has " + std::to_string(X.n_rows) + " rows, y has " + std::to_string(y.n_elem));
  for (double v : y)
    if (v != 1 && v != -1) throw InputError(std::string(fn) + ": labels must be -1 or +1");
}
}  // namespace

Separation linear_separation(const arma::mat& X, const arma::vec& y) {
  check_labels(X, y, "linear_separation");
  const int N = int(X.n_rows), D = int(X.n_cols);
  glp_prob* lp = glp_create_prob();
  glp_set_obj_dir(lp, GLP_MIN);
  glp_add_rows(lp, N);
  glp_add_cols(lp, D + 2);  // w_1..w_D, b, t
  for (int j = 1; j <= D + 1; ++j) glp_set_col_bnds(lp, j, GLP_FR, 0, 0);
  glp_set_col_bnds(lp, D + 2, GLP_LO, 0, 0);
  glp_set_obj_coef(lp, D + 2, 1);
  std::vector<int> ia{0}, ja{0};
  std::vector<double> ar{0};
  for (int n = 0; n < N; ++n) {
    glp_set_row_bnds(lp, n + 1, GLP_LO, 1, 0);  // y_n (w.x_n + b) + t >= 1
    for (int d = 0; d < D; ++d) { ia.push_back(n + 1); ja.push_back(d + 1); ar.push_back(y[n] * X(n, d)); }
    ia.push_back(n + 1); ja.push_back(D + 1); ar.push_back(y[n]);
    ia.push_back(n + 1); ja.push_back(D + 2); ar.push_back(1);
  }
  glp_load_matrix(lp, int(ar.size()) - 1, ia.data(), ja.data(), ar.data());
  glp_smcp parm;
  glp_init_smcp(&parm);
  parm.msg_lev = GLP_MSG_OFF;
  glp_simplex(lp, &parm);
  glp_exact(lp, &parm);  // rational arithmetic from the simplex basis: no round-off in t*
  Separation s;
  s.t = glp_get_obj_val(lp);
  s.w.set_size(D);
  for (int d = 0; d < D; ++d) s.w[d] = glp_get_col_prim(lp, d + 1);
  s.b = glp_get_col_prim(lp, D + 1);
  s.separable = glp_get_status(lp) == GLP_OPT && s.t <= 1e-12;
  if (!s.separable) {
    s.lambda.set_size(N);
    for (int n = 0; n < N; ++n) s.lambda[n] = std::max(0.0, glp_get_row_dual(lp, n + 1));
    const double tot = arma::accu(s.lambda);
    if (tot > 0) s.lambda /= tot;
  }
  glp_delete_prob(lp);
  return s;
}

double min_signed_margin(const arma::mat& X, const arma::vec& y, const arma::vec& w, double b) {
  return arma::min(y % (X * w + b));
}

double farkas_residual(const arma::mat& X, const arma::vec& y, const arma::vec& lambda) {
  if (arma::any(lambda < 0) || std::abs(arma::accu(lambda) - 1) > 1e-12) return arma::datum::inf;
  const arma::mat Xa = arma::join_rows(X, arma::ones(X.n_rows));
  return arma::norm(Xa.t() * (lambda % y), "inf");
}

Svm svm_exact(const arma::mat& X, const arma::vec& y) {
  check_labels(X, y, "svm_exact");
  const std::size_t N = X.n_rows, D = X.n_cols;
  if (N > 200 || D > 3) throw InputError("svm_exact: for toy sets only (N <= 200, D <= 3)");
  const arma::mat G = (y * y.t()) % (X * X.t());  // y_i y_j x_i.x_j
  Svm best;
  double best_ww = arma::datum::inf;
  std::vector<std::size_t> S;
  // Every subset of size 2..D+1 (a support set needs both labels).
  std::function<void(std::size_t)> rec = [&](std::size_t start) {
    if (S.size() >= 2) {
      const std::size_t s = S.size();
      arma::mat M(s + 1, s + 1, arma::fill::zeros);
      arma::vec r(s + 1, arma::fill::zeros);
      for (std::size_t a = 0; a < s; ++a) {
        for (std::size_t c = 0; c < s; ++c) M(a, c) = G(S[a], S[c]);
        M(a, s) = M(s, a) = y[S[a]];
        r[a] = 1;
      }
      arma::vec sol;
      if (arma::rcond(M) > 1e-13 && arma::solve(sol, M, r, arma::solve_opts::no_approx) &&
          arma::all(sol.head(s) >= -1e-12)) {
        arma::vec w(D, arma::fill::zeros);
        for (std::size_t a = 0; a < s; ++a) w += sol[a] * y[S[a]] * X.row(S[a]).t();
        const double b = sol[s], ww = arma::dot(w, w);
        if (ww < best_ww && min_signed_margin(X, y, w, b) >= 1 - 1e-9) {
          best_ww = ww;
          best.w = w;
          best.b = b;
          best.alpha.zeros(N);
          best.support = S;
          for (std::size_t a = 0; a < s; ++a) best.alpha[S[a]] = sol[a];
        }
      }
    }
    if (S.size() == D + 1) return;
    for (std::size_t i = start; i < N; ++i) {
      S.push_back(i);
      rec(i + 1);
      S.pop_back();
    }
  };
  rec(0);
  if (!std::isfinite(best_ww)) throw InputError("svm_exact: the points are not linearly separable");
  best.margin = 1 / std::sqrt(best_ww);
  return best;
}

void hinge_sgd_step(arma::vec& w, double& b, const arma::vec& x, double y, double lambda, std::uint64_t t) {
  // TASK hinge-sgd-step
  double m = b;  // y (w.x + b)
  for (arma::uword d = 0; d < w.n_elem; ++d) m += w[d] * x[d];
  m *= y;
  const double eta = 1.0 / (lambda * double(t));
  const double decay = 1.0 - 1.0 / double(t);  // 1 - eta lambda: the gradient of (lambda/2)||w||^2
  for (arma::uword d = 0; d < w.n_elem; ++d) w[d] *= decay;
  if (m < 1) {  // the hinge is active: its subgradient is -y [x; 1]
    for (arma::uword d = 0; d < w.n_elem; ++d) w[d] += eta * y * x[d];
    b += eta * y;
  }
  // STUB
  // (void)w, (void)b, (void)x, (void)y, (void)lambda, (void)t;
  // END TASK hinge-sgd-step
}

Svm svm_sgd(const arma::mat& X, const arma::vec& y, double lambda, std::uint64_t steps, std::uint64_t seed,
            SgdTrace* trace) {
  check_labels(X, y, "svm_sgd");
  const std::size_t N = X.n_rows;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, N - 1);
  arma::vec w(X.n_cols, arma::fill::zeros);
  double b = 0;
  std::uint64_t next_log = 1;
  for (std::uint64_t t = 1; t <= steps; ++t) {
    const std::size_t n = pick(rng);
    hinge_sgd_step(w, b, X.row(n).t(), y[n], lambda, t);
    if (trace && (t == next_log || t == steps)) {
      double ww = 0;
      for (double v : w) ww += v * v;
      trace->step.push_back(double(t));
      trace->margin.push_back(ww > 0 ? 1 / std::sqrt(ww) : arma::datum::inf);
      next_log = std::max(next_log + 1, std::uint64_t(double(next_log) * 1.25));
    }
  }
  Svm s;
  s.w = w;
  s.b = b;
  s.margin = 1 / arma::norm(s.w);
  return s;
}

}  // namespace nnlab::sep
