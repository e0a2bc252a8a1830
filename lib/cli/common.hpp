// Shared pieces of the nnlab subcommands: loading the contract's files, JSON output.
#pragma once
#include "nnlab/backends/backend.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace nnlab::cli {

// Exit codes (contract section 4).
inline constexpr int kOk = 0, kCheckFailed = 1, kBadInput = 2;

struct Data {
  Network<double> net;
  arma::mat X, Y;  // one sample per column (the files hold one sample per row)
};
// Reads the model and the data, checks every rule of the contract; InputError otherwise.
Data load(const std::string& model, const std::string& x, const std::string& y);

// Options every gradient command has.
struct BackendOpts {
  std::string backend = "matrix";
  int threads = 0;  // 0: all cores
};
void add_backend_options(CLI::App* sub, BackendOpts& o, bool with_graph = true);
// Makes the backend and gives the cores to the right pool (BLAS for matrix/graph, OpenMP
// for openmp, nobody for naive).
std::unique_ptr<Backend<double>> make(const BackendOpts& o);
// All cores, or under mpirun the cores of this machine shared by its ranks.
int default_threads();
// Work that cannot fit in this machine's physical memory is refused before it allocates, with the
// numbers ("<what> need about N GB, more than this machine's M GB"), not by the allocator half-way
// or by the kernel's OOM killer after an overcommitted allocation succeeded.  InputError.
void require_memory(double bytes, const std::string& what);

// Checks of a real-valued option: a finite number >= lo (> lo with open_lo) and <= hi.  CLI11's
// PositiveNumber and Range let "nan" through (every comparison with NaN is false) and print
// their bounds with 300 digits; the message here says what is wanted, e.g. "--lr: must be a
// finite number > 0, not 'nan'".
inline constexpr double kNoLimit = std::numeric_limits<double>::max();
CLI::Validator real_option(double lo, double hi = kNoLimit, bool open_lo = false);
// The number s holds when it is all of s, finite and in that range; nullopt otherwise.
std::optional<double> parse_real(const std::string& s, double lo, double hi = kNoLimit, bool open_lo = false);

// "a,b,c" -> {"a", "b", "c"}; every comma separates, so "4," and "4,,5" hold an empty item
// (which the callers reject) instead of a silently dropped one.
std::vector<std::string> split_list(const std::string& s);

// X (rows x n, as in the file) and a one-column Y with as many rows; InputError otherwise.
void read_xy_column(const std::string& xpath, const std::string& ypath, arma::mat& X, arma::vec& y);

// The run record beside an output: <out>.run.json, everything that decides the output's bits
// (the command line, its seed, backend, threads, the BLAS and its kernels, the MPI processes)
// and `fields` of the command.  Written (atomically) after the output itself; none beside an
// output that is not a regular file (/dev/null): run_record_path is then "".
std::string run_record_path(const std::string& out);
void write_run_record(const std::string& out, const std::string& command, const nlohmann::json& fields);
// The command line as given (main sets it), for the run record.
void set_command_line(int argc, char** argv);

std::string json_matrix(const arma::mat& M);  // [[...], ...], 17 digits
std::string json_vector(const arma::vec& v);  // [...]
bool all_finite(const Grads<double>& g);

// Registration of the subcommands (one function per file).
void register_grad(CLI::App& app, std::function<int()>& run);
void register_gradcheck(CLI::App& app, std::function<int()>& run);
void register_hvp(CLI::App& app, std::function<int()>& run);
void register_predict(CLI::App& app, std::function<int()>& run);
void register_gauss_newton(CLI::App& app, std::function<int()>& run);
void register_memorize(CLI::App& app, std::function<int()>& run);
void register_train(CLI::App& app, std::function<int()>& run);
void register_evaluate(CLI::App& app, std::function<int()>& run);
void register_double_descent(CLI::App& app, std::function<int()>& run);

}  // namespace nnlab::cli
