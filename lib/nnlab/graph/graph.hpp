// nnlab/graph/graph.hpp -- a computational graph with reverse-mode autodiff (micrograd, with
// matrices).
//
// A node holds a value (an Armadillo matrix; a scalar is 1 x 1), the gradient of the
// output with respect to it (same shape: the shape convention), its parents, and the
// closure that pushes its gradient to its parents.  Each op below computes its value and
// registers its backward next to it.  backward(root) sorts the graph topologically, seeds
// d root / d root = 1 and visits the nodes once in reverse order; a node that feeds several
// successors receives the sum of their contributions (grad += ...), so every gradient is
// computed in one pass.
//
// Broadcasting in the binary elementwise ops: equal shapes, or one side 1 x 1 (a scalar),
// or b an n x 1 column added to every column of an n x m matrix a (the bias of a layer).
#pragma once
#include "nnlab/core/activations.hpp"
#include "nnlab/core/loss.hpp"

#include <armadillo>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace nnlab::graph {

template <class T> struct Node;
template <class T = double> using Var = std::shared_ptr<Node<T>>;

template <class T> struct Node {
  arma::Mat<T> value, grad;
  std::vector<Var<T>> prev;           // the inputs of the op that made this node
  std::function<void()> backward_fn;  // adds this node's contribution to prev[i]->grad
  std::string op, label;              // op name ("leaf" for a source) and a display label
  std::size_t id = 0;                 // creation order, for a stable topological sort
};

// Sources.
template <class T> Var<T> leaf(arma::Mat<T> value, std::string label = "");
template <class T> Var<T> scalar(T value, std::string label = "");

// Matrix and elementwise ops.
template <class T> Var<T> matmul(const Var<T>& a, const Var<T>& b);     // a b
template <class T> Var<T> transpose(const Var<T>& a);                   // a'
template <class T> Var<T> add(const Var<T>& a, const Var<T>& b);        // a + b (broadcast)
template <class T> Var<T> sub(const Var<T>& a, const Var<T>& b);        // a - b
template <class T> Var<T> mul(const Var<T>& a, const Var<T>& b);        // a o b (Hadamard)
template <class T> Var<T> div(const Var<T>& a, const Var<T>& b);        // a / b elementwise
template <class T> Var<T> pow(const Var<T>& a, T p);                    // a^p elementwise
template <class T> Var<T> exp(const Var<T>& a);
template <class T> Var<T> log(const Var<T>& a);
template <class T> Var<T> tanh(const Var<T>& a);                        // tanh elementwise
template <class T> Var<T> activation(const Var<T>& z, Activation g);    // g(z), softmax per column
template <class T> Var<T> sum(const Var<T>& a);                         // 1 x 1
template <class T> Var<T> mean(const Var<T>& a);                        // 1 x 1
template <class T> Var<T> l1_norm(const Var<T>& a);                     // sum |a|, d|w|/dw(0) = 0
template <class T> Var<T> l2_norm2(const Var<T>& a);                    // sum a^2
// Mean over columns of the per-sample loss (nnlab/core/loss.hpp).  For mse and hinge `in` is
// A[L]; for bce and ce it is Z[L] (the fused, stable forms).  y is a constant.
template <class T> Var<T> loss(const Var<T>& in, const arma::Mat<T>& y, Loss l);

template <class T> Var<T> operator+(const Var<T>& a, const Var<T>& b) { return add(a, b); }
template <class T> Var<T> operator-(const Var<T>& a, const Var<T>& b) { return sub(a, b); }
template <class T> Var<T> operator*(const Var<T>& a, const Var<T>& b) { return mul(a, b); }
template <class T> Var<T> operator/(const Var<T>& a, const Var<T>& b) { return div(a, b); }

// Nodes reachable from root, every node after all of its inputs.
template <class T> std::vector<Node<T>*> topological_order(const Var<T>& root);
// Given the nodes in topological order (the root last): zero every gradient, seed
// d root/d root = 1, run every backward_fn in reverse order.
template <class T> void backward_in_order(const std::vector<Node<T>*>& order);
// backward_in_order(topological_order(root)).  Returns the number of nodes visited.
template <class T> std::size_t backward(const Var<T>& root);
// Graphviz DOT: one box per node with op, label, shape, value and gradient (small ones in
// full, larger ones as a norm), one edge per input.
template <class T> std::string to_dot(const Var<T>& root, const std::string& title = "");

}  // namespace nnlab::graph
