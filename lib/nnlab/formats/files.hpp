// nnlab/formats/files.hpp -- the one way nnlab reads and writes a file.
//
// Writing (write_file):
//   * a regular file (or a new one) is written to a temporary file created exclusively beside
//     it (a random name, never through a link: `.<name>.nnlab-tmp.<pid>.<random>`), flushed to
//     disk, then renamed over the target: a reader sees the old file or the new one, never a
//     part.  The target's permissions are kept (a new file gets 0666 less the umask).
//   * a target that is not a regular file (a device such as /dev/null, a FIFO) is written
//     directly and never replaced.
//   * every write, the flush and the close are checked: a failed or short write throws
//     InputError("<path>: cannot write: <reason>") and leaves the target as it was.
//   * on SIGINT, SIGTERM or SIGHUP the temporary files being written are removed and the
//     process ends by the signal (exit status 128 + signal); a temporary file of the same
//     target left by a killed process (SIGKILL) is removed by the next write.
// stdout goes through write_stdout, checked the same way.
// Reading (read_file): regular files and pipes; a device or a directory is refused.
#pragma once
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace nnlab {

std::string read_file(const std::string& path);
// An open input: a regular file or a pipe (InputError otherwise, naming the path).
std::FILE* open_input(const std::string& path);

void write_file(const std::string& path, std::string_view content);
// Throws the InputError write_file would when nothing can be written at path (no directory,
// no permission, a directory in the way).  Called before long work, so that a run does not end
// in an output it cannot write.  Leaves nothing behind.
void check_writable(const std::string& path);
// Refuses (InputError, exit 2) an output that names one of the inputs, or two outputs that
// name the same file: `option=path` pairs, the option named in the message.  Empty paths are
// ignored; devices (/dev/null) may be named more than once.
struct NamedPath {
  std::string option, path;
};
void check_outputs(const std::vector<NamedPath>& inputs, const std::vector<NamedPath>& outputs);

// stdout, checked: a failed write throws InputError("stdout: cannot write: <reason>").
void write_stdout(std::string_view text);
// The final flush of stdout, checked (the command line calls it before exiting with 0).
void finish_stdout();

// SIGINT, SIGTERM and SIGHUP remove the temporary files being written, then end the process by
// the signal.  The command line calls it first thing.
void clean_up_on_signals();

// Under mpirun every process computes the same result; only rank 0 writes it.  The command
// line turns writing off on the other ranks with this (write_file then does nothing).
void set_writes_enabled(bool on);

}  // namespace nnlab
