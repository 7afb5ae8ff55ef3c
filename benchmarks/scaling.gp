set terminal pngcairo size 900,560 font 'sans,10'
set output 'scaling.png'
set datafile separator ','
set logscale xy
set grid
set xlabel 'non-zeros'
set ylabel 'capplan plan, seconds'
set title 'Plan time against model size (fitted exponent 0.63)'
plot 'scaling.dat' skip 1 using 1:2 with linespoints lw 2 title 'capplan plan'
