// naive backend: the reference.  Every quantity is a loop that reads like its equation
// (naive.hpp); nothing is fused, nothing is parallel.
#include "nnlab/backends/naive.hpp"

#include "nnlab/backends/backend.hpp"

namespace nnlab {
namespace {

template <class T> class NaiveBackend final : public Backend<T> {
 public:
  BackendKind kind() const override { return BackendKind::naive; }

  void forward(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c) override {
    c.resize(net, X.n_cols);
    naive::forward(net, X, c.Z, c.A);
  }

  T cost(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>& c) override { return naive::cost(net, Y, c.Z, c.A); }

  // dZ[L] = (1/m) dloss/dZ[L], then down through the layers, then the regularisation.
  void backward(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& c, Grads<T>& g,
                bool want_dX) override {
    loss_backward(net, Y, c, T(1) / T(Y.n_cols), 0, Y.n_cols);
    backprop(net, X, c, g, want_dX);
    add_regularization_grad(net, g);
  }

  // dZ[L] = dA_L o g_L'(Z[L]), then down through the layers.
  void vjp(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& dA_L, Cache<T>& c, Grads<T>& g,
           bool want_dX) override {
    const std::size_t L = net.depth();
    naive::act_backward(net.layers[L - 1].act, c.Z[L - 1], c.A[L - 1], dA_L, c.dZ[L - 1]);
    backprop(net, X, c, g, want_dX);
  }

 private:
  // From dZ[L] down to layer 1: dW, db, dA[l-1] = W' dZ, dZ[l-1] = dA[l-1] o g'(Z[l-1]).
  static void backprop(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c, Grads<T>& g, bool want_dX) {
    const std::size_t L = net.depth();
    g.dW.resize(L);
    g.db.resize(L);
    for (std::size_t l = L; l-- > 0;) {
      const auto& Ain = l == 0 ? X : c.A[l - 1];
      arma::Mat<T>* dAin = l > 0 ? &c.dA[l - 1] : (want_dX ? &g.dX : nullptr);
      naive::layer_backward(net.layers[l], Ain, c.dZ[l], g.dW[l], g.db[l], dAin);
      if (l > 0)
        naive::act_backward(net.layers[l - 1].act, c.Z[l - 1], c.A[l - 1], c.dA[l - 1], c.dZ[l - 1]);
    }
  }
};

}  // namespace

template <class T> std::unique_ptr<Backend<T>> make_naive_backend() {
  return std::make_unique<NaiveBackend<T>>();
}
template std::unique_ptr<Backend<float>> make_naive_backend<float>();
template std::unique_ptr<Backend<double>> make_naive_backend<double>();

}  // namespace nnlab
