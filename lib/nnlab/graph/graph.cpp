// The computational graph engine.  Each op: compute the value, then register the backward
// that adds this node's contribution to its inputs' gradients.  backward(): topological
// sort + one reverse loop.
#include "nnlab/graph/graph.hpp"

#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

namespace nnlab::graph {
namespace {

std::size_t next_id() { static thread_local std::size_t id = 0; return ++id; }

template <class T>
Var<T> make(arma::Mat<T> value, std::vector<Var<T>> prev, std::string op) {
  auto n = std::make_shared<Node<T>>();
  n->value = std::move(value);
  n->prev = std::move(prev);
  n->op = std::move(op);
  n->id = next_id();
  return n;
}

// The gradient G of a broadcast result, summed back to the shape of the operand.
template <class T> arma::Mat<T> unbroadcast(const arma::Mat<T>& G, const arma::Mat<T>& like) {
  if (G.n_rows == like.n_rows && G.n_cols == like.n_cols) return G;
  if (like.n_elem == 1) return arma::Mat<T>(1, 1, arma::fill::value(arma::accu(G)));
  return arma::sum(G, 1);  // n x 1 column added to every column
}

// a (op) b with broadcasting; returns a and b expanded to the common shape.
template <class T>
std::pair<arma::Mat<T>, arma::Mat<T>> expand(const arma::Mat<T>& a, const arma::Mat<T>& b) {
  auto grow = [](const arma::Mat<T>& x, arma::uword r, arma::uword c) -> arma::Mat<T> {
    if (x.n_rows == r && x.n_cols == c) return x;
    if (x.n_elem == 1) return arma::Mat<T>(r, c, arma::fill::value(x(0, 0)));
    if (x.n_rows == r && x.n_cols == 1) return arma::repmat(x, 1, c);
    throw std::invalid_argument("graph: shapes " + std::to_string(x.n_rows) + "x" +
                                std::to_string(x.n_cols) + " do not broadcast to " +
                                std::to_string(r) + "x" + std::to_string(c));
  };
  const arma::uword r = std::max(a.n_rows, b.n_rows), c = std::max(a.n_cols, b.n_cols);
  return {grow(a, r, c), grow(b, r, c)};
}

}  // namespace

template <class T> Var<T> leaf(arma::Mat<T> value, std::string label) {
  auto n = make<T>(std::move(value), {}, "leaf");
  n->label = std::move(label);
  return n;
}
template <class T> Var<T> scalar(T value, std::string label) {
  return leaf<T>(arma::Mat<T>(1, 1, arma::fill::value(value)), std::move(label));
}

template <class T> Var<T> matmul(const Var<T>& a, const Var<T>& b) {
  auto o = make<T>(a->value * b->value, {a, b}, "matmul");
  Node<T>* out = o.get();  // raw: the closure must not own its own node
  o->backward_fn = [a, b, out] {
    // TASK graph-matmul
    a->grad += out->grad * b->value.t();  // dA = dO B'
    b->grad += a->value.t() * out->grad;  // dB = A' dO
    // STUB
    // (void)a, (void)b, (void)out;
    // END TASK graph-matmul
  };
  return o;
}

template <class T> Var<T> transpose(const Var<T>& a) {
  auto o = make<T>(a->value.t(), {a}, "transpose");
  Node<T>* out = o.get();
  o->backward_fn = [a, out] { a->grad += out->grad.t(); };
  return o;
}

template <class T> Var<T> add(const Var<T>& a, const Var<T>& b) {
  auto [x, y] = expand(a->value, b->value);
  auto o = make<T>(x + y, {a, b}, "add");
  Node<T>* out = o.get();
  o->backward_fn = [a, b, out] {
    // TASK graph-add-mul
    a->grad += unbroadcast(out->grad, a->value);
    b->grad += unbroadcast(out->grad, b->value);
    // STUB
    // (void)a, (void)b, (void)out;
    // END TASK graph-add-mul
  };
  return o;
}

template <class T> Var<T> sub(const Var<T>& a, const Var<T>& b) {
  auto [x, y] = expand(a->value, b->value);
  auto o = make<T>(x - y, {a, b}, "sub");
  Node<T>* out = o.get();
  o->backward_fn = [a, b, out] {
    a->grad += unbroadcast(out->grad, a->value);
    b->grad -= unbroadcast(out->grad, b->value);
  };
  return o;
}

template <class T> Var<T> mul(const Var<T>& a, const Var<T>& b) {
  auto [x, y] = expand(a->value, b->value);
  auto o = make<T>(x % y, {a, b}, "mul");
  Node<T>* out = o.get();
  o->backward_fn = [a, b, out, x = std::move(x), y = std::move(y)] {
    // TASK graph-add-mul
    a->grad += unbroadcast<T>(out->grad % y, a->value);  // d(xy)/dx = y
    b->grad += unbroadcast<T>(out->grad % x, b->value);  // d(xy)/dy = x
    // STUB
    // (void)a, (void)b, (void)out, (void)x, (void)y;
    // END TASK graph-add-mul
  };
  return o;
}

template <class T> Var<T> div(const Var<T>& a, const Var<T>& b) {
  auto [x, y] = expand(a->value, b->value);
  auto o = make<T>(x / y, {a, b}, "div");
  Node<T>* out = o.get();
  o->backward_fn = [a, b, out, x = std::move(x), y = std::move(y)] {
    a->grad += unbroadcast<T>(out->grad / y, a->value);                 // 1/y
    b->grad -= unbroadcast<T>(out->grad % x / (y % y), b->value);       // -x/y^2
  };
  return o;
}

template <class T> Var<T> pow(const Var<T>& a, T p) {
  auto o = make<T>(arma::pow(a->value, p), {a}, "pow");
  o->label = std::string("^").append(std::to_string(double(p)));
  Node<T>* out = o.get();
  o->backward_fn = [a, out, p] { a->grad += out->grad % (p * arma::pow(a->value, p - T(1))); };
  return o;
}

template <class T> Var<T> exp(const Var<T>& a) {
  auto o = make<T>(arma::exp(a->value), {a}, "exp");
  Node<T>* out = o.get();
  o->backward_fn = [a, out] { a->grad += out->grad % out->value; };
  return o;
}

template <class T> Var<T> tanh(const Var<T>& a) {
  auto o = make<T>(arma::tanh(a->value), {a}, "tanh");
  Node<T>* out = o.get();
  o->backward_fn = [a, out] {
    // TASK graph-tanh
    a->grad += out->grad % (T(1) - arma::square(out->value));  // tanh' = 1 - tanh^2
    // STUB
    // (void)a, (void)out;
    // END TASK graph-tanh
  };
  return o;
}

template <class T> Var<T> log(const Var<T>& a) {
  auto o = make<T>(arma::log(a->value), {a}, "log");
  Node<T>* out = o.get();
  o->backward_fn = [a, out] { a->grad += out->grad / a->value; };
  return o;
}

// Reuses the library's activations (nnlab/core/activations.hpp): value and derivative.
template <class T> Var<T> activation(const Var<T>& z, Activation g) {
  arma::Mat<T> A;
  nnlab::activate(g, z->value, A);
  auto o = make<T>(std::move(A), {z}, std::string(name(g)));
  Node<T>* out = o.get();
  o->backward_fn = [z, out, g] {
    arma::Mat<T> dZ;
    nnlab::activate_backward(g, z->value, out->value, out->grad, dZ);
    z->grad += dZ;
  };
  return o;
}

template <class T> Var<T> sum(const Var<T>& a) {
  auto o = make<T>(arma::Mat<T>(1, 1, arma::fill::value(arma::accu(a->value))), {a}, "sum");
  Node<T>* out = o.get();
  o->backward_fn = [a, out] { a->grad += out->grad(0, 0); };
  return o;
}

template <class T> Var<T> mean(const Var<T>& a) {
  const T n = T(a->value.n_elem);
  auto o = make<T>(arma::Mat<T>(1, 1, arma::fill::value(arma::accu(a->value) / n)), {a}, "mean");
  Node<T>* out = o.get();
  o->backward_fn = [a, out, n] { a->grad += out->grad(0, 0) / n; };
  return o;
}

template <class T> Var<T> l1_norm(const Var<T>& a) {
  auto o = make<T>(arma::Mat<T>(1, 1, arma::fill::value(arma::accu(arma::abs(a->value)))), {a}, "l1");
  Node<T>* out = o.get();
  o->backward_fn = [a, out] { a->grad += out->grad(0, 0) * arma::sign(a->value); };  // sign(0) = 0
  return o;
}

template <class T> Var<T> l2_norm2(const Var<T>& a) {
  auto o = make<T>(arma::Mat<T>(1, 1, arma::fill::value(arma::accu(arma::square(a->value)))), {a}, "l2");
  Node<T>* out = o.get();
  o->backward_fn = [a, out] { a->grad += out->grad(0, 0) * T(2) * a->value; };
  return o;
}

// Mean over samples of the per-sample loss; value and gradient from nnlab/core/loss.hpp, column
// by column (for bce and ce `in` holds Z[L], for mse and hinge A[L]).
template <class T> Var<T> loss(const Var<T>& in, const arma::Mat<T>& y, Loss l) {
  const arma::uword n = in->value.n_rows, m = in->value.n_cols;
  const arma::Mat<T>& v = in->value;
  arma::Mat<T> a = v;  // the output activation for the fused losses
  if (l == Loss::bce) nnlab::activate(Activation::sigmoid, v, a);
  if (l == Loss::ce) nnlab::activate(Activation::softmax, v, a);
  T s = 0;
  for (arma::uword t = 0; t < m; ++t) s += lossfn::value(l, v.colptr(t), a.colptr(t), y.colptr(t), n);
  auto o = make<T>(arma::Mat<T>(1, 1, arma::fill::value(s / T(m))), {in}, "loss_" + std::string(name(l)));
  Node<T>* out = o.get();
  o->backward_fn = [in, out, y, a = std::move(a), l, n, m] {
    arma::Mat<T> G(n, m);
    for (arma::uword t = 0; t < m; ++t)
      lossfn::gradient(l, a.colptr(t), y.colptr(t), G.colptr(t), n, out->grad(0, 0) / T(m));
    in->grad += G;
  };
  return o;
}

template <class T> std::vector<Node<T>*> topological_order(const Var<T>& root) {
  std::vector<Node<T>*> order;
  // TASK graph-topo-sort
  // Iterative depth-first post-order (no recursion limit on long chains).
  std::unordered_set<Node<T>*> seen;
  std::vector<std::pair<Node<T>*, std::size_t>> stack{{root.get(), 0}};
  seen.insert(root.get());
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->prev.size()) {
      Node<T>* p = node->prev[next++].get();
      if (seen.insert(p).second) stack.push_back({p, 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  // STUB
  // (void)root;
  // END TASK graph-topo-sort
  return order;
}

template <class T> void backward_in_order(const std::vector<Node<T>*>& order) {
  // TASK graph-backward
  for (auto* n : order) n->grad.zeros(n->value.n_rows, n->value.n_cols);
  order.back()->grad.fill(T(1));  // d root / d root = 1
  for (auto it = order.rbegin(); it != order.rend(); ++it)
    if ((*it)->backward_fn) (*it)->backward_fn();
  // STUB
  // (void)order;
  // END TASK graph-backward
}

template <class T> std::size_t backward(const Var<T>& root) {
  const auto order = topological_order(root);
  if (order.empty() || order.back() != root.get())
    throw std::logic_error("graph::backward: topological_order did not end with the root");
  backward_in_order(order);
  return order.size();
}

namespace {
template <class T> std::string brief(const arma::Mat<T>& M) {
  std::ostringstream s;
  char buf[64];
  if (M.n_elem == 0) return "[]";
  if (M.n_elem <= 6) {
    s << "[";
    for (arma::uword i = 0; i < M.n_rows; ++i) {
      for (arma::uword j = 0; j < M.n_cols; ++j) {
        std::snprintf(buf, sizeof buf, "%.4g", double(M(i, j)));
        s << (j ? " " : "") << buf;
      }
      if (i + 1 < M.n_rows) s << "; ";
    }
    s << "]";
  } else {
    std::snprintf(buf, sizeof buf, "|.|=%.4g", double(arma::norm(M, "fro")));
    s << buf;
  }
  return s.str();
}
}  // namespace

template <class T> std::string to_dot(const Var<T>& root, const std::string& title) {
  const auto order = topological_order(root);
  std::unordered_map<Node<T>*, std::size_t> idx;
  for (std::size_t i = 0; i < order.size(); ++i) idx[order[i]] = i;
  std::ostringstream s;
  s << "digraph G {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n";
  if (!title.empty()) s << "  label=\"" << title << "\";\n  labelloc=t;\n";
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto* n = order[i];
    s << "  n" << i << " [label=\"" << n->op << (n->label.empty() ? "" : " " + n->label) << "\\n"
      << n->value.n_rows << "x" << n->value.n_cols << "\\nvalue " << brief(n->value);
    if (n->grad.n_elem == n->value.n_elem && n->grad.n_elem > 0) s << "\\ngrad " << brief(n->grad);
    s << "\"" << (n->op == "leaf" ? ", style=filled, fillcolor=\"#e8f0ff\"" : "") << "];\n";
  }
  for (std::size_t i = 0; i < order.size(); ++i)
    for (const auto& p : order[i]->prev) s << "  n" << idx[p.get()] << " -> n" << i << ";\n";
  s << "}\n";
  return s.str();
}

#define NNLAB_INST(T)                                                                  \
  template Var<T> leaf<T>(arma::Mat<T>, std::string);                                  \
  template Var<T> scalar<T>(T, std::string);                                           \
  template Var<T> matmul<T>(const Var<T>&, const Var<T>&);                             \
  template Var<T> transpose<T>(const Var<T>&);                                         \
  template Var<T> add<T>(const Var<T>&, const Var<T>&);                                \
  template Var<T> sub<T>(const Var<T>&, const Var<T>&);                                \
  template Var<T> mul<T>(const Var<T>&, const Var<T>&);                                \
  template Var<T> div<T>(const Var<T>&, const Var<T>&);                                \
  template Var<T> pow<T>(const Var<T>&, T);                                            \
  template Var<T> exp<T>(const Var<T>&);                                               \
  template Var<T> log<T>(const Var<T>&);                                               \
  template Var<T> tanh<T>(const Var<T>&);                                              \
  template Var<T> activation<T>(const Var<T>&, Activation);                            \
  template Var<T> sum<T>(const Var<T>&);                                               \
  template Var<T> mean<T>(const Var<T>&);                                              \
  template Var<T> l1_norm<T>(const Var<T>&);                                           \
  template Var<T> l2_norm2<T>(const Var<T>&);                                          \
  template Var<T> loss<T>(const Var<T>&, const arma::Mat<T>&, Loss);                   \
  template std::vector<Node<T>*> topological_order<T>(const Var<T>&);                  \
  template std::size_t backward<T>(const Var<T>&);                                     \
  template void backward_in_order<T>(const std::vector<Node<T>*>&);                    \
  template std::string to_dot<T>(const Var<T>&, const std::string&);
NNLAB_INST(float)
NNLAB_INST(double)
#undef NNLAB_INST

}  // namespace nnlab::graph
