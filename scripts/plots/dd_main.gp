# lab: double_descent
# experiments/double_descent.sh: Fashion-MNIST, n = 1000, random ReLU features.
set terminal pngcairo size 1500,900 font "sans,10"
set output out
set datafile separator ","
set multiplot layout 2,3 title "Double descent on Fashion-MNIST (n = 1000 training images, 2000 test images, minimum-norm least squares)"
set logscale x
set grid
set xlabel "features p (log)"
set arrow 1 from 1000, graph 0 to 1000, graph 1 nohead dt 2 lc rgb "gray40"
set key top right
set title "test and train MSE (10% label noise, 3 trials)"
set logscale y
plot dir."/main.csv" u 1:3 skip 1 w lp pt 7 ps 0.5 lw 2 t "test, one model", \
     dir."/ensemble.csv" u 1:7 skip 1 w lp pt 5 ps 0.8 lw 2 t "test, ensemble of 8", \
     dir."/main.csv" u 1:($2 > 1e-12 ? $2 : 1/0) skip 1 w lp pt 3 ps 0.5 lw 1 t "train (not drawn where 0: from the threshold on)"
unset logscale y
set title "test classification error"
plot dir."/main.csv" u 1:4 skip 1 w lp pt 7 ps 0.5 lw 2 t "one model", dir."/ensemble.csv" u 1:8 skip 1 w lp pt 5 ps 0.8 lw 2 t "ensemble of 8"
set logscale y
set title "norm of the output weights and condition number"
plot dir."/main.csv" u 1:5 skip 1 w lp pt 7 ps 0.5 lw 2 t "|W|_F", dir."/main.csv" u 1:6 skip 1 w lp pt 5 ps 0.5 lw 2 t "cond(Phi)"
set title "label noise (1 trial; 0.1: 3 trials)"
plot dir."/noise_0.csv" u 1:3 skip 1 w l lw 2 t "noise 0", dir."/noise_0.1.csv" u 1:3 skip 1 w l lw 2 t "noise 0.1", \
     dir."/noise_0.2.csv" u 1:3 skip 1 w l lw 2 t "noise 0.2"
set title "ridge (10% noise; fixed: 1 trial, chosen on validation: 3 trials)"
plot dir."/noise_0.1.csv" u 1:3 skip 1 w l lw 2 t "minimum norm", dir."/ridge_0.0001.csv" u 1:3 skip 1 w l lw 2 t "ridge 1e-4", \
     dir."/ridge_0.01.csv" u 1:3 skip 1 w l lw 2 t "ridge 1e-2", dir."/ridge_1.csv" u 1:3 skip 1 w l lw 2 t "ridge 1", \
     dir."/ridge_opt.csv" u 1:3 skip 1 w l lw 3 t "ridge chosen on validation"
unset multiplot
