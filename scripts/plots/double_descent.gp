# lab: 13_double_descent
set terminal pngcairo size 1400,480 font "sans,10"
set output out
set datafile separator ","
set multiplot layout 1,3 title "Double descent: random ReLU features, minimum-norm least squares, n = 300 Fashion-MNIST images, 10% label noise"
set logscale x
set grid
set xlabel "features p (log)"
set arrow 1 from 300, graph 0 to 300, graph 1 nohead dt 2 lc rgb "gray40"
set title "MSE (test and train)"
set logscale y
set key top right
plot dir."/sweep.csv" u 1:3 skip 1 w lp pt 7 ps 0.6 lw 2 t "test", dir."/sweep.csv" u 1:($2 > 1e-12 ? $2 : 1/0) skip 1 w lp pt 5 ps 0.6 lw 2 t "train (not drawn where 0: from the threshold on)"
unset logscale y
set title "test classification error"
set key off
plot dir."/sweep.csv" u 1:4 skip 1 w lp pt 7 ps 0.6 lw 2
set logscale y
set title "smallest singular value of the feature matrix"
plot dir."/singular.csv" u 1:2 skip 1 w lp pt 7 ps 0.6 lw 2
unset multiplot
