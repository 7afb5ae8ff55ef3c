/* plot.h: PNG plots drawn by gnuplot, with their data and script kept beside them.
 *
 * The caller writes NAME.dat into an output set (outfile.h); cap_plot_render adds NAME.gp
 * and runs gnuplot in the set's folder, which draws into NAME.png's temporary file, held by
 * the set like the others. The script draws NAME.png when run by hand, so a user can restyle
 * it: `cd DIR && gnuplot NAME.gp`.
 */
#ifndef CAP_PLOT_H
#define CAP_PLOT_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "outfile.h"

/* True when a gnuplot program can be run. */
bool cap_plot_available(void);

/* Copies `text` into `buffer` as the inside of a single-quoted gnuplot string: each quote
 * doubled (gnuplot reads '' as one quote, so a string cannot be ended early and what follows
 * run), each control character written as '?'. Stops at a character that does not fit,
 * never halfway through a doubled quote; `buffer` is always terminated (size >= 1). */
void cap_plot_text(const char *text, char *buffer, size_t size);

/* `body` is gnuplot text after the terminal and output lines (titles, plot command).
 * Returns CAP_OK (also when gnuplot is missing: then only the script is written and a
 * note is added to `diag`), CAP_ERR_RUNTIME when the script cannot be written or gnuplot
 * fails. */
cap_status cap_plot_render(cap_outset *set, const char *name, const char *body, cap_diag *diag);

#endif
