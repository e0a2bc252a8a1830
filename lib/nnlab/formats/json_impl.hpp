// Strict JSON for nnlab's files (private): duplicate keys and nesting beyond a depth are errors,
// numbers that overflow are errors, and every error is one InputError naming the source.
#pragma once
#include "nnlab/core/network.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <string>
#include <string_view>

namespace nnlab::detail {

// `what` names the kind of file in the depth message ("a model file").
nlohmann::json parse_json(std::string_view text, const std::string& src, int max_depth, const char* what);
// The same from an open file, read as it is parsed: a file is refused at its first bad byte.
nlohmann::json parse_json(std::FILE* f, const std::string& src, int max_depth, const char* what);

// The model object of a model file (every rule of the format), `src` naming it in messages.
Network<double> model_from_json(const nlohmann::json& j, const std::string& src);
// A model as a JSON object (17 significant digits).
nlohmann::json model_json(const Network<double>& net);

}  // namespace nnlab::detail
