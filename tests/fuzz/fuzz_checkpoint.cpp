// libFuzzer target: the checkpoint reader must answer any bytes with a checkpoint or an
// InputError, and what it writes it must read back.
#include "nnlab/core/error.hpp"
#include "nnlab/methods/train.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto c = nnlab::train::parse_checkpoint(text, "fuzz.json");
    (void)nnlab::train::parse_checkpoint(nnlab::train::checkpoint_to_json(c), "roundtrip.json");
  } catch (const nnlab::InputError&) {
  }
  return 0;
}
