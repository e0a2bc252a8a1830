// matrix backend: the layer equations as Armadillo expressions, so every product is one
// BLAS call (dgemm/sgemm).  Forward and backward of each piece side by side.
//
//   forward   Z = W A_in + b              ->  Z.each_col() = b;  Z += W * Ain
//             (one gemm with beta = 1 onto the bias: OpenBLAS then skips its pass that
//             zeroes C, and no second pass over Z adds b)
//   backward  dW = dZ A_in'               ->  dW = dZ * Ain.t()
//             db = sum over samples of dZ ->  db = sum(dZ, 1)
//             dA_in = W' dZ               ->  dAin = W.t() * dZ
//   sgd_step  W <- W - lr dZ A_in'       ->  one gemm onto W, alpha = -lr, beta = 1 (no dW)
#include "nnlab/backend.hpp"
#include "nnlab/blas.hpp"
#include "nnlab/optim.hpp"

namespace nnlab {
namespace {

template <class T> class MatrixBackend final : public Backend<T> {
 public:
  BackendKind kind() const override { return BackendKind::matrix; }

  void forward(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c) override {
    const std::size_t L = net.depth();
    c.Z.resize(L); c.A.resize(L); c.dZ.resize(L); c.dA.resize(L);
    for (std::size_t l = 0; l < L; ++l) {
      const auto& Ly = net.layers[l];
      c.Z[l].set_size(Ly.W.n_rows, X.n_cols);
      c.Z[l].each_col() = Ly.b;
      c.Z[l] += Ly.W * (l == 0 ? X : c.A[l - 1]);
      activate(Ly.act, c.Z[l], c.A[l]);
    }
  }

  // The loss is a function of one column (nnlab/loss.hpp): per-sample values summed in a
  // fixed order, gradients written column by column into the cache.  No temporaries: after
  // the first call, a step allocates nothing (workspaces reused, checked in tests/test_perf).
  T cost(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>& c) override { return this->mean_loss(net, Y, c); }

 protected:
  void loss_backward(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>& c, T scale) override {
    const std::size_t L = net.depth();
    const auto& A = c.A[L - 1];
    const bool fused = fused_with_activation(net.loss);
    auto& G = fused ? c.dZ[L - 1] : c.dA[L - 1];  // bce, ce: dZ[L] directly; mse, hinge: dA[L]
    G.set_size(A.n_rows, A.n_cols);
    for (arma::uword t = 0; t < A.n_cols; ++t)
      lossfn::gradient(net.loss, A.colptr(t), Y.colptr(t), G.colptr(t), A.n_rows, scale);
    if (!fused) activate_backward(net.layers[L - 1].act, c.Z[L - 1], A, G, c.dZ[L - 1]);
  }

  void output_backward(const Network<T>& net, const arma::Mat<T>& dA_L, Cache<T>& c) override {
    const std::size_t L = net.depth();
    activate_backward(net.layers[L - 1].act, c.Z[L - 1], c.A[L - 1], dA_L, c.dZ[L - 1]);
  }

  void backprop(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c, Grads<T>& g,
                bool want_dX) override {
    backprop_sgd(net, X, c, g, want_dX, nullptr, T(0));
  }

 public:
  T sgd_step(Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& c, Grads<T>& g, T lr,
             bool want_dX) override {
    if (net.l1 != 0 || net.l2 != 0) return Backend<T>::sgd_step(net, X, Y, c, g, lr, want_dX);
    forward(net, X, c);
    const T J = cost(net, Y, c);
    loss_backward(net, Y, c, T(1) / T(Y.n_cols));
    backprop_sgd(net, X, c, g, want_dX, &net, lr);
    return J;
  }

 private:
  // The backward pass; with `update` (the same network, writable) the SGD step rides on it:
  // W <- W - lr dZ A' in the gemm that would have made dW (after dA = W' dZ used the old W),
  // b <- b - lr db.
  void backprop_sgd(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c, Grads<T>& g, bool want_dX,
                    Network<T>* update, T lr) {
    const std::size_t L = net.depth();
    g.dW.resize(L);
    g.db.resize(L);
    for (std::size_t l = L; l-- > 0;) {
      const auto& W = net.layers[l].W;
      const auto& Ain = l == 0 ? X : c.A[l - 1];
      if (!update) g.dW[l] = c.dZ[l] * Ain.t();
      g.db[l] = arma::sum(c.dZ[l], 1);
      if (l > 0) {
        c.dA[l - 1] = W.t() * c.dZ[l];
        activate_backward(net.layers[l - 1].act, c.Z[l - 1], c.A[l - 1], c.dA[l - 1], c.dZ[l - 1]);
      } else if (want_dX) {
        g.dX = W.t() * c.dZ[0];
      }
      if (update) {
        gemm<T>('N', 'T', -lr, c.dZ[l], Ain, T(1), update->layers[l].W);  // W <- W - lr dZ Ain'
        optim::sgd_update(update->layers[l].b.memptr(), g.db[l].memptr(), g.db[l].n_elem, lr);
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
