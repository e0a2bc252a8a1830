// Gauss-Newton and Levenberg-Marquardt (see nnlab/methods/lsq.hpp).
#include "nnlab/methods/lsq.hpp"

#include "nnlab/backends/backend.hpp"
#include "nnlab/core/error.hpp"

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
    case Method::gradient_descent_ls: return "gradient descent (line search)";
  }
  return "?";
}

// ----------------------------------------------------------------------------- problems

NeuronProblem::NeuronProblem(arma::mat X, arma::vec y, Activation g) : X_(std::move(X)), y_(std::move(y)), g_(g) {
  if (g_ != Activation::identity && g_ != Activation::sigmoid && g_ != Activation::tanh)
    throw InputError("NeuronProblem: activation must be identity, sigmoid or tanh");
  if (X_.n_rows != y_.n_elem) throw InputError("NeuronProblem: X and y have different numbers of rows");
  Xa_ = arma::join_rows(X_, arma::ones(X_.n_rows));
}

void NeuronProblem::evaluate(const arma::vec& beta, arma::vec& r, arma::mat* J) const {
  const arma::vec z = Xa_ * beta;  // z_k = w.x_k + b
  arma::vec a(z.n_elem), d(z.n_elem);
  for (arma::uword k = 0; k < z.n_elem; ++k) {
    a[k] = act::value(g_, z[k]);
    d[k] = act::deriv(g_, z[k]);
  }
  r = y_ - a;
  if (J) *J = -(Xa_.each_col() % d);  // row k: -g'(z_k) [x_k', 1]
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
    bool ok = true, min_norm = false;
    switch (o.method) {
      case Method::gauss_newton:  // min ||J delta + r||: QR (dgels) on J
        ok = arma::solve(delta, J, arma::vec(-r), arma::solve_opts::no_approx);
        // A rank-deficient J (a constant input column beside the bias, an all-zero column, two
        // equal points for two parameters) has a whole affine set of minimisers; QR refuses it
        // (Armadillo's rcond test).  Then the step is the one of least norm, delta = -J^+ r,
        // by SVD, singular values below max(K, P) eps s_max counted as zero (NumPy's lstsq
        // rule): the Gauss-Newton step of the pseudo-inverse, equal to QR's at full rank.
        if (!ok) {
          arma::mat Jplus;  // P x K
          ok = min_norm = arma::pinv(Jplus, J);
          if (ok) delta = -Jplus * r;
        }
        break;
      case Method::gauss_newton_normal:
        // (J'J) delta = -J'r.  Forming J'J squares the condition number: cond(J'J) =
        // cond(J)^2, so half of the significant digits are lost before solving.
        ok = arma::solve(delta, J.t() * J, arma::vec(-g), arma::solve_opts::no_approx);
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
    const double predicted = -arma::dot(g, delta) - 0.5 * arma::dot(Jd, Jd);
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
      s.history.push_back({it, 0, 0, 0, alpha, !gd && predicted > 0 ? (f - f_new) / (alpha * predicted) : 0, accept});
      s.history.back().min_norm = min_norm;
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
  return s;
}

std::string Summary::table() const {
  std::string out;
  char line[200];
  std::snprintf(line, sizeof line, "%5s %14s %12s %12s %10s %11s %s\n", "iter", "cost", "|gradient|", "|step|",
                "lambda", "gain ratio", "");
  out += line;
  for (const auto& h : history) {
    std::snprintf(line, sizeof line, "%5d %14.6e %12.3e %12.3e %10.2e %11.3e %s\n", h.iter, h.cost, h.grad_norm,
                  h.step_norm, h.lambda, h.gain_ratio, !h.accepted ? "(rejected)" : h.min_norm ? "(min-norm step: J rank-deficient)" : "");
    out += line;
  }
  std::snprintf(line, sizeof line, "status: %s after %d iterations; cost %.6e -> %.6e\n", name(status).c_str(),
                iterations, initial_cost, final_cost);
  return out + line;
}

arma::vec linear_least_squares(const arma::mat& X, const arma::vec& y) {
  const arma::mat Xa = arma::join_rows(X, arma::ones(X.n_rows));
  arma::vec beta;
  if (!arma::solve(beta, Xa, y, arma::solve_opts::no_approx))
    throw InputError("linear_least_squares: [X 1] is rank deficient");
  return beta;
}

}  // namespace nnlab::lsq
