// Running the nnlab executable from a test as a user runs it (test_cli, test_reliability).
#pragma once
#include "nnlab/formats/files.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace nnlab::test {

namespace fs = std::filesystem;

struct Run {
  int code;  // the exit status, or 128 + the signal that ended it (as a shell reports it)
  std::string out, err;
};

// One folder per test process, removed when the process ends.
struct TmpDir {
  fs::path p;
  TmpDir() : p(fs::temp_directory_path() / ("nnlab_test_" + std::to_string(::getpid()))) { fs::create_directories(p); }
  ~TmpDir() {
    std::error_code ec;
    fs::remove_all(p, ec);
  }
};
inline fs::path tmpdir() {
  static const TmpDir d;
  return d.p;
}

inline std::string put(const std::string& name, const std::string& text) {
  const auto p = tmpdir() / name;
  std::ofstream(p, std::ios::binary) << text;
  return p.string();
}

// `args` after the executable, through /bin/sh; `prefix` before it (e.g. "ulimit -v 150000;");
// stdout to `stdout_to` instead of the captured file when given (e.g. /dev/full).
inline Run run(const std::string& args, const std::string& prefix = "", const std::string& stdout_to = "") {
  const auto o = tmpdir() / "stdout", e = tmpdir() / "stderr";
  std::ofstream(o, std::ios::trunc).close();
  const std::string cmd = prefix + " " + std::string(NNLAB_EXE) + " " + args + " >" +
                          (stdout_to.empty() ? o.string() : stdout_to) + " 2>" + e.string() + " </dev/null";
  const int st = std::system(cmd.c_str());
  return {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), read_file(o.string()), read_file(e.string())};
}

inline std::size_t lines(const std::string& s) { return std::size_t(std::count(s.begin(), s.end(), '\n')); }

}  // namespace nnlab::test
