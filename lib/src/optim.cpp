#include "nnlab/optim.hpp"

#include <cmath>

namespace nnlab::optim {

namespace {
template <class T> void zeros_like(Grads<T>& z, const Grads<T>& g) {
  if (z.dW.size() == g.dW.size()) return;
  z.dW.clear(); z.db.clear();
  for (std::size_t l = 0; l < g.dW.size(); ++l) {
    z.dW.push_back(arma::Mat<T>(g.dW[l].n_rows, g.dW[l].n_cols, arma::fill::zeros));
    z.db.push_back(arma::Col<T>(g.db[l].n_elem, arma::fill::zeros));
  }
}
}  // namespace

template <class T> void Sgd<T>::step(Network<T>& net, const Grads<T>& g) {
  for (std::size_t l = 0; l < net.depth(); ++l) {
    net.layers[l].W -= this->lr * g.dW[l];
    net.layers[l].b -= this->lr * g.db[l];
  }
}

template <class T> void Momentum<T>::step(Network<T>& net, const Grads<T>& g) {
  zeros_like(v_, g);
  for (std::size_t l = 0; l < net.depth(); ++l) {
    v_.dW[l] = beta_ * v_.dW[l] + g.dW[l];
    v_.db[l] = beta_ * v_.db[l] + g.db[l];
    net.layers[l].W -= this->lr * v_.dW[l];
    net.layers[l].b -= this->lr * v_.db[l];
  }
}

template <class T> void Adam<T>::step(Network<T>& net, const Grads<T>& g) {
  zeros_like(m_, g);
  zeros_like(v_, g);
  ++t_;
  const T c1 = T(1) - std::pow(b1_, T(t_)), c2 = T(1) - std::pow(b2_, T(t_));
  auto upd = [&](auto& theta, auto& m, auto& v, const auto& gr) {
    m = b1_ * m + (T(1) - b1_) * gr;
    v = b2_ * v + (T(1) - b2_) * arma::square(gr);
    theta -= this->lr * (m / c1) / (arma::sqrt(v / c2) + eps_);
  };
  for (std::size_t l = 0; l < net.depth(); ++l) {
    upd(net.layers[l].W, m_.dW[l], v_.dW[l], g.dW[l]);
    upd(net.layers[l].b, m_.db[l], v_.db[l], g.db[l]);
  }
}

template class Sgd<float>;
template class Sgd<double>;
template class Momentum<float>;
template class Momentum<double>;
template class Adam<float>;
template class Adam<double>;

}  // namespace nnlab::optim
