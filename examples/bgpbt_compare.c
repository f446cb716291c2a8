/* examples/bgpbt_compare.c - the comparison experiment: methods x tasks x seeds at an equal
   env-step budget per run; writes a results table (mean +- standard error of the final return),
   the raw results and learning curves.

   cc -O2 -march=native -fopenmp -std=c99 examples/bgpbt_compare.c -o bgpbt_compare -lm
   ./bgpbt_compare --tasks hopper,reacher --seeds 3 --budget 2000000

   Options: --tasks a,b,...   built-in tasks (default ant,halfcheetah,hopper,reacher)
            --methods a,b,... bgpbt,pb2,pbt,random (default all four)
            --seeds N         seeds 1..N (default 3)
            --budget N        env steps per run, everything included: all agents, BG-PBT's
                              initial configurations and its distillation (default 2000000)
            --pop B           population size (default 8)
            --out PREFIX      (default "compare_out/")
   Every run checkpoints; rerunning the same command skips finished runs and resumes the one
   that was interrupted. The final return of a run is the evaluation return of the best member
   of its final population. Output: PREFIXresults.md, PREFIXresults.csv, PREFIX<task>_curves.svg,
   and each run's files under PREFIX<task>_<method>_s<seed>_. */
#define BGPBT_IMPLEMENTATION
#include "../bgpbt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(_WIN32)
#  include <direct.h>
#  define bgpbt_example_mkdir(p) _mkdir(p)
#else
#  include <sys/stat.h>
#  define bgpbt_example_mkdir(p) mkdir(p, 0755)
#endif

#define MAXL 16
#define GRID 50

static int split(char* s, char** out, int max) {
    int n = 0;
    char* p = strtok(s, ",");
    while (p && n < max) { out[n++] = p; p = strtok(NULL, ","); }
    return n;
}

static void configure(bgpbt_pbt_run_config* rc, int method, int pop, uint64_t seed, long long budget) {
    bgpbt_pbt_config* c = &rc->pbt;
    long long per_agent = budget / pop;
    c->method = method;
    c->pop_size = pop;
    c->seed = seed;
    c->n_init = 2 * pop;
    c->n_arch_candidates = 2 * pop;
    c->max_steps = per_agent;
    c->max_total_steps = budget;       /* the binding, equal budget */
    c->t_ready = per_agent / 20;
    c->patience = 5;
    c->distill_every = per_agent / 3;
    c->distill_budget = per_agent / 5;
    c->n_hp = 9;
    c->hp[0] = bgpbt_pbt_param_make("lr", BGPBT_PBT_FLOAT, 1e-4, 3e-3, 1);
    c->hp[1] = bgpbt_pbt_param_make("gamma", BGPBT_PBT_FLOAT, 0.9, 0.9999, 1);
    c->hp[2] = bgpbt_pbt_param_make("entropy_cost", BGPBT_PBT_FLOAT, 1e-6, 1e-2, 1);
    c->hp[3] = bgpbt_pbt_param_make("unroll_length", BGPBT_PBT_INT, 5, 15, 0);
    c->hp[4] = bgpbt_pbt_param_make("log2_batch_size", BGPBT_PBT_INT, 3, 6, 0);
    c->hp[5] = bgpbt_pbt_param_make("num_update_epochs", BGPBT_PBT_INT, 2, 8, 1);
    c->hp[6] = bgpbt_pbt_param_make("reward_scaling", BGPBT_PBT_FLOAT, 0.1, 10, 1);
    c->hp[7] = bgpbt_pbt_param_make("gae_lambda", BGPBT_PBT_FLOAT, 0.9, 1.0, 0);
    c->hp[8] = bgpbt_pbt_param_make("clip_epsilon", BGPBT_PBT_FLOAT, 0.1, 0.4, 0);
    c->n_arch = 4;
    c->arch[0] = bgpbt_pbt_param_make("policy_layers", BGPBT_PBT_INT, 1, 4, 0);
    c->arch[1] = bgpbt_pbt_param_make("policy_log2_width", BGPBT_PBT_INT, 4, 6, 0);
    c->arch[2] = bgpbt_pbt_param_make("value_layers", BGPBT_PBT_INT, 1, 4, 0);
    c->arch[3] = bgpbt_pbt_param_make("value_log2_width", BGPBT_PBT_INT, 4, 6, 0);
    c->default_arch[0] = 2; c->default_arch[1] = 5; c->default_arch[2] = 2; c->default_arch[3] = 6;
    c->logger.fn = bgpbt_log_stderr;
    rc->agent.num_envs = 32;
    rc->agent.eval_episodes = 16;
    rc->agent.env_threads = 1;
    rc->agent.hparams.num_minibatches = 4;
    rc->progress = 0;
    rc->resume = 1;
    rc->plots_every = 1000000;
}

/* The best return of each training or init round against the run's env steps, from its CSV. */
static int read_curve(const char* path, double* xs, double* ys, int max) {
    FILE* f = fopen(path, "r");
    char line[8192];
    int n = 0, last_round = -1;
    if (!f) return 0;
    if (!fgets(line, sizeof line, f)) { fclose(f); return 0; }
    while (fgets(line, sizeof line, f)) {
        char* col[17];
        int k = 0;
        char* p = line;
        while (k < 17 && p) { col[k++] = p; p = strchr(p, ','); if (p) *p++ = 0; }
        if (k < 16) continue;
        if (!strcmp(col[1], "distill") || atoi(col[10])) continue;
        {
            int round = atoi(col[0]);
            double x = atof(col[13]), y = atof(col[15]);
            if (round != last_round) {
                if (n == max) break;
                xs[n] = x; ys[n] = y; n++;
                last_round = round;
            } else if (y > ys[n - 1]) {
                ys[n - 1] = y;
            }
        }
    }
    fclose(f);
    return n;
}

int main(int argc, char** argv) {
    char tasks_s[512] = "ant,halfcheetah,hopper,reacher", methods_s[256] = "bgpbt,pb2,pbt,random";
    char* tasks[MAXL];
    char* methods[MAXL];
    const char* out = "compare_out/";
    int nt, nm, seeds = 3, pop = 8, ti, mi, si, i;
    long long budget = 2000000;
    static double final_ret[MAXL][MAXL][16];
    static double curve[MAXL][GRID];
    static int curve_n[MAXL][GRID];
    char path[1200];
    FILE* md;
    FILE* csv;
    double t_start = bgpbt_time_seconds();
    for (i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--tasks") && i + 1 < argc) snprintf(tasks_s, sizeof tasks_s, "%s", argv[++i]);
        else if (!strcmp(argv[i], "--methods") && i + 1 < argc) snprintf(methods_s, sizeof methods_s, "%s", argv[++i]);
        else if (!strcmp(argv[i], "--seeds") && i + 1 < argc) seeds = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--budget") && i + 1 < argc) budget = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--pop") && i + 1 < argc) pop = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else { fprintf(stderr, "unknown option '%s'\n", argv[i]); return 2; }
    }
    if (seeds < 1 || seeds > 16 || pop < 2) { fprintf(stderr, "seeds must be in 1..16 and pop >= 2\n"); return 2; }
    nt = split(tasks_s, tasks, MAXL);
    nm = split(methods_s, methods, MAXL);
    if (out[0] && out[strlen(out) - 1] == '/') {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s", out);
        dir[strlen(dir) - 1] = 0;
        (void)bgpbt_example_mkdir(dir);
    }
    snprintf(path, sizeof path, "%.900sresults.csv", out);
    csv = fopen(path, "w");
    if (!csv) { fprintf(stderr, "cannot write %s\n", path); return 1; }
    fprintf(csv, "task,method,seed,final_return,total_steps,rounds,seconds\n");
    for (ti = 0; ti < nt; ++ti) {
        memset(curve, 0, sizeof curve);
        memset(curve_n, 0, sizeof curve_n);
        for (mi = 0; mi < nm; ++mi) {
            int method = !strcmp(methods[mi], "pb2") ? BGPBT_PBT_METHOD_PB2 : !strcmp(methods[mi], "pbt") ? BGPBT_PBT_METHOD_PBT
                       : !strcmp(methods[mi], "random") ? BGPBT_PBT_METHOD_RANDOM : BGPBT_PBT_METHOD_BGPBT;
            for (si = 0; si < seeds; ++si) {
                bgpbt_pbt_run_config rc = bgpbt_pbt_run_config_default();
                bgpbt_pbt_run_result res;
                char prefix[1100];
                double xs[4096], ys[4096];
                int n, g, k;
                bgpbt_result r;
                configure(&rc, method, pop, (uint64_t)(si + 1), budget);
                rc.agent.task = tasks[ti];
                snprintf(prefix, sizeof prefix, "%.900s%.60s_%.20s_s%d_", out, tasks[ti], methods[mi], si + 1);
                rc.out_prefix = prefix;
                r = bgpbt_pbt_run(&rc, &res);
                if (r != BGPBT_OK) { fprintf(stderr, "%s: %s\n", prefix, bgpbt_result_string(r)); return 1; }
                final_ret[ti][mi][si] = res.best_return;
                fprintf(csv, "%s,%s,%d,%.6g,%lld,%d,%.1f\n", tasks[ti], methods[mi], si + 1, res.best_return, res.total_steps,
                        res.rounds, res.seconds);
                fflush(csv);
                printf("%-12s %-7s seed %d: final return %9.4g  (%lld env steps, %d rounds, %.0f s; elapsed %.0f s)\n", tasks[ti],
                       methods[mi], si + 1, res.best_return, res.total_steps, res.rounds, res.seconds, bgpbt_time_seconds() - t_start);
                fflush(stdout);
                /* learning curve on a grid of the budget (the last value held) */
                snprintf(path, sizeof path, "%.1100slog.csv", prefix);
                n = read_curve(path, xs, ys, 4096);
                for (g = 0, k = 0; g < GRID && n > 0; ++g) {
                    double x = (double)budget * (g + 1) / GRID;
                    while (k + 1 < n && xs[k + 1] <= x) k++;
                    if (xs[k] <= x) { curve[mi][g] += ys[k]; curve_n[mi][g]++; }
                }
            }
        }
        { /* the task's curves */
            static double gx[MAXL][GRID], gy[MAXL][GRID];
            bgpbt_plot_series se[MAXL];
            bgpbt_plot_panel pn;
            char title[256];
            memset(se, 0, sizeof se);
            for (mi = 0; mi < nm; ++mi) {
                int g, m = 0;
                for (g = 0; g < GRID; ++g)
                    if (curve_n[mi][g] == seeds) { gx[mi][m] = (double)budget * (g + 1) / GRID; gy[mi][m] = curve[mi][g] / seeds; m++; }
                se[mi].label = methods[mi];
                se[mi].x = gx[mi];
                se[mi].y = gy[mi];
                se[mi].n = m;
                se[mi].width = 2;
            }
            memset(&pn, 0, sizeof pn);
            snprintf(title, sizeof title, "%s: population best return per round, mean over %d seeds", tasks[ti], seeds);
            pn.title = title;
            pn.xlabel = "env steps of the run (all agents)";
            pn.ylabel = "return";
            pn.series = se;
            pn.n_series = nm;
            snprintf(path, sizeof path, "%.900s%.100s_curves.svg", out, tasks[ti]);
            bgpbt_svg_write_plots(path, NULL, &pn, 1, 760, 360, NULL);
        }
    }
    fclose(csv);
    snprintf(path, sizeof path, "%.900sresults.md", out);
    md = fopen(path, "w");
    if (!md) return 1;
    fprintf(md, "Final return (best member of the final population, deterministic evaluation), mean +- standard error over %d seeds; "
                "%lld env steps per run (all agents, initialisation and distillation included), population %d.\n\n| task |", seeds, budget, pop);
    for (mi = 0; mi < nm; ++mi) fprintf(md, " %s |", methods[mi]);
    fprintf(md, "\n|---|");
    for (mi = 0; mi < nm; ++mi) fprintf(md, "---|");
    fprintf(md, "\n");
    for (ti = 0; ti < nt; ++ti) {
        fprintf(md, "| %s |", tasks[ti]);
        for (mi = 0; mi < nm; ++mi) {
            double m = 0, v = 0;
            for (si = 0; si < seeds; ++si) m += final_ret[ti][mi][si];
            m /= seeds;
            for (si = 0; si < seeds; ++si) v += (final_ret[ti][mi][si] - m) * (final_ret[ti][mi][si] - m);
            v = seeds > 1 ? sqrt(v / (seeds - 1) / seeds) : 0;
            fprintf(md, " %.4g +- %.2g |", m, v);
        }
        fprintf(md, "\n");
    }
    fclose(md);
    printf("wrote %sresults.md, %sresults.csv and the curves (%.0f s)\n", out, out, bgpbt_time_seconds() - t_start);
    return 0;
}
