// Test helpers: random networks with data that fits their loss.
#pragma once
#include "nnlab/backends/backend.hpp"

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

namespace nnlab::test {

// Threads of this process now (entries of /proc/self/task): OpenBLAS's pool shows in it.
inline std::size_t process_threads() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}
// process_threads() once it is below `limit`, waiting up to 2 s for it (else the count then).
// A thread that pthread_join has seen end can stay listed in /proc/self/task for a moment:
// the kernel wakes the joiner before it removes the task.  Counted at once after parking
// OpenBLAS's pool, the count was one high in 2 of 80 runs of test_blas.
inline std::size_t process_threads_once_below(std::size_t limit) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  std::size_t n = process_threads();
  while (n >= limit && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    n = process_threads();
  }
  return n;
}

struct Case {
  Network<double> net;
  arma::mat X, Y;  // one sample per column
};

// Targets that fit the loss: mse any, bce in [0,1], ce probability columns, hinge +-1.
inline arma::mat targets(Loss loss, std::size_t n, std::size_t m, std::mt19937_64& rng) {
  std::normal_distribution<double> N(0, 1);
  std::uniform_real_distribution<double> U(0, 1);
  arma::mat Y(n, m);
  for (auto& y : Y) {
    switch (loss) {
      case Loss::mse: y = N(rng); break;
      case Loss::bce: y = U(rng); break;
      case Loss::ce: y = -std::log(U(rng) + 1e-12); break;
      case Loss::hinge: y = U(rng) < 0.5 ? -1.0 : 1.0; break;
    }
  }
  if (loss == Loss::ce) Y.each_row() /= arma::sum(Y, 0);
  return Y;
}

// depth layers of width 2..6 (seeded), hidden activation `hidden`, the last activation
// the loss needs (or `hidden` too when it needs none).
inline Case make_case(std::uint64_t seed, std::size_t depth, Activation hidden, Loss loss,
                      std::size_t m, double l1 = 0, double l2 = 0, double xscale = 1.5) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> W(2, 6);
  std::vector<std::size_t> sizes{W(rng)};
  std::vector<Activation> acts;
  for (std::size_t l = 0; l < depth; ++l) {
    sizes.push_back(W(rng));
    acts.push_back(hidden);
  }
  if (auto need = required_last_activation(loss)) acts.back() = *need;
  if (loss == Loss::bce || loss == Loss::hinge) sizes.back() = std::min<std::size_t>(sizes.back(), 3);
  Case c;
  c.net = random_network<double>(sizes, acts, loss, seed * 7 + 1, 0.8, l1, l2);
  std::normal_distribution<double> N(0, 1);
  c.X.set_size(sizes.front(), m);
  for (auto& x : c.X) x = xscale * N(rng);
  c.Y = targets(loss, sizes.back(), m, rng);
  return c;
}

}  // namespace nnlab::test

#include "nnlab/methods/gradcheck.hpp"
#include <sstream>
namespace nnlab::test {
// One line per block, for INFO() when a check fails.
inline std::string summary(const CheckReport& r) {
  std::ostringstream s;
  s << r.what << ", J = " << r.cost << "\n";
  for (const auto& b : r.blocks)
    s << "  " << b.name << ": rel " << b.max_rel << " abs " << b.max_abs << " at " << b.worst << " ("
      << b.analytic << " vs " << b.numeric << "), kinks " << b.n_kink << "/" << b.n << ", " << b.verdict << "\n";
  return s.str();
}
}  // namespace nnlab::test
