// nnlab/methods/optim.hpp -- optimizers: a training step is an optimizer's step() on a batch.
// Each has its update rule, applied to every parameter theta (each W[l] and b[l]) with its
// gradient g = dJ/dtheta.  The L1/L2 terms are already in g (Backend::backward adds them), so
// every optimizer regularises.
#pragma once
#include "nnlab/backends/backend.hpp"

#include <memory>
#include <string>
#include <vector>

namespace nnlab::optim {

template <class T = double> class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One training step on the batch (X, Y): J and its gradient from the backend, then the
  // update; returns J before the update.  The cache then holds the forward pass of the
  // network before the update.
  virtual T step(Backend<T>& be, Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& cache,
                 Grads<T>& grads) = 0;
  virtual std::string name() const = 0;
  // Whether a step needs the whole training set (the line search), not a minibatch.
  virtual bool full_batch() const { return false; }
  // The optimizer's state in a fixed order, sized to net (for checkpoints and resume).
  virtual std::vector<arma::Mat<T>*> state(const Network<T>&) { return {}; }
  T lr = T(0.01);  // the step lambda(t); a schedule may change it between steps
  long t = 0;      // steps taken
};

// The optimizers that move along the gradient alone: step() = value_and_grad + update().
template <class T = double> class GradientOptimizer : public Optimizer<T> {
 public:
  T step(Backend<T>& be, Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& cache,
         Grads<T>& grads) override;
  // theta <- the update of theta from its gradient g (regularisation included in g).
  virtual void update(Network<T>& net, const Grads<T>& g) = 0;
};

// theta[0..n) <- theta - lr g, element by element: the one SGD update, shared by Sgd and the
// backends that take it inside their pass (InPassSgd), so that all give the same bits.  GCC
// contracts it to one fused multiply-add where the target has FMA, the same in every caller
// (tests/test_backends.cpp checks that they agree bit for bit).
template <class T> inline void sgd_update(T* __restrict theta, const T* __restrict g, std::size_t n, T lr) {
#pragma omp simd
  for (std::size_t i = 0; i < n; ++i) theta[i] -= lr * g[i];
}

// theta <- theta - lr g.  step() takes the update inside the backend's pass (InPassSgd).
template <class T = double> class Sgd final : public GradientOptimizer<T> {
 public:
  explicit Sgd(T lr) { this->lr = lr; }
  T step(Backend<T>& be, Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& cache,
         Grads<T>& grads) override;
  void update(Network<T>& net, const Grads<T>& g) override;
  std::string name() const override { return "sgd"; }
};

// v <- beta v + g;  theta <- theta - lr v          (heavy ball, PyTorch's SGD momentum form)
template <class T = double> class Momentum final : public GradientOptimizer<T> {
 public:
  Momentum(T lr, T beta = T(0.9)) : beta_(beta) { this->lr = lr; }
  void update(Network<T>& net, const Grads<T>& g) override;
  std::string name() const override { return "momentum"; }
  std::vector<arma::Mat<T>*> state(const Network<T>& net) override;

 private:
  T beta_;
  Grads<T> v_;
};

// m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  t <- t + 1
// theta <- theta - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)      (Kingma & Ba 2015)
template <class T = double> class Adam final : public GradientOptimizer<T> {
 public:
  explicit Adam(T lr = T(1e-3), T b1 = T(0.9), T b2 = T(0.999), T eps = T(1e-8)) : b1_(b1), b2_(b2), eps_(eps) {
    this->lr = lr;
  }
  void update(Network<T>& net, const Grads<T>& g) override;
  std::string name() const override { return "adam"; }
  std::vector<arma::Mat<T>*> state(const Network<T>& net) override;

 private:
  T b1_, b2_, eps_;
  Grads<T> m_, v_;
};

// Full-batch gradient descent with the lectures' backtracking line search: lambda = 1, halved
// (at most kMaxHalvings times) while J(theta - lambda grad) >= J(theta); no decrease: theta
// stays.  lr is the lambda of the last step (2^-kMaxHalvings when none decreased J), so a step
// evaluated J at 1 - log2(lr) trial points.
template <class T = double> class LineSearch final : public Optimizer<T> {
 public:
  static constexpr int kMaxHalvings = 50;
  LineSearch() { this->lr = T(1); }
  T step(Backend<T>& be, Network<T>& net, const arma::Mat<T>& X, const arma::Mat<T>& Y, Cache<T>& cache,
         Grads<T>& grads) override;
  std::string name() const override { return "gd-linesearch"; }
  bool full_batch() const override { return true; }

 private:
  Network<T> trial_;
  Cache<T> trial_cache_;
};

// The step of SGD fixed in advance (the lectures' lambda(t)): lambda(t) = lr0 / (1 + decay t),
// t = 0, 1, 2, ...: sum_t lambda(t) = inf and sum_t lambda(t)^2 < inf, the conditions under
// which SGD converges on a convex problem (Robbins and Monro).
inline double decreasing_step(double lr0, double decay, double t) {
  // TASK sgd-decreasing-step
  return lr0 / (1 + decay * t);
  // STUB
  // (void)lr0, (void)decay, (void)t;
  // return 0;
  // END TASK sgd-decreasing-step
}

// "sgd", "momentum", "adam" with learning rate lr, or "gd-linesearch"; InputError otherwise.
template <class T = double> std::unique_ptr<Optimizer<T>> make(const std::string& name, T lr);

}  // namespace nnlab::optim
