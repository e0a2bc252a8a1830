// nnlab/core/network.hpp -- the network type, its gradients and the reusable workspace.
//
// Notation (contract section 1), one sample per column:
//   L   number of layers, l = 1..L (stored at index l-1)
//   n_l width of layer l, n_0 = inputs
//   m   batch size
//   X   n_0 x m,   W[l]  n_l x n_{l-1},   b[l]  n_l,   Z[l], A[l]  n_l x m
//   Z[l] = W[l] A[l-1] + b[l],  A[l] = g_l(Z[l]),  A[0] = X
//   J = (1/m) sum_i loss(A[L](:,i), Y(:,i)) + l1 sum|W| + l2 sum W^2   (biases not regularised)
// T is the element type, as in Armadillo: float and double are instantiated; double is the
// default and the one verification uses.
#pragma once
#include "nnlab/core/activations.hpp"
#include "nnlab/core/loss.hpp"

#include <armadillo>
#include <cstdint>
#include <vector>

namespace nnlab {

template <class T = double> struct Layer {
  Activation act = Activation::identity;
  arma::Mat<T> W;  // n_l x n_{l-1}, row i = incoming weights of neuron i
  arma::Col<T> b;  // n_l
};

template <class T = double> struct Network {
  std::vector<Layer<T>> layers;
  Loss loss = Loss::mse;
  T l1 = 0, l2 = 0;

  std::size_t depth() const { return layers.size(); }
  std::size_t n_in() const { return layers.front().W.n_cols; }
  std::size_t n_out() const { return layers.back().W.n_rows; }
  std::vector<std::size_t> sizes() const;  // n_0, n_1, ..., n_L
  std::size_t n_params() const;            // sum_l n_l (n_{l-1} + 1)
  std::size_t n_neurons() const;           // sum_l n_l

  // Throws InputError("network: ...") unless sizes chain, there is at least one layer,
  // l1, l2 are finite and >= 0, and a loss that needs a last activation has it.
  void validate() const;

  // Same network in another element type (values rounded to U).
  template <class U> Network<U> cast() const {
    Network<U> o;
    o.loss = loss; o.l1 = U(l1); o.l2 = U(l2);
    for (const auto& L : layers)
      o.layers.push_back({L.act, arma::conv_to<arma::Mat<U>>::from(L.W),
                          arma::conv_to<arma::Col<U>>::from(L.b)});
    return o;
  }
};

// Parameters drawn N(0, scale^2) (scale <= 0: the He scale sqrt(2/n_{l-1})), seeded.
template <class T = double>
Network<T> random_network(const std::vector<std::size_t>& sizes, const std::vector<Activation>& acts,
                          Loss loss, std::uint64_t seed, double scale = -1, double l1 = 0, double l2 = 0);

// Gradients of J in the shapes of the parameters (the shape convention), and of X if asked.
template <class T = double> struct Grads {
  std::vector<arma::Mat<T>> dW;
  std::vector<arma::Col<T>> db;
  arma::Mat<T> dX;  // n_0 x m, filled only when asked (want_dX)

  std::size_t size() const;           // number of parameters
  arma::Col<T> flatten() const;       // dW[0] (column-major), db[0], dW[1], ...
};

// The workspace of one batch: forward cache and backward buffers, reused across calls
// (same sizes: no allocation).  A[l] is stored for l = 1..L at index l-1; A[0] is X itself.
template <class T = double> struct Cache {
  std::vector<arma::Mat<T>> Z, A, dZ, dA;
  arma::Col<T> loss_col;  // per-sample losses, m (summed in a fixed order)
  void resize(const Network<T>& net, std::size_t m);
};

// Flattened parameters in the order of Grads::flatten(), and back.
template <class T> arma::Col<T> flatten_params(const Network<T>& net);
template <class T> void set_params(Network<T>& net, const arma::Col<T>& theta);

// Regularisation term l1 sum|W| + l2 sum W^2 and its gradient l1 sign(W) + 2 l2 W
// (sign(0) = 0), added to dW.  Biases are never regularised.
template <class T> T regularization(const Network<T>& net);
template <class T> void add_regularization_grad(const Network<T>& net, Grads<T>& g);
// The same for one weight matrix, any scalar type (the sign of the value: l1 adds nothing to a
// directional derivative).
template <class S> void add_regularization_grad(S l1, S l2, const arma::Mat<S>& W, arma::Mat<S>& dW) {
  // TASK reg-l1-l2
  for (arma::uword i = 0; i < W.n_elem; ++i) {
    const auto w = act::re(W[i]);
    const S sgn = w > 0 ? S(1) : (w < 0 ? S(-1) : S(0));
    dW[i] += l1 * sgn + S(2) * l2 * W[i];
  }
  // STUB
  // (void)l1, (void)l2, (void)W, (void)dW;
  // END TASK reg-l1-l2
}

}  // namespace nnlab
