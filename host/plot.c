/* plot.c: run gnuplot on a script written beside its data (see plot.h). */
#define _POSIX_C_SOURCE 200809L
#include "plot.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "outfile.h"

/* Looked up on PATH here, not through system(): the shell's wait would hold SIGINT off. */
bool cap_plot_available(void)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/bin:/bin";
    for (const char *start = path;;) {
        const char *end = strchr(start, ':');
        size_t length = end ? (size_t)(end - start) : strlen(start);
        char candidate[4096];
        if (length > 0 && length + sizeof "/gnuplot" < sizeof candidate) {
            memcpy(candidate, start, length);
            memcpy(candidate + length, "/gnuplot", sizeof "/gnuplot");
            struct stat info;
            if (stat(candidate, &info) == 0 && S_ISREG(info.st_mode) &&
                access(candidate, X_OK) == 0)
                return true;
        }
        if (!end)
            return false;
        start = end + 1;
    }
}

void cap_plot_text(const char *text, char *buffer, size_t size)
{
    size_t used = 0;
    for (const char *p = text; *p; p++) {
        size_t width = *p == '\'' ? 2 : 1;
        if (used + width >= size)
            break;
        if (*p == '\'')
            buffer[used++] = '\'';
        buffer[used++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
    }
    buffer[used] = '\0';
}

/* Runs `gnuplot -e "outfile='TEMP'" SCRIPT` with `dir` as working folder, output silenced. */
static bool run_gnuplot(const char *dir, const char *script, const char *temp_png)
{
    char define[1024];
    snprintf(define, sizeof define, "outfile='%s'", temp_png);
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
        }
        if (chdir(dir) != 0)
            _exit(127);
        execlp("gnuplot", "gnuplot", "-e", define, script, (char *)NULL);
        _exit(127);
    }
    cap_outfile_track_child(pid);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ;
    cap_outfile_track_child(0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

cap_status cap_plot_render(cap_outset *set, const char *name, const char *body, cap_diag *diag)
{
    char script_name[256], png_name[256];
    snprintf(script_name, sizeof script_name, "%s.gp", name);
    snprintf(png_name, sizeof png_name, "%s.png", name);

    cap_outfile out;
    cap_status rc = cap_outset_open(set, &out, script_name, diag);
    if (rc != CAP_OK)
        return rc;
    fprintf(out.file,
            "# %s: drawn by capplan; run `gnuplot %s` in this folder to redraw %s\n"
            "if (!exists(\"outfile\")) outfile = '%s'\n"
            "set terminal pngcairo size 1000,620 font 'sans,10'\n"
            "set output outfile\n"
            "set grid\n"
            "set datafile separator ','\n"
            "%s\n",
            script_name, script_name, png_name, png_name, body);
    rc = cap_outfile_commit(&out, diag);
    if (rc != CAP_OK)
        return rc;
    if (!cap_plot_available()) {
        cap_diag_add(diag, "gnuplot not found: %s/%s not drawn (its data and script are there)",
                     set->dir, png_name);
        return CAP_OK;
    }
    /* gnuplot runs in the staging folder, beside the script and its data, and draws into
     * the PNG's temporary file (tracked, so an interrupt removes it). */
    rc = cap_outset_open(set, &out, png_name, diag);
    if (rc != CAP_OK)
        return rc;
    const char *temp_name = strrchr(out.temp_path, '/') + 1;
    if (!run_gnuplot(set->stage, script_name, temp_name)) {
        cap_diag_add(diag, "%s/%s: gnuplot failed to draw the plot", set->dir, png_name);
        cap_outfile_abort(&out);
        return CAP_ERR_RUNTIME;
    }
    return cap_outfile_commit(&out, diag);
}
