# lab: 09_gauss_newton_neuron
# Cost against iteration (log scale) for the four methods, zero-residual and noisy data.
set terminal pngcairo size 1300,520 font "sans,11"
set output out
set datafile separator ","
set key autotitle columnhead top right
set logscale y
set format y "10^{%L}"
set grid
set xlabel "iteration"
set ylabel "cost f = 0.5 ||r||^2"
set multiplot layout 1,2 title "Single sigmoid neuron, K = 40: Gauss-Newton, LM, gradient descent"
set title "zero residual: quadratic convergence"
set xrange [0:40]
plot dir."/exact_gn.csv" u 1:2 w lp pt 7 lw 2 t "Gauss-Newton", \
     dir."/exact_lm.csv" u 1:2 w lp pt 5 lw 2 t "Levenberg-Marquardt", \
     dir."/exact_gd.csv" u 1:2 w l lw 2 t "GD, fixed step 0.5", \
     dir."/exact_gdls.csv" u 1:2 w l lw 2 t "GD, line search"
set title "noisy (sigma = 0.05): linear convergence to f* > 0"
set ylabel "f - f*  (f* = the Gauss-Newton minimum; 1e-17 = reached)"
set xrange [0:100]
plot dir."/noisy_gn.csv" u 1:3 w lp pt 7 lw 2 t "Gauss-Newton", \
     dir."/noisy_lm.csv" u 1:3 w lp pt 5 lw 2 t "Levenberg-Marquardt", \
     dir."/noisy_gd.csv" u 1:3 w l lw 2 t "GD, fixed step 0.5", \
     dir."/noisy_gdls.csv" u 1:3 w l lw 2 t "GD, line search"
unset multiplot
