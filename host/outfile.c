/* outfile.c: whole-or-nothing output files (see outfile.h). */
#define _POSIX_C_SOURCE 200809L
#include "outfile.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Temporary paths still open, so a signal handler can unlink them. Fixed size: a
 * command never has more than a handful of outputs open at once. */
#define OPEN_MAX 64
static char *volatile open_temp_paths[OPEN_MAX];

static void track(char *path, char *untrack)
{
    for (int i = 0; i < OPEN_MAX; i++) {
        if (open_temp_paths[i] == untrack) {
            open_temp_paths[i] = path;
            return;
        }
    }
}

static volatile pid_t tracked_child;

void cap_outfile_track_child(pid_t child)
{
    tracked_child = child;
}

void cap_outfile_cleanup_signal(void)
{
    pid_t child = tracked_child;
    if (child > 0) {
        kill(child, SIGKILL);
        while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    for (int i = 0; i < OPEN_MAX; i++)
        if (open_temp_paths[i])
            unlink(open_temp_paths[i]);
}

void cap_outfile_track_temp(char *path)
{
    track(path, NULL);
}

void cap_outfile_untrack_temp(char *path)
{
    track(NULL, path);
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
                cap_diag_add(diag, "%s: cannot create folder: %s", path, strerror(errno));
                free(path);
                return CAP_ERR_RUNTIME;
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
    /* The rename would replace whatever holds the name: a device, a FIFO or a link too. */
    struct stat existing;
    if (lstat(out->final_path, &existing) == 0 && !S_ISREG(existing.st_mode)) {
        cap_diag_add(diag, "%s: exists and is not a regular file; not replaced", out->final_path);
        free(out->temp_path);
        out->temp_path = NULL;
        cap_outfile_abort(out);
        return CAP_ERR_INPUT;
    }
    int fd = mkstemp(out->temp_path);
    if (fd < 0) {
        cap_diag_add(diag, "%s: cannot create: %s", out->final_path, strerror(errno));
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
    track(out->temp_path, NULL);
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
    if (ok && rename(out->temp_path, out->final_path) != 0) {
        saved = errno;
        ok = false;
    }
    if (!ok) {
        cap_diag_add(diag, "%s: write failed: %s", out->final_path, strerror(saved));
        cap_outfile_abort(out);
        return CAP_ERR_RUNTIME;
    }
    track(NULL, out->temp_path);
    free(out->temp_path);
    free(out->final_path);
    out->temp_path = out->final_path = NULL;
    return CAP_OK;
}

void cap_outfile_abort(cap_outfile *out)
{
    if (out->file)
        fclose(out->file);
    out->file = NULL;
    if (out->temp_path) {
        track(NULL, out->temp_path);
        unlink(out->temp_path);
    }
    free(out->temp_path);
    free(out->final_path);
    out->temp_path = out->final_path = NULL;
}

cap_status cap_outfile_write_string(const char *dir, const char *name, const char *text,
                                    cap_diag *diag)
{
    cap_outfile out;
    cap_status status = cap_outfile_open(&out, dir, name, diag);
    if (status != CAP_OK)
        return status;
    fputs(text, out.file);
    return cap_outfile_commit(&out, diag);
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
