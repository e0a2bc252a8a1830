# lab: 07_softmax_classifier
set terminal pngcairo size 1500,480 font "sans,10"
set output out
set datafile separator ","
set multiplot layout 1,3 title "Softmax classifiers: learning curves and the Fashion-MNIST confusion matrix"
set grid
set xlabel "epoch"
set ylabel "accuracy"
set key bottom right
set title "spirals (2-64-3)"
plot dir."/curves_spirals.csv" u 1:4 skip 1 w l lw 2 t "train", dir."/curves_spirals.csv" u 1:5 skip 1 w l lw 2 t "validation"
set title "Fashion-MNIST subset (784-128-10)"
plot dir."/curves_fashion.csv" u 1:4 skip 1 w lp pt 7 lw 2 t "train", dir."/curves_fashion.csv" u 1:5 skip 1 w lp pt 5 lw 2 t "validation"
set title "confusion matrix on the 10,000 test images"
unset grid
set xlabel "predicted"
set ylabel "true"
set xrange [-0.5:9.5]
set yrange [9.5:-0.5]
set xtics 0,1,9
set ytics 0,1,9
set palette defined (0 "white", 1 "#2166ac")
set logscale cb
set cbrange [1:1000]
set size ratio -1
plot dir."/confusion.csv" u 2:1:($3 > 0 ? $3 : 1) skip 1 w image notitle, \
     dir."/confusion.csv" u 2:1:(sprintf("%d", $3)) skip 1 w labels font ",7" notitle
unset multiplot
