# lab: 12_gradient_descent_sgd
set terminal pngcairo size 1300,520 font "sans,11"
set output out
set datafile separator ","
set multiplot layout 1,2 title "Loss on the whole training set against per-sample gradients computed (m = 500)"
set logscale x
set logscale y
set grid
set xlabel "per-sample gradients computed"
set ylabel "loss (bce)"
set key bottom left
do for [p in "convex mlp"] {
  set title (p eq "convex" ? "convex: logistic regression" : "non-convex: 2-16-1 tanh MLP")
  plot dir."/".p."_gd.csv" u 1:2 skip 1 w l lw 2 t "GD, fixed step", \
       dir."/".p."_gd-linesearch.csv" u 1:2 skip 1 w l lw 2 t "GD, line search", \
       dir."/".p."_sgd-1.csv" u 1:2 skip 1 w l lw 1 t "SGD, 1 sample, lambda0/(1+t/1000)", \
       dir."/".p."_sgd-32.csv" u 1:2 skip 1 w l lw 1.5 t "SGD, batch 32", \
       dir."/".p."_momentum.csv" u 1:2 skip 1 w l lw 1.5 t "momentum, batch 32", \
       dir."/".p."_adam.csv" u 1:2 skip 1 w l lw 2 t "Adam, batch 32"
}
unset multiplot
