// The autodiff engine: per op, a hand-checked case, a finite-difference Jacobian and a
// whole-graph gradient; branches, reuse, whole networks, DOT output.
#include "helpers.hpp"
#include "nnlab/methods/gradcheck.hpp"
#include "nnlab/graph/graph.hpp"

#include <catch2/catch.hpp>
#include <regex>

using namespace nnlab;
namespace g = nnlab::graph;
using V = g::Var<double>;

namespace {
arma::mat colm(std::initializer_list<double> v) { return arma::mat(arma::vec(v)); }
// Checks d sum(w o op(inputs)) / d input_k against FD for every input (the op's Jacobian,
// contracted with a random w so that every output entry matters).
void fd_check(const std::function<V(const std::vector<V>&)>& op, std::vector<arma::mat> vals,
              double tol = 1e-8) {
  auto build = [&](const std::vector<arma::mat>& vs, std::vector<V>& leaves) {
    leaves.clear();
    for (const auto& v : vs) leaves.push_back(g::leaf<double>(v));
    return op(leaves);
  };
  std::vector<V> leaves;
  V out = build(vals, leaves);
  arma::arma_rng::set_seed(42);
  const arma::mat w = arma::randn(out->value.n_rows, out->value.n_cols);
  V s = g::sum(g::mul(out, g::leaf<double>(w)));
  g::backward(s);
  for (std::size_t k = 0; k < vals.size(); ++k)
    for (arma::uword i = 0; i < vals[k].n_elem; ++i) {
      auto f = [&](double x) {
        auto vs = vals;
        vs[k][i] = x;
        std::vector<V> lv;
        return arma::accu(w % build(vs, lv)->value);
      };
      INFO("input " << k << " entry " << i);
      REQUIRE(leaves[k]->grad[i] == Approx(fd_central(f, vals[k][i], 1e-3, 4)).epsilon(tol).margin(1e-10));
    }
}
}  // namespace

TEST_CASE("hand-checked: s = u' f(W x + b)", "[graph]") {
  auto u = g::leaf<double>(colm({1.0, -2.0}), "u");
  auto W = g::leaf<double>(arma::mat{{1.0, 0.0}, {0.0, 2.0}}, "W");
  auto x = g::leaf<double>(colm({0.5, -0.25}), "x");
  auto b = g::leaf<double>(colm({0.0, 0.5}), "b");
  auto z = g::add(g::matmul(W, x), b);  // z = (0.5, 0)
  auto s = g::matmul(g::transpose(u), g::activation(z, Activation::tanh));
  REQUIRE(s->value(0, 0) == Approx(std::tanh(0.5)).epsilon(1e-15));
  g::backward(s);
  // ds/du = f(z); ds/db = u o f'(z); ds/dW = (u o f'(z)) x'; ds/dx = W'(u o f'(z))
  const double d0 = 1 - std::tanh(0.5) * std::tanh(0.5);
  CHECK(u->grad(0, 0) == Approx(std::tanh(0.5)).epsilon(1e-15));
  CHECK(u->grad(1, 0) == 0);
  CHECK(b->grad(0, 0) == Approx(d0).epsilon(1e-15));
  CHECK(b->grad(1, 0) == -2);
  CHECK(W->grad(0, 0) == Approx(0.5 * d0).epsilon(1e-15));
  CHECK(W->grad(1, 1) == Approx(0.5).epsilon(1e-15));
  CHECK(x->grad(1, 0) == Approx(-4).epsilon(1e-15));
}

TEST_CASE("every op's backward matches its finite-difference Jacobian", "[graph]") {
  arma::arma_rng::set_seed(1);
  const arma::mat A = arma::randn(3, 4), B = arma::randn(4, 2), C = arma::randn(3, 4),
                  P = arma::randu(3, 4) + 0.5, col = arma::randn(3, 1), sc = arma::mat(1, 1, arma::fill::value(1.7));
  fd_check([](auto& v) { return g::matmul(v[0], v[1]); }, {A, B});
  fd_check([](auto& v) { return g::transpose(v[0]); }, {A});
  fd_check([](auto& v) { return g::add(v[0], v[1]); }, {A, C});
  fd_check([](auto& v) { return g::add(v[0], v[1]); }, {A, col});  // bias broadcast
  fd_check([](auto& v) { return g::add(v[0], v[1]); }, {A, sc});   // scalar broadcast
  fd_check([](auto& v) { return g::sub(v[0], v[1]); }, {A, col});
  fd_check([](auto& v) { return g::mul(v[0], v[1]); }, {A, C});
  fd_check([](auto& v) { return g::mul(v[0], v[1]); }, {sc, A});
  fd_check([](auto& v) { return g::div(v[0], v[1]); }, {A, P});
  fd_check([](auto& v) { return g::pow(v[0], 2.5); }, {P});
  fd_check([](auto& v) { return g::exp(v[0]); }, {A});
  fd_check([](auto& v) { return g::log(v[0]); }, {P});
  fd_check([](auto& v) { return g::sum(v[0]); }, {A});
  fd_check([](auto& v) { return g::mean(v[0]); }, {A});
  fd_check([](auto& v) { return g::l1_norm(v[0]); }, {A});
  fd_check([](auto& v) { return g::l2_norm2(v[0]); }, {A});
  for (Activation a : kAllActivations) {
    INFO(name(a));
    const arma::mat Z = arma::randn(3, 4) * 2;
    bool near_kink = false;
    for (double k : kinks(a)) near_kink = near_kink || arma::any(arma::vectorise(arma::abs(Z - k)) < 3e-3);
    if (near_kink) continue;
    fd_check([a](auto& v) { return g::activation(v[0], a); }, {Z});
  }
  std::mt19937_64 rng(3);
  for (Loss l : kAllLosses) {
    INFO(name(l));
    const arma::mat Y = test::targets(l, 3, 4, rng);
    const arma::mat Z = arma::randn(3, 4);
    if (l == Loss::hinge && arma::any(arma::vectorise(arma::abs(1 - Y % Z)) < 3e-3)) continue;
    fd_check([&](auto& v) { return g::loss(v[0], Y, l); }, {Z});
  }
}

TEST_CASE("a node with several successors gets the sum of its branches", "[graph]") {
  auto x = g::scalar(3.0, "x");
  auto y = g::add(g::mul(x, x), g::exp(x));  // x used three times
  g::backward(y);
  CHECK(x->grad(0, 0) == Approx(2 * 3.0 + std::exp(3.0)).epsilon(1e-15));
  // Reuse many times: s = x + x + ... (100 times), a chain of 99 adds.
  auto s = x;
  for (int i = 1; i < 100; ++i) s = g::add(s, x);
  const std::size_t visited = g::backward(s);
  CHECK(visited == 100);  // 99 add nodes + x, each visited once
  CHECK(x->grad(0, 0) == 100);
  // A long chain is fine (the topological sort does not recurse): 2000 log(exp(.)) pairs.
  auto z = g::scalar(0.5);
  auto c = z;
  for (int i = 0; i < 2000; ++i) c = g::log(g::exp(c));
  g::backward(c);
  CHECK(z->grad(0, 0) == Approx(1).epsilon(1e-12));
}

TEST_CASE("the graph backend agrees with the hand-written ones at depths 1-6", "[graph][backends]") {
  std::size_t idx = 0;
  for (std::size_t depth = 1; depth <= 6; ++depth)
    for (Loss loss : kAllLosses) {
      ++idx;
      auto c = test::make_case(400 + idx, depth, kAllActivations[idx % 20], loss, 5 + depth, 0.01, 0.01);
      auto gr = make_backend<double>(BackendKind::graph);
      auto na = make_backend<double>(BackendKind::naive);
      const auto r = compare_backends(*gr, *na, c.net, c.X, c.Y);
      for (const auto& b : r.blocks) REQUIRE(b.max_rel <= kBackendRelTol);
      const auto fd = check_fd(*gr, c.net, c.X, c.Y);
      INFO(name(c.net.layers[0].act) << " " << name(loss) << " depth " << depth << "\n" << test::summary(fd));
      REQUIRE(fd.passed);
    }
}

TEST_CASE("DOT output parses back to the graph's node and edge counts", "[graph][dot]") {
  auto x = g::leaf<double>(colm({1.0, 2.0}), "x");
  auto W = g::leaf<double>(arma::mat{{1.0, -1.0}, {0.5, 0.25}}, "W");
  auto b = g::leaf<double>(colm({0.1, 0.2}), "b");
  auto u = g::leaf<double>(colm({1.0, 1.0}), "u");
  auto s = g::matmul(g::transpose(u), g::activation(g::add(g::matmul(W, x), b), Activation::sigmoid));
  g::backward(s);
  const std::string dot = g::to_dot(s, "s = u' f(Wx + b)");
  const auto order = g::topological_order(s);
  std::size_t edges = 0;
  for (auto* n : order) edges += n->prev.size();
  const std::regex node_re(R"(\n  n\d+ \[label=)"), edge_re(R"(\n  n\d+ -> n\d+;)");
  const auto count = [&](const std::regex& re) {
    return std::size_t(std::distance(std::sregex_iterator(dot.begin(), dot.end(), re), std::sregex_iterator()));
  };
  REQUIRE(order.size() == 9);  // 4 leaves + matmul, add, sigmoid, transpose, matmul
  REQUIRE(count(node_re) == order.size());
  REQUIRE(count(edge_re) == edges);
  REQUIRE(edges == 8);
  REQUIRE(dot.find("grad") != std::string::npos);
}
