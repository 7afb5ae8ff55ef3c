/* export.c: MPS / LP export of the model through GLPK's writers (see export.h). */
#define _POSIX_C_SOURCE 200809L
#include "export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model.h"

static bool ends_with(const char *text, const char *suffix)
{
    size_t n = strlen(text), k = strlen(suffix);
    return n >= k && strcmp(text + n - k, suffix) == 0;
}

cap_status cap_model_export(const cap_scenario *s, bool integer, const char *path, cap_diag *diag)
{
    bool mps = ends_with(path, ".mps"), lp = ends_with(path, ".lp");
    if (!mps && !lp) {
        cap_diag_add(diag, "%s: export format must be .mps or .lp", path);
        return CAP_ERR_INPUT;
    }
    cap_model *m = NULL;
    glp_term_out(GLP_OFF); /* GLPK's writers announce themselves on stdout */
    cap_status rc = cap_model_build(s, integer, &m, diag);
    if (rc != CAP_OK)
        return rc;
    cap_model_name_all(m);
    if (s->objective == CAP_OBJECTIVE_MAX_SERVED) {
        /* The first of the two stages capplan solves (solve.c); the second, cost at that
         * optimum, needs the first's value, which no model file can state in advance. */
        cap_model_set_unmet_objective(m);
        glp_set_prob_name(m->lp, "capplan_max_served_stage_1");
        glp_set_obj_name(m->lp, "unmet_h100e_hours");
    }
    size_t size = strlen(path) + 16;
    char *temp = malloc(size);
    if (!temp) {
        cap_model_free(m);
        cap_diag_add(diag, "out of memory");
        return CAP_ERR_RUNTIME;
    }
    snprintf(temp, size, "%s.tmp-XXXXXX", path);
    /* The rename would replace whatever holds the name: a device, a FIFO or a link too. */
    struct stat existing;
    if (lstat(path, &existing) == 0 && !S_ISREG(existing.st_mode)) {
        cap_diag_add(diag, "%s: exists and is not a regular file; not replaced", path);
        free(temp);
        cap_model_free(m);
        return CAP_ERR_INPUT;
    }
    int fd = mkstemp(temp);
    if (fd < 0) {
        cap_diag_add(diag, "%s: cannot create: %s", path, strerror(errno));
        rc = CAP_ERR_RUNTIME;
    } else {
        fchmod(fd, 0644); /* as every other output */
        close(fd);
        int ret =
            mps ? glp_write_mps(m->lp, GLP_MPS_FILE, NULL, temp) : glp_write_lp(m->lp, NULL, temp);
        if (ret != 0 || rename(temp, path) != 0) {
            cap_diag_add(diag, "%s: write failed", path);
            unlink(temp);
            rc = CAP_ERR_RUNTIME;
        }
    }
    free(temp);
    cap_model_free(m);
    return rc;
}
