// nnlab: one executable, one subcommand per task (contract section 4).
//   exit 0 success, 1 a check that ran and failed (or a non-finite result), 2 bad usage or
//   bad input (one line on stderr naming the file, the place and the problem), 3 a bug.
#include "common.hpp"

#include "nnlab/runtime/blas.hpp"
#include "nnlab/core/error.hpp"
#include "nnlab/formats/io.hpp"
#include "nnlab/runtime/mpi.hpp"

#include <cstdio>
#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
  using namespace nnlab::cli;
  nnlab::clean_up_on_signals();  // an interrupted write leaves no temporary file behind
  if (const std::string why = nnlab::address_space_problem(); !why.empty()) {
    std::cerr << why << std::endl;
    std::_Exit(kBadInput);  // not exit(): OpenBLAS's exit handler would wait for its stuck threads
  }
  nnlab::use_fast_blas_kernels();  // may re-execute this program with OPENBLAS_CORETYPE set
  set_command_line(argc, argv);
  // Under mpirun: every process runs the command (train and double-descent share the work);
  // rank 0 alone prints and writes files.
  if (nnlab::mpi::init(&argc, &argv) > 1 && nnlab::mpi::rank() > 0) {
    nnlab::set_writes_enabled(false);
    if (!std::freopen("/dev/null", "w", stdout) || !std::freopen("/dev/null", "w", stderr)) return 3;
  }
  CLI::App app{"nnlab: the numerics of neural networks (lib/README.md has the reference)", "nnlab"};
  app.require_subcommand(1, 1);
  app.set_version_flag("--version", [] {
    return std::string("nnlab 0.1.0; ") + nnlab::describe(nnlab::blas_info()) +
           (nnlab::mpi::built_with_mpi() ? "; MPI: yes" : "; MPI: no");
  });
  std::function<int()> run;
  register_grad(app, run);
  register_gradcheck(app, run);
  register_hvp(app, run);
  register_predict(app, run);
  register_gauss_newton(app, run);
  register_memorize(app, run);
  register_train(app, run);
  register_evaluate(app, run);
  register_double_descent(app, run);
  std::string names;
  bool known = false;
  for (const auto* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    names += (names.empty() ? "" : ", ") + sub->get_name();
    known = known || (argc > 1 && sub->get_name() == argv[1]);
  }
  if (argc > 1 && argv[1][0] != '-' && !known) {
    std::cerr << "nnlab: unknown subcommand '" << argv[1] << "' (one of: " << names << ")\n";
    return kBadInput;
  }
  // --help and --version print on stdout, checked like any output.
  const auto printed = [](int code) {
    try {
      nnlab::finish_stdout();
    } catch (const nnlab::InputError& e) {
      std::cerr << e.what() << "\n";
      return kBadInput;
    }
    return code;
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return printed(app.exit(e));
  } catch (const CLI::CallForAllHelp& e) {
    return printed(app.exit(e));
  } catch (const CLI::CallForVersion& e) {
    return printed(app.exit(e));
  } catch (const CLI::ParseError& e) {
    std::cerr << "nnlab: " << e.what() << " (see nnlab --help)\n";
    return kBadInput;
  }
  // Under mpirun an error ends every process (MPI_Abort): the others may be waiting for this one.
  auto fail = [](int code) { nnlab::mpi::abort_all(code); return code; };
  try {
    const int code = run ? run() : kBadInput;
    nnlab::finish_stdout();
    return code;
  } catch (const nnlab::InputError& e) {
    std::cerr << e.what() << "\n";
    return fail(kBadInput);
  } catch (const std::bad_alloc&) {
    std::cerr << "nnlab " << (argc > 1 ? argv[1] : "") << ": out of memory: the input or the options ask for more "
              << "memory than the machine gives this process\n";
    return fail(kBadInput);
  } catch (const std::exception& e) {
    std::cerr << "nnlab: internal error: " << e.what() << "\n";
    return fail(3);
  }
}
