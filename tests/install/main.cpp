// The README's example: a network, its gradient from one backend, checked against central
// finite differences.  Exits 1 when the check fails.
#include <nnlab/nnlab.hpp>

#include <cstdio>

int main() {
  using namespace nnlab;
  // 2 inputs, 4 tanh neurons, 1 sigmoid output, binary cross-entropy; weights N(0, 1), seed 7.
  const Network<double> net = random_network<double>({2, 4, 1}, {Activation::tanh, Activation::sigmoid}, Loss::bce,
                                                     /*seed=*/7, /*scale=*/1.0);
  const arma::mat X = {{1, -1, 0, 0}, {0, 0, 1, -1}};  // the lectures' four points, one per column
  const arma::mat Y = {{1, 1, 0, 0}};

  auto backend = make_backend<double>(BackendKind::matrix);
  Cache<double> cache;
  Grads<double> grads;
  const double J = backend->value_and_grad(net, X, Y, cache, grads);
  std::printf("J = %.17g\ndJ/dW1 =\n", J);
  grads.dW[0].print();

  const CheckReport report = check_fd(*backend, net, X, Y);
  for (const BlockReport& b : report.blocks)
    std::printf("%-3s max relative error %.2e (tolerance %.0e): %s\n", b.name.c_str(), b.max_rel, b.tol,
                b.verdict.c_str());
  return report.passed ? 0 : 1;
}
