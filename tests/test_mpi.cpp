// mpi module: the fixed summation tree.  The processes of a real run are simulated here: for
// R = 1..8 "processes" each computes its cover of the tree from its own leaves, and the root
// assembled from the covers must equal the one-process sum bit for bit.  (The same under a
// real mpirun: tests/mpi/same_result.sh.)
#include "nnlab/runtime/mpi.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace nnlab;
using namespace nnlab::mpi;

namespace {
std::vector<arma::vec> random_leaves(std::size_t S, std::size_t P, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> mag(0, 6);  // magnitudes over many decades: sums round
  std::uniform_int_distribution<int> sign(0, 1);
  std::vector<arma::vec> v(S, arma::vec(P));
  for (auto& x : v)
    for (auto& e : x) e = (sign(rng) ? 1 : -1) * mag(rng);
  return v;
}
}  // namespace

TEST_CASE("the tree by hand: S = 5", "[mpi]") {
  CHECK(mid({0, 5}) == 3);  // [0,5) = [0,3) + [3,5)
  CHECK(mid({0, 3}) == 2);  // [0,3) = [0,2) + [2,3)
  CHECK(cover(5, 0, 5) == std::vector<Node>{{0, 5}});
  CHECK(cover(5, 1, 4) == std::vector<Node>{{1, 2}, {2, 3}, {3, 4}});
  CHECK(cover(5, 0, 3) == std::vector<Node>{{0, 3}});
  CHECK(cover(5, 2, 5) == std::vector<Node>{{2, 3}, {3, 5}});
  CHECK(cover(5, 2, 2).empty());
  const std::vector<arma::vec> l = {arma::vec{1}, arma::vec{2}, arma::vec{4}, arma::vec{8}, arma::vec{16}};
  CHECK(node_sum<double>({0, 5}, 0, l)(0) == 31);
  // ((1 + 2) + 4) + (8 + 16): the order is the tree's, visible with rounding
  const std::vector<arma::vec> r = {arma::vec{1e16}, arma::vec{1}, arma::vec{-1e16}, arma::vec{1}, arma::vec{1}};
  CHECK(node_sum<double>({0, 5}, 0, r)(0) == 2);  // (1e16 + 1) rounds to 1e16; then - 1e16 = 0; + (1 + 1)
}

TEST_CASE("the root from R simulated processes equals the one-process sum, bit for bit", "[mpi]") {
  for (std::size_t S : {1, 2, 3, 5, 8, 13, 16, 31}) {
    const auto leaves = random_leaves(S, 7, S);
    const arma::vec one = node_sum<double>({0, S}, 0, leaves);
    for (int R = 1; R <= 8; ++R) {
      std::map<Node, arma::vec> given;
      std::size_t covered = 0;
      for (int r = 0; r < R; ++r) {
        const auto [lo, hi] = my_range(S, r, R);
        const std::vector<arma::vec> mine(leaves.begin() + long(lo), leaves.begin() + long(hi));
        for (const Node& n : cover(S, lo, hi)) {
          given[n] = node_sum<double>(n, lo, mine);
          covered += n.second - n.first;
        }
      }
      INFO("S = " << S << ", R = " << R);
      REQUIRE(covered == S);  // the covers partition [0, S)
      const arma::vec root = root_from<double>(S, given);
      REQUIRE(arma::approx_equal(root, one, "absdiff", 0.0));
    }
    // and the tree sum is a sum: close to the naive left-to-right one
    arma::vec seq(7, arma::fill::zeros), mag(7, arma::fill::zeros);
    for (const auto& x : leaves) { seq += x; mag += arma::abs(x); }
    CHECK(arma::max(arma::abs(one - seq) / mag) < 1e-14);
  }
}

TEST_CASE("ranges split S shards contiguously over R processes", "[mpi]") {
  for (std::size_t S : {0, 1, 4, 7}) {
    for (int R = 1; R <= 5; ++R) {
      std::size_t next = 0;
      for (int r = 0; r < R; ++r) {
        const auto [lo, hi] = my_range(S, r, R);
        CHECK(lo == next);
        CHECK(hi - lo <= S / std::size_t(R) + 1);
        next = hi;
      }
      CHECK(next == S);
    }
  }
}

TEST_CASE("one process: tree_allreduce is the local tree sum, rank 0 of 1", "[mpi]") {
  CHECK(rank() == 0);
  CHECK(size() == 1);
  const auto leaves = random_leaves(6, 4, 9);
  CHECK(arma::approx_equal(tree_allreduce<double>(6, leaves), node_sum<double>({0, 6}, 0, leaves), "absdiff", 0.0));
}
