// nnlab/backends/naive.hpp -- the naive backend's loops as templates: the reference.  S is
// float, double, std::complex<double> (the complex-step checks run these loops in complex
// arithmetic) or ad::Dual (forward mode, and Hessian-vector products: the backward pass run in
// dual numbers).
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
  // TASK naive-forward
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
  // STUB
  // (void)k;
  // Z.zeros();
  // A.zeros();
  // END TASK naive-forward
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
      r1 += act::abs0(L.W[i]);
      r2 += L.W[i] * L.W[i];
    }
  return J + net.l1 * r1 + net.l2 * r2;
}

// From dZ (n x m) of one layer:
//   dW(i,j) = sum_t dZ(i,t) Ain(j,t)      db(i) = sum_t dZ(i,t)
//   dAin(j,t) = sum_i W(i,j) dZ(i,t)
// dZ already carries the 1/m of the mean cost (it is dJ/dZ), so no 1/m appears here.
template <class S>
void layer_backward(const Layer<S>& L, const arma::Mat<S>& Ain, const arma::Mat<S>& dZ,
                    arma::Mat<S>& dW, arma::Col<S>& db, arma::Mat<S>* dAin) {
  const auto n = L.W.n_rows, k = L.W.n_cols, m = Ain.n_cols;
  dW.set_size(n, k);
  db.set_size(n);
  if (dAin) dAin->set_size(k, m);
  // TASK naive-backward
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
    for (arma::uword t = 0; t < m; ++t)
      for (arma::uword j = 0; j < k; ++j) {
        S s = 0;
        for (arma::uword i = 0; i < n; ++i) s += L.W(i, j) * dZ(i, t);
        (*dAin)(j, t) = s;
      }
  }
  // STUB
  // (void)dZ, (void)m;
  // dW.zeros();
  // db.zeros();
  // if (dAin) dAin->zeros();
  // END TASK naive-backward
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

// From dZ[L] down to layer 1:   for l = L..1:  dW[l], db[l], dA[l-1] = W[l]' dZ[l],
//                                              dZ[l-1] = dA[l-1] o g'(Z[l-1])
// (dX = dA[0] when dX is given).
template <class S>
void backprop(const Network<S>& net, const arma::Mat<S>& X, const std::vector<arma::Mat<S>>& Z,
              const std::vector<arma::Mat<S>>& A, std::vector<arma::Mat<S>>& dZ, std::vector<arma::Mat<S>>& dA,
              std::vector<arma::Mat<S>>& dW, std::vector<arma::Col<S>>& db, arma::Mat<S>* dX) {
  const std::size_t L = net.depth();
  dW.resize(L);
  db.resize(L);
  for (std::size_t l = L; l-- > 0;) {
    const auto& Ain = l == 0 ? X : A[l - 1];
    arma::Mat<S>* dAin = l > 0 ? &dA[l - 1] : dX;
    layer_backward(net.layers[l], Ain, dZ[l], dW[l], db[l], dAin);
    if (l > 0) act_backward(net.layers[l - 1].act, Z[l - 1], A[l - 1], dA[l - 1], dZ[l - 1]);
  }
}

// The whole backward pass after forward(): dZ[L] = (1/m) dloss/dZ[L] (lossfn::output_gradient),
// backprop, then the regularisation's gradient l1 sign(W) + 2 l2 W added to every dW.
template <class S>
void backward(const Network<S>& net, const arma::Mat<S>& X, const arma::Mat<S>& Y, const std::vector<arma::Mat<S>>& Z,
              const std::vector<arma::Mat<S>>& A, std::vector<arma::Mat<S>>& dZ, std::vector<arma::Mat<S>>& dA,
              std::vector<arma::Mat<S>>& dW, std::vector<arma::Col<S>>& db, arma::Mat<S>* dX) {
  const std::size_t L = net.depth();
  const auto m = A.back().n_cols;
  dZ.resize(L);
  dA.resize(L);
  for (std::size_t l = 0; l < L; ++l) {
    dZ[l].set_size(A[l].n_rows, m);
    dA[l].set_size(A[l].n_rows, m);
  }
  lossfn::output_gradient(net.loss, net.layers[L - 1].act, Z.back(), A.back(), Y, dA.back(), dZ.back(),
                          S(1) / S(double(m)), 0, m);
  backprop(net, X, Z, A, dZ, dA, dW, db, dX);
  if (net.l1 != S(0) || net.l2 != S(0))
    for (std::size_t l = 0; l < L; ++l) add_regularization_grad(net.l1, net.l2, net.layers[l].W, dW[l]);
}

}  // namespace nnlab::naive
