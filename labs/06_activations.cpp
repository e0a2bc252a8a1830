// Lab 06 -- Activations: every activation of the contract (PyTorch's), its derivative, the
// values at the kinks, and the identities of the lectures, checked numerically.
//
// Writes results/06_activations/activations.csv (x and, per activation, f(x) and f'(x))
// and renders activations.png (scripts/plots/activations.gp).
#include "nnlab/core/activations.hpp"
#include "nnlab/methods/gradcheck.hpp"
#include "common/sheet.hpp"
#include "common/plot.hpp"

#include <cmath>

using namespace nnlab;

int main() {
  lab::Sheet s("06_activations", "Activations and their derivatives");
  s.say("A layer computes Z = W A_prev + b and then A = g(Z), with g applied to every entry\n"
        "(softmax: to every column).  Backpropagation needs g'(Z): dZ = dA o g'(Z).");

  s.section("0. The notes' list of PyTorch's activations");
  {
    s.say("The introduction lists: relu, elu, leaky-relu, sigmoide, arctan, hard sigmoid, hard arctan,\n"
          "prelu, relu6, rrelu, celu, selu, gelu, hard shrink, soft shrink, log sigmoid, soft sign, tanh,\n"
          "tanhshrink.  In nnlab (PyTorch's names and constants; 'hard arctan' is PyTorch's hardtanh):");
    const char* listed[] = {"relu", "elu", "leaky_relu", "sigmoid", "atan", "hardsigmoid", "hardtanh",
                            "relu6", "rrelu", "celu", "selu", "gelu", "hardshrink", "softshrink",
                            "logsigmoid", "softsign", "tanh", "tanhshrink"};
    int found = 0;
    for (const char* n : listed) found += activation_from_name(n).has_value();
    s.check("18 of the 19 are nnlab activations", found == 18);
    s.check("prelu is not one of them", !activation_from_name("prelu").has_value());
    s.say("prelu(x) = max(0, x) + a min(0, x) is a leaky ReLU whose slope a is learned: a parameter of\n"
          "its own, trained with W and b.  nnlab's model holds only the weights and biases of each layer\n"
          "(every activation here is a fixed function), so prelu is left out; with a fixed a it is\n"
          "leaky_relu (a = 0.01) or rrelu in evaluation (a = 11/48).  Besides the list, nnlab has\n"
          "identity, softplus and softmax.");
  }

  s.section("1. The logistic function and tanh");
  s.say("sigma(x) = 1/(1 + e^-x) and tanh(x) = (e^x - e^-x)/(e^x + e^-x) are the same curve,\n"
        "rescaled: sigma(x) = (tanh(x/2) + 1)/2, i.e. 2 sigma(x) - 1 = tanh(x/2).");
  double worst = 0;
  for (double x = -20; x <= 20; x += 0.01)
    worst = std::max(worst, std::abs(act::value(Activation::sigmoid, x) - (std::tanh(x / 2) + 1) / 2));
  s.show("max over x in [-20, 20] of |sigma(x) - (tanh(x/2) + 1)/2|", worst);
  s.check("sigma(x) = (tanh(x/2) + 1)/2 to round-off (<= 2.3e-16)", worst <= 2.3e-16);
  s.say("Derivatives from the values: sigma' = sigma (1 - sigma), tanh' = 1 - tanh^2.");
  s.check_close("sigma'(0.7) = sigma(0.7)(1 - sigma(0.7))", act::deriv(Activation::sigmoid, 0.7),
                act::value(Activation::sigmoid, 0.7) * (1 - act::value(Activation::sigmoid, 0.7)), 1e-15);
  s.check_close("tanh'(0.7) = 1 - tanh(0.7)^2", act::deriv(Activation::tanh, 0.7),
                1 - std::tanh(0.7) * std::tanh(0.7), 1e-15);

  s.section("2. log sigmoid and softplus");
  s.say("log sigma(x) = -log(1 + e^-x) = -softplus(-x).  Computed as min(x,0) - log1p(e^-|x|),\n"
        "it never forms e^800; softplus switches to x itself above 20 (PyTorch's threshold),\n"
        "where log1p(e^-x) < 2.1e-9, so the identity holds for |x| <= 20.");
  worst = 0;
  for (double x = -20; x <= 20; x += 0.01)
    worst = std::max(worst, std::abs(act::value(Activation::logsigmoid, x) + act::value(Activation::softplus, -x)));
  s.show("max over x in [-20, 20] of |log sigma(x) + softplus(-x)|", worst);
  s.check("log sigma(x) = -softplus(-x) to round-off", worst <= 4e-15);
  s.show("log sigma(-800) (a naive log(1/(1+e^800)) gives -inf)", act::value(Activation::logsigmoid, -800.0));
  s.check("log sigma(-800) = -800 exactly", act::value(Activation::logsigmoid, -800.0) == -800.0);

  s.section("3. Softmax, per column");
  arma::mat Z = {{1.0, 1000.0}, {2.0, 999.0}, {3.0, -1000.0}};
  arma::mat A;
  activate(Activation::softmax, Z, A);
  s.show("Z", Z);
  s.show("softmax(Z)", A, 10);
  s.check("softmax outputs of column 1 are positive", arma::all(A.col(0) > 0));
  s.check("softmax outputs of column 2 are >= 0 (e^-2000 underflows to 0 in double)", arma::all(A.col(1) >= 0));
  s.check_close("column 1 sums to 1", arma::accu(A.col(0)), 1.0, 1e-15);
  s.check_close("column 2 sums to 1 (logits near 1000: the max is subtracted first)", arma::accu(A.col(1)), 1.0, 1e-15);
  s.say("Its backward is not elementwise: dz = a o (g - a'g), the Jacobian diag(a) - a a' applied to g.");

  s.section("4. Every activation: derivative against a central difference");
  s.say("Fourth-order central difference with h = 1e-3 on x in [-6, 6]; points within 2.5h of a\n"
        "kink are left out (there the difference quotient mixes the two sides).");
  std::vector<std::string> header{"x"};
  std::vector<arma::vec> cols;
  arma::vec xs = arma::regspace(-6, 0.005, 6);
  cols.push_back(xs);
  for (Activation a : kAllActivations) {
    if (a == Activation::softmax) continue;
    arma::vec f(xs.n_elem), d(xs.n_elem);
    double err = 0;
    for (arma::uword i = 0; i < xs.n_elem; ++i) {
      f[i] = act::value(a, xs[i]);
      d[i] = act::deriv(a, xs[i]);
      bool near = false;
      for (double k : kinks(a)) near = near || std::abs(xs[i] - k) <= 2.5e-3;
      if (!near)
        err = std::max(err, std::abs(d[i] - fd_central([a](double t) { return act::value(a, t); }, xs[i], 1e-3, 4)));
    }
    header.push_back(std::string(name(a)));
    header.push_back("d_" + std::string(name(a)));
    cols.push_back(f);
    cols.push_back(d);
    s.check("f' of " + std::string(name(a)) + ": max |f' - FD| = " + lab::fmt(err, 2) + " <= 1e-9", err <= 1e-9);
  }

  s.section("5. Values at the kinks (PyTorch's conventions)");
  struct K { Activation a; double x; double want; const char* note; };
  const K ks[] = {{Activation::relu, 0, 0, "relu'(0)"},
                  {Activation::leaky_relu, 0, 0.01, "leaky_relu'(0)"},
                  {Activation::rrelu, 0, 11.0 / 48, "rrelu'(0) = (1/8 + 1/3)/2"},
                  {Activation::elu, 0, 1, "elu'(0)"},
                  {Activation::celu, 0, 1, "celu'(0)"},
                  {Activation::selu, 0, act::kSeluScale * act::kSeluAlpha, "selu'(0) = scale alpha"},
                  {Activation::softsign, 0, 1, "softsign'(0)"},
                  {Activation::hardtanh, 1, 0, "hardtanh'(1)"},
                  {Activation::relu6, 6, 0, "relu6'(6)"},
                  {Activation::hardsigmoid, 3, 0, "hardsigmoid'(3)"},
                  {Activation::hardsigmoid, 0, 1.0 / 6, "hardsigmoid'(0) = 1/6 exactly"},
                  {Activation::hardshrink, 0.5, 0, "hardshrink'(0.5)"},
                  {Activation::softshrink, -0.5, 0, "softshrink'(-0.5)"}};
  for (const auto& k : ks) s.check_close(k.note, act::deriv(k.a, k.x), k.want, 1e-15);
  s.check("hardshrink(0.5) = 0 (the interval is closed)", act::value(Activation::hardshrink, 0.5) == 0.0);

  s.wrote(plot::write_table(s.id(), "activations.csv", header, cols));
  s.wrote(plot::render(s.id(), "activations"));
  return s.finish();
}
