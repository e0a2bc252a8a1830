# lab: fashion_mnist
# Learning curves of experiments/fashion_mnist.sh: loss and accuracy, training and validation.
set terminal pngcairo size 1200,480 font "sans,11"
set output out
set datafile separator ","
set key autotitle columnhead bottom right
set grid
set xlabel "epoch"
set multiplot layout 1,2 title "Fashion-MNIST, 784-256-128-10 ReLU, Adam, batch 128, float"
set ylabel "cross-entropy"
set key top right
plot dir."/curves.csv" u 1:3 w lp pt 7 ps 0.5 lw 2 t "training (running mean)", \
     dir."/curves.csv" u 1:5 w lp pt 5 ps 0.5 lw 2 t "validation"
set ylabel "accuracy"
set key bottom right
plot dir."/curves.csv" u 1:4 w lp pt 7 ps 0.5 lw 2 t "training", \
     dir."/curves.csv" u 1:6 w lp pt 5 ps 0.5 lw 2 t "validation"
unset multiplot
