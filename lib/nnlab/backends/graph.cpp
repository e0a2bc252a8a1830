// graph backend: builds the graph of the forward pass with nnlab/graph/graph.hpp and gets every
// gradient from one backward() call.  Nothing here is differentiated by hand.
#include "nnlab/backends/backend.hpp"

#include "nnlab/graph/graph.hpp"

namespace nnlab {
namespace {

template <class T> class GraphBackend final : public Backend<T> {
  using Var = graph::Var<T>;

 public:
  BackendKind kind() const override { return BackendKind::graph; }

  void forward(const Network<T>& net, const arma::Mat<T>& X, Cache<T>& c) override {
    const std::size_t L = net.depth();
    W_.clear(); b_.clear(); Z_.clear(); A_.clear();
    J_.reset();
    X_ = graph::leaf<T>(X, "X");
    Var A = X_;
    for (std::size_t l = 0; l < L; ++l) {
      const std::string s = std::to_string(l + 1);
      W_.push_back(graph::leaf<T>(net.layers[l].W, "W" + s));
      b_.push_back(graph::leaf<T>(net.layers[l].b, "b" + s));
      Z_.push_back(graph::add(graph::matmul(W_[l], A), b_[l]));  // Z = W A + b
      const Activation g = net.layers[l].act;                     // A = g(Z)
      A = g == Activation::tanh ? graph::tanh(Z_[l]) : graph::activation(Z_[l], g);
      A_.push_back(A);
    }
    AL_ = A;
    c.resize(net, X.n_cols);
    for (std::size_t l = 0; l < L; ++l) {
      c.Z[l] = Z_[l]->value;
      c.A[l] = A_[l]->value;
    }
  }

  T cost(const Network<T>& net, const arma::Mat<T>& Y, Cache<T>&) override {
    J_ = graph::loss(fused_with_activation(net.loss) ? Z_.back() : AL_, Y, net.loss);
    if (net.l1 != T(0) || net.l2 != T(0))
      for (const auto& W : W_) {
        if (net.l1 != T(0)) J_ = graph::add(J_, graph::mul(graph::scalar<T>(net.l1, "l1"), graph::l1_norm(W)));
        if (net.l2 != T(0)) J_ = graph::add(J_, graph::mul(graph::scalar<T>(net.l2, "l2"), graph::l2_norm2(W)));
      }
    return J_->value(0, 0);
  }

  void backward(const Network<T>& net, const arma::Mat<T>&, const arma::Mat<T>& Y, Cache<T>& c,
                Grads<T>& g, bool want_dX) override {
    if (!J_) cost(net, Y, c);
    graph::backward(J_);
    collect(c, g, want_dX);
  }

  // v'(dA_L/dtheta) is the gradient of the scalar sum(A_L o v): build it and backprop.
  void vjp(const Network<T>&, const arma::Mat<T>&, const arma::Mat<T>& dA_L, Cache<T>& c,
           Grads<T>& g, bool want_dX) override {
    graph::backward(graph::sum(graph::mul(AL_, graph::leaf<T>(dA_L, "v"))));
    collect(c, g, want_dX);
  }

 private:
  void collect(Cache<T>& c, Grads<T>& g, bool want_dX) {
    const std::size_t L = W_.size();
    g.dW.resize(L);
    g.db.resize(L);
    for (std::size_t l = 0; l < L; ++l) {
      g.dW[l] = W_[l]->grad;
      g.db[l] = b_[l]->grad;
      c.dZ[l] = Z_[l]->grad;
    }
    if (want_dX) g.dX = X_->grad;
  }

  Var X_, AL_, J_;
  std::vector<Var> W_, b_, Z_, A_;
};

}  // namespace

template <class T> std::unique_ptr<Backend<T>> make_graph_backend() {
  return std::make_unique<GraphBackend<T>>();
}
template std::unique_ptr<Backend<float>> make_graph_backend<float>();
template std::unique_ptr<Backend<double>> make_graph_backend<double>();

}  // namespace nnlab
