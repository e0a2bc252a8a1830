// nnlab grad | gradcheck | predict   (contract section 4)
#include "common.hpp"

#include "nnlab/runtime/blas.hpp"
#include "nnlab/methods/gradcheck.hpp"
#include "nnlab/methods/hessian.hpp"
#include "nnlab/core/error.hpp"
#include "nnlab/formats/io.hpp"

#include <cstdio>
#include <iostream>
#include <map>

namespace nnlab::cli {

namespace {
struct Files { std::string model, x, y; };
void add_files(CLI::App* s, Files& f, bool with_y) {
  s->add_option("--model", f.model, "model file (JSON, contract section 3)")->required();
  s->add_option("--x", f.x, "inputs, CSV, one sample per row")->required();
  if (with_y) s->add_option("--y", f.y, "targets, CSV, one sample per row")->required();
}
}  // namespace

void register_grad(CLI::App& app, std::function<int()>& run) {
  auto* s = app.add_subcommand("grad", "loss and gradient of a model on data, as JSON on stdout");
  auto f = std::make_shared<Files>();
  auto b = std::make_shared<BackendOpts>();
  add_files(s, *f, true);
  add_backend_options(s, *b);
  s->callback([&run, f, b] {
    run = [f, b] {
      const Data d = load(f->model, f->x, f->y);
      auto be = make(*b);
      Cache<double> c;
      Grads<double> g;
      const double J = be->value_and_grad(d.net, d.X, d.Y, c, g);
      if (!std::isfinite(J) || !all_finite(g)) {
        std::cerr << "nnlab grad: the loss or the gradient is not finite (J = " << fmt17(J) << ")\n";
        return kCheckFailed;
      }
      std::string out = "{ \"loss\": " + fmt17(J) + ", \"grads\": [";
      for (std::size_t l = 0; l < g.dW.size(); ++l)
        out += std::string(l ? ",\n    " : "\n    ") + "{ \"W\": " + json_matrix(g.dW[l]) +
               ", \"b\": " + json_vector(g.db[l]) + " }";
      out += "\n  ] }\n";
      write_stdout(out);
      std::cerr << "nnlab grad: " << b->backend << " backend, " << d.net.depth() << " layers, "
                << d.net.n_params() << " parameters, m = " << d.X.n_cols << ", J = " << fmt17(J) << "\n";
      return kOk;
    };
  });
}

void register_predict(CLI::App& app, std::function<int()>& run) {
  auto* s = app.add_subcommand("predict", "the output A[L] of a model, as CSV on stdout (one sample per row)");
  auto f = std::make_shared<Files>();
  auto b = std::make_shared<BackendOpts>();
  add_files(s, *f, false);
  add_backend_options(s, *b);
  s->callback([&run, f, b] {
    run = [f, b] {
      const Data d = load(f->model, f->x, "");
      auto be = make(*b);
      Cache<double> c;
      be->forward(d.net, d.X, c);
      const arma::mat& A = c.A.back();
      if (!A.is_finite()) {
        std::cerr << "nnlab predict: the output is not finite\n";
        return kCheckFailed;
      }
      write_stdout(csv_to_string(A.t()));
      std::cerr << "nnlab predict: " << A.n_cols << " samples, " << A.n_rows << " outputs\n";
      return kOk;
    };
  });
}

void register_hvp(CLI::App& app, std::function<int()>& run) {
  auto* s = app.add_subcommand("hvp", "H v, the Hessian of the cost J times a direction v, as JSON on stdout");
  auto f = std::make_shared<Files>();
  auto v = std::make_shared<std::string>();
  auto backend = std::make_shared<std::string>("naive");
  add_files(s, *f, true);
  s->add_option("--v", *v, "the direction: {\"v\": [{\"W\": [[...]], \"b\": [...]}, ...]} in the model's shapes")
      ->required();
  s->add_option("--backend", *backend,
                "naive: forward over reverse in dual numbers; matrix: the R-operator (the others compute no H v)")
      ->check(CLI::IsMember({"naive", "matrix", "openmp", "graph", "mpi"}))
      ->capture_default_str();
  s->callback([&run, f, v, backend] {
    run = [f, v, backend] {
      if (*backend != "naive" && *backend != "matrix")
        throw InputError("--backend " + *backend + ": computes no Hessian-vector product (naive and matrix do)");
      const Data d = load(f->model, f->x, f->y);
      const Grads<double> dir = read_direction(*v, d.net);
      set_blas_threads(1);
      double J = 0;
      Grads<double> H;
      if (*backend == "naive") {
        H = hvp(d.net, d.X, d.Y, dir, &J);
      } else {
        H = hvp_rop(d.net, d.X, d.Y, dir);
        Cache<double> c;
        J = make_backend<double>(BackendKind::matrix)->value(d.net, d.X, d.Y, c);
      }
      if (!std::isfinite(J) || !all_finite(H)) {
        std::cerr << "nnlab hvp: the loss or H v is not finite (J = " << fmt17(J) << ")\n";
        return kCheckFailed;
      }
      std::string out = "{ \"loss\": " + fmt17(J) + ", \"hvp\": [";
      for (std::size_t l = 0; l < H.dW.size(); ++l)
        out += std::string(l ? ",\n    " : "\n    ") + "{ \"W\": " + json_matrix(H.dW[l]) +
               ", \"b\": " + json_vector(H.db[l]) + " }";
      out += "\n  ] }\n";
      write_stdout(out);
      std::cerr << "nnlab hvp: " << *backend << " (" << (*backend == "naive" ? "dual numbers" : "R-operator")
                << "), " << d.net.depth() << " layers, " << d.net.n_params() << " parameters, m = " << d.X.n_cols
                << ", J = " << fmt17(J) << "\n";
      return kOk;
    };
  });
}

void register_gradcheck(CLI::App& app, std::function<int()>& run) {
  auto* s = app.add_subcommand(
      "gradcheck",
      "every backend's gradient against central finite differences and against the naive "
      "reference; one row per backend and layer; exit 1 if any is over its tolerance");
  struct Opts {
    Files files;
    bool as_json = false;
    std::string mode = "auto";
    int order = 4;
    double tol = 0;
    bool second_order = false;
  };
  auto o = std::make_shared<Opts>();
  add_files(s, o->files, true);
  s->add_flag("--json", o->as_json, "print the rows as JSON instead of a table");
  s->add_option("--mode", o->mode, "full: every parameter; directional: 8 random directions; "
                                   "auto: full up to 20000 parameters")
      ->check(CLI::IsMember({"auto", "full", "directional"}))->capture_default_str();
  s->add_option("--order", o->order, "order of the central difference (2 or 4)")
      ->check(CLI::IsMember({2, 4}))->capture_default_str();
  s->add_option("--tol", o->tol, "relative tolerance against FD (default: 1e-7 for order 4, 1e-5 for 2)")
      ->check(real_option(0, kNoLimit, true));
  s->add_flag("--second-order", o->second_order,
              "also H v along a random direction: dual numbers against differences of the gradient, the complex "
              "step and the matrix R-operator, per layer");
  s->callback([&run, o] {
    run = [o] {
      const Files* f = &o->files;
      const bool as_json = o->as_json;
      const std::string& mode = o->mode;
      const int order = o->order;
      const double tol = o->tol;
      const Data d = load(f->model, f->x, f->y);
      set_blas_threads(1);
      FdOptions fo;
      fo.order = order;
      fo.rel_tol = tol;
      const bool full = mode == "full" || (mode == "auto" && d.net.n_params() <= 20000);
      struct Row { std::string backend, check; int layer; double abs, rel, tol; std::string verdict; bool ok; };
      std::vector<Row> rows;
      auto add_report = [&](const std::string& be, const std::string& check, const CheckReport& r) {
        // One row per layer: the worst of its W and b blocks.
        for (std::size_t l = 0; l <= d.net.depth(); ++l) {
          Row row{be, check, int(l), 0, 0, 0, "ok", true};
          bool any = false;
          for (const auto& b : r.blocks) {
            if (b.layer != int(l)) continue;
            any = true;
            row.abs = std::max(row.abs, b.max_abs);
            row.rel = std::max(row.rel, b.max_rel);
            row.tol = b.tol;
            if (!b.passed) { row.ok = false; row.verdict = b.verdict; }
            else if (row.ok && b.n_kink > 0) row.verdict = "ok (" + std::to_string(b.n_kink) + " at kinks)";
          }
          if (any) rows.push_back(row);
        }
      };
      auto ref = make_backend<double>(BackendKind::naive);
      // The contract's four backends (mpi is their data-parallel form; the test suite checks it).
      for (auto kind : {BackendKind::naive, BackendKind::matrix, BackendKind::openmp, BackendKind::graph}) {
        auto be = make_backend<double>(kind, 2);
        const std::string nm(name(kind));
        if (full) {
          add_report(nm, "fd" + std::to_string(order), check_fd(*be, d.net, d.X, d.Y, fo));
        } else {
          for (std::uint64_t k = 0; k < 8; ++k) {
            const auto r = check_directional(*be, d.net, d.X, d.Y, 1000 + k, fo);
            rows.push_back({nm, "dir" + std::to_string(k), 0, r.abs_err, r.rel_err, r.tol,
                            r.passed ? "ok" : (r.finite ? "FAIL" : "non-finite"), r.passed});
          }
        }
        if (kind != BackendKind::naive) add_report(nm, "vs-naive", compare_backends(*be, *ref, d.net, d.X, d.Y));
        // forward mode (dual numbers) against this backend's reverse mode, along one direction
        const auto fm = check_forward_mode(*be, d.net, d.X, d.Y, 77);
        rows.push_back({nm, "fwd-mode", 0, fm.abs_err, fm.rel_err, fm.tol,
                        fm.passed ? "ok" : (fm.finite ? "FAIL" : "non-finite"), fm.passed});
      }
      if (o->second_order) {  // H v (dual numbers, the naive loops) against three other ways
        bool complex_ok = true;
        for (const auto& L : d.net.layers) complex_ok = complex_ok && complex_step_ok(L.act);
        add_report("naive", "hvp-fd", check_hvp(d.net, d.X, d.Y, 99, "fd"));
        if (complex_ok) add_report("naive", "hvp-cs", check_hvp(d.net, d.X, d.Y, 99, "complex-step"));
        add_report("matrix", "hvp-rop", check_hvp(d.net, d.X, d.Y, 99, "rop"));
      }
      bool ok = true;
      for (const auto& r : rows) ok = ok && r.ok;
      std::string out;
      if (as_json) {
        out = "{ \"passed\": " + std::string(ok ? "true" : "false") + ", \"rows\": [";
        for (std::size_t i = 0; i < rows.size(); ++i) {
          const auto& r = rows[i];
          out += std::string(i ? ",\n  " : "\n  ") + "{ \"backend\": \"" + r.backend + "\", \"check\": \"" +
                 r.check + "\", \"layer\": " + std::to_string(r.layer) + ", \"max_abs_err\": " + fmt17(r.abs) +
                 ", \"max_rel_err\": " + fmt17(r.rel) + ", \"tol\": " + fmt17(r.tol) + ", \"verdict\": \"" +
                 r.verdict + "\" }";
        }
        out += "\n] }\n";
      } else {
        char line[256];
        std::snprintf(line, sizeof line, "%-8s %-9s %5s %13s %13s %9s  %s\n", "backend", "check", "layer",
                      "max_abs_err", "max_rel_err", "tol", "verdict");
        out = line;
        for (const auto& r : rows) {
          std::snprintf(line, sizeof line, "%-8s %-9s %5d %13.3e %13.3e %9.1e  %s\n", r.backend.c_str(),
                        r.check.c_str(), r.layer, r.abs, r.rel, r.tol, r.verdict.c_str());
          out += line;
        }
      }
      write_stdout(out);
      // On failure, which verdicts failed, and what a kink-only row means (nothing was verified there).
      std::map<std::string, int> failed;
      for (const auto& r : rows)
        if (!r.ok) ++failed[r.verdict];
      std::string why;
      for (const auto& [v, k] : failed) why += (why.empty() ? ": " : ", ") + std::to_string(k) + " rows " + v;
      if (failed.count("non-finite"))
        why += "; non-finite: J, a gradient entry or a finite difference is NaN or inf (J overflows at the point or"
               " at the difference stencil), so nothing there was verified";
      if (failed.count("FAIL(all-zero)"))
        why += "; FAIL(all-zero): the gradient (or H v) is exactly zero in every block, so there was nothing to "
               "compare";
      if (failed.count("kink-only"))
        why += "; kink-only: in that layer every entry's difference stencil crossed a kink (of an activation,"
               " the hinge or |w|), so nothing there was verified: check at inputs off the kinks";
      std::cerr << "nnlab gradcheck: " << (ok ? "passed" : "FAILED") << why << " (" << rows.size() << " rows, "
                << d.net.n_params() << " parameters, " << (full ? "every parameter" : "8 directions")
                << ", layer 0 = the cost J or X)\n";
      return ok ? kOk : kCheckFailed;
    };
  });
}

}  // namespace nnlab::cli
