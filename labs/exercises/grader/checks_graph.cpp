// Checks of the graph engine's tasks: the topological sort, the backward loop, and the
// backward of add, mul, matmul and tanh.  The graphs here are built node by node with the
// checks' own backward closures, so that each task is checked alone.
#include "check.hpp"

#include "nnlab/graph/graph.hpp"

#include <map>
#include <set>
#include <random>

namespace {
using Node = nnlab::graph::Node<double>;
using Var = nnlab::graph::Var<double>;
namespace g = nnlab::graph;

Var node(const std::string& label, std::vector<Var> prev, arma::mat value = arma::mat(1, 1, arma::fill::zeros)) {
  static std::size_t id = 1000000;
  auto n = std::make_shared<Node>();
  n->value = std::move(value);
  n->prev = std::move(prev);
  n->op = n->prev.empty() ? "leaf" : "op";
  n->label = label;
  n->id = ++id;
  return n;
}

// The nodes reachable from root (the check's own depth-first walk).
std::vector<Node*> reachable(const Var& root) {
  std::vector<Node*> out, todo{root.get()};
  std::set<Node*> seen{root.get()};
  while (!todo.empty()) {
    Node* n = todo.back();
    todo.pop_back();
    out.push_back(n);
    for (const auto& p : n->prev)
      if (seen.insert(p.get()).second) todo.push_back(p.get());
  }
  return out;
}

void expect_topological(const Var& root, const std::string& graph) {
  std::vector<Node*> order;
  ex::guarded("topological_order(" + graph + ")", [&] { order = g::topological_order(root); });
  const auto all = reachable(root);
  std::map<Node*, std::size_t> pos;
  for (std::size_t i = 0; i < order.size(); ++i) {
    if (!pos.emplace(order[i], i).second)
      ex::fail(graph + ": node '" + order[i]->label + "' appears twice in the order (mark the nodes already " +
               "visited: a node with several successors is reached once per successor)");
  }
  for (Node* n : all)
    if (!pos.count(n))
      ex::fail(graph + ": node '" + n->label + "' is missing from the order (" + std::to_string(order.size()) + " of " +
               std::to_string(all.size()) + " nodes; every node the root depends on must be visited)");
  if (order.size() != all.size())
    ex::fail(graph + ": the order has " + std::to_string(order.size()) + " nodes, the graph " + std::to_string(all.size()));
  for (Node* n : order)
    for (const auto& p : n->prev)
      if (pos[p.get()] > pos[n])
        ex::fail(graph + ": node '" + n->label + "' comes before its input '" + p->label +
                 "' (a node goes after all of its inputs: append it once its inputs are done, post-order)");
  if (order.back() != root.get()) ex::fail(graph + ": the root '" + root->label + "' must come last");
}
}  // namespace

NNLAB_CHECK("graph-topo-sort", "the lecture's graph s = u'R, R = f(z), z = W x + b") {
  auto W = node("W", {}), x = node("x", {}), b = node("b", {}), u = node("u", {});
  auto Wx = node("W x", {W, x}), z = node("z = Wx + b", {Wx, b}), R = node("R = f(z)", {z});
  auto ut = node("u'", {u}), s = node("s = u'R", {ut, R});
  expect_topological(s, "s = u'R");
}

NNLAB_CHECK("graph-topo-sort", "a node with two successors (x -> a, x -> b, c = a + b) is visited once") {
  auto x = node("x", {}), a = node("a", {x}), b = node("b", {x}), c = node("c", {a, b});
  expect_topological(c, "diamond");
  auto y = node("y", {x, x});  // the same input twice: y = x * x
  expect_topological(y, "y = x * x");
}

NNLAB_CHECK("graph-topo-sort", "a random graph of 300 nodes and a chain of 2000") {
  std::mt19937_64 rng(29);
  std::vector<Var> nodes;
  for (int i = 0; i < 300; ++i) {
    std::vector<Var> prev;
    if (i >= 3)
      for (int k = 0; k < 3; ++k) prev.push_back(nodes[std::uniform_int_distribution<int>(0, i - 1)(rng)]);
    nodes.push_back(node("n" + std::to_string(i), prev));
  }
  std::vector<Var> all(nodes.end() - 20, nodes.end());
  auto root = node("root", all);
  expect_topological(root, "random graph");
  Var chain = node("c0", {});
  for (int i = 1; i < 2000; ++i) chain = node("c" + std::to_string(i), {chain});
  expect_topological(chain, "chain of 2000");
}

namespace {
// y = k x as a node with the check's own backward closure.
Var scale(const std::string& label, const Var& x, double k) {
  auto y = node(label, {x}, k * x->value);
  Node* out = y.get();
  y->backward_fn = [x, out, k] { x->grad += k * out->grad; };
  return y;
}
Var plus(const std::string& label, const Var& a, const Var& b) {
  auto y = node(label, {a, b}, a->value + b->value);
  Node* out = y.get();
  y->backward_fn = [a, b, out] { a->grad += out->grad; b->grad += out->grad; };
  return y;
}
std::vector<Node*> order_of(const std::vector<Var>& nodes) {
  std::vector<Node*> o;
  for (const auto& n : nodes) o.push_back(n.get());
  return o;
}
void run_backward(const std::vector<Node*>& order, const std::string& graph) {
  ex::guarded("backward_in_order(" + graph + ")", [&] { g::backward_in_order(order); },
              "zero each gradient with its node's shape: n->grad.zeros(n->value.n_rows, n->value.n_cols); "
              "a leaf has no backward_fn to call");
}
}  // namespace

NNLAB_CHECK("graph-backward", "seed d root/d root = 1, then a chain s = 2 (3 x) in reverse order") {
  auto x = node("x", {}, ex::one(0.5));
  auto y = scale("y = 3x", x, 3);
  auto s = scale("s = 2y", y, 2);
  run_backward(order_of({x, y, s}), "chain");
  ex::expect(s->grad.n_elem == 1 && x->grad.n_elem == 1,
             "the gradients were not set: zero every node's gradient with the shape of its value, then seed the root with 1");
  ex::expect_close("ds/ds", s->grad, ex::one(1.0), 0, 0, "", {}, {{ex::one(0.0), "seed the root: d root/d root = 1"}});
  ex::expect_close("ds/dy", y->grad, ex::one(2.0), 0, 0);
  ex::expect_close("ds/dx", x->grad, ex::one(6.0), 0, 0, "", {},
                   {{ex::one(0.0), "the gradient did not reach x: visit the nodes from the root down (reverse order)"}});
}

NNLAB_CHECK("graph-backward", "two branches: c = 2x + 5x gives dc/dx = 7, the sum over the successors") {
  auto x = node("x", {}, arma::mat{{1.5, -2.0, 0.25}});
  auto a = scale("a = 2x", x, 2), b = scale("b = 5x", x, 5);
  auto c = plus("c = a + b", a, b);
  auto s = node("s = sum c", {c}, ex::one(arma::accu(c->value)));
  Node* out = s.get();
  s->backward_fn = [c, out] { c->grad += out->grad(0, 0) * arma::ones(arma::size(c->value)); };
  const auto order = order_of({x, a, b, c, s});
  run_backward(order, "two branches");
  const arma::mat want(1, 3, arma::fill::value(7.0));
  ex::expect_close("ds/dx", x->grad, want, 0, 0, "", {},
                   {{arma::mat(1, 3, arma::fill::value(2.0)), "only one branch reached x: every node's backward_fn "
                                                              "must run, in reverse topological order"},
                    {arma::mat(1, 3, arma::fill::value(5.0)), "only one branch reached x: every node's backward_fn "
                                                              "must run, in reverse topological order"},
                    {arma::mat(1, 3, arma::fill::zeros), "the gradient did not reach x: visit the nodes from the root down"}});
  run_backward(order, "two branches, a second time");
  ex::expect_close("ds/dx after a second backward", x->grad, want, 0, 0, "", {},
                   {{arma::mat(1, 3, arma::fill::value(14.0)), "the gradients of the first call were kept: zero every "
                                                               "gradient before the reverse loop"}});
}

// ---------------------------------------------------------------- add, mul, matmul, tanh

namespace {
using ex::rnd;
// Sets out's gradient to G and the inputs' to P (a gradient they already hold), then runs
// out's backward_fn once.
void backprop_once(const Var& out, const arma::mat& G, const std::vector<std::pair<Var, arma::mat>>& inputs,
                   const std::string& op, const std::string& hint) {
  out->grad = G;
  for (const auto& [v, P] : inputs) v->grad = P;
  ex::expect(static_cast<bool>(out->backward_fn), op + ": the node has no backward_fn");
  ex::guarded(op + "'s backward_fn", [&] { out->backward_fn(); }, hint);
}
const char* kAccumulate = "the input's gradient was overwritten: add to it (+=), a node may feed several others";
}  // namespace

NNLAB_CHECK("graph-add-mul", "add: d(a + b) = dO to both, added to what they hold") {
  const arma::mat A = rnd(3, 4, 1), B = rnd(3, 4, 2), G = rnd(3, 4, 3), Pa = rnd(3, 4, 4), Pb = rnd(3, 4, 5);
  auto a = g::leaf<double>(A, "a"), b = g::leaf<double>(B, "b");
  auto o = g::add(a, b);
  backprop_once(o, G, {{a, Pa}, {b, Pb}}, "add", "");
  ex::expect_close("a.grad", a->grad, Pa + G, 1e-15, 1e-15, " after add's backward", {}, {{G, kAccumulate}});
  ex::expect_close("b.grad", b->grad, Pb + G, 1e-15, 1e-15, " after add's backward", {}, {{G, kAccumulate}});
}

NNLAB_CHECK("graph-add-mul", "add with a bias column broadcast to every column: db = sum of dO over columns") {
  const arma::mat Z = rnd(3, 5, 6), bias = rnd(3, 1, 7), G = rnd(3, 5, 8);
  auto z = g::leaf<double>(Z, "Wx"), b = g::leaf<double>(bias, "b");
  auto o = g::add(z, b);
  backprop_once(o, G, {{z, arma::zeros(3, 5)}, {b, arma::zeros(3, 1)}}, "add(Wx, b)",
                "b (3x1) was added to every column: its gradient is dO summed over the columns, unbroadcast(dO, b)");
  ex::expect_close("b.grad", b->grad, arma::sum(G, 1), 1e-14, 1e-14, " for the broadcast bias");
  ex::expect_close("Wx.grad", z->grad, G, 1e-15, 1e-15);
}

NNLAB_CHECK("graph-add-mul", "add(x, x): x receives dO twice") {
  const arma::mat X = rnd(2, 3, 9), G = rnd(2, 3, 10);
  auto x = g::leaf<double>(X, "x");
  auto o = g::add(x, x);
  backprop_once(o, G, {{x, arma::zeros(2, 3)}}, "add(x, x)", "");
  ex::expect_close("x.grad", x->grad, 2 * G, 1e-15, 1e-15, " for o = x + x", {},
                   {{G, "x is both inputs: each contributes dO, so add (+=) rather than assign"}});
}

NNLAB_CHECK("graph-add-mul", "mul (Hadamard): d(a o b) = dO o b to a, dO o a to b, against finite differences") {
  const arma::mat A = rnd(3, 2, 11), B = rnd(3, 2, 12), G = rnd(3, 2, 13), Pa = rnd(3, 2, 14), Pb = rnd(3, 2, 15);
  auto a = g::leaf<double>(A, "a"), b = g::leaf<double>(B, "b");
  auto o = g::mul(a, b);
  backprop_once(o, G, {{a, Pa}, {b, Pb}}, "mul", "");
  const arma::mat fa = ex::fd_gradient([&](const arma::mat& v) { return arma::accu(G % (v % B)); }, A);
  const arma::mat fb = ex::fd_gradient([&](const arma::mat& v) { return arma::accu(G % (A % v)); }, B);
  ex::expect_close("a.grad - (what it held)", arma::mat(a->grad - Pa), fa, 1e-9, 1e-11, " after mul's backward", {},
                   {{G % A, "d(a o b)/da is b, not a"}, {G % B - Pa, kAccumulate}, {G, "multiply dO by b"}});
  ex::expect_close("b.grad - (what it held)", arma::mat(b->grad - Pb), fb, 1e-9, 1e-11, " after mul's backward", {},
                   {{G % B, "d(a o b)/db is a, not b"}, {G % A - Pb, kAccumulate}});
}

NNLAB_CHECK("graph-add-mul", "mul by a 1x1 scalar (broadcast) and mul(x, x)") {
  const arma::mat S = ex::one(0.75), B = rnd(2, 3, 16), G = rnd(2, 3, 17);
  auto s = g::leaf<double>(S, "l2"), b = g::leaf<double>(B, "W");
  auto o = g::mul(s, b);
  backprop_once(o, G, {{s, arma::zeros(1, 1)}, {b, arma::zeros(2, 3)}}, "mul(scalar, W)",
                "the 1x1 scalar multiplied every entry: its gradient is the sum of dO o b, unbroadcast(.., a->value)");
  ex::expect_close("scalar.grad", s->grad, ex::one(arma::accu(G % B)), 1e-14, 1e-14);
  ex::expect_close("W.grad", b->grad, 0.75 * G, 1e-15, 1e-15);
  const arma::mat X = rnd(2, 2, 18), H = rnd(2, 2, 19);
  auto x = g::leaf<double>(X, "x");
  auto sq = g::mul(x, x);
  backprop_once(sq, H, {{x, arma::zeros(2, 2)}}, "mul(x, x)", "");
  ex::expect_close("x.grad", x->grad, 2 * H % X, 1e-14, 1e-14, " for o = x o x", {},
                   {{H % X, "x is both inputs: each branch contributes dO o x, so add (+=) rather than assign"}});
}

NNLAB_CHECK("graph-matmul", "matmul: dA = dO B', dB = A' dO (2x3 times 3x4), against finite differences") {
  const arma::mat A = rnd(2, 3, 20), B = rnd(3, 4, 21), G = rnd(2, 4, 22), Pa = rnd(2, 3, 23), Pb = rnd(3, 4, 24);
  auto a = g::leaf<double>(A, "A"), b = g::leaf<double>(B, "B");
  auto o = g::matmul(a, b);
  backprop_once(o, G, {{a, Pa}, {b, Pb}}, "matmul",
                "check the shapes: dA has A's shape (2x3) = dO (2x4) B' (4x3), dB has B's shape (3x4) = A' (3x2) dO (2x4)");
  const arma::mat fa = ex::fd_gradient([&](const arma::mat& v) { return arma::accu(G % (v * B)); }, A);
  const arma::mat fb = ex::fd_gradient([&](const arma::mat& v) { return arma::accu(G % (A * v)); }, B);
  ex::expect_close("A.grad - (what it held)", arma::mat(a->grad - Pa), fa, 1e-9, 1e-11, " after matmul's backward", {},
                   {{G * B.t() - Pa, kAccumulate}});
  ex::expect_close("B.grad - (what it held)", arma::mat(b->grad - Pb), fb, 1e-9, 1e-11, " after matmul's backward", {},
                   {{A.t() * G - Pb, kAccumulate}});
}

NNLAB_CHECK("graph-matmul", "matmul(r, c) of a row and a column (1x1 result): each factor gets dO times the other") {
  const arma::mat X = rnd(3, 1, 25);
  auto x = g::leaf<double>(X, "x");
  auto xt = g::leaf<double>(arma::mat(X.t()), "x'");
  auto o = g::matmul(xt, x);  // x'x, seen from x's side only
  backprop_once(o, ex::one(2.0), {{xt, arma::zeros(1, 3)}, {x, arma::zeros(3, 1)}}, "matmul(x', x)", "");
  ex::expect_close("x.grad", x->grad, 2 * X, 1e-15, 1e-15, " for o = x'x (right factor)");
  ex::expect_close("x'.grad", xt->grad, 2 * arma::mat(X.t()), 1e-15, 1e-15, " for o = x'x (left factor)");
}

NNLAB_CHECK("graph-tanh", "tanh: da = dO o (1 - tanh(a)^2), against finite differences") {
  const arma::mat A = 1.5 * rnd(3, 4, 26), G = rnd(3, 4, 27), P = rnd(3, 4, 28);
  auto a = g::leaf<double>(A, "a");
  auto o = g::tanh(a);
  ex::expect_close("tanh(a)", o->value, arma::mat(arma::tanh(A)), 1e-15, 1e-15, " (the node's value)");
  backprop_once(o, G, {{a, P}}, "tanh", "");
  const arma::mat fa = ex::fd_gradient([&](const arma::mat& v) { return arma::accu(G % arma::tanh(v)); }, A);
  const arma::mat T = arma::tanh(A);
  ex::expect_close("a.grad - (what it held)", arma::mat(a->grad - P), fa, 1e-9, 1e-11, " after tanh's backward", {},
                   {{G % (1 - arma::square(A)), "1 - a^2 uses the input: tanh'(a) = 1 - tanh(a)^2, and tanh(a) is "
                                                "out->value"},
                    {G % (1 - T), "tanh'(a) = 1 - tanh(a)^2: the square is missing"},
                    {G % (1 - arma::square(T)) - P, kAccumulate},
                    {1 - arma::square(T), "multiply by dO (out->grad): the chain rule"}});
}
