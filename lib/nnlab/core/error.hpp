// nnlab/core/error.hpp -- the one error policy of nnlab.
//
// * Bad input from outside (a file, a flag, a size that does not fit) is reported by
//   throwing nnlab::InputError.  Its message is one line and starts with what is at
//   fault: the file name ("X.csv: line 3, column 2: ...") or the function
//   ("make_backend: ...").  The command line prints it on stderr and exits with 2.
// * A check that ran and failed (gradcheck over tolerance, a non-finite result) is not an
//   exception: it is a value (a report) and the command line exits with 1.
// * Anything else that escapes (std::logic_error, a failed Armadillo size check) is a bug
//   in nnlab; the command line reports it as "internal error" and exits with 3.
#pragma once
#include <stdexcept>
#include <string>

namespace nnlab {

struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace nnlab
