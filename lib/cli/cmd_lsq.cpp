// nnlab gauss-newton   (contract section 4): fit one neuron y ~ g(w.x + b) by least squares.
#include "common.hpp"

#include "nnlab/runtime/blas.hpp"
#include "nnlab/core/error.hpp"
#include "nnlab/formats/io.hpp"
#include "nnlab/methods/lsq.hpp"

#include <cstdio>
#include <iostream>

namespace nnlab::cli {

void register_gauss_newton(CLI::App& app, std::function<int()>& run) {
  auto* s = app.add_subcommand(
      "gauss-newton",
      "fit one neuron y ~ g(w.x + b) by minimising f = 0.5 sum_k (y_k - g(w.x_k + b))^2; JSON on stdout");
  struct Opts {
    std::string x, y, init, activation = "sigmoid", method = "gn";
    int max_iter = 50;
  };
  auto o = std::make_shared<Opts>();
  s->add_option("--x", o->x, "inputs, CSV, one sample per row (K x n)")->required();
  s->add_option("--y", o->y, "targets, CSV, one column (K x 1)")->required();
  s->add_option("--activation", o->activation, "the neuron's g")
      ->check(CLI::IsMember({"sigmoid", "identity", "tanh"}))->capture_default_str();
  s->add_option("--init", o->init, "starting point: one row w_1, ..., w_n, b (default: all zeros)");
  s->add_option("--method", o->method,
                "gn: Gauss-Newton (QR, backtracking); lm: Levenberg-Marquardt; newton: the true Hessian")
      ->check(CLI::IsMember({"gn", "lm", "newton"}))->capture_default_str();
  s->add_option("--max-iter", o->max_iter, "iteration limit")->check(CLI::Range(0, 1000000))->capture_default_str();
  s->callback([&run, o] {
    run = [o] {
      arma::mat X;
      arma::vec y;
      read_xy_column(o->x, o->y, X, y);
      arma::vec beta(X.n_cols + 1, arma::fill::zeros);
      if (!o->init.empty()) {
        const arma::mat I = read_csv(o->init);
        if (I.n_rows != 1 || I.n_cols != X.n_cols + 1)
          throw InputError(o->init + ": must be one row of " + std::to_string(X.n_cols + 1) +
                           " numbers (w_1, ..., w_n, b); it is " + std::to_string(I.n_rows) + " x " +
                           std::to_string(I.n_cols));
        beta = I.row(0).t();
      }
      set_blas_threads(1);  // K x (n+1) problems: BLAS threads cost more than they give
      lsq::NeuronProblem prob(X, y, *activation_from_name(o->activation));
      lsq::Options opt;
      opt.method = o->method == "lm"       ? lsq::Method::levenberg_marquardt
                   : o->method == "newton" ? lsq::Method::newton
                                           : lsq::Method::gauss_newton;
      opt.max_iterations = o->max_iter;
      const auto sum = lsq::solve(prob, beta, opt);
      std::cerr << "nnlab gauss-newton: " << lsq::name(opt.method) << ", g = " << o->activation << ", K = "
                << X.n_rows << ", n = " << X.n_cols << "\n"
                << sum.table();
      if (!std::isfinite(sum.final_cost) || !beta.is_finite()) {
        std::cerr << "nnlab gauss-newton: the result is not finite\n";
        return kCheckFailed;
      }
      std::string out = "{ \"w\": " + json_vector(beta.head(X.n_cols)) + ", \"b\": " + fmt17(beta[X.n_cols]) +
                        ", \"cost\": " + fmt17(sum.final_cost) + ", \"iterations\": " +
                        std::to_string(sum.iterations) + ", \"status\": \"" + lsq::name(sum.status) +
                        "\", \"rank\": " + std::to_string(sum.rank) +
                        ", \"cond\": " + (std::isfinite(sum.cond) ? fmt17(sum.cond) : std::string("null")) +
                        ",\n  \"history\": [";
      for (std::size_t i = 0; i < sum.history.size(); ++i) {
        const auto& h = sum.history[i];
        out += std::string(i ? ",\n    " : "\n    ") + "{ \"iter\": " + std::to_string(h.iter) +
               ", \"cost\": " + fmt17(h.cost) + ", \"grad_norm\": " + fmt17(h.grad_norm) +
               ", \"step_norm\": " + fmt17(h.step_norm) + " }";
      }
      out += "\n  ] }\n";
      write_stdout(out);
      return kOk;
    };
  });
}

}  // namespace nnlab::cli
