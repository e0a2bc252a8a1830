// labs/common/sheet.hpp -- the worked-sheet format every lab prints.
//
//   Sheet s("06_activations", "Activations and their derivatives");
//   s.section("1. The logistic function");
//   s.say("sigma(x) = 1 / (1 + e^-x) ...");
//   s.show("sigma(0)", act::value(Activation::sigmoid, 0.0));
//   s.check_close("sigma(x) = (tanh(x/2) + 1)/2 at x = 3", a, b, 1e-15);
//   return s.finish();   // 0 when every check held, 1 otherwise
#pragma once
#include <armadillo>
#include <string>

namespace nnlab::lab {

class Sheet {
 public:
  Sheet(std::string id, const std::string& title);
  const std::string& id() const { return id_; }
  void section(const std::string& title);
  void say(const std::string& text);  // narration, wrapped as written
  void show(const std::string& label, double v);
  void show(const std::string& label, const std::string& v);
  void show(const std::string& label, const arma::mat& M, int precision = 6);
  // A claim the lab verifies: printed as [ok] or [FAIL]; failures make finish() return 1.
  bool check(const std::string& claim, bool ok);
  bool check_close(const std::string& claim, double got, double want, double rel_tol, double abs_tol = 0);
  // Two matrices equal entry by entry to abs_tol (same shape required); prints the largest
  // difference.
  bool check_equal(const std::string& claim, const arma::mat& got, const arma::mat& want, double abs_tol);
  // Where this lab's CSV and PNG go (results/<id>/); notes a file written there.
  std::string path(const std::string& file) const;
  void wrote(const std::string& path);
  int finish();

 private:
  std::string id_;
  int checks_ = 0, failed_ = 0;
};

std::string fmt(double v, int precision = 6);  // %.*g

}  // namespace nnlab::lab
