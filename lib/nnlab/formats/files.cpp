// Reading and writing files (see files.hpp).
#include "nnlab/formats/files.hpp"

#include "nnlab/core/error.hpp"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace nnlab {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t kMaxStreamBytes = std::size_t(1) << 30;  // cap for pipes (1 GiB)
constexpr const char* kTempTag = ".nnlab-tmp.";

std::string why() { return std::strerror(errno); }

// ---- the temporary files being written, for the signal handler (fixed storage: a handler
// may not allocate).
constexpr int kSlots = 8;
constexpr std::size_t kPathMax = 4096;
char g_temp[kSlots][kPathMax];
std::atomic<bool> g_claimed[kSlots], g_ready[kSlots];  // ready: the handler may read the name

int remember_temp(const std::string& p) {
  if (p.size() >= kPathMax) return -1;
  for (int i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (g_claimed[i].compare_exchange_strong(expected, true)) {
      std::memcpy(g_temp[i], p.c_str(), p.size() + 1);
      g_ready[i].store(true);
      return i;
    }
  }
  return -1;
}
void forget_temp(int slot) {
  if (slot < 0) return;
  g_ready[slot].store(false);
  g_claimed[slot].store(false);
}

extern "C" void on_signal(int sig) {
  for (int i = 0; i < kSlots; ++i)
    if (g_ready[i].load()) ::unlink(g_temp[i]);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

bool g_writes = true;

// dir and base name of a target path.
std::pair<std::string, std::string> split(const std::string& path) {
  const fs::path p(path);
  std::string dir = p.parent_path().string();
  if (dir.empty()) dir = ".";
  return {dir, p.filename().string()};
}

// Temporary files of `base` left in `dir` by processes that no longer run (killed before they
// could rename or remove them): `.<base>.nnlab-tmp.<pid>.<random>`, owned by this user.
void remove_stale_temps(const std::string& dir, const std::string& base) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  const std::string prefix = "." + base + kTempTag;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    const auto dot = rest.find('.');
    if (dot == std::string::npos) continue;
    char* end = nullptr;
    const long pid = std::strtol(rest.substr(0, dot).c_str(), &end, 10);
    if (pid <= 0 || *end != '\0' || pid == ::getpid()) continue;
    if (::kill(pid_t(pid), 0) == 0 || errno != ESRCH) continue;  // its writer may still run
    struct stat st {};
    const std::string full = dir + "/" + name;
    if (::lstat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::geteuid()) ::unlink(full.c_str());
  }
  ::closedir(d);
}

// Creates the temporary file beside path exclusively (O_EXCL never follows a link) with a
// random name; returns its descriptor, fills tmp and the signal handler's slot (the name is
// known to the handler before the file exists, so that no signal can leave it behind).
int create_temp(const std::string& path, std::string& tmp, int& slot) {
  const auto [dir, base] = split(path);
  static std::mt19937_64 rng(std::random_device{}() ^ std::uint64_t(::getpid()));
  static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string r;
    for (int i = 0; i < 10; ++i) r += alnum[rng() % 36];
    tmp = dir + "/." + base + kTempTag + std::to_string(::getpid()) + "." + r;
    slot = remember_temp(tmp);
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) return fd;
    const int err = errno;
    forget_temp(slot);
    slot = -1;
    if (err != EEXIST) {
      errno = err;
      return -1;
    }
  }
  errno = EEXIST;
  return -1;
}

// All of data to fd; false (errno set) on a failed or short write.
bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    if (n == 0) {
      errno = EIO;
      return false;
    }
    data.remove_prefix(std::size_t(n));
  }
  return true;
}

mode_t new_file_mode() {
  const mode_t mask = ::umask(0);
  ::umask(mask);
  return 0666 & ~mask;
}

}  // namespace

void set_writes_enabled(bool on) { g_writes = on; }

std::FILE* open_input(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw InputError(path + ": cannot open: " + why());
  if (S_ISDIR(st.st_mode)) throw InputError(path + ": is a directory, not a file");
  if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode)) throw InputError(path + ": is a device, not a file");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw InputError(path + ": cannot open: " + why());
  return f;
}

std::string read_file(const std::string& path) {
  std::FILE* f = open_input(path);
  struct stat st {};
  const bool regular = ::fstat(::fileno(f), &st) == 0 && S_ISREG(st.st_mode);
  std::string s;
  if (regular) s.reserve(std::size_t(st.st_size));
  char buf[1 << 16];
  std::size_t got;
  while ((got = std::fread(buf, 1, sizeof buf, f)) > 0) {
    s.append(buf, got);
    if (s.size() > kMaxStreamBytes && !regular) {
      std::fclose(f);
      throw InputError(path + ": more than 1 GiB from a stream");
    }
  }
  const bool err = std::ferror(f);
  std::fclose(f);
  if (err) throw InputError(path + ": read error");
  return s;
}

void write_file(const std::string& path, std::string_view content) {
  if (!g_writes) return;
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) throw InputError(path + ": cannot write: is a directory");
  if (exists && !S_ISREG(st.st_mode)) {  // a device or a FIFO: written in place, never replaced
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) throw InputError(path + ": cannot write: " + why());
    const bool ok = write_all(fd, content);
    const std::string reason = ok ? "" : why();
    if (::close(fd) != 0 && ok) throw InputError(path + ": cannot write: " + why());
    if (!ok) throw InputError(path + ": cannot write: " + reason);
    return;
  }
  const auto [dir, base] = split(path);
  remove_stale_temps(dir, base);
  std::string tmp;
  int slot = -1;
  const int fd = create_temp(path, tmp, slot);
  if (fd < 0) throw InputError(path + ": cannot write: " + why());
  const mode_t mode = exists ? (st.st_mode & 07777) : new_file_mode();
  bool ok = ::fchmod(fd, mode) == 0 && write_all(fd, content) && ::fsync(fd) == 0;
  std::string reason = ok ? "" : why();
  if (::close(fd) != 0 && ok) ok = false, reason = why();
  if (ok && ::rename(tmp.c_str(), path.c_str()) != 0) ok = false, reason = why();
  if (!ok) ::unlink(tmp.c_str());
  forget_temp(slot);
  if (!ok) throw InputError(path + ": cannot write: " + reason);
}

void check_writable(const std::string& path) {
  if (!g_writes) return;
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) throw InputError(path + ": cannot write: is a directory");
  if (exists && !S_ISREG(st.st_mode)) {
    if (::access(path.c_str(), W_OK) != 0) throw InputError(path + ": cannot write: " + why());
    return;
  }
  std::string tmp;
  int slot = -1;
  const int fd = create_temp(path, tmp, slot);
  if (fd < 0) throw InputError(path + ": cannot write: " + why());
  ::close(fd);
  ::unlink(tmp.c_str());
  forget_temp(slot);
}

void check_outputs(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs) {
  // Two names are the same file when both exist and share device and inode, or when their
  // canonical paths agree (an output that does not exist yet).
  struct Id {
    bool exists = false, device = false;
    dev_t dev = 0;
    ino_t ino = 0;
    std::string canon;
  };
  const auto id = [](const std::string& p) {
    Id r;
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) {
      r.exists = true;
      r.device = !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
      r.dev = st.st_dev;
      r.ino = st.st_ino;
    }
    std::error_code ec;
    r.canon = fs::weakly_canonical(fs::path(p), ec).string();
    if (ec) r.canon = p;
    return r;
  };
  const auto same = [](const Id& a, const Id& b) {
    if (a.exists && b.exists) return a.dev == b.dev && a.ino == b.ino;
    return a.canon == b.canon;
  };
  std::vector<Id> out_ids;
  for (const auto& o : outputs) out_ids.push_back(o.path.empty() ? Id{} : id(o.path));
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (outputs[i].path.empty() || out_ids[i].device) continue;
    for (const auto& in : inputs)
      if (!in.path.empty() && same(out_ids[i], id(in.path)))
        throw InputError(outputs[i].option + " " + outputs[i].path + ": is the input " + in.option + " " + in.path +
                         "; writing it would destroy it");
    for (std::size_t j = 0; j < i; ++j)
      if (!outputs[j].path.empty() && same(out_ids[i], out_ids[j]))
        throw InputError(outputs[i].option + " " + outputs[i].path + ": is also " + outputs[j].option +
                         "; two outputs cannot share a file");
  }
}

void write_stdout(std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
    throw InputError(std::string("stdout: cannot write: ") + why());
}

void finish_stdout() {
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) throw InputError(std::string("stdout: cannot write: ") + why());
}

void clean_up_on_signals() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, nullptr);
  }
}

}  // namespace nnlab
