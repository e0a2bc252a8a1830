// nnlab/methods/hessian.hpp -- second-order numerics: forward mode and Hessian-vector products.
//
// A direction v has the shapes of the parameters (a Grads: dW[l], db[l]).  J is the cost of
// nnlab/core/network.hpp, regularisation included; H its Hessian in the parameters.
//
//   jvp        forward mode: J(theta + eps v) in dual numbers through the naive backend's loops
//              gives v' grad J and the output's JVP dA[L]/deps, exactly (nnlab/core/dual.hpp)
//   hvp        H v by forward over reverse: the naive backward pass run in dual numbers; the
//              second derivatives of the activations, the softmax and every loss come out of
//              their first-derivative code.  The reference.
//   hvp_rop    H v by the R-operator (Pearlmutter 1994): the matrix backend's equations
//              differentiated along v in matrix form, every product one BLAS call; g'' of the
//              activations from their derivative in dual numbers (act::second_derivative)
//   hvp_complex_step   Im grad J(theta + i h v) / h, h = 1e-20: the naive backward pass in
//              complex arithmetic; no cancellation (not for gelu: no complex erf)
//   hvp_fd     central differences of the gradient along v (order 2 or 4)
//
// Kinks: a piecewise-linear piece has second derivative 0, and at a kink every method takes
// the branch the first derivative takes there (the value's); l1 contributes 0.  Central
// differences across a kink measure a jump instead: hvp_fd reports whether its stencil
// crossed one (a pre-activation, a hinge margin or an l1-regularised weight changing side).
#pragma once
#include "nnlab/core/network.hpp"

namespace nnlab {

struct Jvp {
  double J = 0, dJ = 0;  // J and v' grad J
  arma::mat A, dA;       // the output A[L] and its derivative along v
};
Jvp jvp(const Network<double>& net, const arma::mat& X, const arma::mat& Y, const Grads<double>& v);

// H v (in the shapes of the parameters); J is set to the cost when given.
Grads<double> hvp(const Network<double>& net, const arma::mat& X, const arma::mat& Y, const Grads<double>& v,
                  double* J = nullptr);
Grads<double> hvp_rop(const Network<double>& net, const arma::mat& X, const arma::mat& Y, const Grads<double>& v);
Grads<double> hvp_complex_step(const Network<double>& net, const arma::mat& X, const arma::mat& Y,
                               const Grads<double>& v);
// crossed_kink (when given) says whether any evaluation of the stencil lay on another side of a
// kink than theta.
Grads<double> hvp_fd(const Network<double>& net, const arma::mat& X, const arma::mat& Y, const Grads<double>& v,
                     int order = 4, double h = 0, bool* crossed_kink = nullptr);

// A direction of unit norm over all parameters, N(0, 1) entries normalised, seeded.
Grads<double> random_direction(const Network<double>& net, std::uint64_t seed);
// v in the shapes of net's parameters (W[l] n_l x n_{l-1}, b[l] n_l); InputError (naming
// `source`) otherwise.
void check_direction(const Network<double>& net, const Grads<double>& v, const std::string& source);

}  // namespace nnlab
