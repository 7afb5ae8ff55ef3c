/* outfile.c: whole-or-nothing output files (see outfile.h). */
#define _POSIX_C_SOURCE 200809L
#include "outfile.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* What a signal handler must remove: the temporary files open now and the sets begun and
 * not yet published or discarded (their staged files and staging folders). Several
 * threads write outputs at once (a batch plans its scenarios in parallel), and the signal
 * may land on any thread, so every change to these tables, and every rename or removal of
 * what they name, happens in an exclusive section: `phase` goes from IDLE to BUSY (a
 * thread at work) or to CLEANING (a handler), one at a time. A handler that finds a
 * thread BUSY leaves its signal in `deferred_signal` and returns; the thread raises it
 * again as it leaves the section, when the tables are whole. Each side writes its word
 * before it reads the other's (sequentially consistent), so the signal is never lost. A
 * table that is full makes a thread wait for a free entry (batch threads hold one set and
 * one file each, so the sizes below are room enough for any machine's threads). */
enum { IDLE, BUSY, CLEANING };
static atomic_int phase;
static atomic_int deferred_signal;

#define OPEN_MAX 512
static char *open_temp_paths[OPEN_MAX];
#define SETS_MAX 256
static cap_outset *active_sets[SETS_MAX];

static volatile pid_t tracked_child;

static cap_status stage(cap_outset *set, const char *staged_path, cap_diag *diag);

static void exclusive_enter(void)
{
    for (int idle = IDLE; !atomic_compare_exchange_strong(&phase, &idle, BUSY); idle = IDLE)
        sched_yield(); /* another thread's section, or a handler that ends the process */
}

static void exclusive_leave(void)
{
    atomic_store(&phase, IDLE);
    int signo = atomic_exchange(&deferred_signal, 0);
    if (signo)
        raise(signo); /* the handler runs now, with the tables whole */
}

/* In a section: replaces the entry `old` (NULL: a free one) of `table` by `value`; false
 * when there is none. */
static bool table_swap(void **table, int size, void *old, void *value)
{
    for (int i = 0; i < size; i++) {
        if (table[i] == old) {
            table[i] = value;
            return true;
        }
    }
    return false;
}

void cap_outfile_track_child(pid_t child)
{
    tracked_child = child;
}

bool cap_outfile_cleanup_signal(int signo)
{
    atomic_store(&deferred_signal, signo);
    int idle = IDLE;
    if (!atomic_compare_exchange_strong(&phase, &idle, CLEANING))
        return false; /* BUSY: raised again when the section ends; CLEANING: being done */
    pid_t child = tracked_child;
    if (child > 0) {
        kill(child, SIGKILL);
        while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    for (int i = 0; i < OPEN_MAX; i++)
        if (open_temp_paths[i])
            unlink(open_temp_paths[i]);
    for (int slot = 0; slot < SETS_MAX; slot++) {
        const cap_outset *set = active_sets[slot];
        if (!set)
            continue;
        for (int i = 0; i < set->count; i++)
            unlink(set->staged_paths[i]);
        rmdir(set->stage);
    }
    return true;
}

cap_status cap_outdir_prepare(const char *dir, cap_diag *diag)
{
    size_t length = strlen(dir);
    if (length == 0) {
        cap_diag_add(diag, "empty output folder name");
        return CAP_ERR_INPUT;
    }
    char *path = strdup(dir);
    if (!path) {
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    for (char *p = path + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char saved = *p;
            *p = '\0';
            if (mkdir(path, 0777) != 0 && errno != EEXIST) {
                int error = errno;
                bool under_file = error == ENOTDIR;
                cap_diag_add(diag, "%s: cannot create folder: %s", path,
                             under_file ? "a part of the path is a file" : strerror(error));
                free(path);
                /* a name that cannot be a folder is bad usage; the machine's refusal is not */
                return under_file || error == ELOOP || error == ENAMETOOLONG ? CAP_ERR_INPUT
                                                                             : CAP_ERR_RUNTIME;
            }
            *p = saved;
            if (saved == '\0')
                break;
        }
    }
    free(path);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cap_diag_add(diag, "%s: not a folder", dir);
        return CAP_ERR_INPUT;
    }
    return CAP_OK;
}

static bool plain_name(const char *name)
{
    return name[0] != '\0' && !strchr(name, '/') && strcmp(name, ".") != 0 &&
           strcmp(name, "..") != 0;
}

/* The rename into place would replace whatever holds the name: a folder, a device, a FIFO
 * or a link too. */
static cap_status check_final(const char *dir, const char *name, cap_diag *diag)
{
    char path[4096];
    struct stat st;
    if (snprintf(path, sizeof path, "%s/%s", dir, name) < (int)sizeof path &&
        lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        cap_diag_add(diag, "%s: exists and is not a regular file; not replaced", path);
        return CAP_ERR_INPUT;
    }
    return CAP_OK;
}

cap_status cap_outfile_open(cap_outfile *out, const char *dir, const char *name, cap_diag *diag)
{
    memset(out, 0, sizeof *out);
    if (!plain_name(name)) {
        cap_diag_add(diag, "refusing to write '%s': not a plain file name", name);
        return CAP_ERR_INPUT;
    }
    size_t size = strlen(dir) + strlen(name) + 32;
    out->final_path = malloc(size);
    out->temp_path = malloc(size);
    if (!out->final_path || !out->temp_path) {
        cap_outfile_abort(out);
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    snprintf(out->final_path, size, "%s/%s", dir, name);
    snprintf(out->temp_path, size, "%s/.%s.tmp-XXXXXX", dir, name);
    if (check_final(dir, name, diag) != CAP_OK) {
        free(out->temp_path);
        out->temp_path = NULL;
        cap_outfile_abort(out);
        return CAP_ERR_INPUT;
    }
    int fd = -1, error = 0;
    for (bool tracked = false; !tracked; sched_yield()) {
        exclusive_enter(); /* created and tracked at once */
        tracked = table_swap((void **)open_temp_paths, OPEN_MAX, NULL, out->temp_path);
        if (tracked) {
            fd = mkstemp(out->temp_path);
            error = errno;
            if (fd < 0)
                table_swap((void **)open_temp_paths, OPEN_MAX, out->temp_path, NULL);
        }
        exclusive_leave();
    }
    if (fd < 0) {
        cap_diag_add(diag, "%s: cannot create: %s", out->final_path, strerror(error));
        free(out->temp_path);
        out->temp_path = NULL;
        cap_outfile_abort(out);
        return CAP_ERR_RUNTIME;
    }
    fchmod(fd, 0644);
    out->file = fdopen(fd, "w");
    if (!out->file) {
        close(fd);
        cap_diag_add(diag, "%s: cannot open: %s", out->temp_path, strerror(errno));
        cap_outfile_abort(out);
        return CAP_ERR_RUNTIME;
    }
    return CAP_OK;
}

cap_status cap_outfile_commit(cap_outfile *out, cap_diag *diag)
{
    bool ok =
        out->file && fflush(out->file) == 0 && !ferror(out->file) && fsync(fileno(out->file)) == 0;
    int saved = errno;
    if (out->file && fclose(out->file) != 0)
        ok = false;
    out->file = NULL;
    cap_status rc = CAP_OK;
    if (ok) {
        exclusive_enter(); /* renamed and untracked (and staged) at once */
        if (rename(out->temp_path, out->final_path) != 0) {
            saved = errno;
            ok = false;
        } else {
            table_swap((void **)open_temp_paths, OPEN_MAX, out->temp_path, NULL);
            if (out->set)
                rc = stage(out->set, out->final_path, diag);
        }
        exclusive_leave();
    }
    if (!ok) {
        cap_diag_add(diag, "%s: write failed: %s", out->final_path, strerror(saved));
        cap_outfile_abort(out);
        return CAP_ERR_RUNTIME;
    }
    free(out->temp_path);
    free(out->final_path);
    out->temp_path = out->final_path = NULL;
    return rc;
}

void cap_outfile_abort(cap_outfile *out)
{
    if (out->file)
        fclose(out->file);
    out->file = NULL;
    if (out->temp_path) {
        exclusive_enter();
        unlink(out->temp_path);
        table_swap((void **)open_temp_paths, OPEN_MAX, out->temp_path, NULL);
        exclusive_leave();
    }
    free(out->temp_path);
    free(out->final_path);
    out->temp_path = out->final_path = NULL;
}

/* ---- sets ----------------------------------------------------------------------------- */

static void discard_in_section(cap_outset *set);

cap_status cap_outset_begin(cap_outset *set, const char *dir, cap_diag *diag)
{
    memset(set, 0, sizeof *set);
    cap_status rc = cap_outdir_prepare(dir, diag);
    if (rc != CAP_OK)
        return rc;
    size_t size = strlen(dir) + sizeof "/.capplan.tmp-XXXXXX";
    set->dir = strdup(dir);
    set->stage = malloc(size);
    if (!set->dir || !set->stage) {
        cap_diag_add(diag, "out of memory");
        cap_outset_discard(set);
        return CAP_ERR_RUNTIME;
    }
    snprintf(set->stage, size, "%s/.capplan.tmp-XXXXXX", dir);
    bool made = false;
    int error = 0;
    for (bool registered = false; !registered; sched_yield()) {
        exclusive_enter(); /* created and registered at once */
        registered = table_swap((void **)active_sets, SETS_MAX, NULL, set);
        if (registered) {
            made = mkdtemp(set->stage) != NULL;
            error = errno;
            if (!made)
                table_swap((void **)active_sets, SETS_MAX, set, NULL);
        }
        exclusive_leave();
    }
    if (!made) {
        cap_diag_add(diag, "%s: cannot create a folder in it: %s", dir, strerror(error));
        free(set->stage);
        set->stage = NULL;
        cap_outset_discard(set);
        return CAP_ERR_RUNTIME;
    }
    return CAP_OK;
}

cap_status cap_outset_open(cap_outset *set, cap_outfile *out, const char *name, cap_diag *diag)
{
    memset(out, 0, sizeof *out);
    cap_status rc = plain_name(name) ? check_final(set->dir, name, diag) : CAP_OK;
    if (rc == CAP_OK)
        rc = cap_outfile_open(out, set->stage, name, diag);
    out->set = rc == CAP_OK ? set : NULL;
    return rc;
}

/* In a section: records a file just renamed into the set's staging folder. */
static cap_status stage(cap_outset *set, const char *staged_path, cap_diag *diag)
{
    if (set->count == CAP_OUTSET_MAX) {
        unlink(staged_path);
        cap_diag_add(diag, "%s: too many outputs in one set", staged_path);
        return CAP_ERR_RUNTIME;
    }
    const char *name = strrchr(staged_path, '/') + 1;
    size_t size = strlen(set->dir) + strlen(name) + 2;
    char *staged = strdup(staged_path), *final = malloc(size);
    if (!staged || !final) {
        unlink(staged_path);
        free(staged);
        free(final);
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    snprintf(final, size, "%s/%s", set->dir, name);
    set->final_paths[set->count] = final;
    set->staged_paths[set->count] = staged;
    set->count++;
    return CAP_OK;
}

/* True when the set wrote `name`. */
static bool set_wrote(const cap_outset *set, const char *name)
{
    for (int i = 0; i < set->count; i++)
        if (strcmp(strrchr(set->final_paths[i], '/') + 1, name) == 0)
            return true;
    return false;
}

/* Removes dir/name when it is a regular file (the output of an earlier run). */
static cap_status remove_stale(const char *dir, const char *name, cap_diag *diag)
{
    char path[4096];
    if (!plain_name(name) || snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return CAP_OK;
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || unlink(path) == 0 || errno == ENOENT)
        return CAP_OK;
    cap_diag_add(diag, "%s: cannot remove the output of an earlier run: %s", path, strerror(errno));
    return CAP_ERR_RUNTIME;
}

cap_status cap_outset_publish(cap_outset *set, const char *const *owned, cap_diag *diag)
{
    cap_status rc = CAP_OK;
    exclusive_enter();
    /* Every final name first (one may have become a folder or a link since it was
     * opened), so that a refusal leaves the folder as it was. */
    for (int i = 0; i < set->count && rc == CAP_OK; i++)
        rc = check_final(set->dir, strrchr(set->final_paths[i], '/') + 1, diag);
    for (int i = 0; i < set->count && rc == CAP_OK; i++) {
        if (rename(set->staged_paths[i], set->final_paths[i]) != 0) {
            cap_diag_add(diag, "%s: write failed: %s", set->final_paths[i], strerror(errno));
            rc = CAP_ERR_RUNTIME;
        }
    }
    for (int i = 0; rc == CAP_OK && owned && owned[i]; i++)
        if (!set_wrote(set, owned[i]))
            rc = remove_stale(set->dir, owned[i], diag);
    int fd = open(set->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) { /* the renames themselves reach the disk */
        fsync(fd);
        close(fd);
    }
    discard_in_section(set); /* what was not renamed, and the staging folder */
    exclusive_leave();
    return rc;
}

/* In a section: removes the staged files and the staging folder, then unregisters. */
static void discard_in_section(cap_outset *set)
{
    for (int i = 0; i < set->count; i++)
        unlink(set->staged_paths[i]); /* after a publish, finds nothing */
    if (set->stage)
        rmdir(set->stage);
    table_swap((void **)active_sets, SETS_MAX, set, NULL);
    for (int i = 0; i < set->count; i++) {
        free(set->staged_paths[i]);
        free(set->final_paths[i]);
    }
    set->count = 0;
    free(set->stage);
    free(set->dir);
    set->stage = set->dir = NULL;
}

void cap_outset_discard(cap_outset *set)
{
    exclusive_enter();
    discard_in_section(set);
    exclusive_leave();
}

cap_status cap_outset_finish(cap_outset *set, cap_status rc, cap_status plot_rc,
                             const char *const *owned, cap_diag *diag)
{
    if (rc != CAP_OK) {
        cap_outset_discard(set);
        return rc;
    }
    rc = cap_outset_publish(set, owned, diag);
    return rc != CAP_OK ? rc : plot_rc;
}

int cap_infile_open(const char *path, struct stat *info)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int flags = fcntl(fd, F_GETFL);
    if (fstat(fd, info) != 0 || flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        int error = errno;
        close(fd);
        errno = error;
        return -1;
    }
    return fd;
}
