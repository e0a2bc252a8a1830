# lab: 11_relu_universality
# The memoriser f(x) = sum_n y_n relu(1 - ||x - x_n||_1) (left) and a small trained network
# (right) over the plane, with the training points (+1 circles, -1 squares).
set terminal pngcairo size 1400,620 font "sans,11"
set output out
set datafile separator ","
set multiplot layout 1,2 title "Memorising is not learning: 80 training points of the lattice [-10,10]^2 (label: inside the circle r^2 < 64)"
set size ratio -1
set xrange [-10.5:10.5]
set yrange [-10.5:10.5]
set palette defined (-1.5 "#b2182b", 0 "white", 1.5 "#2166ac")
set cbrange [-1.5:1.5]
set key off
set title "memoriser: bumps of height y(n), 0 elsewhere (test error: chance level)"
plot dir."/bumps.csv" u 1:2:3 skip 1 w image, \
     dir."/train_points.csv" u 1:($3 > 0 ? $2 : 1/0) skip 1 w p pt 6 ps 1 lc rgb "black", \
     dir."/train_points.csv" u 1:($3 < 0 ? $2 : 1/0) skip 1 w p pt 4 ps 1 lc rgb "black", \
     (sqrt(64 - x**2)) w l lc rgb "gray30" dt 2, (-sqrt(64 - x**2)) w l lc rgb "gray30" dt 2
set title "2-16-1 tanh network trained on the same points (generalises)"
plot dir."/bumps.csv" u 1:2:4 skip 1 w image, \
     dir."/train_points.csv" u 1:($3 > 0 ? $2 : 1/0) skip 1 w p pt 6 ps 1 lc rgb "black", \
     dir."/train_points.csv" u 1:($3 < 0 ? $2 : 1/0) skip 1 w p pt 4 ps 1 lc rgb "black", \
     (sqrt(64 - x**2)) w l lc rgb "gray30" dt 2, (-sqrt(64 - x**2)) w l lc rgb "gray30" dt 2
unset multiplot
