/* tests/test.h - the dependency-free test runner.

   tests/run.sh compiles every tests/test_*.c into ONE program per build configuration: it
   generates a file that defines BGPBT_IMPLEMENTATION, includes bgpbt.h and this file, then
   #includes each tests/test_<suite>.c and calls its `void suite_<suite>(void)`. So:
     - a suite file defines `void suite_<name>(void)` that calls RUN(test_fn) for each test;
     - every static name in a suite file starts with the suite's name (one translation unit);
     - slow tests begin with `if (test_skip_slow()) return;` (the sanitizer and variant builds
       run with --fast; the main build runs everything).
   Command line of the generated program: [--fast] [--verbose] [name-filter].

   The second half holds the scaffolding shared by the suites and the fuzz targets (log
   capture, the failing allocator, blob resealing, the stand-in agent). A program that wants
   only that half (tests/fuzz/) defines TEST_HELPERS_ONLY before including this file. */
#ifndef BGPBT_TEST_H
#define BGPBT_TEST_H
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#  define TEST_FN static __attribute__((unused))
#else
#  define TEST_FN static
#endif

#ifndef TEST_HELPERS_ONLY

static int test__passed, test__failed, test__skipped, test__fast, test__verbose;
static int test__current_failed, test__current_skipped;
static const char* test__filter;
static const char* test__current;

TEST_FN void test__fail(const char* file, int line, const char* what) {
    if (!test__current_failed) printf("FAIL %s\n", test__current);
    printf("  %s:%d: %s\n", file, line, what);
    fflush(stdout);
    test__current_failed = 1;
}

/* CHECK(cond): record a failure and go on. REQUIRE(cond): record and leave the test. */
#define CHECK(cond) do { if (!(cond)) test__fail(__FILE__, __LINE__, #cond); } while (0)
#define REQUIRE(cond) do { if (!(cond)) { test__fail(__FILE__, __LINE__, #cond); return; } } while (0)
#define CHECK_NEAR(a, b, tol) do { double test__a = (double)(a), test__b = (double)(b); \
    if (!(fabs(test__a - test__b) <= (double)(tol))) { char test__m[512]; \
        snprintf(test__m, sizeof test__m, "%s = %.9g, %s = %.9g, |diff| %.3g > %.3g", #a, test__a, #b, \
                 test__b, fabs(test__a - test__b), (double)(tol)); \
        test__fail(__FILE__, __LINE__, test__m); } } while (0)
#define CHECK_REL(a, b, rtol) CHECK_NEAR(a, b, (rtol) * fabs((double)(b)) + 1e-300)
#define CHECK_EQ_INT(a, b) do { long long test__a = (long long)(a), test__b = (long long)(b); \
    if (test__a != test__b) { char test__m[512]; \
        snprintf(test__m, sizeof test__m, "%s = %lld, expected %s = %lld", #a, test__a, #b, test__b); \
        test__fail(__FILE__, __LINE__, test__m); } } while (0)
/* CHECK_RESULT(expr, code): expr must return exactly this bgpbt_result */
#define CHECK_RESULT(expr, code) do { int test__r = (int)(expr); if (test__r != (int)(code)) { \
    char test__m[512]; snprintf(test__m, sizeof test__m, "%s returned %d (%s), expected %s", #expr, \
        test__r, bgpbt_result_string((bgpbt_result)test__r), #code); \
    test__fail(__FILE__, __LINE__, test__m); } } while (0)
#define CHECK_OK(expr) CHECK_RESULT(expr, BGPBT_OK)

TEST_FN int test_skip_slow(void) {
    if (test__fast) test__current_skipped = 1;
    return test__fast;
}
TEST_FN int test_is_fast(void) { return test__fast; }

TEST_FN void test__run(const char* name, void (*fn)(void)) {
    double t0;
    if (test__filter && !strstr(name, test__filter)) return;
    test__current = name;
    test__current_failed = 0;
    test__current_skipped = 0;
    t0 = bgpbt_time_seconds();
    fn();
    if (test__current_failed) test__failed++;
    else if (test__current_skipped) test__skipped++;
    else test__passed++;
    if (test__verbose || (!test__current_failed && bgpbt_time_seconds() - t0 > 5.0))
        printf("%s %s (%.2f s)\n", test__current_failed ? "FAIL" : test__current_skipped ? "skip" : "ok  ",
               name, bgpbt_time_seconds() - t0);
    fflush(stdout);
}
#define RUN(fn) test__run(#fn, fn)

TEST_FN void test_init(int argc, char** argv) {
    int i;
    for (i = 1; i < argc; ++i) {
        if (!strcmp(argv[i], "--fast")) test__fast = 1;
        else if (!strcmp(argv[i], "--verbose")) test__verbose = 1;
        else test__filter = argv[i];
    }
}
TEST_FN int test_finish(void) {
    printf("%d passed, %d failed, %d skipped\n", test__passed, test__failed, test__skipped);
    return test__failed ? 1 : 0;
}

#endif /* TEST_HELPERS_ONLY */

/* ---- shared scaffolding ------------------------------------------------------------------- */

/* A logger that counts messages and keeps the last one, for checking error reporting. */
typedef struct test_log_capture { int count; int last_code; char last[512]; } test_log_capture;
TEST_FN void test_log_capture_fn(bgpbt_log_level level, bgpbt_result code, const char* msg, void* user) {
    test_log_capture* c = (test_log_capture*)user;
    (void)level;
    c->count++;
    c->last_code = (int)code;
    snprintf(c->last, sizeof c->last, "%s", msg ? msg : "");
}

/* An allocator that fails the k-th allocation (k >= 1; 0 = never) and tracks live bytes. With
   persistent = 1 every allocation from the k-th on fails (SQLite's persistent mode). */
typedef struct test_failing_alloc {
    long count, fail_at, failed;
    int persistent;
    long long live_bytes;
    long live_blocks;
} test_failing_alloc;
TEST_FN void* test_failing_alloc_fn(size_t size, size_t align, void* user) {
    test_failing_alloc* f = (test_failing_alloc*)user;
    void* p;
    f->count++;
    if (f->fail_at && (f->count == f->fail_at || (f->persistent && f->count > f->fail_at))) {
        f->failed++;
        return NULL;
    }
    p = bgpbt_mem_alloc(NULL, size, align);
    if (p) { f->live_bytes += (long long)size; f->live_blocks++; }
    return p;
}
TEST_FN void test_failing_free_fn(void* p, size_t size, void* user) {
    test_failing_alloc* f = (test_failing_alloc*)user;
    if (!p) return;
    f->live_bytes -= (long long)size;
    f->live_blocks--;
    bgpbt_mem_free(NULL, p, size);
}
TEST_FN bgpbt_allocator test_failing_allocator(test_failing_alloc* f, long fail_at) {
    bgpbt_allocator a;
    memset(f, 0, sizeof *f);
    f->fail_at = fail_at;
    a.alloc = test_failing_alloc_fn;
    a.free = test_failing_free_fn;
    a.user = f;
    return a;
}

/* A whole file as a NUL-terminated buffer (malloc'd; NULL and *n = 0 when missing or unreadable). */
TEST_FN char* test_read_file(const char* path, size_t* n) {
    FILE* f = fopen(path, "rb");
    char* buf;
    long len;
    *n = 0;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    len = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = (char*)malloc((size_t)len + 1);
    if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len) { buf[len] = 0; *n = (size_t)len; }
    else { free(buf); buf = NULL; }
    fclose(f);
    return buf;
}
/* Remove every file a bgpbt_pbt_run with out_prefix `prefix` may have written. */
TEST_FN void test_remove_run(const char* prefix) {
    static const char* const names[] = {"log.csv", "returns.svg", "schedule.svg", "arch.svg", "checkpoint.bgpbt",
                                        "checkpoint.bgpbt.prev", "checkpoint.bgpbt.tmp", "best.agent"};
    char p[256];
    int i;
    for (i = 0; i < 8; ++i) { snprintf(p, sizeof p, "%s%s", prefix, names[i]); remove(p); }
}

/* Blob resealing. Every saved object sits in a container ([decl.io]) whose header and payload
   carry CRC-32s, so a damaged blob is refused at the checksum. To reach the checks behind it,
   test_seal_header recomputes the header CRC (after a test changed the kind or version), and
   test_reseal makes a whole blob consistent: magic, payload size and both CRCs, as a
   corrupt-but-consistent (or malicious) file would be. */
TEST_FN void test_put_u32(unsigned char* p, uint32_t v) {
    p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}
TEST_FN void test_seal_header(unsigned char* c) { test_put_u32(c + 28, bgpbt_crc32(0, c, 28)); }
/* reseal a blob in place; returns 0 (and changes nothing) if it is shorter than a header */
TEST_FN int test_reseal(unsigned char* c, size_t size) {
    uint64_t payload;
    int i;
    if (size < BGPBT_CONTAINER_HEADER_SIZE) return 0;
    memcpy(c, "BGPT", 4);
    payload = (uint64_t)(size - BGPBT_CONTAINER_HEADER_SIZE);
    for (i = 0; i < 8; ++i) c[16 + i] = (unsigned char)(payload >> (8 * i));
    test_put_u32(c + 24, bgpbt_crc32(0, c + BGPBT_CONTAINER_HEADER_SIZE, (size_t)payload));
    test_seal_header(c);
    return 1;
}

/* The stand-in agent for the population layer (bgpbt_pbt_agent_ops): a skill number that
   grows with training, an RNG and the first architecture choice. Create, destroy, clone, save
   and load are shared; the learning rule is the suite's (test_sagent_user.train; NULL: skill
   grows with the steps and hp[0]). ops.user may be NULL (defaults). Agents are allocated
   through user->allocator, so out-of-memory tests can fail them too. */
typedef struct test_sagent { double skill; bgpbt_rng rng; int arch0; } test_sagent;
typedef struct test_sagent_user test_sagent_user;
typedef bgpbt_result (*test_sagent_train_fn)(test_sagent_user* u, test_sagent* a, const test_sagent* teacher,
                                             const bgpbt_pbt_job* job, double* ret, long long* steps_run);
struct test_sagent_user {
    bgpbt_pbt_config cfg;       /* for learning rules that read the search space */
    int fail_id;                /* training this agent id fails (BGPBT_ERR_AGENT_FAILED); -1: none */
    bgpbt_allocator allocator;  /* zeroed: the default */
    test_sagent_train_fn train; /* NULL: the default rule */
};
TEST_FN const bgpbt_allocator* test_sagent_alloc(void* user) {
    return user ? &((test_sagent_user*)user)->allocator : NULL;
}
TEST_FN bgpbt_result test_sagent_create(void* user, const int* arch, const double* hp, uint64_t seed, void** out) {
    test_sagent* a = (test_sagent*)bgpbt_mem_alloc(test_sagent_alloc(user), sizeof *a, 8);
    if (!a) return BGPBT_ERR_OUT_OF_MEMORY;
    (void)hp;
    a->skill = 0.0;
    a->arch0 = arch ? arch[0] : 0;
    bgpbt_rng_init(&a->rng, seed, 3);
    *out = a;
    return BGPBT_OK;
}
TEST_FN void test_sagent_destroy(void* user, void* agent) { bgpbt_mem_free(test_sagent_alloc(user), agent, sizeof(test_sagent)); }
TEST_FN bgpbt_result test_sagent_clone(void* user, const void* src, uint64_t seed, void** out) {
    test_sagent* a = (test_sagent*)bgpbt_mem_alloc(test_sagent_alloc(user), sizeof *a, 8);
    if (!a) return BGPBT_ERR_OUT_OF_MEMORY;
    *a = *(const test_sagent*)src;
    bgpbt_rng_init(&a->rng, seed, 3);
    *out = a;
    return BGPBT_OK;
}
TEST_FN bgpbt_result test_sagent_train(void* user, void* agent, const void* teacher, const bgpbt_pbt_job* job, double* ret,
                                       long long* steps_run) {
    test_sagent_user* u = (test_sagent_user*)user;
    test_sagent* a = (test_sagent*)agent;
    if (u && job->agent == u->fail_id) return BGPBT_ERR_AGENT_FAILED;
    if (u && u->train) return u->train(u, a, (const test_sagent*)teacher, job, ret, steps_run);
    a->skill += 1e-4 * (double)job->steps * (1.0 + job->hp[0] * 1e3) + 0.1 * bgpbt_rng_double(&a->rng);
    *ret = a->skill;
    *steps_run = job->steps;
    return BGPBT_OK;
}
TEST_FN bgpbt_result test_sagent_save(void* user, const void* agent, void* buf, size_t cap, size_t* size) {
    (void)user;
    *size = sizeof(test_sagent);
    if (buf) {
        if (cap < sizeof(test_sagent)) return BGPBT_ERR_BUFFER_TOO_SMALL;
        memcpy(buf, agent, sizeof(test_sagent));
    }
    return BGPBT_OK;
}
TEST_FN bgpbt_result test_sagent_load(void* user, const void* data, size_t size, void** out) {
    test_sagent* a;
    if (size != sizeof(test_sagent)) return BGPBT_ERR_SIZE_MISMATCH;
    a = (test_sagent*)bgpbt_mem_alloc(test_sagent_alloc(user), sizeof *a, 8);
    if (!a) return BGPBT_ERR_OUT_OF_MEMORY;
    memcpy(a, data, sizeof *a);
    *out = a;
    return BGPBT_OK;
}
/* user may be NULL; otherwise set its fields (memset it first: fail_id -1 for none) */
TEST_FN bgpbt_pbt_agent_ops test_sagent_ops(test_sagent_user* user) {
    bgpbt_pbt_agent_ops o;
    memset(&o, 0, sizeof o);
    o.user = user;
    o.create = test_sagent_create;
    o.destroy = test_sagent_destroy;
    o.clone = test_sagent_clone;
    o.train = test_sagent_train;
    o.save = test_sagent_save;
    o.load = test_sagent_load;
    return o;
}
#endif
