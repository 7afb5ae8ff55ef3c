/* cmd_sensitivity.c: `capplan sensitivity`: shadow prices, reduced costs, ranging and a
 * tornado of the optimal plan (solver/sensitivity.h does the analysis).
 *
 * Prints the binding rows with the largest shadow prices, the offerings closest to
 * entering the plan and the tornado; --out writes sensitivity.csv (one row per constraint
 * row), reduced_costs.csv (one row per x[w,o,t] column), price_ranges.csv (one row per
 * offering and period: its price moved for every workload at once), sensitivity.json (all
 * of it, the plan's summary and the tornado) and tornado.png with its .dat and .gp. CSV cells hold
 * "inf"/"-inf" for unlimited ranges and nothing for unknown ones; JSON holds null for both.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "outfile.h"
#include "plot.h"
#include "report.h"
#include "scenario_load.h"
#include "sensitivity.h"

static const char sensitivity_usage[] =
    "usage: capplan sensitivity SCENARIO [options]\n"
    "What the optimal plan is worth at the margin: the shadow price of every constraint\n"
    "(USD per unit of its right-hand side), the reduced cost of every offering left out\n"
    "(USD per accelerator over the period) with its price range, right-hand-side ranges,\n"
    "and a tornado of the objective when each parameter group moves by a step.\n"
    "\n"
    "  -o, --out DIR            write sensitivity.csv, reduced_costs.csv, price_ranges.csv,\n"
    "                           sensitivity.json and tornado.png (with tornado.dat and\n"
    "                           tornado.gp) into DIR\n"
    "  -s, --tornado-step F     relative move of each group, 0 < F < 1 (default 0.2);\n"
    "                           0 skips the tornado\n"
    "  -i, --integer            whole units (MIP); duals then come from the LP with the\n"
    "                           unit counts fixed at the MIP's values\n"
    "      --mip-gap G          with -i: relative gap at which the MIP search stops\n"
    "                           (default 1e-4)\n"
    "      --time-limit S       stop each solve after S seconds (with -i: 60 by default)\n"
    "      --node-limit N       with -i: stop each MIP search after N nodes (the same\n"
    "                           plan on every run and machine)\n"
    "  -j, --json               print sensitivity.json to stdout instead of the tables\n"
    "      --top N              rows shown per table (default 20)\n"
    "      --threads N          tornado threads (default: OpenMP's)\n"
    "      --no-plots           do not run gnuplot\n"
    "  -q, --quiet              print nothing but errors\n"
    "  -h, --help               this text\n"
    "\n"
    "Signs: shadow_price = d(total cost)/d(rhs). A >= row (demand, commitment, min_share)\n"
    "has a price >= 0, a <= row (capacity, power, max_share, spot, budget) one <= 0: the\n"
    "value of one more accelerator or MW is minus its shadow price. Shares are fractions:\n"
    "one more percentage point of a share is worth a hundredth of its price.\n"
    "Exit codes: 0 done, 2 bad usage or invalid scenario, 3 infeasible, 1 runtime failure.\n";

typedef struct {
    const char *scenario_path, *out_dir;
    cap_sensitivity_options analysis;
    bool json, quiet, plots;
    int top;
} sensitivity_args;

static int parse_args(int argc, char **argv, sensitivity_args *args)
{
    static const struct option options[] = {{"out", required_argument, NULL, 'o'},
                                            {"tornado-step", required_argument, NULL, 's'},
                                            {"json", no_argument, NULL, 'j'},
                                            {"top", required_argument, NULL, 'N'},
                                            {"threads", required_argument, NULL, 'T'},
                                            {"no-plots", no_argument, NULL, 'P'},
                                            {"quiet", no_argument, NULL, 'q'},
                                            {"help", no_argument, NULL, 'h'},
                                            CAP_MIP_LONG_OPTIONS,
                                            {NULL, 0, NULL, 0}};
    memset(args, 0, sizeof *args);
    cap_sensitivity_options_init(&args->analysis);
    args->plots = true;
    args->top = 20;
    optind = 0;
    int c;
    int64_t n;
    while ((c = getopt_long(argc, argv, "o:s:ijqh", options, NULL)) != -1) {
        int solve_option = cap_parse_mip_option(c, optarg, &args->analysis.solve);
        if (solve_option != 0) {
            if (solve_option < 0)
                return 2;
            continue;
        }
        switch (c) {
        case 'o':
            args->out_dir = optarg;
            break;
        case 's':
            if (!cap_parse_double("--tornado-step", optarg, &args->analysis.tornado_step))
                return 2;
            if (args->analysis.tornado_step < 0 || args->analysis.tornado_step >= 1) {
                fprintf(stderr, "capplan sensitivity: --tornado-step must be in [0, 1)\n");
                return 2;
            }
            break;
        case 'j':
            args->json = true;
            break;
        case 'N':
            if (!cap_parse_int64("--top", optarg, 0, 1000000, &n))
                return 2;
            args->top = (int)n;
            break;
        case 'T':
            if (!cap_parse_int64("--threads", optarg, 1, 1024, &n))
                return 2;
            args->analysis.threads = (int)n;
            break;
        case 'P':
            args->plots = false;
            break;
        case 'q':
            args->quiet = true;
            break;
        case 'h':
            fputs(sensitivity_usage, stdout);
            return -1;
        default:
            fputs(sensitivity_usage, stderr);
            return 2;
        }
    }
    args->scenario_path = cap_one_scenario("sensitivity", argc, argv, optind, sensitivity_usage);
    if (!args->scenario_path)
        return 2;
    return 0;
}

/* ---- names and numbers ---------------------------------------------------------------- */

static const char *row_id(const cap_scenario *s, const cap_row_sensitivity *row)
{
    switch (row->kind) {
    case CAP_ROW_DEMAND:
    case CAP_ROW_SPOT:
        return s->workloads[row->a].id;
    case CAP_ROW_CAPACITY:
    case CAP_ROW_UNITS:
        return s->offerings[row->a].id;
    case CAP_ROW_MAX_SHARE:
    case CAP_ROW_MIN_SHARE:
    case CAP_ROW_COMMITMENT:
        return s->providers[row->a].id;
    case CAP_ROW_POWER:
        return s->regions[row->a].id;
    default:
        return "";
    }
}

static const char *period_id(const cap_scenario *s, int period)
{
    return period >= 0 ? s->periods[period].id : "";
}

/* ",value": inf and -inf spelled out, NAN left empty. */
static void csv_number(FILE *out, double value)
{
    if (isnan(value))
        fputs(",", out);
    else if (isinf(value))
        fputs(value > 0 ? ",inf" : ",-inf", out);
    else
        fprintf(out, ",%.17g", value);
}

/* ---- CSV files ------------------------------------------------------------------------ */

static void write_rows_csv(FILE *out, const cap_scenario *s, const cap_sensitivity *r)
{
    fputs("kind,id,period,activity,rhs,shadow_price,rhs_low,rhs_high,unit,binding,"
          "unmet_hours_price\n",
          out);
    for (int i = 0; i < r->row_count; i++) {
        const cap_row_sensitivity *row = &r->rows[i];
        fprintf(out, "%s,", cap_row_kind_name(row->kind));
        cap_csv_field(out, row_id(s, row));
        fputc(',', out);
        cap_csv_field(out, period_id(s, row->period));
        csv_number(out, row->activity);
        csv_number(out, row->rhs);
        csv_number(out, row->shadow_price);
        csv_number(out, row->rhs_low);
        csv_number(out, row->rhs_high);
        fprintf(out, ",%s,%d", cap_row_rhs_unit(row->kind), row->binding ? 1 : 0);
        csv_number(out, row->unmet_hours_price);
        fputc('\n', out);
    }
}

static void write_columns_csv(FILE *out, const cap_scenario *s, const cap_sensitivity *r)
{
    fputs("workload,offering,period,reduced_cost,price_low,price_high,accelerators,price,"
          "basic\n",
          out);
    for (int i = 0; i < r->column_count; i++) {
        const cap_column_sensitivity *col = &r->columns[i];
        cap_csv_field(out, s->workloads[col->w].id);
        fputc(',', out);
        cap_csv_field(out, s->offerings[col->o].id);
        fputc(',', out);
        cap_csv_field(out, s->periods[col->t].id);
        csv_number(out, col->reduced_cost);
        csv_number(out, col->price_low);
        csv_number(out, col->price_high);
        csv_number(out, col->accelerators);
        csv_number(out, col->price);
        fprintf(out, ",%d\n", col->basic ? 1 : 0);
    }
}

typedef void (*csv_writer)(FILE *out, const cap_scenario *s, const cap_sensitivity *r);

static cap_status write_csv(cap_outset *set, const char *name, csv_writer writer,
                            const cap_scenario *s, const cap_sensitivity *r, cap_diag *diag)
{
    cap_outfile out;
    cap_status rc = cap_outset_open(set, &out, name, diag);
    if (rc != CAP_OK)
        return rc;
    writer(out.file, s, r);
    return cap_outfile_commit(&out, diag);
}

static void write_offerings_csv(FILE *out, const cap_scenario *s, const cap_sensitivity *r)
{
    fputs("offering,period,price,price_low,price_high,accelerators,linked\n", out);
    for (int i = 0; i < r->offering_count; i++) {
        const cap_offering_sensitivity *os = &r->offerings[i];
        cap_csv_field(out, s->offerings[os->o].id);
        fputc(',', out);
        cap_csv_field(out, s->periods[os->t].id);
        csv_number(out, os->price);
        csv_number(out, os->price_low);
        csv_number(out, os->price_high);
        csv_number(out, os->accelerators);
        fprintf(out, ",%d\n", os->linked ? 1 : 0);
    }
}

/* ---- JSON ----------------------------------------------------------------------------- */

static json_t *rows_json(const cap_scenario *s, const cap_sensitivity *r)
{
    json_t *rows = json_array();
    for (int i = 0; i < r->row_count; i++) {
        const cap_row_sensitivity *row = &r->rows[i];
        json_t *item = json_object();
        json_object_set_new(item, "kind", json_string(cap_row_kind_name(row->kind)));
        json_object_set_new(item, "id", json_string(row_id(s, row)));
        json_object_set_new(item, "period",
                            row->period >= 0 ? json_string(period_id(s, row->period))
                                             : json_null());
        cap_json_set_number(item, "activity", row->activity);
        cap_json_set_number(item, "rhs", row->rhs);
        cap_json_set_number(item, "shadow_price", row->shadow_price);
        cap_json_set_number(item, "rhs_low", row->rhs_low);
        cap_json_set_number(item, "rhs_high", row->rhs_high);
        json_object_set_new(item, "unit", json_string(cap_row_rhs_unit(row->kind)));
        json_object_set_new(item, "binding", json_boolean(row->binding));
        if (r->max_served)
            cap_json_set_number(item, "unmet_hours_price", row->unmet_hours_price);
        json_array_append_new(rows, item);
    }
    return rows;
}

static json_t *columns_json(const cap_scenario *s, const cap_sensitivity *r)
{
    json_t *columns = json_array();
    for (int i = 0; i < r->column_count; i++) {
        const cap_column_sensitivity *col = &r->columns[i];
        json_t *item = json_object();
        json_object_set_new(item, "workload", json_string(s->workloads[col->w].id));
        json_object_set_new(item, "offering", json_string(s->offerings[col->o].id));
        json_object_set_new(item, "period", json_string(s->periods[col->t].id));
        cap_json_set_number(item, "reduced_cost", col->reduced_cost);
        cap_json_set_number(item, "price_low", col->price_low);
        cap_json_set_number(item, "price_high", col->price_high);
        cap_json_set_number(item, "accelerators", col->accelerators);
        cap_json_set_number(item, "price", col->price);
        json_object_set_new(item, "basic", json_boolean(col->basic));
        json_object_set_new(item, "linked", json_boolean(col->linked));
        json_array_append_new(columns, item);
    }
    return columns;
}

static json_t *offerings_json(const cap_scenario *s, const cap_sensitivity *r)
{
    json_t *offerings = json_array();
    for (int i = 0; i < r->offering_count; i++) {
        const cap_offering_sensitivity *os = &r->offerings[i];
        json_t *item = json_object();
        json_object_set_new(item, "offering", json_string(s->offerings[os->o].id));
        json_object_set_new(item, "period", json_string(s->periods[os->t].id));
        cap_json_set_number(item, "price", os->price);
        cap_json_set_number(item, "price_low", os->price_low);
        cap_json_set_number(item, "price_high", os->price_high);
        cap_json_set_number(item, "accelerators", os->accelerators);
        json_object_set_new(item, "linked", json_boolean(os->linked));
        json_array_append_new(offerings, item);
    }
    return offerings;
}

static json_t *tornado_json(const cap_sensitivity *r)
{
    json_t *tornado = json_object(), *bars = json_array();
    cap_json_set_number(tornado, "step", r->tornado_step);
    cap_json_set_number(tornado, "base_usd", r->base_cost);
    cap_json_set_number(tornado, "base_unmet_h100e_hours", r->base_unmet_hours);
    json_object_set_new(tornado, "impact_unit",
                        json_string(r->max_served ? "unmet H100e-hours" : "USD"));
    for (int i = 0; i < r->bar_count; i++) {
        const cap_tornado_bar *bar = &r->bars[i];
        json_t *item = json_object();
        json_object_set_new(item, "label", json_string(bar->label));
        json_object_set_new(item, "group", json_string(bar->group));
        json_object_set_new(item, "id", json_string(bar->id));
        cap_json_set_number(item, "cost_low_usd", bar->cost_low);
        cap_json_set_number(item, "cost_high_usd", bar->cost_high);
        cap_json_set_number(item, "unmet_low_h100e_hours", bar->unmet_low);
        cap_json_set_number(item, "unmet_high_h100e_hours", bar->unmet_high);
        json_object_set_new(item, "status_low", json_string(cap_plan_status_name(bar->status_low)));
        json_object_set_new(item, "status_high",
                            json_string(cap_plan_status_name(bar->status_high)));
        cap_json_set_number(item, "impact", bar->impact);
        json_object_set_new(item, "infeasible_side", json_boolean(isinf(bar->impact)));
        json_array_append_new(bars, item);
    }
    json_object_set_new(tornado, "bars", bars);
    return tornado;
}

static json_t *units_json(void)
{
    json_t *units = json_object();
    json_object_set_new(units, "shadow_price",
                        json_string("USD per unit of rhs: per H100e (demand, spot), per "
                                    "accelerator (capacity, units), per MW (power), per unit "
                                    "of share fraction (max_share, min_share; /100 per point), "
                                    "per USD (commitment, budget), per H100e-hour (served)"));
    json_object_set_new(units, "reduced_cost", json_string("USD per accelerator over the period"));
    json_object_set_new(units, "price", json_string("USD per accelerator-hour"));
    json_object_set_new(units, "unmet_hours_price",
                        json_string("unmet H100e-hours per unit of rhs (max_served phase 1)"));
    json_object_set_new(units, "null", json_string("unlimited (or unknown when ranging is false)"));
    return units;
}

static json_t *sensitivity_json(const cap_scenario *s, const cap_sensitivity *r, bool integer)
{
    json_t *root = json_object();
    json_object_set_new(root, "scenario", json_string(s->name));
    json_object_set_new(root, "status", json_string(cap_plan_status_name(r->status)));
    json_object_set_new(root, "mode", json_string(integer ? "mip" : "lp"));
    json_object_set_new(root, "note", r->note ? json_string(r->note) : json_null());
    if (r->diagnosis)
        json_object_set_new(root, "diagnosis", json_string(r->diagnosis));
    if (!r->plan)
        return root;
    cap_json_set_number(root, "objective_usd", r->plan->objective_usd);
    json_object_set_new(root, "ranging", json_boolean(r->ranging));
    json_object_set_new(root, "units", units_json());
    json_object_set_new(root, "rows", rows_json(s, r));
    json_object_set_new(root, "reduced_costs", columns_json(s, r));
    json_object_set_new(root, "price_ranges", offerings_json(s, r));
    json_object_set_new(root, "tornado", tornado_json(r));
    json_object_set_new(root, "summary", cap_report_summary(s, r->plan, integer));
    return root;
}

/* ---- tornado plot --------------------------------------------------------------------- */

enum { PLOT_BARS = 30 };

/* The bar's two sides in the objective's unit, relative to the base. */
static void bar_sides(const cap_sensitivity *r, const cap_tornado_bar *bar, double *low,
                      double *high)
{
    *low = r->max_served ? bar->unmet_low - r->base_unmet_hours : bar->cost_low - r->base_cost;
    *high = r->max_served ? bar->unmet_high - r->base_unmet_hours : bar->cost_high - r->base_cost;
}

static cap_status tornado_plot(cap_outset *set, const cap_sensitivity *r, cap_diag *diag)
{
    cap_outfile out;
    cap_status rc = cap_outset_open(set, &out, "tornado.dat", diag);
    if (rc != CAP_OK)
        return rc;
    fprintf(out.file, "# group,change_low,change_high (%s)\n",
            r->max_served ? "unmet H100e-hours" : "USD");
    int drawn = 0;
    for (int i = 0; i < r->bar_count && drawn < PLOT_BARS; i++) {
        const cap_tornado_bar *bar = &r->bars[i];
        double low, high;
        bar_sides(r, bar, &low, &high);
        if (!isfinite(low) || !isfinite(high) || bar->impact == 0.0)
            continue; /* infeasible sides and groups that change nothing stay in the JSON */
        for (const char *p = bar->label; *p; p++)
            fputc(*p == ',' || *p == '"' ? ';' : *p, out.file);
        fprintf(out.file, ",%.17g,%.17g\n", low, high);
        drawn++;
    }
    rc = cap_outfile_commit(&out, diag);
    if (rc != CAP_OK || drawn == 0)
        return rc;
    char body[2048];
    int percent = (int)lround(100.0 * r->tornado_step);
    const char *what = r->max_served ? "unmet demand" : "total cost";
    const char *unit = r->max_served ? "million H100e-hours" : "million USD";
    double base = (r->max_served ? r->base_unmet_hours : r->base_cost) / 1e6;
    snprintf(body, sizeof body,
             "set termoption noenhanced\n"
             "set title 'Tornado: %s when each group moves by -%d%% / +%d%% (base %.6g %s)'\n"
             "set xlabel 'change in %s (%s)'\n"
             "set yrange [%d.3:-0.7]\n"
             "set ytics nomirror\n"
             "set grid xtics\n"
             "set style fill solid 0.85 border -1\n"
             "set key top right\n"
             "plot 'tornado.dat' using ($2/2e6):0:(abs($2)/2e6):(0.35):ytic(1) "
             "with boxxyerror lc rgb '#4c72b0' title '-%d%%', \\\n"
             "     '' using ($3/2e6):0:(abs($3)/2e6):(0.35) with boxxyerror lc rgb '#dd8452' "
             "title '+%d%%'\n",
             what, percent, percent, base, unit, what, unit, drawn - 1, percent, percent);
    return cap_plot_render(set, "tornado", body, diag);
}

/* Everything `capplan sensitivity` may write into a folder (outfile.h: what a run does not
 * write is removed). */
static const char *const sensitivity_outputs[] = {
    "sensitivity.csv", "reduced_costs.csv", "price_ranges.csv", "sensitivity.json",
    "tornado.dat",     "tornado.gp",        "tornado.png",      NULL};

static cap_status write_outputs(const sensitivity_args *args, const cap_scenario *s,
                                const cap_sensitivity *r, json_t *root, cap_diag *diag)
{
    cap_outset set;
    cap_status rc = cap_outset_begin(&set, args->out_dir, diag);
    if (rc != CAP_OK)
        return rc;
    if (r->plan)
        rc = write_csv(&set, "sensitivity.csv", write_rows_csv, s, r, diag);
    if (rc == CAP_OK && r->plan)
        rc = write_csv(&set, "reduced_costs.csv", write_columns_csv, s, r, diag);
    if (rc == CAP_OK && r->plan)
        rc = write_csv(&set, "price_ranges.csv", write_offerings_csv, s, r, diag);
    if (rc == CAP_OK)
        rc = cap_report_write_json(&set, "sensitivity.json", root, diag);
    cap_status plot_rc =
        rc == CAP_OK && args->plots && r->bar_count > 0 ? tornado_plot(&set, r, diag) : CAP_OK;
    return cap_outset_finish(&set, rc, plot_rc, sensitivity_outputs, diag);
}

/* ---- terminal tables ------------------------------------------------------------------ */

/* "USD per <this>" for a row kind's shadow price. */
static const char *per_unit(cap_row_kind kind)
{
    switch (kind) {
    case CAP_ROW_CAPACITY:
    case CAP_ROW_UNITS:
        return "accelerator";
    case CAP_ROW_MAX_SHARE:
    case CAP_ROW_MIN_SHARE:
        return "unit of share";
    case CAP_ROW_SERVED:
        return "H100e-hour";
    default:
        return cap_row_rhs_unit(kind);
    }
}

static int by_abs_shadow(const void *left, const void *right)
{
    double a = fabs((*(const cap_row_sensitivity *const *)left)->shadow_price);
    double b = fabs((*(const cap_row_sensitivity *const *)right)->shadow_price);
    return (a < b) - (a > b);
}

static void format_range(double low, double high, char *buffer, size_t size)
{
    if (isnan(low) || isnan(high))
        snprintf(buffer, size, "-");
    else
        snprintf(buffer, size, "[%.4g, %.4g]", low, high);
}

static void print_rows(const cap_scenario *s, const cap_sensitivity *r, int top)
{
    const cap_row_sensitivity **sorted = malloc(((size_t)r->row_count + 1) * sizeof *sorted);
    if (!sorted)
        return;
    int count = 0;
    for (int i = 0; i < r->row_count; i++)
        if (fabs(r->rows[i].shadow_price) > 1e-9)
            sorted[count++] = &r->rows[i];
    qsort(sorted, (size_t)count, sizeof *sorted, by_abs_shadow);
    printf("\nconstraints that bind, largest |shadow price| first (%d of %d rows):\n", count,
           r->row_count);
    printf("  %-10s %-28s %-8s %12s %12s %14s  %-24s %s\n", "kind", "id", "period", "activity",
           "rhs", "shadow price", "unit", "rhs range");
    for (int i = 0; i < count && i < top; i++) {
        const cap_row_sensitivity *row = sorted[i];
        char usd[32], range[64], unit[40];
        cap_format_usd(row->shadow_price, usd, sizeof usd);
        format_range(row->rhs_low, row->rhs_high, range, sizeof range);
        snprintf(unit, sizeof unit, "USD per %s", per_unit(row->kind));
        printf("  %-10s %-28.28s %-8s %12.6g %12.6g %14s  %-24s %s\n", cap_row_kind_name(row->kind),
               row_id(s, row), period_id(s, row->period), row->activity, row->rhs, usd, unit,
               range);
    }
    free(sorted);
}

/* Closest to entering first; those no price brings in (price_low -inf) last. */
static int by_reduced_cost(const void *left, const void *right)
{
    const cap_column_sensitivity *x = *(const cap_column_sensitivity *const *)left;
    const cap_column_sensitivity *y = *(const cap_column_sensitivity *const *)right;
    bool x_never = x->price_low == -INFINITY, y_never = y->price_low == -INFINITY;
    if (x_never != y_never)
        return x_never - y_never;
    return (x->reduced_cost > y->reduced_cost) - (x->reduced_cost < y->reduced_cost);
}

static void print_columns(const cap_scenario *s, const cap_sensitivity *r, int top)
{
    const cap_column_sensitivity **sorted = malloc(((size_t)r->column_count + 1) * sizeof *sorted);
    if (!sorted)
        return;
    int count = 0;
    for (int i = 0; i < r->column_count; i++)
        if (!r->columns[i].basic && r->columns[i].reduced_cost > 1e-9)
            sorted[count++] = &r->columns[i];
    qsort(sorted, (size_t)count, sizeof *sorted, by_reduced_cost);
    printf("\nofferings left out, closest to entering first (%d columns):\n", count);
    printf("  %-18s %-32s %-8s %16s %10s %14s\n", "workload", "offering", "period",
           "USD/accelerator", "price/h", "enters below");
    for (int i = 0; i < count && i < top; i++) {
        const cap_column_sensitivity *col = sorted[i];
        char usd[32], below[32];
        cap_format_usd(col->reduced_cost, usd, sizeof usd);
        if (isfinite(col->price_low))
            snprintf(below, sizeof below, "%.4f", col->price_low);
        else
            snprintf(below, sizeof below, "%s", isnan(col->price_low) ? "-" : "never");
        printf("  %-18.18s %-32.32s %-8s %16s %10.4f %14s\n", s->workloads[col->w].id,
               s->offerings[col->o].id, s->periods[col->t].id, usd, col->price, below);
    }
    free(sorted);
}

/* How far the price may move, as a fraction of it, before the plan changes: the nearer end. */
static double price_room(const cap_offering_sensitivity *os)
{
    if (isnan(os->price_low) || isnan(os->price_high))
        return INFINITY;
    return fmin(os->price - os->price_low, os->price_high - os->price) / fmax(os->price, 1e-300);
}

static int by_price_room(const void *left, const void *right)
{
    double a = price_room(*(const cap_offering_sensitivity *const *)left);
    double b = price_room(*(const cap_offering_sensitivity *const *)right);
    return (a > b) - (a < b);
}

/* Offerings in the plan whose price is nearest to changing it. */
static void print_offerings(const cap_scenario *s, const cap_sensitivity *r, int top)
{
    const cap_offering_sensitivity **sorted =
        malloc(((size_t)r->offering_count + 1) * sizeof *sorted);
    if (!sorted)
        return;
    int count = 0;
    for (int i = 0; i < r->offering_count; i++)
        if (r->offerings[i].accelerators > 1e-9)
            sorted[count++] = &r->offerings[i];
    qsort(sorted, (size_t)count, sizeof *sorted, by_price_room);
    printf("\nofferings in the plan, the price range that keeps it, narrowest first (%d):\n",
           count);
    printf("  %-32s %-8s %14s %10s %12s %12s\n", "offering", "period", "accelerators", "price/h",
           "low", "high");
    for (int i = 0; i < count && i < top; i++) {
        const cap_offering_sensitivity *os = sorted[i];
        char low[32], high[32];
        snprintf(low, sizeof low, isnan(os->price_low) ? "-" : "%.4f", os->price_low);
        snprintf(high, sizeof high, isnan(os->price_high) ? "-" : "%.4f", os->price_high);
        printf("  %-32.32s %-8s %14.0f %10.4f %12s %12s%s\n", s->offerings[os->o].id,
               s->periods[os->t].id, os->accelerators, os->price, low, high,
               os->linked ? "  (linked)" : "");
    }
    free(sorted);
}

static void print_tornado(const cap_sensitivity *r, int top)
{
    if (r->bar_count == 0)
        return;
    int percent = (int)lround(100.0 * r->tornado_step);
    printf("\ntornado: each group at -%d%% and +%d%%, largest swing of %s first:\n", percent,
           percent, r->max_served ? "unmet demand (max_served)" : "total cost");
    printf("  %-36s %16s %16s %16s\n", "group", r->max_served ? "low unmet h" : "low USD",
           r->max_served ? "high unmet h" : "high USD",
           r->max_served ? "swing unmet h" : "swing USD");
    for (int i = 0; i < r->bar_count && i < top; i++) {
        const cap_tornado_bar *bar = &r->bars[i];
        char low[32], high[32], swing[32];
        if (r->max_served) {
            snprintf(low, sizeof low, "%.6g", bar->unmet_low);
            snprintf(high, sizeof high, "%.6g", bar->unmet_high);
            snprintf(swing, sizeof swing, "%.6g", bar->impact);
        } else {
            cap_format_usd(bar->cost_low, low, sizeof low);
            cap_format_usd(bar->cost_high, high, sizeof high);
            cap_format_usd(bar->impact, swing, sizeof swing);
        }
        printf("  %-36.36s %16s %16s %16s\n", bar->label,
               isnan(bar->cost_low) ? cap_plan_status_name(bar->status_low) : low,
               isnan(bar->cost_high) ? cap_plan_status_name(bar->status_high) : high,
               isinf(bar->impact) ? "infeasible" : swing);
    }
}

static void print_tables(const cap_scenario *s, const cap_sensitivity *r, int top)
{
    char usd[32];
    cap_format_usd(r->plan->objective_usd, usd, sizeof usd);
    printf("capplan sensitivity: %s: %s, total %s USD\n", s->name, cap_plan_status_name(r->status),
           usd);
    print_rows(s, r, top);
    print_columns(s, r, top);
    print_offerings(s, r, top);
    print_tornado(r, top);
}

/* ---- the command ---------------------------------------------------------------------- */

static int report(const sensitivity_args *args, const cap_scenario *s, const cap_sensitivity *r)
{
    int code = 0;
    if (!r->plan) {
        fprintf(stderr, "%s: the model is %s; nothing to analyse\n", args->scenario_path,
                cap_plan_status_name(r->status));
        if (r->diagnosis)
            fprintf(stderr, "these constraints cannot hold together:\n%s\n", r->diagnosis);
        code = r->status == CAP_PLAN_UNDEFINED ? 1 : 3;
    }
    if (r->note)
        fprintf(stderr, "note: %s\n", r->note);
    fflush(stdout);
    json_t *root = args->json || args->out_dir
                       ? sensitivity_json(s, r, args->analysis.solve.integer)
                       : NULL; /* built once for the terminal and the file */
    if (args->json) {
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
        fputc('\n', stdout);
    } else if (!args->quiet && r->plan) {
        print_tables(s, r, args->top);
    }
    if (args->out_dir) {
        cap_diag diag;
        cap_diag_init(&diag);
        fflush(stdout);
        cap_status rc = write_outputs(args, s, r, root, &diag);
        cap_diag_print(&diag, stderr);
        cap_diag_free(&diag);
        code = cap_outputs_done(args->out_dir, rc, code, !args->quiet && !args->json);
    }
    json_decref(root);
    return code;
}

int cap_cmd_sensitivity(int argc, char **argv)
{
    sensitivity_args args;
    int code = parse_args(argc, argv, &args);
    if (code != 0)
        return code < 0 ? 0 : code;
    cap_diag diag;
    cap_diag_init(&diag);
    cap_scenario *s = NULL;
    cap_sensitivity *result = NULL;
    code = cap_scenario_load(args.scenario_path, &s, &diag);
    if (code == CAP_OK)
        code = cap_sensitivity_analyze(s, &args.analysis, &result, &diag);
    cap_diag_print(&diag, stderr);
    cap_diag_free(&diag);
    if (code == CAP_OK)
        code = report(&args, s, result);
    cap_sensitivity_free(result);
    cap_scenario_free(s);
    return code;
}
