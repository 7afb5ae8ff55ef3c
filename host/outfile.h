/* outfile.h: outputs that appear whole or not at all.
 *
 * A file is written under a temporary name in its final folder, flushed and synced, then
 * renamed over the final name, so a crash or kill leaves either the old file or the new
 * one, never a partial one. Names are plain file names: no '/', no "..", so nothing is
 * written outside the output folder. Inputs (scenarios, plans) are opened here too.
 */
#ifndef CAP_OUTFILE_H
#define CAP_OUTFILE_H

#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "diag.h"

typedef struct {
    FILE *file;
    char *temp_path;
    char *final_path;
} cap_outfile;

/* Creates `dir` and its parents when missing. */
cap_status cap_outdir_prepare(const char *dir, cap_diag *diag);

/* Opens a temporary file that will become dir/name. */
cap_status cap_outfile_open(cap_outfile *out, const char *dir, const char *name, cap_diag *diag);

/* Flushes, syncs, closes and renames into place. On any failure the temporary file is
 * removed and CAP_ERR_RUNTIME returned. */
cap_status cap_outfile_commit(cap_outfile *out, cap_diag *diag);

/* Closes and removes the temporary file (after an error). Safe on a closed outfile. */
void cap_outfile_abort(cap_outfile *out);

/* Writes a whole string as dir/name. */
cap_status cap_outfile_write_string(const char *dir, const char *name, const char *text,
                                    cap_diag *diag);

/* Removes every temporary file this process still has open; async-signal-safe, for the
 * SIGINT/SIGTERM handler. */
void cap_outfile_cleanup_signal(void);

/* A temporary file that another process writes (gnuplot's PNG) is removed by
 * cap_outfile_cleanup_signal between these two calls; `path` must live that long. */
void cap_outfile_track_temp(char *path);
void cap_outfile_untrack_temp(char *path);

/* The child process writing such a file (0: none): cap_outfile_cleanup_signal stops it
 * first, so that it cannot create the file again once removed. */
void cap_outfile_track_child(pid_t child);

/* Opens path for reading and fills *info. O_NONBLOCK while opening, cleared after, so that
 * a FIFO nobody writes to cannot hang the open (it then reads as empty). Returns the
 * descriptor, or -1 with errno set. A folder opens too: callers refuse it (S_ISDIR). */
int cap_infile_open(const char *path, struct stat *info);

#endif
