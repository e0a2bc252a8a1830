// matrix backend: the layer equations as Armadillo expressions, so every product is one
// BLAS call (dgemm/sgemm).  Forward and backward of each piece side by side.
//
//   forward   Z = W A_in + b              ->  Z = W * Ain;  Z.each_col() += b
//   backward  dW = dZ A_in'               ->  dW = dZ * Ain.t()
//             db = sum over samples of dZ ->  db = sum(dZ, 1)
//             dA_in = W' dZ               ->  dAin = W.t() * dZ
#include "nnlab/backend.hpp"

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
      c.Z[l] = Ly.W * (l == 0 ? X : c.A[l - 1]);
      c.Z[l].each_col() += Ly.b;
      activate(Ly.act, c.Z[l], c.A[l]);
    }
  }

  // Per-sample losses as whole-matrix expressions (see nnlab/loss.hpp for the formulas).
  T cost(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>& c) override {
    const auto& Z = c.Z.back();
    const auto& A = c.A.back();
    const T m = T(A.n_cols);
    T s = 0;
    switch (net.loss) {
      case Loss::mse: s = T(0.5) * arma::accu(arma::square(A - Y)); break;
      case Loss::hinge: s = arma::accu(arma::clamp(T(1) - Y % A, T(0), arma::Datum<T>::inf)); break;
      case Loss::bce:
        s = arma::accu(arma::clamp(Z, T(0), arma::Datum<T>::inf) - Z % Y +
                       arma::log1p(arma::exp(-arma::abs(Z))));
        break;
      case Loss::ce: {
        const arma::Row<T> mx = arma::max(Z, 0);
        const arma::Row<T> lse = mx + arma::log(arma::sum(arma::exp(Z.each_row() - mx), 0));
        s = arma::accu(arma::sum(Y, 0) % lse - arma::sum(Y % Z, 0));
        break;
      }
    }
    return s / m + regularization(net);
  }

 protected:
  void loss_backward(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>& c) override {
    const std::size_t L = net.depth();
    const auto& A = c.A[L - 1];
    const T inv_m = T(1) / T(A.n_cols);
    switch (net.loss) {
      case Loss::bce: c.dZ[L - 1] = (A - Y) * inv_m; return;
      case Loss::ce: c.dZ[L - 1] = (A.each_row() % arma::sum(Y, 0) - Y) * inv_m; return;
      case Loss::mse: c.dA[L - 1] = (A - Y) * inv_m; break;
      case Loss::hinge:
        c.dA[L - 1] = -Y % arma::conv_to<arma::Mat<T>>::from(T(1) - Y % A > T(0)) * inv_m;
        break;
    }
    activate_backward(net.layers[L - 1].act, c.Z[L - 1], A, c.dA[L - 1], c.dZ[L - 1]);
  }

  void output_backward(const Network<T>& net, const arma::Mat<T>& dA_L, Cache<T>& c) override {
    const std::size_t L = net.depth();
    activate_backward(net.layers[L - 1].act, c.Z[L - 1], c.A[L - 1], dA_L, c.dZ[L - 1]);
  }

  void backprop(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c, Grads<T>& g,
                bool want_dX) override {
    const std::size_t L = net.depth();
    g.dW.resize(L);
    g.db.resize(L);
    for (std::size_t l = L; l-- > 0;) {
      const auto& W = net.layers[l].W;
      const auto& Ain = l == 0 ? X : c.A[l - 1];
      g.dW[l] = c.dZ[l] * Ain.t();
      g.db[l] = arma::sum(c.dZ[l], 1);
      if (l > 0) {
        c.dA[l - 1] = W.t() * c.dZ[l];
        activate_backward(net.layers[l - 1].act, c.Z[l - 1], c.A[l - 1], c.dA[l - 1], c.dZ[l - 1]);
      } else if (want_dX) {
        g.dX = W.t() * c.dZ[0];
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
