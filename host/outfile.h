/* outfile.h: outputs that appear whole or not at all.
 *
 * A file is written under a temporary name in its final folder, flushed and synced, then
 * renamed over the final name, so a crash or kill leaves either the old file or the new
 * one, never a partial one. Names are plain file names: no '/', no "..", so nothing is
 * written outside the output folder. Inputs (scenarios, plans) are opened here too.
 */
#ifndef CAP_OUTFILE_H
#define CAP_OUTFILE_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "diag.h"

typedef struct cap_outset cap_outset;

typedef struct {
    FILE *file;
    char *temp_path;
    char *final_path;
    cap_outset *set; /* the set it was opened in, or NULL */
} cap_outfile;

/* Creates `dir` and its parents when missing. A name that is taken by something other than
 * a folder, or that lies under a file, is bad usage (CAP_ERR_INPUT); a folder that cannot be
 * created for another reason (permissions, a full disk) is CAP_ERR_RUNTIME. */
cap_status cap_outdir_prepare(const char *dir, cap_diag *diag);

/* Opens a temporary file that will become dir/name. */
cap_status cap_outfile_open(cap_outfile *out, const char *dir, const char *name, cap_diag *diag);

/* Flushes, syncs, closes and renames into place (for a file opened in a set: into the set's
 * staging folder). On any failure the temporary file is removed and CAP_ERR_RUNTIME
 * returned. */
cap_status cap_outfile_commit(cap_outfile *out, cap_diag *diag);

/* Closes and removes the temporary file (after an error). Safe on a closed outfile. */
void cap_outfile_abort(cap_outfile *out);

/* ---- sets: one run's outputs, published together -------------------------------------
 *
 * The files of one command's run go into one folder as a set. They are written (each whole,
 * as above) into a hidden staging folder inside it, DIR/.capplan.tmp-XXXXXX, under their
 * final names, so that a plot script run there finds its data. Nothing in DIR itself
 * changes until cap_outset_publish: it renames them all into DIR, then removes the files of
 * the command's `owned` names that this run did not write (a plot not drawn this time, a
 * sweep not asked for, the plan.csv of an earlier feasible run), so the folder holds one
 * run's outputs, never a mix of two. An interrupt or an error before then leaves DIR as it
 * was (kill -9 may leave the staging folder behind; nothing else runs after it). */
#define CAP_OUTSET_MAX 16

struct cap_outset {
    char *dir;   /* the output folder */
    char *stage; /* the staging folder inside it */
    int count;
    char *staged_paths[CAP_OUTSET_MAX];
    char *final_paths[CAP_OUTSET_MAX];
};

/* Prepares `dir` (cap_outdir_prepare) and starts an empty set there. */
cap_status cap_outset_begin(cap_outset *set, const char *dir, cap_diag *diag);

/* cap_outfile_open in the set's staging folder; cap_outfile_commit puts the file there under
 * its name, and the set publishes it. */
cap_status cap_outset_open(cap_outset *set, cap_outfile *out, const char *name, cap_diag *diag);

/* Renames every staged file into place, then removes each regular file named in `owned`
 * (NULL-terminated) that the set did not write; removes the staging folder and frees the
 * set. SIGINT and SIGTERM wait until it is done. CAP_ERR_RUNTIME when a rename fails (the
 * files not yet renamed are removed). */
cap_status cap_outset_publish(cap_outset *set, const char *const *owned, cap_diag *diag);

/* Removes the staged files and the staging folder and frees the set; the folder stays as it
 * was. Safe after publish. */
void cap_outset_discard(cap_outset *set);

/* Publishes when rc is CAP_OK, discards otherwise. Returns rc, or publish's status when that
 * fails, or else plot_rc: a plot gnuplot failed to draw is an error, but the data are
 * published all the same. */
cap_status cap_outset_finish(cap_outset *set, cap_status rc, cap_status plot_rc,
                             const char *const *owned, cap_diag *diag);

/* For the SIGINT/SIGTERM handler (async-signal-safe): stops a tracked child and removes
 * every temporary file this process still has open or held, then returns true: the handler
 * exits. While a set is being published it returns false and does nothing: the handler
 * returns, and the publish raises `signo` again once every file is in place. */
bool cap_outfile_cleanup_signal(int signo);

/* The child process writing such a file (0: none): cap_outfile_cleanup_signal stops it
 * first, so that it cannot create the file again once removed. */
void cap_outfile_track_child(pid_t child);

/* Opens path for reading and fills *info. O_NONBLOCK while opening, cleared after, so that
 * a FIFO nobody writes to cannot hang the open (it then reads as empty). Returns the
 * descriptor, or -1 with errno set. A folder opens too: callers refuse it (S_ISDIR). */
int cap_infile_open(const char *path, struct stat *info);

#endif
