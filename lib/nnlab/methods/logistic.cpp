// Logistic regression (see nnlab/methods/logistic.hpp).
#include "nnlab/methods/logistic.hpp"

#include "nnlab/core/activations.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace nnlab::logistic {

namespace {
void check_shapes(const arma::mat& X, const arma::rowvec& y, const arma::rowvec& w, const char* fn) {
  if (y.n_elem != X.n_cols || w.n_elem != X.n_rows || X.n_cols == 0)
    throw std::invalid_argument(std::string("logistic::") + fn + ": X is " + std::to_string(X.n_rows) + " x " +
                                std::to_string(X.n_cols) + ", y has " + std::to_string(y.n_elem) + " entries, w " +
                                std::to_string(w.n_elem) + " (need X n x m, y 1 x m, w 1 x n, m > 0)");
}
}  // namespace

double cost(const arma::mat& X, const arma::rowvec& y, const arma::rowvec& w, double b) {
  check_shapes(X, y, w, "cost");
  const arma::rowvec z = w * X + b;
  double L = 0;
  for (arma::uword i = 0; i < z.n_elem; ++i)
    L += std::max(z[i], 0.0) - z[i] * y[i] + std::log1p(std::exp(-std::abs(z[i])));
  return L / double(z.n_elem);
}

Gradient gradient(const arma::mat& X, const arma::rowvec& y, const arma::rowvec& w, double b) {
  check_shapes(X, y, w, "gradient");
  const double m = double(X.n_cols);
  arma::rowvec a = w * X + b;
  a.transform([](double z) { return act::sigmoid(z); });  // a = sigma(z)
  Gradient g;
  // TASK logistic-gradient
  g.dw = (a - y) * X.t() / m;
  g.db = arma::accu(a - y) / m;
  // STUB
  // (void)m;
  // g.dw.zeros(X.n_rows);
  // END TASK logistic-gradient
  return g;
}

}  // namespace nnlab::logistic
