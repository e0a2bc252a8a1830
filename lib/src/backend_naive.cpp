// naive backend: the documented reference.  Every quantity is a loop that reads like its
// equation (see naive_impl.hpp); nothing is fused, nothing is parallel.
#include "naive_impl.hpp"
#include "nnlab/backend.hpp"

namespace nnlab {
namespace {

template <class T> class NaiveBackend final : public Backend<T> {
 public:
  BackendKind kind() const override { return BackendKind::naive; }

  void forward(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c) override {
    naive::forward(net, X, c.Z, c.A);
    c.dZ.resize(net.depth());
    c.dA.resize(net.depth());
  }

  T cost(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>& c) override {
    return naive::cost(net, Y, c.Z, c.A);
  }

 protected:
  // dZ[L] (bce, ce) or dA[L] (mse, hinge) from the loss, column by column, scaled by 1/m.
  void loss_backward(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>& c, T scale) override {
    const std::size_t L = net.depth();
    const auto& AL = c.A[L - 1];
    const auto n = AL.n_rows, m = AL.n_cols;
    arma::Mat<T> G(n, m);
    for (arma::uword t = 0; t < m; ++t)
      lossfn::gradient(net.loss, AL.colptr(t), Y.colptr(t), G.colptr(t), n, scale);
    if (fused_with_activation(net.loss)) c.dZ[L - 1] = std::move(G);
    else output_backward(net, G, c);
  }

  void output_backward(const Network<T>& net, const arma::Mat<T>& dA_L, Cache<T>& c) override {
    const std::size_t L = net.depth();
    c.dA[L - 1] = dA_L;
    naive::act_backward(net.layers[L - 1].act, c.Z[L - 1], c.A[L - 1], dA_L, c.dZ[L - 1]);
  }

  void backprop(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c, Grads<T>& g,
                bool want_dX) override {
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
