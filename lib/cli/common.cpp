#include "common.hpp"

#include "nnlab/runtime/mpi.hpp"

#include "nnlab/runtime/blas.hpp"
#include "nnlab/core/error.hpp"
#include "nnlab/formats/io.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <sys/stat.h>
#include <unistd.h>

namespace nnlab::cli {

Data load(const std::string& model, const std::string& x, const std::string& y) {
  Data d;
  d.net = read_model(model);
  const arma::mat X = read_csv(x);
  if (X.n_cols != d.net.n_in())
    throw InputError(x + ": has " + std::to_string(X.n_cols) + " columns, the model has " +
                     std::to_string(d.net.n_in()) + " inputs");
  d.X = X.t();
  if (!y.empty()) {
    const arma::mat Y = read_csv(y);
    validate_data(d.net, X, x, Y, y);
    d.Y = Y.t();
  }
  return d;
}

void require_memory(double bytes, const std::string& what) {
  const double have = double(::sysconf(_SC_PHYS_PAGES)) * double(::sysconf(_SC_PAGESIZE));
  if (have <= 0 || bytes <= have) return;
  char gb[96];
  std::snprintf(gb, sizeof gb, " need about %.0f GB, more than this machine's %.0f GB", bytes / 1e9, have / 1e9);
  throw InputError(what + gb);
}

std::optional<double> parse_real(const std::string& s, double lo, double hi, bool open_lo) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  const bool ok = !s.empty() && end && *end == '\0' && std::isfinite(v) && (open_lo ? v > lo : v >= lo) && v <= hi;
  return ok ? std::optional<double>(v) : std::nullopt;
}

CLI::Validator real_option(double lo, double hi, bool open_lo) {
  auto num = [](double v) {
    if (v == kNoLimit) return std::string("inf");
    char b[32];
    std::snprintf(b, sizeof b, "%g", v);
    return std::string(b);
  };
  const std::string want = hi == kNoLimit
                               ? std::string(open_lo ? "> " : ">= ") + num(lo)
                               : std::string("in ") + (open_lo ? "(" : "[") + num(lo) + ", " + num(hi) + "]";
  return CLI::Validator(
      [=](std::string& s) -> std::string {
        return parse_real(s, lo, hi, open_lo) ? std::string() : "must be a finite number " + want + ", not '" + s + "'";
      },
      "finite " + want);
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  for (std::size_t p = 0;;) {
    const std::size_t q = s.find(',', p);
    out.push_back(s.substr(p, q == std::string::npos ? std::string::npos : q - p));
    if (q == std::string::npos) return out;
    p = q + 1;
  }
}

int default_threads() {
  const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / mpi::local_size());  // under mpirun: the cores shared by the ranks here
}

void add_backend_options(CLI::App* sub, BackendOpts& o, bool with_graph) {
  std::vector<std::string> names{"naive", "matrix", "openmp"};
  if (with_graph) names.push_back("graph");
  names.push_back("mpi");
  sub->add_option("--backend", o.backend, "how the gradient is computed")
      ->check(CLI::IsMember(names))
      ->capture_default_str();
  sub->add_option("--threads", o.threads, "threads (>= 1; default: all cores)")
      ->check(CLI::Range(1, 4096));
}

std::unique_ptr<Backend<double>> make(const BackendOpts& o) {
  const int n = o.threads > 0 ? o.threads : default_threads();
  const auto kind = *backend_from_name(o.backend);
  give_cores(kind, n);  // one owner of the cores at a time (lib/README.md, "Threads")
  set_openmp_threads(n);
  return make_backend<double>(kind, n);
}

void read_xy_column(const std::string& xpath, const std::string& ypath, arma::mat& X, arma::vec& y) {
  X = read_csv(xpath);
  const arma::mat Y = read_csv(ypath);
  if (Y.n_cols != 1) throw InputError(ypath + ": has " + std::to_string(Y.n_cols) + " columns, must have 1");
  if (Y.n_rows != X.n_rows)
    throw InputError(ypath + ": has " + std::to_string(Y.n_rows) + " rows, " + xpath + " has " + std::to_string(X.n_rows));
  y = Y.col(0);
}

namespace {
std::vector<std::string> g_argv;
}
void set_command_line(int argc, char** argv) { g_argv.assign(argv, argv + argc); }

// None for an output that is not a file (a device such as /dev/null, a FIFO): nothing may be
// created beside those.
std::string run_record_path(const std::string& out) {
  struct stat st {};
  if (out.empty() || (::stat(out.c_str(), &st) == 0 && !S_ISREG(st.st_mode))) return "";
  return out + ".run.json";
}

void write_run_record(const std::string& out, const std::string& command, const nlohmann::json& fields) {
  const std::string path = run_record_path(out);
  if (path.empty()) return;
  const BlasInfo b = blas_info();
  nlohmann::json j = {{"format", "nnlab-run"},
                      {"nnlab", "0.1.0"},
                      {"command", command},
                      {"argv", g_argv},
                      {"output", out},
                      {"mpi_processes", mpi::size()},
                      {"blas", {{"library", b.blas_library},
                                {"config", b.openblas_config},
                                {"kernels", blas_core()},
                                {"OPENBLAS_CORETYPE", std::getenv("OPENBLAS_CORETYPE") ? std::getenv("OPENBLAS_CORETYPE") : ""}}},
                      {"openmp", built_with_openmp()}};
  j.update(fields);
  write_file(path, j.dump(2) + "\n");
}

std::string json_vector(const arma::vec& v) {
  std::string s = "[";
  for (arma::uword i = 0; i < v.n_elem; ++i) s += (i ? ", " : "") + fmt17(v[i]);
  return s + "]";
}

std::string json_matrix(const arma::mat& M) {
  std::string s = "[";
  for (arma::uword r = 0; r < M.n_rows; ++r) s += (r ? ", " : "") + json_vector(M.row(r).t());
  return s + "]";
}

bool all_finite(const Grads<double>& g) {
  for (std::size_t l = 0; l < g.dW.size(); ++l)
    if (!g.dW[l].is_finite() || !g.db[l].is_finite()) return false;
  return true;
}

}  // namespace nnlab::cli
