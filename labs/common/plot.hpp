// labs/common/plot.hpp -- the CSV and figure plumbing every lab uses.
//
// A lab writes its numbers as CSV under results/<lab>/ (write_table) and renders a PNG with
// gnuplot through gnuplot-iostream (render).  The figure itself is defined once, in a
// gnuplot script scripts/plots/<name>.gp that reads the CSV; scripts/plots.sh runs the same
// scripts again over results/, so every figure can be regenerated from the CSV without
// running any computation.
//
// Where things go:  NNLAB_RESULTS (default: results/ under the working directory) and
// NNLAB_PLOTS (default: the scripts/plots folder of the source tree nnlab was built from).
#pragma once
#include <armadillo>
#include <string>
#include <vector>

namespace nnlab::plot {

std::string results_dir(const std::string& lab);  // creates results/<lab>/
// Writes columns (all of equal length) with a header, 17 significant digits, atomically.
std::string write_table(const std::string& lab, const std::string& file,
                        const std::vector<std::string>& header, const std::vector<arma::vec>& columns);
// Runs scripts/plots/<script>.gp with `dir` set to results/<lab>/ (gnuplot variables:
// dir, out).  Returns the PNG path, or "" (with a note on stderr) when gnuplot is absent.
std::string render(const std::string& lab, const std::string& script);
bool gnuplot_available();

}  // namespace nnlab::plot
