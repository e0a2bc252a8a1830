// nnlab/core/shape.hpp -- the shape convention: a gradient has the shape of its parameter.
//
// For a scalar lambda and W (n x m), the Jacobian d lambda / dW is a 1 x nm row, W's entries
// listed row by row as in the lecture (w_11 ... w_1m, w_21 ... w_nm).  to_shape gives that row
// the n x m shape of W (the form gradient descent needs: W <- W - alpha dW); to_jacobian undoes it.
#pragma once
#include <armadillo>

#include <stdexcept>
#include <string>

namespace nnlab {

inline arma::mat to_shape(const arma::rowvec& J, arma::uword n, arma::uword m) {
  if (J.n_elem != n * m)
    throw std::invalid_argument("to_shape: a 1 x " + std::to_string(J.n_elem) + " Jacobian is not the derivative of a " +
                                std::to_string(n) + " x " + std::to_string(m) + " matrix");
  arma::mat G(n, m, arma::fill::zeros);
  // TASK shape-convention
  for (arma::uword i = 0; i < n; ++i)
    for (arma::uword j = 0; j < m; ++j) G(i, j) = J[i * m + j];  // d lambda / d w_ij
  // STUB
  // END TASK shape-convention
  return G;
}

inline arma::rowvec to_jacobian(const arma::mat& G) { return arma::vectorise(G, 1); }  // row by row

}  // namespace nnlab
