/* mc_nocuda.c: the CUDA entry points of mc.h for a build without CUDA (compiled only when
 * CAPPLAN_CUDA is off; mc_cuda.cu provides them otherwise). No device is ever found. */
#include <stdio.h>
#include <string.h>

#include "mc_internal.h"

int cap_mc_cuda_load_libraries(char *error, int error_size)
{
    snprintf(error, (size_t)error_size, "mc: built without CUDA");
    return CAP_MC_ERR_BACKEND;
}

bool cap_mc_cuda_compiled(void)
{
    return false;
}

int cap_mc_cuda_probe(char *message, int message_size)
{
    if (message && message_size > 0)
        snprintf(message, (size_t)message_size, "built without CUDA");
    return 0;
}

int cap_mc_cuda_device_count(void)
{
    return 0;
}

int cap_mc_cuda_device_info(int index, cap_mc_device *device)
{
    (void)index;
    (void)device;
    return CAP_MC_ERR_BACKEND;
}

int cap_mc_backend_cuda_create(const cap_mc_model *model, const cap_mc_options *options,
                               cap_mc_backend **out, char *error, int error_size)
{
    (void)model;
    (void)options;
    *out = NULL;
    if (error && error_size > 0)
        snprintf(error, (size_t)error_size, "mc: this capplan was built without CUDA");
    return CAP_MC_ERR_BACKEND;
}

int cap_mc_cuda_time_rng(int64_t count, cap_mc_rng_rates *rates, char *error, int error_size)
{
    (void)count;
    memset(rates, 0, sizeof *rates);
    if (error && error_size > 0)
        snprintf(error, (size_t)error_size, "mc: this capplan was built without CUDA");
    return CAP_MC_ERR_BACKEND;
}

int cap_mc_cuda_cost_quantiles(const double *a, int64_t n, double lo, double hi,
                               cap_mc_scale_result *s, char *error, int error_size)
{
    (void)a, (void)n, (void)lo, (void)hi, (void)s;
    if (error && error_size > 0)
        snprintf(error, (size_t)error_size, "mc: this capplan was built without CUDA");
    return CAP_MC_ERR_BACKEND;
}
