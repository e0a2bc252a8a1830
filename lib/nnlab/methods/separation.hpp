// nnlab/methods/separation.hpp -- one neuron as a hyperplane: linear separability as a linear
// program (with a Farkas certificate when no plane exists), and the SVM.
//
// Letters: N = points, D = dimension; X is N x D (one point per row), y in {-1, +1}^N.
#pragma once
#include <armadillo>
#include <cstdint>
#include <vector>

namespace nnlab::sep {

// Find w, b with y_n (w.x_n + b) > 0 for all n, or prove that none exists.
// LP (GLPK, simplex then its exact rational simplex):   min t
//   s.t. y_n (w.x_n + b) + t >= 1,  t >= 0,  w, b free.
// t* = 0: (w, b) separates, with y_n (w.x_n + b) >= 1.  t* > 0: the duals lambda_n >= 0
// of the constraints satisfy sum_n lambda_n y_n [x_n; 1] = 0 with sum lambda = 1 (Farkas):
// any plane would give 0 = sum lambda_n y_n (w.x_n + b) > 0, a contradiction.
struct Separation {
  bool separable = false;
  arma::vec w;
  double b = 0;
  arma::vec lambda;  // the certificate when not separable (sum 1, >= 0)
  double t = 0;      // LP optimum
};
Separation linear_separation(const arma::mat& X, const arma::vec& y);
// Independent checks of an answer: the smallest y_n (w.x_n + b) (> 0 means it separates),
// and ||sum_n lambda_n y_n [x_n; 1]||_inf for a certificate (with lambda >= 0, sum 1).
double min_signed_margin(const arma::mat& X, const arma::vec& y, const arma::vec& w, double b);
double farkas_residual(const arma::mat& X, const arma::vec& y, const arma::vec& lambda);

// Hard-margin SVM: min w'w s.t. y_n (w.x_n + b) >= 1, margin 1/||w||.
struct Svm {
  arma::vec w;
  double b = 0, margin = 0;
  arma::vec alpha;                  // dual multipliers (0 off the support vectors)
  std::vector<std::size_t> support;
};
// Exact solution of the small QP by its KKT conditions: the optimum is fixed by at most
// D + 1 support vectors; every such set is tried (w = sum alpha_n y_n x_n, sum alpha_n y_n =
// 0, y_n (w.x_n + b) = 1 on the set, alpha >= 0, every point feasible) and the smallest w'w
// kept.  For toy sets: refuses N > 200 or D > 3.  Throws if the points are not separable.
Svm svm_exact(const arma::mat& X, const arma::vec& y);

// SGD on the hinge loss with L2 (Pegasos):  F(w, b) = (1/N) sum_n relu(1 - y_n (w.x_n + b))
// + (lambda/2) ||w||^2  (b not regularised).  Step 1/(lambda t) on one random sample:
//   w <- (1 - 1/t) w + [y_n (w.x_n + b) < 1] y_n x_n / (lambda t),   b likewise without decay.
// For separable data and lambda <= 1/(N max alpha*) the minimiser is the hard-margin SVM.
// One step t >= 1 of it on the sample (x, y):  eta = 1/(lambda t),
//   w <- (1 - 1/t) w + [y (w.x + b) < 1] eta y x,   b <- b + [y (w.x + b) < 1] eta y.
void hinge_sgd_step(arma::vec& w, double& b, const arma::vec& x, double y, double lambda, std::uint64_t t);
struct SgdTrace { std::vector<double> step, margin; };
Svm svm_sgd(const arma::mat& X, const arma::vec& y, double lambda, std::uint64_t steps, std::uint64_t seed,
            SgdTrace* trace = nullptr);

}  // namespace nnlab::sep
