// nnlab/methods/logistic.hpp -- logistic regression, the lectures' one neuron:
//   z = w x + b,  a = sigma(z),  L = -(1/m) sum_i [y_i log a_i + (1 - y_i) log(1 - a_i)].
// X is n x m (one sample per column), y is 1 x m with entries in [0, 1], w is 1 x n.
#pragma once
#include <armadillo>

namespace nnlab::logistic {

// L, in the stable form (1/m) sum_i max(z_i, 0) - z_i y_i + log(1 + exp(-|z_i|)).
double cost(const arma::mat& X, const arma::rowvec& y, const arma::rowvec& w, double b);

// dL/dw (1 x n) and dL/db:  dL/dz_i = (a_i - y_i)/m, so dL/dw = (1/m) sum_i (a_i - y_i) x_i'
// and dL/db = (1/m) sum_i (a_i - y_i).
struct Gradient {
  arma::rowvec dw;
  double db = 0;
};
Gradient gradient(const arma::mat& X, const arma::rowvec& y, const arma::rowvec& w, double b);

}  // namespace nnlab::logistic
