# lab: 10_hyperplanes_svm
# Left: the two clouds, the SVM plane and its margins, support vectors circled.
# Right: |margin(SGD) - margin(exact)| against the SGD step.
set terminal pngcairo size 1300,560 font "sans,11"
set output out
set datafile separator ","
set multiplot layout 1,2 title "The SVM: exact QP solution, and SGD on the hinge loss with L2"
set title "support vectors (circled), plane w.x + b = 0 and margins +-1"
set size ratio -1
set clip two
set xrange [-6:6]
set yrange [-5:5]
set key bottom right box opaque
set grid
plot dir."/points.csv" u 1:($3 > 0 ? $2 : 1/0) skip 1 w p pt 7 ps 1.2 lc rgb "#1f77b4" t "y = +1", \
     dir."/points.csv" u 1:($3 < 0 ? $2 : 1/0) skip 1 w p pt 5 ps 1.2 lc rgb "#d62728" t "y = -1", \
     dir."/points.csv" u 1:($4 > 0 ? $2 : 1/0) skip 1 w p pt 6 ps 2.5 lw 2 lc rgb "black" t "support vectors", \
     dir."/svm_lines.csv" u 1:($3 == 0 ? $2 : 1/0) skip 1 w l lw 2 lc rgb "black" t "w.x + b = 0", \
     dir."/svm_lines.csv" u 1:($3 != 0 ? $2 : 1/0) skip 1 w l lw 1 dt 2 lc rgb "gray40" t "w.x + b = +-1"
set size noratio
set title "SGD (Pegasos, step 1/(lambda t)) against the exact margin"
set logscale xy
set format x "10^{%L}"
set format y "10^{%L}"
set xrange [*:*]
set yrange [1e-10:*]
set xlabel "SGD steps"
set ylabel "|margin(SGD) - margin(exact)|"
set key top right
plot dir."/sgd_margin.csv" u 1:3 skip 1 w l lw 2 t "SGD"
unset multiplot
