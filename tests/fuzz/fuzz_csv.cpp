// libFuzzer target: the CSV reader and the target checks must answer any bytes with a
// matrix or an InputError.
#include "nnlab/core/error.hpp"
#include "nnlab/formats/io.hpp"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const arma::mat M = nnlab::parse_csv(text, "fuzz.csv");
    for (nnlab::Loss l : nnlab::kAllLosses) {
      try { nnlab::validate_targets(l, M, "fuzz.csv"); } catch (const nnlab::InputError&) {}
    }
    (void)nnlab::parse_csv(nnlab::csv_to_string(M), "roundtrip.csv");
  } catch (const nnlab::InputError&) {
  }
  return 0;
}
