// The naive backend's loops as templates (private header).  S is float, double, or
// std::complex<double> (the complex-step check runs the same loops in complex arithmetic).
//
// Letters: n = neurons of the layer, k = its inputs, m = samples; t, i, j index them.
#pragma once
#include "nnlab/core/network.hpp"

#include <vector>

namespace nnlab::naive {

// Z = W Ain + b, A = g(Z):   for t / for i / for j   (the lectures' pseudo-code)
template <class S>
void layer_forward(const Layer<S>& L, const arma::Mat<S>& Ain, arma::Mat<S>& Z, arma::Mat<S>& A) {
  const auto n = L.W.n_rows, k = L.W.n_cols, m = Ain.n_cols;
  Z.set_size(n, m);
  A.set_size(n, m);
  for (arma::uword t = 0; t < m; ++t)
    for (arma::uword i = 0; i < n; ++i) {
      S z = L.b(i);
      for (arma::uword j = 0; j < k; ++j) z += L.W(i, j) * Ain(j, t);
      Z(i, t) = z;
    }
  if (L.act == Activation::softmax) {
    for (arma::uword t = 0; t < m; ++t) act::softmax_col(Z.colptr(t), A.colptr(t), n);
  } else {
    for (arma::uword t = 0; t < m; ++t)
      for (arma::uword i = 0; i < n; ++i) A(i, t) = act::value(L.act, Z(i, t));
  }
}

template <class S>
void forward(const Network<S>& net, const arma::Mat<S>& X, std::vector<arma::Mat<S>>& Z,
             std::vector<arma::Mat<S>>& A) {
  Z.resize(net.depth());
  A.resize(net.depth());
  for (std::size_t l = 0; l < net.depth(); ++l)
    layer_forward(net.layers[l], l == 0 ? X : A[l - 1], Z[l], A[l]);
}

// J = (1/m) sum_t loss(A(:,t), Y(:,t)) + l1 sum|W| + l2 sum W^2
template <class S>
S cost(const Network<S>& net, const arma::Mat<S>& Y, const std::vector<arma::Mat<S>>& Z,
       const std::vector<arma::Mat<S>>& A) {
  const auto& ZL = Z.back();
  const auto& AL = A.back();
  const auto n = ZL.n_rows, m = ZL.n_cols;
  S J = 0;
  for (arma::uword t = 0; t < m; ++t)
    J += lossfn::value(net.loss, ZL.colptr(t), AL.colptr(t), Y.colptr(t), n);
  J /= S(double(m));
  S r1 = 0, r2 = 0;
  for (const auto& L : net.layers)
    for (arma::uword i = 0; i < L.W.n_elem; ++i) {
      r1 += act::abs_an(L.W[i]);
      r2 += L.W[i] * L.W[i];
    }
  return J + net.l1 * r1 + net.l2 * r2;
}

// From dZ (n x m) of one layer:
//   dW(i,j) = sum_t dZ(i,t) Ain(j,t)      db(i) = sum_t dZ(i,t)
//   dAin(j,t) = sum_i W(i,j) dZ(i,t)
template <class S>
void layer_backward(const Layer<S>& L, const arma::Mat<S>& Ain, const arma::Mat<S>& dZ,
                    arma::Mat<S>& dW, arma::Col<S>& db, arma::Mat<S>* dAin) {
  const auto n = L.W.n_rows, k = L.W.n_cols, m = Ain.n_cols;
  dW.set_size(n, k);
  db.set_size(n);
  for (arma::uword i = 0; i < n; ++i) {
    for (arma::uword j = 0; j < k; ++j) {
      S s = 0;
      for (arma::uword t = 0; t < m; ++t) s += dZ(i, t) * Ain(j, t);
      dW(i, j) = s;
    }
    S s = 0;
    for (arma::uword t = 0; t < m; ++t) s += dZ(i, t);
    db(i) = s;
  }
  if (dAin) {
    dAin->set_size(k, m);
    for (arma::uword t = 0; t < m; ++t)
      for (arma::uword j = 0; j < k; ++j) {
        S s = 0;
        for (arma::uword i = 0; i < n; ++i) s += L.W(i, j) * dZ(i, t);
        (*dAin)(j, t) = s;
      }
  }
}

// dZ = dA o g'(Z)   (softmax: dz = a o (g - a'g) per column)
template <class S>
void act_backward(Activation g, const arma::Mat<S>& Z, const arma::Mat<S>& A, const arma::Mat<S>& dA,
                  arma::Mat<S>& dZ) {
  dZ.set_size(Z.n_rows, Z.n_cols);
  for (arma::uword t = 0; t < Z.n_cols; ++t) {
    if (g == Activation::softmax) {
      act::softmax_col_backward(A.colptr(t), dA.colptr(t), dZ.colptr(t), Z.n_rows);
    } else {
      for (arma::uword i = 0; i < Z.n_rows; ++i) dZ(i, t) = dA(i, t) * act::deriv(g, Z(i, t));
    }
  }
}

}  // namespace nnlab::naive
