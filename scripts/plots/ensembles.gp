# lab: 14_ensembles
set terminal pngcairo size 1300,480 font "sans,10"
set output out
set datafile separator ","
set multiplot layout 1,2 title "Ensembles of random-feature models (n = 300 Fashion-MNIST images, 10% label noise)"
set grid
set logscale x
set title "p = 0.9 n: the average of K models"
set xlabel "K (models averaged)"
set ylabel "test MSE"
set y2label "test error"
set y2tics
set ytics nomirror
set key top right
plot dir."/vs_k.csv" u 1:2 skip 1 w p pt 7 ps 1.2 t "test MSE", dir."/vs_k.csv" u 1:4 skip 1 w l lw 2 t "a + b/K", \
     dir."/vs_k.csv" u 1:3 skip 1 axes x1y2 w lp pt 5 lw 1 t "test error (right)"
unset y2tics
unset y2label
set ytics mirror
set title "double descent: single models against ensembles of 8"
set xlabel "features p (log)"
set ylabel "test MSE (log)"
set logscale y
set arrow 1 from 300, graph 0 to 300, graph 1 nohead dt 2 lc rgb "gray40"
plot dir."/curve.csv" u 1:2 skip 1 w lp pt 7 ps 0.6 lw 2 t "single model", dir."/curve.csv" u 1:3 skip 1 w lp pt 5 ps 0.6 lw 2 t "ensemble of 8"
unset multiplot
