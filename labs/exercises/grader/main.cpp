// nnlab-grade: runs the checks of the exercise tasks (labs/exercises/README.md).
//
//   nnlab-grade [--json] [--timeout SECONDS] [TASK ...]     grade the tasks (all registered ones
//                                                           by default), one line each
//   nnlab-grade --registered                                the ids that have checks
//
// Each task runs in a child process of its own, so that a crash or an endless loop in a
// student's code fails that task alone: a signal is reported with the check that was running,
// and a task that runs past the timeout is stopped.  Exit 0 when every task passed, 1 when one
// failed, 2 on bad usage.
#include "check.hpp"

#include "nnlab/methods/gradcheck.hpp"
#include "nnlab/runtime/blas.hpp"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

namespace ex {

std::vector<Check>& registry() {
  static std::vector<Check> r;
  return r;
}

void fail(const std::string& message) { throw Failure(message); }

std::string num(double v) {
  char buf[40];
  for (int p : {6, 10, 17}) {  // few digits, unless they do not tell v apart from its neighbours
    std::snprintf(buf, sizeof buf, "%.*g", p, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  return buf;
}

std::string at(const std::string& name, double v) { return " at " + name + " = " + num(v); }

arma::mat rnd(arma::uword r, arma::uword c, unsigned seed, double sd) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> N(0, sd);
  arma::mat M(r, c);
  for (auto& v : M) v = N(rng);
  return M;
}

namespace {
std::string entry(const std::string& what, const arma::mat& M, arma::uword i, arma::uword j) {
  if (M.n_elem == 1) return what;
  if (M.n_cols == 1) return what + "[" + std::to_string(i) + "]";
  return what + "(" + std::to_string(i) + "," + std::to_string(j) + ")";
}
std::string shape(const arma::mat& M) { return std::to_string(M.n_rows) + "x" + std::to_string(M.n_cols); }
bool close(const arma::mat& a, const arma::mat& b, double rtol, double atol) {
  if (a.n_rows != b.n_rows || a.n_cols != b.n_cols) return false;
  for (arma::uword k = 0; k < a.n_elem; ++k)
    if (!(std::abs(a[k] - b[k]) <= atol + rtol * std::abs(b[k]))) return false;
  return true;
}
}  // namespace

void expect_close(const std::string& what, const arma::mat& got, const arma::mat& want, double rtol, double atol,
                  const std::string& where, const std::vector<Ratio>& ratios, const std::vector<Mistake>& mistakes) {
  if (got.n_rows != want.n_rows || got.n_cols != want.n_cols) {
    std::string m = what + where + " has shape " + shape(got) + ", expected " + shape(want);
    if (got.n_rows == want.n_cols && got.n_cols == want.n_rows) m += " (transposed? a gradient has the shape of its parameter)";
    fail(m);
  }
  arma::uword worst = 0;
  double worst_err = -1;
  for (arma::uword k = 0; k < got.n_elem; ++k) {
    const double tol = atol + rtol * std::abs(want[k]);
    const double e = std::isfinite(got[k]) ? std::abs(got[k] - want[k]) / tol : arma::datum::inf;
    if (e > worst_err) { worst_err = e; worst = k; }
  }
  if (worst_err <= 1) return;
  const arma::uword i = worst % got.n_rows, j = worst / got.n_rows;
  std::string m = entry(what, got, i, j) + where + ": expected " + num(want[worst]) + ", got " + num(got[worst]);
  std::string hint;
  if (!got.is_finite()) {
    hint = "not a finite number";
  } else if (arma::all(arma::vectorise(got) == 0) && arma::any(arma::vectorise(want) != 0)) {
    hint = "all zeros: not written yet?";
  } else if (auto it = std::find_if(mistakes.begin(), mistakes.end(),
                                    [&](const Mistake& k) { return close(got, k.value, 1e-6, 1e-12 + atol); });
             it != mistakes.end()) {
    hint = it->hint;
  } else if (got.n_rows == got.n_cols && got.n_rows > 1 && close(got.t(), want, rtol, atol)) {
    hint = "the transpose of the expected matrix";
  } else {
    for (const auto& r : ratios)
      if (close(got, r.factor * want, 1e-6, 1e-12 + atol)) { hint = r.hint; break; }
    if (hint.empty() && close(got, -want, rtol, atol)) hint = "the sign is wrong everywhere";
  }
  if (!hint.empty()) m += " (" + hint + ")";
  fail(m);
}

void guarded(const std::string& doing, const std::function<void()>& f, const std::string& hint) {
  try {
    f();
  } catch (const Failure&) {
    throw;
  } catch (const std::exception& e) {
    std::string m = doing + " threw: " + e.what();
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    if (!hint.empty()) m += " (" + hint + ")";
    fail(m);
  }
}

arma::mat fd_gradient(const std::function<double(const arma::mat&)>& f, const arma::mat& x) {
  arma::mat G(arma::size(x));
  arma::mat y = x;
  for (arma::uword k = 0; k < x.n_elem; ++k) {
    auto at_k = [&](double t) { y[k] = t; const double v = f(y); y[k] = x[k]; return v; };
    G[k] = nnlab::fd_central(at_k, x[k], 1e-3 * std::max(1.0, std::abs(x[k])), 4);
  }
  return G;
}

arma::mat fd_jacobian(const std::function<arma::vec(const arma::vec&)>& f, const arma::vec& x) {
  arma::vec y = x;
  arma::mat J;
  for (arma::uword k = 0; k < x.n_elem; ++k) {
    const double h = 1e-3 * std::max(1.0, std::abs(x[k]));
    auto at_k = [&](double d) { y[k] = x[k] + d; arma::vec v = f(y); y[k] = x[k]; return v; };
    const arma::vec col = (-at_k(2 * h) + 8 * at_k(h) - 8 * at_k(-h) + at_k(-2 * h)) / (12 * h);
    if (k == 0) J.set_size(col.n_elem, x.n_elem);
    J.col(k) = col;
  }
  return J;
}

}  // namespace ex

namespace {

struct Result {
  std::string id;
  bool passed = false;
  std::string message;
};

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  return s;
}

// Runs every check of `task` in a child; the child reports through a pipe, one line per event:
// "RUN <check>" before each check, then "OK <count>" or "FAIL <check>: <message>".
Result grade(const std::string& task, int timeout) {
  std::vector<const ex::Check*> checks;
  for (const auto& c : ex::registry())
    if (c.task == task) checks.push_back(&c);
  if (checks.empty()) return {task, false, "no checks are registered for this task"};
  int fd[2];
  if (pipe(fd) != 0) { std::perror("nnlab-grade: pipe"); std::exit(2); }
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) { std::perror("nnlab-grade: fork"); std::exit(2); }
  if (pid == 0) {
    close(fd[0]);
    FILE* out = fdopen(fd[1], "w");
    // What the student's code prints goes to stderr: the grader's stdout (the report, the JSON)
    // stays clean.
    if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0) std::_Exit(3);
    alarm(unsigned(timeout));
    nnlab::set_blas_threads(1);
    for (const auto* c : checks) {
      std::fprintf(out, "RUN %s\n", c->name.c_str());
      std::fflush(out);
      try {
        c->fn();
      } catch (const ex::Failure& f) {
        std::fprintf(out, "FAIL %s\n", one_line(f.what()).c_str());
        std::fclose(out);
        std::_Exit(0);
      } catch (const std::exception& e) {
        std::fprintf(out, "FAIL an exception was thrown: %s\n", one_line(e.what()).c_str());
        std::fclose(out);
        std::_Exit(0);
      }
    }
    std::fprintf(out, "OK %zu\n", checks.size());
    std::fclose(out);
    std::_Exit(0);
  }
  close(fd[1]);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0) text.append(buf, std::size_t(n));
  close(fd[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  std::string running, last;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("RUN ", 0) == 0) running = line.substr(4);
    else last = line;
  }
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    if (sig == SIGALRM)
      return {task, false, "check '" + running + "' did not finish within " + std::to_string(timeout) + " s (an endless loop?)"};
    return {task, false, "check '" + running + "' crashed: signal " + std::to_string(sig) + " (" + strsignal(sig) +
                             (sig == SIGSEGV ? "; an index out of range or an empty vector?" : "") + ")"};
  }
  if (last.rfind("OK ", 0) == 0)
    return {task, true, std::to_string(checks.size()) + (checks.size() == 1 ? " check passed" : " checks passed")};
  if (last.rfind("FAIL ", 0) == 0) return {task, false, running + ": " + last.substr(5)};
  return {task, false, "check '" + running + "' ended the process (exit status " +
                           std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : -1) + ")"};
}

std::string json_string(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') { o += '\\'; o += char(c); }
    else if (c < 0x20) { char b[8]; std::snprintf(b, sizeof b, "\\u%04x", c); o += b; }
    else o += char(c);
  }
  return o + "\"";
}

// The ids of the registered tasks, in registration order.
std::vector<std::string> task_ids() {
  std::vector<std::string> ids;
  std::set<std::string> seen;
  for (const auto& c : ex::registry())
    if (seen.insert(c.task).second) ids.push_back(c.task);
  return ids;
}

int usage(const std::string& why) {
  std::cerr << "nnlab-grade: " << why << "\nusage: nnlab-grade [--json] [--timeout SECONDS] [TASK ...] | --registered\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  int timeout = 60;
  std::vector<std::string> tasks;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") json = true;
    else if (a == "--timeout" && i + 1 < argc) {
      timeout = std::atoi(argv[++i]);
      if (timeout < 1) return usage("--timeout must be a positive number of seconds");
    } else if (a == "--registered") {
      for (const auto& id : task_ids()) std::cout << id << "\n";
      return 0;
    } else if (!a.empty() && a[0] == '-') return usage("unknown option " + a);
    else tasks.push_back(a);
  }
  const std::vector<std::string> ids = task_ids();
  if (tasks.empty()) tasks = ids;
  for (const auto& t : tasks) {
    if (std::find(ids.begin(), ids.end(), t) == ids.end()) return usage("unknown task '" + t + "' (scripts/grade.sh --list shows the ids)");
  }
  std::vector<Result> results;
  int passed = 0;
  for (const auto& t : tasks) {
    results.push_back(grade(t, timeout));
    passed += results.back().passed;
    if (!json) {
      const auto& r = results.back();
      std::cout << (r.passed ? "PASS " : "FAIL ") << r.id << (r.passed ? "" : ": " + r.message) << "\n" << std::flush;
    }
  }
  const int failed = int(results.size()) - passed;
  if (json) {
    std::cout << "{ \"tasks\": [";
    for (std::size_t i = 0; i < results.size(); ++i)
      std::cout << (i ? ",\n    " : "\n    ") << "{ \"id\": " << json_string(results[i].id)
                << ", \"passed\": " << (results[i].passed ? "true" : "false")
                << ", \"message\": " << json_string(results[i].message) << " }";
    std::cout << "\n  ], \"passed\": " << passed << ", \"failed\": " << failed << " }\n";
  } else {
    std::cout << passed << " passed, " << failed << " failed\n";
  }
  std::cout.flush();
  if (!std::cout) return 2;
  return failed ? 1 : 0;
}
