// Gauss-Newton and Levenberg-Marquardt (see nnlab/methods/lsq.hpp).
#include "nnlab/methods/lsq.hpp"

#include "nnlab/backends/backend.hpp"
#include "nnlab/core/error.hpp"
#include "nnlab/methods/qr_impl.hpp"

#include <cmath>
#include <cstdio>
#include <limits>

namespace nnlab::lsq {

std::string name(Status s) {
  switch (s) {
    case Status::gradient_too_small: return "gradient_too_small";
    case Status::relative_step_size_too_small: return "relative_step_size_too_small";
    case Status::cost_too_small: return "cost_too_small";
    case Status::cost_change_too_small: return "cost_change_too_small";
    case Status::hit_max_iterations: return "hit_max_iterations";
    case Status::linear_solver_failed: return "linear_solver_failed";
    case Status::line_search_failed: return "line_search_failed";
  }
  return "?";
}

std::string name(Method m) {
  switch (m) {
    case Method::gauss_newton: return "gauss-newton (QR)";
    case Method::gauss_newton_normal: return "gauss-newton (normal equations)";
    case Method::levenberg_marquardt: return "levenberg-marquardt";
    case Method::gradient_descent: return "gradient descent (fixed step)";
    case Method::newton: return "newton (true Hessian)";
    case Method::gradient_descent_ls: return "gradient descent (line search)";
  }
  return "?";
}

// ----------------------------------------------------------------------------- problems

namespace {
// A sum of products as if in twice the working precision (Ogita, Rump and Oishi's Dot2): each
// product split exactly by a fused multiply-add, each addition by TwoSum, the errors summed
// apart.  Residuals near a least-squares solution are small differences of large terms; this
// keeps their digits.
struct Dot2 {
  double s = 0, c = 0;
  void add(double x) {
    const double t = s + x, z = t - s;
    c += (s - (t - z)) + (x - z);
    s = t;
  }
  void add(double a, double b) {
    const double p = a * b;
    add(p);
    c += std::fma(a, b, -p);
  }
  double value() const { return s + c; }
};
}  // namespace

NeuronProblem::NeuronProblem(arma::mat X, arma::vec y, Activation g) : X_(std::move(X)), y_(std::move(y)), g_(g) {
  if (g_ == Activation::softmax) throw InputError("NeuronProblem: the activation must be elementwise (not softmax)");
  if (X_.n_rows != y_.n_elem) throw InputError("NeuronProblem: X and y have different numbers of rows");
  Xa_ = arma::join_rows(X_, arma::ones(X_.n_rows));
}

void NeuronProblem::evaluate(const arma::vec& beta, arma::vec& r, arma::mat* J) const {
  // z_k = w.x_k + b in twice the working precision (Dot2): near a solution the residual is the
  // small difference of large terms, and its rounding is all a Gauss-Newton step can correct.
  const arma::uword K = Xa_.n_rows, P = Xa_.n_cols;
  arma::vec z(K), r_identity(K);
  for (arma::uword k = 0; k < K; ++k) {
    Dot2 s;
    for (arma::uword j = 0; j < P; ++j) s.add(Xa_(k, j), beta[j]);
    z[k] = s.value();
    Dot2 e = s;  // y_k - z_k, for g = identity
    e.s = -e.s;
    e.c = -e.c;
    e.add(y_[k]);
    r_identity[k] = e.value();
  }
  r.set_size(K);
  if (J) J->set_size(K, P);
  // TASK neuron-residual-jacobian
  for (arma::uword k = 0; k < K; ++k) {
    r[k] = y_[k] - act::value(g_, z[k]);  // r_k = y_k - g(w.x_k + b)
    if (J) {
      const double d = act::deriv(g_, z[k]);
      for (arma::uword j = 0; j < P; ++j) (*J)(k, j) = -(Xa_(k, j) * d);  // row k: -g'(z_k) [x_k', 1]
    }
  }
  // STUB
  // r.zeros();
  // if (J) J->zeros();
  // END TASK neuron-residual-jacobian
  if (g_ == Activation::identity) r = r_identity;  // the same residual, rounded once
}

void NeuronProblem::hessian_parts(const arma::vec& beta, arma::mat& JtJ, arma::mat& S) const {
  arma::vec r;
  arma::mat J;
  evaluate(beta, r, &J);
  JtJ = J.t() * J;
  S.zeros(Xa_.n_cols, Xa_.n_cols);
  for (arma::uword k = 0; k < Xa_.n_rows; ++k) {  // Hess(r_k) = -g''(z_k) x_k x_k'
    const double z = arma::dot(Xa_.row(k), beta);
    S -= r[k] * act::second_derivative(g_, z) * (Xa_.row(k).t() * Xa_.row(k));
  }
}

bool NeuronProblem::hessian(const arma::vec& beta, arma::mat& H) const {
  arma::mat JtJ, S;
  hessian_parts(beta, JtJ, S);
  H = JtJ + S;
  return true;
}

NetworkProblem::NetworkProblem(Network<double> net, arma::mat X, arma::vec y)
    : net_(std::move(net)), X_(std::move(X)), y_(std::move(y)) {
  if (net_.n_out() != 1) throw InputError("NetworkProblem: the network must have one output");
  if (X_.n_rows != net_.n_in() || X_.n_cols != y_.n_elem)
    throw InputError("NetworkProblem: X must be n_0 x K and y of length K");
}

void NetworkProblem::evaluate(const arma::vec& theta, arma::vec& r, arma::mat* J) const {
  set_params(net_, theta);
  auto be = make_backend<double>(BackendKind::matrix);
  Cache<double> c;
  be->forward(net_, X_, c);
  r = y_ - c.A.back().row(0).t();
  if (!J) return;
  J->set_size(X_.n_cols, theta.n_elem);
  Grads<double> g;
  const arma::mat one(1, 1, arma::fill::ones);
  for (arma::uword k = 0; k < X_.n_cols; ++k) {  // one backward pass per sample
    const arma::mat xk = X_.col(k);
    be->forward(net_, xk, c);
    be->vjp(net_, xk, one, c, g);
    J->row(k) = -g.flatten().t();
  }
}

// ----------------------------------------------------------------------------- linear

namespace {
// A with its columns scaled by powers of 2 (exact), its pivoted QR, and the rank by the pivots.
struct Factored {
  arma::vec d;
  arma::mat As;
  detail::Qr f;
  std::size_t rank = 0;
};
Factored factor(const arma::mat& A) {
  Factored o;
  const arma::uword K = A.n_rows, P = A.n_cols;
  o.d.set_size(P);
  for (arma::uword j = 0; j < P; ++j) {
    const double nj = arma::norm(A.col(j));
    o.d[j] = nj > 0 && std::isfinite(nj) ? std::exp2(std::round(std::log2(nj))) : 1.0;
  }
  o.As = A;
  for (arma::uword j = 0; j < P; ++j) o.As.col(j) /= o.d[j];
  o.f = detail::qr(o.As, true);
  const double r11 = P && K ? std::abs(o.f.QR(0, 0)) : 0;
  for (arma::uword k = 0; k < std::min(K, P); ++k)
    if (std::abs(o.f.QR(k, k)) > 10 * std::numeric_limits<double>::epsilon() * r11) ++o.rank;
  return o;
}
// Largest over smallest singular value (inf when the smallest is 0).
double condition(const arma::mat& A) {
  const arma::vec sv = arma::svd(A);
  return sv.n_elem && sv.min() > 0 ? sv.max() / sv.min() : arma::datum::inf;
}
}  // namespace

RankCond rank_and_cond(const arma::mat& A) {
  const Factored fa = factor(A);
  return {fa.rank, fa.rank == A.n_cols ? condition(A) : arma::datum::inf};
}

LinearSolution solve_linear(const arma::mat& A, const arma::vec& b) {
  const arma::uword K = A.n_rows, P = A.n_cols;
  if (b.n_elem != K) throw InputError("lsq::solve_linear: b has " + std::to_string(b.n_elem) + " entries, A " +
                                      std::to_string(K) + " rows");
  LinearSolution out;
  const Factored fa = factor(A);
  const arma::vec& d = fa.d;
  const arma::mat& As = fa.As;
  const detail::Qr& f = fa.f;
  out.rank = fa.rank;
  if (fa.rank < P) {  // the least-norm solution: singular values below max(K, P) eps s_max count as 0
    arma::mat Aplus;
    if (!arma::pinv(Aplus, A)) throw std::runtime_error("lsq::solve_linear: the SVD did not converge");
    out.x = Aplus * b;
    out.min_norm = true;
    out.cond = arma::datum::inf;
    return out;
  }
  out.cond = condition(A);
  // B = As P = Q R (B's column j is As's column piv[j]); the unknown in B's columns is y, x = y / d.
  const arma::mat R = arma::trimatu(f.QR.head_rows(P));
  std::vector<arma::uword> col(P);
  for (arma::uword j = 0; j < P; ++j) col[j] = arma::uword(f.piv[j]);
  const auto solve_R = [&](const arma::vec& c) { return arma::vec(arma::solve(arma::trimatu(R), c)); };
  const auto solve_Rt = [&](const arma::vec& c) { return arma::vec(arma::solve(arma::trimatl(R.t()), c)); };
  arma::mat c = b;
  detail::apply_q(f, c, 'T');
  arma::vec y = solve_R(c.col(0).head(P));
  // r = b - B y and the augmented system's residuals, in twice the working precision (Dot2)
  const auto residual = [&](arma::uword i, double ri) {
    Dot2 s;
    s.add(b[i]);
    s.add(-ri);
    for (arma::uword j = 0; j < P; ++j) s.add(-As(i, col[j]), y[j]);
    return s.value();
  };
  arma::vec r(K);
  for (arma::uword i = 0; i < K; ++i) r[i] = residual(i, 0);
  double last = arma::datum::inf;
  for (int round = 0; round < 5; ++round) {
    arma::mat fr(K, 1);  // f = b - r - B y
    arma::vec g(P);      // g = -B' r
    for (arma::uword i = 0; i < K; ++i) fr(i, 0) = residual(i, r[i]);
    for (arma::uword j = 0; j < P; ++j) {
      Dot2 s;
      for (arma::uword i = 0; i < K; ++i) s.add(-As(i, col[j]), r[i]);
      g[j] = s.value();
    }
    // [I B; B' 0][dr; dy] = [f; g]:  Q'f = [f1; f2],  R' d1 = g,  dr = Q [d1; f2],  R dy = f1 - d1
    detail::apply_q(f, fr, 'T');
    const arma::vec d1 = solve_Rt(g);
    const arma::vec dy = solve_R(fr.col(0).head(P) - d1);
    arma::mat dr = fr;
    dr.col(0).head(P) = d1;
    detail::apply_q(f, dr, 'N');
    const double size = arma::norm(dy, "inf");
    if (!dy.is_finite() || size >= last) break;  // no longer improving
    r += dr.col(0);
    y += dy;
    ++out.refinements;
    last = size;
    if (size <= std::numeric_limits<double>::epsilon() * arma::norm(y, "inf")) break;
  }
  out.x.set_size(P);
  for (arma::uword j = 0; j < P; ++j) out.x[col[j]] = y[j] / d[col[j]];
  return out;
}

// ----------------------------------------------------------------------------- solver

namespace {
double cost_of(const arma::vec& r) { return 0.5 * arma::dot(r, r); }
// The rounding of a computed cost f = 0.5 sum r_k^2, relative to f: a few ulps (8 eps).
constexpr double kRoundoff = 8 * std::numeric_limits<double>::epsilon();
}  // namespace

Summary solve(const Problem& problem, arma::vec& beta, const Options& o) {
  const std::size_t P = problem.num_parameters();
  if (beta.n_elem != P) throw InputError("lsq::solve: beta has " + std::to_string(beta.n_elem) +
                                         " entries, the problem has " + std::to_string(P) + " parameters");
  Summary s;
  s.method = o.method;
  arma::vec r, r_new, g;
  arma::mat J;
  problem.evaluate(beta, r, &J);
  double f = cost_of(r);
  g = J.t() * r;
  double lambda = o.initial_lambda;
  s.initial_cost = s.final_cost = f;
  s.history.push_back({0, f, arma::norm(g), 0, 0, 0, true});
  if (!std::isfinite(f)) { s.status = Status::linear_solver_failed; return s; }
  auto converged = [&](Status& st) {
    if (f <= o.cost_threshold) { st = Status::cost_too_small; return true; }
    if (arma::norm(g, "inf") <= o.gradient_tolerance) { st = Status::gradient_too_small; return true; }
    return false;
  };
  if (converged(s.status)) return s;

  for (int it = 1; it <= o.max_iterations; ++it) {
    s.iterations = it;
    arma::vec delta;
    bool ok = true, min_norm = false, gn_fallback = false;
    arma::mat H;  // Newton: the true Hessian
    std::size_t rank = 0;
    double cond = 0;
    switch (o.method) {
      case Method::gauss_newton: {  // min ||J delta + r||: scaled, pivoted QR with refinement
        // A rank-deficient J (a constant input column beside the bias, an all-zero column, two
        // equal points for two parameters) has a whole affine set of minimisers: the step is
        // then the least-norm one, delta = -J^+ r (solve_linear).
        const LinearSolution ls = solve_linear(J, -r);
        delta = ls.x;
        min_norm = ls.min_norm;
        rank = ls.rank;
        cond = ls.cond;
        break;
      }
      case Method::gauss_newton_normal:
        delta = gauss_newton_step(J, r);
        ok = delta.n_elem == P;
        break;
      case Method::levenberg_marquardt: {
        // (J'J + lambda D) delta = -J'r  <=>  min || [J; sqrt(lambda D)] delta + [r; 0] ||
        arma::vec D = arma::sum(arma::square(J), 0).t();
        D = arma::clamp(D, 1e-12 * std::max(D.max(), 1e-300), arma::datum::inf);
        const arma::mat A = arma::join_cols(J, arma::diagmat(arma::sqrt(lambda * D)));
        ok = arma::solve(delta, A, arma::vec(arma::join_cols(-r, arma::vec(P, arma::fill::zeros))),
                         arma::solve_opts::no_approx);
        break;
      }
      case Method::newton: {
        if (!problem.hessian(beta, H)) throw InputError("lsq::solve: Newton's method needs the problem's Hessian");
        ok = arma::solve(delta, H, arma::vec(-g), arma::solve_opts::no_approx) && arma::dot(g, delta) < 0;
        if (!ok) {  // H not positive definite here: no descent direction; the Gauss-Newton step
          delta = solve_linear(J, -r).x;
          ok = gn_fallback = true;
        }
        break;
      }
      case Method::gradient_descent: delta = -o.step * g; break;
      case Method::gradient_descent_ls: delta = -g; break;
    }
    if (!ok || !delta.is_finite()) { s.status = Status::linear_solver_failed; break; }
    if (o.method != Method::gradient_descent_ls &&
        arma::norm(delta) <= o.parameter_tolerance * (arma::norm(beta) + o.parameter_tolerance)) {
      s.status = Status::relative_step_size_too_small;
      break;
    }
    // Predicted decrease of the linear model, f - 0.5 ||r + J delta||^2, written without
    // the cancellation of f: -grad'delta - 0.5 ||J delta||^2.
    const arma::vec Jd = J * delta;
    const double predicted = -arma::dot(g, delta) - 0.5 * (o.method == Method::newton && !gn_fallback
                                                               ? arma::dot(delta, H * delta)
                                                               : arma::dot(Jd, Jd));
    const bool gd = o.method == Method::gradient_descent || o.method == Method::gradient_descent_ls;
    // Round-off level: near a minimum with nonzero residuals the predicted decrease falls
    // below the rounding of f itself (a few ulps: kRoundoff f), so comparing f_new with f is
    // noise.  GN and LM then take the full step (halving or rejecting on that noise stopped GN
    // at |grad| ~ 3e-9 and cost LM a dozen rejected iterations), and f not changing no longer
    // means convergence: the gradient or step-size test stops them.
    const bool flat = !gd && predicted <= kRoundoff * f;
    double alpha = 1, f_new = 0;
    auto try_step = [&](double a) {
      problem.evaluate(beta + a * delta, r_new, nullptr);
      f_new = cost_of(r_new);
      return std::isfinite(f_new);
    };
    bool accept = true;
    if (o.method == Method::gradient_descent) {
      try_step(1);  // fixed step: taken whatever happens
    } else if (o.method == Method::gradient_descent_ls) {
      // The lectures: lambda = 1, halve while F(u - lambda grad) >= F(u).
      int h = 0;
      while ((!try_step(alpha) || f_new >= f) && h < 60) { alpha /= 2; ++h; }
      if (h == 60) { s.status = Status::line_search_failed; break; }
    } else if (o.method == Method::levenberg_marquardt) {
      try_step(1);
      // At round-off level (flat, or no actual change) the ratio is noise: take the step.
      const bool noise = std::isfinite(f_new) && (flat || std::abs(f - f_new) <= o.function_tolerance * f);
      const double rho = noise ? 1.0 : (f - f_new) / predicted;
      accept = std::isfinite(f_new) && rho > 0;
      const double used = lambda;
      if (!accept || rho < 0.25) lambda *= 10;  // poor model: damp more
      else if (rho > 0.75) lambda *= 0.1;        // good model: trust it more
      if (!accept) {
        s.history.push_back({it, f, arma::norm(g), 0, used, rho, false});
        continue;
      }
      s.history.push_back({it, 0, 0, 0, used, rho, true});  // filled below
    } else {
      // Gauss-Newton with a backtracking safeguard: the full step first; halve while the
      // Armijo condition f(beta + a delta) <= f + 1e-4 a grad'delta fails (not when flat).
      const double slope = arma::dot(g, delta);
      int h = 0;
      while ((!try_step(alpha) || (!flat && f_new > f + 1e-4 * alpha * slope)) && h < 60) { alpha /= 2; ++h; }
      if (h == 60) { s.status = Status::line_search_failed; break; }
    }
    if (o.method != Method::levenberg_marquardt) {
      s.history.push_back({it, 0, 0, 0, o.method == Method::gradient_descent ? alpha * o.step : alpha,
                           !gd && predicted > 0 ? (f - f_new) / (alpha * predicted) : 0, accept});
      s.history.back().min_norm = min_norm;
      s.history.back().rank = rank;
      s.history.back().cond = cond;
      s.history.back().gn_fallback = gn_fallback;
    }
    const arma::vec step = alpha * delta;
    beta += step;
    const double f_old = f;
    problem.evaluate(beta, r, &J);
    f = cost_of(r);
    g = J.t() * r;
    auto& h = s.history.back();
    h.cost = f;
    h.grad_norm = arma::norm(g);
    h.step_norm = arma::norm(step);
    s.final_cost = f;
    if (!std::isfinite(f)) { s.status = Status::linear_solver_failed; break; }
    if (converged(s.status)) break;
    if (!flat && std::abs(f_old - f) <= o.function_tolerance * f_old) {
      s.status = Status::cost_change_too_small;
      break;
    }
    if (it == o.max_iterations) s.status = Status::hit_max_iterations;
  }
  s.final_cost = f;
  if (J.is_finite()) {  // J at the solution, by the linear solver's rank rule
    const RankCond rc = rank_and_cond(J);
    s.rank = rc.rank;
    s.cond = rc.cond;
  }
  return s;
}

std::string Summary::table() const {
  std::string out;
  char line[200];
  const char* col = method == Method::levenberg_marquardt ? "damping"
                    : method == Method::gradient_descent || method == Method::gradient_descent_ls ? "step"
                                                                                                  : "fraction";
  std::snprintf(line, sizeof line, "%5s %14s %12s %12s %10s %11s %5s %10s %s\n", "iter", "cost", "|gradient|",
                "|step|", col, "gain ratio", "rank", "cond(J)", "");
  out += line;
  for (const auto& h : history) {
    char rk[24] = "", cd[24] = "";
    if (h.rank) {
      std::snprintf(rk, sizeof rk, "%zu", h.rank);
      std::snprintf(cd, sizeof cd, "%.2e", h.cond);
    }
    std::snprintf(line, sizeof line, "%5d %14.6e %12.3e %12.3e %10.2e %11.3e %5s %10s %s\n", h.iter, h.cost,
                  h.grad_norm, h.step_norm, h.lambda, h.gain_ratio, rk, cd,
                  !h.accepted ? "(rejected)"
                  : h.min_norm ? "(min-norm step: J rank-deficient)"
                  : h.gn_fallback ? "(H indefinite: Gauss-Newton step)" : "");
    out += line;
  }
  std::snprintf(line, sizeof line, "status: %s after %d iterations; cost %.6e -> %.6e; at the solution rank(J) %zu, "
                "cond(J) %.3e\n", name(status).c_str(), iterations, initial_cost, final_cost, rank, cond);
  return out + line;
}

arma::vec gauss_newton_step(const arma::mat& J, const arma::vec& r) {
  arma::vec delta;
  // TASK gauss-newton-step
  // (J'J) delta = -J'r.  Forming J'J squares the condition number: cond(J'J) = cond(J)^2, so
  // half of the significant digits are lost before solving.
  if (!arma::solve(delta, J.t() * J, arma::vec(-(J.t() * r)), arma::solve_opts::no_approx)) delta.reset();
  // STUB
  // (void)J, (void)r;
  // END TASK gauss-newton-step
  return delta;
}

arma::vec linear_least_squares(const arma::mat& X, const arma::vec& y) {
  return solve_linear(arma::join_rows(X, arma::ones(X.n_rows)), y).x;
}

}  // namespace nnlab::lsq
