# lab: 08_gradient_checking
# Relative error of the derivative against the step h: truncation (right) against round-off (left).
set terminal pngcairo size 900,600 font "sans,11"
set output out
set datafile separator ","
set logscale xy
set format x "10^{%L}"
set format y "10^{%L}"
set xlabel "step h"
set ylabel "relative error of dJ/dw"
set grid
set key bottom right
set xrange [1e-12:1e-1] reverse
set yrange [1e-17:1]
set title "Finite differences: truncation vs round-off (values of 1e-17 are exact hits)"
f = dir."/fd_error.csv"
plot f using 1:2 with linespoints pt 7 ps 0.6 lw 2 title "forward  O(h)", \
     f using 1:3 with linespoints pt 5 ps 0.6 lw 2 title "central  O(h^2)", \
     f using 1:4 with linespoints pt 9 ps 0.6 lw 2 title "central, 4th order  O(h^4)", \
     f using 1:5 with linespoints pt 13 ps 0.6 lw 2 title "complex step"
