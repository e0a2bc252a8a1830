// nnlab memorize   (contract section 4): the lectures' ReLU memorization network.
#include "common.hpp"

#include "nnlab/core/error.hpp"
#include "nnlab/formats/io.hpp"
#include "nnlab/methods/relu_constructions.hpp"

#include <cstdio>
#include <iostream>

namespace nnlab::cli {

void register_memorize(CLI::App& app, std::function<int()>& run) {
  auto* s = app.add_subcommand("memorize",
                               "write the ReLU network f(x) = sum_n y_n relu(1 - ||x - x_n||_1) that "
                               "memorises N distinct integer points (2ND + N + 1 neurons)");
  struct Opts { std::string x, y, out; };
  auto o = std::make_shared<Opts>();
  s->add_option("--x", o->x, "N distinct points with integer coordinates, CSV (N x D)")->required();
  s->add_option("--y", o->y, "their labels, CSV, one column")->required();
  s->add_option("--out", o->out, "the model file to write (atomically)")->required();
  s->callback([&run, o] {
    run = [o] {
      check_outputs({{"--x", o->x}, {"--y", o->y}}, {{"--out", o->out}});
      arma::mat X;
      arma::vec y;
      read_xy_column(o->x, o->y, X, y);
      check_writable(o->out);
      {
        // The network has 2ND(D + 1) + N(2ND + 1) + N + 1 parameters (layer 2 alone N x 2ND):
        // quadratic in N; the model and its JSON text take about 24 bytes per parameter.
        const double N = double(X.n_rows), D = double(X.n_cols);
        const double params = 2 * N * D * (D + 1) + N * (2 * N * D + 1) + N + 1;
        char what[160];
        std::snprintf(what, sizeof what, "nnlab memorize: N = %.0f points, D = %.0f: the network's %.3g parameters",
                      N, D, params);
        require_memory(24 * params, what);
      }
      const auto net = relu::memorize_net(X, y, o->x);
      write_model(o->out, net);
      const auto N = X.n_rows, D = X.n_cols;
      std::cerr << "nnlab memorize: N = " << N << " points in D = " << D << " dimensions -> " << net.n_neurons()
                << " neurons (2ND + N + 1 = " << 2 * N * D + N + 1 << "), " << net.n_params()
                << " parameters, written to " << o->out << "\n";
      return kOk;
    };
  });
}

}  // namespace nnlab::cli
