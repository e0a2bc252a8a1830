// nnlab/optim.hpp -- optimizers: each one a small piece with its update rule, applied to
// every parameter theta (each W[l] and b[l]) with its gradient g = dJ/dtheta.  The L1/L2
// terms are already in g (Backend::backward adds them), so every optimizer regularises.
#pragma once
#include "nnlab/network.hpp"

#include <memory>
#include <string>
#include <vector>

namespace nnlab::optim {

template <class T = double> class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual void step(Network<T>& net, const Grads<T>& g) = 0;
  virtual std::string name() const = 0;
  // The optimizer's state in a fixed order, sized to net (for checkpoints and resume).
  virtual std::vector<arma::Mat<T>*> state(const Network<T>&) { return {}; }
  T lr = T(0.01);  // the step lambda(t); a schedule may change it between steps
  long t = 0;      // steps taken
};

// theta[0..n) <- theta - lr g, element by element: the one SGD update, shared by Sgd and the
// backends whose sgd_step updates the parameters inside their own passes (openmp, in
// parallel, each thread a range; matrix, the biases), so that all give the same bits.  Inline
// (the openmp backend also calls it on the 16-number strips of b); GCC contracts it to one fused
// multiply-add where the target has FMA (its default -ffp-contract=fast), the same in every
// caller, and tests/test_backends.cpp checks that the callers agree bit for bit.
template <class T> inline void sgd_update(T* __restrict theta, const T* __restrict g, std::size_t n, T lr) {
#pragma omp simd
  for (std::size_t i = 0; i < n; ++i) theta[i] -= lr * g[i];
}

// theta <- theta - lr g
template <class T = double> class Sgd final : public Optimizer<T> {
 public:
  explicit Sgd(T lr) { this->lr = lr; }
  void step(Network<T>& net, const Grads<T>& g) override;
  std::string name() const override { return "sgd"; }
};

// v <- beta v + g;  theta <- theta - lr v          (heavy ball, PyTorch's SGD momentum form)
template <class T = double> class Momentum final : public Optimizer<T> {
 public:
  Momentum(T lr, T beta = T(0.9)) : beta_(beta) { this->lr = lr; }
  void step(Network<T>& net, const Grads<T>& g) override;
  std::string name() const override { return "momentum"; }
  std::vector<arma::Mat<T>*> state(const Network<T>& net) override;

 private:
  T beta_;
  Grads<T> v_;
};

// m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  t <- t + 1
// theta <- theta - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)      (Kingma & Ba 2015)
template <class T = double> class Adam final : public Optimizer<T> {
 public:
  explicit Adam(T lr = T(1e-3), T b1 = T(0.9), T b2 = T(0.999), T eps = T(1e-8)) : b1_(b1), b2_(b2), eps_(eps) {
    this->lr = lr;
  }
  void step(Network<T>& net, const Grads<T>& g) override;
  std::string name() const override { return "adam"; }
  std::vector<arma::Mat<T>*> state(const Network<T>& net) override;

 private:
  T b1_, b2_, eps_;
  Grads<T> m_, v_;
};

// "sgd", "momentum", "adam" with learning rate lr.
template <class T = double> std::unique_ptr<Optimizer<T>> make(const std::string& name, T lr);

}  // namespace nnlab::optim
