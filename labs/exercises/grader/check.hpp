// labs/exercises/grader/check.hpp -- how a task's checks are written.
//
//   NNLAB_CHECK("act-sigmoid", "sigma'(z) against central differences") {
//     ...
//     ex::expect_close("sigma'(z)", got, want, 1e-9, 1e-12, ex::at("z", z));
//   }
//
// A check passes when it returns and fails at its first ex::fail (every helper below calls it)
// or exception.  Its message says where (layer, parameter, entry), what was expected and what
// came, and a hint where the check can tell the likely mistake.  A check calls its own task's
// code and nothing of another task's: references come from the check itself (finite
// differences of code that is no exercise, exact properties, numbers worked out by hand).
#pragma once
#include <armadillo>

#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace ex {

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using CheckFn = void (*)();
struct Check {
  std::string task, name;
  CheckFn fn;
};
std::vector<Check>& registry();
struct Registrar {
  Registrar(const char* task, const char* name, CheckFn fn) { registry().push_back({task, name, fn}); }
};

[[noreturn]] void fail(const std::string& message);
inline void expect(bool ok, const std::string& message) {
  if (!ok) fail(message);
}
std::string num(double v);
inline arma::mat one(double v) { return arma::mat(1, 1, arma::fill::value(v)); }  // a 1x1 matrix
// r x c draws of N(0, sd^2) from std::mt19937_64(seed): the checks' random inputs.
arma::mat rnd(arma::uword r, arma::uword c, unsigned seed, double sd = 1);
std::string at(const std::string& name, double v);  // " at name = v"

// A known mistake and what it looks like: the result is `factor` times the expected one.
struct Ratio {
  double factor;
  std::string hint;
};
// A known mistake and what it gives.
struct Mistake {
  arma::mat value;
  std::string hint;
};
// got against want, entry by entry: |got - want| <= atol + rtol |want|.  On failure: the shape
// if it differs, else the worst entry as what(i,j) (what[i] for a vector, what for a scalar),
// expected and got, then a hint: all zeros (a stub), a mistake of `mistakes` that got matches,
// the transpose, a ratio from `ratios`, or a sign flip.
void expect_close(const std::string& what, const arma::mat& got, const arma::mat& want, double rtol, double atol,
                  const std::string& where = "", const std::vector<Ratio>& ratios = {},
                  const std::vector<Mistake>& mistakes = {});
inline void expect_close(const std::string& what, double got, double want, double rtol, double atol,
                         const std::string& where = "", const std::vector<Ratio>& ratios = {},
                         const std::vector<Mistake>& mistakes = {}) {
  expect_close(what, arma::mat{got}, arma::mat{want}, rtol, atol, where, ratios, mistakes);
}
// Runs f; an exception from Armadillo or the library (a size mismatch, say) becomes a failure
// that says what was being done and, if given, the likely cause.
void guarded(const std::string& doing, const std::function<void()>& f, const std::string& hint = "");

// Gradient of a scalar function of a matrix by central differences of 4th order (each entry
// moved by h = 1e-3 max(1, |x|)): error about 1e-11 for smooth functions of O(1) values.
arma::mat fd_gradient(const std::function<double(const arma::mat&)>& f, const arma::mat& x);
// Jacobian (rows: outputs, columns: the entries of x in column-major order) of a vector function.
arma::mat fd_jacobian(const std::function<arma::vec(const arma::vec&)>& f, const arma::vec& x);

}  // namespace ex

#define NNLAB_CHECK_CAT2(a, b) a##b
#define NNLAB_CHECK_CAT(a, b) NNLAB_CHECK_CAT2(a, b)
#define NNLAB_CHECK(TASK, NAME)                                                                   \
  static void NNLAB_CHECK_CAT(nnlab_check_, __LINE__)();                                          \
  static const ex::Registrar NNLAB_CHECK_CAT(nnlab_registrar_, __LINE__)(TASK, NAME,              \
                                                                          &NNLAB_CHECK_CAT(nnlab_check_, __LINE__)); \
  static void NNLAB_CHECK_CAT(nnlab_check_, __LINE__)()
