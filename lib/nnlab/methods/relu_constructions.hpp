// nnlab/methods/relu_constructions.hpp -- the lectures' ReLU universality and memorization
// constructions, as explicit weights in the ordinary network type (so every backend
// evaluates them).  With integer inputs every intermediate value is an integer, so the
// results are exact in double.
//
// Letters: D = input dimension, N = points to memorise; X is N x D (one point per row).
#pragma once
#include "nnlab/core/network.hpp"

namespace nnlab::relu {

// |x| = relu(x) + relu(-x) = 1' relu((1, -1)' x)                 3 neurons (D = 1)
Network<double> abs_net();
// ||x||_1 = 1' relu([I; -I] x)                                     2D + 1 neurons
Network<double> l1_norm_net(std::size_t D);
// ||x - q||_1 = 1' relu([I; -I] x + [-q; q])                       2D + 1 neurons
Network<double> l1_dist_net(const arma::vec& q);
// The pseudo-dirac g_q(x) = relu(1 - ||x - q||_1): g_q(q) = 1, 0 when ||x - q||_1 >= 1.
Network<double> pseudo_dirac_net(const arma::vec& q);

// Memorization (the lecture's): f(x) = sum_n y_n relu(1 - ||x - x_n||_1).
//   layer 1 relu,     2ND neurons: relu(+(x_d - x_n,d)), relu(-(x_d - x_n,d)), point by point
//   layer 2 relu,     N neurons:   relu(1 - sum of point n's 2D layer-1 outputs)
//   layer 3 identity, 1 neuron:    weights y_n
// 2ND + N + 1 neurons.  For N distinct points of Z^D, f(x_n) = y_n exactly and f = 0 wherever
// ||x - x_n||_1 >= 1 for every n.  Loss mse.  Throws InputError unless the points are
// distinct with integer coordinates (`source` names the data in the message).
Network<double> memorize_net(const arma::mat& X, const arma::vec& y, const std::string& source = "memorize");

// The leaner construction of Zhang, Bengio, Hardt, Recht, Vinyals (2017, "Understanding
// deep learning requires rethinking generalization", Theorem 1): project on a generic
// direction a (z_n = a.x_n all distinct), sort, put biases between consecutive z's,
// b_1 < z_1 < b_2 < z_2 < ... < b_N < z_N, so that A(n, j) = relu(z_n - b_j) is lower
// triangular with a positive diagonal, and solve A w = y.  One hidden layer of N ReLU units:
// f(x) = sum_j w_j relu(a.x - b_j), with 2N + D weights (a, b, w).
struct Zhang {
  Network<double> net;  // layer 1: N rows all equal to a', biases -b; layer 2: w'
  arma::vec a, b, w;
};
Zhang zhang_net(const arma::mat& X, const arma::vec& y, std::uint64_t seed);

}  // namespace nnlab::relu
