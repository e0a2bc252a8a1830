#include "nnlab/core/loss.hpp"

#include <stdexcept>

namespace nnlab {

std::string_view name(Loss l) {
  switch (l) {
    case Loss::mse: return "mse";
    case Loss::bce: return "bce";
    case Loss::ce: return "ce";
    case Loss::hinge: return "hinge";
  }
  throw std::logic_error("name(Loss): unknown value");
}

std::optional<Loss> loss_from_name(std::string_view s) {
  for (Loss l : kAllLosses) if (name(l) == s) return l;
  return std::nullopt;
}

std::optional<Activation> required_last_activation(Loss l) {
  if (l == Loss::bce) return Activation::sigmoid;
  if (l == Loss::ce) return Activation::softmax;
  return std::nullopt;
}

}  // namespace nnlab
