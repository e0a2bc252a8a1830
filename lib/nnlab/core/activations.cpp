// Activation names, kink tables and the whole-matrix forms.
#include "nnlab/core/activations.hpp"

#include <array>
#include <stdexcept>

namespace nnlab {

namespace {
struct ActInfo { Activation a; std::string_view name; };
constexpr std::array<ActInfo, 21> kNames{{
    {Activation::identity, "identity"},     {Activation::sigmoid, "sigmoid"},
    {Activation::tanh, "tanh"},             {Activation::relu, "relu"},
    {Activation::leaky_relu, "leaky_relu"}, {Activation::elu, "elu"},
    {Activation::selu, "selu"},             {Activation::celu, "celu"},
    {Activation::gelu, "gelu"},             {Activation::softplus, "softplus"},
    {Activation::softsign, "softsign"},     {Activation::logsigmoid, "logsigmoid"},
    {Activation::hardtanh, "hardtanh"},     {Activation::relu6, "relu6"},
    {Activation::hardsigmoid, "hardsigmoid"}, {Activation::hardshrink, "hardshrink"},
    {Activation::softshrink, "softshrink"}, {Activation::tanhshrink, "tanhshrink"},
    {Activation::atan, "atan"},             {Activation::rrelu, "rrelu"},
    {Activation::softmax, "softmax"}}};

constexpr double kK0[] = {0.0};
constexpr double kK20[] = {act::kSoftplusThreshold};
constexpr double kK11[] = {-1.0, 1.0};
constexpr double kK06[] = {0.0, 6.0};
constexpr double kK33[] = {-3.0, 3.0};
constexpr double kKs[] = {-act::kShrink, act::kShrink};
}  // namespace

std::string_view name(Activation a) {
  for (const auto& i : kNames) if (i.a == a) return i.name;
  throw std::logic_error("name(Activation): unknown value");
}

std::optional<Activation> activation_from_name(std::string_view s) {
  for (const auto& i : kNames) if (i.name == s) return i.a;
  return std::nullopt;
}

std::span<const double> kinks(Activation a) {
  switch (a) {
    // relu-like: f' jumps at 0.  elu, celu, softsign: f' continuous, f'' jumps at 0,
    // which still spoils a central difference (error O(h)).  selu: f' jumps.
    case Activation::relu: case Activation::leaky_relu: case Activation::rrelu:
    case Activation::elu: case Activation::selu: case Activation::celu:
    case Activation::softsign:
      return kK0;
    case Activation::softplus: return kK20;  // switches to x above 20: a 2e-9 jump
    case Activation::hardtanh: return kK11;
    case Activation::relu6: return kK06;
    case Activation::hardsigmoid: return kK33;
    case Activation::hardshrink: case Activation::softshrink: return kKs;
    default: return {};
  }
}

bool complex_step_ok(Activation a) { return a != Activation::gelu; }

template <class T> void activate(Activation a, const arma::Mat<T>& Z, arma::Mat<T>& A) {
  A.set_size(Z.n_rows, Z.n_cols);
  act::forward_block(a, Z.memptr(), A.memptr(), Z.n_rows, Z.n_cols, Z.n_rows);
}

template <class T>
void activate_backward(Activation a, const arma::Mat<T>& Z, const arma::Mat<T>& A,
                       const arma::Mat<T>& dA, arma::Mat<T>& dZ) {
  dZ.set_size(Z.n_rows, Z.n_cols);
  act::backward_block(a, Z.memptr(), A.memptr(), dA.memptr(), dZ.memptr(), Z.n_rows, Z.n_cols, Z.n_rows);
}

template <class T> arma::Mat<T> activation_derivative(Activation a, const arma::Mat<T>& Z) {
  arma::Mat<T> D(Z.n_rows, Z.n_cols);
  act::dispatch(a, [&](auto F) {
    for (arma::uword i = 0; i < Z.n_elem; ++i) D[i] = decltype(F)::df(Z[i], decltype(F)::f(Z[i]));
  });
  return D;
}

#define NNLAB_INST(T)                                                                        \
  template void activate<T>(Activation, const arma::Mat<T>&, arma::Mat<T>&);                 \
  template void activate_backward<T>(Activation, const arma::Mat<T>&, const arma::Mat<T>&,  \
                                     const arma::Mat<T>&, arma::Mat<T>&);                    \
  template arma::Mat<T> activation_derivative<T>(Activation, const arma::Mat<T>&);
NNLAB_INST(float)
NNLAB_INST(double)
#undef NNLAB_INST

}  // namespace nnlab
