/* tests/test_prelude.h - included by the generated test program BEFORE bgpbt.h (tests/run.sh).

   It routes the implementation's file operations through the BGPBT_SYS_* seam ([doc.options])
   into counters, so a test can make file operations fail, SQLite test-VFS style:
       test_io_arm(k, persistent)   the k-th operation from now fails (persistent: and every
                                    one after it); test_io_disarm() stops failing.
   A failing call sets errno = EIO and returns what the real call returns on error (NULL, -1,
   a short read). Disarmed, every call goes straight to libc / POSIX. File operations happen
   on the calling thread only, so the counters need no locking. */
#ifndef BGPBT_TEST_PRELUDE_H
#define BGPBT_TEST_PRELUDE_H
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <errno.h>
#if !defined(_WIN32)
#  include <fcntl.h>
#  include <unistd.h>
#  include <sys/types.h>
#endif
#if defined(__GNUC__) || defined(__clang__)
#  define TEST_IO_FN static __attribute__((unused))
#else
#  define TEST_IO_FN static
#endif

#define TEST_IO_SEAM 1
enum { TEST_IO_FOPEN, TEST_IO_FREAD, TEST_IO_RENAME, TEST_IO_OPEN, TEST_IO_WRITE, TEST_IO_FSYNC, TEST_IO_LINK, TEST_IO_KINDS };
typedef struct test_io_state {
    long count;             /* operations since test_io_arm */
    long fail_at;           /* 0: never fail */
    int persistent;
    long failed;            /* operations failed since test_io_arm */
    long by_kind[TEST_IO_KINDS]; /* operations seen, per kind */
    int no_sync;            /* 1: a passing fsync returns at once (loops of thousands of writes
                               would wait on the disk; durability is not what they test) */
} test_io_state;
static test_io_state test_io;

TEST_IO_FN void test_io_arm(long k, int persistent) {
    int no_sync = test_io.no_sync;
    memset(&test_io, 0, sizeof test_io);
    test_io.no_sync = no_sync;
    test_io.fail_at = k;
    test_io.persistent = persistent;
}
TEST_IO_FN void test_io_disarm(void) { test_io.fail_at = 0; }
TEST_IO_FN int test_io__fails(int kind) {
    test_io.count++;
    test_io.by_kind[kind]++;
    if (test_io.fail_at > 0 && (test_io.count == test_io.fail_at || (test_io.persistent && test_io.count > test_io.fail_at))) {
        test_io.failed++;
        errno = EIO;
        return 1;
    }
    return 0;
}
TEST_IO_FN FILE* test_io_fopen(const char* path, const char* mode) {
    return test_io__fails(TEST_IO_FOPEN) ? NULL : fopen(path, mode);
}
TEST_IO_FN size_t test_io_fread(void* p, size_t size, size_t n, FILE* f) {
    return test_io__fails(TEST_IO_FREAD) ? 0 : fread(p, size, n, f);
}
TEST_IO_FN int test_io_rename(const char* from, const char* to) {
    return test_io__fails(TEST_IO_RENAME) ? -1 : rename(from, to);
}
#define BGPBT_SYS_FOPEN(path, mode) test_io_fopen(path, mode)
#define BGPBT_SYS_FREAD(p, size, n, f) test_io_fread(p, size, n, f)
#define BGPBT_SYS_RENAME(from, to) test_io_rename(from, to)
#if !defined(_WIN32)
TEST_IO_FN int test_io_open(const char* path, int flags, int mode) {
    return test_io__fails(TEST_IO_OPEN) ? -1 : open(path, flags, mode);
}
TEST_IO_FN ssize_t test_io_write(int fd, const void* p, size_t n) {
    return test_io__fails(TEST_IO_WRITE) ? -1 : write(fd, p, n);
}
TEST_IO_FN int test_io_fsync(int fd) {
    if (test_io__fails(TEST_IO_FSYNC)) return -1;
    return test_io.no_sync ? 0 : fsync(fd);
}
TEST_IO_FN int test_io_link(const char* from, const char* to) {
    return test_io__fails(TEST_IO_LINK) ? -1 : link(from, to);
}
#  define BGPBT_SYS_OPEN(path, flags, mode) test_io_open(path, flags, mode)
#  define BGPBT_SYS_WRITE(fd, p, n) test_io_write(fd, p, n)
#  define BGPBT_SYS_FSYNC(fd) test_io_fsync(fd)
#  define BGPBT_SYS_LINK(from, to) test_io_link(from, to)
#endif
#endif
