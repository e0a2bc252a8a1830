// libFuzzer target: the model reader must answer any bytes with a model or an InputError.
#include "nnlab/core/error.hpp"
#include "nnlab/formats/io.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto net = nnlab::parse_model(text, "fuzz.json");
    net.validate();
    // What we write we must read back.
    (void)nnlab::parse_model(nnlab::model_to_json(net), "roundtrip.json");
  } catch (const nnlab::InputError&) {
  }
  return 0;
}
