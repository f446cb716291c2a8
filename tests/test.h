/* tests/test.h - the dependency-free test runner.

   tests/run.sh compiles every tests/test_*.c into ONE program per build configuration: it
   generates a file that defines BGPBT_IMPLEMENTATION, includes bgpbt.h and this file, then
   #includes each tests/test_<suite>.c and calls its `void suite_<suite>(void)`. So:
     - a suite file defines `void suite_<name>(void)` that calls RUN(test_fn) for each test;
     - every static name in a suite file starts with the suite's name (one translation unit);
     - slow tests begin with `if (test_skip_slow()) return;` (the sanitizer and variant builds
       run with --fast; the main build runs everything).
   Command line of the generated program: [--fast] [--verbose] [name-filter]. */
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

/* A logger that counts messages and keeps the last one, for checking error reporting. */
typedef struct test_log_capture { int count; int last_code; char last[512]; } test_log_capture;
TEST_FN void test_log_capture_fn(bgpbt_log_level level, bgpbt_result code, const char* msg, void* user) {
    test_log_capture* c = (test_log_capture*)user;
    (void)level;
    c->count++;
    c->last_code = (int)code;
    snprintf(c->last, sizeof c->last, "%s", msg ? msg : "");
}

/* An allocator that fails the k-th allocation (k >= 1; 0 = never) and tracks live bytes. */
typedef struct test_failing_alloc { long count, fail_at; long long live_bytes; long live_blocks; } test_failing_alloc;
TEST_FN void* test_failing_alloc_fn(size_t size, size_t align, void* user) {
    test_failing_alloc* f = (test_failing_alloc*)user;
    void* p;
    f->count++;
    if (f->fail_at && f->count == f->fail_at) return NULL;
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
#endif
