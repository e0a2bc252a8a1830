// nnlab/formats/io.hpp -- the files of the contract (section 3): model JSON and data CSV.
//
// Every reader is strict and throws InputError with one line that starts with the file
// name, then the place (line and column, or the JSON path such as layers[1].W[0][2]),
// then what is wrong.  Readers never allocate more than a small multiple of the bytes they
// have read.  Every writer goes through write_file (nnlab/formats/files.hpp).
#pragma once
#include "nnlab/core/network.hpp"
#include "nnlab/formats/files.hpp"

#include <string>
#include <string_view>

namespace nnlab {

// Model file.  `source` names the file in messages.
Network<double> parse_model(std::string_view text, const std::string& source);
Network<double> read_model(const std::string& path);
std::string model_to_json(const Network<double>& net);  // 17 significant digits
void write_model(const std::string& path, const Network<double>& net);

// A direction in parameter space (nnlab hvp --v): {"v": [{"W": [[...]], "b": [...]}, ...]} in
// the shapes of net, every number finite; InputError naming the file and the place otherwise.
Grads<double> parse_direction(std::string_view text, const std::string& source, const Network<double>& net);
Grads<double> read_direction(const std::string& path, const Network<double>& net);

// CSV: one sample per row.  Returns the rows x cols matrix as written in the file (the
// library's batches are its transpose: one sample per column).
arma::mat parse_csv(std::string_view text, const std::string& source);
arma::mat read_csv(const std::string& path);
// Writes rows x cols, 17 significant digits (header optional, comma-separated).
std::string csv_to_string(const arma::mat& M, const std::string& header = "");
void write_csv(const std::string& path, const arma::mat& M, const std::string& header = "");

// Targets must fit the loss: ce rows are probability vectors (entries >= 0 summing to 1
// within 1e-9), bce entries in [0, 1], hinge entries exactly -1 or +1.  Y is rows x cols
// as read (one sample per row).
void validate_targets(Loss loss, const arma::mat& Y, const std::string& source);
// The data of a model: X has n_0 columns, Y has n_L columns and as many rows as X.
void validate_data(const Network<double>& net, const arma::mat& X, const std::string& xsrc,
                   const arma::mat& Y, const std::string& ysrc);

std::string fmt17(double v);  // %.17g

}  // namespace nnlab
