/* tests/fuzz/make_seeds.c - writes the seed corpora of the fuzz targets (valid blobs).
   Run from the repository root after a format change, then commit the files:
       cc -O1 -I. tests/fuzz/make_seeds.c -o /tmp/make_seeds -lm && /tmp/make_seeds tests/fuzz */
#define BGPBT_IMPLEMENTATION
#include "bgpbt.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz_targets.h"

static const char* dir;

static void put(const char* sub, const char* name, const void* data, size_t n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/corpus_%s/%s", dir, sub, name);
    if (bgpbt_file_write_atomic(path, data, n) != BGPBT_OK) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
    printf("%s %lu bytes\n", path, (unsigned long)n);
}

typedef bgpbt_result (*fuzz_save_fn)(const void* obj, void* buf, size_t cap, size_t* size);
static void save_blob(fuzz_save_fn fn, const void* obj, const char* sub, const char* name) {
    size_t n = 0;
    void* b;
    if (fn(obj, NULL, 0, &n) != BGPBT_OK) exit(2);
    b = malloc(n);
    if (!b || fn(obj, b, n, &n) != BGPBT_OK) exit(3);
    put(sub, name, b, n);
    free(b);
}
#define SAVE(fn, obj, sub, name) save_blob((fuzz_save_fn)(void (*)(void))fn, obj, sub, name)

int main(int argc, char** argv) {
    int i, method;
    dir = argc > 1 ? argv[1] : "tests/fuzz";
    { /* MLP: fresh, and after an Adam step */
        bgpbt_mlp_config c = fuzz_mlp_config();
        bgpbt_mlp* m;
        float x[3] = {0.1f, -0.2f, 0.3f}, y[2], dy[2] = {1, -1};
        bgpbt_adam_config ad = bgpbt_adam_config_default();
        if (bgpbt_mlp_create(&c, &m) != BGPBT_OK) return 1;
        SAVE(bgpbt_mlp_save, m, "mlp", "fresh");
        bgpbt_mlp_forward(m, x, 1, y, 1);
        bgpbt_mlp_backward(m, dy, 1, NULL);
        bgpbt_mlp_adam_step(m, &ad);
        SAVE(bgpbt_mlp_save, m, "mlp", "adam1");
        bgpbt_mlp_destroy(m);
    }
    { /* agent: fresh, and after one short training call */
        bgpbt_agent_config c = fuzz_agent_config();
        bgpbt_agent* a;
        if (bgpbt_agent_create(&c, &a) != BGPBT_OK) return 1;
        SAVE(bgpbt_agent_save, a, "agent", "fresh");
        if (bgpbt_agent_train(a, 20) != BGPBT_OK) return 1;
        SAVE(bgpbt_agent_save, a, "agent", "trained");
        bgpbt_agent_destroy(a);
    }
    for (method = 0; method < 4; ++method) { /* scheduler state after 0, 1 and 3 rounds */
        static const char* const names[4] = {"bgpbt", "pb2", "pbt", "random"};
        bgpbt_pbt_config c = fuzz_pbt_config(method);
        bgpbt_pbt* s;
        int round;
        if (bgpbt_pbt_create(&c, &s) != BGPBT_OK) return 1;
        for (round = 0; round <= 3; ++round) {
            char name[64];
            const bgpbt_pbt_round* r;
            if (round != 2) {
                snprintf(name, sizeof name, "%s_round%d", names[method], round);
                SAVE(bgpbt_pbt_save, s, "pbt", name);
            }
            if (bgpbt_pbt_ask(s, &r) != BGPBT_OK || r->n_jobs == 0) break;
            for (i = 0; i < r->n_jobs; ++i)
                bgpbt_pbt_tell(s, i, 0.1 * i + 0.01 * round + r->jobs[i].hp[0], r->jobs[i].steps, 0);
        }
        bgpbt_pbt_destroy(s);
    }
    for (method = 0; method < 4; method += 2) { /* a run checkpoint of synthetic agents */
        bgpbt_pbt_agent_ops ops = fuzz_sops();
        bgpbt_pbt_run_config rc = bgpbt_pbt_run_config_default();
        bgpbt_pbt_run_result res;
        void* data;
        size_t n;
        char prefix[1100], path[1200];
        rc.pbt = fuzz_pbt_config(method);
        rc.ops = &ops;
        rc.threads = 1;
        rc.max_rounds = 2;
        rc.progress = 0;
        snprintf(prefix, sizeof prefix, "%s/seedrun_", dir);
        rc.out_prefix = prefix;
        if (bgpbt_pbt_run(&rc, &res) != BGPBT_OK) return 1;
        snprintf(path, sizeof path, "%scheckpoint.bgpbt", prefix);
        if (bgpbt_file_read(path, NULL, 1 << 24, &data, &n) != BGPBT_OK) return 1;
        put("run", method == 0 ? "bgpbt_round2" : "pbt_round2", data, n);
        bgpbt_mem_free(NULL, data, n);
        {
            static const char* const names[] = {"log.csv", "returns.svg", "schedule.svg", "arch.svg", "checkpoint.bgpbt",
                                                "checkpoint.bgpbt.prev", "best.agent"};
            for (i = 0; i < 7; ++i) { snprintf(path, sizeof path, "%s%s", prefix, names[i]); remove(path); }
        }
    }
    for (i = 0; i < bgpbt_task_count(); ++i) { /* every built-in task's MJCF */
        char name[64];
        size_t n = 0;
        char* buf;
        bgpbt_task_mjcf(bgpbt_task_name(i), NULL, 0, &n);
        buf = (char*)malloc(n + 1);
        if (!buf || bgpbt_task_mjcf(bgpbt_task_name(i), buf, n + 1, &n) != BGPBT_OK) return 1;
        snprintf(name, sizeof name, "task_%s.xml", bgpbt_task_name(i));
        put("mjcf", name, buf, strlen(buf));
        free(buf);
    }
    return 0;
}
