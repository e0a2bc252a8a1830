# lab: 04_two_layer_network
set terminal pngcairo size 1300,500 font "sans,11"
set output out
set datafile separator ","
set multiplot layout 1,2 title "2-layer sigmoid network on the moons: zero initialisation vs randn * 0.01"
set title "spread of the hidden units (max distance of a row of W1 from the mean row)"
set xlabel "gradient-descent step"
set grid
set key top left
set logscale y
set yrange [1e-4:*]
plot dir."/symmetry.csv" u 1:($2 > 0 ? $2 : 1e-4) skip 1 w l lw 2 t "zero init (stays 0: drawn at 1e-4)", \
     dir."/symmetry.csv" u 1:3 skip 1 w l lw 2 t "randn * 0.01"
unset logscale y
set yrange [*:*]
set title "decision regions after training (randn * 0.01)"
set xlabel "x1"
set ylabel "x2"
set size ratio -1
set palette defined (0 "#f4a582", 0.5 "white", 1 "#92c5de")
set cbrange [0:1]
set key off
plot dir."/regions.csv" u 1:2:3 skip 1 w image, \
     dir."/points.csv" u 1:($3 > 0.5 ? $2 : 1/0) skip 1 w p pt 7 ps 0.6 lc rgb "#2166ac", \
     dir."/points.csv" u 1:($3 < 0.5 ? $2 : 1/0) skip 1 w p pt 5 ps 0.6 lc rgb "#b2182b"
unset multiplot
