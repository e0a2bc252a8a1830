// nnlab/methods/lsq.hpp -- nonlinear least squares: min f(beta) = 0.5 ||r(beta)||^2, solved by
// Gauss-Newton (with a backtracking safeguard) or Levenberg-Marquardt, modelled on Ceres'
// tiny_solver.h: Options with defaults, a Summary with the per-iteration history, and a
// Status that says why the solver stopped.
//
// Letters: K = residuals (data points), P = parameters, n = inputs of a neuron (P = n + 1).
//   r      K           residuals,  r_k = y_k - model(x_k; beta)
//   J      K x P       Jacobian dr/dbeta
//   grad f = J' r      (P)
// Gauss-Newton step: delta minimises ||J delta + r||, solved on J itself (solve_linear below:
// scaled columns, pivoted QR, refinement), never by forming J'J.  Levenberg-Marquardt step: (J'J + lambda D) delta = -J'r
// with D = diag(J'J), solved as the stacked least-squares problem [J; sqrt(lambda D)] delta
// = [-r; 0], again by QR.
#pragma once
#include "nnlab/core/activations.hpp"
#include "nnlab/core/network.hpp"

#include <armadillo>
#include <string>
#include <vector>

namespace nnlab::lsq {

// What the solver needs: residuals and their Jacobian at beta.
class Problem {
 public:
  virtual ~Problem() = default;
  virtual std::size_t num_residuals() const = 0;
  virtual std::size_t num_parameters() const = 0;
  // r (K) always; J (K x P) when J != nullptr.
  virtual void evaluate(const arma::vec& beta, arma::vec& r, arma::mat* J) const = 0;
  // The Hessian of f = 0.5 ||r||^2, H = J'J + sum_k r_k Hess(r_k) (P x P), for Newton's method;
  // false when the problem does not provide it.
  virtual bool hessian(const arma::vec& beta, arma::mat& H) const {
    (void)beta;
    (void)H;
    return false;
  }
};

// The lectures' neuron y ~ g(w.x + b): r_k = y_k - g(w.x_k + b),
// row k of J = -g'(w.x_k + b) [x_k', 1].   beta = (w_1, ..., w_n, b).
class NeuronProblem final : public Problem {
 public:
  // X: K x n (one sample per row, as in the CSV), y: K.  g: any elementwise activation (the
  // lectures': identity, sigmoid, tanh).
  NeuronProblem(arma::mat X, arma::vec y, Activation g);
  std::size_t num_residuals() const override { return X_.n_rows; }
  std::size_t num_parameters() const override { return X_.n_cols + 1; }
  void evaluate(const arma::vec& beta, arma::vec& r, arma::mat* J) const override;
  // H = J'J + S with S = sum_k r_k Hess(r_k) = -sum_k r_k g''(z_k) [x_k; 1][x_k; 1]': the term
  // Gauss-Newton leaves out (small when the residuals are).
  bool hessian(const arma::vec& beta, arma::mat& H) const override;
  void hessian_parts(const arma::vec& beta, arma::mat& JtJ, arma::mat& S) const;
  const arma::mat& augmented() const { return Xa_; }  // [X, 1]

 private:
  arma::mat X_, Xa_;
  arma::vec y_;
  Activation g_;
};

// A whole network with one output: r_k = y_k - f(x_k; theta), theta = flatten_params(net).
// Row k of J is -df(x_k)/dtheta, from one backward pass per sample (Backend::vjp).
class NetworkProblem final : public Problem {
 public:
  NetworkProblem(Network<double> net, arma::mat X /* n_0 x K */, arma::vec y);
  std::size_t num_residuals() const override { return X_.n_cols; }
  std::size_t num_parameters() const override { return net_.n_params(); }
  void evaluate(const arma::vec& theta, arma::vec& r, arma::mat* J) const override;
  const Network<double>& network() const { return net_; }

 private:
  mutable Network<double> net_;
  arma::mat X_;
  arma::vec y_;
};

enum class Method {
  gauss_newton,         // QR on J (least-norm step by SVD if J is rank-deficient), backtracking
                        // (Armijo) when the full step does not decrease f
  gauss_newton_normal,  // the same on the normal equations J'J delta = -J'r (for comparison)
  levenberg_marquardt,  // damped, trust-region-like
  gradient_descent,     // beta -= step * grad f, fixed step
  gradient_descent_ls,  // the lectures' line search: lambda = 1, halve while f(beta - lambda g) >= f(beta)
  newton,               // H delta = -grad f with the true Hessian (Problem::hessian), backtracking
                        // (Armijo); where H's step is no descent direction, the Gauss-Newton step
};

enum class Status {
  gradient_too_small,            // ||grad f||_inf <= gradient_tolerance
  relative_step_size_too_small,  // ||delta|| <= parameter_tolerance (||beta|| + parameter_tolerance)
  cost_too_small,                // f <= cost_threshold
  cost_change_too_small,         // |f_old - f_new| <= function_tolerance * f_old
  hit_max_iterations,            // max_iterations reached
  linear_solver_failed,          // no finite step (LM, GN on the normal equations: singular system)
  line_search_failed,            // no decrease along the step after 60 halvings
};
std::string name(Status s);
std::string name(Method m);

struct Options {
  Method method = Method::gauss_newton;
  int max_iterations = 50;
  double gradient_tolerance = 1e-14;    // stop: ||J'r||_inf <= gradient_tolerance (absolute:
                                        // a zero-residual fit goes on to round-off)
  double parameter_tolerance = 1e-14;   // stop: ||delta||_2 <= tol (||beta||_2 + tol)
  double function_tolerance = 1e-16;    // stop: |f_old - f_new| <= tol * f_old (accepted steps,
                                        // not at round-off level: predicted decrease > 8 eps f)
  double cost_threshold = 1e-300;       // stop: f <= cost_threshold (0 would wait for an exact fit)
  double initial_lambda = 1e-3;         // LM: lambda_0 (D = diag(J'J) makes it scale-free)
  double step = 0.1;                    // gradient_descent: beta -= step * grad f
};

// min ||A x - b|| to the accuracy the best LAPACK drivers reach, and further on ill-conditioned
// problems:
//   * columns scaled to unit norm by powers of 2 (exact: the scaled problem is the same one),
//     as MINPACK and Ceres scale their Jacobians;
//   * QR with column pivoting (dgeqp3); the rank is the number of pivots above 10 eps times the
//     first, so a full-rank problem as ill-conditioned as 1/(10 eps) stays full rank;
//   * iterative refinement of the augmented system [I A; A' 0][r; x] = [b; 0] (Bjorck), its
//     residuals accumulated in twice the working precision (compensated dot products), while
//     it improves x (at most 5 rounds): plain QR loses digits in proportion to cond(A),
//     refinement gains them back;
//   * a rank-deficient A: the least-norm solution by SVD (pinv, NumPy's rank rule).
// rank and cond (largest over smallest singular value of A; inf when rank-deficient) describe A.
struct LinearSolution {
  arma::vec x;
  std::size_t rank = 0;
  double cond = 0;
  int refinements = 0;    // rounds of refinement that improved x
  bool min_norm = false;  // rank-deficient: the least-norm solution
};
LinearSolution solve_linear(const arma::mat& A, const arma::vec& b);
// The rank solve_linear uses, and cond(A) (inf when rank-deficient).
struct RankCond {
  std::size_t rank = 0;
  double cond = 0;
};
RankCond rank_and_cond(const arma::mat& A);

struct Iteration {
  int iter = 0;             // 0 = the start
  double cost = 0;          // f at the iterate after this iteration
  double grad_norm = 0;     // ||J'r||_2 there
  double step_norm = 0;     // ||beta_k - beta_{k-1}||_2 (0 for a rejected LM step and at the start)
  double lambda = 0;        // LM: the damping used for this step; gradient descent: the step lambda
                            // in beta - lambda grad f; Gauss-Newton, Newton: the fraction of the step
                            // taken (1, or less after backtracking).  table() names the column so.
  double gain_ratio = 0;    // actual / predicted decrease of f (LM and GN); 0 at the start
  bool accepted = true;
  bool min_norm = false;    // GN: J rank-deficient, the step was the least-norm one (-J^+ r, SVD)
  std::size_t rank = 0;     // GN: the rank of J used for the step
  double cond = 0;          // GN: cond(J) at the step
  bool gn_fallback = false; // Newton: H's step was no descent direction; the Gauss-Newton step was taken
};

struct Summary {
  Method method = Method::gauss_newton;
  double initial_cost = 0, final_cost = 0;
  int iterations = 0;
  std::size_t rank = 0;  // of J at the solution (rank_and_cond)
  double cond = 0;       // cond(J) at the solution: largest over smallest singular value, inf below full rank
  Status status = Status::hit_max_iterations;
  std::vector<Iteration> history;
  // Ceres-style iteration table; its `lambda` column is headed damping (LM), step (gradient
  // descent) or fraction (Gauss-Newton, Newton).
  std::string table() const;
};

Summary solve(const Problem& problem, arma::vec& beta, const Options& options = {});

// The lectures' Gauss-Newton step beta <- beta + delta, delta = -(J'J)^-1 J'r, solved on the
// normal equations (Method::gauss_newton_normal); empty when J'J is singular.
arma::vec gauss_newton_step(const arma::mat& J, const arma::vec& r);

// The least-squares solution of the identity neuron, argmin ||y - [X 1] beta|| (solve_linear).
arma::vec linear_least_squares(const arma::mat& X, const arma::vec& y);

}  // namespace nnlab::lsq
