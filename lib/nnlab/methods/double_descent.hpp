// nnlab/methods/double_descent.hpp -- random ReLU features and the double-descent experiment.
//
// Letters: d = input dimension, n = training samples, m = test samples, p = features,
// k = outputs.  Data are one sample per column (X: d x n, Y: k x n).
//
// Inputs are centred with the training mean and scaled by the training RMS (one scalar), so
// that V x is about N(0, 1).
// A model of p random features: phi(x) = relu(V x + c), V (p x d) with entries N(0, 1/d) and c
// (p) with entries N(0, 1), drawn per model from its own seed; the output layer W (k x p) is
// (W, with a bias b) fitted on Phi (p x n) by minimum-norm least squares through the SVD of the
// centred Phi' (LAPACK dgesdd) -- the bias absorbs the means and is not penalised --
// min ||Phi_c' W' - Y_c'||, or by ridge, min ||Phi_c' W' - Y_c'||^2 + lambda ||W||^2, from the same SVD:
//   W' = V_s diag(s_i / (s_i^2 + lambda)) U_s' Y'     (lambda = 0: 1/s_i for s_i > tol, 0 else,
//   tol = max(n, p) eps s_max, numpy's lstsq rule).
// b = ybar - W mu.  condition = s_max / (the smallest s_i above tol) of the centred feature
// matrix: it blows up at the interpolation threshold (p = n - 1 with the bias), where the
// smallest singular value goes to 0.
#pragma once
#include <armadillo>
#include <cstdint>
#include <string>
#include <vector>

namespace nnlab::dd {

struct Split {
  arma::mat Xtr, Ytr, Xte, Yte;  // one sample per column
  arma::mat Xva, Yva;            // optional validation set (for choosing the ridge)
};

struct Point {                   // one row of R.csv (means over trials) and its spread
  std::size_t features = 0;
  double train_mse = 0, test_mse = 0, test_error = 0, weight_norm = 0, condition = 0;
  double ens_test_mse = 0, ens_test_error = 0;
  double test_mse_sd = 0, test_error_sd = 0;  // standard deviation over trials
  double ridge = 0;                           // the ridge used (chosen on validation if asked)
};

struct Options {
  std::vector<std::size_t> features;  // the sweep
  double ridge = 0;                   // fixed ridge (0: minimum norm)
  std::vector<double> ridge_grid;     // non-empty: choose per p on the validation set
  int trials = 1;
  int ensemble = 0;                   // K > 0: also the average of K independent models
  std::uint64_t seed = 0;
  int threads = 1;                    // OpenMP over sweep points; BLAS at 1 thread inside
  bool progress = false;
};

// Centres every input set of the split with the training mean and divides it by the training
// RMS (one scalar), so that V x is about N(0, 1).  sweep() does this itself.
void normalize_inputs(Split& D);

// One model: its features, output weights and the singular values of Phi'.
struct Model {
  arma::mat V;        // p x d
  arma::vec c;        // p
  arma::mat W;        // k x p
  arma::vec b;        // k, the output bias
  arma::vec mu;       // p, the mean training feature (the fit centres Phi with it)
  arma::vec s;        // singular values of the centred Phi' (n x p), largest first
  double condition = 0;
};
// Draws p features from `seed` and fits W on (Xtr, Ytr) (inputs used as given: sweep() centres
// and scales them first).  ridge = 0: minimum norm.
Model fit_model(const arma::mat& Xtr, const arma::mat& Ytr, std::size_t p, double ridge, std::uint64_t seed);
arma::mat features(const Model& m, const arma::mat& X);  // relu(V X + c), p x n
arma::mat predict(const Model& m, const arma::mat& X);   // W features(X) + b, k x n

// The minimum-norm least-squares fit through the SVD A = U diag(s) V': x = V diag(g) U' y with
// g_i = 1/s_i where s_i > tol and 0 elsewhere (the pseudo-inverse's filter).  fit_model uses it
// when ridge = 0.
arma::vec min_norm_filter(const arma::vec& s, double tol);
// An ensemble's prediction: the mean of its K members' predictions (all the same shape).
arma::mat ensemble_average(const std::vector<arma::mat>& predictions);

// mean over samples of the squared error summed over outputs
double mse(const arma::mat& P, const arma::mat& Y);
// share misclassified: by largest output, or by sign for one output
double class_error(const arma::mat& P, const arma::mat& Y);

// The whole sweep.  The result does not depend on opt.threads (every point has its own seeds).
std::vector<Point> sweep(const Split& data, const Options& opt);

// Replace a share `noise` of the training targets by random ones (seeded): for one-hot
// targets a uniformly drawn class, otherwise the target of a uniformly drawn training sample.
void add_label_noise(arma::mat& Y, double noise, std::uint64_t seed);

// A split from a built-in data set: n training samples drawn (seeded) from its training split,
// m test samples from its test split, and nv validation samples from the rest of the training
// split; targets one-hot (one output per class).  InputError when the set is too small.
Split dataset_split(const std::string& name, std::size_t n, std::size_t m, std::size_t nv, std::uint64_t seed);

// R.csv of the contract (header + one row per p); with_ensemble adds the two ensemble columns.
std::string to_csv(const std::vector<Point>& pts, bool with_ensemble);

}  // namespace nnlab::dd
