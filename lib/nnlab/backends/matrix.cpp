// matrix backend: the layer equations as Armadillo expressions, so every product is one
// BLAS call (dgemm/sgemm).  Forward and backward of each piece side by side.
//
//   forward   Z = W A_in + b              ->  Z.each_col() = b;  Z += W * Ain
//             (one gemm with beta = 1 onto the bias: OpenBLAS then skips its pass that
//             zeroes C, and no second pass over Z adds b)
//   backward  dW = dZ A_in'               ->  dW = dZ * Ain.t()
//             db = sum over samples of dZ ->  db = sum(dZ, 1)
//             dA_in = W' dZ               ->  dAin = W.t() * dZ
//   in-pass SGD  W <- W - lr dZ A_in'     ->  one gemm onto W, alpha = -lr, beta = 1 (no dW)
#include "nnlab/backends/backend.hpp"
#include "nnlab/methods/optim.hpp"
#include "nnlab/runtime/blas.hpp"

namespace nnlab {
namespace {

template <class T> class MatrixBackend final : public Backend<T> {
 public:
  BackendKind kind() const override { return BackendKind::matrix; }

  void forward(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c) override {
    c.resize(net, X.n_cols);
    for (std::size_t l = 0; l < net.depth(); ++l) {
      const auto& Ly = net.layers[l];
      c.Z[l].each_col() = Ly.b;
      c.Z[l] += Ly.W * (l == 0 ? X : c.A[l - 1]);
      activate(Ly.act, c.Z[l], c.A[l]);
    }
  }

  void backward(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& c, Grads<T>& g,
                bool want_dX) override {
    loss_backward(net, Y, c, T(1) / T(Y.n_cols), 0, Y.n_cols);
    backprop(net, X, c, g, want_dX, nullptr);
    add_regularization_grad(net, g);
  }

  void vjp(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& dA_L, Cache<T>& c, Grads<T>& g,
           bool want_dX) override {
    const std::size_t L = net.depth();
    activate_backward(net.layers[L - 1].act, c.Z[L - 1], c.A[L - 1], dA_L, c.dZ[L - 1]);
    backprop(net, X, c, g, want_dX, nullptr);
  }

  T value_and_grad(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& c, Grads<T>& g,
                   bool want_dX, const InPassSgd<T>* sgd) override {
    if (!sgd || net.l1 != T(0) || net.l2 != T(0)) return Backend<T>::value_and_grad(net, X, Y, c, g, want_dX, sgd);
    forward(net, X, c);
    const T J = this->cost(net, Y, c);
    loss_backward(net, Y, c, T(1) / T(Y.n_cols), 0, Y.n_cols);
    backprop(net, X, c, g, want_dX, sgd);
    return J;
  }

 private:
  // From dZ[L] down to layer 1.  With sgd (the same network, writable) the update rides on
  // the pass: W <- W - lr dZ A' in the gemm that would have made dW, after dA = W' dZ has used
  // the old W; b <- b - lr db.
  static void backprop(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c, Grads<T>& g, bool want_dX,
                       const InPassSgd<T>* sgd) {
    const std::size_t L = net.depth();
    g.dW.resize(L);
    g.db.resize(L);
    for (std::size_t l = L; l-- > 0;) {
      const auto& W = net.layers[l].W;
      const auto& Ain = l == 0 ? X : c.A[l - 1];
      if (!sgd) g.dW[l] = c.dZ[l] * Ain.t();
      g.db[l] = arma::sum(c.dZ[l], 1);
      if (l > 0) {
        c.dA[l - 1] = W.t() * c.dZ[l];
        activate_backward(net.layers[l - 1].act, c.Z[l - 1], c.A[l - 1], c.dA[l - 1], c.dZ[l - 1]);
      } else if (want_dX) {
        g.dX = W.t() * c.dZ[0];
      }
      if (sgd) {
        auto& Ly = sgd->net->layers[l];
        gemm<T>('N', 'T', -sgd->lr, c.dZ[l], Ain, T(1), Ly.W);  // W <- W - lr dZ Ain'
        optim::sgd_update(Ly.b.memptr(), g.db[l].memptr(), g.db[l].n_elem, sgd->lr);
      }
    }
  }
};

}  // namespace

template <class T> std::unique_ptr<Backend<T>> make_matrix_backend() {
  return std::make_unique<MatrixBackend<T>>();
}
template std::unique_ptr<Backend<float>> make_matrix_backend<float>();
template std::unique_ptr<Backend<double>> make_matrix_backend<double>();

}  // namespace nnlab
