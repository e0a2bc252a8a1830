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

  void backward(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& c, Grads<T>& g,
                bool want_dX) override {
    naive::backward(net, X, Y, c.Z, c.A, c.dZ, c.dA, g.dW, g.db, want_dX ? &g.dX : nullptr);
  }

  // dZ[L] = dA_L o g_L'(Z[L]), then down through the layers.
  void vjp(const Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& dA_L, Cache<T>& c, Grads<T>& g,
           bool want_dX) override {
    const std::size_t L = net.depth();
    naive::act_backward(net.layers[L - 1].act, c.Z[L - 1], c.A[L - 1], dA_L, c.dZ[L - 1]);
    naive::backprop(net, X, c.Z, c.A, c.dZ, c.dA, g.dW, g.db, want_dX ? &g.dX : nullptr);
  }
};

}  // namespace

template <class T> std::unique_ptr<Backend<T>> make_naive_backend() {
  return std::make_unique<NaiveBackend<T>>();
}
template std::unique_ptr<Backend<float>> make_naive_backend<float>();
template std::unique_ptr<Backend<double>> make_naive_backend<double>();

}  // namespace nnlab
