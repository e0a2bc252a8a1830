// CSV tables under results/ and PNG figures through gnuplot-iostream.
#include "common/plot.hpp"

#include "nnlab/formats/io.hpp"

#include <cstdlib>
#include <stdexcept>
#include <filesystem>
#include <iostream>
#include <gnuplot-iostream.h>

#ifndef NNLAB_SOURCE_PLOTS
#define NNLAB_SOURCE_PLOTS "scripts/plots"
#endif

namespace nnlab::plot {

namespace fs = std::filesystem;

std::string results_dir(const std::string& lab) {
  const char* env = std::getenv("NNLAB_RESULTS");
  const fs::path dir = fs::path(env && *env ? env : "results") / lab;
  fs::create_directories(dir);
  return dir.string();
}

std::string write_table(const std::string& lab, const std::string& file,
                        const std::vector<std::string>& header, const std::vector<arma::vec>& columns) {
  const std::string path = (fs::path(results_dir(lab)) / file).string();
  std::string head;
  for (std::size_t i = 0; i < header.size(); ++i) {
    if (i) head += ',';
    head += header[i];
  }
  arma::mat M(columns.empty() ? 0 : columns[0].n_elem, columns.size());
  for (std::size_t c = 0; c < columns.size(); ++c) {
    if (columns[c].n_elem != M.n_rows)
      throw std::logic_error(std::string("plot::write_table: ") + file + ": column " + std::to_string(c) + " has " +
                             std::to_string(columns[c].n_elem) + " rows, column 0 has " + std::to_string(M.n_rows));
    M.col(c) = columns[c];
  }
  write_file(path, csv_to_string(M, head));
  return path;
}

bool gnuplot_available() {
  static const bool ok = std::system("command -v gnuplot >/dev/null 2>&1") == 0;
  return ok;
}

std::string render(const std::string& lab, const std::string& script) {
  const char* env = std::getenv("NNLAB_PLOTS");
  const fs::path gp = fs::path(env && *env ? env : NNLAB_SOURCE_PLOTS) / (script + ".gp");
  const std::string dir = results_dir(lab);
  const std::string out = (fs::path(dir) / (script + ".png")).string();
  if (!gnuplot_available()) {
    std::cerr << "plot: gnuplot not found, " << out << " not drawn (the CSV is in " << dir << ")\n";
    return "";
  }
  if (!fs::exists(gp)) {
    std::cerr << "plot: " << gp.string() << " not found, " << out << " not drawn\n";
    return "";
  }
  {
    Gnuplot g("gnuplot");  // closes (and waits for gnuplot) at the end of this scope
    g << "dir = '" << dir << "'\n"
      << "out = '" << out << "'\n"
      << "load '" << gp.string() << "'\n";
  }
  return out;
}

}  // namespace nnlab::plot
