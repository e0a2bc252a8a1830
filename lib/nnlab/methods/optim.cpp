#include "nnlab/methods/optim.hpp"

#include "nnlab/core/error.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace nnlab::optim {

namespace {
template <class T> void zeros_like(Grads<T>& z, const Network<T>& net) {
  if (z.dW.size() == net.depth()) return;
  z.dW.clear(); z.db.clear();
  for (const auto& L : net.layers) {
    z.dW.push_back(arma::Mat<T>(L.W.n_rows, L.W.n_cols, arma::fill::zeros));
    z.db.push_back(arma::Col<T>(L.b.n_elem, arma::fill::zeros));
  }
}
template <class T> void collect(Grads<T>& g, std::vector<arma::Mat<T>*>& out) {
  for (std::size_t l = 0; l < g.dW.size(); ++l) { out.push_back(&g.dW[l]); out.push_back(&g.db[l]); }
}
}  // namespace

template <class T>
T GradientOptimizer<T>::step(Backend<T>& be, Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y,
                             Cache<T>& c, Grads<T>& g) {
  const T J = be.value_and_grad(net, X, Y, c, g);
  update(net, g);
  return J;
}

template <class T>
T Sgd<T>::step(Backend<T>& be, Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& c,
               Grads<T>& g) {
  ++this->t;
  const InPassSgd<T> sgd{&net, this->lr};
  return be.value_and_grad(net, X, Y, c, g, false, &sgd);
}

template <class T> void Sgd<T>::update(Network<T>& net, const Grads<T>& g) {
  if (g.dW.size() != net.depth() || g.db.size() != net.depth())
    throw std::logic_error("optim::Sgd: gradients for " + std::to_string(g.dW.size()) + " layers, network has " +
                           std::to_string(net.depth()));
  ++this->t;
  for (std::size_t l = 0; l < net.depth(); ++l) {
    if (g.dW[l].n_elem != net.layers[l].W.n_elem || g.db[l].n_elem != net.layers[l].b.n_elem)
      throw std::logic_error("optim::Sgd: gradient of layer " + std::to_string(l) + " does not match its shape");
    sgd_update(net.layers[l].W.memptr(), g.dW[l].memptr(), net.layers[l].W.n_elem, this->lr);
    sgd_update(net.layers[l].b.memptr(), g.db[l].memptr(), net.layers[l].b.n_elem, this->lr);
  }
}

template <class T> void Momentum<T>::update(Network<T>& net, const Grads<T>& g) {
  zeros_like(v_, net);
  ++this->t;
  for (std::size_t l = 0; l < net.depth(); ++l) {
    v_.dW[l] = beta_ * v_.dW[l] + g.dW[l];
    v_.db[l] = beta_ * v_.db[l] + g.db[l];
    net.layers[l].W -= this->lr * v_.dW[l];
    net.layers[l].b -= this->lr * v_.db[l];
  }
}

template <class T> void Adam<T>::update(Network<T>& net, const Grads<T>& g) {
  zeros_like(m_, net);
  zeros_like(v_, net);
  ++this->t;
  const T c1 = T(1) - std::pow(b1_, T(this->t)), c2 = T(1) - std::pow(b2_, T(this->t));
  // One fused, vectorisable pass per parameter block (an Armadillo expression would take
  // four passes and an unvectorised sqrt).
  const T b1 = b1_, b2 = b2_, eps = eps_, lr = this->lr;
  auto upd = [&](arma::Mat<T>& theta, arma::Mat<T>& M, arma::Mat<T>& V, const arma::Mat<T>& G) {
    T* __restrict th = theta.memptr();
    T* __restrict m = M.memptr();
    T* __restrict v = V.memptr();
    const T* __restrict g = G.memptr();
    const arma::uword n = theta.n_elem;
#pragma omp simd
    for (arma::uword i = 0; i < n; ++i) {
      m[i] = b1 * m[i] + (T(1) - b1) * g[i];
      v[i] = b2 * v[i] + (T(1) - b2) * g[i] * g[i];
      th[i] -= lr * (m[i] / c1) / (std::sqrt(v[i] / c2) + eps);
    }
  };
  for (std::size_t l = 0; l < net.depth(); ++l) {
    upd(net.layers[l].W, m_.dW[l], v_.dW[l], g.dW[l]);
    upd(net.layers[l].b, m_.db[l], v_.db[l], g.db[l]);
  }
}

template <class T> std::vector<arma::Mat<T>*> Momentum<T>::state(const Network<T>& net) {
  zeros_like(v_, net);
  std::vector<arma::Mat<T>*> out;
  collect(v_, out);
  return out;
}

template <class T> std::vector<arma::Mat<T>*> Adam<T>::state(const Network<T>& net) {
  zeros_like(m_, net);
  zeros_like(v_, net);
  std::vector<arma::Mat<T>*> out;
  collect(m_, out);
  collect(v_, out);
  return out;
}

template <class T>
T LineSearch<T>::step(Backend<T>& be, Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& c,
                      Grads<T>& g) {
  ++this->t;
  const T J = be.value_and_grad(net, X, Y, c, g);  // F(u) and grad F(u)
  trial_ = net;
  // TASK gd-line-search
  double lambda = 1.0;
  for (int h = 0; h < kMaxHalvings; ++h, lambda /= 2) {
    for (std::size_t l = 0; l < net.depth(); ++l) {  // trial_ = u - lambda grad F(u)
      trial_.layers[l].W = net.layers[l].W - T(lambda) * g.dW[l];
      trial_.layers[l].b = net.layers[l].b - T(lambda) * g.db[l];
    }
    if (be.value(trial_, X, Y, trial_cache_) < J) {  // F decreased: take the step
      net = trial_;
      break;
    }
  }
  this->lr = T(lambda);
  // STUB
  // (void)X, (void)Y;
  // END TASK gd-line-search
  return J;
}

template <class T> std::unique_ptr<Optimizer<T>> make(const std::string& name, T lr) {
  if (name == "sgd") return std::make_unique<Sgd<T>>(lr);
  if (name == "momentum") return std::make_unique<Momentum<T>>(lr);
  if (name == "adam") return std::make_unique<Adam<T>>(lr);
  if (name == "gd-linesearch") return std::make_unique<LineSearch<T>>();
  throw InputError("--optimizer " + name + ": must be sgd, momentum, adam or gd-linesearch");
}
template std::unique_ptr<Optimizer<float>> make<float>(const std::string&, float);
template std::unique_ptr<Optimizer<double>> make<double>(const std::string&, double);

template class GradientOptimizer<float>;
template class GradientOptimizer<double>;
template class LineSearch<float>;
template class LineSearch<double>;
template class Sgd<float>;
template class Sgd<double>;
template class Momentum<float>;
template class Momentum<double>;
template class Adam<float>;
template class Adam<double>;

}  // namespace nnlab::optim
