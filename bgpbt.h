/* bgpbt.h - v0.1.0 - Bayesian Generational Population-Based Training in one C header
   MIT or public domain, your choice (see end of file). No warranty implied.

   Do this:
       #define BGPBT_IMPLEMENTATION
   before you include this file in *one* C or C++ file to create the implementation.
   Every other file just includes "bgpbt.h".

   QUICK START

       #define BGPBT_IMPLEMENTATION
       #include "bgpbt.h"
       int main(void) {
           bgpbt_rng rng;
           bgpbt_rng_init(&rng, 42, 0);          // seed 42, stream 0
           printf("%s %f\n", bgpbt_version_string(), bgpbt_rng_normal(&rng));
           return 0;
       }

       cc -O2 -march=native -fopenmp main.c -lm      (-fopenmp is optional)

   WHAT IS INSIDE

   A CPU-only implementation of BG-PBT (Wan et al., AutoML-Conf 2022) and everything it needs,
   with no dependency beyond libc and libm (OpenMP optional). The layers, lowest first; a
   layer only ever calls the ones below it:

       core     result codes, allocator hooks, logger, RNG streams, arena, timer, OpenMP macro
       simd     one wide-float vocabulary over AVX-512 / AVX2+FMA / SSE2 / NEON / scalar
       io       CRC-32, byte streams, the checkpoint container, atomic file writes

   TABLE OF CONTENTS (search for the tag to jump)

       [doc.options]        compile-time options and the translation unit each belongs to
       [doc.determinism]    what is bit-identical and what agrees within a tolerance
       [doc.errors]         result codes and the logger
       [decl.core]          declarations, one section per layer, lowest first
       [decl.io]
       [impl.core]          implementation, in the same order
       [impl.simd]
       [impl.io]
       [license]

   [doc.options] COMPILE-TIME OPTIONS

   | option                 | default            | define it in             | effect                                      |
   |------------------------|--------------------|--------------------------|---------------------------------------------|
   | BGPBT_IMPLEMENTATION   | off                | exactly one file         | emit the implementation                     |
   | BGPBT_STATIC           | off                | every file that includes | all functions static (private to one file); |
   |                        |                    | (needs IMPLEMENTATION)   | use it when bgpbt.h lives in one file only  |
   | BGPBT_API              | extern             | every file               | decoration of public functions              |
   | BGPBT_NO_SIMD          | off                | the implementation file  | force the scalar path (width 1)             |
   | BGPBT_NO_OPENMP        | off                | the implementation file  | ignore OpenMP even when -fopenmp is given   |
   | BGPBT_MALLOC(size)     | malloc(size)       | the implementation file  | default allocator; define BGPBT_MALLOC and  |
   | BGPBT_FREE(ptr)        | free(ptr)          | the implementation file  | BGPBT_FREE together or neither (#error)     |
   | BGPBT_ASSERT(x)        | assert(x)          | the implementation file  | internal invariant checks                   |

   SIMD is chosen at compile time from the compiler's flags: AVX-512F (-mavx512f or
   -march=native on a machine that has it), else AVX2 with FMA (-mavx2 -mfma), else SSE2 (every
   x86-64), else NEON (AArch64), else scalar. There is no run-time CPU dispatch: build for the
   machine you run on. The public API never exposes the SIMD width, so files compiled with
   different flags can share one implementation file.

   [doc.determinism] DETERMINISM CONTRACT

   - Same build, same inputs, same seed: bit-identical results, for any OpenMP thread count and
     with OpenMP off. Work is split by output ownership (each thread writes its own
     environments, rows or agents) and every reduction runs in index order, never in thread
     order. Each environment, agent and optimiser draws from its own RNG stream, derived from
     (seed, stream id), so environment i at step t sees the same numbers whatever thread runs it.
   - Across SIMD widths (scalar, SSE2, AVX2, AVX-512): the element-wise vocabulary (add, mul,
     min, max, blend, the separate-rounding multiply-add) is bit-identical lane for lane. The
     transcendental approximations use the same polynomials on every width; they agree with
     the scalar reference within the bounds in [impl.simd] (a few ulp; the compiler may fuse a
     scalar multiply-add into an FMA). Reductions (sums, dot products, GEMM) sum in a different
     order per width and agree within a relative 1e-5 of the summed magnitudes.
   - -ffast-math is not supported (it breaks NaN checks and reduction order).
   - RNG streams are identical on every platform (integer arithmetic only), and the bulk
     normal generator pairs its uniforms in the same order on every SIMD width.

   [doc.errors] ERRORS AND THE LOGGER

   Every fallible function returns a bgpbt_result: BGPBT_OK (0) on success, a negative code
   otherwise; bgpbt_result_string() names it. Objects take an optional logger in their config:
   when set, every error also produces one human-readable sentence saying what was wrong
   (the argument, the value, the line of a file). The logger may be called from worker threads
   and must be reentrant. Bad input never crashes and never changes an object that already
   exists: a failed call leaves its target as it was.
*/

#ifndef BGPBT_H_INCLUDE
#define BGPBT_H_INCLUDE

#define BGPBT_VERSION_MAJOR 0
#define BGPBT_VERSION_MINOR 1
#define BGPBT_VERSION_PATCH 0
#define BGPBT_VERSION_STRING "0.1.0"

#include <stddef.h>
#include <stdint.h>

#ifndef BGPBT_API
#  if defined(BGPBT_STATIC) && (defined(__GNUC__) || defined(__clang__))
#    define BGPBT_API static __attribute__((unused))
#  elif defined(BGPBT_STATIC)
#    define BGPBT_API static
#  else
#    define BGPBT_API extern
#  endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ============================================================================================
   [decl.core] core: result codes, logger, allocator, RNG, timer, arena, threads
   ============================================================================================ */

/* One list generates the enum and bgpbt_result_string(), so the two never drift apart. */
#define BGPBT_RESULT_LIST(X)                                                                   \
    X(BGPBT_OK,                          0, "success")                                         \
    X(BGPBT_ERR_INVALID_ARGUMENT,       -1, "invalid argument")                                \
    X(BGPBT_ERR_OUT_OF_MEMORY,          -2, "out of memory")                                   \
    X(BGPBT_ERR_NOT_FINITE,             -3, "value is NaN or infinite")                        \
    X(BGPBT_ERR_SIZE_MISMATCH,          -4, "sizes or dimensions do not match")                \
    X(BGPBT_ERR_OUT_OF_RANGE,           -5, "value out of its allowed range")                  \
    X(BGPBT_ERR_EMPTY_RANGE,            -6, "empty or reversed range")                         \
    X(BGPBT_ERR_UNKNOWN_NAME,           -7, "unknown name")                                    \
    X(BGPBT_ERR_WRONG_ORDER,            -8, "call made in the wrong order")                    \
    X(BGPBT_ERR_BUFFER_TOO_SMALL,       -9, "buffer too small")                                \
    X(BGPBT_ERR_LIMIT,                 -10, "a size, count or depth exceeds a limit")          \
    X(BGPBT_ERR_NOT_POSITIVE_DEFINITE, -11, "matrix is not positive definite")                 \
    X(BGPBT_ERR_NOT_CONVERGED,         -12, "iteration did not converge")                      \
    X(BGPBT_ERR_UNSTABLE,              -13, "simulation state became non-finite or absurd")    \
    X(BGPBT_ERR_PARSE,                 -14, "syntax error in input text")                      \
    X(BGPBT_ERR_UNSUPPORTED,           -15, "input uses a feature this library does not support") \
    X(BGPBT_ERR_BAD_FORMAT,            -16, "not a bgpbt file, or a file of another kind")     \
    X(BGPBT_ERR_VERSION,               -17, "unsupported format version")                      \
    X(BGPBT_ERR_CHECKSUM,              -18, "checksum mismatch: the data is corrupt")          \
    X(BGPBT_ERR_TRUNCATED,             -19, "data is truncated")                               \
    X(BGPBT_ERR_IO,                    -20, "file input/output failed")                        \
    X(BGPBT_ERR_AGENT_FAILED,          -21, "agent training produced non-finite values")       \
    X(BGPBT_ERR_INTERNAL,              -22, "internal error (please report it)")

typedef enum bgpbt_result {
#define BGPBT__RESULT_ENUM(name, value, text) name = value,
    BGPBT_RESULT_LIST(BGPBT__RESULT_ENUM)
#undef BGPBT__RESULT_ENUM
    BGPBT_RESULT_MIN_ = -22
} bgpbt_result;

BGPBT_API const char* bgpbt_result_string(bgpbt_result code); /* never NULL */
BGPBT_API const char* bgpbt_version_string(void);              /* "0.1.0" */

/* Logger. The message is one sentence, valid only during the call. */
typedef enum bgpbt_log_level {
    BGPBT_LOG_ERROR = 0,
    BGPBT_LOG_WARN = 1,
    BGPBT_LOG_INFO = 2,
    BGPBT_LOG_DEBUG = 3
} bgpbt_log_level;

typedef void (*bgpbt_log_fn)(bgpbt_log_level level, bgpbt_result code, const char* message,
                             void* user);
typedef struct bgpbt_logger {
    bgpbt_log_fn fn; /* NULL: silent */
    void* user;
} bgpbt_logger;

/* A ready-made logger that prints "bgpbt: error: <message> (<code name>)" to stderr. */
BGPBT_API void bgpbt_log_stderr(bgpbt_log_level level, bgpbt_result code, const char* message,
                                void* user);

/* Allocator carried by every config. A zeroed struct means BGPBT_MALLOC / BGPBT_FREE.
   alloc must return memory aligned to `align` (a power of two, at most 4096) or NULL;
   free receives the size that was asked for. */
typedef struct bgpbt_allocator {
    void* (*alloc)(size_t size, size_t align, void* user);
    void (*free)(void* ptr, size_t size, void* user);
    void* user;
} bgpbt_allocator;

/* Allocate through an allocator (NULL or zeroed: the default). Returns NULL on failure, when
   size is 0, or when align is not a power of two up to 4096. */
BGPBT_API void* bgpbt_mem_alloc(const bgpbt_allocator* a, size_t size, size_t align);
BGPBT_API void bgpbt_mem_free(const bgpbt_allocator* a, void* ptr, size_t size);

/* RNG: xoshiro256** with streams. bgpbt_rng_init(seed, stream) derives a state by hashing both
   through splitmix64, so (seed, 0), (seed, 1), ... are independent generators: give every
   environment, agent and optimiser its own stream. The struct is plain data: copying it saves
   the state, and bgpbt_rng_get_state / bgpbt_rng_set_state move it through 4 integers. */
typedef struct bgpbt_rng {
    uint64_t s[4];
} bgpbt_rng;

BGPBT_API uint64_t bgpbt_mix64(uint64_t x); /* splitmix64 finaliser: a good 64-bit hash */
BGPBT_API void bgpbt_rng_init(bgpbt_rng* rng, uint64_t seed, uint64_t stream);
BGPBT_API uint64_t bgpbt_rng_u64(bgpbt_rng* rng);
BGPBT_API uint32_t bgpbt_rng_u32(bgpbt_rng* rng);
BGPBT_API uint32_t bgpbt_rng_below(bgpbt_rng* rng, uint32_t n);     /* [0, n), no modulo bias; 0 if n == 0 */
BGPBT_API float bgpbt_rng_float(bgpbt_rng* rng);                     /* [0, 1), 24 random bits */
BGPBT_API double bgpbt_rng_double(bgpbt_rng* rng);                   /* [0, 1), 53 random bits */
BGPBT_API double bgpbt_rng_uniform(bgpbt_rng* rng, double lo, double hi); /* [lo, hi) */
BGPBT_API double bgpbt_rng_normal(bgpbt_rng* rng);                   /* N(0,1), double precision */
BGPBT_API void bgpbt_rng_normals(bgpbt_rng* rng, float* out, size_t n); /* n x N(0,1), SIMD */
BGPBT_API void bgpbt_rng_permutation(bgpbt_rng* rng, int* out, int n);  /* uniform shuffle of 0..n-1 */
BGPBT_API void bgpbt_rng_get_state(const bgpbt_rng* rng, uint64_t state[4]);
/* Returns BGPBT_ERR_INVALID_ARGUMENT (and leaves rng as it was) for the all-zero state. */
BGPBT_API bgpbt_result bgpbt_rng_set_state(bgpbt_rng* rng, const uint64_t state[4]);

/* Monotonic wall-clock time in seconds, for progress lines and benchmarks. */
BGPBT_API double bgpbt_time_seconds(void);

/* Scratch arena: one block, bump allocation, reset to a mark. Nothing in a hot loop
   allocates; objects size an arena at creation and reuse it. */
typedef struct bgpbt_arena {
    unsigned char* base;
    size_t capacity;
    size_t used;
    bgpbt_allocator allocator;
} bgpbt_arena;

BGPBT_API bgpbt_result bgpbt_arena_init(bgpbt_arena* arena, const bgpbt_allocator* a, size_t capacity);
BGPBT_API void* bgpbt_arena_push(bgpbt_arena* arena, size_t size, size_t align); /* NULL when full */
BGPBT_API size_t bgpbt_arena_mark(const bgpbt_arena* arena);
BGPBT_API void bgpbt_arena_reset(bgpbt_arena* arena, size_t mark);
BGPBT_API void bgpbt_arena_free(bgpbt_arena* arena);

/* Threads: OpenMP when compiled with -fopenmp (and not BGPBT_NO_OPENMP), otherwise 1. */
BGPBT_API int bgpbt_max_threads(void);
BGPBT_API const char* bgpbt_simd_name(void); /* "avx512", "avx2", "sse2", "neon" or "scalar" */
BGPBT_API int bgpbt_simd_width(void);        /* floats per vector: 16, 8, 4, 4 or 1 */

/* ============================================================================================
   [decl.io] io: CRC-32, byte streams, checkpoint container, atomic files
   ============================================================================================ */

/* CRC-32 (IEEE 802.3, reflected 0xEDB88320). Chain calls: crc = bgpbt_crc32(crc, data, n),
   starting from 0. bgpbt_crc32(0, "123456789", 9) == 0xCBF43926. */
BGPBT_API uint32_t bgpbt_crc32(uint32_t crc, const void* data, size_t size);

/* Little-endian byte writer. With buf == NULL it only counts (pos is the size needed): every
   save function runs twice, once to size the buffer and once to fill it. Writing past cap
   sets `overflow` and writes nothing more. */
typedef struct bgpbt_writer {
    unsigned char* buf;
    size_t cap;
    size_t pos;
    int overflow;
} bgpbt_writer;

BGPBT_API void bgpbt_write_bytes(bgpbt_writer* w, const void* data, size_t size);
BGPBT_API void bgpbt_write_u32(bgpbt_writer* w, uint32_t v);
BGPBT_API void bgpbt_write_u64(bgpbt_writer* w, uint64_t v);
BGPBT_API void bgpbt_write_i32(bgpbt_writer* w, int32_t v);
BGPBT_API void bgpbt_write_f32(bgpbt_writer* w, float v);
BGPBT_API void bgpbt_write_f64(bgpbt_writer* w, double v);
BGPBT_API void bgpbt_write_f32s(bgpbt_writer* w, const float* v, size_t n);
BGPBT_API void bgpbt_write_f64s(bgpbt_writer* w, const double* v, size_t n);

/* Bounded reader. Reading past the end sets `failed`, returns zeros and reads nothing more,
   so a loader checks `failed` once at the end and never reads out of bounds. */
typedef struct bgpbt_reader {
    const unsigned char* buf;
    size_t size;
    size_t pos;
    int failed;
} bgpbt_reader;

BGPBT_API void bgpbt_read_bytes(bgpbt_reader* r, void* out, size_t size);
BGPBT_API uint32_t bgpbt_read_u32(bgpbt_reader* r);
BGPBT_API uint64_t bgpbt_read_u64(bgpbt_reader* r);
BGPBT_API int32_t bgpbt_read_i32(bgpbt_reader* r);
BGPBT_API float bgpbt_read_f32(bgpbt_reader* r);
BGPBT_API double bgpbt_read_f64(bgpbt_reader* r);
BGPBT_API void bgpbt_read_f32s(bgpbt_reader* r, float* out, size_t n);
BGPBT_API void bgpbt_read_f64s(bgpbt_reader* r, double* out, size_t n);
/* A count read from untrusted data: fails (sets `failed`, returns 0) if above max or if
   count * elem_size is more than the bytes left. Use it before allocating. */
BGPBT_API uint32_t bgpbt_read_count(bgpbt_reader* r, uint32_t max, size_t elem_size);

/* The container every saved object uses: a 32-byte header, then the payload.
     offset 0  "BGPT"        magic
            4  kind          four characters naming the object ("MLP ", "AGNT", "CKPT", ...)
            8  version       format version of that kind
           12  flags         0
           16  payload size  64-bit
           24  payload CRC-32
           28  header CRC-32 over bytes 0..27                                              */
#define BGPBT_CONTAINER_HEADER_SIZE 32
#define BGPBT_FOURCC(a, b, c, d) \
    ((uint32_t)(unsigned char)(a) | ((uint32_t)(unsigned char)(b) << 8) | \
     ((uint32_t)(unsigned char)(c) << 16) | ((uint32_t)(unsigned char)(d) << 24))

/* Reserve the header; write the payload; then bgpbt_container_end fills the sizes and CRCs. */
BGPBT_API void bgpbt_container_begin(bgpbt_writer* w, uint32_t kind, uint32_t version);
BGPBT_API void bgpbt_container_end(bgpbt_writer* w, size_t begin_pos);
/* Validate magic, kind, version (1..max_version), sizes and both CRCs; on success `payload`
   reads the payload and *version (if not NULL) is the file's version. Never reads beyond size. */
BGPBT_API bgpbt_result bgpbt_container_open(const void* data, size_t size, uint32_t kind,
                                            uint32_t max_version, uint32_t* version,
                                            bgpbt_reader* payload);

/* Write a file atomically: write "<path>.tmp", flush and fsync it, rename it over path, and
   fsync the directory (POSIX). A crash at any moment leaves either the old file or the new
   one, never a mix. */
BGPBT_API bgpbt_result bgpbt_file_write_atomic(const char* path, const void* data, size_t size);
/* Read a whole file (at most max_size bytes) into memory from the allocator; free it with
   bgpbt_mem_free(a, *data, *size). */
BGPBT_API bgpbt_result bgpbt_file_read(const char* path, const bgpbt_allocator* a, size_t max_size,
                                       void** data, size_t* size);

/* ---- [decl.io.plot] CSV and SVG line plots ---------------------------------------------------- */

/* Small text writers shared by the layers (added by the pbt layer): a growable text buffer,
   a CSV table writer, and an SVG line-plot writer with stacked panels. Files are written
   atomically (bgpbt_file_write_atomic). Non-finite values are written as "nan" in CSV and are
   gaps in plots. */
typedef struct bgpbt_text {
    char* data;     /* NUL-terminated */
    size_t len, cap;
    int failed;     /* an allocation failed: later appends are ignored */
    bgpbt_allocator allocator;
} bgpbt_text;

BGPBT_API void bgpbt_text_init(bgpbt_text* t, const bgpbt_allocator* a);
BGPBT_API void bgpbt_text_free(bgpbt_text* t);
BGPBT_API void bgpbt_text_append(bgpbt_text* t, const char* s);
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
BGPBT_API void bgpbt_text_printf(bgpbt_text* t, const char* fmt, ...);
/* Write the text to a file atomically; BGPBT_ERR_OUT_OF_MEMORY if an append had failed. */
BGPBT_API bgpbt_result bgpbt_text_write_file(const bgpbt_text* t, const char* path);

/* A numeric CSV table: a header line of column names, then rows x cols values (row-major),
   printed with %.9g. */
BGPBT_API bgpbt_result bgpbt_csv_write(const char* path, const char* const* columns, int cols,
                                       const double* values, int rows, const bgpbt_allocator* a);

/* Line plots. A figure is a column of panels sharing the figure width; each panel has its own
   axes and series. Axis ranges come from the data (a little padding; log axes need positive
   values, non-positive points are skipped). Colours are picked from a fixed palette when
   `color` is 0 (0xRRGGBB otherwise). */
typedef enum bgpbt_plot_style {
    BGPBT_PLOT_LINE = 0,   /* straight segments */
    BGPBT_PLOT_STEPS = 1,  /* piecewise constant: y holds until the next x (schedules) */
    BGPBT_PLOT_POINTS = 2  /* markers only */
} bgpbt_plot_style;

typedef struct bgpbt_plot_series {
    const char* label;   /* legend text; NULL: no legend entry */
    const double* x;
    const double* y;
    int n;
    uint32_t color;      /* 0xRRGGBB; 0: palette */
    int style;           /* bgpbt_plot_style */
    double width;        /* stroke width in px; 0: 1.5 */
} bgpbt_plot_series;

typedef struct bgpbt_plot_panel {
    const char* title;
    const char* xlabel;
    const char* ylabel;
    int log_y;           /* 1: logarithmic y axis */
    const bgpbt_plot_series* series;
    int n_series;
} bgpbt_plot_panel;

/* Write an SVG with the panels stacked vertically; width and panel_height in px (0: 720, 300). */
BGPBT_API bgpbt_result bgpbt_svg_write_plots(const char* path, const char* title,
                                             const bgpbt_plot_panel* panels, int n_panels,
                                             int width, int panel_height, const bgpbt_allocator* a);

/* ============================================================================================
   [decl.linalg] linalg: fp32 GEMM kernels (MLP) and fp64 Cholesky / triangular solves (GP)
   ============================================================================================ */

/* ---- [decl.linalg.gemm] fp32 GEMM ---------------------------------------------------------- */

/* ---- [decl.linalg.chol] fp64 Cholesky and triangular solves -------------------------------- */

/* Dense fp64 Cholesky for the Gaussian process. Matrices are row-major with a leading
   dimension (row stride) lda >= n; only the lower triangle (j <= i) is read or written, the
   strict upper triangle is left untouched. The factorisation is blocked (panels of 16
   columns, 4x4 register tiles of dot products on AVX2/AVX-512 fp64 vectors, a scalar path
   otherwise) and runs on OpenMP threads for n >= 128; every element is computed by the same
   code whatever the thread count, so results are bit-identical for any number of threads.

   bgpbt_linalg_cholesky: A = L L^T in place. BGPBT_ERR_NOT_POSITIVE_DEFINITE when a pivot is
     not positive and finite (the matrix is then partly overwritten), BGPBT_ERR_INVALID_ARGUMENT
     for n < 0 or lda < n.
   bgpbt_linalg_cholesky_jitter: copies A (lower triangle) into L and factors it; when that
     fails it retries with jitter * mean(diag(A)) added to the diagonal, jitter = 1e-9, 1e-8,
     ..., 1e-3 (GPy's relative escalation, started lower because we are in fp64). Refuses NaN or
     infinite entries (BGPBT_ERR_NOT_FINITE) before trying, and returns
     BGPBT_ERR_NOT_POSITIVE_DEFINITE (with a logged message) if even 1e-3 fails. *jitter_used
     (may be NULL) receives the absolute jitter added (0 when none was needed). a and l may be
     the same pointer only if lda == ldl, in which case a failed first attempt cannot retry:
     pass distinct buffers to get the escalation.
   bgpbt_linalg_solve_lower:   b <- L^{-1} b     (forward substitution)
   bgpbt_linalg_solve_lower_t: b <- L^{-T} b     (back substitution)
   bgpbt_linalg_lower_inverse: M <- L^{-T} (upper triangle of M written, strict lower zeroed),
     i.e. row i of M is column i of L^{-1}; n^3/3 flops, tiled like the factorisation. */
BGPBT_API bgpbt_result bgpbt_linalg_cholesky(double* a, int n, int lda);
BGPBT_API bgpbt_result bgpbt_linalg_cholesky_jitter(const double* a, int lda, double* l, int ldl,
                                                    int n, double* jitter_used,
                                                    const bgpbt_logger* logger);
BGPBT_API void bgpbt_linalg_solve_lower(const double* l, int ldl, int n, double* b);
BGPBT_API void bgpbt_linalg_solve_lower_t(const double* l, int ldl, int n, double* b);
BGPBT_API void bgpbt_linalg_lower_inverse(const double* l, int ldl, int n, double* m, int ldm);

/* ============================================================================================
   [decl.sim] sim: rigid-body model, MJCF subset loader, batched state and stepping
   ============================================================================================ */

/* ============================================================================================
   [decl.env] env: the environment interface, built-in tasks, vectorised environments, rendering
   ============================================================================================ */

/* An environment: observations and actions are float vectors; actions are in [-1, 1] (a task
   scales them to its actuators). Built-in tasks are created by name; a game brings its own world
   through the callbacks of a bgpbt_env_def. Either way it runs through the same vectorised API:
   N copies stepped together, automatic reset when an episode ends, one RNG stream per copy.

   A user environment: the vecenv allocates state_bytes of zeroed state per copy and calls
     reset(state, rng, obs, user)                        fill obs[obs_dim] for a fresh episode
     step(state, action, rng, obs, reward, terminated, user)
                                                         advance one step, fill obs[obs_dim],
                                                         *reward, *terminated (0/1)
   Truncation (the time limit) is the vecenv's job: max_episode_steps. Callbacks run on OpenMP
   worker threads (one environment is only ever touched by one thread at a time), so they must
   not share mutable state between copies except through `user`, read-only. */
typedef struct bgpbt_env_def {
    const char* name;
    int obs_dim;
    int act_dim;
    int max_episode_steps; /* 0: no time limit */
    size_t state_bytes;    /* per-copy state; 0 allowed */
    void* user;
    void (*reset)(void* state, bgpbt_rng* rng, float* obs, void* user);
    void (*step)(void* state, const float* action, bgpbt_rng* rng, float* obs, float* reward,
                 int* terminated, void* user);
} bgpbt_env_def;

typedef struct bgpbt_vecenv bgpbt_vecenv;

typedef struct bgpbt_vecenv_config {
    int num_envs;      /* default 16 */
    uint64_t seed;     /* copy i draws from stream (stream_base + i) of this seed */
    uint64_t stream_base;
    bgpbt_allocator allocator;
    bgpbt_logger logger;
} bgpbt_vecenv_config;

/* Statistics of the episodes that ended since the last call to bgpbt_vecenv_take_stats. */
typedef struct bgpbt_episode_stats {
    long episodes;
    double return_sum, return_sq_sum; /* of episode returns */
    double length_sum;                /* of episode lengths (steps) */
} bgpbt_episode_stats;

BGPBT_API bgpbt_vecenv_config bgpbt_vecenv_config_default(void);
/* A vecenv over a user-defined environment. The def is copied; `user` must outlive the vecenv. */
BGPBT_API bgpbt_result bgpbt_vecenv_create(const bgpbt_env_def* def, const bgpbt_vecenv_config* config,
                                           bgpbt_vecenv** out);
BGPBT_API void bgpbt_vecenv_destroy(bgpbt_vecenv* venv);
BGPBT_API int bgpbt_vecenv_num_envs(const bgpbt_vecenv* venv);
BGPBT_API int bgpbt_vecenv_obs_dim(const bgpbt_vecenv* venv);
BGPBT_API int bgpbt_vecenv_act_dim(const bgpbt_vecenv* venv);
/* Reset every copy to a fresh random initial state (drawn from its stream). */
BGPBT_API bgpbt_result bgpbt_vecenv_reset(bgpbt_vecenv* venv);
/* Step every copy with actions[num_envs][act_dim] (clipped to [-1, 1]; NaN is an error that
   changes nothing). Copies whose episode ended are reset at once: obs() then holds the first
   observation of the new episode and final_obs() the last observation of the old one. */
BGPBT_API bgpbt_result bgpbt_vecenv_step(bgpbt_vecenv* venv, const float* actions);
BGPBT_API const float* bgpbt_vecenv_obs(const bgpbt_vecenv* venv);          /* [num_envs][obs_dim] */
BGPBT_API const float* bgpbt_vecenv_final_obs(const bgpbt_vecenv* venv);    /* rows valid where done */
BGPBT_API const float* bgpbt_vecenv_rewards(const bgpbt_vecenv* venv);      /* [num_envs] */
BGPBT_API const unsigned char* bgpbt_vecenv_terminated(const bgpbt_vecenv* venv); /* [num_envs] 0/1 */
BGPBT_API const unsigned char* bgpbt_vecenv_truncated(const bgpbt_vecenv* venv);  /* [num_envs] 0/1 */
BGPBT_API void bgpbt_vecenv_take_stats(bgpbt_vecenv* venv, bgpbt_episode_stats* out);

/* ============================================================================================
   [decl.nn] nn: MLP, batched forward/backward, Adam
   ============================================================================================ */

/* ============================================================================================
   [decl.ppo] ppo: tanh-Gaussian actor-critic agent, rollouts, GAE, PPO and distillation
   ============================================================================================ */

/* ============================================================================================
   [decl.gp] gp: kernels, exact GP, marginal-likelihood fitting
   ============================================================================================ */

/* An exact Gaussian process in double precision, for the small data sets (tens to a few
   hundred points) of hyperparameter search.

   MODEL. y = m + f(x, t) + noise, f ~ GP(0, k), noise ~ N(0, s_n). The inputs x have `dim`
   entries; dimension i is continuous when num_categories[i] == 0 (integers are treated as
   continuous, as BG-PBT and CASMOPOLITAN do) and categorical with that many values (stored as
   0, 1, ... in x) otherwise. t is an optional scalar time per point.

       k(x, x', t, t') = s * k_space(x, x') * k_time(t, t')
       k_space  = k_x                                 (only continuous dims)
                = k_h                                 (only categorical dims)
                = (1 - lam)(k_x + k_h) + lam k_x k_h   (both: CoCaBO's mixture, lam = 0.5 default)
       k_x      = Matern-5/2: (1 + sqrt5 r + 5 r^2/3) exp(-sqrt5 r), or SE: exp(-r^2 / 2),
                  r^2 = sum_i (x_i - x'_i)^2 / l_i^2 (one shared l, or one per dim with `ard`)
       k_h      = exp( sum_i w_i [x_i == x'_i] / n_cat )   (CASMOPOLITAN's exponentiated overlap;
                  a larger weight w means a more relevant dimension; shared or per dim)
       k_time   = (1 - eps)^{|t - t'| / 2}               (only with time_varying; TV-GP-UCB)

   HYPERPARAMETERS. mean m, outputscale s, noise s_n, eps, the lengthscales l and weights w.
   Each is kept in a box [lo, hi] by a smooth transform of an unconstrained raw value u:
   p = exp(log lo + (log hi - log lo) sigmoid(u)) for the positive ones, eps = lo + (hi - lo)
   sigmoid(u), m = u (unbounded; the fitted y are standardised). A box with lo == hi fixes that
   hyperparameter and removes it from the raw vector, so e.g. noise_min = noise_max = 1e-4 fixes
   the noise. Fitting maximises the log marginal likelihood with analytic gradients by L-BFGS
   (our own, in the raw coordinates) from the current values plus `fit_restarts` random
   starts, and keeps the best; if every start fails the previous hyperparameters are kept.

   Raw vector layout (bgpbt_gp_num_params): [m] [s] [s_n] [eps] [l: 1 or one per continuous dim]
   [w: 1 or one per categorical dim], each present only if it is free.

   OUTPUT TRANSFORM. y is transformed before fitting: STANDARDIZE (y - mean) / std (population
   std, floored: std < 1e-12 counts as 1; the same as scikit-learn's normalize_y), COPULA
   (Phi^{-1}(rank / (n + 1)), ties share the highest rank: CASMOPOLITAN's and BG-PBT's) or
   NONE. y_clip > 0 then clips to [-y_clip, y_clip] (PB2 uses 2). Predictions are in these
   model units; bgpbt_gp_output_affine gives the map back for STANDARDIZE and NONE.

   PENDING POINTS. bgpbt_gp_set_pending conditions the GP on fantasy observations at
   still-running points, with y equal to the posterior mean there (the kriging believer) and
   the hyperparameters fixed. With fixed hyperparameters this leaves the posterior mean
   exactly unchanged and shrinks the variance around the pending points, so it is also
   GP-BUCB / PB2's "variance from a GP with the running trials added". The mean is computed
   from the real data, the variance from the data plus the pending points.

   NUMERICS. Kernel matrices are factored by bgpbt_linalg_cholesky_jitter (relative jitter
   escalation); the jitter used is reported in bgpbt_gp_fit_info. NaN or infinite inputs,
   targets or times are rejected with BGPBT_ERR_NOT_FINITE before anything changes.

   PB2 (Parker-Holder et al. 2020) uses k = s exp(-|x - x'|^2 / l_pb2) (1 - eps)^{|t-t'|/2},
   eps <= 0.5, z-scored y clipped to [-2, 2], learned noise: that is kernel SE with a shared
   lengthscale l = sqrt(l_pb2 / 2), time_varying, eps_max = 0.5, eps_init = 0.1, output
   STANDARDIZE with y_clip = 2: bgpbt_gp_config_pb2(dim) returns exactly that. Its UCB,
   mean + kappa * variance, is bgpbt_bo acquisition BGPBT_BO_ACQ_LCB_VAR on the negated target
   (see [decl.bo]); its batch rule is set_pending.

   THREADS. Kernel matrices, the factorisation, the gradient and batched predictions run on
   OpenMP threads, split by rows and reduced in index order: bit-identical for any thread
   count. One bgpbt_gp must not be used from two threads at once (it owns scratch memory). */

#define BGPBT_GP_MAX_DIM 64

typedef enum bgpbt_gp_kernel {
    BGPBT_GP_MATERN52 = 0, /* default */
    BGPBT_GP_SE = 1        /* squared exponential (RBF) */
} bgpbt_gp_kernel;

typedef enum bgpbt_gp_output {
    BGPBT_GP_STANDARDIZE = 0, /* default */
    BGPBT_GP_COPULA = 1,
    BGPBT_GP_NONE = 2
} bgpbt_gp_output;

typedef struct bgpbt_gp_config {
    int dim;                                  /* input dims, 1..BGPBT_GP_MAX_DIM (required) */
    int num_categories[BGPBT_GP_MAX_DIM];     /* 0: continuous; >= 2: categorical */
    bgpbt_gp_kernel kernel;                   /* for the continuous dims */
    int ard;                                  /* one lengthscale (weight) per dim; 0: shared */
    int time_varying;                         /* multiply by (1 - eps)^{|t - t'|/2} */
    double mix_lambda;                        /* CoCaBO mixture weight; 0: default 0.5 */
    bgpbt_gp_output output;
    double y_clip;                            /* > 0: clip transformed y to [-y_clip, y_clip] */
    int fixed_mean;                           /* 1: mean fixed at mean_init (0 = learned) */
    double mean_init;                         /* default 0 */
    /* boxes and initial values; 0 means the default in brackets */
    double lengthscale_min, lengthscale_max;  /* [0.005, 2] with ard, [0.005, sqrt(n_cont)] shared */
    double lengthscale_init;                  /* [0.5] (clamped into its box) */
    double cat_weight_min, cat_weight_max;    /* [0.01, 5] */
    double cat_weight_init;                   /* [1] */
    double outputscale_min, outputscale_max;  /* [0.05, 20] (TuRBO's) */
    double outputscale_init;                  /* [1] */
    double noise_min, noise_max;              /* [1e-6, 0.1] (BG-PBT's, CASMOPOLITAN's) */
    double noise_init;                        /* [1e-3] */
    double eps_min, eps_max;                  /* [1e-4, 0.999] ; PB2 caps eps_max at 0.5 */
    double eps_init;                          /* [0.5] (BG-PBT's sigmoid(0)); PB2 0.1 */
    int fit_restarts;                         /* random restarts of the MLE [3]; -1: none */
    int fit_max_iter;                         /* L-BFGS iterations per start [100] */
    int max_points;                           /* limit on data + pending points [4096] */
    uint64_t seed;                            /* for the restarts and samples */
    bgpbt_allocator allocator;
    bgpbt_logger logger;
} bgpbt_gp_config;

/* Natural (constrained) hyperparameters. Entry i of lengthscale / cat_weight belongs to input
   dim i (only continuous / categorical dims are used; with a shared value, all are equal). */
typedef struct bgpbt_gp_hypers {
    double mean, outputscale, noise, eps;
    double lengthscale[BGPBT_GP_MAX_DIM];
    double cat_weight[BGPBT_GP_MAX_DIM];
} bgpbt_gp_hypers;

typedef struct bgpbt_gp_fit_info {
    double lml;         /* log marginal likelihood at the chosen hyperparameters (model units) */
    int evaluations;    /* LML + gradient evaluations, all starts */
    int iterations;     /* L-BFGS iterations, all starts */
    int starts;         /* starts run */
    int failed_starts;  /* starts that never got a finite LML */
    double jitter;      /* jitter of the final factorisation */
} bgpbt_gp_fit_info;

typedef struct bgpbt_gp bgpbt_gp;

BGPBT_API bgpbt_gp_config bgpbt_gp_config_default(void);
/* PB2's time-varying squared-exponential model on `dim` continuous inputs (see above). */
BGPBT_API bgpbt_gp_config bgpbt_gp_config_pb2(int dim);
BGPBT_API bgpbt_result bgpbt_gp_create(const bgpbt_gp_config* config, bgpbt_gp** out);
BGPBT_API void bgpbt_gp_destroy(bgpbt_gp* gp);

/* Replace the data: X is n x dim row-major, t has n entries (required iff time_varying, else
   may be NULL), y has n entries. Applies the output transform and factors the kernel matrix at
   the current hyperparameters. Clears the pending points. n == 0 empties the GP (predictions
   are then the prior). On any error (non-finite values, a category out of range, n above
   max_points) the GP is unchanged. */
BGPBT_API bgpbt_result bgpbt_gp_set_data(bgpbt_gp* gp, const double* X, const double* t,
                                         const double* y, int n);
/* Maximise the log marginal likelihood (restarts as configured), then factor. */
BGPBT_API bgpbt_result bgpbt_gp_fit(bgpbt_gp* gp);
BGPBT_API void bgpbt_gp_get_fit_info(const bgpbt_gp* gp, bgpbt_gp_fit_info* info);

BGPBT_API void bgpbt_gp_get_hypers(const bgpbt_gp* gp, bgpbt_gp_hypers* h);
/* Values outside their boxes are clamped just inside (a fixed one is taken from its box). */
BGPBT_API bgpbt_result bgpbt_gp_set_hypers(bgpbt_gp* gp, const bgpbt_gp_hypers* h);
BGPBT_API int bgpbt_gp_num_params(const bgpbt_gp* gp);
BGPBT_API void bgpbt_gp_get_params(const bgpbt_gp* gp, double* raw);
BGPBT_API bgpbt_result bgpbt_gp_set_params(bgpbt_gp* gp, const double* raw);
/* Log marginal likelihood (model units) at raw parameters `raw`, and its gradient with respect
   to them (grad may be NULL). Does not change the GP's fitted state. */
BGPBT_API bgpbt_result bgpbt_gp_lml(bgpbt_gp* gp, const double* raw, double* lml, double* grad);

/* Posterior of the latent f at m points (X m x dim, t m entries or NULL for the latest data
   time): mean and variance (either output may be NULL), model units, noise not included. */
BGPBT_API bgpbt_result bgpbt_gp_predict(bgpbt_gp* gp, const double* X, const double* t, int m,
                                        double* mean, double* var);
/* One point, with the gradients of mean and variance with respect to x (dim entries each,
   0 for categorical dims; either may be NULL). t: as above (NULL = latest). */
BGPBT_API bgpbt_result bgpbt_gp_predict_grad(bgpbt_gp* gp, const double* x, const double* t,
                                             double* mean, double* var, double* dmean,
                                             double* dvar);
/* ns joint posterior samples at m points (out: ns x m), drawn with rng (Thompson sampling).
   Like TuRBO the draw is of y, i.e. with the noise variance on the diagonal, which also keeps
   the covariance of close candidates factorable; if it still is not, the marginals are
   sampled independently. Costs one m x m Cholesky. */
BGPBT_API bgpbt_result bgpbt_gp_sample(bgpbt_gp* gp, const double* X, const double* t, int m,
                                       int ns, bgpbt_rng* rng, double* out);
/* Condition the variance on np pending points (Xp np x dim, tp or NULL = latest time); np == 0
   clears them. */
BGPBT_API bgpbt_result bgpbt_gp_set_pending(bgpbt_gp* gp, const double* Xp, const double* tp,
                                            int np);

BGPBT_API int bgpbt_gp_num_data(const bgpbt_gp* gp);
BGPBT_API double bgpbt_gp_noise(const bgpbt_gp* gp);          /* s_n, model units */
BGPBT_API const double* bgpbt_gp_targets(const bgpbt_gp* gp); /* transformed y, n entries */
/* y_model = (y - shift) / scale for STANDARDIZE and NONE (before clipping); for COPULA the map
   is not affine: shift = 0, scale = 1 and the call returns BGPBT_ERR_UNSUPPORTED. */
BGPBT_API bgpbt_result bgpbt_gp_output_affine(const bgpbt_gp* gp, double* shift, double* scale);

/* Helpers shared with [decl.bo]: the standard normal pdf, cdf and quantile in double
   precision (quantile by Newton-Halley refinement of an Abramowitz-Stegun start; |error| <
   1e-14 for p in [1e-300, 1 - 1e-16]). */
BGPBT_API double bgpbt_normal_pdf(double x);
BGPBT_API double bgpbt_normal_cdf(double x);
BGPBT_API double bgpbt_normal_quantile(double p);

/* ============================================================================================
   [decl.bo] bo: search spaces, trust regions, acquisition, ask/tell
   ============================================================================================ */

/* Trust-region Bayesian optimisation (CASMOPOLITAN / BG-PBT style) over mixed search spaces,
   with an ask/tell API. Everything is MINIMISED: pass -reward to maximise a reward.

   SEARCH SPACE. Parameters are FLOAT (linear or log), INT (linear or log) or CATEGORICAL.
   Encoding to the unit cube (the GP's inputs): float u = (v - lo) / (hi - lo) (log: of log v);
   int u = (v - lo + 0.5) / (hi - lo + 1) (log: (log v - log(lo - 0.5)) / (log(hi + 0.5) -
   log(lo - 0.5))), decoded by rounding; categorical values 0..k-1 are passed to the GP as the
   index itself (overlap kernel). A parameter marked `is_context` is not optimised: its value is
   given with each suggestion (BG-PBT's return-before-interval). A context FLOAT with lo == hi
   == 0 is "auto-ranged": min-max normalised over the data, the pending points and the given
   value at every suggestion (as BG-PBT does for R_before). Errors: reversed or empty bounds
   (BGPBT_ERR_EMPTY_RANGE), non-positive log bounds (BGPBT_ERR_OUT_OF_RANGE), duplicate or
   unknown names (BGPBT_ERR_INVALID_ARGUMENT / BGPBT_ERR_UNKNOWN_NAME), too many dims
   (BGPBT_ERR_LIMIT), values outside the space (BGPBT_ERR_OUT_OF_RANGE).

   MODEL. A bgpbt_gp (see [decl.gp]) on the encoded inputs, configured by config.gp (its dim,
   num_categories and time_varying are filled in from the space), refitted (warm-started) at
   every suggestion on the last max_data observations.

   TRUST REGION. Centre: the request's centre, else the best observation of the current region.
   Continuous and integer dims: a box centre +- w_i L / 2 clipped to [0, 1], with weights w from
   the GP lengthscales (w = l / mean(l), divided by its geometric mean: TuRBO / CASMOPOLITAN).
   Categorical dims: a Hamming ball of radius L_cat around the centre (as a count of dims, or a
   fraction of the categorical dims when cat_fraction). After each report: success -> succ += 1,
   fail = 0; failure -> fail += 1, succ = 0. succ == succ_tol: L = min(mult L, L_max) and L_cat
   likewise (count: truncated to an integer); fail == fail_tol: L = max(L / mult, L_min) and
   L_cat likewise; then a restart is due when L <= L_min or L_cat <= L_cat_min (with categorical
   dims). In ask/tell use the report is automatic: a told y is a success when it is below
   best - improve_rel |best| of the region (CASMOPOLITAN's rule), and a due restart starts a new
   region: lengths reset, the region's data is set aside (still counted for the best) and a new
   random initial design is asked. Driven by a scheduler (BG-PBT) the caller reports with
   bgpbt_bo_tr_report and decides on restarts.

                       |  L init  L min   L max  mult  succ_tol  fail_tol | L_cat init  min  max
     CASMOPOLITAN      |  0.8     0.5^7   1.6    1.5   3         40       | 20   1    30  (count)
     BG-PBT            |  0.4     0.15    1.0    1.5   3         10       | 1.0  0.1  1.0 (fraction)

   ACQUISITION (minimised, in GP model units): EI (expected improvement below the best
   transformed y), LCB mu - beta sigma (BG-PBT: beta = 3), LCB_VAR mu - beta sigma^2 (PB2's UCB
   on -y), TS (Thompson sampling: one joint posterior draw over n_candidates points of the
   region, argmin). The optimiser for EI/LCB/LCB_VAR: n_candidates points of the region
   (centre perturbations, each dim moved with probability min(1, 20/d), categorical dims
   resampled inside the Hamming ball) are scored in one batched prediction; the best
   n_restarts - 1 of them and a PBT-style perturbation of the centre (x U(0.8, 1.2)) start the
   interleaved search of BG-PBT: n_steps iterations of {one Adam step on the FLOAT dims,
   projected into the box; the best of n_neighbours discrete neighbours (an INT dim moved to a
   value in [round(0.8 v), round(1.2 v)] or +-1 inside the box, or a categorical dim switched
   inside the Hamming ball), kept if it improves}. Context and frozen dims never move.

   BATCHES. A batch of q is chosen sequentially: each chosen point becomes a pending point of
   the GP (kriging believer with fixed hyperparameters, see bgpbt_gp_set_pending), as do the
   request's pending points and, in ask/tell use, every point asked but not yet told.

   NON-FINITE TARGETS. bgpbt_bo_tell with a NaN or infinite y returns BGPBT_ERR_NOT_FINITE and
   stores nothing; the point leaves the pending set and counts as a trust-region failure, so the
   optimiser moves on. bgpbt_bo_set_data rejects the whole set (BGPBT_ERR_NOT_FINITE).

   Differences from the released BG-PBT code, on purpose: the Matern lengthscale(s) are fitted
   (its code leaves them at the box midpoint, research report 1.7), the GP is fitted by
   L-BFGS in fp64 instead of 200 Adam steps in fp32, and the Hamming ball is enforced. */

#define BGPBT_BO_MAX_DIM BGPBT_GP_MAX_DIM
#define BGPBT_BO_NAME_MAX 32

typedef enum bgpbt_bo_param_type {
    BGPBT_BO_FLOAT = 0,
    BGPBT_BO_INT = 1,
    BGPBT_BO_CATEGORICAL = 2
} bgpbt_bo_param_type;

typedef struct bgpbt_bo_param {
    char name[BGPBT_BO_NAME_MAX];
    bgpbt_bo_param_type type;
    double lo, hi;     /* FLOAT, INT: inclusive bounds (INT: integers) */
    int log_scale;     /* FLOAT, INT: encode log(v); needs lo > 0 */
    int num_choices;   /* CATEGORICAL: values 0..num_choices-1, 2..1000 */
    int is_context;    /* given with each suggestion, never optimised */
} bgpbt_bo_param;

typedef struct bgpbt_bo_space {
    int dim;
    bgpbt_bo_param params[BGPBT_BO_MAX_DIM];
    bgpbt_logger logger; /* for the errors of the functions below */
} bgpbt_bo_space;

BGPBT_API void bgpbt_bo_space_init(bgpbt_bo_space* s, const bgpbt_logger* logger); /* logger may be NULL */
BGPBT_API bgpbt_result bgpbt_bo_space_add(bgpbt_bo_space* s, const bgpbt_bo_param* p);
BGPBT_API bgpbt_result bgpbt_bo_space_add_float(bgpbt_bo_space* s, const char* name, double lo,
                                                double hi, int log_scale);
BGPBT_API bgpbt_result bgpbt_bo_space_add_int(bgpbt_bo_space* s, const char* name, int lo, int hi,
                                              int log_scale);
BGPBT_API bgpbt_result bgpbt_bo_space_add_categorical(bgpbt_bo_space* s, const char* name,
                                                      int num_choices);
/* A FLOAT context dim; lo == hi == 0: auto-ranged (see above). */
BGPBT_API bgpbt_result bgpbt_bo_space_add_context(bgpbt_bo_space* s, const char* name, double lo,
                                                  double hi);
BGPBT_API bgpbt_result bgpbt_bo_space_find(const bgpbt_bo_space* s, const char* name, int* index);
/* values (dim) inside the space? (INT and CATEGORICAL must be integers; auto-ranged context:
   any finite value) */
BGPBT_API bgpbt_result bgpbt_bo_space_check(const bgpbt_bo_space* s, const double* values);
/* values -> unit cube (categorical: the index; auto-ranged context: 0.5). Checks first. */
BGPBT_API bgpbt_result bgpbt_bo_space_encode(const bgpbt_bo_space* s, const double* values, double* u);
/* unit cube -> values (clamped, integers rounded, categorical index rounded and clamped;
   auto-ranged context: copied) */
BGPBT_API void bgpbt_bo_space_decode(const bgpbt_bo_space* s, const double* u, double* values);
/* A uniform random point of the encoded cube, decoded (log dims uniform in log). Context dims
   get their midpoint (0 for auto-ranged). */
BGPBT_API void bgpbt_bo_space_sample(const bgpbt_bo_space* s, bgpbt_rng* rng, double* values);

typedef enum bgpbt_bo_acq_kind {
    BGPBT_BO_ACQ_EI = 0,      /* default */
    BGPBT_BO_ACQ_LCB = 1,     /* mu - beta sigma */
    BGPBT_BO_ACQ_TS = 2,      /* Thompson sampling */
    BGPBT_BO_ACQ_LCB_VAR = 3  /* mu - beta sigma^2 (PB2) */
} bgpbt_bo_acq_kind;

typedef struct bgpbt_bo_tr_config {
    double length_init, length_min, length_max;
    double cat_length_init, cat_length_min, cat_length_max;
    int cat_fraction;     /* L_cat is a fraction of the categorical dims (BG-PBT) */
    double multiplier;
    int succ_tol, fail_tol;
    double improve_rel;   /* ask/tell success: y < best - improve_rel |best| */
    int no_restart;       /* never report a restart as due */
    int global;           /* no trust region: the whole cube, Hamming radius = all dims */
} bgpbt_bo_tr_config;

BGPBT_API bgpbt_bo_tr_config bgpbt_bo_tr_casmopolitan(void);
BGPBT_API bgpbt_bo_tr_config bgpbt_bo_tr_bgpbt(void);

typedef struct bgpbt_bo_tr_state {
    double length, cat_length;
    int succ, fail;
    int restarts;   /* restarts so far (ask/tell) */
    int shrinks, expansions;
} bgpbt_bo_tr_state;

typedef struct bgpbt_bo_config {
    bgpbt_bo_space space;    /* required: at least one non-context dim */
    bgpbt_gp_config gp;      /* model options; dim, num_categories, time_varying are set here */
    int time_varying;        /* observations carry a time t; kernel gets (1 - eps)^{|dt|/2} */
    bgpbt_bo_acq_kind acq;
    double beta;             /* LCB / LCB_VAR factor [3] */
    bgpbt_bo_tr_config tr;   /* all-zero: CASMOPOLITAN's */
    int n_init;              /* random (Latin hypercube) points per region [max(4, 2 dim) capped at 20] */
    int n_restarts;          /* acquisition optimiser starts [3] */
    int n_steps;             /* interleaved-search iterations per start [40] */
    double step_size;        /* Adam learning rate on the unit cube [0.05], decays to 1/10 */
    int n_neighbours;        /* discrete neighbours per step [10] */
    int n_candidates;        /* screened candidates / Thompson set [512] */
    int max_data;            /* GP sees at most the last max_data observations [256] */
    int max_pending;         /* pending points kept [64] */
    uint64_t seed;
    bgpbt_allocator allocator;
    bgpbt_logger logger;
} bgpbt_bo_config;

/* One suggestion request (bgpbt_bo_suggest). All pointers may be NULL. */
typedef struct bgpbt_bo_request {
    const double* center;        /* dim values: the trust-region centre (its context values are
                                    used when `context` is NULL); NULL: best of the region */
    const double* context;       /* one value per context dim, in space order */
    const unsigned char* frozen; /* dim flags: 1 = keep the centre's value (needs center) */
    const double* pending;       /* n_pending x dim values of running configurations */
    int n_pending;               /* (their context dims: replaced by the request's context) */
    int use_t;                   /* predict at time t (else the latest observed time) */
    double t;
} bgpbt_bo_request;

typedef struct bgpbt_bo bgpbt_bo;

BGPBT_API bgpbt_bo_config bgpbt_bo_config_default(void);
BGPBT_API bgpbt_result bgpbt_bo_create(const bgpbt_bo_config* config, bgpbt_bo** out);
BGPBT_API void bgpbt_bo_destroy(bgpbt_bo* bo);
BGPBT_API const bgpbt_bo_space* bgpbt_bo_get_space(const bgpbt_bo* bo);

/* ask/tell. ask: q suggestions (q x dim values) with the context dims set from `context` (one
   value per context dim, NULL if none). Asked points stay pending until told. tell: one
   observation (t is ignored unless time_varying). */
BGPBT_API bgpbt_result bgpbt_bo_ask(bgpbt_bo* bo, const double* context, int q, double* values);
BGPBT_API bgpbt_result bgpbt_bo_tell(bgpbt_bo* bo, const double* values, double t, double y);
BGPBT_API void bgpbt_bo_clear_pending(bgpbt_bo* bo);
BGPBT_API int bgpbt_bo_num_observations(const bgpbt_bo* bo); /* all told, every region */
/* The best observation so far (values may be NULL): BGPBT_ERR_WRONG_ORDER when none yet. */
BGPBT_API bgpbt_result bgpbt_bo_best(const bgpbt_bo* bo, double* values, double* y);

/* Scheduler use (BG-PBT): replace the observations (n x dim values, t or NULL, y), then ask
   for q suggestions around a given centre. Neither changes the trust region. */
BGPBT_API bgpbt_result bgpbt_bo_set_data(bgpbt_bo* bo, const double* values, const double* t,
                                         const double* y, int n);
BGPBT_API bgpbt_result bgpbt_bo_suggest(bgpbt_bo* bo, const bgpbt_bo_request* req, int q,
                                        double* values);

/* Trust region. report: count one success (1) or failure (0), expand or shrink; returns 1 when
   a restart is due (the caller then calls bgpbt_bo_tr_reset, or not). */
BGPBT_API int bgpbt_bo_tr_report(bgpbt_bo* bo, int success);
BGPBT_API void bgpbt_bo_tr_reset(bgpbt_bo* bo);
BGPBT_API void bgpbt_bo_tr_get(const bgpbt_bo* bo, bgpbt_bo_tr_state* state);
BGPBT_API bgpbt_result bgpbt_bo_tr_set(bgpbt_bo* bo, const bgpbt_bo_tr_state* state);
/* The box of the last suggestion in unit-cube coordinates (lo, hi: dim entries; categorical
   and context dims: 0 and 1) and the Hamming radius as a count. WRONG_ORDER before any. */
BGPBT_API bgpbt_result bgpbt_bo_tr_box(const bgpbt_bo* bo, double* lo, double* hi, int* hamming);
BGPBT_API bgpbt_gp* bgpbt_bo_get_gp(bgpbt_bo* bo); /* the model of the last suggestion */
BGPBT_API bgpbt_rng* bgpbt_bo_get_rng(bgpbt_bo* bo); /* its RNG stream (save/restore state) */

/* Driver: minimise f over the space for n_evals evaluations, asking `batch` points at a time
   (context dims: NULL context -> their midpoints). f returns the value to minimise (NaN or inf
   are reported by tell and skipped). progress (may be NULL) is called after each evaluation. */
typedef double (*bgpbt_bo_objective)(const double* values, int dim, void* user);
typedef void (*bgpbt_bo_progress)(int evaluation, const double* values, double y, double best,
                                  void* user);
BGPBT_API bgpbt_result bgpbt_bo_minimize(bgpbt_bo* bo, bgpbt_bo_objective f, void* f_user,
                                         int n_evals, int batch, bgpbt_bo_progress progress,
                                         void* progress_user);

/* ============================================================================================
   [decl.pbt] pbt: population, schedulers (RS, PBT, PB2, BG-PBT), generations, runner, checkpoints
   ============================================================================================ */

/* THE POPULATION: random search, PBT, PB2 and BG-PBT in one loop.

   A population of B agents is trained in synchronous rounds ("intervals") of t_ready
   environment steps. After each round a scheduler ranks the agents by return and decides, for
   every agent, what it does next: continue; clone another agent's state (exploit) and train
   with new hyperparameters (explore); or, at a BG-PBT generation switch, a new student
   (with a new architecture) is distilled from the best agent. Four schedulers:

     BGPBT_PBT_METHOD_BGPBT   (default) Wan et al. 2022. Exploit: bottom q copy top q.
                              Explore: trust-region BO on a time-varying GP whose target is
                              the change in return per env step over the interval, inputs
                              (hyperparameters, architecture, return before the interval).
                              n_init random configurations start the run; the best B stay.
                              Generations: when the population stalls (`patience` rounds
                              without a new best) or `distill_every` steps have passed in
                              a generation (at most `max_generations` switches), new
                              architectures are proposed (BO over previous generations'
                              architecture -> best return, plus the archive of best
                              architectures, plus random ones), students are distilled from
                              the best agent, and successive halving over the distillation
                              budget keeps B of them. hpo_only = 1 is the paper's ablation:
                              fixed architecture, no distillation, TR restarts instead.
     BGPBT_PBT_METHOD_PB2     Parker-Holder et al. 2020: time-varying GP bandit (squared-
                              exponential x (1-eps)^(|t-t'|/2)), UCB with pending points.
     BGPBT_PBT_METHOD_PBT     Jaderberg et al. 2017 (synchronous truncation variant):
                              explore = perturb each value x0.8 / x1.2 (integers to a
                              neighbour) or resample it with probability resample_prob.
     BGPBT_PBT_METHOD_RANDOM  random search: B random configurations, no exploit.

   Everything is maximised: "return" is the agent's evaluation return (higher is better).
   The paper's code minimises cost = -return; the data, the TR success rule and the
   acquisition here are the same up to that sign.

   ASK / TELL. The scheduler never touches an agent: it says what to do, round by round,
   and is told the outcome, so agents can be trained anywhere (your threads, other
   processes, machines). Agents are named by integer ids, never reused. A round is a list of
   jobs; job j says: produce agent `agent` by starting from the state of agent `parent`
   (== agent: continue; another id: copy it first; -1: a fresh agent of architecture `arch`),
   then train `steps` env steps with hyperparameters `hp` (distilling from agent `teacher`
   when teacher >= 0). All jobs of a round start from the states at the end of the previous
   round: take every copy before you train anything. After the copies, the states of the ids
   in `release` are no longer needed. Then report each job with bgpbt_pbt_tell (return,
   steps actually run, failed flag). When every job is told, the next ask gives the next
   round; n_jobs == 0 means the run is over.

       bgpbt_pbt* s; const bgpbt_pbt_round* rd;
       bgpbt_pbt_create(&cfg, &s);
       while (bgpbt_pbt_ask(s, &rd) == BGPBT_OK && rd->n_jobs > 0) {
           for each job j: state[agent] = parent < 0 ? fresh(arch) : copy(state[parent]);
           for each id in rd->release: drop state[id];
           for each job j (in parallel): ret = train(state[agent], hp, steps, teacher);
                                          bgpbt_pbt_tell(s, j, ret, steps_run, failed);
       }

   The built-in runner (bgpbt_pbt_run) does exactly this with OpenMP over jobs, checkpoints
   after every round, and writes the CSV log and SVG plots.

   FAILED AGENTS. A job told with failed != 0 or a non-finite return is failed: it ranks
   below every other agent, it is always replaced by exploit (random search: it stops), and
   neither its result nor the interval that led to it ever reaches a GP.

   SEARCH SPACE. Hyperparameters and architecture dimensions are (name, float|int, lo, hi,
   log). They are mapped to [0,1] as in ConfigSpace: floats linearly (or in log), integers as
   (v - lo + 0.5) / (hi - lo + 1) (or its log analogue) and rounded back. The default space is
   the paper's Brax PPO space (table below); the default architecture space has the policy
   and value depth [1,5] and log2 width [5,8] (the paper's spectral-norm flag is left out: the
   released code never applies it).

       name               type  range           scale   PPO meaning
       lr                 float [1e-4, 1e-3]    log     Adam learning rate
       gamma              float [0.9, 0.9999]   log     discount
       entropy_cost       float [1e-6, 0.1]     log     entropy coefficient
       unroll_length      int   [5, 15]         linear  rollout segment length
       log2_batch_size    int   [6, 10]         linear  minibatch = 2^v segments
       num_update_epochs  int   [2, 16]         log     PPO epochs per batch
       reward_scaling     float [0.05, 20]      log     reward multiplier
       gae_lambda         float [0.9, 1.0]      linear  GAE lambda
       clip_epsilon       float [0.1, 0.4]      linear  PPO clip
       policy_layers, policy_log2_width, value_layers, value_log2_width   (architecture)

   CONSTANTS (config field = default; 0 in a field means its default; -1 turns a count off)

       pop_size 8, quantile 0.125 (BG-PBT) or 0.25 (PBT, PB2), n_init 24 (BG-PBT) or B,
       t_ready 1e6, t_ready_end none (linear anneal in the lineage steps), max_steps 150e6 per
       agent, max_total_steps none, resample_prob 0.25, perturb 0.8 / 1.2,
       TR: length 0.4 in [0.15, 1.0], x1.5 after 3 consecutive successes (the best agent of
       the round got its config from BO), /1.5 after 10 consecutive failures; hpo_only: TR
       restart at the minimum length or after 15 stalled rounds (a restart drops the GP data).
       GP data: the last 100 intervals of the current GP epoch (generation or TR restart);
       target copula-standardised; R_before min-max normalised over data and pending points;
       time = round index, not normalised. Acquisition: mean + 3 std (the paper's LCB on
       cost), 3 restarts x 41 steps.
       PB2: last 1000 rows, time and R_before min-max normalised, target z-scored and clipped
       to [-2, 2], UCB = mean + sqrt(c1 + max(0, log(c2 n))) * variance with c1 0.2, c2 0.4.
       Generations: patience 20, distill_every 40e6, max_generations 2, distillation budget
       30e6, successive halving eta 2 with rungs ceil(ln N / ln B), first rungs D * eta^(r-s)
       cumulative steps per student, the last rung up to D, keep max(B, round(n / eta)) then
       B; alpha 1 -> 0.05 linearly over 0.8 D distillation steps (continuing across rungs).

   WHERE THIS DEPARTS FROM THE RELEASED CODE (research report, section 8), on purpose:
     - the architecture candidates at a switch really come from BO on (architecture -> best
       return) (the code's "BO" draws random ones and two minimal nets: arch_proposal =
       BGPBT_PBT_ARCH_CODE reproduces that);
     - the distillation weight alpha continues across successive-halving rungs (the code
       restarts it) and every distillation step counts in the student's lineage steps;
     - architecture dims are GP context (fixed at the source agent's values in the
       acquisition), so agents of different architectures inform one another;
     - not implemented: the hpo-mode "backtracking" exploit that copies the best checkpoint
       ever seen instead of the current best agent. */

#define BGPBT_PBT_MAX_HP 24
#define BGPBT_PBT_MAX_ARCH 8
#define BGPBT_PBT_MAX_POP 256       /* B and every candidate set */
#define BGPBT_PBT_NAME_LEN 32

typedef enum bgpbt_pbt_method {
    BGPBT_PBT_METHOD_BGPBT = 0,
    BGPBT_PBT_METHOD_PB2 = 1,
    BGPBT_PBT_METHOD_PBT = 2,
    BGPBT_PBT_METHOD_RANDOM = 3
} bgpbt_pbt_method;

typedef enum bgpbt_pbt_param_type { BGPBT_PBT_FLOAT = 0, BGPBT_PBT_INT = 1 } bgpbt_pbt_param_type;

typedef struct bgpbt_pbt_param {
    char name[BGPBT_PBT_NAME_LEN];
    int type;     /* bgpbt_pbt_param_type */
    int log;      /* 1: log scale (needs lo > 0) */
    double lo, hi;
} bgpbt_pbt_param;

/* Where an agent's configuration came from (a CSV column). */
typedef enum bgpbt_pbt_source {
    BGPBT_PBT_SRC_RANDOM = 0,    /* sampled uniformly (start, or explore fallback) */
    BGPBT_PBT_SRC_PREVIOUS = 1,  /* kept from the previous round */
    BGPBT_PBT_SRC_PERTURB = 2,   /* exploited, then PBT perturbation */
    BGPBT_PBT_SRC_RESAMPLE = 3,  /* exploited, then PBT resample (some values redrawn) */
    BGPBT_PBT_SRC_BO = 4,        /* exploited, then BO / GP bandit suggestion */
    BGPBT_PBT_SRC_DISTILLED = 5, /* a student of a generation switch */
    BGPBT_PBT_SRC_ARCHIVE = 6,   /* (architecture only) from the archive of best ones */
    BGPBT_PBT_SRC_COPIED = 7     /* (hyperparameters only) copied from a population member */
} bgpbt_pbt_source;
BGPBT_API const char* bgpbt_pbt_source_name(int source); /* "random", "previous", ... */
BGPBT_API const char* bgpbt_pbt_method_name(int method); /* "bgpbt", "pb2", "pbt", "random" */

typedef enum bgpbt_pbt_arch_proposal {
    BGPBT_PBT_ARCH_BO = 0,   /* the paper's intent: GP on (arch -> best return), UCB, batch by kriging believer */
    BGPBT_PBT_ARCH_CODE = 1, /* the released code: random architectures plus two minimal ones */
    BGPBT_PBT_ARCH_RANDOM = 2
} bgpbt_pbt_arch_proposal;

typedef struct bgpbt_pbt_config {
    int method;                 /* bgpbt_pbt_method */
    int pop_size;               /* B: 8 */
    uint64_t seed;
    int hpo_only;               /* BG-PBT: 1 = fixed architecture, no generations (the ablation) */
    int n_hp;                   /* 0: the paper's 9-dim PPO space */
    bgpbt_pbt_param hp[BGPBT_PBT_MAX_HP];
    int n_arch;                 /* 0: the 4-dim architecture space; -1: no architecture dims */
    bgpbt_pbt_param arch[BGPBT_PBT_MAX_ARCH];
    int default_arch[BGPBT_PBT_MAX_ARCH]; /* used when the architecture is not searched;
                                              all 0: policy 4 x 32, value 5 x 256 (the paper's) */
    double quantile;            /* q: 0.125 BG-PBT, 0.25 PBT/PB2; n = max(floor(B q), 1) replaced */
    int n_init;                 /* random configurations of the first round: 24 BG-PBT, else B */
    long long t_ready;          /* env steps per round: 1e6 */
    long long t_ready_end;      /* 0: constant; else linear anneal t_ready -> t_ready_end over max_steps */
    long long max_steps;        /* per-agent lineage budget: 150e6 */
    long long max_total_steps;  /* whole-run budget (all agents, init, distillation); 0: none */
    /* PBT explore */
    double resample_prob;       /* 0.25; -1: never resample */
    double perturb_down, perturb_up; /* 0.8, 1.2 */
    /* BG-PBT trust region */
    double tr_init, tr_min, tr_max, tr_mult; /* 0.4, 0.15, 1.0, 1.5 */
    int tr_succtol, tr_failtol; /* 3, 10 */
    int hpo_restart_patience;   /* hpo_only: restart after this many stalled rounds: 15; -1 never */
    /* GP data and acquisition */
    int gp_window;              /* rows kept: 100 (BG-PBT), 1000 (PB2) */
    double lcb_beta;            /* BG-PBT: 3 */
    double pb2_c1, pb2_c2;      /* 0.2, 0.4 */
    int acq_restarts, acq_steps;/* 3, 41 */
    int gp_fix_lengthscale;     /* 1: keep the Matern lengthscale at its interval midpoint, as
                                   the released code effectively does; 0: fit it (the intent) */
    int min_gp_points;          /* explore falls back to random below this many points: B (BG-PBT), 2 (PB2) */
    /* generations (BG-PBT, not hpo_only) */
    int patience;               /* 20 */
    long long distill_every;    /* 40e6 */
    int max_generations;        /* switches: 2; -1: none */
    long long distill_budget;   /* D: 30e6 env steps per student */
    double sh_eta;              /* 2 */
    int n_arch_candidates;      /* N without the archive: n_init (24) */
    int arch_proposal;          /* bgpbt_pbt_arch_proposal */
    double distill_alpha_start, distill_alpha_end, distill_anneal_frac; /* 1, 0.05, 0.8 */
    bgpbt_allocator allocator;
    bgpbt_logger logger;
} bgpbt_pbt_config;

/* One instruction of a round. */
typedef struct bgpbt_pbt_job {
    int agent;                /* the id whose state this job produces */
    int parent;               /* start from this id's state (== agent: continue; -1: fresh) */
    int teacher;              /* -1, or the id to distil from */
    int slot;                 /* population slot 0..B-1, or the candidate index in init/distillation rounds */
    int source;               /* bgpbt_pbt_source of hp */
    int arch_source;          /* bgpbt_pbt_source of arch */
    int generation;
    long long steps;          /* env steps to run */
    long long lineage_steps;  /* the agent's lineage steps when the job starts */
    long long distill_done;   /* distillation steps this student already had */
    long long distill_total;  /* D (0 for training jobs) */
    uint64_t seed;            /* for a fresh agent or a copy's new RNG stream */
    double hp[BGPBT_PBT_MAX_HP];
    int arch[BGPBT_PBT_MAX_ARCH];
} bgpbt_pbt_job;

typedef enum bgpbt_pbt_round_kind {
    BGPBT_PBT_ROUND_INIT = 0,
    BGPBT_PBT_ROUND_TRAIN = 1,
    BGPBT_PBT_ROUND_DISTILL = 2
} bgpbt_pbt_round_kind;

typedef struct bgpbt_pbt_round {
    int index;                /* 1, 2, ... */
    int kind;                 /* bgpbt_pbt_round_kind */
    int rung;                 /* successive-halving rung (distillation rounds) */
    int n_jobs;               /* 0: the run is over */
    const bgpbt_pbt_job* jobs;
    int n_release;
    const int* release;       /* ids whose state is not needed once the copies are taken */
} bgpbt_pbt_round;

/* One row of the log: one job of one round. */
typedef struct bgpbt_pbt_row {
    int round, kind, agent, slot, parent, teacher, generation, gp_epoch, source, arch_source, failed;
    long long steps_before, steps;   /* lineage env steps at the start and end of the round */
    long long total_steps;           /* env steps of the whole run at the end of the round */
    double ret_before;               /* return at the start (NaN for a fresh agent) */
    double ret;                      /* return after the round (-inf when failed) */
    double hp[BGPBT_PBT_MAX_HP];
    int arch[BGPBT_PBT_MAX_ARCH];
} bgpbt_pbt_row;

typedef struct bgpbt_pbt bgpbt_pbt;

BGPBT_API bgpbt_pbt_config bgpbt_pbt_config_default(void);
/* Fill a parameter; returns p for chaining. */
BGPBT_API bgpbt_pbt_param bgpbt_pbt_param_make(const char* name, int type, double lo, double hi, int log);
BGPBT_API bgpbt_result bgpbt_pbt_create(const bgpbt_pbt_config* config, bgpbt_pbt** out);
BGPBT_API void bgpbt_pbt_destroy(bgpbt_pbt* s);
/* The current round (computed when the previous one is fully told). The round and its
   arrays stay valid until the next ask that starts a new round. Asking again before every
   job is told returns the same round. */
BGPBT_API bgpbt_result bgpbt_pbt_ask(bgpbt_pbt* s, const bgpbt_pbt_round** round);
/* Report job `job` of the current round. failed != 0 or a non-finite ret marks it failed. */
BGPBT_API bgpbt_result bgpbt_pbt_tell(bgpbt_pbt* s, int job, double ret, long long steps_run, int failed);

BGPBT_API const bgpbt_pbt_config* bgpbt_pbt_get_config(const bgpbt_pbt* s); /* resolved defaults */
BGPBT_API int bgpbt_pbt_done(const bgpbt_pbt* s);
BGPBT_API int bgpbt_pbt_generation(const bgpbt_pbt* s);
BGPBT_API double bgpbt_pbt_tr_length(const bgpbt_pbt* s);
BGPBT_API long long bgpbt_pbt_total_steps(const bgpbt_pbt* s);
BGPBT_API const bgpbt_pbt_row* bgpbt_pbt_rows(const bgpbt_pbt* s, int* n_rows);
/* The population after the last told round: ids, returns (-inf failed) and configurations. */
BGPBT_API int bgpbt_pbt_population(const bgpbt_pbt* s, int* ids, double* returns);
/* Best member of the current population (its state is alive): id and return. */
BGPBT_API bgpbt_result bgpbt_pbt_best(const bgpbt_pbt* s, int* id, double* ret, const bgpbt_pbt_row** row);
/* Distillation weight alpha after `done` of `total` distillation steps. */
BGPBT_API double bgpbt_pbt_distill_alpha(const bgpbt_pbt_config* c, long long done, long long total);

/* Normalised encoding of one value and back (ConfigSpace conventions). */
BGPBT_API double bgpbt_pbt_param_encode(const bgpbt_pbt_param* p, double v);
BGPBT_API double bgpbt_pbt_param_decode(const bgpbt_pbt_param* p, double u);
/* Index of a parameter by name in the config's hp list (-1 if absent). */
BGPBT_API int bgpbt_pbt_hp_index(const bgpbt_pbt_config* c, const char* name);
BGPBT_API int bgpbt_pbt_arch_index(const bgpbt_pbt_config* c, const char* name);

/* Scheduler state: the whole object (configuration, population, log, trust region, counters,
   RNG, the current round and what was told). save with buf == NULL gives the size. load
   replaces s (allocator and logger are kept) or leaves it untouched on any error. */
BGPBT_API bgpbt_result bgpbt_pbt_save(const bgpbt_pbt* s, void* buf, size_t cap, size_t* size);
BGPBT_API bgpbt_result bgpbt_pbt_load(bgpbt_pbt* s, const void* data, size_t size);

/* The log as CSV: one line per job and round (round, kind, agent, slot, parent, teacher,
   generation, gp_epoch, source, arch_source, failed, steps, total_steps, return_before,
   return, then every hyperparameter and architecture value by name). */
BGPBT_API bgpbt_result bgpbt_pbt_write_csv(const bgpbt_pbt* s, const char* path);
/* SVG plots: <prefix>returns.svg (every agent's return over its lineage steps, and the
   population best), <prefix>schedule.svg (hyperparameters of the best final agent's lineage
   over steps, one panel each; log axes for log parameters), <prefix>arch.svg (architecture
   of each generation's members). */
BGPBT_API bgpbt_result bgpbt_pbt_write_plots(const bgpbt_pbt* s, const char* prefix);

#ifdef __cplusplus
}
#endif
#endif /* BGPBT_H_INCLUDE */

/* ############################################################################################
   IMPLEMENTATION
   ############################################################################################ */

#if defined(__INTELLISENSE__) || defined(__JETBRAINS_IDE__)
#  define BGPBT_IMPLEMENTATION
#endif

#if defined(BGPBT_IMPLEMENTATION) && !defined(BGPBT_IMPLEMENTATION_ONCE)
#define BGPBT_IMPLEMENTATION_ONCE

#if defined(BGPBT_MALLOC) != defined(BGPBT_FREE)
#  error "bgpbt.h: define both BGPBT_MALLOC and BGPBT_FREE, or neither"
#endif
#ifndef BGPBT_MALLOC
#  include <stdlib.h>
#  define BGPBT_MALLOC(size) malloc(size)
#  define BGPBT_FREE(ptr) free(ptr)
#endif
#ifndef BGPBT_ASSERT
#  include <assert.h>
#  define BGPBT_ASSERT(x) assert(x)
#endif

#include <math.h>
#include <string.h>
#include <stdio.h>
#include <stdarg.h>
#include <float.h>
#if defined(_WIN32)
#  ifndef WIN32_LEAN_AND_MEAN
#    define WIN32_LEAN_AND_MEAN
#  endif
#  include <windows.h>
#  include <io.h>
#else
#  include <time.h>
#  include <sys/time.h>
#  include <unistd.h>
#  include <fcntl.h>
#endif

/* SIMD selection (the vocabulary itself is in [impl.simd]) */
#if !defined(BGPBT_NO_SIMD) && defined(__AVX512F__)
#  define BGPBT_SIMD_AVX512 1
#  define BGPBT_FW_WIDTH 16
#  include <immintrin.h>
#elif !defined(BGPBT_NO_SIMD) && (defined(__AVX2__) && defined(__FMA__))
#  define BGPBT_SIMD_AVX2 1
#  define BGPBT_FW_WIDTH 8
#  include <immintrin.h>
#elif !defined(BGPBT_NO_SIMD) && (defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2))
#  define BGPBT_SIMD_SSE2 1
#  define BGPBT_FW_WIDTH 4
#  include <emmintrin.h>
#  if defined(__FMA__)
#    include <immintrin.h>
#  endif
#elif !defined(BGPBT_NO_SIMD) && (defined(__ARM_NEON) || defined(__ARM_NEON__)) && defined(__aarch64__)
#  define BGPBT_SIMD_NEON 1
#  define BGPBT_FW_WIDTH 4
#  include <arm_neon.h>
#else
#  define BGPBT_SIMD_SCALAR 1
#  define BGPBT_FW_WIDTH 1
#endif


#if defined(_OPENMP) && !defined(BGPBT_NO_OPENMP)
#  include <omp.h>
#  define BGPBT__HAS_OPENMP 1
#  if defined(_MSC_VER)
#    define BGPBT_OMP(x) __pragma(omp x)
#  else
#    define BGPBT__PRAGMA(x) _Pragma(#x)
#    define BGPBT_OMP(x) BGPBT__PRAGMA(omp x)
#  endif
#else
#  define BGPBT__HAS_OPENMP 0
#  define BGPBT_OMP(x) /* OpenMP off: nothing, so builds without -fopenmp stay warning-free */
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define BGPBT__PRIVATE static __attribute__((unused))
#  define BGPBT__INLINE static __inline__ __attribute__((unused))
#  define BGPBT__RESTRICT __restrict__
#  define BGPBT__ALIGN(n) __attribute__((aligned(n)))
#elif defined(_MSC_VER)
#  define BGPBT__PRIVATE static
#  define BGPBT__INLINE static __inline
#  define BGPBT__RESTRICT __restrict
#  define BGPBT__ALIGN(n) __declspec(align(n))
#else
#  define BGPBT__PRIVATE static
#  define BGPBT__INLINE static
#  define BGPBT__RESTRICT
#  define BGPBT__ALIGN(n)
#endif

/* Fixed-size assumptions, checked at compile time. */
typedef char bgpbt__check_float_size[(sizeof(float) == 4 && sizeof(double) == 8) ? 1 : -1];
typedef char bgpbt__check_u64_size[(sizeof(uint64_t) == 8) ? 1 : -1];

#ifdef __cplusplus
extern "C" {
#endif

/* ============================================================================================
   [impl.core]
   ============================================================================================ */

BGPBT_API const char* bgpbt_result_string(bgpbt_result code) {
    switch (code) {
#define BGPBT__RESULT_CASE(name, value, text) case name: return text;
        BGPBT_RESULT_LIST(BGPBT__RESULT_CASE)
#undef BGPBT__RESULT_CASE
        default: break;
    }
    return "unknown result code";
}

BGPBT_API const char* bgpbt_version_string(void) { return BGPBT_VERSION_STRING; }

BGPBT_API void bgpbt_log_stderr(bgpbt_log_level level, bgpbt_result code, const char* message,
                                void* user) {
    static const char* const names[] = {"error", "warning", "info", "debug"};
    (void)user;
    fprintf(stderr, "bgpbt: %s: %s (%s)\n", names[(unsigned)level < 4u ? (unsigned)level : 3u],
            message ? message : "", bgpbt_result_string(code));
}

/* Log one formatted sentence (if a logger is set) and return `code`, so error paths read
   `return bgpbt__error(log, BGPBT_ERR_..., "what was wrong: %d", value);` */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
BGPBT__PRIVATE bgpbt_result bgpbt__error(const bgpbt_logger* log, bgpbt_result code,
                                         const char* fmt, ...) {
    if (log && log->fn) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        log->fn(code == BGPBT_OK ? BGPBT_LOG_INFO : BGPBT_LOG_ERROR, code, msg, log->user);
    }
    return code;
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
BGPBT__PRIVATE void bgpbt__log(const bgpbt_logger* log, bgpbt_log_level level, const char* fmt, ...) {
    if (log && log->fn) {
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        log->fn(level, BGPBT_OK, msg, log->user);
    }
}

/* ---- allocator ---------------------------------------------------------------------------- */

/* The default path over-allocates by `align` bytes and stores the offset to the raw block in
   the byte just before the aligned pointer (align >= 16 leaves room for it). */
BGPBT_API void* bgpbt_mem_alloc(const bgpbt_allocator* a, size_t size, size_t align) {
    if (size == 0 || align == 0 || (align & (align - 1)) != 0 || align > 4096) return NULL;
    if (a && a->alloc) return a->alloc(size, align, a->user);
    if (align < 16) align = 16;
    if (size > (size_t)-1 - align) return NULL;
    {
        unsigned char* raw = (unsigned char*)BGPBT_MALLOC(size + align);
        unsigned char* p;
        size_t offset;
        if (!raw) return NULL;
        offset = align - ((uintptr_t)raw & (align - 1)); /* 1..align; >= 8 for any real malloc */
        if (offset < 2) { /* no room for the offset: cannot happen with a conforming malloc */
            BGPBT_FREE(raw);
            return NULL;
        }
        p = raw + offset;
        p[-1] = (unsigned char)(offset & 0xFF);
        p[-2] = (unsigned char)(offset >> 8);
        return p;
    }
}

BGPBT_API void bgpbt_mem_free(const bgpbt_allocator* a, void* ptr, size_t size) {
    if (!ptr) return;
    if (a && a->alloc) {
        if (a->free) a->free(ptr, size, a->user);
        return;
    }
    {
        unsigned char* p = (unsigned char*)ptr;
        size_t offset = (size_t)p[-1] | ((size_t)p[-2] << 8);
        BGPBT_FREE(p - offset);
    }
}

/* Typed helpers used throughout the implementation: 64-byte aligned (one cache line, one
   AVX-512 vector), zero-filled. */
BGPBT__PRIVATE void* bgpbt__calloc(const bgpbt_allocator* a, size_t count, size_t elem) {
    void* p;
    if (count == 0 || elem == 0) return NULL;
    if (count > ((size_t)-1 / 2) / elem) return NULL;
    p = bgpbt_mem_alloc(a, count * elem, 64);
    if (p) memset(p, 0, count * elem);
    return p;
}
BGPBT__PRIVATE void bgpbt__cfree(const bgpbt_allocator* a, void* p, size_t count, size_t elem) {
    if (p) bgpbt_mem_free(a, p, count * elem);
}

/* ---- RNG ---------------------------------------------------------------------------------- */

BGPBT_API uint64_t bgpbt_mix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

BGPBT_API void bgpbt_rng_init(bgpbt_rng* rng, uint64_t seed, uint64_t stream) {
    /* Hash seed and stream separately, then run splitmix64 from the combined key: nearby seeds
       and nearby stream ids give unrelated states. */
    uint64_t key = bgpbt_mix64(seed ^ 0x243F6A8885A308D3ull) ^
                   bgpbt_mix64(bgpbt_mix64(stream + 0x13198A2E03707344ull));
    int i;
    for (i = 0; i < 4; ++i) {
        key += 0x9E3779B97F4A7C15ull;
        rng->s[i] = bgpbt_mix64(key);
    }
    if ((rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]) == 0) rng->s[0] = 1; /* never all zero */
}

BGPBT__INLINE uint64_t bgpbt__rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

BGPBT_API uint64_t bgpbt_rng_u64(bgpbt_rng* rng) {
    uint64_t* s = rng->s;
    uint64_t result = bgpbt__rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = bgpbt__rotl(s[3], 45);
    return result;
}

BGPBT_API uint32_t bgpbt_rng_u32(bgpbt_rng* rng) { return (uint32_t)(bgpbt_rng_u64(rng) >> 32); }

/* Lemire's multiply-and-reject: unbiased, one multiply in the common case. */
BGPBT_API uint32_t bgpbt_rng_below(bgpbt_rng* rng, uint32_t n) {
    uint64_t m;
    uint32_t low;
    if (n == 0) return 0;
    m = (uint64_t)bgpbt_rng_u32(rng) * n;
    low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (uint64_t)bgpbt_rng_u32(rng) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

BGPBT_API float bgpbt_rng_float(bgpbt_rng* rng) {
    return (float)(bgpbt_rng_u64(rng) >> 40) * (1.0f / 16777216.0f);
}

BGPBT_API double bgpbt_rng_double(bgpbt_rng* rng) {
    return (double)(bgpbt_rng_u64(rng) >> 11) * (1.0 / 9007199254740992.0);
}

BGPBT_API double bgpbt_rng_uniform(bgpbt_rng* rng, double lo, double hi) {
    return lo + (hi - lo) * bgpbt_rng_double(rng);
}

/* Marsaglia's polar method: exact in double precision, no trigonometry. */
BGPBT_API double bgpbt_rng_normal(bgpbt_rng* rng) {
    double u, v, s;
    do {
        u = 2.0 * bgpbt_rng_double(rng) - 1.0;
        v = 2.0 * bgpbt_rng_double(rng) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    return u * sqrt(-2.0 * log(s) / s);
}

BGPBT_API void bgpbt_rng_permutation(bgpbt_rng* rng, int* out, int n) {
    int i;
    for (i = 0; i < n; ++i) out[i] = i;
    for (i = n - 1; i > 0; --i) { /* Fisher-Yates */
        int j = (int)bgpbt_rng_below(rng, (uint32_t)i + 1u);
        int t = out[i];
        out[i] = out[j];
        out[j] = t;
    }
}

BGPBT_API void bgpbt_rng_get_state(const bgpbt_rng* rng, uint64_t state[4]) {
    memcpy(state, rng->s, sizeof rng->s);
}

BGPBT_API bgpbt_result bgpbt_rng_set_state(bgpbt_rng* rng, const uint64_t state[4]) {
    if (!rng || !state || (state[0] | state[1] | state[2] | state[3]) == 0)
        return BGPBT_ERR_INVALID_ARGUMENT;
    memcpy(rng->s, state, sizeof rng->s);
    return BGPBT_OK;
}

/* bgpbt_rng_normals is defined in [impl.simd]: it runs on the wide vocabulary. */

/* ---- timer, arena, threads ---------------------------------------------------------------- */

#if defined(_WIN32)
BGPBT_API double bgpbt_time_seconds(void) {
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (double)c.QuadPart / (double)f.QuadPart;
}
#else
BGPBT_API double bgpbt_time_seconds(void) {
#  if defined(CLOCK_MONOTONIC)
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0) return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
#  endif
    { /* strict -std=c99 hides clock_gettime; gettimeofday is always declared */
        struct timeval tv;
        gettimeofday(&tv, NULL);
        return (double)tv.tv_sec + 1e-6 * (double)tv.tv_usec;
    }
}
#endif

BGPBT_API bgpbt_result bgpbt_arena_init(bgpbt_arena* arena, const bgpbt_allocator* a, size_t capacity) {
    if (!arena || capacity == 0) return BGPBT_ERR_INVALID_ARGUMENT;
    memset(arena, 0, sizeof *arena);
    if (a) arena->allocator = *a;
    arena->base = (unsigned char*)bgpbt_mem_alloc(&arena->allocator, capacity, 64);
    if (!arena->base) return BGPBT_ERR_OUT_OF_MEMORY;
    arena->capacity = capacity;
    return BGPBT_OK;
}

BGPBT_API void* bgpbt_arena_push(bgpbt_arena* arena, size_t size, size_t align) {
    size_t start;
    if (!arena || !arena->base || align == 0 || (align & (align - 1)) != 0 || align > 64) return NULL;
    start = (arena->used + align - 1) & ~(align - 1);
    if (start > arena->capacity || size > arena->capacity - start) return NULL;
    arena->used = start + size;
    return arena->base + start;
}

BGPBT_API size_t bgpbt_arena_mark(const bgpbt_arena* arena) { return arena->used; }

BGPBT_API void bgpbt_arena_reset(bgpbt_arena* arena, size_t mark) {
    if (mark <= arena->used) arena->used = mark;
}

BGPBT_API void bgpbt_arena_free(bgpbt_arena* arena) {
    if (!arena) return;
    bgpbt_mem_free(&arena->allocator, arena->base, arena->capacity);
    arena->base = NULL;
    arena->capacity = arena->used = 0;
}

BGPBT_API int bgpbt_max_threads(void) {
#if BGPBT__HAS_OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

BGPBT__INLINE int bgpbt__isfinite(double x) { return x - x == 0.0; } /* false for NaN and +-inf */
BGPBT__INLINE int bgpbt__isfinitef(float x) { return x - x == 0.0f; }

/* ============================================================================================
   [impl.simd] the wide-float vocabulary

   bgpbt_fw is one vector of BGPBT_FW_WIDTH floats; bgpbt_fm is a lane mask. The op set is
   closed: every hot loop is written once on these names. Masks are consumed only through
   bgpbt_fw_blend / bgpbt_fm_any / bgpbt_fm_all (their representation differs per ISA).

     load/store        bgpbt_fw_load(p), bgpbt_fw_store(p, v)       (unaligned allowed)
     constants         bgpbt_fw_zero(), bgpbt_fw_set1(x)
     arithmetic        add sub mul div neg abs sqrt min max
     multiply-add      bgpbt_fw_muladd(a,b,c) = a*b+c, two roundings (bit-identical on all widths)
                       bgpbt_fw_fma(a,b,c)    = a*b+c, one rounding where the target has FMA
     compare/blend     lt le gt ge eq -> bgpbt_fm; bgpbt_fw_blend(m, a, b) = m ? b : a
     reduce            bgpbt_fw_hsum(v): lanes summed 0, 1, ..., W-1 in that order
     approximations    exp, log, tanh; errors measured by tests/test_simd.c against libm:
                         exp   max relative error 3e-7 on [-87, 88]; 0 below -87.3; +inf above 88.7
                         log   max relative error 3e-7 for positive normal floats;
                               log(0) = -inf, log(x<0) = NaN, log(+inf) = +inf
                         tanh  max absolute error 2e-7 and relative 4e-7 on all reals
   ============================================================================================ */

#if defined(BGPBT_SIMD_AVX512)
typedef __m512 bgpbt_fw;
typedef __mmask16 bgpbt_fm;
BGPBT__INLINE bgpbt_fw bgpbt_fw_load(const float* p) { return _mm512_loadu_ps(p); }
BGPBT__INLINE void bgpbt_fw_store(float* p, bgpbt_fw v) { _mm512_storeu_ps(p, v); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_zero(void) { return _mm512_setzero_ps(); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_set1(float x) { return _mm512_set1_ps(x); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_add(bgpbt_fw a, bgpbt_fw b) { return _mm512_add_ps(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_sub(bgpbt_fw a, bgpbt_fw b) { return _mm512_sub_ps(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_mul(bgpbt_fw a, bgpbt_fw b) { return _mm512_mul_ps(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_div(bgpbt_fw a, bgpbt_fw b) { return _mm512_div_ps(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_sqrt(bgpbt_fw a) { return _mm512_sqrt_ps(a); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_min(bgpbt_fw a, bgpbt_fw b) { return _mm512_min_ps(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_max(bgpbt_fw a, bgpbt_fw b) { return _mm512_max_ps(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_fma(bgpbt_fw a, bgpbt_fw b, bgpbt_fw c) { return _mm512_fmadd_ps(a, b, c); }
BGPBT__INLINE bgpbt_fm bgpbt_fw_lt(bgpbt_fw a, bgpbt_fw b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
BGPBT__INLINE bgpbt_fm bgpbt_fw_le(bgpbt_fw a, bgpbt_fw b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
BGPBT__INLINE bgpbt_fm bgpbt_fw_eq(bgpbt_fw a, bgpbt_fw b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_blend(bgpbt_fm m, bgpbt_fw a, bgpbt_fw b) { return _mm512_mask_blend_ps(m, a, b); }
BGPBT__INLINE bgpbt_fm bgpbt_fm_and(bgpbt_fm a, bgpbt_fm b) { return (bgpbt_fm)(a & b); }
BGPBT__INLINE bgpbt_fm bgpbt_fm_or(bgpbt_fm a, bgpbt_fm b) { return (bgpbt_fm)(a | b); }
BGPBT__INLINE bgpbt_fm bgpbt_fm_not(bgpbt_fm a) { return (bgpbt_fm)(~a); }
BGPBT__INLINE int bgpbt_fm_any(bgpbt_fm m) { return m != 0; }
BGPBT__INLINE int bgpbt_fm_all(bgpbt_fm m) { return m == 0xFFFF; }
/* round to nearest even (as float); 2^n for integral n in [-126, 127]; exponent/mantissa split */
BGPBT__INLINE bgpbt_fw bgpbt__fw_round(bgpbt_fw x) {
    return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
BGPBT__INLINE bgpbt_fw bgpbt__fw_pow2i(bgpbt_fw n) {
    __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
}
BGPBT__INLINE bgpbt_fw bgpbt__fw_frexp(bgpbt_fw x, bgpbt_fw* e) { /* x = m * 2^e, m in [1, 2) */
    __m512i bits = _mm512_castps_si512(x);
    __m512i ex = _mm512_sub_epi32(_mm512_and_si512(_mm512_srli_epi32(bits, 23), _mm512_set1_epi32(0xFF)),
                                  _mm512_set1_epi32(127));
    *e = _mm512_cvtepi32_ps(ex);
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_and_si512(bits, _mm512_set1_epi32(0x007FFFFF)),
                                               _mm512_set1_epi32(0x3F800000)));
}
#elif defined(BGPBT_SIMD_AVX2)
typedef __m256 bgpbt_fw;
typedef __m256 bgpbt_fm;
BGPBT__INLINE bgpbt_fw bgpbt_fw_load(const float* p) { return _mm256_loadu_ps(p); }
BGPBT__INLINE void bgpbt_fw_store(float* p, bgpbt_fw v) { _mm256_storeu_ps(p, v); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_zero(void) { return _mm256_setzero_ps(); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_set1(float x) { return _mm256_set1_ps(x); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_add(bgpbt_fw a, bgpbt_fw b) { return _mm256_add_ps(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_sub(bgpbt_fw a, bgpbt_fw b) { return _mm256_sub_ps(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_mul(bgpbt_fw a, bgpbt_fw b) { return _mm256_mul_ps(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_div(bgpbt_fw a, bgpbt_fw b) { return _mm256_div_ps(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_sqrt(bgpbt_fw a) { return _mm256_sqrt_ps(a); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_min(bgpbt_fw a, bgpbt_fw b) { return _mm256_min_ps(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_max(bgpbt_fw a, bgpbt_fw b) { return _mm256_max_ps(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_fma(bgpbt_fw a, bgpbt_fw b, bgpbt_fw c) { return _mm256_fmadd_ps(a, b, c); }
BGPBT__INLINE bgpbt_fm bgpbt_fw_lt(bgpbt_fw a, bgpbt_fw b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
BGPBT__INLINE bgpbt_fm bgpbt_fw_le(bgpbt_fw a, bgpbt_fw b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
BGPBT__INLINE bgpbt_fm bgpbt_fw_eq(bgpbt_fw a, bgpbt_fw b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_blend(bgpbt_fm m, bgpbt_fw a, bgpbt_fw b) { return _mm256_blendv_ps(a, b, m); }
BGPBT__INLINE bgpbt_fm bgpbt_fm_and(bgpbt_fm a, bgpbt_fm b) { return _mm256_and_ps(a, b); }
BGPBT__INLINE bgpbt_fm bgpbt_fm_or(bgpbt_fm a, bgpbt_fm b) { return _mm256_or_ps(a, b); }
BGPBT__INLINE bgpbt_fm bgpbt_fm_not(bgpbt_fm a) { return _mm256_xor_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(-1))); }
BGPBT__INLINE int bgpbt_fm_any(bgpbt_fm m) { return _mm256_movemask_ps(m) != 0; }
BGPBT__INLINE int bgpbt_fm_all(bgpbt_fm m) { return _mm256_movemask_ps(m) == 0xFF; }
BGPBT__INLINE bgpbt_fw bgpbt__fw_round(bgpbt_fw x) {
    return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
}
BGPBT__INLINE bgpbt_fw bgpbt__fw_pow2i(bgpbt_fw n) {
    __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
}
BGPBT__INLINE bgpbt_fw bgpbt__fw_frexp(bgpbt_fw x, bgpbt_fw* e) {
    __m256i bits = _mm256_castps_si256(x);
    __m256i ex = _mm256_sub_epi32(_mm256_and_si256(_mm256_srli_epi32(bits, 23), _mm256_set1_epi32(0xFF)),
                                  _mm256_set1_epi32(127));
    *e = _mm256_cvtepi32_ps(ex);
    return _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi32(0x007FFFFF)),
                                               _mm256_set1_epi32(0x3F800000)));
}
#elif defined(BGPBT_SIMD_SSE2)
typedef __m128 bgpbt_fw;
typedef __m128 bgpbt_fm;
BGPBT__INLINE bgpbt_fw bgpbt_fw_load(const float* p) { return _mm_loadu_ps(p); }
BGPBT__INLINE void bgpbt_fw_store(float* p, bgpbt_fw v) { _mm_storeu_ps(p, v); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_zero(void) { return _mm_setzero_ps(); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_set1(float x) { return _mm_set1_ps(x); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_add(bgpbt_fw a, bgpbt_fw b) { return _mm_add_ps(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_sub(bgpbt_fw a, bgpbt_fw b) { return _mm_sub_ps(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_mul(bgpbt_fw a, bgpbt_fw b) { return _mm_mul_ps(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_div(bgpbt_fw a, bgpbt_fw b) { return _mm_div_ps(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_sqrt(bgpbt_fw a) { return _mm_sqrt_ps(a); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_min(bgpbt_fw a, bgpbt_fw b) { return _mm_min_ps(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_max(bgpbt_fw a, bgpbt_fw b) { return _mm_max_ps(a, b); }
#  if defined(__FMA__)
BGPBT__INLINE bgpbt_fw bgpbt_fw_fma(bgpbt_fw a, bgpbt_fw b, bgpbt_fw c) { return _mm_fmadd_ps(a, b, c); }
#  else
BGPBT__INLINE bgpbt_fw bgpbt_fw_fma(bgpbt_fw a, bgpbt_fw b, bgpbt_fw c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
#  endif
BGPBT__INLINE bgpbt_fm bgpbt_fw_lt(bgpbt_fw a, bgpbt_fw b) { return _mm_cmplt_ps(a, b); }
BGPBT__INLINE bgpbt_fm bgpbt_fw_le(bgpbt_fw a, bgpbt_fw b) { return _mm_cmple_ps(a, b); }
BGPBT__INLINE bgpbt_fm bgpbt_fw_eq(bgpbt_fw a, bgpbt_fw b) { return _mm_cmpeq_ps(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_blend(bgpbt_fm m, bgpbt_fw a, bgpbt_fw b) {
    return _mm_or_ps(_mm_and_ps(m, b), _mm_andnot_ps(m, a));
}
BGPBT__INLINE bgpbt_fm bgpbt_fm_and(bgpbt_fm a, bgpbt_fm b) { return _mm_and_ps(a, b); }
BGPBT__INLINE bgpbt_fm bgpbt_fm_or(bgpbt_fm a, bgpbt_fm b) { return _mm_or_ps(a, b); }
BGPBT__INLINE bgpbt_fm bgpbt_fm_not(bgpbt_fm a) { return _mm_xor_ps(a, _mm_castsi128_ps(_mm_set1_epi32(-1))); }
BGPBT__INLINE int bgpbt_fm_any(bgpbt_fm m) { return _mm_movemask_ps(m) != 0; }
BGPBT__INLINE int bgpbt_fm_all(bgpbt_fm m) { return _mm_movemask_ps(m) == 0xF; }
BGPBT__INLINE bgpbt_fw bgpbt__fw_round(bgpbt_fw x) { /* |x| < 2^31 here */
    return _mm_cvtepi32_ps(_mm_cvtps_epi32(x));
}
BGPBT__INLINE bgpbt_fw bgpbt__fw_pow2i(bgpbt_fw n) {
    __m128i e = _mm_add_epi32(_mm_cvtps_epi32(n), _mm_set1_epi32(127));
    return _mm_castsi128_ps(_mm_slli_epi32(e, 23));
}
BGPBT__INLINE bgpbt_fw bgpbt__fw_frexp(bgpbt_fw x, bgpbt_fw* e) {
    __m128i bits = _mm_castps_si128(x);
    __m128i ex = _mm_sub_epi32(_mm_and_si128(_mm_srli_epi32(bits, 23), _mm_set1_epi32(0xFF)), _mm_set1_epi32(127));
    *e = _mm_cvtepi32_ps(ex);
    return _mm_castsi128_ps(_mm_or_si128(_mm_and_si128(bits, _mm_set1_epi32(0x007FFFFF)), _mm_set1_epi32(0x3F800000)));
}
#elif defined(BGPBT_SIMD_NEON)
typedef float32x4_t bgpbt_fw;
typedef uint32x4_t bgpbt_fm;
BGPBT__INLINE bgpbt_fw bgpbt_fw_load(const float* p) { return vld1q_f32(p); }
BGPBT__INLINE void bgpbt_fw_store(float* p, bgpbt_fw v) { vst1q_f32(p, v); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_zero(void) { return vdupq_n_f32(0.0f); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_set1(float x) { return vdupq_n_f32(x); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_add(bgpbt_fw a, bgpbt_fw b) { return vaddq_f32(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_sub(bgpbt_fw a, bgpbt_fw b) { return vsubq_f32(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_mul(bgpbt_fw a, bgpbt_fw b) { return vmulq_f32(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_div(bgpbt_fw a, bgpbt_fw b) { return vdivq_f32(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_sqrt(bgpbt_fw a) { return vsqrtq_f32(a); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_min(bgpbt_fw a, bgpbt_fw b) { return vminq_f32(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_max(bgpbt_fw a, bgpbt_fw b) { return vmaxq_f32(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_fma(bgpbt_fw a, bgpbt_fw b, bgpbt_fw c) { return vfmaq_f32(c, a, b); }
BGPBT__INLINE bgpbt_fm bgpbt_fw_lt(bgpbt_fw a, bgpbt_fw b) { return vcltq_f32(a, b); }
BGPBT__INLINE bgpbt_fm bgpbt_fw_le(bgpbt_fw a, bgpbt_fw b) { return vcleq_f32(a, b); }
BGPBT__INLINE bgpbt_fm bgpbt_fw_eq(bgpbt_fw a, bgpbt_fw b) { return vceqq_f32(a, b); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_blend(bgpbt_fm m, bgpbt_fw a, bgpbt_fw b) { return vbslq_f32(m, b, a); }
BGPBT__INLINE bgpbt_fm bgpbt_fm_and(bgpbt_fm a, bgpbt_fm b) { return vandq_u32(a, b); }
BGPBT__INLINE bgpbt_fm bgpbt_fm_or(bgpbt_fm a, bgpbt_fm b) { return vorrq_u32(a, b); }
BGPBT__INLINE bgpbt_fm bgpbt_fm_not(bgpbt_fm a) { return vmvnq_u32(a); }
BGPBT__INLINE int bgpbt_fm_any(bgpbt_fm m) { return vmaxvq_u32(m) != 0; }
BGPBT__INLINE int bgpbt_fm_all(bgpbt_fm m) { return vminvq_u32(m) != 0; }
BGPBT__INLINE bgpbt_fw bgpbt__fw_round(bgpbt_fw x) { return vrndnq_f32(x); }
BGPBT__INLINE bgpbt_fw bgpbt__fw_pow2i(bgpbt_fw n) {
    int32x4_t e = vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
}
BGPBT__INLINE bgpbt_fw bgpbt__fw_frexp(bgpbt_fw x, bgpbt_fw* e) {
    int32x4_t bits = vreinterpretq_s32_f32(x);
    int32x4_t ex = vsubq_s32(vandq_s32(vshrq_n_s32(bits, 23), vdupq_n_s32(0xFF)), vdupq_n_s32(127));
    *e = vcvtq_f32_s32(ex);
    return vreinterpretq_f32_s32(vorrq_s32(vandq_s32(bits, vdupq_n_s32(0x007FFFFF)), vdupq_n_s32(0x3F800000)));
}
#else /* scalar: width 1, the reference every wide path is tested against */
typedef float bgpbt_fw;
typedef int bgpbt_fm;
BGPBT__INLINE bgpbt_fw bgpbt_fw_load(const float* p) { return *p; }
BGPBT__INLINE void bgpbt_fw_store(float* p, bgpbt_fw v) { *p = v; }
BGPBT__INLINE bgpbt_fw bgpbt_fw_zero(void) { return 0.0f; }
BGPBT__INLINE bgpbt_fw bgpbt_fw_set1(float x) { return x; }
BGPBT__INLINE bgpbt_fw bgpbt_fw_add(bgpbt_fw a, bgpbt_fw b) { return a + b; }
BGPBT__INLINE bgpbt_fw bgpbt_fw_sub(bgpbt_fw a, bgpbt_fw b) { return a - b; }
BGPBT__INLINE bgpbt_fw bgpbt_fw_mul(bgpbt_fw a, bgpbt_fw b) { return a * b; }
BGPBT__INLINE bgpbt_fw bgpbt_fw_div(bgpbt_fw a, bgpbt_fw b) { return a / b; }
BGPBT__INLINE bgpbt_fw bgpbt_fw_sqrt(bgpbt_fw a) { return sqrtf(a); }
/* min/max follow the x86 rule (return b when either is NaN) so every width agrees */
BGPBT__INLINE bgpbt_fw bgpbt_fw_min(bgpbt_fw a, bgpbt_fw b) { return a < b ? a : b; }
BGPBT__INLINE bgpbt_fw bgpbt_fw_max(bgpbt_fw a, bgpbt_fw b) { return a > b ? a : b; }
#  if defined(FP_FAST_FMAF)
BGPBT__INLINE bgpbt_fw bgpbt_fw_fma(bgpbt_fw a, bgpbt_fw b, bgpbt_fw c) { return fmaf(a, b, c); }
#  else
BGPBT__INLINE bgpbt_fw bgpbt_fw_fma(bgpbt_fw a, bgpbt_fw b, bgpbt_fw c) { return a * b + c; }
#  endif
BGPBT__INLINE bgpbt_fm bgpbt_fw_lt(bgpbt_fw a, bgpbt_fw b) { return a < b; }
BGPBT__INLINE bgpbt_fm bgpbt_fw_le(bgpbt_fw a, bgpbt_fw b) { return a <= b; }
BGPBT__INLINE bgpbt_fm bgpbt_fw_eq(bgpbt_fw a, bgpbt_fw b) { return a == b; }
BGPBT__INLINE bgpbt_fw bgpbt_fw_blend(bgpbt_fm m, bgpbt_fw a, bgpbt_fw b) { return m ? b : a; }
BGPBT__INLINE bgpbt_fm bgpbt_fm_and(bgpbt_fm a, bgpbt_fm b) { return a && b; }
BGPBT__INLINE bgpbt_fm bgpbt_fm_or(bgpbt_fm a, bgpbt_fm b) { return a || b; }
BGPBT__INLINE bgpbt_fm bgpbt_fm_not(bgpbt_fm a) { return !a; }
BGPBT__INLINE int bgpbt_fm_any(bgpbt_fm m) { return m != 0; }
BGPBT__INLINE int bgpbt_fm_all(bgpbt_fm m) { return m != 0; }
BGPBT__INLINE bgpbt_fw bgpbt__fw_round(bgpbt_fw x) { return nearbyintf(x); }
BGPBT__INLINE bgpbt_fw bgpbt__fw_pow2i(bgpbt_fw n) {
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}
BGPBT__INLINE bgpbt_fw bgpbt__fw_frexp(bgpbt_fw x, bgpbt_fw* e) {
    uint32_t bits;
    float m;
    memcpy(&bits, &x, 4);
    *e = (float)((int32_t)((bits >> 23) & 0xFF) - 127);
    bits = (bits & 0x007FFFFFu) | 0x3F800000u;
    memcpy(&m, &bits, 4);
    return m;
}
#endif

/* Ops written once on top of the per-ISA ones. */
BGPBT__INLINE bgpbt_fw bgpbt_fw_muladd(bgpbt_fw a, bgpbt_fw b, bgpbt_fw c) {
    return bgpbt_fw_add(bgpbt_fw_mul(a, b), c);
}
BGPBT__INLINE bgpbt_fw bgpbt_fw_neg(bgpbt_fw a) { return bgpbt_fw_sub(bgpbt_fw_zero(), a); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_abs(bgpbt_fw a) { return bgpbt_fw_max(a, bgpbt_fw_neg(a)); }
BGPBT__INLINE bgpbt_fm bgpbt_fw_gt(bgpbt_fw a, bgpbt_fw b) { return bgpbt_fw_lt(b, a); }
BGPBT__INLINE bgpbt_fm bgpbt_fw_ge(bgpbt_fw a, bgpbt_fw b) { return bgpbt_fw_le(b, a); }
BGPBT__INLINE bgpbt_fw bgpbt_fw_clamp(bgpbt_fw x, bgpbt_fw lo, bgpbt_fw hi) {
    return bgpbt_fw_min(bgpbt_fw_max(x, lo), hi);
}

BGPBT__INLINE float bgpbt_fw_hsum(bgpbt_fw v) {
    float lanes[BGPBT_FW_WIDTH];
    float s = 0.0f;
    int i;
    bgpbt_fw_store(lanes, v);
    for (i = 0; i < BGPBT_FW_WIDTH; ++i) s += lanes[i];
    return s;
}

/* exp: x = n ln2 + r with |r| <= ln2/2 (Cody-Waite split of ln2), e^r by its Taylor series to
   r^7 (truncation error below 6e-9 relative), times 2^n built in the exponent bits. */
BGPBT__INLINE bgpbt_fw bgpbt_fw_exp(bgpbt_fw x) {
    const bgpbt_fw hi_limit = bgpbt_fw_set1(88.72283f), lo_limit = bgpbt_fw_set1(-87.33654f);
    bgpbt_fw xc = bgpbt_fw_clamp(x, lo_limit, hi_limit);
    bgpbt_fw n = bgpbt__fw_round(bgpbt_fw_mul(xc, bgpbt_fw_set1(1.44269504088896341f)));
    bgpbt_fw r, p;
    n = bgpbt_fw_min(n, bgpbt_fw_set1(127.0f));
    r = bgpbt_fw_sub(xc, bgpbt_fw_mul(n, bgpbt_fw_set1(0.693359375f)));
    r = bgpbt_fw_sub(r, bgpbt_fw_mul(n, bgpbt_fw_set1(-2.12194440e-4f)));
    p = bgpbt_fw_set1(1.0f / 5040.0f);
    p = bgpbt_fw_muladd(p, r, bgpbt_fw_set1(1.0f / 720.0f));
    p = bgpbt_fw_muladd(p, r, bgpbt_fw_set1(1.0f / 120.0f));
    p = bgpbt_fw_muladd(p, r, bgpbt_fw_set1(1.0f / 24.0f));
    p = bgpbt_fw_muladd(p, r, bgpbt_fw_set1(1.0f / 6.0f));
    p = bgpbt_fw_muladd(p, r, bgpbt_fw_set1(0.5f));
    p = bgpbt_fw_muladd(p, r, bgpbt_fw_set1(1.0f));
    p = bgpbt_fw_muladd(p, r, bgpbt_fw_set1(1.0f));
    p = bgpbt_fw_mul(p, bgpbt__fw_pow2i(n));
    p = bgpbt_fw_blend(bgpbt_fw_lt(x, lo_limit), p, bgpbt_fw_zero());
    p = bgpbt_fw_blend(bgpbt_fw_gt(x, hi_limit), p, bgpbt_fw_set1(HUGE_VALF));
    return bgpbt_fw_blend(bgpbt_fw_eq(x, x), x, p); /* NaN in, NaN out */
}

/* log: x = m 2^e with m in [sqrt(1/2), sqrt(2)); log m = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.172,
   by its odd series to s^9 (truncation error below 1e-9). Subnormal inputs are not supported
   (they are treated as their normalised exponent; no caller produces them). */
BGPBT__INLINE bgpbt_fw bgpbt_fw_log(bgpbt_fw x) {
    bgpbt_fw e, m, s, s2, p, r;
    bgpbt_fm big;
    m = bgpbt__fw_frexp(x, &e);
    big = bgpbt_fw_gt(m, bgpbt_fw_set1(1.41421356f));
    m = bgpbt_fw_blend(big, m, bgpbt_fw_mul(m, bgpbt_fw_set1(0.5f)));
    e = bgpbt_fw_blend(big, e, bgpbt_fw_add(e, bgpbt_fw_set1(1.0f)));
    s = bgpbt_fw_div(bgpbt_fw_sub(m, bgpbt_fw_set1(1.0f)), bgpbt_fw_add(m, bgpbt_fw_set1(1.0f)));
    s2 = bgpbt_fw_mul(s, s);
    p = bgpbt_fw_set1(2.0f / 9.0f);
    p = bgpbt_fw_muladd(p, s2, bgpbt_fw_set1(2.0f / 7.0f));
    p = bgpbt_fw_muladd(p, s2, bgpbt_fw_set1(2.0f / 5.0f));
    p = bgpbt_fw_muladd(p, s2, bgpbt_fw_set1(2.0f / 3.0f));
    p = bgpbt_fw_muladd(p, s2, bgpbt_fw_set1(2.0f));
    p = bgpbt_fw_mul(p, s);
    /* e*ln2 split in two parts so that large e keeps full precision */
    r = bgpbt_fw_add(bgpbt_fw_muladd(e, bgpbt_fw_set1(-2.12194440e-4f), p), bgpbt_fw_mul(e, bgpbt_fw_set1(0.693359375f)));
    r = bgpbt_fw_blend(bgpbt_fw_eq(x, bgpbt_fw_zero()), r, bgpbt_fw_set1(-HUGE_VALF));
    r = bgpbt_fw_blend(bgpbt_fw_eq(x, bgpbt_fw_set1(HUGE_VALF)), r, x);
    r = bgpbt_fw_blend(bgpbt_fw_lt(x, bgpbt_fw_zero()), r, bgpbt_fw_set1(NAN));
    return bgpbt_fw_blend(bgpbt_fw_eq(x, x), x, r);
}

/* tanh: odd Taylor series to x^17 for |x| < 0.55 (error below 1e-8), else
   sign(x) (1 - 2 / (e^{2|x|} + 1)). */
BGPBT__INLINE bgpbt_fw bgpbt_fw_tanh(bgpbt_fw x) {
    bgpbt_fw ax = bgpbt_fw_abs(x), x2 = bgpbt_fw_mul(x, x), p, big, e;
    p = bgpbt_fw_set1(-929569.0f / 638512875.0f);
    p = bgpbt_fw_muladd(p, x2, bgpbt_fw_set1(21844.0f / 6081075.0f));
    p = bgpbt_fw_muladd(p, x2, bgpbt_fw_set1(-1382.0f / 155925.0f));
    p = bgpbt_fw_muladd(p, x2, bgpbt_fw_set1(62.0f / 2835.0f));
    p = bgpbt_fw_muladd(p, x2, bgpbt_fw_set1(-17.0f / 315.0f));
    p = bgpbt_fw_muladd(p, x2, bgpbt_fw_set1(2.0f / 15.0f));
    p = bgpbt_fw_muladd(p, x2, bgpbt_fw_set1(-1.0f / 3.0f));
    p = bgpbt_fw_muladd(bgpbt_fw_mul(p, x2), x, x);
    e = bgpbt_fw_exp(bgpbt_fw_mul(bgpbt_fw_min(ax, bgpbt_fw_set1(20.0f)), bgpbt_fw_set1(2.0f)));
    big = bgpbt_fw_sub(bgpbt_fw_set1(1.0f), bgpbt_fw_div(bgpbt_fw_set1(2.0f), bgpbt_fw_add(e, bgpbt_fw_set1(1.0f))));
    big = bgpbt_fw_blend(bgpbt_fw_lt(x, bgpbt_fw_zero()), big, bgpbt_fw_neg(big));
    return bgpbt_fw_blend(bgpbt_fw_lt(ax, bgpbt_fw_set1(0.55f)), big, p);
}

/* sin and cos of t in [-pi, pi]: half-angle h = t/2 in [-pi/2, pi/2], Taylor series of sin h to
   h^13 and cos h to h^14 (errors below 6e-9), then sin t = 2 sin h cos h, cos t = 1 - 2 sin^2 h. */
BGPBT__INLINE void bgpbt__fw_sincos_pi(bgpbt_fw t, bgpbt_fw* sin_t, bgpbt_fw* cos_t) {
    bgpbt_fw h = bgpbt_fw_mul(t, bgpbt_fw_set1(0.5f)), h2 = bgpbt_fw_mul(h, h), s, c;
    s = bgpbt_fw_set1(1.0f / 6227020800.0f);
    s = bgpbt_fw_muladd(s, h2, bgpbt_fw_set1(-1.0f / 39916800.0f));
    s = bgpbt_fw_muladd(s, h2, bgpbt_fw_set1(1.0f / 362880.0f));
    s = bgpbt_fw_muladd(s, h2, bgpbt_fw_set1(-1.0f / 5040.0f));
    s = bgpbt_fw_muladd(s, h2, bgpbt_fw_set1(1.0f / 120.0f));
    s = bgpbt_fw_muladd(s, h2, bgpbt_fw_set1(-1.0f / 6.0f));
    s = bgpbt_fw_muladd(bgpbt_fw_mul(s, h2), h, h);
    c = bgpbt_fw_set1(-1.0f / 87178291200.0f);
    c = bgpbt_fw_muladd(c, h2, bgpbt_fw_set1(1.0f / 479001600.0f));
    c = bgpbt_fw_muladd(c, h2, bgpbt_fw_set1(-1.0f / 3628800.0f));
    c = bgpbt_fw_muladd(c, h2, bgpbt_fw_set1(1.0f / 40320.0f));
    c = bgpbt_fw_muladd(c, h2, bgpbt_fw_set1(-1.0f / 720.0f));
    c = bgpbt_fw_muladd(c, h2, bgpbt_fw_set1(1.0f / 24.0f));
    c = bgpbt_fw_muladd(c, h2, bgpbt_fw_set1(-0.5f));
    c = bgpbt_fw_muladd(c, h2, bgpbt_fw_set1(1.0f));
    *sin_t = bgpbt_fw_mul(bgpbt_fw_mul(s, c), bgpbt_fw_set1(2.0f));
    *cos_t = bgpbt_fw_sub(bgpbt_fw_set1(1.0f), bgpbt_fw_mul(bgpbt_fw_mul(s, s), bgpbt_fw_set1(2.0f)));
}

BGPBT_API const char* bgpbt_simd_name(void) {
#if defined(BGPBT_SIMD_AVX512)
    return "avx512";
#elif defined(BGPBT_SIMD_AVX2)
    return "avx2";
#elif defined(BGPBT_SIMD_SSE2)
    return "sse2";
#elif defined(BGPBT_SIMD_NEON)
    return "neon";
#else
    return "scalar";
#endif
}

BGPBT_API int bgpbt_simd_width(void) { return BGPBT_FW_WIDTH; }

/* Box-Muller on blocks of 32 uniforms: u1 = lanes 0..15, u2 = lanes 16..31 of the block, on
   every SIMD width, so the pairing (and so the numbers, up to the approximations' rounding)
   does not depend on the width. The tail is a full block computed into scratch. u1 is in
   (0, 1] so the log is finite. */
#define BGPBT__NORMAL_BLOCK 32
BGPBT__PRIVATE void bgpbt__normal_block(float* out /* 32 uniforms in, 32 normals out */) {
    int k;
    for (k = 0; k < BGPBT__NORMAL_BLOCK / 2; k += BGPBT_FW_WIDTH) {
        bgpbt_fw u1 = bgpbt_fw_load(out + k), u2 = bgpbt_fw_load(out + k + BGPBT__NORMAL_BLOCK / 2);
        bgpbt_fw r = bgpbt_fw_sqrt(bgpbt_fw_mul(bgpbt_fw_set1(-2.0f), bgpbt_fw_log(u1)));
        bgpbt_fw t = bgpbt_fw_mul(bgpbt_fw_sub(u2, bgpbt_fw_set1(0.5f)), bgpbt_fw_set1(6.28318530718f));
        bgpbt_fw s, c;
        bgpbt__fw_sincos_pi(t, &s, &c);
        bgpbt_fw_store(out + k, bgpbt_fw_mul(r, c));
        bgpbt_fw_store(out + k + BGPBT__NORMAL_BLOCK / 2, bgpbt_fw_mul(r, s));
    }
}

BGPBT_API void bgpbt_rng_normals(bgpbt_rng* rng, float* out, size_t n) {
    size_t i = 0;
    int k;
    for (;;) {
        float block[BGPBT__NORMAL_BLOCK];
        float* dst = (n - i >= BGPBT__NORMAL_BLOCK) ? out + i : block;
        if (i >= n) break;
        for (k = 0; k < BGPBT__NORMAL_BLOCK / 2; ++k) /* (0, 1] */
            dst[k] = (float)((bgpbt_rng_u64(rng) >> 40) + 1) * (1.0f / 16777216.0f);
        for (k = BGPBT__NORMAL_BLOCK / 2; k < BGPBT__NORMAL_BLOCK; ++k) dst[k] = bgpbt_rng_float(rng);
        bgpbt__normal_block(dst);
        if (dst == block) {
            memcpy(out + i, block, (n - i) * sizeof(float));
            break;
        }
        i += BGPBT__NORMAL_BLOCK;
    }
}

/* ============================================================================================
   [impl.io]
   ============================================================================================ */

BGPBT_API uint32_t bgpbt_crc32(uint32_t crc, const void* data, size_t size) {
    /* Table built on first use; the race on first use is benign (every thread writes the same
       values), but build it eagerly under a local static flag to keep sanitizers quiet. */
    static uint32_t table[256];
    static int ready = 0;
    const unsigned char* p = (const unsigned char*)data;
    size_t i;
    if (!ready) {
        uint32_t k;
        for (k = 0; k < 256; ++k) {
            uint32_t c = k;
            int j;
            for (j = 0; j < 8; ++j) c = (c & 1u) ? (0xEDB88320u ^ (c >> 1)) : (c >> 1);
            table[k] = c;
        }
        ready = 1;
    }
    crc = ~crc;
    for (i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

BGPBT_API void bgpbt_write_bytes(bgpbt_writer* w, const void* data, size_t size) {
    if (w->overflow) return;
    if (w->buf) {
        if (size > w->cap - w->pos || w->pos > w->cap) {
            w->overflow = 1;
            return;
        }
        if (size) memcpy(w->buf + w->pos, data, size);
    }
    w->pos += size;
}

BGPBT_API void bgpbt_write_u32(bgpbt_writer* w, uint32_t v) {
    unsigned char b[4];
    b[0] = (unsigned char)v; b[1] = (unsigned char)(v >> 8);
    b[2] = (unsigned char)(v >> 16); b[3] = (unsigned char)(v >> 24);
    bgpbt_write_bytes(w, b, 4);
}
BGPBT_API void bgpbt_write_u64(bgpbt_writer* w, uint64_t v) {
    bgpbt_write_u32(w, (uint32_t)v);
    bgpbt_write_u32(w, (uint32_t)(v >> 32));
}
BGPBT_API void bgpbt_write_i32(bgpbt_writer* w, int32_t v) { bgpbt_write_u32(w, (uint32_t)v); }
BGPBT_API void bgpbt_write_f32(bgpbt_writer* w, float v) {
    uint32_t u;
    memcpy(&u, &v, 4);
    bgpbt_write_u32(w, u);
}
BGPBT_API void bgpbt_write_f64(bgpbt_writer* w, double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    bgpbt_write_u64(w, u);
}
BGPBT_API void bgpbt_write_f32s(bgpbt_writer* w, const float* v, size_t n) {
    size_t i;
    for (i = 0; i < n; ++i) bgpbt_write_f32(w, v[i]);
}
BGPBT_API void bgpbt_write_f64s(bgpbt_writer* w, const double* v, size_t n) {
    size_t i;
    for (i = 0; i < n; ++i) bgpbt_write_f64(w, v[i]);
}

BGPBT_API void bgpbt_read_bytes(bgpbt_reader* r, void* out, size_t size) {
    if (r->failed || r->pos > r->size || size > r->size - r->pos) {
        r->failed = 1;
        if (size) memset(out, 0, size);
        return;
    }
    if (size) memcpy(out, r->buf + r->pos, size);
    r->pos += size;
}
BGPBT_API uint32_t bgpbt_read_u32(bgpbt_reader* r) {
    unsigned char b[4];
    bgpbt_read_bytes(r, b, 4);
    return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}
BGPBT_API uint64_t bgpbt_read_u64(bgpbt_reader* r) {
    uint64_t lo = bgpbt_read_u32(r);
    return lo | ((uint64_t)bgpbt_read_u32(r) << 32);
}
BGPBT_API int32_t bgpbt_read_i32(bgpbt_reader* r) {
    uint32_t u = bgpbt_read_u32(r);
    int32_t v;
    memcpy(&v, &u, 4);
    return v;
}
BGPBT_API float bgpbt_read_f32(bgpbt_reader* r) {
    uint32_t u = bgpbt_read_u32(r);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
BGPBT_API double bgpbt_read_f64(bgpbt_reader* r) {
    uint64_t u = bgpbt_read_u64(r);
    double d;
    memcpy(&d, &u, 8);
    return d;
}
BGPBT_API void bgpbt_read_f32s(bgpbt_reader* r, float* out, size_t n) {
    size_t i;
    if (r->failed || r->pos > r->size || n > (r->size - r->pos) / 4) {
        r->failed = 1;
        if (n) memset(out, 0, n * sizeof(float));
        return;
    }
    for (i = 0; i < n; ++i) out[i] = bgpbt_read_f32(r);
}
BGPBT_API void bgpbt_read_f64s(bgpbt_reader* r, double* out, size_t n) {
    size_t i;
    if (r->failed || r->pos > r->size || n > (r->size - r->pos) / 8) {
        r->failed = 1;
        if (n) memset(out, 0, n * sizeof(double));
        return;
    }
    for (i = 0; i < n; ++i) out[i] = bgpbt_read_f64(r);
}
BGPBT_API uint32_t bgpbt_read_count(bgpbt_reader* r, uint32_t max, size_t elem_size) {
    uint32_t n = bgpbt_read_u32(r);
    if (r->failed) return 0;
    if (n > max || (elem_size && (size_t)n > (r->size - r->pos) / elem_size)) {
        r->failed = 1;
        return 0;
    }
    return n;
}

#define BGPBT__MAGIC BGPBT_FOURCC('B', 'G', 'P', 'T')

BGPBT_API void bgpbt_container_begin(bgpbt_writer* w, uint32_t kind, uint32_t version) {
    bgpbt_write_u32(w, BGPBT__MAGIC);
    bgpbt_write_u32(w, kind);
    bgpbt_write_u32(w, version);
    bgpbt_write_u32(w, 0);
    bgpbt_write_u64(w, 0); /* payload size, filled by _end */
    bgpbt_write_u32(w, 0); /* payload crc */
    bgpbt_write_u32(w, 0); /* header crc */
}

BGPBT_API void bgpbt_container_end(bgpbt_writer* w, size_t begin_pos) {
    size_t payload = w->pos - begin_pos - BGPBT_CONTAINER_HEADER_SIZE;
    bgpbt_writer patch;
    unsigned char* h;
    if (!w->buf || w->overflow || w->pos < begin_pos + BGPBT_CONTAINER_HEADER_SIZE) return;
    h = w->buf + begin_pos;
    patch.buf = h + 16;
    patch.cap = 16;
    patch.pos = 0;
    patch.overflow = 0;
    bgpbt_write_u64(&patch, (uint64_t)payload);
    bgpbt_write_u32(&patch, bgpbt_crc32(0, h + BGPBT_CONTAINER_HEADER_SIZE, payload));
    bgpbt_write_u32(&patch, bgpbt_crc32(0, h, 28));
}

BGPBT_API bgpbt_result bgpbt_container_open(const void* data, size_t size, uint32_t kind,
                                            uint32_t max_version, uint32_t* version,
                                            bgpbt_reader* payload) {
    bgpbt_reader r;
    uint32_t magic, file_kind, file_version, payload_crc, header_crc;
    uint64_t payload_size;
    if (!data || !payload) return BGPBT_ERR_INVALID_ARGUMENT;
    if (size < BGPBT_CONTAINER_HEADER_SIZE) return BGPBT_ERR_TRUNCATED;
    r.buf = (const unsigned char*)data;
    r.size = size;
    r.pos = 0;
    r.failed = 0;
    magic = bgpbt_read_u32(&r);
    file_kind = bgpbt_read_u32(&r);
    file_version = bgpbt_read_u32(&r);
    (void)bgpbt_read_u32(&r);
    payload_size = bgpbt_read_u64(&r);
    payload_crc = bgpbt_read_u32(&r);
    header_crc = bgpbt_read_u32(&r);
    if (magic != BGPBT__MAGIC) return BGPBT_ERR_BAD_FORMAT;
    if (bgpbt_crc32(0, data, 28) != header_crc) return BGPBT_ERR_CHECKSUM;
    if (file_kind != kind) return BGPBT_ERR_BAD_FORMAT;
    if (file_version == 0 || file_version > max_version) return BGPBT_ERR_VERSION;
    if (payload_size > (uint64_t)(size - BGPBT_CONTAINER_HEADER_SIZE)) return BGPBT_ERR_TRUNCATED;
    if (bgpbt_crc32(0, (const unsigned char*)data + BGPBT_CONTAINER_HEADER_SIZE, (size_t)payload_size) != payload_crc)
        return BGPBT_ERR_CHECKSUM;
    payload->buf = (const unsigned char*)data + BGPBT_CONTAINER_HEADER_SIZE;
    payload->size = (size_t)payload_size;
    payload->pos = 0;
    payload->failed = 0;
    if (version) *version = file_version;
    return BGPBT_OK;
}

#if defined(_WIN32)
BGPBT_API bgpbt_result bgpbt_file_write_atomic(const char* path, const void* data, size_t size) {
    char tmp[4096];
    FILE* f;
    if (!path || (!data && size)) return BGPBT_ERR_INVALID_ARGUMENT;
    if (strlen(path) + 5 > sizeof tmp) return BGPBT_ERR_LIMIT;
    sprintf(tmp, "%s.tmp", path);
    f = fopen(tmp, "wb");
    if (!f) return BGPBT_ERR_IO;
    if (fwrite(data, 1, size, f) != size || fflush(f) != 0 || _commit(_fileno(f)) != 0) {
        fclose(f);
        remove(tmp);
        return BGPBT_ERR_IO;
    }
    fclose(f);
    if (!MoveFileExA(tmp, path, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)) {
        remove(tmp);
        return BGPBT_ERR_IO;
    }
    return BGPBT_OK;
}
#else
BGPBT_API bgpbt_result bgpbt_file_write_atomic(const char* path, const void* data, size_t size) {
    char tmp[4096], dir[4096];
    const unsigned char* p = (const unsigned char*)data;
    size_t done = 0, len;
    const char* slash;
    int fd;
    if (!path || (!data && size)) return BGPBT_ERR_INVALID_ARGUMENT;
    len = strlen(path);
    if (len == 0) return BGPBT_ERR_INVALID_ARGUMENT;
    if (len + 5 > sizeof tmp) return BGPBT_ERR_LIMIT;
    memcpy(tmp, path, len);
    memcpy(tmp + len, ".tmp", 5);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return BGPBT_ERR_IO;
    while (done < size) {
        ssize_t n = write(fd, p + done, size - done);
        if (n <= 0) {
            close(fd);
            unlink(tmp);
            return BGPBT_ERR_IO;
        }
        done += (size_t)n;
    }
    if (fsync(fd) != 0) {
        close(fd);
        unlink(tmp);
        return BGPBT_ERR_IO;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        unlink(tmp);
        return BGPBT_ERR_IO;
    }
    /* make the rename itself durable */
    slash = strrchr(path, '/');
    if (slash) {
        size_t dlen = (size_t)(slash - path);
        if (dlen == 0) dlen = 1;
        memcpy(dir, path, dlen);
        dir[dlen] = 0;
    } else {
        dir[0] = '.';
        dir[1] = 0;
    }
    fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    return BGPBT_OK;
}
#endif

BGPBT_API bgpbt_result bgpbt_file_read(const char* path, const bgpbt_allocator* a, size_t max_size,
                                       void** data, size_t* size) {
    FILE* f;
    long end;
    unsigned char* buf;
    size_t n;
    if (!path || !data || !size) return BGPBT_ERR_INVALID_ARGUMENT;
    *data = NULL;
    *size = 0;
    f = fopen(path, "rb");
    if (!f) return BGPBT_ERR_IO;
    if (fseek(f, 0, SEEK_END) != 0 || (end = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return BGPBT_ERR_IO;
    }
    if ((unsigned long)end > max_size) {
        fclose(f);
        return BGPBT_ERR_LIMIT;
    }
    if (end == 0) {
        fclose(f);
        return BGPBT_ERR_TRUNCATED;
    }
    buf = (unsigned char*)bgpbt_mem_alloc(a, (size_t)end, 64);
    if (!buf) {
        fclose(f);
        return BGPBT_ERR_OUT_OF_MEMORY;
    }
    n = fread(buf, 1, (size_t)end, f);
    fclose(f);
    if (n != (size_t)end) {
        bgpbt_mem_free(a, buf, (size_t)end);
        return BGPBT_ERR_IO;
    }
    *data = buf;
    *size = n;
    return BGPBT_OK;
}

/* ---- [impl.io.plot] CSV and SVG line plots ---------------------------------------------------- */

BGPBT_API void bgpbt_text_init(bgpbt_text* t, const bgpbt_allocator* a) {
    memset(t, 0, sizeof *t);
    if (a) t->allocator = *a;
}
BGPBT_API void bgpbt_text_free(bgpbt_text* t) {
    if (t->data) bgpbt_mem_free(&t->allocator, t->data, t->cap);
    t->data = NULL;
    t->len = t->cap = 0;
}
BGPBT__PRIVATE int bgpbt__text_reserve(bgpbt_text* t, size_t extra) {
    size_t need, cap;
    char* p;
    if (t->failed) return 0;
    if (extra > ((size_t)-1) / 4 - t->len) { t->failed = 1; return 0; }
    need = t->len + extra + 1;
    if (need <= t->cap) return 1;
    cap = t->cap ? t->cap : 256;
    while (cap < need) cap *= 2;
    p = (char*)bgpbt_mem_alloc(&t->allocator, cap, 16);
    if (!p) { t->failed = 1; return 0; }
    if (t->data) {
        memcpy(p, t->data, t->len + 1);
        bgpbt_mem_free(&t->allocator, t->data, t->cap);
    } else {
        p[0] = 0;
    }
    t->data = p;
    t->cap = cap;
    return 1;
}
BGPBT_API void bgpbt_text_append(bgpbt_text* t, const char* s) {
    size_t n = s ? strlen(s) : 0;
    if (!bgpbt__text_reserve(t, n)) return;
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = 0;
}
BGPBT_API void bgpbt_text_printf(bgpbt_text* t, const char* fmt, ...) {
    char small[256];
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) { t->failed = 1; return; }
    if ((size_t)n < sizeof small) { bgpbt_text_append(t, small); return; }
    if (!bgpbt__text_reserve(t, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(t->data + t->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    t->len += (size_t)n;
}
BGPBT_API bgpbt_result bgpbt_text_write_file(const bgpbt_text* t, const char* path) {
    if (t->failed) return BGPBT_ERR_OUT_OF_MEMORY;
    return bgpbt_file_write_atomic(path, t->data ? t->data : "", t->len);
}

BGPBT__PRIVATE void bgpbt__text_num(bgpbt_text* t, double v) {
    if (v != v) bgpbt_text_append(t, "nan");
    else if (v > DBL_MAX) bgpbt_text_append(t, "inf");
    else if (v < -DBL_MAX) bgpbt_text_append(t, "-inf");
    else bgpbt_text_printf(t, "%.9g", v);
}

BGPBT_API bgpbt_result bgpbt_csv_write(const char* path, const char* const* columns, int cols,
                                       const double* values, int rows, const bgpbt_allocator* a) {
    bgpbt_text t;
    bgpbt_result r;
    int i, j;
    if (!path || !columns || cols <= 0 || rows < 0 || (rows > 0 && !values)) return BGPBT_ERR_INVALID_ARGUMENT;
    bgpbt_text_init(&t, a);
    for (j = 0; j < cols; ++j) {
        if (j) bgpbt_text_append(&t, ",");
        bgpbt_text_append(&t, columns[j] ? columns[j] : "");
    }
    bgpbt_text_append(&t, "\n");
    for (i = 0; i < rows; ++i) {
        for (j = 0; j < cols; ++j) {
            if (j) bgpbt_text_append(&t, ",");
            bgpbt__text_num(&t, values[(size_t)i * (size_t)cols + (size_t)j]);
        }
        bgpbt_text_append(&t, "\n");
    }
    r = bgpbt_text_write_file(&t, path);
    bgpbt_text_free(&t);
    return r;
}

/* ---- SVG ---------------------------------------------------------------------------------- */

BGPBT__PRIVATE void bgpbt__svg_escape(bgpbt_text* t, const char* s) {
    char c[2];
    c[1] = 0;
    for (; s && *s; ++s) {
        if (*s == '<') bgpbt_text_append(t, "&lt;");
        else if (*s == '>') bgpbt_text_append(t, "&gt;");
        else if (*s == '&') bgpbt_text_append(t, "&amp;");
        else if (*s == '"') bgpbt_text_append(t, "&quot;");
        else { c[0] = *s; bgpbt_text_append(t, c); }
    }
}

/* "Nice" tick step: 1, 2 or 5 times a power of ten, about n ticks over the span. */
BGPBT__PRIVATE double bgpbt__nice_step(double span, int n) {
    double raw = span / (double)(n > 0 ? n : 1), p, f;
    if (!(raw > 0)) return 1.0;
    p = pow(10.0, floor(log10(raw)));
    f = raw / p;
    return (f < 1.5 ? 1.0 : f < 3.5 ? 2.0 : f < 7.5 ? 5.0 : 10.0) * p;
}

BGPBT__PRIVATE void bgpbt__svg_tick_label(char* buf, size_t n, double v) {
    double a = fabs(v);
    if (a != 0 && (a >= 1e5 || a < 1e-3)) snprintf(buf, n, "%.3g", v);
    else snprintf(buf, n, "%.6g", v);
}

BGPBT_API bgpbt_result bgpbt_svg_write_plots(const char* path, const char* title,
                                             const bgpbt_plot_panel* panels, int n_panels,
                                             int width, int panel_height, const bgpbt_allocator* a) {
    static const uint32_t palette[10] = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                         0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};
    bgpbt_text t;
    bgpbt_result r;
    int p, s, i, top = title ? 34 : 8;
    double W, H, ml = 78, mr = 170, mt = 30, mb = 44;
    if (!path || (n_panels > 0 && !panels) || n_panels < 0) return BGPBT_ERR_INVALID_ARGUMENT;
    if (width <= 0) width = 720;
    if (panel_height <= 0) panel_height = 300;
    W = (double)width;
    H = (double)panel_height;
    bgpbt_text_init(&t, a);
    bgpbt_text_printf(&t, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                      "font-family=\"sans-serif\" font-size=\"11\">\n", width, top + n_panels * panel_height);
    bgpbt_text_printf(&t, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    if (title) {
        bgpbt_text_printf(&t, "<text x=\"%g\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">", W / 2);
        bgpbt__svg_escape(&t, title);
        bgpbt_text_append(&t, "</text>\n");
    }
    for (p = 0; p < n_panels; ++p) {
        const bgpbt_plot_panel* pn = &panels[p];
        double y0 = (double)top + (double)p * H;
        double px0 = ml, px1 = W - mr, py0 = y0 + mt, py1 = y0 + H - mb;
        double xmin = DBL_MAX, xmax = -DBL_MAX, ymin = DBL_MAX, ymax = -DBL_MAX, step, v;
        int any = 0, legend = 0;
        if (pn->n_series > 0 && !pn->series) { bgpbt_text_free(&t); return BGPBT_ERR_INVALID_ARGUMENT; }
        for (s = 0; s < pn->n_series; ++s) {
            const bgpbt_plot_series* se = &pn->series[s];
            if (se->n > 0 && (!se->x || !se->y)) { bgpbt_text_free(&t); return BGPBT_ERR_INVALID_ARGUMENT; }
            for (i = 0; i < se->n; ++i) {
                double x = se->x[i], y = se->y[i];
                if (!(x == x && y == y) || fabs(x) > DBL_MAX || fabs(y) > DBL_MAX) continue;
                if (pn->log_y) { if (!(y > 0)) continue; y = log10(y); }
                if (x < xmin) xmin = x;
                if (x > xmax) xmax = x;
                if (y < ymin) ymin = y;
                if (y > ymax) ymax = y;
                any = 1;
            }
        }
        if (!any) { xmin = 0; xmax = 1; ymin = 0; ymax = 1; }
        if (xmax - xmin <= 0) { xmin -= 0.5; xmax += 0.5; }
        if (ymax - ymin <= 0) { double d = fabs(ymax) > 0 ? 0.1 * fabs(ymax) : 0.5; ymin -= d; ymax += d; }
        v = 0.05 * (ymax - ymin);
        ymin -= v;
        ymax += v;
#define BGPBT__SX(x) (px0 + ((x) - xmin) / (xmax - xmin) * (px1 - px0))
#define BGPBT__SY(y) (py1 - ((y) - ymin) / (ymax - ymin) * (py1 - py0))
        bgpbt_text_printf(&t, "<g>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#444\"/>\n",
                          px0, py0, px1 - px0, py1 - py0);
        /* ticks and grid */
        step = bgpbt__nice_step(xmax - xmin, 6);
        for (v = ceil(xmin / step) * step; v <= xmax + 1e-9 * step; v += step) {
            char lab[64];
            double X = BGPBT__SX(v);
            bgpbt__svg_tick_label(lab, sizeof lab, fabs(v) < 1e-12 * step ? 0.0 : v);
            bgpbt_text_printf(&t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                              "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                              X, py0, X, py1, X, py1 + 14, lab);
        }
        step = bgpbt__nice_step(ymax - ymin, 5);
        if (pn->log_y && ymax - ymin < 1.5) {
            /* less than two decades: ticks at 1, 2, 5 (or 1..9) times powers of ten */
            static const double m3[3] = {1, 2, 5}, m9[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
            const double* mm = ymax - ymin < 0.5 ? m9 : m3;
            int nm = ymax - ymin < 0.5 ? 9 : 3, dd, q;
            for (dd = (int)floor(ymin); dd <= (int)ceil(ymax); ++dd)
                for (q = 0; q < nm; ++q) {
                    char lab[64];
                    double lv = log10(mm[q]) + dd, Y;
                    if (lv < ymin || lv > ymax) continue;
                    Y = BGPBT__SY(lv);
                    bgpbt__svg_tick_label(lab, sizeof lab, mm[q] * pow(10.0, dd));
                    bgpbt_text_printf(&t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                                      "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                                      px0, Y, px1, Y, px0 - 4, Y + 4, lab);
                }
        } else {
            if (pn->log_y && step < 1) step = 1;
            for (v = ceil(ymin / step) * step; v <= ymax + 1e-9 * step; v += step) {
                char lab[64];
                double Y = BGPBT__SY(v);
                bgpbt__svg_tick_label(lab, sizeof lab, pn->log_y ? pow(10.0, v) : (fabs(v) < 1e-12 * step ? 0.0 : v));
                bgpbt_text_printf(&t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                                  "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                                  px0, Y, px1, Y, px0 - 4, Y + 4, lab);
            }
        }
        if (pn->title) {
            bgpbt_text_printf(&t, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"13\">", (px0 + px1) / 2, py0 - 8);
            bgpbt__svg_escape(&t, pn->title);
            bgpbt_text_append(&t, "</text>\n");
        }
        if (pn->xlabel) {
            bgpbt_text_printf(&t, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", (px0 + px1) / 2, py1 + 32);
            bgpbt__svg_escape(&t, pn->xlabel);
            bgpbt_text_append(&t, "</text>\n");
        }
        if (pn->ylabel) {
            bgpbt_text_printf(&t, "<text transform=\"translate(%.1f,%.1f) rotate(-90)\" text-anchor=\"middle\">",
                              px0 - 58, (py0 + py1) / 2);
            bgpbt__svg_escape(&t, pn->ylabel);
            bgpbt_text_append(&t, "</text>\n");
        }
        for (s = 0; s < pn->n_series; ++s) {
            const bgpbt_plot_series* se = &pn->series[s];
            uint32_t col = se->color ? se->color : palette[s % 10];
            double sw = se->width > 0 ? se->width : 1.5;
            int open = 0;
            double lastY = 0;
            for (i = 0; i < se->n; ++i) {
                double x = se->x[i], y = se->y[i], X, Y;
                int ok = x == x && y == y && fabs(x) <= DBL_MAX && fabs(y) <= DBL_MAX && (!pn->log_y || y > 0);
                if (!ok) {
                    if (open) bgpbt_text_append(&t, "\"/>\n");
                    open = 0;
                    continue;
                }
                if (pn->log_y) y = log10(y);
                X = BGPBT__SX(x);
                Y = BGPBT__SY(y);
                if (se->style == BGPBT_PLOT_POINTS) {
                    bgpbt_text_printf(&t, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"#%06x\" fill-opacity=\"0.7\"/>\n",
                                      X, Y, sw + 1.0, (unsigned)col);
                    continue;
                }
                if (!open) {
                    bgpbt_text_printf(&t, "<polyline fill=\"none\" stroke=\"#%06x\" stroke-width=\"%.2f\" points=\"%.1f,%.1f",
                                      (unsigned)col, sw, X, Y);
                    open = 1;
                } else if (se->style == BGPBT_PLOT_STEPS) {
                    bgpbt_text_printf(&t, " %.1f,%.1f %.1f,%.1f", X, lastY, X, Y);
                } else {
                    bgpbt_text_printf(&t, " %.1f,%.1f", X, Y);
                }
                lastY = Y;
            }
            if (open) bgpbt_text_append(&t, "\"/>\n");
            if (se->label && legend < 16) {
                double ly = py0 + 12 + 15 * legend;
                bgpbt_text_printf(&t, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#%06x\" stroke-width=\"3\"/>"
                                  "<text x=\"%.1f\" y=\"%.1f\">", px1 + 8, ly - 4, px1 + 26, ly - 4, (unsigned)col, px1 + 30, ly);
                bgpbt__svg_escape(&t, se->label);
                bgpbt_text_append(&t, "</text>\n");
                legend++;
            }
        }
#undef BGPBT__SX
#undef BGPBT__SY
        bgpbt_text_append(&t, "</g>\n");
    }
    bgpbt_text_append(&t, "</svg>\n");
    r = bgpbt_text_write_file(&t, path);
    bgpbt_text_free(&t);
    return r;
}

/* ============================================================================================
   [impl.linalg] linalg
   ============================================================================================ */

/* ---- [impl.linalg.gemm] -------------------------------------------------------------------- */

/* ---- [impl.linalg.chol] -------------------------------------------------------------------- */

/* fp64 vectors: AVX2/AVX-512 builds use 256-bit double vectors (Zen 4 splits 512-bit ops in
   two anyway); other builds use plain loops with the same tiling. */
#if defined(BGPBT_SIMD_AVX512) || defined(BGPBT_SIMD_AVX2)
#  define BGPBT__D4 1
#endif

/* out[a*4+b] = sum_{k<K} A[a][k] * B[b][k] for a, b < 4: the register tile every dense fp64
   routine here is built on (16 accumulators, 8 loads per 16 FMAs). Rows are given as pointers
   so callers can clamp rows past the matrix edge to a valid row. */
BGPBT__INLINE void bgpbt__dot4x4(const double* const* A, const double* const* B, int K, double* out) {
#if defined(BGPBT__D4)
    __m256d c00 = _mm256_setzero_pd(), c01 = c00, c02 = c00, c03 = c00, c10 = c00, c11 = c00,
            c12 = c00, c13 = c00, c20 = c00, c21 = c00, c22 = c00, c23 = c00, c30 = c00,
            c31 = c00, c32 = c00, c33 = c00;
    const double *a0 = A[0], *a1 = A[1], *a2 = A[2], *a3 = A[3];
    const double *b0 = B[0], *b1 = B[1], *b2 = B[2], *b3 = B[3];
    int k = 0, a, b;
    for (; k + 4 <= K; k += 4) {
        __m256d x0 = _mm256_loadu_pd(a0 + k), x1 = _mm256_loadu_pd(a1 + k);
        __m256d x2 = _mm256_loadu_pd(a2 + k), x3 = _mm256_loadu_pd(a3 + k);
        __m256d y = _mm256_loadu_pd(b0 + k);
        c00 = _mm256_fmadd_pd(x0, y, c00); c10 = _mm256_fmadd_pd(x1, y, c10);
        c20 = _mm256_fmadd_pd(x2, y, c20); c30 = _mm256_fmadd_pd(x3, y, c30);
        y = _mm256_loadu_pd(b1 + k);
        c01 = _mm256_fmadd_pd(x0, y, c01); c11 = _mm256_fmadd_pd(x1, y, c11);
        c21 = _mm256_fmadd_pd(x2, y, c21); c31 = _mm256_fmadd_pd(x3, y, c31);
        y = _mm256_loadu_pd(b2 + k);
        c02 = _mm256_fmadd_pd(x0, y, c02); c12 = _mm256_fmadd_pd(x1, y, c12);
        c22 = _mm256_fmadd_pd(x2, y, c22); c32 = _mm256_fmadd_pd(x3, y, c32);
        y = _mm256_loadu_pd(b3 + k);
        c03 = _mm256_fmadd_pd(x0, y, c03); c13 = _mm256_fmadd_pd(x1, y, c13);
        c23 = _mm256_fmadd_pd(x2, y, c23); c33 = _mm256_fmadd_pd(x3, y, c33);
    }
    {
        /* horizontal sums: row a of the tile -> one vector [sum c_a0, ..., sum c_a3] */
        __m256d r[4], t0, t1;
        t0 = _mm256_hadd_pd(c00, c01); t1 = _mm256_hadd_pd(c02, c03);
        r[0] = _mm256_add_pd(_mm256_permute2f128_pd(t0, t1, 0x20), _mm256_permute2f128_pd(t0, t1, 0x31));
        t0 = _mm256_hadd_pd(c10, c11); t1 = _mm256_hadd_pd(c12, c13);
        r[1] = _mm256_add_pd(_mm256_permute2f128_pd(t0, t1, 0x20), _mm256_permute2f128_pd(t0, t1, 0x31));
        t0 = _mm256_hadd_pd(c20, c21); t1 = _mm256_hadd_pd(c22, c23);
        r[2] = _mm256_add_pd(_mm256_permute2f128_pd(t0, t1, 0x20), _mm256_permute2f128_pd(t0, t1, 0x31));
        t0 = _mm256_hadd_pd(c30, c31); t1 = _mm256_hadd_pd(c32, c33);
        r[3] = _mm256_add_pd(_mm256_permute2f128_pd(t0, t1, 0x20), _mm256_permute2f128_pd(t0, t1, 0x31));
        for (a = 0; a < 4; ++a) _mm256_storeu_pd(out + 4 * a, r[a]);
    }
    for (; k < K; ++k)
        for (a = 0; a < 4; ++a)
            for (b = 0; b < 4; ++b) out[4 * a + b] += A[a][k] * B[b][k];
#else
    int a, b, k;
    for (a = 0; a < 4; ++a)
        for (b = 0; b < 4; ++b) {
            const double *x = A[a], *y = B[b];
            double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
            for (k = 0; k + 4 <= K; k += 4) {
                s0 += x[k] * y[k]; s1 += x[k + 1] * y[k + 1];
                s2 += x[k + 2] * y[k + 2]; s3 += x[k + 3] * y[k + 3];
            }
            for (; k < K; ++k) s0 += x[k] * y[k];
            out[4 * a + b] = (s0 + s1) + (s2 + s3);
        }
#endif
}

/* Plain dot product with 4 (or 4 x 4 lanes of) partial sums. */
BGPBT__INLINE double bgpbt__ddot(const double* x, const double* y, int n) {
    int k = 0;
#if defined(BGPBT__D4)
    __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
    double t[4];
    for (; k + 16 <= n; k += 16) {
        s0 = _mm256_fmadd_pd(_mm256_loadu_pd(x + k), _mm256_loadu_pd(y + k), s0);
        s1 = _mm256_fmadd_pd(_mm256_loadu_pd(x + k + 4), _mm256_loadu_pd(y + k + 4), s1);
        s2 = _mm256_fmadd_pd(_mm256_loadu_pd(x + k + 8), _mm256_loadu_pd(y + k + 8), s2);
        s3 = _mm256_fmadd_pd(_mm256_loadu_pd(x + k + 12), _mm256_loadu_pd(y + k + 12), s3);
    }
    for (; k + 4 <= n; k += 4) s0 = _mm256_fmadd_pd(_mm256_loadu_pd(x + k), _mm256_loadu_pd(y + k), s0);
    _mm256_storeu_pd(t, _mm256_add_pd(_mm256_add_pd(s0, s1), _mm256_add_pd(s2, s3)));
    {
        double s = (t[0] + t[1]) + (t[2] + t[3]);
        for (; k < n; ++k) s += x[k] * y[k];
        return s;
    }
#else
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    for (; k + 4 <= n; k += 4) {
        s0 += x[k] * y[k]; s1 += x[k + 1] * y[k + 1];
        s2 += x[k + 2] * y[k + 2]; s3 += x[k + 3] * y[k + 3];
    }
    for (; k < n; ++k) s0 += x[k] * y[k];
    return (s0 + s1) + (s2 + s3);
#endif
}

#define BGPBT__CHOL_NB 16
/* (OpenMP only from n >= 128: below that the fork costs more than it saves) */

BGPBT_API bgpbt_result bgpbt_linalg_cholesky(double* a, int n, int lda) {
    int j0, fail = 0;
    if (n < 0 || lda < n || (n > 0 && !a)) return BGPBT_ERR_INVALID_ARGUMENT;
    for (j0 = 0; j0 < n && !fail; j0 += BGPBT__CHOL_NB) {
        int jb = n - j0 < BGPBT__CHOL_NB ? n - j0 : BGPBT__CHOL_NB;
        int i0, i, j, k;
        /* 1. panel update with the finished columns k < j0 (rows j0..n-1, cols j0..j0+jb-1) */
        if (j0 > 0) {
            BGPBT_OMP(parallel for schedule(static) if (n >= 128))
            for (i0 = j0; i0 < n; i0 += 4) {
                const double* A[4];
                const double* B[4];
                double out[16];
                int a_, b_, jj;
                for (a_ = 0; a_ < 4; ++a_) A[a_] = a + (size_t)(i0 + a_ < n ? i0 + a_ : n - 1) * lda;
                for (jj = j0; jj < j0 + jb && jj <= i0 + 3; jj += 4) {
                    for (b_ = 0; b_ < 4; ++b_)
                        B[b_] = a + (size_t)(jj + b_ < j0 + jb ? jj + b_ : j0 + jb - 1) * lda;
                    bgpbt__dot4x4(A, B, j0, out);
                    for (a_ = 0; a_ < 4 && i0 + a_ < n; ++a_)
                        for (b_ = 0; b_ < 4 && jj + b_ < j0 + jb && jj + b_ <= i0 + a_; ++b_)
                            a[(size_t)(i0 + a_) * lda + jj + b_] -= out[4 * a_ + b_];
                }
            }
        }
        /* 2. the diagonal block, unblocked */
        for (i = j0; i < j0 + jb && !fail; ++i) {
            double* ri = a + (size_t)i * lda;
            for (j = j0; j <= i; ++j) {
                const double* rj = a + (size_t)j * lda;
                double s = ri[j];
                for (k = j0; k < j; ++k) s -= ri[k] * rj[k];
                if (i == j) {
                    if (!(s > 0.0) || !(s < HUGE_VAL)) { fail = 1; break; }
                    ri[i] = sqrt(s);
                } else {
                    ri[j] = s / rj[j];
                }
            }
        }
        if (fail) break;
        /* 3. the rows below the diagonal block: a small triangular solve per row */
        BGPBT_OMP(parallel for schedule(static) if (n >= 128))
        for (i = j0 + jb; i < n; ++i) {
            double* ri = a + (size_t)i * lda;
            int jj, kk;
            for (jj = j0; jj < j0 + jb; ++jj) {
                const double* rj = a + (size_t)jj * lda;
                double s = ri[jj];
                for (kk = j0; kk < jj; ++kk) s -= ri[kk] * rj[kk];
                ri[jj] = s / rj[jj];
            }
        }
    }
    return fail ? BGPBT_ERR_NOT_POSITIVE_DEFINITE : BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_linalg_cholesky_jitter(const double* a, int lda, double* l, int ldl,
                                                    int n, double* jitter_used,
                                                    const bgpbt_logger* logger) {
    double mean_diag = 0.0, jitter = 0.0;
    int i, j, attempt;
    if (jitter_used) *jitter_used = 0.0;
    if (n < 0 || lda < n || ldl < n || (n > 0 && (!a || !l)))
        return bgpbt__error(logger, BGPBT_ERR_INVALID_ARGUMENT, "cholesky: bad sizes n=%d lda=%d ldl=%d", n, lda, ldl);
    for (i = 0; i < n; ++i)
        for (j = 0; j <= i; ++j) {
            double v = a[(size_t)i * lda + j];
            if (!(v - v == 0.0))
                return bgpbt__error(logger, BGPBT_ERR_NOT_FINITE, "cholesky: entry (%d, %d) is %g", i, j, v);
        }
    for (i = 0; i < n; ++i) mean_diag += fabs(a[(size_t)i * lda + i]);
    mean_diag = n > 0 ? mean_diag / n : 0.0;
    for (attempt = 0; attempt < 8; ++attempt) {
        if (attempt > 0) {
            if (a == l || !(mean_diag > 0.0)) break;
            jitter = mean_diag * 1e-9 * pow(10.0, (double)(attempt - 1));
        }
        if (a != l)
            for (i = 0; i < n; ++i) memcpy(l + (size_t)i * ldl, a + (size_t)i * lda, (size_t)(i + 1) * sizeof(double));
        for (i = 0; i < n; ++i) l[(size_t)i * ldl + i] += jitter;
        if (bgpbt_linalg_cholesky(l, n, ldl) == BGPBT_OK) {
            if (jitter_used) *jitter_used = jitter;
            return BGPBT_OK;
        }
    }
    return bgpbt__error(logger, BGPBT_ERR_NOT_POSITIVE_DEFINITE,
                        "cholesky: %d x %d matrix is not positive definite even with jitter %g (1e-3 of its mean diagonal)",
                        n, n, mean_diag * 1e-3);
}

BGPBT_API void bgpbt_linalg_solve_lower(const double* l, int ldl, int n, double* b) {
    int i;
    for (i = 0; i < n; ++i) {
        const double* r = l + (size_t)i * ldl;
        b[i] = (b[i] - bgpbt__ddot(r, b, i)) / r[i];
    }
}

BGPBT_API void bgpbt_linalg_solve_lower_t(const double* l, int ldl, int n, double* b) {
    int i, k;
    for (i = n - 1; i >= 0; --i) {
        const double* r = l + (size_t)i * ldl;
        double x = b[i] / r[i];
        b[i] = x;
        for (k = 0; k < i; ++k) b[k] -= x * r[k]; /* axpy: vectorises without reassociation */
    }
}

/* M = L^{-T}: row j of M holds column j of L^{-1}. For i > j,
   M[j][i] = -sum_{k=j}^{i-1} L[i][k] M[j][k] / L[i][i]; rows of M are independent, so they
   are split across threads, 4 at a time, with 4 x 4 tiles for the long dot products. */
BGPBT_API void bgpbt_linalg_lower_inverse(const double* l, int ldl, int n, double* m, int ldm) {
    int j0;
    BGPBT_OMP(parallel for schedule(dynamic, 1) if (n >= 128))
    for (j0 = 0; j0 < n; j0 += 4) {
        int a_, b_, i, k, i0;
        int ja = n - j0 < 4 ? n - j0 : 4;
        for (a_ = 0; a_ < ja; ++a_) {
            double* mr = m + (size_t)(j0 + a_) * ldm;
            memset(mr, 0, (size_t)(j0 + a_) * sizeof(double));
        }
        /* the first few columns (i < j0 + 4): scalar */
        for (a_ = 0; a_ < ja; ++a_) {
            int j = j0 + a_;
            double* mr = m + (size_t)j * ldm;
            for (i = j; i < j0 + 4 && i < n; ++i) {
                const double* lr = l + (size_t)i * ldl;
                double s = (i == j) ? 1.0 : 0.0;
                for (k = j; k < i; ++k) s -= lr[k] * mr[k];
                mr[i] = s / lr[i];
            }
        }
        for (i0 = j0 + 4; i0 < n; i0 += 4) {
            const double* A[4];
            const double* B[4];
            double out[16];
            int ib = n - i0 < 4 ? n - i0 : 4;
            for (a_ = 0; a_ < 4; ++a_) A[a_] = m + (size_t)(j0 + (a_ < ja ? a_ : ja - 1)) * ldm + j0;
            for (b_ = 0; b_ < 4; ++b_) B[b_] = l + (size_t)(i0 + (b_ < ib ? b_ : ib - 1)) * ldl + j0;
            bgpbt__dot4x4(A, B, i0 - j0, out);
            for (a_ = 0; a_ < ja; ++a_) {
                double* mr = m + (size_t)(j0 + a_) * ldm;
                for (b_ = 0; b_ < ib; ++b_) {
                    const double* lr = l + (size_t)(i0 + b_) * ldl;
                    double s = -out[4 * a_ + b_];
                    for (k = i0; k < i0 + b_; ++k) s -= lr[k] * mr[k];
                    mr[i0 + b_] = s / lr[i0 + b_];
                }
            }
        }
    }
}

/* ============================================================================================
   [impl.sim] sim
   ============================================================================================ */

/* ============================================================================================
   [impl.env] env
   ============================================================================================ */

/* ============================================================================================
   [impl.nn] nn
   ============================================================================================ */

/* ============================================================================================
   [impl.ppo] ppo
   ============================================================================================ */

/* ============================================================================================
   [impl.gp] gp
   ============================================================================================ */

/* ---- normal distribution helpers ----------------------------------------------------------- */

BGPBT_API double bgpbt_normal_pdf(double x) { return 0.39894228040143267794 * exp(-0.5 * x * x); }
BGPBT_API double bgpbt_normal_cdf(double x) { return 0.5 * erfc(-x * 0.70710678118654752440); }

BGPBT_API double bgpbt_normal_quantile(double p) {
    double q, t, x;
    int it;
    if (!(p > 0.0)) return p == 0.0 ? -HUGE_VAL : p;   /* NaN stays NaN */
    if (!(p < 1.0)) return p == 1.0 ? HUGE_VAL : (p - p) / (p - p);
    q = p < 0.5 ? p : 1.0 - p;
    /* Abramowitz & Stegun 26.2.23 (|error| < 4.5e-4), then Halley steps on erfc */
    t = sqrt(-2.0 * log(q));
    x = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) /
                (1.0 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
    x = -x; /* lower tail */
    for (it = 0; it < 4; ++it) {
        double e = 0.5 * erfc(-x * 0.70710678118654752440) - q;
        double u = e * 2.50662827463100050242 * exp(0.5 * x * x);
        x = x - u / (1.0 + 0.5 * x * u);
    }
    return p < 0.5 ? x : -x;
}

/* ---- the GP object ------------------------------------------------------------------------- */

#define BGPBT__GP_MAXP (4 + 2 * BGPBT_GP_MAX_DIM)
#define BGPBT__GP_CHUNK 64
#define BGPBT__GP_KCROWS (BGPBT_GP_MAX_DIM + 4) /* >= CHUNK: candidates, or k, v, w and dk/dx */

struct bgpbt_gp {
    bgpbt_gp_config cfg;
    int dim, ncont, ncat, both;
    int cont[BGPBT_GP_MAX_DIM], cat[BGPBT_GP_MAX_DIM];
    double lambda;
    /* raw parameter layout: index of each group in the raw vector, -1 when fixed */
    int np, i_mean, i_scale, i_noise, i_eps, i_ls, n_ls, i_cw, n_cw;
    double raw[BGPBT__GP_MAXP];
    bgpbt_gp_hypers h;
    double ls_lo, ls_hi, cw_lo, cw_hi, s_lo, s_hi, nz_lo, nz_hi, e_lo, e_hi;
    /* data (rows 0..n-1) and pending points (rows n..n+npend-1) */
    int n, npend, cap;
    double *X, *t, *yraw, *y, *alpha;
    double t_latest, y_shift, y_scale;
    int factored, pend_factored;
    double jitter;
    /* factors: L, L^{-1} of the data; Lp, Lp^{-1} of data + pending; scratch */
    double *L, *Linv, *Lp, *Linvp, *Kw, *Lw, *Mw, *grow_buf, *kc, *z;
    bgpbt_gp_fit_info info;
    bgpbt_rng rng;
};

/* evaluated kernel constants */
typedef struct bgpbt__gpk {
    double s, lam, half_log1me, dlog1me; /* k_time = exp(|dt| half_log1me) */
    double inv_ls[BGPBT_GP_MAX_DIM];     /* per continuous index */
    double cw[BGPBT_GP_MAX_DIM];         /* per categorical index, already divided by n_cat */
    int matern, tv, ncont, ncat, both;
} bgpbt__gpk;

BGPBT__INLINE double bgpbt__sigmoid(double u) {
    return u >= 0.0 ? 1.0 / (1.0 + exp(-u)) : exp(u) / (1.0 + exp(u));
}
BGPBT__INLINE double bgpbt__logit(double f) {
    if (f < 1e-12) f = 1e-12;
    if (f > 1.0 - 1e-12) f = 1.0 - 1e-12;
    return log(f / (1.0 - f));
}
/* positive parameter in [lo, hi] by a sigmoid in log space */
BGPBT__INLINE double bgpbt__gp_pos(double u, double lo, double hi) {
    return exp(log(lo) + (log(hi) - log(lo)) * bgpbt__sigmoid(u));
}
BGPBT__INLINE double bgpbt__gp_pos_inv(double p, double lo, double hi) {
    if (hi <= lo) return 0.0;
    return bgpbt__logit((log(p) - log(lo)) / (log(hi) - log(lo)));
}
/* d log p / d u */
BGPBT__INLINE double bgpbt__gp_pos_d(double u, double lo, double hi) {
    double sg = bgpbt__sigmoid(u);
    return (log(hi) - log(lo)) * sg * (1.0 - sg);
}

BGPBT_API bgpbt_gp_config bgpbt_gp_config_default(void) {
    bgpbt_gp_config c;
    memset(&c, 0, sizeof c);
    c.mix_lambda = 0.5;
    c.lengthscale_init = 0.5;
    c.cat_weight_min = 0.01;
    c.cat_weight_max = 5.0;
    c.cat_weight_init = 1.0;
    c.outputscale_min = 0.05;
    c.outputscale_max = 20.0;
    c.outputscale_init = 1.0;
    c.noise_min = 1e-6;
    c.noise_max = 0.1;
    c.noise_init = 1e-3;
    c.eps_min = 1e-4;
    c.eps_max = 0.999;
    c.eps_init = 0.5;
    c.fit_restarts = 3;
    c.fit_max_iter = 100;
    c.max_points = 4096;
    return c;
}

BGPBT_API bgpbt_gp_config bgpbt_gp_config_pb2(int dim) {
    bgpbt_gp_config c = bgpbt_gp_config_default();
    c.dim = dim;
    c.kernel = BGPBT_GP_SE;
    c.time_varying = 1;
    c.eps_max = 0.5;
    c.eps_init = 0.1;
    c.output = BGPBT_GP_STANDARDIZE;
    c.y_clip = 2.0;
    /* GPy's (and Ray's sklearn) wide positive boxes, on l_pb2 = 2 l^2 in [1e-5, 1] after the fit */
    c.lengthscale_min = 0.0022; /* sqrt(1e-5 / 2) */
    c.lengthscale_max = 0.7072; /* sqrt(1 / 2) */
    c.lengthscale_init = 0.7071; /* l_pb2 = 1 */
    return c;
}

BGPBT__PRIVATE double bgpbt__dflt(double v, double d) { return v > 0.0 ? v : d; }

BGPBT__PRIVATE void bgpbt__gp_free_bufs(bgpbt_gp* gp) {
    const bgpbt_allocator* A = &gp->cfg.allocator;
    size_t c = (size_t)gp->cap, c2 = c * c;
    if (!gp->cap) return;
    bgpbt__cfree(A, gp->X, c, sizeof(double) * (size_t)gp->dim);
    bgpbt__cfree(A, gp->t, c, sizeof(double));
    bgpbt__cfree(A, gp->yraw, c, sizeof(double));
    bgpbt__cfree(A, gp->y, c, sizeof(double));
    bgpbt__cfree(A, gp->alpha, c, sizeof(double));
    bgpbt__cfree(A, gp->L, c2, sizeof(double));
    bgpbt__cfree(A, gp->Linv, c2, sizeof(double));
    bgpbt__cfree(A, gp->Lp, c2, sizeof(double));
    bgpbt__cfree(A, gp->Linvp, c2, sizeof(double));
    bgpbt__cfree(A, gp->Kw, c2, sizeof(double));
    bgpbt__cfree(A, gp->Lw, c2, sizeof(double));
    bgpbt__cfree(A, gp->Mw, c2, sizeof(double));
    bgpbt__cfree(A, gp->grow_buf, c, sizeof(double) * BGPBT__GP_MAXP);
    bgpbt__cfree(A, gp->kc, c * BGPBT__GP_KCROWS, sizeof(double));
    bgpbt__cfree(A, gp->z, c, sizeof(double) * (size_t)(gp->dim + 1));
    gp->cap = 0;
}

/* Make room for `need` points (data + pending). All-or-nothing: on failure nothing changes.
   Keeps X, t, yraw, y (the first n + npend rows); factors must be recomputed after. */
BGPBT__PRIVATE bgpbt_result bgpbt__gp_reserve(bgpbt_gp* gp, int need) {
    bgpbt_gp tmp;
    const bgpbt_allocator* A = &gp->cfg.allocator;
    size_t c, c2;
    int cap;
    if (need <= gp->cap) return BGPBT_OK;
    if (need > gp->cfg.max_points)
        return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_LIMIT, "gp: %d points exceed max_points %d", need, gp->cfg.max_points);
    cap = gp->cap ? gp->cap : 16;
    while (cap < need) cap *= 2;
    if (cap > gp->cfg.max_points) cap = gp->cfg.max_points;
    c = (size_t)cap;
    c2 = c * c;
    memset(&tmp, 0, sizeof tmp);
    tmp.cfg = gp->cfg;
    tmp.dim = gp->dim;
    tmp.cap = cap;
    tmp.X = (double*)bgpbt__calloc(A, c, sizeof(double) * (size_t)gp->dim);
    tmp.t = (double*)bgpbt__calloc(A, c, sizeof(double));
    tmp.yraw = (double*)bgpbt__calloc(A, c, sizeof(double));
    tmp.y = (double*)bgpbt__calloc(A, c, sizeof(double));
    tmp.alpha = (double*)bgpbt__calloc(A, c, sizeof(double));
    tmp.L = (double*)bgpbt__calloc(A, c2, sizeof(double));
    tmp.Linv = (double*)bgpbt__calloc(A, c2, sizeof(double));
    tmp.Lp = (double*)bgpbt__calloc(A, c2, sizeof(double));
    tmp.Linvp = (double*)bgpbt__calloc(A, c2, sizeof(double));
    tmp.Kw = (double*)bgpbt__calloc(A, c2, sizeof(double));
    tmp.Lw = (double*)bgpbt__calloc(A, c2, sizeof(double));
    tmp.Mw = (double*)bgpbt__calloc(A, c2, sizeof(double));
    tmp.grow_buf = (double*)bgpbt__calloc(A, c, sizeof(double) * BGPBT__GP_MAXP);
    tmp.kc = (double*)bgpbt__calloc(A, c * BGPBT__GP_KCROWS, sizeof(double));
    tmp.z = (double*)bgpbt__calloc(A, c, sizeof(double) * (size_t)(gp->dim + 1));
    if (!tmp.X || !tmp.t || !tmp.yraw || !tmp.y || !tmp.alpha || !tmp.L || !tmp.Linv || !tmp.Lp ||
        !tmp.Linvp || !tmp.Kw || !tmp.Lw || !tmp.Mw || !tmp.grow_buf || !tmp.kc || !tmp.z) {
        bgpbt__gp_free_bufs(&tmp);
        return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_OUT_OF_MEMORY, "gp: cannot allocate room for %d points", cap);
    }
    if (gp->cap) {
        int rows = gp->n + gp->npend;
        if (rows > 0) {
            memcpy(tmp.X, gp->X, (size_t)rows * (size_t)gp->dim * sizeof(double));
            memcpy(tmp.t, gp->t, (size_t)rows * sizeof(double));
            memcpy(tmp.yraw, gp->yraw, (size_t)rows * sizeof(double));
            memcpy(tmp.y, gp->y, (size_t)rows * sizeof(double));
        }
        bgpbt__gp_free_bufs(gp);
    }
    gp->cap = cap;
    gp->X = tmp.X; gp->t = tmp.t; gp->yraw = tmp.yraw; gp->y = tmp.y; gp->alpha = tmp.alpha;
    gp->L = tmp.L; gp->Linv = tmp.Linv; gp->Lp = tmp.Lp; gp->Linvp = tmp.Linvp;
    gp->Kw = tmp.Kw; gp->Lw = tmp.Lw; gp->Mw = tmp.Mw; gp->grow_buf = tmp.grow_buf;
    gp->kc = tmp.kc; gp->z = tmp.z;
    gp->factored = 0;
    gp->pend_factored = 0;
    return BGPBT_OK;
}

/* raw -> natural hyperparameters */
BGPBT__PRIVATE void bgpbt__gp_decode(const bgpbt_gp* gp, const double* raw, bgpbt_gp_hypers* h) {
    int i;
    h->mean = gp->i_mean >= 0 ? raw[gp->i_mean] : gp->cfg.mean_init;
    h->outputscale = gp->i_scale >= 0 ? bgpbt__gp_pos(raw[gp->i_scale], gp->s_lo, gp->s_hi) : gp->s_lo;
    h->noise = gp->i_noise >= 0 ? bgpbt__gp_pos(raw[gp->i_noise], gp->nz_lo, gp->nz_hi) : gp->nz_lo;
    h->eps = gp->i_eps >= 0 ? gp->e_lo + (gp->e_hi - gp->e_lo) * bgpbt__sigmoid(raw[gp->i_eps]) : gp->e_lo;
    if (!gp->cfg.time_varying) h->eps = 0.0;
    for (i = 0; i < BGPBT_GP_MAX_DIM; ++i) { h->lengthscale[i] = 0.0; h->cat_weight[i] = 0.0; }
    for (i = 0; i < gp->ncont; ++i) {
        int r = gp->n_ls > 1 ? i : 0;
        h->lengthscale[gp->cont[i]] = gp->i_ls >= 0 ? bgpbt__gp_pos(raw[gp->i_ls + r], gp->ls_lo, gp->ls_hi) : gp->ls_lo;
    }
    for (i = 0; i < gp->ncat; ++i) {
        int r = gp->n_cw > 1 ? i : 0;
        h->cat_weight[gp->cat[i]] = gp->i_cw >= 0 ? bgpbt__gp_pos(raw[gp->i_cw + r], gp->cw_lo, gp->cw_hi) : gp->cw_lo;
    }
}

BGPBT__PRIVATE double bgpbt__clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

/* natural -> raw (values clamped into their boxes) */
BGPBT__PRIVATE void bgpbt__gp_encode(const bgpbt_gp* gp, const bgpbt_gp_hypers* h, double* raw) {
    int i;
    if (gp->i_mean >= 0) raw[gp->i_mean] = h->mean;
    if (gp->i_scale >= 0) raw[gp->i_scale] = bgpbt__gp_pos_inv(bgpbt__clampd(h->outputscale, gp->s_lo, gp->s_hi), gp->s_lo, gp->s_hi);
    if (gp->i_noise >= 0) raw[gp->i_noise] = bgpbt__gp_pos_inv(bgpbt__clampd(h->noise, gp->nz_lo, gp->nz_hi), gp->nz_lo, gp->nz_hi);
    if (gp->i_eps >= 0) raw[gp->i_eps] = bgpbt__logit((bgpbt__clampd(h->eps, gp->e_lo, gp->e_hi) - gp->e_lo) / (gp->e_hi - gp->e_lo));
    for (i = 0; i < gp->n_ls; ++i) {
        double v = h->lengthscale[gp->cont[i]];
        raw[gp->i_ls + i] = bgpbt__gp_pos_inv(bgpbt__clampd(v > 0.0 ? v : gp->ls_lo, gp->ls_lo, gp->ls_hi), gp->ls_lo, gp->ls_hi);
    }
    for (i = 0; i < gp->n_cw; ++i) {
        double v = h->cat_weight[gp->cat[i]];
        raw[gp->i_cw + i] = bgpbt__gp_pos_inv(bgpbt__clampd(v > 0.0 ? v : gp->cw_lo, gp->cw_lo, gp->cw_hi), gp->cw_lo, gp->cw_hi);
    }
}

BGPBT__PRIVATE void bgpbt__gp_consts(const bgpbt_gp* gp, const bgpbt_gp_hypers* h, bgpbt__gpk* k) {
    int i;
    k->s = h->outputscale;
    k->lam = gp->lambda;
    k->tv = gp->cfg.time_varying;
    k->half_log1me = k->tv ? 0.5 * log1p(-h->eps) : 0.0;
    k->dlog1me = k->tv ? -1.0 / (1.0 - h->eps) : 0.0;
    k->matern = gp->cfg.kernel == BGPBT_GP_MATERN52;
    k->ncont = gp->ncont;
    k->ncat = gp->ncat;
    k->both = gp->both;
    for (i = 0; i < gp->ncont; ++i) k->inv_ls[i] = 1.0 / h->lengthscale[gp->cont[i]];
    for (i = 0; i < gp->ncat; ++i) k->cw[i] = h->cat_weight[gp->cat[i]] / gp->ncat;
}

/* scaled features of one point: z[c] = x[cont c] / l_c, then the categories */
BGPBT__INLINE void bgpbt__gp_feat(const bgpbt_gp* gp, const bgpbt__gpk* k, const double* x, double* z) {
    int c;
    for (c = 0; c < gp->ncont; ++c) z[c] = x[gp->cont[c]] * k->inv_ls[c];
    for (c = 0; c < gp->ncat; ++c) z[gp->ncont + c] = x[gp->cat[c]];
}

/* pieces of k for a pair of feature rows */
typedef struct bgpbt__gpp { double k, kx, kh, kt, dkx_dr2, r2, hsum, dcx, dch; } bgpbt__gpp;

BGPBT__INLINE void bgpbt__gp_pair(const bgpbt__gpk* K, const double* za, const double* zb, double dt, bgpbt__gpp* p) {
    double comb = 1.0;
    int c;
    p->kx = 1.0; p->kh = 1.0; p->dkx_dr2 = 0.0; p->r2 = 0.0; p->hsum = 0.0;
    if (K->ncont) {
        double r2 = 0.0;
        for (c = 0; c < K->ncont; ++c) { double d = za[c] - zb[c]; r2 += d * d; }
        p->r2 = r2;
        if (K->matern) {
            double r = sqrt(5.0 * r2), e = exp(-r);
            p->kx = (1.0 + r + (5.0 / 3.0) * r2) * e;
            p->dkx_dr2 = -(5.0 / 6.0) * (1.0 + r) * e;
        } else {
            p->kx = exp(-0.5 * r2);
            p->dkx_dr2 = -0.5 * p->kx;
        }
    }
    if (K->ncat) {
        double hs = 0.0;
        for (c = 0; c < K->ncat; ++c) hs += za[K->ncont + c] == zb[K->ncont + c] ? K->cw[c] : 0.0;
        p->hsum = hs;
        p->kh = exp(hs);
    }
    if (K->both) {
        comb = (1.0 - K->lam) * (p->kx + p->kh) + K->lam * p->kx * p->kh;
        p->dcx = (1.0 - K->lam) + K->lam * p->kh;
        p->dch = (1.0 - K->lam) + K->lam * p->kx;
    } else {
        comb = K->ncont ? p->kx : p->kh;
        p->dcx = 1.0;
        p->dch = 1.0;
    }
    p->kt = K->tv ? exp(fabs(dt) * K->half_log1me) : 1.0;
    p->k = K->s * comb * p->kt;
}

/* k(x, x) */
BGPBT__PRIVATE double bgpbt__gp_kself(const bgpbt__gpk* K) {
    double kh = 1.0, comb;
    int c;
    if (K->ncat) { double hs = 0.0; for (c = 0; c < K->ncat; ++c) hs += K->cw[c]; kh = exp(hs); }
    if (K->both) comb = (1.0 - K->lam) * (1.0 + kh) + K->lam * kh;
    else comb = K->ncont ? 1.0 : kh;
    return K->s * comb;
}

/* features of rows 0..rows-1 into gp->z (stride zs) */
BGPBT__PRIVATE void bgpbt__gp_feats(bgpbt_gp* gp, const bgpbt__gpk* K, int rows) {
    int i, zs = gp->dim + 1;
    for (i = 0; i < rows; ++i) bgpbt__gp_feat(gp, K, gp->X + (size_t)i * gp->dim, gp->z + (size_t)i * zs);
}

/* lower triangle of K(rows x rows) + noise on the diagonal of the first n_noise rows... all rows
   get the noise (pending points are fantasy observations with the same noise) */
BGPBT__PRIVATE void bgpbt__gp_kmat(bgpbt_gp* gp, const bgpbt__gpk* K, double noise, int rows, double* out) {
    int i, zs = gp->dim + 1;
    BGPBT_OMP(parallel for schedule(dynamic, 16) if (rows >= 128))
    for (i = 0; i < rows; ++i) {
        int j;
        bgpbt__gpp p;
        const double* zi = gp->z + (size_t)i * zs;
        double* row = out + (size_t)i * gp->cap;
        for (j = 0; j <= i; ++j) {
            bgpbt__gp_pair(K, zi, gp->z + (size_t)j * zs, gp->t[i] - gp->t[j], &p);
            row[j] = p.k;
        }
        row[i] += noise;
    }
}

/* Kinv (lower) = M^T M restricted... Kinv_ij = sum_{k >= i} M[i][k] M[j][k] for j <= i */
BGPBT__PRIVATE void bgpbt__gp_kinv(const double* M, int ld, int n, double* out) {
    int i0;
    BGPBT_OMP(parallel for schedule(dynamic, 1) if (n >= 128))
    for (i0 = 0; i0 < n; i0 += 4) {
        const double* A[4];
        const double* B[4];
        double o[16];
        int a, b, j0;
        for (a = 0; a < 4; ++a) A[a] = M + (size_t)(i0 + a < n ? i0 + a : n - 1) * ld + i0;
        for (j0 = 0; j0 <= i0; j0 += 4) {
            for (b = 0; b < 4; ++b) B[b] = M + (size_t)(j0 + b < n ? j0 + b : n - 1) * ld + i0;
            bgpbt__dot4x4(A, B, n - i0, o);
            for (a = 0; a < 4 && i0 + a < n; ++a)
                for (b = 0; b < 4 && j0 + b <= i0 + a; ++b) out[(size_t)(i0 + a) * ld + j0 + b] = o[4 * a + b];
        }
    }
}

BGPBT__PRIVATE void bgpbt__transpose_upper(const double* M, int ld, int n, double* out) {
    int i, j;
    for (i = 0; i < n; ++i) {
        double* r = out + (size_t)i * ld;
        for (j = 0; j <= i; ++j) r[j] = M[(size_t)j * ld + i];
        for (j = i + 1; j < n; ++j) r[j] = 0.0;
    }
}

/* Factor data rows (pending = 0) or data + pending rows (pending = 1) at gp->h. */
BGPBT__PRIVATE bgpbt_result bgpbt__gp_factor(bgpbt_gp* gp, int pending) {
    bgpbt__gpk K;
    int rows = gp->n + (pending ? gp->npend : 0), i;
    double jit = 0.0;
    bgpbt_result r;
    double *L = pending ? gp->Lp : gp->L, *Linv = pending ? gp->Linvp : gp->Linv;
    if (pending) gp->pend_factored = 0; else { gp->factored = 0; gp->pend_factored = 0; }
    if (rows == 0) { if (pending) gp->pend_factored = 1; else gp->factored = 1; return BGPBT_OK; }
    bgpbt__gp_consts(gp, &gp->h, &K);
    bgpbt__gp_feats(gp, &K, rows);
    bgpbt__gp_kmat(gp, &K, gp->h.noise, rows, gp->Kw);
    r = bgpbt_linalg_cholesky_jitter(gp->Kw, gp->cap, L, gp->cap, rows, &jit, &gp->cfg.logger);
    if (r != BGPBT_OK) return r;
    bgpbt_linalg_lower_inverse(L, gp->cap, rows, gp->Mw, gp->cap);
    bgpbt__transpose_upper(gp->Mw, gp->cap, rows, Linv);
    if (!pending) {
        gp->jitter = jit;
        for (i = 0; i < gp->n; ++i) gp->alpha[i] = gp->y[i] - gp->h.mean;
        bgpbt_linalg_solve_lower(L, gp->cap, gp->n, gp->alpha);
        bgpbt_linalg_solve_lower_t(L, gp->cap, gp->n, gp->alpha);
        gp->factored = 1;
        gp->pend_factored = 1;
        if (gp->npend > 0) return bgpbt__gp_factor(gp, 1);
    } else {
        gp->pend_factored = 1;
    }
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_gp_create(const bgpbt_gp_config* config, bgpbt_gp** out) {
    bgpbt_gp_config c;
    bgpbt_gp* gp;
    const bgpbt_logger* log = config ? &config->logger : NULL;
    int i, p;
    if (out) *out = NULL;
    if (!config || !out) return bgpbt__error(log, BGPBT_ERR_INVALID_ARGUMENT, "gp_create: config and out must not be NULL");
    c = *config;
    if (c.dim < 1 || c.dim > BGPBT_GP_MAX_DIM)
        return bgpbt__error(log, BGPBT_ERR_INVALID_ARGUMENT, "gp_create: dim %d is not in 1..%d", c.dim, BGPBT_GP_MAX_DIM);
    for (i = 0; i < c.dim; ++i)
        if (c.num_categories[i] < 0 || c.num_categories[i] == 1)
            return bgpbt__error(log, BGPBT_ERR_INVALID_ARGUMENT, "gp_create: num_categories[%d] = %d (0 = continuous, >= 2 categorical)", i, c.num_categories[i]);
    if ((int)c.kernel < 0 || (int)c.kernel > 1 || (int)c.output < 0 || (int)c.output > 2)
        return bgpbt__error(log, BGPBT_ERR_INVALID_ARGUMENT, "gp_create: unknown kernel %d or output transform %d", (int)c.kernel, (int)c.output);
    gp = (bgpbt_gp*)bgpbt_mem_alloc(&c.allocator, sizeof(bgpbt_gp), 64);
    if (!gp) return bgpbt__error(log, BGPBT_ERR_OUT_OF_MEMORY, "gp_create: out of memory");
    memset(gp, 0, sizeof *gp);
    gp->dim = c.dim;
    for (i = 0; i < c.dim; ++i) {
        if (c.num_categories[i]) gp->cat[gp->ncat++] = i;
        else gp->cont[gp->ncont++] = i;
    }
    gp->both = gp->ncont > 0 && gp->ncat > 0;
    gp->lambda = c.mix_lambda > 0.0 ? (c.mix_lambda < 1.0 ? c.mix_lambda : 1.0) : 0.5;
    gp->ls_lo = bgpbt__dflt(c.lengthscale_min, 0.005);
    gp->ls_hi = bgpbt__dflt(c.lengthscale_max, c.ard ? 2.0 : (gp->ncont > 1 ? sqrt((double)gp->ncont) : 1.0));
    gp->cw_lo = bgpbt__dflt(c.cat_weight_min, 0.01);
    gp->cw_hi = bgpbt__dflt(c.cat_weight_max, 5.0);
    gp->s_lo = bgpbt__dflt(c.outputscale_min, 0.05);
    gp->s_hi = bgpbt__dflt(c.outputscale_max, 20.0);
    gp->nz_lo = bgpbt__dflt(c.noise_min, 1e-6);
    gp->nz_hi = bgpbt__dflt(c.noise_max, 0.1);
    gp->e_lo = bgpbt__dflt(c.eps_min, 1e-4);
    gp->e_hi = bgpbt__dflt(c.eps_max, 0.999);
    if (gp->ls_hi < gp->ls_lo || gp->cw_hi < gp->cw_lo || gp->s_hi < gp->s_lo || gp->nz_hi < gp->nz_lo ||
        gp->e_hi < gp->e_lo || gp->e_hi >= 1.0) {
        bgpbt_mem_free(&c.allocator, gp, sizeof(bgpbt_gp));
        return bgpbt__error(log, BGPBT_ERR_EMPTY_RANGE, "gp_create: a hyperparameter box is reversed (or eps_max >= 1)");
    }
    c.lengthscale_init = bgpbt__dflt(c.lengthscale_init, 0.5);
    c.cat_weight_init = bgpbt__dflt(c.cat_weight_init, 1.0);
    c.outputscale_init = bgpbt__dflt(c.outputscale_init, 1.0);
    c.noise_init = bgpbt__dflt(c.noise_init, 1e-3);
    c.eps_init = bgpbt__dflt(c.eps_init, 0.5);
    if (c.fit_restarts == 0) c.fit_restarts = 3;
    if (c.fit_restarts < 0) c.fit_restarts = 0;
    if (c.fit_max_iter <= 0) c.fit_max_iter = 100;
    if (c.max_points <= 0) c.max_points = 4096;
    gp->cfg = c;
    /* layout */
    p = 0;
    gp->i_mean = c.fixed_mean ? -1 : p++;
    gp->i_scale = gp->s_hi > gp->s_lo ? p++ : -1;
    gp->i_noise = gp->nz_hi > gp->nz_lo ? p++ : -1;
    gp->i_eps = (c.time_varying && gp->e_hi > gp->e_lo) ? p++ : -1;
    gp->n_ls = (gp->ncont && gp->ls_hi > gp->ls_lo) ? (c.ard ? gp->ncont : 1) : 0;
    gp->i_ls = gp->n_ls ? p : -1;
    p += gp->n_ls;
    gp->n_cw = (gp->ncat && gp->cw_hi > gp->cw_lo) ? (c.ard ? gp->ncat : 1) : 0;
    gp->i_cw = gp->n_cw ? p : -1;
    p += gp->n_cw;
    gp->np = p;
    {
        bgpbt_gp_hypers h;
        memset(&h, 0, sizeof h);
        h.mean = c.mean_init;
        h.outputscale = c.outputscale_init;
        h.noise = c.noise_init;
        h.eps = c.eps_init;
        for (i = 0; i < gp->ncont; ++i) h.lengthscale[gp->cont[i]] = c.lengthscale_init;
        for (i = 0; i < gp->ncat; ++i) h.cat_weight[gp->cat[i]] = c.cat_weight_init;
        bgpbt__gp_encode(gp, &h, gp->raw);
        bgpbt__gp_decode(gp, gp->raw, &gp->h);
    }
    bgpbt_rng_init(&gp->rng, c.seed, 0x67707267ull);
    gp->y_scale = 1.0;
    gp->factored = 1; /* empty GP: the prior */
    gp->pend_factored = 1;
    *out = gp;
    return BGPBT_OK;
}

BGPBT_API void bgpbt_gp_destroy(bgpbt_gp* gp) {
    bgpbt_allocator a;
    if (!gp) return;
    a = gp->cfg.allocator;
    bgpbt__gp_free_bufs(gp);
    bgpbt_mem_free(&a, gp, sizeof(bgpbt_gp));
}

typedef struct bgpbt__sortpair { double v; int i; } bgpbt__sortpair;
static int bgpbt__sortpair_cmp(const void* a, const void* b) {
    const bgpbt__sortpair* x = (const bgpbt__sortpair*)a;
    const bgpbt__sortpair* y = (const bgpbt__sortpair*)b;
    if (x->v < y->v) return -1;
    if (x->v > y->v) return 1;
    return x->i - y->i;
}

/* transformed targets of the first n raw values into gp->y */
BGPBT__PRIVATE bgpbt_result bgpbt__gp_transform(bgpbt_gp* gp, int n) {
    int i;
    gp->y_shift = 0.0;
    gp->y_scale = 1.0;
    if (n == 0) return BGPBT_OK;
    if (gp->cfg.output == BGPBT_GP_COPULA) {
        bgpbt__sortpair* s = (bgpbt__sortpair*)bgpbt__calloc(&gp->cfg.allocator, (size_t)n, sizeof(bgpbt__sortpair));
        if (!s) return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_OUT_OF_MEMORY, "gp: out of memory");
        for (i = 0; i < n; ++i) { s[i].v = gp->yraw[i]; s[i].i = i; }
        qsort(s, (size_t)n, sizeof *s, bgpbt__sortpair_cmp);
        for (i = 0; i < n;) {
            int j = i;
            while (j + 1 < n && s[j + 1].v == s[i].v) ++j;
            { /* ties share the highest rank, j + 1 (1-based) */
                double q = bgpbt_normal_quantile((double)(j + 1) / (double)(n + 1));
                int k;
                for (k = i; k <= j; ++k) gp->y[s[k].i] = q;
            }
            i = j + 1;
        }
        bgpbt__cfree(&gp->cfg.allocator, s, (size_t)n, sizeof(bgpbt__sortpair));
    } else {
        double mu = 0.0, var = 0.0, sd;
        if (gp->cfg.output == BGPBT_GP_STANDARDIZE) {
            for (i = 0; i < n; ++i) mu += gp->yraw[i];
            mu /= n;
            for (i = 0; i < n; ++i) var += (gp->yraw[i] - mu) * (gp->yraw[i] - mu);
            sd = sqrt(var / n);
            if (!(sd >= 1e-12)) sd = 1.0;
            gp->y_shift = mu;
            gp->y_scale = sd;
        }
        for (i = 0; i < n; ++i) gp->y[i] = (gp->yraw[i] - gp->y_shift) / gp->y_scale;
    }
    if (gp->cfg.y_clip > 0.0)
        for (i = 0; i < n; ++i) gp->y[i] = bgpbt__clampd(gp->y[i], -gp->cfg.y_clip, gp->cfg.y_clip);
    return BGPBT_OK;
}

BGPBT__PRIVATE bgpbt_result bgpbt__gp_check_points(const bgpbt_gp* gp, const double* X, const double* t, int n, const char* what) {
    int i, j;
    for (i = 0; i < n; ++i) {
        for (j = 0; j < gp->dim; ++j) {
            double v = X[(size_t)i * gp->dim + j];
            int nc = gp->cfg.num_categories[j];
            if (!(v - v == 0.0))
                return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_NOT_FINITE, "gp %s: x[%d][%d] is %g", what, i, j, v);
            if (nc && (v != floor(v) || v < 0 || v >= nc))
                return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_OUT_OF_RANGE, "gp %s: x[%d][%d] = %g is not a category 0..%d", what, i, j, v, nc - 1);
        }
        if (t && !(t[i] - t[i] == 0.0))
            return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_NOT_FINITE, "gp %s: t[%d] is %g", what, i, t[i]);
    }
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_gp_set_data(bgpbt_gp* gp, const double* X, const double* t,
                                         const double* y, int n) {
    bgpbt_result r;
    int i;
    if (!gp) return BGPBT_ERR_INVALID_ARGUMENT;
    if (n < 0 || (n > 0 && (!X || !y)))
        return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "gp_set_data: n = %d with NULL X or y", n);
    if (n > 0 && gp->cfg.time_varying && !t)
        return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "gp_set_data: a time-varying GP needs t");
    if (n > gp->cfg.max_points)
        return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_LIMIT, "gp_set_data: %d points exceed max_points %d", n, gp->cfg.max_points);
    r = bgpbt__gp_check_points(gp, X, gp->cfg.time_varying ? t : NULL, n, "set_data");
    if (r != BGPBT_OK) return r;
    for (i = 0; i < n; ++i)
        if (!(y[i] - y[i] == 0.0))
            return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_NOT_FINITE, "gp_set_data: y[%d] is %g", i, y[i]);
    r = bgpbt__gp_reserve(gp, n);
    if (r != BGPBT_OK) return r;
    gp->npend = 0;
    gp->n = n;
    gp->t_latest = 0.0;
    if (n > 0) {
        memcpy(gp->X, X, (size_t)n * (size_t)gp->dim * sizeof(double));
        memcpy(gp->yraw, y, (size_t)n * sizeof(double));
        for (i = 0; i < n; ++i) gp->t[i] = gp->cfg.time_varying ? t[i] : 0.0;
        gp->t_latest = gp->t[0];
        for (i = 1; i < n; ++i) if (gp->t[i] > gp->t_latest) gp->t_latest = gp->t[i];
    }
    r = bgpbt__gp_transform(gp, n);
    if (r != BGPBT_OK) { gp->n = 0; return r; }
    return bgpbt__gp_factor(gp, 0);
}

/* LML and gradient at raw parameters; uses Kw, Lw, Mw, grow_buf; leaves L, Linv, alpha. */
BGPBT__PRIVATE bgpbt_result bgpbt__gp_lml(bgpbt_gp* gp, const double* raw, double* lml, double* grad) {
    bgpbt_gp_hypers h;
    bgpbt__gpk K;
    int n = gp->n, ld = gp->cap, i, P = gp->np, zs = gp->dim + 1;
    double logdet = 0.0, quad = 0.0, jit;
    double* a = gp->grow_buf; /* per-row gradient partial sums, then alpha */
    double* alpha;
    bgpbt_result r;
    bgpbt__gp_decode(gp, raw, &h);
    bgpbt__gp_consts(gp, &h, &K);
    bgpbt__gp_feats(gp, &K, n);
    bgpbt__gp_kmat(gp, &K, h.noise, n, gp->Kw);
    r = bgpbt_linalg_cholesky_jitter(gp->Kw, ld, gp->Lw, ld, n, &jit, NULL);
    if (r != BGPBT_OK) return r;
    alpha = a + (size_t)n * P; /* grow_buf has cap * MAXP >= n * (P + 1) entries (P <= 68) */
    for (i = 0; i < n; ++i) alpha[i] = gp->y[i] - h.mean;
    bgpbt_linalg_solve_lower(gp->Lw, ld, n, alpha);
    for (i = 0; i < n; ++i) quad += alpha[i] * alpha[i];
    for (i = 0; i < n; ++i) logdet += log(gp->Lw[(size_t)i * ld + i]);
    bgpbt_linalg_solve_lower_t(gp->Lw, ld, n, alpha);
    *lml = -0.5 * quad - logdet - 0.5 * n * 1.8378770664093454836;
    if (!grad) return BGPBT_OK;
    /* W = alpha alpha^T - K^{-1} (lower), then dLML/dp = 0.5 sum_ij W_ij dK_ij/dp */
    bgpbt_linalg_lower_inverse(gp->Lw, ld, n, gp->Mw, ld);
    bgpbt__gp_kinv(gp->Mw, ld, n, gp->Kw);
    BGPBT_OMP(parallel for schedule(dynamic, 8) if (n >= 64))
    for (i = 0; i < n; ++i) {
        double* g = a + (size_t)i * P;
        const double* zi = gp->z + (size_t)i * zs;
        const double* Wr = gp->Kw + (size_t)i * ld;
        int j, c, q;
        bgpbt__gpp p;
        for (q = 0; q < P; ++q) g[q] = 0.0;
        for (j = 0; j <= i; ++j) {
            const double* zj = gp->z + (size_t)j * zs;
            double w = (alpha[i] * alpha[j] - Wr[j]) * (i == j ? 0.5 : 1.0);
            double base;
            bgpbt__gp_pair(&K, zi, zj, gp->t[i] - gp->t[j], &p);
            if (gp->i_scale >= 0) g[gp->i_scale] += w * p.k;
            if (gp->i_noise >= 0 && i == j) g[gp->i_noise] += w * h.noise;
            if (gp->i_eps >= 0) g[gp->i_eps] += w * p.k * 0.5 * fabs(gp->t[i] - gp->t[j]) * K.dlog1me;
            if (gp->n_ls) {
                base = w * K.s * p.kt * p.dcx * p.dkx_dr2 * -2.0;
                if (gp->n_ls == 1) g[gp->i_ls] += base * p.r2;
                else
                    for (c = 0; c < gp->ncont; ++c) { double d = zi[c] - zj[c]; g[gp->i_ls + c] += base * d * d; }
            }
            if (gp->n_cw) {
                base = w * K.s * p.kt * p.dch * p.kh;
                if (gp->n_cw == 1) g[gp->i_cw] += base * p.hsum;
                else
                    for (c = 0; c < gp->ncat; ++c)
                        if (zi[gp->ncont + c] == zj[gp->ncont + c]) g[gp->i_cw + c] += base * K.cw[c];
            }
        }
    }
    {
        int q;
        for (q = 0; q < P; ++q) grad[q] = 0.0;
        for (i = 0; i < n; ++i)
            for (q = 0; q < P; ++q) grad[q] += a[(size_t)i * P + q];
        if (gp->i_mean >= 0) { double s = 0.0; for (i = 0; i < n; ++i) s += alpha[i]; grad[gp->i_mean] = s; }
        /* chain rule to the raw coordinates (the loop above gave d/dlog p, and d/deps) */
        if (gp->i_scale >= 0) grad[gp->i_scale] *= bgpbt__gp_pos_d(raw[gp->i_scale], gp->s_lo, gp->s_hi);
        if (gp->i_noise >= 0) grad[gp->i_noise] *= bgpbt__gp_pos_d(raw[gp->i_noise], gp->nz_lo, gp->nz_hi);
        if (gp->i_eps >= 0) { double sg = bgpbt__sigmoid(raw[gp->i_eps]); grad[gp->i_eps] *= (gp->e_hi - gp->e_lo) * sg * (1.0 - sg); }
        for (q = 0; q < gp->n_ls; ++q) grad[gp->i_ls + q] *= bgpbt__gp_pos_d(raw[gp->i_ls + q], gp->ls_lo, gp->ls_hi);
        for (q = 0; q < gp->n_cw; ++q) grad[gp->i_cw + q] *= bgpbt__gp_pos_d(raw[gp->i_cw + q], gp->cw_lo, gp->cw_hi);
    }
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_gp_lml(bgpbt_gp* gp, const double* raw, double* lml, double* grad) {
    double v = 0.0;
    bgpbt_result r;
    if (!gp || !raw || !lml) return BGPBT_ERR_INVALID_ARGUMENT;
    if (gp->n == 0) { *lml = 0.0; if (grad) memset(grad, 0, (size_t)gp->np * sizeof(double)); return BGPBT_OK; }
    r = bgpbt__gp_lml(gp, raw, &v, grad);
    *lml = v;
    return r;
}

/* negative LML as the L-BFGS objective; +inf when the matrix cannot be factored */
BGPBT__PRIVATE double bgpbt__gp_obj(bgpbt_gp* gp, const double* u, double* g, int* evals) {
    double v;
    int q;
    (*evals)++;
    if (bgpbt__gp_lml(gp, u, &v, g) != BGPBT_OK || !(v - v == 0.0)) return HUGE_VAL;
    for (q = 0; q < gp->np; ++q) {
        g[q] = -g[q];
        if (!(g[q] - g[q] == 0.0)) return HUGE_VAL;
    }
    return -v;
}

#define BGPBT__LBFGS_M 8

/* Minimise the negative LML from x (in place). Returns the final value (inf if none finite). */
BGPBT__PRIVATE double bgpbt__gp_lbfgs(bgpbt_gp* gp, double* x, int maxit, int* evals, int* iters) {
    int P = gp->np, it, k, hist = 0, head = 0;
    double g[BGPBT__GP_MAXP], d[BGPBT__GP_MAXP], xn[BGPBT__GP_MAXP], gn[BGPBT__GP_MAXP];
    double S[BGPBT__LBFGS_M][BGPBT__GP_MAXP], Y[BGPBT__LBFGS_M][BGPBT__GP_MAXP];
    double rho[BGPBT__LBFGS_M], al[BGPBT__LBFGS_M];
    double f = bgpbt__gp_obj(gp, x, g, evals);
    if (!(f < HUGE_VAL)) return HUGE_VAL;
    for (it = 0; it < maxit; ++it) {
        double gd = 0.0, step, gmax = 0.0, fn = HUGE_VAL, sy = 0.0, yy = 0.0, rel;
        int ls, ok = 0;
        for (k = 0; k < P; ++k) { d[k] = -g[k]; if (fabs(g[k]) > gmax) gmax = fabs(g[k]); }
        if (gmax <= 1e-5) break;
        /* two-loop recursion */
        {
            int m, idx;
            for (m = 0; m < hist; ++m) {
                double s = 0.0;
                idx = (head - 1 - m + BGPBT__LBFGS_M) % BGPBT__LBFGS_M;
                for (k = 0; k < P; ++k) s += S[idx][k] * d[k];
                al[idx] = rho[idx] * s;
                for (k = 0; k < P; ++k) d[k] -= al[idx] * Y[idx][k];
            }
            if (hist > 0) {
                double sy0 = 0.0, yy0 = 0.0;
                idx = (head - 1 + BGPBT__LBFGS_M) % BGPBT__LBFGS_M;
                for (k = 0; k < P; ++k) { sy0 += S[idx][k] * Y[idx][k]; yy0 += Y[idx][k] * Y[idx][k]; }
                for (k = 0; k < P; ++k) d[k] *= sy0 / yy0;
            }
            for (m = hist - 1; m >= 0; --m) {
                double s = 0.0;
                idx = (head - 1 - m + BGPBT__LBFGS_M) % BGPBT__LBFGS_M;
                for (k = 0; k < P; ++k) s += Y[idx][k] * d[k];
                s = rho[idx] * s;
                for (k = 0; k < P; ++k) d[k] += (al[idx] - s) * S[idx][k];
            }
        }
        for (k = 0; k < P; ++k) gd += g[k] * d[k];
        if (!(gd < 0.0)) { /* not a descent direction: restart from steepest descent */
            hist = 0;
            gd = 0.0;
            for (k = 0; k < P; ++k) { d[k] = -g[k]; gd -= g[k] * g[k]; }
        }
        step = hist == 0 ? (gmax > 1.0 ? 1.0 / gmax : 1.0) : 1.0;
        for (ls = 0; ls < 25; ++ls) {
            for (k = 0; k < P; ++k) xn[k] = x[k] + step * d[k];
            fn = bgpbt__gp_obj(gp, xn, gn, evals);
            if (fn < HUGE_VAL && fn <= f + 1e-4 * step * gd) { ok = 1; break; }
            step *= fn < HUGE_VAL ? 0.5 : 0.1;
        }
        if (!ok) break;
        for (k = 0; k < P; ++k) {
            S[head][k] = xn[k] - x[k];
            Y[head][k] = gn[k] - g[k];
            sy += S[head][k] * Y[head][k];
            yy += Y[head][k] * Y[head][k];
        }
        if (sy > 1e-12 * yy && sy > 0.0) {
            rho[head] = 1.0 / sy;
            head = (head + 1) % BGPBT__LBFGS_M;
            if (hist < BGPBT__LBFGS_M) hist++;
        }
        rel = (f - fn) / (fabs(f) > fabs(fn) ? (fabs(f) > 1.0 ? fabs(f) : 1.0) : (fabs(fn) > 1.0 ? fabs(fn) : 1.0));
        memcpy(x, xn, (size_t)P * sizeof(double));
        memcpy(g, gn, (size_t)P * sizeof(double));
        f = fn;
        (*iters)++;
        if (rel <= 2.2e-9) break; /* scipy's factr = 1e7 times machine epsilon */
    }
    return f;
}

BGPBT_API bgpbt_result bgpbt_gp_fit(bgpbt_gp* gp) {
    double best[BGPBT__GP_MAXP], x[BGPBT__GP_MAXP];
    double fbest = HUGE_VAL;
    int s, k, P;
    bgpbt_gp_fit_info info;
    if (!gp) return BGPBT_ERR_INVALID_ARGUMENT;
    memset(&info, 0, sizeof info);
    P = gp->np;
    if (gp->n == 0 || P == 0) {
        gp->info = info;
        return bgpbt__gp_factor(gp, 0);
    }
    memcpy(best, gp->raw, (size_t)P * sizeof(double));
    for (s = 0; s <= gp->cfg.fit_restarts; ++s) {
        double f;
        if (s == 0) memcpy(x, gp->raw, (size_t)P * sizeof(double));
        else
            for (k = 0; k < P; ++k)
                x[k] = k == gp->i_mean ? 0.5 * bgpbt_rng_normal(&gp->rng) : bgpbt_rng_uniform(&gp->rng, -3.0, 3.0);
        info.starts++;
        f = bgpbt__gp_lbfgs(gp, x, gp->cfg.fit_max_iter, &info.evaluations, &info.iterations);
        if (!(f < HUGE_VAL)) { info.failed_starts++; continue; }
        if (f < fbest) { fbest = f; memcpy(best, x, (size_t)P * sizeof(double)); }
    }
    if (fbest < HUGE_VAL) {
        memcpy(gp->raw, best, (size_t)P * sizeof(double));
        bgpbt__gp_decode(gp, gp->raw, &gp->h);
    }
    info.lml = -fbest;
    {
        bgpbt_result r = bgpbt__gp_factor(gp, 0);
        info.jitter = gp->jitter;
        gp->info = info;
        if (r != BGPBT_OK) return r;
    }
    if (!(fbest < HUGE_VAL))
        return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_NOT_CONVERGED, "gp_fit: no start reached a finite likelihood; hyperparameters kept");
    return BGPBT_OK;
}

BGPBT_API void bgpbt_gp_get_fit_info(const bgpbt_gp* gp, bgpbt_gp_fit_info* info) { *info = gp->info; }
BGPBT_API void bgpbt_gp_get_hypers(const bgpbt_gp* gp, bgpbt_gp_hypers* h) { *h = gp->h; }
BGPBT_API int bgpbt_gp_num_params(const bgpbt_gp* gp) { return gp->np; }
BGPBT_API void bgpbt_gp_get_params(const bgpbt_gp* gp, double* raw) {
    if (gp->np) memcpy(raw, gp->raw, (size_t)gp->np * sizeof(double));
}
BGPBT_API bgpbt_result bgpbt_gp_set_params(bgpbt_gp* gp, const double* raw) {
    int k;
    for (k = 0; k < gp->np; ++k)
        if (!(raw[k] - raw[k] == 0.0))
            return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_NOT_FINITE, "gp_set_params: raw[%d] is %g", k, raw[k]);
    if (gp->np) memcpy(gp->raw, raw, (size_t)gp->np * sizeof(double));
    bgpbt__gp_decode(gp, gp->raw, &gp->h);
    return bgpbt__gp_factor(gp, 0);
}
BGPBT_API bgpbt_result bgpbt_gp_set_hypers(bgpbt_gp* gp, const bgpbt_gp_hypers* h) {
    double raw[BGPBT__GP_MAXP];
    int i;
    if (!gp || !h) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!(h->mean - h->mean == 0.0) || !(h->outputscale > 0.0) || !(h->noise > 0.0) || !(h->eps >= 0.0 && h->eps < 1.0))
        return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_OUT_OF_RANGE, "gp_set_hypers: mean %g outputscale %g noise %g eps %g", h->mean, h->outputscale, h->noise, h->eps);
    for (i = 0; i < gp->dim; ++i)
        if (!(h->lengthscale[i] >= 0.0 && h->lengthscale[i] < HUGE_VAL) || !(h->cat_weight[i] >= 0.0 && h->cat_weight[i] < HUGE_VAL))
            return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_OUT_OF_RANGE, "gp_set_hypers: lengthscale/weight of dim %d is bad", i);
    memcpy(raw, gp->raw, sizeof raw);
    bgpbt__gp_encode(gp, h, raw);
    return bgpbt_gp_set_params(gp, raw);
}

BGPBT_API int bgpbt_gp_num_data(const bgpbt_gp* gp) { return gp->n; }
BGPBT_API double bgpbt_gp_noise(const bgpbt_gp* gp) { return gp->h.noise; }
BGPBT_API const double* bgpbt_gp_targets(const bgpbt_gp* gp) { return gp->y; }
BGPBT_API bgpbt_result bgpbt_gp_output_affine(const bgpbt_gp* gp, double* shift, double* scale) {
    *shift = gp->y_shift;
    *scale = gp->y_scale;
    return gp->cfg.output == BGPBT_GP_COPULA ? BGPBT_ERR_UNSUPPORTED : BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_gp_set_pending(bgpbt_gp* gp, const double* Xp, const double* tp, int np) {
    bgpbt_result r;
    int i;
    if (!gp || np < 0 || (np > 0 && !Xp)) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!gp->factored) return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_WRONG_ORDER, "gp_set_pending: the GP has no valid factorisation");
    r = bgpbt__gp_check_points(gp, Xp, tp, np, "set_pending");
    if (r != BGPBT_OK) return r;
    gp->npend = 0;
    gp->pend_factored = 1;
    if (np == 0) return BGPBT_OK;
    r = bgpbt__gp_reserve(gp, gp->n + np);
    if (r != BGPBT_OK) return r;
    if (!gp->factored) { r = bgpbt__gp_factor(gp, 0); if (r != BGPBT_OK) return r; }
    memcpy(gp->X + (size_t)gp->n * gp->dim, Xp, (size_t)np * (size_t)gp->dim * sizeof(double));
    for (i = 0; i < np; ++i) gp->t[gp->n + i] = (gp->cfg.time_varying && tp) ? tp[i] : gp->t_latest;
    gp->npend = np;
    r = bgpbt__gp_factor(gp, 1);
    if (r != BGPBT_OK) { gp->npend = 0; gp->pend_factored = 1; }
    return r;
}

/* cross-kernel rows for candidates c0..c0+m-1 against the first N rows -> gp->kc (stride cap) */
BGPBT__PRIVATE void bgpbt__gp_cross(bgpbt_gp* gp, const bgpbt__gpk* K, const double* X, const double* t,
                                    int m, int N, double* kss) {
    int c, zs = gp->dim + 1;
    for (c = 0; c < m; ++c) {
        double zc[BGPBT_GP_MAX_DIM + 1];
        double tc = t ? t[c] : gp->t_latest;
        double* row = gp->kc + (size_t)c * gp->cap;
        int i;
        bgpbt__gpp p;
        bgpbt__gp_feat(gp, K, X + (size_t)c * gp->dim, zc);
        for (i = 0; i < N; ++i) {
            bgpbt__gp_pair(K, zc, gp->z + (size_t)i * zs, tc - gp->t[i], &p);
            row[i] = p.k;
        }
        if (kss) kss[c] = bgpbt__gp_kself(K);
    }
}

BGPBT_API bgpbt_result bgpbt_gp_predict(bgpbt_gp* gp, const double* X, const double* t, int m,
                                        double* mean, double* var) {
    bgpbt__gpk K;
    int c0, n, Nv;
    const double* Linv;
    if (!gp || m < 0 || (m > 0 && !X)) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!gp->factored || !gp->pend_factored)
        return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_WRONG_ORDER, "gp_predict: the GP has no valid factorisation");
    {
        bgpbt_result r = bgpbt__gp_check_points(gp, X, gp->cfg.time_varying ? t : NULL, m, "predict");
        if (r != BGPBT_OK) return r;
    }
    n = gp->n;
    Nv = gp->n + gp->npend;
    Linv = gp->npend ? gp->Linvp : gp->Linv;
    bgpbt__gp_consts(gp, &gp->h, &K);
    bgpbt__gp_feats(gp, &K, Nv);
    for (c0 = 0; c0 < m; c0 += BGPBT__GP_CHUNK) {
        int mc = m - c0 < BGPBT__GP_CHUNK ? m - c0 : BGPBT__GP_CHUNK, g;
        double kss[BGPBT__GP_CHUNK];
        bgpbt__gp_cross(gp, &K, X + (size_t)c0 * gp->dim, t ? t + c0 : NULL, mc, Nv, kss);
        if (mean)
            for (g = 0; g < mc; ++g) mean[c0 + g] = gp->h.mean + (n ? bgpbt__ddot(gp->kc + (size_t)g * gp->cap, gp->alpha, n) : 0.0);
        if (var) {
            BGPBT_OMP(parallel for schedule(static) if (Nv >= 128))
            for (g = 0; g < mc; g += 4) {
                const double* A[4];
                const double* B[4];
                double o[16], ss[4] = {0.0, 0.0, 0.0, 0.0};
                int a, b, i0, gb = mc - g < 4 ? mc - g : 4;
                for (b = 0; b < 4; ++b) B[b] = gp->kc + (size_t)(g + (b < gb ? b : gb - 1)) * gp->cap;
                for (i0 = 0; i0 < Nv; i0 += 4) {
                    int len = i0 + 4 < Nv ? i0 + 4 : Nv;
                    for (a = 0; a < 4; ++a) A[a] = Linv + (size_t)(i0 + a < Nv ? i0 + a : Nv - 1) * gp->cap;
                    bgpbt__dot4x4(A, B, len, o);
                    for (a = 0; a < 4 && i0 + a < Nv; ++a)
                        for (b = 0; b < 4; ++b) ss[b] += o[4 * a + b] * o[4 * a + b];
                }
                for (b = 0; b < gb; ++b) {
                    double v = kss[g + b] - ss[b];
                    var[c0 + g + b] = v > 1e-12 * kss[g + b] ? v : 1e-12 * kss[g + b];
                }
            }
        }
    }
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_gp_predict_grad(bgpbt_gp* gp, const double* x, const double* t,
                                             double* mean, double* var, double* dmean, double* dvar) {
    bgpbt__gpk K;
    double zc[BGPBT_GP_MAX_DIM + 1], tc, kss, mu, vv;
    double* k;
    double* v;
    double* w;
    int n, Nv, i, c, zs = gp->dim + 1;
    const double *Linv, *L;
    if (!gp || !x) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!gp->factored || !gp->pend_factored)
        return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_WRONG_ORDER, "gp_predict_grad: the GP has no valid factorisation");
    {
        bgpbt_result r = bgpbt__gp_check_points(gp, x, gp->cfg.time_varying ? t : NULL, 1, "predict_grad");
        if (r != BGPBT_OK) return r;
    }
    n = gp->n;
    Nv = gp->n + gp->npend;
    Linv = gp->npend ? gp->Linvp : gp->Linv;
    L = gp->npend ? gp->Lp : gp->L;
    bgpbt__gp_consts(gp, &gp->h, &K);
    bgpbt__gp_feats(gp, &K, Nv);
    tc = t ? *t : gp->t_latest;
    bgpbt__gp_feat(gp, &K, x, zc);
    k = gp->kc;
    v = gp->kc + gp->cap;
    w = gp->kc + 2 * (size_t)gp->cap;
    /* dk rows: stored in kc rows 3.. (one per continuous dim) */
    for (i = 0; i < Nv; ++i) {
        bgpbt__gpp p;
        const double* zi = gp->z + (size_t)i * zs;
        double base;
        bgpbt__gp_pair(&K, zc, zi, tc - gp->t[i], &p);
        k[i] = p.k;
        base = K.s * p.kt * p.dcx * p.dkx_dr2 * 2.0;
        for (c = 0; c < gp->ncont; ++c)
            gp->kc[(size_t)(3 + c) * gp->cap + i] = base * (zc[c] - zi[c]) * K.inv_ls[c];
    }
    kss = bgpbt__gp_kself(&K);
    mu = gp->h.mean + (n ? bgpbt__ddot(k, gp->alpha, n) : 0.0);
    for (i = 0; i < Nv; ++i) v[i] = bgpbt__ddot(Linv + (size_t)i * gp->cap, k, i + 1);
    vv = kss - bgpbt__ddot(v, v, Nv);
    if (vv < 1e-12 * kss) vv = 1e-12 * kss;
    memcpy(w, v, (size_t)Nv * sizeof(double));
    if (Nv) bgpbt_linalg_solve_lower_t(L, gp->cap, Nv, w);
    if (mean) *mean = mu;
    if (var) *var = vv;
    if (dmean) for (i = 0; i < gp->dim; ++i) dmean[i] = 0.0;
    if (dvar) for (i = 0; i < gp->dim; ++i) dvar[i] = 0.0;
    for (c = 0; c < gp->ncont; ++c) {
        const double* dk = gp->kc + (size_t)(3 + c) * gp->cap;
        if (dmean) dmean[gp->cont[c]] = n ? bgpbt__ddot(dk, gp->alpha, n) : 0.0;
        if (dvar) dvar[gp->cont[c]] = -2.0 * bgpbt__ddot(dk, w, Nv);
    }
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_gp_sample(bgpbt_gp* gp, const double* X, const double* t, int m,
                                       int ns, bgpbt_rng* rng, double* out) {
    const bgpbt_allocator* A;
    bgpbt__gpk K;
    double *C, *V, *mu, *z;
    int Nv, a, b, s;
    bgpbt_result r;
    if (!gp || m < 0 || ns < 0 || (m > 0 && (!X || !out || !rng))) return BGPBT_ERR_INVALID_ARGUMENT;
    if (m == 0 || ns == 0) return BGPBT_OK;
    if (!gp->factored || !gp->pend_factored)
        return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_WRONG_ORDER, "gp_sample: the GP has no valid factorisation");
    r = bgpbt__gp_check_points(gp, X, gp->cfg.time_varying ? t : NULL, m, "sample");
    if (r != BGPBT_OK) return r;
    A = &gp->cfg.allocator;
    Nv = gp->n + gp->npend;
    C = (double*)bgpbt__calloc(A, (size_t)m * (size_t)m, sizeof(double));
    V = (double*)bgpbt__calloc(A, (size_t)m * (size_t)(Nv > 0 ? Nv : 1), sizeof(double));
    mu = (double*)bgpbt__calloc(A, (size_t)m, sizeof(double));
    z = (double*)bgpbt__calloc(A, (size_t)m, sizeof(double));
    if (!C || !V || !mu || !z) { r = bgpbt__error(&gp->cfg.logger, BGPBT_ERR_OUT_OF_MEMORY, "gp_sample: out of memory"); goto done; }
    r = bgpbt_gp_predict(gp, X, t, m, mu, NULL);
    if (r != BGPBT_OK) goto done;
    bgpbt__gp_consts(gp, &gp->h, &K);
    bgpbt__gp_feats(gp, &K, Nv);
    /* V rows: L^{-1} k(x_a) */
    {
        const double* Linv = gp->npend ? gp->Linvp : gp->Linv;
        int c0;
        for (c0 = 0; c0 < m; c0 += BGPBT__GP_CHUNK) {
            int mc = m - c0 < BGPBT__GP_CHUNK ? m - c0 : BGPBT__GP_CHUNK, g;
            bgpbt__gp_cross(gp, &K, X + (size_t)c0 * gp->dim, t ? t + c0 : NULL, mc, Nv, NULL);
            BGPBT_OMP(parallel for schedule(static) if (Nv * m >= 4096))
            for (g = 0; g < mc; ++g) {
                int i;
                for (i = 0; i < Nv; ++i)
                    V[(size_t)(c0 + g) * Nv + i] = bgpbt__ddot(Linv + (size_t)i * gp->cap, gp->kc + (size_t)g * gp->cap, i + 1);
            }
        }
    }
    /* C = K** - V V^T (lower) */
    BGPBT_OMP(parallel for schedule(dynamic, 4) if (m >= 64))
    for (a = 0; a < m; ++a) {
        double za[BGPBT_GP_MAX_DIM + 1], zb[BGPBT_GP_MAX_DIM + 1];
        int bb;
        bgpbt__gpp p;
        bgpbt__gp_feat(gp, &K, X + (size_t)a * gp->dim, za);
        for (bb = 0; bb <= a; ++bb) {
            double ta = t ? t[a] : gp->t_latest, tb = t ? t[bb] : gp->t_latest;
            bgpbt__gp_feat(gp, &K, X + (size_t)bb * gp->dim, zb);
            bgpbt__gp_pair(&K, za, zb, ta - tb, &p);
            C[(size_t)a * m + bb] = p.k - (Nv ? bgpbt__ddot(V + (size_t)a * Nv, V + (size_t)bb * Nv, Nv) : 0.0);
        }
        /* samples of y, as TuRBO draws them: the noise regularises near-duplicate candidates */
        C[(size_t)a * m + a] += gp->h.noise + 1e-9 * bgpbt__gp_kself(&K);
    }
    r = bgpbt_linalg_cholesky(C, m, m);
    if (r != BGPBT_OK) {
        /* (near) rank-deficient covariance: fall back to independent marginals */
        double* vv = z;
        r = bgpbt_gp_predict(gp, X, t, m, NULL, vv);
        if (r != BGPBT_OK) goto done;
        for (s = 0; s < ns; ++s)
            for (a = 0; a < m; ++a) out[(size_t)s * m + a] = mu[a] + sqrt(vv[a]) * bgpbt_rng_normal(rng);
        r = BGPBT_OK;
        goto done;
    }
    for (s = 0; s < ns; ++s) {
        for (a = 0; a < m; ++a) z[a] = bgpbt_rng_normal(rng);
        for (a = 0; a < m; ++a) {
            double acc = mu[a];
            const double* row = C + (size_t)a * m;
            for (b = 0; b <= a; ++b) acc += row[b] * z[b];
            out[(size_t)s * m + a] = acc;
        }
    }
done:
    bgpbt__cfree(A, C, (size_t)m * (size_t)m, sizeof(double));
    bgpbt__cfree(A, V, (size_t)m * (size_t)(Nv > 0 ? Nv : 1), sizeof(double));
    bgpbt__cfree(A, mu, (size_t)m, sizeof(double));
    bgpbt__cfree(A, z, (size_t)m, sizeof(double));
    return r;
}

/* ============================================================================================
   [impl.bo] bo
   ============================================================================================ */

/* ---- search space -------------------------------------------------------------------------- */

BGPBT_API void bgpbt_bo_space_init(bgpbt_bo_space* s, const bgpbt_logger* logger) {
    memset(s, 0, sizeof *s);
    if (logger) s->logger = *logger;
}

BGPBT__PRIVATE int bgpbt__bo_auto(const bgpbt_bo_param* p) {
    return p->is_context && p->type == BGPBT_BO_FLOAT && p->lo == 0.0 && p->hi == 0.0;
}

BGPBT_API bgpbt_result bgpbt_bo_space_add(bgpbt_bo_space* s, const bgpbt_bo_param* p) {
    const bgpbt_logger* log;
    int i;
    size_t len;
    if (!s || !p) return BGPBT_ERR_INVALID_ARGUMENT;
    log = &s->logger;
    len = strlen(p->name);
    if (len == 0 || len >= BGPBT_BO_NAME_MAX)
        return bgpbt__error(log, BGPBT_ERR_INVALID_ARGUMENT, "space: parameter name '%.40s' must have 1..%d characters", p->name, BGPBT_BO_NAME_MAX - 1);
    for (i = 0; i < s->dim; ++i)
        if (!strcmp(s->params[i].name, p->name))
            return bgpbt__error(log, BGPBT_ERR_INVALID_ARGUMENT, "space: duplicate parameter name '%s'", p->name);
    if (s->dim >= BGPBT_BO_MAX_DIM)
        return bgpbt__error(log, BGPBT_ERR_LIMIT, "space: more than %d parameters ('%s')", BGPBT_BO_MAX_DIM, p->name);
    switch (p->type) {
        case BGPBT_BO_FLOAT:
        case BGPBT_BO_INT:
            if (!(p->lo - p->lo == 0.0) || !(p->hi - p->hi == 0.0))
                return bgpbt__error(log, BGPBT_ERR_NOT_FINITE, "space: '%s' has non-finite bounds", p->name);
            if (bgpbt__bo_auto(p)) break;
            if (!(p->lo < p->hi) && !(p->type == BGPBT_BO_INT && p->lo == p->hi))
                return bgpbt__error(log, BGPBT_ERR_EMPTY_RANGE, "space: '%s' has an empty or reversed range [%g, %g]", p->name, p->lo, p->hi);
            if (p->type == BGPBT_BO_INT && (p->lo != floor(p->lo) || p->hi != floor(p->hi)))
                return bgpbt__error(log, BGPBT_ERR_INVALID_ARGUMENT, "space: integer '%s' has non-integer bounds [%g, %g]", p->name, p->lo, p->hi);
            if (p->log_scale && !(p->lo > 0.0))
                return bgpbt__error(log, BGPBT_ERR_OUT_OF_RANGE, "space: log-scaled '%s' needs lo > 0 (got %g)", p->name, p->lo);
            break;
        case BGPBT_BO_CATEGORICAL:
            if (p->num_choices < 2 || p->num_choices > 1000)
                return bgpbt__error(log, BGPBT_ERR_OUT_OF_RANGE, "space: categorical '%s' needs 2..1000 choices (got %d)", p->name, p->num_choices);
            if (p->is_context)
                return bgpbt__error(log, BGPBT_ERR_UNSUPPORTED, "space: context '%s' must be FLOAT or INT", p->name);
            break;
        default:
            return bgpbt__error(log, BGPBT_ERR_INVALID_ARGUMENT, "space: '%s' has unknown type %d", p->name, (int)p->type);
    }
    s->params[s->dim++] = *p;
    return BGPBT_OK;
}

BGPBT__PRIVATE bgpbt_bo_param bgpbt__bo_param(const char* name, bgpbt_bo_param_type type, double lo, double hi, int lg) {
    bgpbt_bo_param p;
    memset(&p, 0, sizeof p);
    if (name) { size_t n = strlen(name); if (n >= BGPBT_BO_NAME_MAX) n = BGPBT_BO_NAME_MAX; memcpy(p.name, name, n < BGPBT_BO_NAME_MAX ? n : BGPBT_BO_NAME_MAX - 1); }
    p.type = type;
    p.lo = lo;
    p.hi = hi;
    p.log_scale = lg;
    return p;
}

BGPBT_API bgpbt_result bgpbt_bo_space_add_float(bgpbt_bo_space* s, const char* name, double lo, double hi, int log_scale) {
    bgpbt_bo_param p;
    if (!s || !name) return BGPBT_ERR_INVALID_ARGUMENT;
    if (strlen(name) >= BGPBT_BO_NAME_MAX) return bgpbt__error(&s->logger, BGPBT_ERR_INVALID_ARGUMENT, "space: name '%.40s...' is too long", name);
    p = bgpbt__bo_param(name, BGPBT_BO_FLOAT, lo, hi, log_scale);
    return bgpbt_bo_space_add(s, &p);
}
BGPBT_API bgpbt_result bgpbt_bo_space_add_int(bgpbt_bo_space* s, const char* name, int lo, int hi, int log_scale) {
    bgpbt_bo_param p;
    if (!s || !name) return BGPBT_ERR_INVALID_ARGUMENT;
    if (strlen(name) >= BGPBT_BO_NAME_MAX) return bgpbt__error(&s->logger, BGPBT_ERR_INVALID_ARGUMENT, "space: name '%.40s...' is too long", name);
    p = bgpbt__bo_param(name, BGPBT_BO_INT, lo, hi, log_scale);
    return bgpbt_bo_space_add(s, &p);
}
BGPBT_API bgpbt_result bgpbt_bo_space_add_categorical(bgpbt_bo_space* s, const char* name, int num_choices) {
    bgpbt_bo_param p;
    if (!s || !name) return BGPBT_ERR_INVALID_ARGUMENT;
    if (strlen(name) >= BGPBT_BO_NAME_MAX) return bgpbt__error(&s->logger, BGPBT_ERR_INVALID_ARGUMENT, "space: name '%.40s...' is too long", name);
    p = bgpbt__bo_param(name, BGPBT_BO_CATEGORICAL, 0, 0, 0);
    p.num_choices = num_choices;
    return bgpbt_bo_space_add(s, &p);
}
BGPBT_API bgpbt_result bgpbt_bo_space_add_context(bgpbt_bo_space* s, const char* name, double lo, double hi) {
    bgpbt_bo_param p;
    if (!s || !name) return BGPBT_ERR_INVALID_ARGUMENT;
    if (strlen(name) >= BGPBT_BO_NAME_MAX) return bgpbt__error(&s->logger, BGPBT_ERR_INVALID_ARGUMENT, "space: name '%.40s...' is too long", name);
    p = bgpbt__bo_param(name, BGPBT_BO_FLOAT, lo, hi, 0);
    p.is_context = 1;
    return bgpbt_bo_space_add(s, &p);
}

BGPBT_API bgpbt_result bgpbt_bo_space_find(const bgpbt_bo_space* s, const char* name, int* index) {
    int i;
    if (index) *index = -1;
    if (!s || !name) return BGPBT_ERR_INVALID_ARGUMENT;
    for (i = 0; i < s->dim; ++i)
        if (!strcmp(s->params[i].name, name)) { if (index) *index = i; return BGPBT_OK; }
    return bgpbt__error(&s->logger, BGPBT_ERR_UNKNOWN_NAME, "space: no parameter named '%s'", name);
}

BGPBT_API bgpbt_result bgpbt_bo_space_check(const bgpbt_bo_space* s, const double* v) {
    int i;
    if (!s || !v) return BGPBT_ERR_INVALID_ARGUMENT;
    for (i = 0; i < s->dim; ++i) {
        const bgpbt_bo_param* p = &s->params[i];
        double x = v[i];
        if (!(x - x == 0.0)) return bgpbt__error(&s->logger, BGPBT_ERR_NOT_FINITE, "space: value of '%s' is %g", p->name, x);
        if (bgpbt__bo_auto(p)) continue;
        if (p->type == BGPBT_BO_CATEGORICAL) {
            if (x != floor(x) || x < 0 || x >= p->num_choices)
                return bgpbt__error(&s->logger, BGPBT_ERR_OUT_OF_RANGE, "space: '%s' = %g is not a choice 0..%d", p->name, x, p->num_choices - 1);
        } else {
            if (p->type == BGPBT_BO_INT && x != floor(x))
                return bgpbt__error(&s->logger, BGPBT_ERR_OUT_OF_RANGE, "space: integer '%s' = %g is not an integer", p->name, x);
            if (x < p->lo || x > p->hi)
                return bgpbt__error(&s->logger, BGPBT_ERR_OUT_OF_RANGE, "space: '%s' = %g is outside [%g, %g]", p->name, x, p->lo, p->hi);
        }
    }
    return BGPBT_OK;
}

/* one dim: value -> unit */
BGPBT__PRIVATE double bgpbt__bo_enc1(const bgpbt_bo_param* p, double x) {
    if (p->type == BGPBT_BO_CATEGORICAL) return x;
    if (bgpbt__bo_auto(p)) return 0.5;
    if (p->type == BGPBT_BO_FLOAT) {
        if (p->log_scale) return (log(x) - log(p->lo)) / (log(p->hi) - log(p->lo));
        return (x - p->lo) / (p->hi - p->lo);
    }
    if (p->log_scale) return (log(x) - log(p->lo - 0.5)) / (log(p->hi + 0.5) - log(p->lo - 0.5));
    return (x - p->lo + 0.5) / (p->hi - p->lo + 1.0);
}

BGPBT__PRIVATE double bgpbt__bo_dec1(const bgpbt_bo_param* p, double u) {
    double x;
    if (p->type == BGPBT_BO_CATEGORICAL) {
        x = floor(u + 0.5);
        return x < 0 ? 0 : x > p->num_choices - 1 ? p->num_choices - 1 : x;
    }
    if (bgpbt__bo_auto(p)) return u;
    u = bgpbt__clampd(u, 0.0, 1.0);
    if (p->type == BGPBT_BO_FLOAT) {
        x = p->log_scale ? exp(log(p->lo) + u * (log(p->hi) - log(p->lo))) : p->lo + u * (p->hi - p->lo);
        return bgpbt__clampd(x, p->lo, p->hi);
    }
    x = p->log_scale ? exp(log(p->lo - 0.5) + u * (log(p->hi + 0.5) - log(p->lo - 0.5))) : p->lo - 0.5 + u * (p->hi - p->lo + 1.0);
    x = floor(x + 0.5);
    return bgpbt__clampd(x, p->lo, p->hi);
}

BGPBT_API bgpbt_result bgpbt_bo_space_encode(const bgpbt_bo_space* s, const double* values, double* u) {
    int i;
    bgpbt_result r = bgpbt_bo_space_check(s, values);
    if (r != BGPBT_OK) return r;
    for (i = 0; i < s->dim; ++i) u[i] = bgpbt__bo_enc1(&s->params[i], values[i]);
    return BGPBT_OK;
}
BGPBT_API void bgpbt_bo_space_decode(const bgpbt_bo_space* s, const double* u, double* values) {
    int i;
    for (i = 0; i < s->dim; ++i) values[i] = bgpbt__bo_dec1(&s->params[i], u[i]);
}
BGPBT_API void bgpbt_bo_space_sample(const bgpbt_bo_space* s, bgpbt_rng* rng, double* values) {
    int i;
    for (i = 0; i < s->dim; ++i) {
        const bgpbt_bo_param* p = &s->params[i];
        if (p->is_context) values[i] = bgpbt__bo_auto(p) ? 0.0 : bgpbt__bo_dec1(p, 0.5);
        else if (p->type == BGPBT_BO_CATEGORICAL) values[i] = (double)bgpbt_rng_below(rng, (uint32_t)p->num_choices);
        else values[i] = bgpbt__bo_dec1(p, bgpbt_rng_double(rng));
    }
}

/* ---- trust-region constants ---------------------------------------------------------------- */

BGPBT_API bgpbt_bo_tr_config bgpbt_bo_tr_casmopolitan(void) {
    bgpbt_bo_tr_config c;
    memset(&c, 0, sizeof c);
    c.length_init = 0.8;
    c.length_min = 0.0078125; /* 0.5^7 */
    c.length_max = 1.6;
    c.cat_length_init = 20;
    c.cat_length_min = 1;
    c.cat_length_max = 30;
    c.cat_fraction = 0;
    c.multiplier = 1.5;
    c.succ_tol = 3;
    c.fail_tol = 40;
    c.improve_rel = 1e-3;
    return c;
}
BGPBT_API bgpbt_bo_tr_config bgpbt_bo_tr_bgpbt(void) {
    bgpbt_bo_tr_config c = bgpbt_bo_tr_casmopolitan();
    c.length_init = 0.4;
    c.length_min = 0.15;
    c.length_max = 1.0;
    c.cat_length_init = 1.0;
    c.cat_length_min = 0.1;
    c.cat_length_max = 1.0;
    c.cat_fraction = 1;
    c.fail_tol = 10;
    return c;
}

/* ---- the optimiser ------------------------------------------------------------------------- */

struct bgpbt_bo {
    bgpbt_bo_config cfg;
    bgpbt_bo_space space;
    int dim, nctx, ctx[BGPBT_BO_MAX_DIM];
    bgpbt_gp* gp;
    bgpbt_rng rng;
    /* observations: values (user units), t, y */
    int n, cap, region_start;
    double *vals, *t, *y;
    int best_idx;
    double region_best;
    int region_has_best;
    /* ask/tell pending points and the initial design of the region */
    int npend;
    double* pend;
    int init_pos;
    /* trust region */
    bgpbt_bo_tr_state tr;
    int have_box, hamming;
    double box_lo[BGPBT_BO_MAX_DIM], box_hi[BGPBT_BO_MAX_DIM];
    double max_t;
};

BGPBT_API bgpbt_bo_config bgpbt_bo_config_default(void) {
    bgpbt_bo_config c;
    memset(&c, 0, sizeof c);
    bgpbt_bo_space_init(&c.space, NULL);
    c.gp = bgpbt_gp_config_default();
    c.gp.ard = 1;
    c.acq = BGPBT_BO_ACQ_EI;
    c.beta = 3.0;
    c.tr = bgpbt_bo_tr_casmopolitan();
    c.n_restarts = 3;
    c.n_steps = 40;
    c.step_size = 0.05;
    c.n_neighbours = 10;
    c.n_candidates = 512;
    c.max_data = 256;
    c.max_pending = 64;
    return c;
}

BGPBT_API const bgpbt_bo_space* bgpbt_bo_get_space(const bgpbt_bo* bo) { return &bo->space; }
BGPBT_API bgpbt_gp* bgpbt_bo_get_gp(bgpbt_bo* bo) { return bo->gp; }
BGPBT_API bgpbt_rng* bgpbt_bo_get_rng(bgpbt_bo* bo) { return &bo->rng; }
BGPBT_API int bgpbt_bo_num_observations(const bgpbt_bo* bo) { return bo->n; }

BGPBT_API bgpbt_result bgpbt_bo_create(const bgpbt_bo_config* config, bgpbt_bo** out) {
    bgpbt_bo_config c;
    bgpbt_bo* bo;
    const bgpbt_logger* log = config ? &config->logger : NULL;
    bgpbt_result r;
    int i, nfree = 0;
    if (out) *out = NULL;
    if (!config || !out) return bgpbt__error(log, BGPBT_ERR_INVALID_ARGUMENT, "bo_create: config and out must not be NULL");
    c = *config;
    if (c.space.dim < 1) return bgpbt__error(log, BGPBT_ERR_INVALID_ARGUMENT, "bo_create: the search space is empty");
    for (i = 0; i < c.space.dim; ++i) if (!c.space.params[i].is_context) nfree++;
    if (!nfree) return bgpbt__error(log, BGPBT_ERR_INVALID_ARGUMENT, "bo_create: every dimension is a context dimension");
    if ((int)c.acq < 0 || (int)c.acq > 3) return bgpbt__error(log, BGPBT_ERR_INVALID_ARGUMENT, "bo_create: unknown acquisition %d", (int)c.acq);
    if (c.tr.length_init <= 0.0) c.tr = bgpbt_bo_tr_casmopolitan();
    if (!(c.tr.length_min > 0.0 && c.tr.length_min <= c.tr.length_init && c.tr.length_init <= c.tr.length_max) ||
        !(c.tr.cat_length_min > 0.0 && c.tr.cat_length_min <= c.tr.cat_length_init && c.tr.cat_length_init <= c.tr.cat_length_max) ||
        !(c.tr.multiplier > 1.0) || c.tr.succ_tol < 1 || c.tr.fail_tol < 1)
        return bgpbt__error(log, BGPBT_ERR_EMPTY_RANGE, "bo_create: trust-region lengths must satisfy 0 < min <= init <= max, multiplier > 1, tolerances >= 1");
    if (c.beta <= 0.0) c.beta = 3.0;
    if (c.n_init <= 0) { c.n_init = 2 * nfree; if (c.n_init < 4) c.n_init = 4; if (c.n_init > 20) c.n_init = 20; }
    if (c.n_restarts <= 0) c.n_restarts = 3;
    if (c.n_steps < 0) c.n_steps = 0; else if (c.n_steps == 0) c.n_steps = 40;
    if (c.step_size <= 0.0) c.step_size = 0.05;
    if (c.n_neighbours <= 0) c.n_neighbours = 10;
    if (c.n_candidates <= 0) c.n_candidates = 512;
    if (c.max_data <= 0) c.max_data = 256;
    if (c.max_pending <= 0) c.max_pending = 64;
    bo = (bgpbt_bo*)bgpbt_mem_alloc(&c.allocator, sizeof(bgpbt_bo), 64);
    if (!bo) return bgpbt__error(log, BGPBT_ERR_OUT_OF_MEMORY, "bo_create: out of memory");
    memset(bo, 0, sizeof *bo);
    bo->cfg = c;
    bo->space = c.space;
    bo->space.logger = c.logger;
    bo->dim = c.space.dim;
    for (i = 0; i < bo->dim; ++i) if (c.space.params[i].is_context) bo->ctx[bo->nctx++] = i;
    {
        bgpbt_gp_config g = c.gp;
        g.dim = bo->dim;
        for (i = 0; i < BGPBT_GP_MAX_DIM; ++i) g.num_categories[i] = 0;
        for (i = 0; i < bo->dim; ++i)
            if (c.space.params[i].type == BGPBT_BO_CATEGORICAL) g.num_categories[i] = c.space.params[i].num_choices;
        g.time_varying = c.time_varying;
        g.allocator = c.allocator;
        g.logger = c.logger;
        if (!g.seed) g.seed = c.seed ^ 0x5eedull;
        r = bgpbt_gp_create(&g, &bo->gp);
        if (r != BGPBT_OK) { bgpbt_mem_free(&c.allocator, bo, sizeof(bgpbt_bo)); return r; }
    }
    bo->pend = (double*)bgpbt__calloc(&c.allocator, (size_t)c.max_pending, sizeof(double) * (size_t)bo->dim);
    if (!bo->pend) {
        bgpbt_gp_destroy(bo->gp);
        bgpbt_mem_free(&c.allocator, bo, sizeof(bgpbt_bo));
        return bgpbt__error(log, BGPBT_ERR_OUT_OF_MEMORY, "bo_create: out of memory");
    }
    bgpbt_rng_init(&bo->rng, c.seed, 0x626f626full);
    bgpbt_bo_tr_reset(bo);
    bo->best_idx = -1;
    *out = bo;
    return BGPBT_OK;
}

BGPBT_API void bgpbt_bo_destroy(bgpbt_bo* bo) {
    bgpbt_allocator a;
    if (!bo) return;
    a = bo->cfg.allocator;
    bgpbt_gp_destroy(bo->gp);
    bgpbt__cfree(&a, bo->pend, (size_t)bo->cfg.max_pending, sizeof(double) * (size_t)bo->dim);
    if (bo->cap) {
        bgpbt__cfree(&a, bo->vals, (size_t)bo->cap, sizeof(double) * (size_t)bo->dim);
        bgpbt__cfree(&a, bo->t, (size_t)bo->cap, sizeof(double));
        bgpbt__cfree(&a, bo->y, (size_t)bo->cap, sizeof(double));
    }
    bgpbt_mem_free(&a, bo, sizeof(bgpbt_bo));
}

BGPBT_API void bgpbt_bo_tr_reset(bgpbt_bo* bo) {
    int restarts = bo->tr.restarts, sh = bo->tr.shrinks, ex = bo->tr.expansions;
    memset(&bo->tr, 0, sizeof bo->tr);
    bo->tr.length = bo->cfg.tr.length_init;
    bo->tr.cat_length = bo->cfg.tr.cat_length_init;
    bo->tr.restarts = restarts;
    bo->tr.shrinks = sh;
    bo->tr.expansions = ex;
}

BGPBT_API int bgpbt_bo_tr_report(bgpbt_bo* bo, int success) {
    const bgpbt_bo_tr_config* c = &bo->cfg.tr;
    int ncat = 0, i;
    for (i = 0; i < bo->dim; ++i) if (bo->space.params[i].type == BGPBT_BO_CATEGORICAL) ncat++;
    if (success) { bo->tr.succ++; bo->tr.fail = 0; }
    else { bo->tr.fail++; bo->tr.succ = 0; }
    if (bo->tr.succ >= c->succ_tol) {
        double lc = bo->tr.cat_length * c->multiplier;
        bo->tr.length = bo->tr.length * c->multiplier < c->length_max ? bo->tr.length * c->multiplier : c->length_max;
        lc = lc < c->cat_length_max ? lc : c->cat_length_max;
        bo->tr.cat_length = c->cat_fraction ? lc : floor(lc);
        bo->tr.succ = 0;
        bo->tr.expansions++;
    } else if (bo->tr.fail >= c->fail_tol) {
        double lc = bo->tr.cat_length / c->multiplier;
        bo->tr.length = bo->tr.length / c->multiplier > c->length_min ? bo->tr.length / c->multiplier : c->length_min;
        if (!c->cat_fraction) lc = floor(lc);
        bo->tr.cat_length = lc > c->cat_length_min ? lc : c->cat_length_min;
        bo->tr.fail = 0;
        bo->tr.shrinks++;
    }
    if (c->no_restart || c->global) return 0;
    return bo->tr.length <= c->length_min || (ncat > 0 && bo->tr.cat_length <= c->cat_length_min);
}

BGPBT_API void bgpbt_bo_tr_get(const bgpbt_bo* bo, bgpbt_bo_tr_state* state) { *state = bo->tr; }
BGPBT_API bgpbt_result bgpbt_bo_tr_set(bgpbt_bo* bo, const bgpbt_bo_tr_state* s) {
    if (!bo || !s) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!(s->length > 0.0 && s->length < HUGE_VAL) || !(s->cat_length > 0.0 && s->cat_length < HUGE_VAL) ||
        s->succ < 0 || s->fail < 0 || s->restarts < 0)
        return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_OUT_OF_RANGE, "bo_tr_set: bad state (length %g, cat_length %g, succ %d, fail %d)", s->length, s->cat_length, s->succ, s->fail);
    bo->tr = *s;
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_bo_tr_box(const bgpbt_bo* bo, double* lo, double* hi, int* hamming) {
    if (!bo->have_box) return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_WRONG_ORDER, "bo_tr_box: no suggestion made yet");
    if (lo) memcpy(lo, bo->box_lo, (size_t)bo->dim * sizeof(double));
    if (hi) memcpy(hi, bo->box_hi, (size_t)bo->dim * sizeof(double));
    if (hamming) *hamming = bo->hamming;
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_bo_best(const bgpbt_bo* bo, double* values, double* y) {
    if (bo->best_idx < 0) return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_WRONG_ORDER, "bo_best: no observation yet");
    if (values) memcpy(values, bo->vals + (size_t)bo->best_idx * bo->dim, (size_t)bo->dim * sizeof(double));
    if (y) *y = bo->y[bo->best_idx];
    return BGPBT_OK;
}

BGPBT__PRIVATE bgpbt_result bgpbt__bo_reserve(bgpbt_bo* bo, int need) {
    const bgpbt_allocator* A = &bo->cfg.allocator;
    int cap;
    double *v, *t, *y;
    if (need <= bo->cap) return BGPBT_OK;
    cap = bo->cap ? bo->cap : 64;
    while (cap < need) cap *= 2;
    v = (double*)bgpbt__calloc(A, (size_t)cap, sizeof(double) * (size_t)bo->dim);
    t = (double*)bgpbt__calloc(A, (size_t)cap, sizeof(double));
    y = (double*)bgpbt__calloc(A, (size_t)cap, sizeof(double));
    if (!v || !t || !y) {
        bgpbt__cfree(A, v, (size_t)cap, sizeof(double) * (size_t)bo->dim);
        bgpbt__cfree(A, t, (size_t)cap, sizeof(double));
        bgpbt__cfree(A, y, (size_t)cap, sizeof(double));
        return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_OUT_OF_MEMORY, "bo: cannot store %d observations", need);
    }
    if (bo->cap) {
        memcpy(v, bo->vals, (size_t)bo->n * (size_t)bo->dim * sizeof(double));
        memcpy(t, bo->t, (size_t)bo->n * sizeof(double));
        memcpy(y, bo->y, (size_t)bo->n * sizeof(double));
        bgpbt__cfree(A, bo->vals, (size_t)bo->cap, sizeof(double) * (size_t)bo->dim);
        bgpbt__cfree(A, bo->t, (size_t)bo->cap, sizeof(double));
        bgpbt__cfree(A, bo->y, (size_t)bo->cap, sizeof(double));
    }
    bo->vals = v; bo->t = t; bo->y = y; bo->cap = cap;
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_bo_set_data(bgpbt_bo* bo, const double* values, const double* t,
                                         const double* y, int n) {
    int i;
    bgpbt_result r;
    if (!bo || n < 0 || (n > 0 && (!values || !y))) return BGPBT_ERR_INVALID_ARGUMENT;
    if (n > 0 && bo->cfg.time_varying && !t)
        return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "bo_set_data: time-varying BO needs t");
    for (i = 0; i < n; ++i) {
        r = bgpbt_bo_space_check(&bo->space, values + (size_t)i * bo->dim);
        if (r != BGPBT_OK) return r;
        if (!(y[i] - y[i] == 0.0) || (t && !(t[i] - t[i] == 0.0)))
            return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_NOT_FINITE, "bo_set_data: y[%d] = %g or its time is not finite", i, y[i]);
    }
    r = bgpbt__bo_reserve(bo, n);
    if (r != BGPBT_OK) return r;
    if (n) {
        memcpy(bo->vals, values, (size_t)n * (size_t)bo->dim * sizeof(double));
        memcpy(bo->y, y, (size_t)n * sizeof(double));
    }
    bo->max_t = 0.0;
    for (i = 0; i < n; ++i) {
        bo->t[i] = t ? t[i] : 0.0;
        if (i == 0 || bo->t[i] > bo->max_t) bo->max_t = bo->t[i];
    }
    bo->n = n;
    bo->region_start = 0;
    bo->best_idx = -1;
    for (i = 0; i < n; ++i) if (bo->best_idx < 0 || y[i] < y[bo->best_idx]) bo->best_idx = i;
    bo->region_has_best = n > 0;
    bo->region_best = n > 0 ? y[bo->best_idx] : 0.0;
    bo->npend = 0;
    bo->init_pos = bo->cfg.n_init; /* a scheduler supplies its own data: no initial design */
    return BGPBT_OK;
}

BGPBT_API void bgpbt_bo_clear_pending(bgpbt_bo* bo) { bo->npend = 0; }

/* ---- suggestion machinery ------------------------------------------------------------------ */

typedef struct bgpbt__bo_ctx {
    /* per suggestion */
    int fixed[BGPBT_BO_MAX_DIM];  /* context or frozen: never moves */
    double lo[BGPBT_BO_MAX_DIM], hi[BGPBT_BO_MAX_DIM];
    double center[BGPBT_BO_MAX_DIM];
    double alo[BGPBT_BO_MAX_DIM], ahi[BGPBT_BO_MAX_DIM]; /* auto-range context bounds */
    int radius, ncat_free, nfloat, ndisc, nfree;
    double t, fbest;
    int nd;
} bgpbt__bo_ctx;

BGPBT__PRIVATE void bgpbt__bo_encode(const bgpbt_bo* bo, const bgpbt__bo_ctx* X, const double* v, double* u) {
    int i;
    for (i = 0; i < bo->dim; ++i) {
        const bgpbt_bo_param* p = &bo->space.params[i];
        if (bgpbt__bo_auto(p)) u[i] = (v[i] - X->alo[i]) / (X->ahi[i] - X->alo[i]);
        else u[i] = bgpbt__bo_enc1(p, v[i]);
    }
}
BGPBT__PRIVATE void bgpbt__bo_decode(const bgpbt_bo* bo, const bgpbt__bo_ctx* X, const double* u, double* v) {
    int i;
    for (i = 0; i < bo->dim; ++i) {
        const bgpbt_bo_param* p = &bo->space.params[i];
        if (bgpbt__bo_auto(p)) v[i] = X->alo[i] + u[i] * (X->ahi[i] - X->alo[i]);
        else v[i] = bgpbt__bo_dec1(p, u[i]);
    }
}
/* integer dims snapped to the encoding of their rounded value */
BGPBT__PRIVATE double bgpbt__bo_snap(const bgpbt_bo_param* p, double u) {
    return p->type == BGPBT_BO_INT ? bgpbt__bo_enc1(p, bgpbt__bo_dec1(p, u)) : u;
}

BGPBT__PRIVATE double bgpbt__bo_acq(const bgpbt_bo* bo, const bgpbt__bo_ctx* X, double mu, double var, double* dmu, double* dvar) {
    double s = sqrt(var);
    switch (bo->cfg.acq) {
        case BGPBT_BO_ACQ_LCB:
            if (dmu) { *dmu = 1.0; *dvar = -bo->cfg.beta / (2.0 * s); }
            return mu - bo->cfg.beta * s;
        case BGPBT_BO_ACQ_LCB_VAR:
            if (dmu) { *dmu = 1.0; *dvar = -bo->cfg.beta; }
            return mu - bo->cfg.beta * var;
        default: {
            double z = (X->fbest - mu) / s, cdf = bgpbt_normal_cdf(z), pdf = bgpbt_normal_pdf(z);
            if (dmu) { *dmu = cdf; *dvar = -pdf / (2.0 * s); }
            return -s * (z * cdf + pdf);
        }
    }
}

BGPBT__PRIVATE int bgpbt__bo_hamming(const bgpbt_bo* bo, const double* a, const double* b) {
    int i, h = 0;
    for (i = 0; i < bo->dim; ++i)
        if (bo->space.params[i].type == BGPBT_BO_CATEGORICAL && a[i] != b[i]) h++;
    return h;
}

/* a random point of the region around the centre (DYCORS-style sparse perturbation) */
BGPBT__PRIVATE void bgpbt__bo_candidate(bgpbt_bo* bo, const bgpbt__bo_ctx* X, double* u) {
    int i, moved = 0, changed = 0;
    double prob = X->nfree > 20 ? 20.0 / X->nfree : 1.0;
    int order[BGPBT_BO_MAX_DIM];
    memcpy(u, X->center, (size_t)bo->dim * sizeof(double));
    bgpbt_rng_permutation(&bo->rng, order, bo->dim);
    for (i = 0; i < bo->dim; ++i) {
        int d = order[i];
        const bgpbt_bo_param* p = &bo->space.params[d];
        if (X->fixed[d]) continue;
        if (bgpbt_rng_double(&bo->rng) >= prob && !(moved == 0 && i == bo->dim - 1)) continue;
        if (p->type == BGPBT_BO_CATEGORICAL) {
            if (changed >= X->radius) continue;
            u[d] = (double)bgpbt_rng_below(&bo->rng, (uint32_t)p->num_choices);
            if (u[d] != X->center[d]) changed++;
        } else {
            u[d] = bgpbt__bo_snap(p, bgpbt_rng_uniform(&bo->rng, X->lo[d], X->hi[d]));
            u[d] = bgpbt__clampd(u[d], X->lo[d], X->hi[d]);
        }
        moved++;
    }
}

/* a discrete neighbour of x: one INT dim moved PBT-style or one categorical dim switched */
BGPBT__PRIVATE int bgpbt__bo_neighbour(bgpbt_bo* bo, const bgpbt__bo_ctx* X, const double* x, double* u) {
    int tries;
    memcpy(u, x, (size_t)bo->dim * sizeof(double));
    for (tries = 0; tries < 20; ++tries) {
        int d = (int)bgpbt_rng_below(&bo->rng, (uint32_t)bo->dim);
        const bgpbt_bo_param* p = &bo->space.params[d];
        if (X->fixed[d] || p->type == BGPBT_BO_FLOAT) continue;
        if (p->type == BGPBT_BO_CATEGORICAL) {
            double old = u[d];
            u[d] = (double)bgpbt_rng_below(&bo->rng, (uint32_t)(p->num_choices - 1));
            if (u[d] >= old) u[d] += 1.0;
            if (bgpbt__bo_hamming(bo, u, X->center) > X->radius) { u[d] = old; continue; }
            return 1;
        } else {
            double v = bgpbt__bo_dec1(p, x[d]);
            double lo = floor(0.8 * v + 0.5), hi = floor(1.2 * v + 0.5), nv, nu;
            if (v - 1 < lo) lo = v - 1;
            if (v + 1 > hi) hi = v + 1;
            if (v < 0) { double tmp = lo; lo = hi < v - 1 ? hi : v - 1; hi = tmp > v + 1 ? tmp : v + 1; }
            if (lo < p->lo) lo = p->lo;
            if (hi > p->hi) hi = p->hi;
            if (hi <= lo) continue;
            nv = lo + (double)bgpbt_rng_below(&bo->rng, (uint32_t)(hi - lo));
            if (nv >= v) nv += 1.0;
            nu = bgpbt__bo_enc1(p, nv);
            if (nu < X->lo[d] || nu > X->hi[d]) continue; /* outside the box */
            u[d] = nu;
            return 1;
        }
    }
    return 0;
}

/* interleaved search from u (in place); returns the best acquisition value found */
BGPBT__PRIVATE double bgpbt__bo_local(bgpbt_bo* bo, const bgpbt__bo_ctx* X, double* u, double* nb, double* nmu, double* nvar) {
    double best[BGPBT_BO_MAX_DIM], m1[BGPBT_BO_MAX_DIM], m2[BGPBT_BO_MAX_DIM], dm[BGPBT_BO_MAX_DIM], dv[BGPBT_BO_MAX_DIM];
    double abest = HUGE_VAL, acur;
    int step, i, k, nn = bo->cfg.n_neighbours;
    double tt = X->t;
    memset(m1, 0, sizeof m1);
    memset(m2, 0, sizeof m2);
    for (step = 0; step <= bo->cfg.n_steps; ++step) {
        double mu, var, gmu = 0.0, gvar = 0.0;
        if (bgpbt_gp_predict_grad(bo->gp, u, &tt, &mu, &var, dm, dv) != BGPBT_OK) break;
        acur = bgpbt__bo_acq(bo, X, mu, var, &gmu, &gvar);
        if (acur < abest) { abest = acur; memcpy(best, u, (size_t)bo->dim * sizeof(double)); }
        if (step == bo->cfg.n_steps) break;
        if (X->nfloat) { /* Adam on the FLOAT dims, lr decaying to a tenth, projected into the box */
            double lr = bo->cfg.step_size * (1.0 - 0.9 * step / (bo->cfg.n_steps > 1 ? bo->cfg.n_steps - 1 : 1));
            double b1t = 1.0 - pow(0.9, step + 1), b2t = 1.0 - pow(0.999, step + 1);
            for (i = 0; i < bo->dim; ++i) {
                double g;
                if (X->fixed[i] || bo->space.params[i].type != BGPBT_BO_FLOAT) continue;
                g = gmu * dm[i] + gvar * dv[i];
                m1[i] = 0.9 * m1[i] + 0.1 * g;
                m2[i] = 0.999 * m2[i] + 0.001 * g * g;
                u[i] -= lr * (m1[i] / b1t) / (sqrt(m2[i] / b2t) + 1e-12);
                u[i] = bgpbt__clampd(u[i], X->lo[i], X->hi[i]);
            }
        }
        if (X->ndisc) { /* best of nn discrete neighbours, taken if it improves */
            int cnt = 0, bi = -1;
            double ba;
            if (X->nfloat) {
                if (bgpbt_gp_predict(bo->gp, u, &tt, 1, &mu, &var) != BGPBT_OK) break;
                acur = bgpbt__bo_acq(bo, X, mu, var, NULL, NULL);
                if (acur < abest) { abest = acur; memcpy(best, u, (size_t)bo->dim * sizeof(double)); }
            }
            for (k = 0; k < nn; ++k)
                if (bgpbt__bo_neighbour(bo, X, u, nb + (size_t)cnt * bo->dim)) cnt++;
            if (cnt && bgpbt_gp_predict(bo->gp, nb, NULL, cnt, nmu, nvar) == BGPBT_OK) {
                ba = acur;
                for (k = 0; k < cnt; ++k) {
                    double a = bgpbt__bo_acq(bo, X, nmu[k], nvar[k], NULL, NULL);
                    if (a < ba) { ba = a; bi = k; }
                }
                if (bi >= 0) memcpy(u, nb + (size_t)bi * bo->dim, (size_t)bo->dim * sizeof(double));
            }
        }
    }
    if (abest < HUGE_VAL) memcpy(u, best, (size_t)bo->dim * sizeof(double));
    return abest;
}

/* The core of ask and suggest: q points into `out` (user values). ctxv: one value per context
   dim or NULL; internal = 1 adds the ask/tell pending points. */
BGPBT__PRIVATE bgpbt_result bgpbt__bo_propose(bgpbt_bo* bo, const bgpbt_bo_request* req, int q, double* out, int internal) {
    const bgpbt_allocator* A = &bo->cfg.allocator;
    bgpbt__bo_ctx X;
    int dim = bo->dim, i, j, k, start, nd, npmax, np = 0, nc = bo->cfg.n_candidates, nn = bo->cfg.n_neighbours;
    double *U = NULL, *Y = NULL, *T = NULL, *P = NULL, *C = NULL, *cm = NULL, *cv = NULL, *nb = NULL, *nmu = NULL, *nvar = NULL, *ts = NULL;
    double ctxraw[BGPBT_BO_MAX_DIM], cvals[BGPBT_BO_MAX_DIM];
    bgpbt_result r = BGPBT_OK;
    int fitted = 0;
    memset(&X, 0, sizeof X);
    start = bo->n - bo->region_start > bo->cfg.max_data ? bo->n - bo->cfg.max_data : bo->region_start;
    nd = bo->n - start;
    X.nd = nd;
    /* context values (raw) */
    for (j = 0; j < bo->nctx; ++j) {
        int d = bo->ctx[j];
        double v;
        if (req && req->context) v = req->context[j];
        else if (req && req->center) v = req->center[d];
        else v = bo->space.params[d].lo == bo->space.params[d].hi ? 0.0 : bgpbt__bo_dec1(&bo->space.params[d], 0.5);
        if (!(v - v == 0.0)) return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_NOT_FINITE, "bo: context value %d is %g", j, v);
        ctxraw[d] = v;
    }
    if (req && req->center) {
        r = bgpbt_bo_space_check(&bo->space, req->center);
        if (r != BGPBT_OK) return r;
    }
    if (req && req->frozen && !(req->center))
        return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "bo_suggest: frozen dims need a centre");
    for (i = 0; req && i < req->n_pending; ++i) {
        double tmp[BGPBT_BO_MAX_DIM];
        memcpy(tmp, req->pending + (size_t)i * dim, (size_t)dim * sizeof(double));
        for (j = 0; j < bo->nctx; ++j) tmp[bo->ctx[j]] = ctxraw[bo->ctx[j]];
        r = bgpbt_bo_space_check(&bo->space, tmp);
        if (r != BGPBT_OK) return r;
    }
    /* auto-range context bounds over data, pending and the given value */
    for (j = 0; j < bo->nctx; ++j) {
        int d = bo->ctx[j];
        double lo = ctxraw[d], hi = ctxraw[d];
        for (i = start; i < bo->n; ++i) { double v = bo->vals[(size_t)i * dim + d]; if (v < lo) lo = v; if (v > hi) hi = v; }
        X.alo[d] = lo - 1e-8;
        X.ahi[d] = hi + 1e-8;
    }
    for (i = 0; i < dim; ++i) {
        const bgpbt_bo_param* p = &bo->space.params[i];
        X.fixed[i] = p->is_context || (req && req->frozen && req->frozen[i]);
        if (X.fixed[i]) continue;
        X.nfree++;
        if (p->type == BGPBT_BO_FLOAT) X.nfloat++;
        else X.ndisc++;
        if (p->type == BGPBT_BO_CATEGORICAL) X.ncat_free++;
    }
    npmax = q + (req ? req->n_pending : 0) + (internal ? bo->npend : 0);
    U = (double*)bgpbt__calloc(A, (size_t)(nd > 0 ? nd : 1), sizeof(double) * (size_t)dim);
    Y = (double*)bgpbt__calloc(A, (size_t)(nd > 0 ? nd : 1), sizeof(double));
    T = (double*)bgpbt__calloc(A, (size_t)(nd > 0 ? nd : 1), sizeof(double));
    P = (double*)bgpbt__calloc(A, (size_t)(npmax > 0 ? npmax : 1), sizeof(double) * (size_t)dim);
    C = (double*)bgpbt__calloc(A, (size_t)nc, sizeof(double) * (size_t)dim);
    cm = (double*)bgpbt__calloc(A, (size_t)nc, sizeof(double));
    cv = (double*)bgpbt__calloc(A, (size_t)nc, sizeof(double));
    nb = (double*)bgpbt__calloc(A, (size_t)nn, sizeof(double) * (size_t)dim);
    nmu = (double*)bgpbt__calloc(A, (size_t)nn, sizeof(double));
    nvar = (double*)bgpbt__calloc(A, (size_t)nn, sizeof(double));
    ts = (double*)bgpbt__calloc(A, (size_t)nc, sizeof(double));
    if (!U || !Y || !T || !P || !C || !cm || !cv || !nb || !nmu || !nvar || !ts) {
        r = bgpbt__error(&bo->cfg.logger, BGPBT_ERR_OUT_OF_MEMORY, "bo: out of memory in a suggestion");
        goto done;
    }
    for (i = 0; i < nd; ++i) {
        bgpbt__bo_encode(bo, &X, bo->vals + (size_t)(start + i) * dim, U + (size_t)i * dim);
        Y[i] = bo->y[start + i];
        T[i] = bo->t[start + i];
    }
    X.t = (req && req->use_t) ? req->t : bo->max_t;
    if (nd >= 2) {
        r = bgpbt_gp_set_data(bo->gp, U, bo->cfg.time_varying ? T : NULL, Y, nd);
        if (r == BGPBT_OK) r = bgpbt_gp_fit(bo->gp);
        if (r == BGPBT_OK) fitted = 1;
        else bgpbt__log(&bo->cfg.logger, BGPBT_LOG_WARN, "bo: GP fit failed (%s); suggesting random points", bgpbt_result_string(r));
        r = BGPBT_OK;
    }
    /* centre */
    if (req && req->center) {
        bgpbt__bo_encode(bo, &X, req->center, X.center);
    } else if (nd > 0) {
        int bi = 0;
        for (i = 1; i < nd; ++i) if (Y[i] < Y[bi]) bi = i;
        memcpy(X.center, U + (size_t)bi * dim, (size_t)dim * sizeof(double));
    } else {
        bgpbt_bo_space_sample(&bo->space, &bo->rng, cvals);
        bgpbt__bo_encode(bo, &X, cvals, X.center);
    }
    for (j = 0; j < bo->nctx; ++j) {
        int d = bo->ctx[j];
        X.center[d] = bgpbt__bo_auto(&bo->space.params[d]) ? (ctxraw[d] - X.alo[d]) / (X.ahi[d] - X.alo[d])
                                                            : bgpbt__bo_enc1(&bo->space.params[d], ctxraw[d]);
    }
    /* trust region: lengthscale-weighted box, Hamming radius */
    {
        bgpbt_gp_hypers h;
        double w[BGPBT_BO_MAX_DIM], mean = 0.0, lg = 0.0;
        int cnt = 0;
        bgpbt_gp_get_hypers(bo->gp, &h);
        for (i = 0; i < dim; ++i) {
            w[i] = 1.0;
            if (!X.fixed[i] && bo->space.params[i].type != BGPBT_BO_CATEGORICAL && fitted) { w[i] = h.lengthscale[i]; mean += w[i]; cnt++; }
        }
        if (cnt > 0 && mean > 0.0) {
            mean /= cnt;
            for (i = 0; i < dim; ++i)
                if (!X.fixed[i] && bo->space.params[i].type != BGPBT_BO_CATEGORICAL) { w[i] /= mean; lg += log(w[i]); }
            lg = exp(lg / cnt);
            for (i = 0; i < dim; ++i)
                if (!X.fixed[i] && bo->space.params[i].type != BGPBT_BO_CATEGORICAL) w[i] /= lg;
        }
        for (i = 0; i < dim; ++i) {
            const bgpbt_bo_param* p = &bo->space.params[i];
            if (X.fixed[i]) { X.lo[i] = X.hi[i] = X.center[i]; continue; }
            if (p->type == BGPBT_BO_CATEGORICAL) { X.lo[i] = 0.0; X.hi[i] = p->num_choices - 1; continue; }
            if (bo->cfg.tr.global) { X.lo[i] = 0.0; X.hi[i] = 1.0; continue; }
            X.lo[i] = bgpbt__clampd(X.center[i] - 0.5 * w[i] * bo->tr.length, 0.0, 1.0);
            X.hi[i] = bgpbt__clampd(X.center[i] + 0.5 * w[i] * bo->tr.length, 0.0, 1.0);
        }
        if (bo->cfg.tr.global) X.radius = X.ncat_free;
        else if (bo->cfg.tr.cat_fraction) X.radius = (int)floor(bo->tr.cat_length * X.ncat_free + 0.5);
        else X.radius = (int)bo->tr.cat_length;
        if (X.radius < 1) X.radius = 1;
        if (X.radius > X.ncat_free) X.radius = X.ncat_free;
        bo->have_box = 1;
        bo->hamming = X.radius;
        for (i = 0; i < dim; ++i) {
            const bgpbt_bo_param* p = &bo->space.params[i];
            bo->box_lo[i] = (p->type == BGPBT_BO_CATEGORICAL || p->is_context) ? 0.0 : X.lo[i];
            bo->box_hi[i] = (p->type == BGPBT_BO_CATEGORICAL || p->is_context) ? 1.0 : X.hi[i];
        }
    }
    /* pending points, encoded with the request's context */
    for (i = 0; req && i < req->n_pending; ++i) {
        double tmp[BGPBT_BO_MAX_DIM];
        memcpy(tmp, req->pending + (size_t)i * dim, (size_t)dim * sizeof(double));
        for (j = 0; j < bo->nctx; ++j) tmp[bo->ctx[j]] = ctxraw[bo->ctx[j]];
        bgpbt__bo_encode(bo, &X, tmp, P + (size_t)np++ * dim);
    }
    for (i = 0; internal && i < bo->npend; ++i) {
        double tmp[BGPBT_BO_MAX_DIM];
        memcpy(tmp, bo->pend + (size_t)i * dim, (size_t)dim * sizeof(double));
        for (j = 0; j < bo->nctx; ++j) tmp[bo->ctx[j]] = ctxraw[bo->ctx[j]];
        bgpbt__bo_encode(bo, &X, tmp, P + (size_t)np++ * dim);
    }
    if (fitted) {
        const double* ty = bgpbt_gp_targets(bo->gp);
        X.fbest = ty[0];
        for (i = 1; i < nd; ++i) if (ty[i] < X.fbest) X.fbest = ty[i];
    }
    for (k = 0; k < q; ++k) {
        double best[BGPBT_BO_MAX_DIM];
        double* o = out + (size_t)k * dim;
        if (!fitted) {
            bgpbt__bo_candidate(bo, &X, best);
            if (nd < 2) { /* no model: uniform over the free dims of the whole space */
                bgpbt_bo_space_sample(&bo->space, &bo->rng, cvals);
                for (i = 0; i < dim; ++i) if (!X.fixed[i]) best[i] = bgpbt__bo_enc1(&bo->space.params[i], cvals[i]);
            }
        } else {
            int tries;
            for (tries = 0; tries < 2; ++tries) {
                r = bgpbt_gp_set_pending(bo->gp, np ? P : NULL, NULL, np);
                if (r == BGPBT_OK || np == 0) break;
                np = 0; /* pending points could not be factored: ignore them */
            }
            r = BGPBT_OK;
            for (i = 0; i < nc; ++i) bgpbt__bo_candidate(bo, &X, C + (size_t)i * dim);
            for (i = 0; i < nc; ++i) ts[i] = X.t;
            if (bo->cfg.acq == BGPBT_BO_ACQ_TS) {
                int bi = 0;
                if (bgpbt_gp_sample(bo->gp, C, ts, nc, 1, &bo->rng, cm) == BGPBT_OK) {
                    for (i = 1; i < nc; ++i) if (cm[i] < cm[bi]) bi = i;
                }
                memcpy(best, C + (size_t)bi * dim, (size_t)dim * sizeof(double));
            } else {
                int order[3 * 8 + 1], ns = bo->cfg.n_restarts, s;
                double abest = HUGE_VAL;
                if (ns > 24) ns = 24;
                if (bgpbt_gp_predict(bo->gp, C, ts, nc, cm, cv) != BGPBT_OK) { r = BGPBT_ERR_INTERNAL; goto done; }
                for (i = 0; i < nc; ++i) cm[i] = bgpbt__bo_acq(bo, &X, cm[i], cv[i], NULL, NULL);
                /* the best ns - 1 candidates (partial selection), plus a perturbed centre */
                for (s = 0; s < ns - 1 && s < nc; ++s) {
                    int bi = -1;
                    for (i = 0; i < nc; ++i) if (cm[i] < HUGE_VAL && (bi < 0 || cm[i] < cm[bi])) bi = i;
                    if (bi < 0) break;
                    order[s] = bi;
                    cv[s] = cm[bi];
                    cm[bi] = HUGE_VAL;
                }
                {
                    int nstarts = s;
                    for (s = 0; s <= nstarts; ++s) {
                        double u[BGPBT_BO_MAX_DIM], a;
                        if (s < nstarts) memcpy(u, C + (size_t)order[s] * dim, (size_t)dim * sizeof(double));
                        else {
                            memcpy(u, X.center, (size_t)dim * sizeof(double));
                            for (i = 0; i < dim; ++i) {
                                const bgpbt_bo_param* p = &bo->space.params[i];
                                if (X.fixed[i] || p->type == BGPBT_BO_CATEGORICAL) continue;
                                u[i] = bgpbt__clampd(bgpbt__bo_snap(p, u[i] * bgpbt_rng_uniform(&bo->rng, 0.8, 1.2)), X.lo[i], X.hi[i]);
                            }
                        }
                        a = bgpbt__bo_local(bo, &X, u, nb, nmu, nvar);
                        if (a < abest || s == 0) { abest = a; memcpy(best, u, (size_t)dim * sizeof(double)); }
                    }
                }
            }
        }
        for (i = 0; i < dim; ++i) {
            const bgpbt_bo_param* p = &bo->space.params[i];
            if (!X.fixed[i] && p->type != BGPBT_BO_CATEGORICAL) best[i] = bgpbt__bo_snap(p, bgpbt__clampd(best[i], 0.0, 1.0));
        }
        bgpbt__bo_decode(bo, &X, best, o);
        for (j = 0; j < bo->nctx; ++j) o[bo->ctx[j]] = ctxraw[bo->ctx[j]];
        for (i = 0; i < dim; ++i) if (X.fixed[i] && !bo->space.params[i].is_context) o[i] = req->center[i];
        if (np < npmax) memcpy(P + (size_t)np++ * dim, best, (size_t)dim * sizeof(double));
    }
    if (fitted) bgpbt_gp_set_pending(bo->gp, NULL, NULL, 0);
done:
    bgpbt__cfree(A, U, (size_t)(nd > 0 ? nd : 1), sizeof(double) * (size_t)dim);
    bgpbt__cfree(A, Y, (size_t)(nd > 0 ? nd : 1), sizeof(double));
    bgpbt__cfree(A, T, (size_t)(nd > 0 ? nd : 1), sizeof(double));
    bgpbt__cfree(A, P, (size_t)(npmax > 0 ? npmax : 1), sizeof(double) * (size_t)dim);
    bgpbt__cfree(A, C, (size_t)nc, sizeof(double) * (size_t)dim);
    bgpbt__cfree(A, cm, (size_t)nc, sizeof(double));
    bgpbt__cfree(A, cv, (size_t)nc, sizeof(double));
    bgpbt__cfree(A, nb, (size_t)nn, sizeof(double) * (size_t)dim);
    bgpbt__cfree(A, nmu, (size_t)nn, sizeof(double));
    bgpbt__cfree(A, nvar, (size_t)nn, sizeof(double));
    bgpbt__cfree(A, ts, (size_t)nc, sizeof(double));
    return r;
}

BGPBT_API bgpbt_result bgpbt_bo_suggest(bgpbt_bo* bo, const bgpbt_bo_request* req, int q, double* values) {
    if (!bo || q < 1 || !values) return BGPBT_ERR_INVALID_ARGUMENT;
    if (req && (req->n_pending < 0 || (req->n_pending > 0 && !req->pending)))
        return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "bo_suggest: n_pending = %d with NULL pending", req->n_pending);
    return bgpbt__bo_propose(bo, req, q, values, 0);
}

/* Latin hypercube point i of the region's initial design (strata permuted per dim from a
   stream derived from the region number, so the design needs no storage). */
BGPBT__PRIVATE void bgpbt__bo_init_point(bgpbt_bo* bo, int idx, const double* ctx, double* v) {
    int i, n = bo->cfg.n_init;
    for (i = 0; i < bo->dim; ++i) {
        const bgpbt_bo_param* p = &bo->space.params[i];
        bgpbt_rng r;
        int perm[256], stratum;
        bgpbt_rng_init(&r, bo->cfg.seed ^ 0x1a7e5ull, (uint64_t)bo->tr.restarts * 1024u + (uint64_t)i);
        if (n <= 256) { bgpbt_rng_permutation(&r, perm, n); stratum = perm[idx % n]; }
        else stratum = idx % n;
        if (p->is_context) continue;
        if (p->type == BGPBT_BO_CATEGORICAL) v[i] = (double)(stratum % p->num_choices);
        else v[i] = bgpbt__bo_dec1(p, (stratum + bgpbt_rng_double(&bo->rng)) / n);
    }
    for (i = 0; i < bo->nctx; ++i) {
        const bgpbt_bo_param* p = &bo->space.params[bo->ctx[i]];
        v[bo->ctx[i]] = ctx ? ctx[i] : (bgpbt__bo_auto(p) ? 0.0 : bgpbt__bo_dec1(p, 0.5));
    }
}

BGPBT__PRIVATE void bgpbt__bo_push_pending(bgpbt_bo* bo, const double* v) {
    if (bo->npend == bo->cfg.max_pending) { /* drop the oldest */
        memmove(bo->pend, bo->pend + bo->dim, (size_t)(bo->npend - 1) * (size_t)bo->dim * sizeof(double));
        bo->npend--;
    }
    memcpy(bo->pend + (size_t)bo->npend * bo->dim, v, (size_t)bo->dim * sizeof(double));
    bo->npend++;
}

BGPBT_API bgpbt_result bgpbt_bo_ask(bgpbt_bo* bo, const double* context, int q, double* values) {
    int k = 0, i;
    bgpbt_result r;
    if (!bo || q < 1 || !values) return BGPBT_ERR_INVALID_ARGUMENT;
    if (bo->nctx && context)
        for (i = 0; i < bo->nctx; ++i)
            if (!(context[i] - context[i] == 0.0))
                return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_NOT_FINITE, "bo_ask: context value %d is %g", i, context[i]);
    while (k < q && bo->init_pos < bo->cfg.n_init) {
        bgpbt__bo_init_point(bo, bo->init_pos++, context, values + (size_t)k * bo->dim);
        bgpbt__bo_push_pending(bo, values + (size_t)k * bo->dim);
        k++;
    }
    if (k < q) {
        bgpbt_bo_request req;
        memset(&req, 0, sizeof req);
        req.context = context;
        r = bgpbt__bo_propose(bo, &req, q - k, values + (size_t)k * bo->dim, 1);
        if (r != BGPBT_OK) return r;
        for (; k < q; ++k) bgpbt__bo_push_pending(bo, values + (size_t)k * bo->dim);
    }
    return BGPBT_OK;
}

BGPBT__PRIVATE void bgpbt__bo_drop_pending(bgpbt_bo* bo, const double* v) {
    int i;
    for (i = 0; i < bo->npend; ++i)
        if (!memcmp(bo->pend + (size_t)i * bo->dim, v, (size_t)bo->dim * sizeof(double))) {
            memmove(bo->pend + (size_t)i * bo->dim, bo->pend + (size_t)(i + 1) * bo->dim,
                    (size_t)(bo->npend - i - 1) * (size_t)bo->dim * sizeof(double));
            bo->npend--;
            return;
        }
}

BGPBT__PRIVATE void bgpbt__bo_report_tell(bgpbt_bo* bo, int success) {
    if (bgpbt_bo_tr_report(bo, success)) { /* restart: a new region */
        bgpbt__log(&bo->cfg.logger, BGPBT_LOG_INFO, "bo: trust region collapsed (length %g); restart %d", bo->tr.length, bo->tr.restarts + 1);
        bo->tr.restarts++;
        bgpbt_bo_tr_reset(bo);
        bo->region_start = bo->n;
        bo->region_has_best = 0;
        bo->init_pos = 0;
    }
}

BGPBT_API bgpbt_result bgpbt_bo_tell(bgpbt_bo* bo, const double* values, double t, double y) {
    bgpbt_result r;
    int in_bo_phase;
    if (!bo || !values) return BGPBT_ERR_INVALID_ARGUMENT;
    r = bgpbt_bo_space_check(&bo->space, values);
    if (r != BGPBT_OK) return r;
    in_bo_phase = bo->n - bo->region_start >= bo->cfg.n_init;
    if (!(y - y == 0.0) || (bo->cfg.time_varying && !(t - t == 0.0))) {
        bgpbt__bo_drop_pending(bo, values);
        if (in_bo_phase) bgpbt__bo_report_tell(bo, 0);
        return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_NOT_FINITE, "bo_tell: y = %g (t = %g) is not finite; observation rejected", y, t);
    }
    r = bgpbt__bo_reserve(bo, bo->n + 1);
    if (r != BGPBT_OK) return r;
    memcpy(bo->vals + (size_t)bo->n * bo->dim, values, (size_t)bo->dim * sizeof(double));
    bo->t[bo->n] = bo->cfg.time_varying ? t : 0.0;
    bo->y[bo->n] = y;
    if (bo->n == 0 || bo->t[bo->n] > bo->max_t) bo->max_t = bo->t[bo->n];
    if (bo->best_idx < 0 || y < bo->y[bo->best_idx]) bo->best_idx = bo->n;
    bo->n++;
    bgpbt__bo_drop_pending(bo, values);
    {
        int success = bo->region_has_best && y < bo->region_best - bo->cfg.tr.improve_rel * fabs(bo->region_best);
        if (!bo->region_has_best || y < bo->region_best) { bo->region_best = y; bo->region_has_best = 1; }
        if (in_bo_phase) bgpbt__bo_report_tell(bo, success);
    }
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_bo_minimize(bgpbt_bo* bo, bgpbt_bo_objective f, void* f_user, int n_evals,
                                         int batch, bgpbt_bo_progress progress, void* progress_user) {
    double* v;
    int done = 0, k;
    bgpbt_result r = BGPBT_OK;
    if (!bo || !f || n_evals < 0) return BGPBT_ERR_INVALID_ARGUMENT;
    if (batch < 1) batch = 1;
    v = (double*)bgpbt__calloc(&bo->cfg.allocator, (size_t)batch, sizeof(double) * (size_t)bo->dim);
    if (!v) return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_OUT_OF_MEMORY, "bo_minimize: out of memory");
    while (done < n_evals) {
        int q = n_evals - done < batch ? n_evals - done : batch;
        r = bgpbt_bo_ask(bo, NULL, q, v);
        if (r != BGPBT_OK) break;
        for (k = 0; k < q; ++k) {
            const double* x = v + (size_t)k * bo->dim;
            double y = f(x, bo->dim, f_user), best = y;
            bgpbt_result rt = bgpbt_bo_tell(bo, x, 0.0, y);
            if (rt != BGPBT_OK && rt != BGPBT_ERR_NOT_FINITE) { r = rt; break; }
            done++;
            bgpbt_bo_best(bo, NULL, &best);
            if (progress) progress(done, x, y, best, progress_user);
        }
        if (r != BGPBT_OK) break;
    }
    bgpbt__cfree(&bo->cfg.allocator, v, (size_t)batch, sizeof(double) * (size_t)bo->dim);
    return r;
}

/* ============================================================================================
   [impl.pbt] pbt
   ============================================================================================ */

/* ---- names, parameters, encoding ----------------------------------------------------------- */

BGPBT_API const char* bgpbt_pbt_source_name(int source) {
    static const char* const names[] = {"random", "previous", "perturb", "resample", "bo",
                                        "distilled", "archive", "copied"};
    return (source >= 0 && source < 8) ? names[source] : "unknown";
}
BGPBT_API const char* bgpbt_pbt_method_name(int method) {
    static const char* const names[] = {"bgpbt", "pb2", "pbt", "random"};
    return (method >= 0 && method < 4) ? names[method] : "unknown";
}

BGPBT_API bgpbt_pbt_param bgpbt_pbt_param_make(const char* name, int type, double lo, double hi, int log) {
    bgpbt_pbt_param p;
    memset(&p, 0, sizeof p);
    if (name) {
        size_t n = strlen(name);
        if (n >= BGPBT_PBT_NAME_LEN) n = BGPBT_PBT_NAME_LEN - 1;
        memcpy(p.name, name, n);
    }
    p.type = type;
    p.lo = lo;
    p.hi = hi;
    p.log = log;
    return p;
}

/* ConfigSpace: integers span [lo - 0.5, hi + 0.5] (0.49999 there; 0.5 here, with rounding
   that keeps both ends inside the range). */
BGPBT_API double bgpbt_pbt_param_encode(const bgpbt_pbt_param* p, double v) {
    double lo = p->lo, hi = p->hi, u;
    if (p->type == BGPBT_PBT_INT) { lo -= 0.5; hi += 0.5; }
    if (p->log) {
        if (!(v > 0) || !(lo > 0)) return 0.0;
        u = (log(v) - log(lo)) / (log(hi) - log(lo));
    } else {
        u = (hi > lo) ? (v - lo) / (hi - lo) : 0.5;
    }
    return u < 0 ? 0.0 : u > 1 ? 1.0 : u;
}
BGPBT_API double bgpbt_pbt_param_decode(const bgpbt_pbt_param* p, double u) {
    double lo = p->lo, hi = p->hi, v;
    if (!(u == u)) u = 0.5;
    if (u < 0) u = 0;
    if (u > 1) u = 1;
    if (p->type == BGPBT_PBT_INT) { lo -= 0.5; hi += 0.5; }
    if (p->log && lo > 0) v = exp(log(lo) + u * (log(hi) - log(lo)));
    else v = lo + u * (hi - lo);
    if (p->type == BGPBT_PBT_INT) {
        v = floor(v + 0.5);
        if (v < p->lo) v = p->lo;
        if (v > p->hi) v = p->hi;
    } else {
        if (v < p->lo) v = p->lo;
        if (v > p->hi) v = p->hi;
    }
    return v;
}

BGPBT__PRIVATE int bgpbt__pbt_find(const bgpbt_pbt_param* ps, int n, const char* name) {
    int i;
    if (!name) return -1;
    for (i = 0; i < n; ++i) if (!strncmp(ps[i].name, name, BGPBT_PBT_NAME_LEN)) return i;
    return -1;
}
BGPBT_API int bgpbt_pbt_hp_index(const bgpbt_pbt_config* c, const char* name) {
    return c ? bgpbt__pbt_find(c->hp, c->n_hp, name) : -1;
}
BGPBT_API int bgpbt_pbt_arch_index(const bgpbt_pbt_config* c, const char* name) {
    return (c && c->n_arch > 0) ? bgpbt__pbt_find(c->arch, c->n_arch, name) : -1;
}

BGPBT__PRIVATE void bgpbt__pbt_default_space(bgpbt_pbt_config* c) {
    c->n_hp = 9;
    c->hp[0] = bgpbt_pbt_param_make("lr", BGPBT_PBT_FLOAT, 1e-4, 1e-3, 1);
    c->hp[1] = bgpbt_pbt_param_make("gamma", BGPBT_PBT_FLOAT, 0.9, 0.9999, 1);
    c->hp[2] = bgpbt_pbt_param_make("entropy_cost", BGPBT_PBT_FLOAT, 1e-6, 0.1, 1);
    c->hp[3] = bgpbt_pbt_param_make("unroll_length", BGPBT_PBT_INT, 5, 15, 0);
    c->hp[4] = bgpbt_pbt_param_make("log2_batch_size", BGPBT_PBT_INT, 6, 10, 0);
    c->hp[5] = bgpbt_pbt_param_make("num_update_epochs", BGPBT_PBT_INT, 2, 16, 1);
    c->hp[6] = bgpbt_pbt_param_make("reward_scaling", BGPBT_PBT_FLOAT, 0.05, 20, 1);
    c->hp[7] = bgpbt_pbt_param_make("gae_lambda", BGPBT_PBT_FLOAT, 0.9, 1.0, 0);
    c->hp[8] = bgpbt_pbt_param_make("clip_epsilon", BGPBT_PBT_FLOAT, 0.1, 0.4, 0);
}
BGPBT__PRIVATE void bgpbt__pbt_default_arch(bgpbt_pbt_config* c) {
    c->n_arch = 4;
    c->arch[0] = bgpbt_pbt_param_make("policy_layers", BGPBT_PBT_INT, 1, 5, 0);
    c->arch[1] = bgpbt_pbt_param_make("policy_log2_width", BGPBT_PBT_INT, 5, 8, 0);
    c->arch[2] = bgpbt_pbt_param_make("value_layers", BGPBT_PBT_INT, 1, 5, 0);
    c->arch[3] = bgpbt_pbt_param_make("value_log2_width", BGPBT_PBT_INT, 5, 8, 0);
    c->default_arch[0] = 4;
    c->default_arch[1] = 5;
    c->default_arch[2] = 5;
    c->default_arch[3] = 8;
}

BGPBT_API bgpbt_pbt_config bgpbt_pbt_config_default(void) {
    bgpbt_pbt_config c;
    memset(&c, 0, sizeof c);
    c.method = BGPBT_PBT_METHOD_BGPBT;
    c.pop_size = 8;
    bgpbt__pbt_default_space(&c);
    bgpbt__pbt_default_arch(&c);
    c.quantile = 0.125;
    c.n_init = 24;
    c.t_ready = 1000000;
    c.max_steps = 150000000;
    c.resample_prob = 0.25;
    c.perturb_down = 0.8;
    c.perturb_up = 1.2;
    c.tr_init = 0.4; c.tr_min = 0.15; c.tr_max = 1.0; c.tr_mult = 1.5;
    c.tr_succtol = 3; c.tr_failtol = 10;
    c.hpo_restart_patience = 15;
    c.gp_window = 100;
    c.lcb_beta = 3.0;
    c.pb2_c1 = 0.2; c.pb2_c2 = 0.4;
    c.acq_restarts = 3; c.acq_steps = 41;
    c.min_gp_points = 8;
    c.patience = 20;
    c.distill_every = 40000000;
    c.max_generations = 2;
    c.distill_budget = 30000000;
    c.sh_eta = 2.0;
    c.n_arch_candidates = 24;
    c.arch_proposal = BGPBT_PBT_ARCH_BO;
    c.distill_alpha_start = 1.0; c.distill_alpha_end = 0.05; c.distill_anneal_frac = 0.8;
    return c;
}

BGPBT_API double bgpbt_pbt_distill_alpha(const bgpbt_pbt_config* c, long long done, long long total) {
    double a0 = 1.0, a1 = 0.05, frac = 0.8, span, f;
    if (c) {
        if (c->distill_alpha_start > 0) a0 = c->distill_alpha_start;
        if (c->distill_alpha_end > 0) a1 = c->distill_alpha_end;
        if (c->distill_anneal_frac > 0) frac = c->distill_anneal_frac;
    }
    span = frac * (double)total;
    if (!(span > 0)) return a1;
    f = (double)done / span;
    if (f < 0) f = 0;
    if (f > 1) f = 1;
    return a0 + (a1 - a0) * f;
}

/* ---- the object ----------------------------------------------------------------------------- */

enum { BGPBT__PBT_START = 0, BGPBT__PBT_INIT = 1, BGPBT__PBT_TRAIN = 2, BGPBT__PBT_DISTILL = 3, BGPBT__PBT_DONE = 4 };
#define BGPBT__PBT_MAX_GEN 64

typedef struct bgpbt__pbt_member {
    int id, slot, parent, teacher, source, arch_source, generation, failed, dead;
    long long steps, steps_before, distill_done;
    double ret, ret_before;
    double hp[BGPBT_PBT_MAX_HP];
    int arch[BGPBT_PBT_MAX_ARCH];
} bgpbt__pbt_member;

struct bgpbt_pbt {
    bgpbt_pbt_config cfg;
    bgpbt_rng rng;
    int cap;                      /* capacity of pop / cand / jobs */
    int phase, exploit_ready, switch_pending;
    int round_index, round_open, round_kind, rung, n_rungs;
    int next_id;
    long long total_steps;
    int n_pop, n_cand;
    bgpbt__pbt_member* pop;
    bgpbt__pbt_member* cand;
    bgpbt_pbt_job* jobs;
    int n_jobs;
    int* job_member;              /* index into pop (train) or cand (init, distill) */
    unsigned char* told;
    double* res_ret;              /* what was told, per job */
    long long* res_steps;
    unsigned char* res_failed;
    int* alive;                   /* ids whose state the user holds after the last round */
    int n_alive;
    int* release;
    int n_release;
    bgpbt_pbt_round round;
    /* trust region */
    double tr_len;
    int tr_succ, tr_fail;
    /* generations */
    int generation, gp_epoch, stall, hpo_stall;
    double gen_best;
    long long gen_start;
    int n_teachers;
    int* teachers;
    int n_archive;
    int archive[BGPBT__PBT_MAX_GEN + 1][BGPBT_PBT_MAX_ARCH];
    /* log */
    bgpbt_pbt_row* rows;
    int n_rows, cap_rows;
};

BGPBT__PRIVATE int bgpbt__pbt_arch_search(const bgpbt_pbt_config* c) {
    return c->method == BGPBT_PBT_METHOD_BGPBT && !c->hpo_only && c->n_arch > 0;
}

/* Resolve zero fields to defaults and validate. */
BGPBT__PRIVATE bgpbt_result bgpbt__pbt_resolve(const bgpbt_pbt_config* in, bgpbt_pbt_config* c) {
    const bgpbt_logger* log = &in->logger;
    bgpbt_pbt_config d = bgpbt_pbt_config_default();
    int i, bgpbt = in->method == BGPBT_PBT_METHOD_BGPBT;
    *c = *in;
    if (c->method < 0 || c->method > 3) return bgpbt__error(log, BGPBT_ERR_INVALID_ARGUMENT, "pbt: unknown method %d", c->method);
    if (c->pop_size == 0) c->pop_size = d.pop_size;
    if (c->pop_size < 1 || c->pop_size > BGPBT_PBT_MAX_POP)
        return bgpbt__error(log, BGPBT_ERR_OUT_OF_RANGE, "pbt: pop_size %d is outside [1, %d]", c->pop_size, BGPBT_PBT_MAX_POP);
    if (c->n_hp == 0) bgpbt__pbt_default_space(c);
    if (c->n_arch == 0) bgpbt__pbt_default_arch(c);
    if (c->n_arch < 0) c->n_arch = -1; /* kept negative, so resolving again changes nothing */
    if (c->n_hp < 1 || c->n_hp > BGPBT_PBT_MAX_HP)
        return bgpbt__error(log, BGPBT_ERR_LIMIT, "pbt: n_hp %d is outside [1, %d]", c->n_hp, BGPBT_PBT_MAX_HP);
    if (c->n_arch > BGPBT_PBT_MAX_ARCH)
        return bgpbt__error(log, BGPBT_ERR_LIMIT, "pbt: n_arch %d exceeds %d", c->n_arch, BGPBT_PBT_MAX_ARCH);
    for (i = 0; i < c->n_hp + (c->n_arch > 0 ? c->n_arch : 0); ++i) {
        bgpbt_pbt_param* p = i < c->n_hp ? &c->hp[i] : &c->arch[i - c->n_hp];
        if (p->type != BGPBT_PBT_FLOAT && p->type != BGPBT_PBT_INT)
            return bgpbt__error(log, BGPBT_ERR_INVALID_ARGUMENT, "pbt: parameter '%.31s' has unknown type %d", p->name, p->type);
        if (i >= c->n_hp && p->type != BGPBT_PBT_INT)
            return bgpbt__error(log, BGPBT_ERR_INVALID_ARGUMENT, "pbt: architecture dimension '%.31s' must be an integer", p->name);
        if (!(p->lo == p->lo && p->hi == p->hi) || fabs(p->lo) > DBL_MAX || fabs(p->hi) > DBL_MAX)
            return bgpbt__error(log, BGPBT_ERR_NOT_FINITE, "pbt: parameter '%.31s' has a non-finite bound", p->name);
        if (!(p->hi > p->lo) && !(p->type == BGPBT_PBT_INT && p->hi == p->lo))
            return bgpbt__error(log, BGPBT_ERR_EMPTY_RANGE, "pbt: parameter '%.31s' has an empty range [%g, %g]", p->name, p->lo, p->hi);
        if (p->type == BGPBT_PBT_INT && (p->lo != floor(p->lo) || p->hi != floor(p->hi)))
            return bgpbt__error(log, BGPBT_ERR_INVALID_ARGUMENT, "pbt: integer parameter '%.31s' has fractional bounds", p->name);
        if (p->log && !(p->lo > (p->type == BGPBT_PBT_INT ? 0.5 : 0.0)))
            return bgpbt__error(log, BGPBT_ERR_OUT_OF_RANGE, "pbt: log-scale parameter '%.31s' needs lo > 0 (got %g)", p->name, p->lo);
        p->name[BGPBT_PBT_NAME_LEN - 1] = 0;
    }
    for (i = 0; i < c->n_arch; ++i) {
        if (c->default_arch[i] == 0 && in->n_arch == 0) continue;
        if (c->default_arch[i] < c->arch[i].lo || c->default_arch[i] > c->arch[i].hi) {
            int all_zero = 1, k;
            for (k = 0; k < c->n_arch; ++k) all_zero &= c->default_arch[k] == 0;
            if (all_zero) { /* zero default architecture: the middle of each range */
                for (k = 0; k < c->n_arch; ++k) c->default_arch[k] = (int)floor((c->arch[k].lo + c->arch[k].hi) / 2);
                break;
            }
            return bgpbt__error(log, BGPBT_ERR_OUT_OF_RANGE, "pbt: default_arch[%d] = %d is outside [%g, %g]", i,
                                c->default_arch[i], c->arch[i].lo, c->arch[i].hi);
        }
    }
    if (c->quantile == 0) c->quantile = bgpbt ? 0.125 : 0.25;
    if (!(c->quantile > 0 && c->quantile <= 0.5))
        return bgpbt__error(log, BGPBT_ERR_OUT_OF_RANGE, "pbt: quantile %g is outside (0, 0.5]", c->quantile);
    if (c->n_init == 0) c->n_init = bgpbt ? 24 : c->pop_size;
    if (!bgpbt) c->n_init = c->pop_size;
    if (c->n_init < c->pop_size) c->n_init = c->pop_size;
    if (c->n_init > BGPBT_PBT_MAX_POP) return bgpbt__error(log, BGPBT_ERR_LIMIT, "pbt: n_init %d exceeds %d", c->n_init, BGPBT_PBT_MAX_POP);
    if (c->t_ready == 0) c->t_ready = d.t_ready;
    if (c->max_steps == 0) c->max_steps = d.max_steps;
    if (c->t_ready < 1 || c->max_steps < 1 || c->t_ready_end < 0 || c->max_total_steps < 0)
        return bgpbt__error(log, BGPBT_ERR_OUT_OF_RANGE, "pbt: t_ready, max_steps must be positive (t_ready %lld, max_steps %lld)",
                            c->t_ready, c->max_steps);
    if (c->resample_prob == 0) c->resample_prob = d.resample_prob;
    if (c->resample_prob < 0) c->resample_prob = -1;
    if (c->resample_prob > 1) return bgpbt__error(log, BGPBT_ERR_OUT_OF_RANGE, "pbt: resample_prob %g > 1", c->resample_prob);
    if (c->perturb_down == 0) c->perturb_down = d.perturb_down;
    if (c->perturb_up == 0) c->perturb_up = d.perturb_up;
    if (!(c->perturb_down > 0 && c->perturb_down < 1 && c->perturb_up > 1 && c->perturb_up < 1e6))
        return bgpbt__error(log, BGPBT_ERR_OUT_OF_RANGE, "pbt: perturbation factors %g, %g must satisfy 0 < down < 1 < up",
                            c->perturb_down, c->perturb_up);
    if (c->tr_init == 0) c->tr_init = d.tr_init;
    if (c->tr_min == 0) c->tr_min = d.tr_min;
    if (c->tr_max == 0) c->tr_max = d.tr_max;
    if (c->tr_mult == 0) c->tr_mult = d.tr_mult;
    if (!(c->tr_min > 0 && c->tr_min <= c->tr_init && c->tr_init <= c->tr_max && c->tr_max <= 2 && c->tr_mult > 1))
        return bgpbt__error(log, BGPBT_ERR_OUT_OF_RANGE, "pbt: trust region needs 0 < min %g <= init %g <= max %g <= 2, mult %g > 1",
                            c->tr_min, c->tr_init, c->tr_max, c->tr_mult);
    if (c->tr_succtol == 0) c->tr_succtol = d.tr_succtol;
    if (c->tr_failtol == 0) c->tr_failtol = d.tr_failtol;
    if (c->hpo_restart_patience == 0) c->hpo_restart_patience = d.hpo_restart_patience;
    if (c->gp_window == 0) c->gp_window = c->method == BGPBT_PBT_METHOD_PB2 ? 1000 : 100;
    if (c->lcb_beta == 0) c->lcb_beta = d.lcb_beta;
    if (c->pb2_c1 == 0) c->pb2_c1 = d.pb2_c1;
    if (c->pb2_c2 == 0) c->pb2_c2 = d.pb2_c2;
    if (c->acq_restarts == 0) c->acq_restarts = d.acq_restarts;
    if (c->acq_steps == 0) c->acq_steps = d.acq_steps;
    if (c->min_gp_points == 0) c->min_gp_points = bgpbt ? c->pop_size : 2;
    if (c->tr_succtol < 1 || c->tr_failtol < 1 || c->gp_window < 2 || c->gp_window > 100000 || c->acq_restarts < 1 ||
        c->acq_steps < 1 || c->min_gp_points < 1 || !(c->lcb_beta >= 0) || !(c->pb2_c2 > 0))
        return bgpbt__error(log, BGPBT_ERR_OUT_OF_RANGE, "pbt: a trust-region, GP or acquisition constant is out of range");
    if (c->patience == 0) c->patience = d.patience;
    if (c->distill_every == 0) c->distill_every = d.distill_every;
    if (c->max_generations == 0) c->max_generations = d.max_generations;
    if (c->max_generations < 0) c->max_generations = -1;
    if (c->max_generations > BGPBT__PBT_MAX_GEN)
        return bgpbt__error(log, BGPBT_ERR_LIMIT, "pbt: max_generations %d exceeds %d", c->max_generations, BGPBT__PBT_MAX_GEN);
    if (c->distill_budget == 0) c->distill_budget = d.distill_budget;
    if (c->sh_eta == 0) c->sh_eta = d.sh_eta;
    if (c->n_arch_candidates == 0) c->n_arch_candidates = c->n_init;
    if (c->distill_alpha_start == 0) c->distill_alpha_start = d.distill_alpha_start;
    if (c->distill_alpha_end == 0) c->distill_alpha_end = d.distill_alpha_end;
    if (c->distill_anneal_frac == 0) c->distill_anneal_frac = d.distill_anneal_frac;
    if (c->patience < 1 || c->distill_every < 1 || c->distill_budget < 1 || !(c->sh_eta > 1) ||
        c->n_arch_candidates < c->pop_size || c->n_arch_candidates + BGPBT__PBT_MAX_GEN + 1 > BGPBT_PBT_MAX_POP ||
        c->arch_proposal < 0 || c->arch_proposal > 2)
        return bgpbt__error(log, BGPBT_ERR_OUT_OF_RANGE,
                            "pbt: generation constants out of range (patience %d, eta %g, n_arch_candidates %d >= pop_size %d, "
                            "arch_proposal %d)", c->patience, c->sh_eta, c->n_arch_candidates, c->pop_size, c->arch_proposal);
    return BGPBT_OK;
}

BGPBT__PRIVATE void bgpbt__pbt_free_parts(const bgpbt_allocator* a, bgpbt_pbt* s) {
    int cap = s->cap;
    bgpbt__cfree(a, s->pop, (size_t)cap, sizeof(bgpbt__pbt_member));
    bgpbt__cfree(a, s->cand, (size_t)cap, sizeof(bgpbt__pbt_member));
    bgpbt__cfree(a, s->jobs, (size_t)cap, sizeof(bgpbt_pbt_job));
    bgpbt__cfree(a, s->job_member, (size_t)cap, sizeof(int));
    bgpbt__cfree(a, s->told, (size_t)cap, 1);
    bgpbt__cfree(a, s->res_ret, (size_t)cap, sizeof(double));
    bgpbt__cfree(a, s->res_steps, (size_t)cap, sizeof(long long));
    bgpbt__cfree(a, s->res_failed, (size_t)cap, 1);
    bgpbt__cfree(a, s->alive, (size_t)cap * 3, sizeof(int));
    bgpbt__cfree(a, s->release, (size_t)cap * 3, sizeof(int));
    bgpbt__cfree(a, s->teachers, (size_t)cap, sizeof(int));
    bgpbt__cfree(a, s->rows, (size_t)s->cap_rows, sizeof(bgpbt_pbt_row));
}

BGPBT_API void bgpbt_pbt_destroy(bgpbt_pbt* s) {
    bgpbt_allocator a;
    if (!s) return;
    a = s->cfg.allocator;
    bgpbt__pbt_free_parts(&a, s);
    bgpbt_mem_free(&a, s, sizeof *s);
}

/* An object with resolved config and empty state; rows capacity `cap_rows`. */
BGPBT__PRIVATE bgpbt_result bgpbt__pbt_alloc(const bgpbt_pbt_config* c, int cap_rows, bgpbt_pbt** out) {
    const bgpbt_allocator* a = &c->allocator;
    bgpbt_pbt* s = (bgpbt_pbt*)bgpbt__calloc(a, 1, sizeof(bgpbt_pbt));
    int cap;
    if (!s) return bgpbt__error(&c->logger, BGPBT_ERR_OUT_OF_MEMORY, "pbt: out of memory");
    s->cfg = *c;
    cap = c->pop_size;
    if (c->n_init > cap) cap = c->n_init;
    if (c->n_arch_candidates + BGPBT__PBT_MAX_GEN + 1 > cap) cap = c->n_arch_candidates + BGPBT__PBT_MAX_GEN + 1;
    s->cap = cap;
    s->cap_rows = cap_rows > 0 ? cap_rows : 64;
    s->pop = (bgpbt__pbt_member*)bgpbt__calloc(a, (size_t)cap, sizeof(bgpbt__pbt_member));
    s->cand = (bgpbt__pbt_member*)bgpbt__calloc(a, (size_t)cap, sizeof(bgpbt__pbt_member));
    s->jobs = (bgpbt_pbt_job*)bgpbt__calloc(a, (size_t)cap, sizeof(bgpbt_pbt_job));
    s->job_member = (int*)bgpbt__calloc(a, (size_t)cap, sizeof(int));
    s->told = (unsigned char*)bgpbt__calloc(a, (size_t)cap, 1);
    s->res_ret = (double*)bgpbt__calloc(a, (size_t)cap, sizeof(double));
    s->res_steps = (long long*)bgpbt__calloc(a, (size_t)cap, sizeof(long long));
    s->res_failed = (unsigned char*)bgpbt__calloc(a, (size_t)cap, 1);
    s->alive = (int*)bgpbt__calloc(a, (size_t)cap * 3, sizeof(int));
    s->release = (int*)bgpbt__calloc(a, (size_t)cap * 3, sizeof(int));
    s->teachers = (int*)bgpbt__calloc(a, (size_t)cap, sizeof(int));
    s->rows = (bgpbt_pbt_row*)bgpbt__calloc(a, (size_t)s->cap_rows, sizeof(bgpbt_pbt_row));
    if (!s->pop || !s->cand || !s->jobs || !s->job_member || !s->told || !s->res_ret || !s->res_steps || !s->res_failed || !s->alive || !s->release || !s->teachers || !s->rows) {
        bgpbt__pbt_free_parts(a, s);
        bgpbt_mem_free(a, s, sizeof *s);
        return bgpbt__error(&c->logger, BGPBT_ERR_OUT_OF_MEMORY, "pbt: out of memory");
    }
    bgpbt_rng_init(&s->rng, c->seed, 0x9B7u);
    s->tr_len = c->tr_init;
    s->gen_best = -HUGE_VAL;
    *out = s;
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_pbt_create(const bgpbt_pbt_config* config, bgpbt_pbt** out) {
    bgpbt_pbt_config c;
    bgpbt_result r;
    if (!out) return BGPBT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!config) return BGPBT_ERR_INVALID_ARGUMENT;
    r = bgpbt__pbt_resolve(config, &c);
    if (r != BGPBT_OK) return r;
    return bgpbt__pbt_alloc(&c, 64, out);
}

BGPBT_API const bgpbt_pbt_config* bgpbt_pbt_get_config(const bgpbt_pbt* s) { return s ? &s->cfg : NULL; }
BGPBT_API int bgpbt_pbt_done(const bgpbt_pbt* s) { return s ? s->phase == BGPBT__PBT_DONE : 1; }
BGPBT_API int bgpbt_pbt_generation(const bgpbt_pbt* s) { return s ? s->generation : 0; }
BGPBT_API double bgpbt_pbt_tr_length(const bgpbt_pbt* s) { return s ? s->tr_len : 0; }
BGPBT_API long long bgpbt_pbt_total_steps(const bgpbt_pbt* s) { return s ? s->total_steps : 0; }
BGPBT_API const bgpbt_pbt_row* bgpbt_pbt_rows(const bgpbt_pbt* s, int* n_rows) {
    if (n_rows) *n_rows = s ? s->n_rows : 0;
    return s ? s->rows : NULL;
}
BGPBT_API int bgpbt_pbt_population(const bgpbt_pbt* s, int* ids, double* returns) {
    int i;
    if (!s) return 0;
    for (i = 0; i < s->n_pop; ++i) {
        if (ids) ids[i] = s->pop[i].id;
        if (returns) returns[i] = s->pop[i].failed ? -HUGE_VAL : s->pop[i].ret;
    }
    return s->n_pop;
}

/* ---- helpers -------------------------------------------------------------------------------- */

BGPBT__PRIVATE double bgpbt__pbt_score(const bgpbt__pbt_member* m) {
    return (m->failed || m->dead || !(m->ret == m->ret)) ? -HUGE_VAL : m->ret;
}

/* Indices of members sorted by score, best first; ties by position (stable). */
BGPBT__PRIVATE void bgpbt__pbt_rank(const bgpbt__pbt_member* ms, int n, int* order) {
    int i, j;
    for (i = 0; i < n; ++i) order[i] = i;
    for (i = 1; i < n; ++i) { /* insertion sort: n is small and it is stable */
        int k = order[i];
        double sk = bgpbt__pbt_score(&ms[k]);
        for (j = i - 1; j >= 0 && bgpbt__pbt_score(&ms[order[j]]) < sk; --j) order[j + 1] = order[j];
        order[j + 1] = k;
    }
}

BGPBT__PRIVATE void bgpbt__pbt_random_hp(bgpbt_pbt* s, double* hp) {
    int i;
    for (i = 0; i < s->cfg.n_hp; ++i) hp[i] = bgpbt_pbt_param_decode(&s->cfg.hp[i], bgpbt_rng_double(&s->rng));
}
BGPBT__PRIVATE void bgpbt__pbt_random_arch(bgpbt_pbt* s, int* arch) {
    int i;
    for (i = 0; i < s->cfg.n_arch; ++i) arch[i] = (int)bgpbt_pbt_param_decode(&s->cfg.arch[i], bgpbt_rng_double(&s->rng));
}

/* PBT explore: each value independently resampled with resample_prob, else perturbed:
   floats x perturb_down or x perturb_up (clipped), integers to the neighbour below or above
   (clipped; at a bound they move inward). Returns the source tag. */
BGPBT__PRIVATE int bgpbt__pbt_perturb(bgpbt_pbt* s, const double* in, double* out) {
    int i, resampled = 0;
    for (i = 0; i < s->cfg.n_hp; ++i) {
        const bgpbt_pbt_param* p = &s->cfg.hp[i];
        double u = bgpbt_rng_double(&s->rng);
        int up = bgpbt_rng_below(&s->rng, 2) == 1;
        if (u < s->cfg.resample_prob) {
            out[i] = bgpbt_pbt_param_decode(p, bgpbt_rng_double(&s->rng));
            resampled = 1;
        } else if (p->type == BGPBT_PBT_INT) {
            double v = in[i] + (up ? 1.0 : -1.0);
            if (v > p->hi) v = p->hi > p->lo ? in[i] - 1.0 : p->hi;
            if (v < p->lo) v = p->hi > p->lo ? in[i] + 1.0 : p->lo;
            if (v > p->hi) v = p->hi;
            out[i] = v;
        } else {
            double v = in[i] * (up ? s->cfg.perturb_up : s->cfg.perturb_down);
            out[i] = v < p->lo ? p->lo : v > p->hi ? p->hi : v;
        }
    }
    return resampled ? BGPBT_PBT_SRC_RESAMPLE : BGPBT_PBT_SRC_PERTURB;
}

BGPBT__PRIVATE long long bgpbt__pbt_tready(const bgpbt_pbt* s, long long tmax) {
    const bgpbt_pbt_config* c = &s->cfg;
    double f;
    long long t;
    if (c->t_ready_end <= 0) return c->t_ready;
    f = (double)tmax / (double)c->max_steps;
    if (f > 1) f = 1;
    t = (long long)((double)c->t_ready + ((double)c->t_ready_end - (double)c->t_ready) * f);
    return t < 1 ? 1 : t;
}

/* Python's round(): half to even. */
BGPBT__PRIVATE int bgpbt__pbt_round_half_even(double x) {
    double f = floor(x), d = x - f;
    if (d > 0.5) return (int)f + 1;
    if (d < 0.5) return (int)f;
    return ((long long)f % 2 == 0) ? (int)f : (int)f + 1;
}

/* Successive halving: rungs for N students and population B (the code's ceil(ln N / ln B)). */
BGPBT__PRIVATE int bgpbt__pbt_sh_rungs(int n, int b) {
    int s;
    if (n <= b || b < 2) return 1;
    s = (int)ceil(log((double)n) / log((double)b) - 1e-12);
    return s < 1 ? 1 : s;
}
/* Cumulative distillation steps per student at the end of rung r (of s). */
BGPBT__PRIVATE long long bgpbt__pbt_sh_target(const bgpbt_pbt_config* c, int r, int s) {
    if (r >= s - 1) return c->distill_budget;
    return (long long)((double)c->distill_budget * pow(c->sh_eta, (double)(r - s)));
}
/* Students kept after rung r (of s) out of n. */
BGPBT__PRIVATE int bgpbt__pbt_sh_keep(const bgpbt_pbt_config* c, int n, int r, int s) {
    int k;
    if (r >= s - 1) return n < c->pop_size ? n : c->pop_size;
    k = bgpbt__pbt_round_half_even((double)n / c->sh_eta);
    if (k < c->pop_size) k = c->pop_size;
    return k > n ? n : k;
}
/* Total env steps a distillation of n students costs. */
BGPBT__PRIVATE long long bgpbt__pbt_sh_cost(const bgpbt_pbt_config* c, int n) {
    int s = bgpbt__pbt_sh_rungs(n, c->pop_size), r;
    long long cost = 0, prev = 0;
    for (r = 0; r < s; ++r) {
        long long t = bgpbt__pbt_sh_target(c, r, s);
        cost += (long long)n * (t - prev);
        prev = t;
        n = bgpbt__pbt_sh_keep(c, n, r, s);
    }
    return cost;
}

BGPBT__PRIVATE bgpbt_result bgpbt__pbt_push_row(bgpbt_pbt* s, const bgpbt_pbt_row* row) {
    if (s->n_rows == s->cap_rows) {
        int cap = s->cap_rows * 2;
        bgpbt_pbt_row* r;
        if (cap > (1 << 26)) return bgpbt__error(&s->cfg.logger, BGPBT_ERR_LIMIT, "pbt: the log exceeds %d rows", 1 << 26);
        r = (bgpbt_pbt_row*)bgpbt__calloc(&s->cfg.allocator, (size_t)cap, sizeof(bgpbt_pbt_row));
        if (!r) return bgpbt__error(&s->cfg.logger, BGPBT_ERR_OUT_OF_MEMORY, "pbt: out of memory growing the log");
        memcpy(r, s->rows, (size_t)s->n_rows * sizeof(bgpbt_pbt_row));
        bgpbt__cfree(&s->cfg.allocator, s->rows, (size_t)s->cap_rows, sizeof(bgpbt_pbt_row));
        s->rows = r;
        s->cap_rows = cap;
    }
    s->rows[s->n_rows++] = *row;
    return BGPBT_OK;
}

/* ---- GP data (PB2 and BG-PBT), built from the log ------------------------------------------- */

/* Inverse standard normal CDF: Acklam's rational approximation plus one Halley step
   (|error| < 1e-13 on (0, 1)). */
BGPBT__PRIVATE double bgpbt__norm_ppf(double p) {
    static const double a[6] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                                1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[5] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                                6.680131188771972e+01, -1.328068155288572e+01};
    static const double c[6] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                                -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
    static const double d[4] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                                3.754408661907416e+00};
    double q, r, x, e, u;
    if (!(p > 0)) return -HUGE_VAL;
    if (!(p < 1)) return HUGE_VAL;
    if (p < 0.02425) {
        q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p > 1 - 0.02425) {
        q = sqrt(-2 * log(1 - p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else {
        q = p - 0.5;
        r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
    e = 0.5 * erfc(-x / sqrt(2.0)) - p;
    u = e * sqrt(2 * 3.14159265358979323846) * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

/* Copula standardisation (BG-PBT, CASMOPOLITAN): rank r of each value, ties taking the highest
   rank, then Phi^-1(r / (n + 1)). In place safe (out may equal y). */
BGPBT__PRIVATE void bgpbt__pbt_copula(const double* y, int n, double* out, double* scratch) {
    int i, j;
    for (i = 0; i < n; ++i) {
        int r = 0;
        for (j = 0; j < n; ++j) r += y[j] <= y[i];
        scratch[i] = bgpbt__norm_ppf((double)r / (double)(n + 1));
    }
    for (i = 0; i < n; ++i) out[i] = scratch[i];
}

/* PB2: z-score with the population std (+1e-8), clipped to [-2, 2]. */
BGPBT__PRIVATE void bgpbt__pbt_zscore_clip(double* y, int n) {
    double m = 0, v = 0, sd;
    int i;
    if (n <= 0) return;
    for (i = 0; i < n; ++i) m += y[i];
    m /= n;
    for (i = 0; i < n; ++i) v += (y[i] - m) * (y[i] - m);
    sd = sqrt(v / n);
    for (i = 0; i < n; ++i) {
        double z = (y[i] - m) / (sd + 1e-8);
        y[i] = z < -2 ? -2 : z > 2 ? 2 : z;
    }
}

/* Rows usable as GP data: training rounds of GP epoch `epoch` (-1: all), not failed, with a
   finite return before and after and a positive step difference. The paper's code groups rows
   by (agent, identical config) and differences consecutive ones: each training row here
   already carries the return and steps at the start of its interval, which is the same thing.
   Sorted by lineage steps (stable), the last `window` kept. Returns the count. */
BGPBT__PRIVATE int bgpbt__pbt_gp_rows(const bgpbt_pbt* s, int epoch, int window, int* idx) {
    int n = 0, i, j, start;
    for (i = 0; i < s->n_rows; ++i) {
        const bgpbt_pbt_row* r = &s->rows[i];
        if (r->kind != BGPBT_PBT_ROUND_TRAIN || r->failed) continue;
        if (epoch >= 0 && r->gp_epoch != epoch) continue;
        if (!(r->ret_before == r->ret_before) || fabs(r->ret_before) > DBL_MAX) continue;
        if (!(r->ret == r->ret) || fabs(r->ret) > DBL_MAX) continue;
        if (r->steps - r->steps_before <= 0) continue;
        idx[n++] = i;
    }
    for (i = 1; i < n; ++i) { /* stable insertion sort by steps (already nearly sorted) */
        int k = idx[i];
        for (j = i - 1; j >= 0 && s->rows[idx[j]].steps > s->rows[k].steps; --j) idx[j + 1] = idx[j];
        idx[j + 1] = k;
    }
    if (n > window) {
        start = n - window;
        for (i = 0; i < window; ++i) idx[i] = idx[start + i];
        n = window;
    }
    return n;
}

BGPBT__PRIVATE double bgpbt__pbt_row_target(const bgpbt_pbt_row* r) {
    return (r->ret - r->ret_before) / (double)(r->steps - r->steps_before);
}

/* The GP's data set. Layout of an input row (BG-PBT): [hp (n_hp, in [0,1]), arch (n_arch, in
   [0,1], when the architecture is searched), R_before (min-max over data and the pending
   R_before)]; time is separate (round index, not normalised). PB2: [time (min-max),
   R_before (min-max), hp]; time is also given separately (normalised) for its kernel. */
typedef struct bgpbt__pbt_gpdata {
    int n, d, n_ctx;          /* points, input dims, trailing (BG-PBT) / leading (PB2) context dims */
    double* X;                /* n x d */
    double* y;
    double* t;                /* time input of the kernel */
    double rb_lo, rb_hi;      /* R_before normalisation */
    double t_lo, t_hi;        /* time normalisation (PB2) */
    int cap;
    bgpbt_allocator a;
} bgpbt__pbt_gpdata;

BGPBT__PRIVATE void bgpbt__pbt_gpdata_free(bgpbt__pbt_gpdata* g) {
    bgpbt__cfree(&g->a, g->X, (size_t)g->cap * (size_t)(g->d > 0 ? g->d : 1), sizeof(double));
    bgpbt__cfree(&g->a, g->y, (size_t)g->cap, sizeof(double));
    bgpbt__cfree(&g->a, g->t, (size_t)g->cap, sizeof(double));
    memset(g, 0, sizeof *g);
}

BGPBT__PRIVATE double bgpbt__pbt_minmax(double v, double lo, double hi, int pb2) {
    if (pb2) return (v - lo) / (hi - lo + 1e-8);
    return (v - (lo - 1e-8)) / ((hi + 1e-8) - (lo - 1e-8));
}

/* Build the data for `method` (PB2 or BG-PBT), with room for `extra` more points (pending).
   pending_rb: the R_before that pending points will carry (the source agent's return), which
   takes part in the BG-PBT min-max. */
BGPBT__PRIVATE bgpbt_result bgpbt__pbt_build_data(const bgpbt_pbt* s, int pb2, double pending_rb, int extra,
                                                   bgpbt__pbt_gpdata* g) {
    const bgpbt_pbt_config* c = &s->cfg;
    int n_arch = (!pb2 && bgpbt__pbt_arch_search(c)) ? c->n_arch : 0;
    int* idx;
    int n, i, k, cap;
    memset(g, 0, sizeof *g);
    g->a = c->allocator;
    idx = (int*)bgpbt__calloc(&g->a, (size_t)(s->n_rows > 0 ? s->n_rows : 1), sizeof(int));
    if (!idx) return BGPBT_ERR_OUT_OF_MEMORY;
    n = bgpbt__pbt_gp_rows(s, pb2 ? -1 : s->gp_epoch, c->gp_window, idx);
    g->d = pb2 ? 2 + c->n_hp : c->n_hp + n_arch + 1;
    g->n_ctx = pb2 ? 2 : n_arch + 1;
    cap = n + extra;
    g->cap = cap > 0 ? cap : 1;
    g->X = (double*)bgpbt__calloc(&g->a, (size_t)g->cap * (size_t)g->d, sizeof(double));
    g->y = (double*)bgpbt__calloc(&g->a, (size_t)g->cap, sizeof(double));
    g->t = (double*)bgpbt__calloc(&g->a, (size_t)g->cap, sizeof(double));
    if (!g->X || !g->y || !g->t) {
        bgpbt__cfree(&g->a, idx, (size_t)(s->n_rows > 0 ? s->n_rows : 1), sizeof(int));
        bgpbt__pbt_gpdata_free(g);
        return BGPBT_ERR_OUT_OF_MEMORY;
    }
    g->rb_lo = HUGE_VAL; g->rb_hi = -HUGE_VAL; g->t_lo = HUGE_VAL; g->t_hi = -HUGE_VAL;
    for (i = 0; i < n; ++i) {
        const bgpbt_pbt_row* r = &s->rows[idx[i]];
        if (r->ret_before < g->rb_lo) g->rb_lo = r->ret_before;
        if (r->ret_before > g->rb_hi) g->rb_hi = r->ret_before;
        if (r->round < g->t_lo) g->t_lo = r->round;
        if (r->round > g->t_hi) g->t_hi = r->round;
    }
    if (!pb2 && pending_rb == pending_rb && fabs(pending_rb) <= DBL_MAX) {
        if (pending_rb < g->rb_lo) g->rb_lo = pending_rb;
        if (pending_rb > g->rb_hi) g->rb_hi = pending_rb;
    }
    if (n == 0) { g->rb_lo = g->rb_hi = 0; g->t_lo = g->t_hi = 0; }
    for (i = 0; i < n; ++i) {
        const bgpbt_pbt_row* r = &s->rows[idx[i]];
        double* x = g->X + (size_t)i * (size_t)g->d;
        if (pb2) {
            x[0] = bgpbt__pbt_minmax((double)r->round, g->t_lo, g->t_hi, 1);
            x[1] = bgpbt__pbt_minmax(r->ret_before, g->rb_lo, g->rb_hi, 1);
            for (k = 0; k < c->n_hp; ++k) x[2 + k] = bgpbt_pbt_param_encode(&c->hp[k], r->hp[k]);
            g->t[i] = x[0];
        } else {
            for (k = 0; k < c->n_hp; ++k) x[k] = bgpbt_pbt_param_encode(&c->hp[k], r->hp[k]);
            for (k = 0; k < n_arch; ++k) x[c->n_hp + k] = bgpbt_pbt_param_encode(&c->arch[k], (double)r->arch[k]);
            x[c->n_hp + n_arch] = bgpbt__pbt_minmax(r->ret_before, g->rb_lo, g->rb_hi, 0);
            g->t[i] = (double)r->round;
        }
        g->y[i] = bgpbt__pbt_row_target(r);
    }
    g->n = n;
    if (n > 0) {
        if (pb2) {
            bgpbt__pbt_zscore_clip(g->y, n);
        } else {
            double* tmp = (double*)bgpbt__calloc(&g->a, (size_t)n, sizeof(double));
            if (!tmp) {
                bgpbt__cfree(&g->a, idx, (size_t)(s->n_rows > 0 ? s->n_rows : 1), sizeof(int));
                bgpbt__pbt_gpdata_free(g);
                return BGPBT_ERR_OUT_OF_MEMORY;
            }
            bgpbt__pbt_copula(g->y, n, g->y, tmp);
            bgpbt__cfree(&g->a, tmp, (size_t)n, sizeof(double));
        }
    }
    bgpbt__cfree(&g->a, idx, (size_t)(s->n_rows > 0 ? s->n_rows : 1), sizeof(int));
    return BGPBT_OK;
}

/* ---- explore by BO (PB2, BG-PBT) ------------------------------------------------------------ */

/* Suggest hyperparameters for an agent that copied `src`. pending: configurations (and their
   architectures) that will run next round or were proposed this round. Returns
   BGPBT_PBT_SRC_BO, or BGPBT_PBT_SRC_RANDOM when it fell back to a random configuration
   (too little data, or the GP could not be fitted). */
BGPBT__PRIVATE int bgpbt__pbt_suggest_gp(bgpbt_pbt* s, const bgpbt__pbt_member* src, const bgpbt__pbt_gpdata* g,
                                         const double* pending_hp, const int* pending_arch, int n_pending, double* out);

BGPBT__PRIVATE int bgpbt__pbt_suggest1(bgpbt_pbt* s, const bgpbt__pbt_member* src, const double* pending_hp,
                                       const int* pending_arch, int n_pending, double* out);
/* The scheduler's GPs hold at most a few hundred points: OpenMP threads cost more than they
   save there (and a lot on a loaded machine: spinning workers), so the calling thread's team
   size is set to 1 around them. The gp layer is bit-identical for any thread count, so this
   changes no result. */
BGPBT__PRIVATE int bgpbt__pbt_threads_push(void) {
#if BGPBT__HAS_OPENMP
    int n = omp_get_max_threads();
    omp_set_num_threads(1);
    return n;
#else
    return 1;
#endif
}
BGPBT__PRIVATE void bgpbt__pbt_threads_pop(int n) {
#if BGPBT__HAS_OPENMP
    omp_set_num_threads(n);
#else
    (void)n;
#endif
}

BGPBT__PRIVATE int bgpbt__pbt_suggest(bgpbt_pbt* s, const bgpbt__pbt_member* src, const double* pending_hp,
                                      const int* pending_arch, int n_pending, double* out) {
    int nt = bgpbt__pbt_threads_push();
    int tag = bgpbt__pbt_suggest1(s, src, pending_hp, pending_arch, n_pending, out);
    bgpbt__pbt_threads_pop(nt);
    return tag;
}

BGPBT__PRIVATE int bgpbt__pbt_suggest1(bgpbt_pbt* s, const bgpbt__pbt_member* src, const double* pending_hp,
                                       const int* pending_arch, int n_pending, double* out) {
    bgpbt__pbt_gpdata g;
    int pb2 = s->cfg.method == BGPBT_PBT_METHOD_PB2, tag = BGPBT_PBT_SRC_RANDOM;
    if (bgpbt__pbt_build_data(s, pb2, src->ret, n_pending + 1, &g) == BGPBT_OK) {
        if (g.n >= s->cfg.min_gp_points && src->ret == src->ret && fabs(src->ret) <= DBL_MAX)
            tag = bgpbt__pbt_suggest_gp(s, src, &g, pending_hp, pending_arch, n_pending, out);
        bgpbt__pbt_gpdata_free(&g);
    }
    if (tag != BGPBT_PBT_SRC_BO) {
        int k;
        bgpbt__pbt_random_hp(s, out);
        for (k = 0; k < s->cfg.n_hp; ++k) if (!(out[k] == out[k])) out[k] = src->hp[k];
        tag = BGPBT_PBT_SRC_RANDOM;
    }
    return tag;
}

/* ---- rounds --------------------------------------------------------------------------------- */

BGPBT__PRIVATE void bgpbt__pbt_fresh(bgpbt_pbt* s, bgpbt__pbt_member* m, int slot) {
    memset(m, 0, sizeof *m);
    m->id = s->next_id++;
    m->slot = slot;
    m->parent = -1;
    m->teacher = -1;
    m->ret = m->ret_before = (double)NAN;
    m->source = BGPBT_PBT_SRC_RANDOM;
    bgpbt__pbt_random_hp(s, m->hp);
    if (bgpbt__pbt_arch_search(&s->cfg)) {
        bgpbt__pbt_random_arch(s, m->arch);
        m->arch_source = BGPBT_PBT_SRC_RANDOM;
    } else {
        memcpy(m->arch, s->cfg.default_arch, sizeof m->arch);
        m->arch_source = BGPBT_PBT_SRC_PREVIOUS;
    }
    m->generation = s->generation;
}

/* The current round is made of jobs for `ms[i]` for i in list[0..n). */
BGPBT__PRIVATE void bgpbt__pbt_issue(bgpbt_pbt* s, int kind, bgpbt__pbt_member* ms, const int* list, int n,
                                     long long steps, long long distill_total) {
    int j, k, nr = 0;
    for (j = 0; j < n; ++j) {
        const bgpbt__pbt_member* m = &ms[list[j]];
        bgpbt_pbt_job* jb = &s->jobs[j];
        memset(jb, 0, sizeof *jb);
        jb->agent = m->id;
        jb->parent = m->parent;
        jb->teacher = m->teacher;
        jb->slot = m->slot;
        jb->source = m->source;
        jb->arch_source = m->arch_source;
        jb->generation = m->generation;
        jb->steps = steps;
        if (kind == BGPBT_PBT_ROUND_DISTILL) {
            long long t = bgpbt__pbt_sh_target(&s->cfg, s->rung, s->n_rungs);
            jb->steps = t - m->distill_done;
        }
        jb->lineage_steps = m->steps;
        jb->distill_done = m->distill_done;
        jb->distill_total = distill_total;
        jb->seed = bgpbt_mix64(s->cfg.seed ^ bgpbt_mix64(0xA6E7u + (uint64_t)m->id));
        memcpy(jb->hp, m->hp, sizeof jb->hp);
        memcpy(jb->arch, m->arch, sizeof jb->arch);
        s->job_member[j] = list[j];
        s->told[j] = 0;
    }
    /* release: ids held after the last round that no job produces and no job distils from */
    for (k = 0; k < s->n_alive; ++k) {
        int id = s->alive[k], needed = 0;
        for (j = 0; j < n && !needed; ++j) needed = s->jobs[j].agent == id || s->jobs[j].teacher == id;
        if (!needed) s->release[nr++] = id;
    }
    s->n_release = nr;
    s->n_jobs = n;
    s->round_kind = kind;
    s->round_index++;
    s->round_open = 1;
}

BGPBT__PRIVATE long long bgpbt__pbt_max_lineage(const bgpbt_pbt* s) {
    long long t = 0;
    int i;
    for (i = 0; i < s->n_pop; ++i) if (!s->pop[i].dead && s->pop[i].steps > t) t = s->pop[i].steps;
    return t;
}

/* Steps per job under the whole-run budget; 0 when the round does not fit (a final short
   round is run only if it is at least a quarter of the planned interval). */
BGPBT__PRIVATE long long bgpbt__pbt_fit_budget(const bgpbt_pbt* s, long long steps, int n_jobs) {
    long long rem, per;
    if (s->cfg.max_total_steps <= 0 || n_jobs <= 0) return steps;
    rem = s->cfg.max_total_steps - s->total_steps;
    per = rem > 0 ? rem / n_jobs : 0;
    if (per >= steps) return steps;
    if (per < 1 || per * 4 < steps) return 0;
    return per;
}

BGPBT__PRIVATE void bgpbt__pbt_build_init(bgpbt_pbt* s) {
    int n = s->cfg.n_init, i, list[BGPBT_PBT_MAX_POP];
    long long steps = bgpbt__pbt_tready(s, 0);
    if (steps > s->cfg.max_steps) steps = s->cfg.max_steps;
    steps = bgpbt__pbt_fit_budget(s, steps, n);
    if (steps <= 0) { s->phase = BGPBT__PBT_DONE; return; }
    for (i = 0; i < n; ++i) {
        bgpbt__pbt_fresh(s, &s->cand[i], i);
        list[i] = i;
    }
    s->n_cand = n;
    s->phase = BGPBT__PBT_INIT;
    bgpbt__pbt_issue(s, BGPBT_PBT_ROUND_INIT, s->cand, list, n, steps, 0);
}

/* Truncation selection and explore. */
BGPBT__PRIVATE void bgpbt__pbt_exploit_explore(bgpbt_pbt* s) {
    const bgpbt_pbt_config* c = &s->cfg;
    int order[BGPBT_PBT_MAX_POP], top[BGPBT_PBT_MAX_POP];
    unsigned char replace[BGPBT_PBT_MAX_POP];
    double pending_hp[BGPBT_PBT_MAX_POP * BGPBT_PBT_MAX_HP];
    int pending_arch[BGPBT_PBT_MAX_POP * BGPBT_PBT_MAX_ARCH];
    int n_alive = 0, nq, n_top = 0, i, k, n_pending = 0;
    for (i = 0; i < s->n_pop; ++i) n_alive += !s->pop[i].dead;
    bgpbt__pbt_rank(s->pop, s->n_pop, order);
    nq = (int)floor((double)c->pop_size * c->quantile + 1e-9);
    if (nq < 1) nq = 1;
    if (nq > n_alive / 2) nq = n_alive / 2;
    memset(replace, 0, sizeof replace);
    for (k = 0; k < nq; ++k)
        if (bgpbt__pbt_score(&s->pop[order[k]]) > -HUGE_VAL) top[n_top++] = order[k];
    for (k = 0; k < n_alive; ++k) {
        int i2 = order[k];
        if (k >= n_alive - nq || s->pop[i2].failed) replace[i2] = 1;
    }
    for (k = 0; k < n_top; ++k) replace[top[k]] = 0;
    if (n_top == 0) { /* every agent failed: start again from scratch, keeping slots */
        for (i = 0; i < s->n_pop; ++i) {
            int slot = s->pop[i].slot, dead = s->pop[i].dead;
            int arch[BGPBT_PBT_MAX_ARCH], asrc = s->pop[i].arch_source, gen = s->pop[i].generation;
            if (dead) continue;
            memcpy(arch, s->pop[i].arch, sizeof arch);
            bgpbt__pbt_fresh(s, &s->pop[i], slot);
            memcpy(s->pop[i].arch, arch, sizeof arch);
            s->pop[i].arch_source = asrc;
            s->pop[i].generation = gen;
        }
        return;
    }
    /* members that stay: continue; their configurations are pending for BO (BG-PBT: except
       the sources, as in the paper's code; PB2: every running trial, as in Ray) */
    for (i = 0; i < s->n_pop; ++i) {
        bgpbt__pbt_member* m = &s->pop[i];
        int is_top = 0;
        if (m->dead || replace[i]) continue;
        m->parent = m->id;
        m->teacher = -1;
        m->source = BGPBT_PBT_SRC_PREVIOUS;
        m->ret_before = m->ret;
        m->steps_before = m->steps;
        for (k = 0; k < n_top; ++k) is_top |= top[k] == i;
        if (c->method == BGPBT_PBT_METHOD_BGPBT && is_top) continue;
        memcpy(pending_hp + (size_t)n_pending * BGPBT_PBT_MAX_HP, m->hp, sizeof(double) * BGPBT_PBT_MAX_HP);
        memcpy(pending_arch + (size_t)n_pending * BGPBT_PBT_MAX_ARCH, m->arch, sizeof(int) * BGPBT_PBT_MAX_ARCH);
        n_pending++;
    }
    /* replaced members, worst first */
    for (k = n_alive - 1; k >= 0; --k) {
        int i2 = order[k];
        bgpbt__pbt_member* m = &s->pop[i2];
        const bgpbt__pbt_member* src;
        if (!replace[i2]) continue;
        src = &s->pop[top[bgpbt_rng_below(&s->rng, (uint32_t)n_top)]];
        m->parent = src->id;
        m->id = s->next_id++;
        m->teacher = -1;
        m->failed = 0;
        m->generation = src->generation;
        m->arch_source = src->arch_source;
        memcpy(m->arch, src->arch, sizeof m->arch);
        m->steps = m->steps_before = src->steps;
        m->ret = m->ret_before = src->ret;
        m->distill_done = 0;
        if (c->method == BGPBT_PBT_METHOD_PBT) {
            m->source = bgpbt__pbt_perturb(s, src->hp, m->hp);
        } else {
            m->source = bgpbt__pbt_suggest(s, src, pending_hp, pending_arch, n_pending, m->hp);
            memcpy(pending_hp + (size_t)n_pending * BGPBT_PBT_MAX_HP, m->hp, sizeof(double) * BGPBT_PBT_MAX_HP);
            memcpy(pending_arch + (size_t)n_pending * BGPBT_PBT_MAX_ARCH, m->arch, sizeof(int) * BGPBT_PBT_MAX_ARCH);
            n_pending++;
        }
    }
}

BGPBT__PRIVATE void bgpbt__pbt_build_train(bgpbt_pbt* s) {
    const bgpbt_pbt_config* c = &s->cfg;
    int list[BGPBT_PBT_MAX_POP], n = 0, i;
    long long tmax = bgpbt__pbt_max_lineage(s), steps;
    int any_failed = 0, any_left = 0;
    for (i = 0; i < s->n_pop; ++i) {
        any_failed |= s->pop[i].failed && !s->pop[i].dead;
        any_left |= !s->pop[i].dead && s->pop[i].steps < c->max_steps;
    }
    if (!any_left) { s->phase = BGPBT__PBT_DONE; return; }
    if (c->method == BGPBT_PBT_METHOD_RANDOM) {
        for (i = 0; i < s->n_pop; ++i) {
            bgpbt__pbt_member* m = &s->pop[i];
            if (m->failed) m->dead = 1; /* random search cannot replace it: it stops */
            if (m->dead) continue;
            m->parent = m->id;
            m->source = BGPBT_PBT_SRC_PREVIOUS;
            m->ret_before = m->ret;
            m->steps_before = m->steps;
        }
    } else if (s->exploit_ready || any_failed) {
        bgpbt__pbt_exploit_explore(s);
    } else {
        for (i = 0; i < s->n_pop; ++i) {
            bgpbt__pbt_member* m = &s->pop[i];
            m->parent = m->id;
            m->teacher = -1;
            /* the first round after init or distillation keeps its tag (random / distilled) */
            if (s->round_kind == BGPBT_PBT_ROUND_TRAIN) m->source = BGPBT_PBT_SRC_PREVIOUS;
            m->ret_before = m->ret;
            m->steps_before = m->steps;
        }
    }
    steps = bgpbt__pbt_tready(s, tmax);
    for (i = 0; i < s->n_pop; ++i) {
        bgpbt__pbt_member* m = &s->pop[i];
        if (m->dead || m->steps >= c->max_steps) continue;
        if (c->max_steps - m->steps < steps) steps = c->max_steps - m->steps;
        list[n++] = i;
    }
    if (n == 0) { s->phase = BGPBT__PBT_DONE; return; }
    steps = bgpbt__pbt_fit_budget(s, steps, n);
    if (steps <= 0) { s->phase = BGPBT__PBT_DONE; return; }
    s->phase = BGPBT__PBT_TRAIN;
    bgpbt__pbt_issue(s, BGPBT_PBT_ROUND_TRAIN, s->pop, list, n, steps, 0);
}

BGPBT__PRIVATE int bgpbt__pbt_arch_equal(const int* a, const int* b, int n) {
    int i;
    for (i = 0; i < n; ++i) if (a[i] != b[i]) return 0;
    return 1;
}

/* Best architecture seen so far (any round, not failed): 0 if none. */
BGPBT__PRIVATE int bgpbt__pbt_best_arch(const bgpbt_pbt* s, int* arch) {
    double best = -HUGE_VAL;
    int i, found = 0;
    for (i = 0; i < s->n_rows; ++i) {
        const bgpbt_pbt_row* r = &s->rows[i];
        if (r->failed || !(r->ret > best)) continue;
        best = r->ret;
        memcpy(arch, r->arch, sizeof(int) * BGPBT_PBT_MAX_ARCH);
        found = 1;
    }
    return found;
}

/* Architecture proposals by BO over (architecture -> best return); defined with the GP. */
BGPBT__PRIVATE int bgpbt__pbt_propose_archs(bgpbt_pbt* s, int n, int* out /* n x MAX_ARCH */);

BGPBT__PRIVATE void bgpbt__pbt_build_distill(bgpbt_pbt* s) {
    const bgpbt_pbt_config* c = &s->cfg;
    int order[BGPBT_PBT_MAX_POP], list[BGPBT_PBT_MAX_POP], best_arch[BGPBT_PBT_MAX_ARCH];
    int nt, i, k, n = 0, n_bo, n_base = c->n_arch_candidates, found;
    s->switch_pending = 0;
    s->generation++;
    bgpbt__pbt_rank(s->pop, s->n_pop, order);
    nt = (int)floor((double)c->pop_size * c->quantile + 1e-9);
    if (nt < 1) nt = 1;
    s->n_teachers = 0;
    for (k = 0; k < s->n_pop && s->n_teachers < nt; ++k)
        if (bgpbt__pbt_score(&s->pop[order[k]]) > -HUGE_VAL) s->teachers[s->n_teachers++] = order[k];
    if (s->n_teachers == 0) s->teachers[s->n_teachers++] = order[0];
    /* teachers[] hold pop indices while building; ids after */
    memset(best_arch, 0, sizeof best_arch);
    if (bgpbt__pbt_best_arch(s, best_arch)) {
        found = 0;
        for (k = 0; k < s->n_archive; ++k) found |= bgpbt__pbt_arch_equal(s->archive[k], best_arch, c->n_arch);
        if (!found && s->n_archive < BGPBT__PBT_MAX_GEN + 1) memcpy(s->archive[s->n_archive++], best_arch, sizeof best_arch);
    }
    n_bo = n_base / 2;
    {
        int tmp[BGPBT_PBT_MAX_POP * BGPBT_PBT_MAX_ARCH];
        int got = 0;
        memset(tmp, 0, sizeof tmp);
        if (c->arch_proposal == BGPBT_PBT_ARCH_BO) {
            int nt = bgpbt__pbt_threads_push();
            got = bgpbt__pbt_propose_archs(s, n_bo, tmp);
            bgpbt__pbt_threads_pop(nt);
        }
        for (i = 0; i < n_bo; ++i) {
            bgpbt__pbt_member* m = &s->cand[n];
            bgpbt__pbt_fresh(s, m, n);
            if (i < got) {
                for (k = 0; k < BGPBT_PBT_MAX_ARCH; ++k) m->arch[k] = tmp[i * BGPBT_PBT_MAX_ARCH + k];
                m->arch_source = BGPBT_PBT_SRC_BO;
            } else if (c->arch_proposal == BGPBT_PBT_ARCH_CODE && i >= n_bo - 2) {
                for (k = 0; k < c->n_arch; ++k) m->arch[k] = (int)c->arch[k].lo; /* the code's all-zero vectors */
                m->arch_source = BGPBT_PBT_SRC_RANDOM;
            } else {
                m->arch_source = BGPBT_PBT_SRC_RANDOM;
            }
            if (c->arch_proposal != BGPBT_PBT_ARCH_RANDOM) {
                memcpy(m->hp, s->pop[bgpbt_rng_below(&s->rng, (uint32_t)s->n_pop)].hp, sizeof m->hp);
                m->source = BGPBT_PBT_SRC_COPIED;
            }
            n++;
        }
    }
    for (k = 0; k < s->n_archive; ++k) {
        bgpbt__pbt_member* m = &s->cand[n];
        bgpbt__pbt_fresh(s, m, n);
        memcpy(m->arch, s->archive[k], sizeof m->arch);
        m->arch_source = BGPBT_PBT_SRC_ARCHIVE;
        n++;
    }
    for (i = n_bo; i < n_base; ++i) {
        bgpbt__pbt_fresh(s, &s->cand[n], n);
        n++;
    }
    for (i = 0; i < n; ++i) {
        bgpbt__pbt_member* m = &s->cand[i];
        const bgpbt__pbt_member* t = &s->pop[s->teachers[bgpbt_rng_below(&s->rng, (uint32_t)s->n_teachers)]];
        m->teacher = t->id;
        m->parent = -1;
        m->generation = s->generation;
        m->steps = m->steps_before = t->steps;
        m->distill_done = 0;
        list[i] = i;
    }
    for (k = 0; k < s->n_teachers; ++k) s->teachers[k] = s->pop[s->teachers[k]].id;
    s->n_cand = n;
    s->rung = 0;
    s->n_rungs = bgpbt__pbt_sh_rungs(n, c->pop_size);
    s->phase = BGPBT__PBT_DISTILL;
    bgpbt__pbt_issue(s, BGPBT_PBT_ROUND_DISTILL, s->cand, list, n, 0, c->distill_budget);
}

BGPBT__PRIVATE void bgpbt__pbt_build_next_rung(bgpbt_pbt* s) {
    int list[BGPBT_PBT_MAX_POP], i;
    for (i = 0; i < s->n_cand; ++i) {
        s->cand[i].parent = s->cand[i].id;
        s->cand[i].ret_before = s->cand[i].ret;
        s->cand[i].steps_before = s->cand[i].steps;
        list[i] = i;
    }
    bgpbt__pbt_issue(s, BGPBT_PBT_ROUND_DISTILL, s->cand, list, s->n_cand, 0, s->cfg.distill_budget);
}

BGPBT__PRIVATE bgpbt_result bgpbt__pbt_reserve_rows(bgpbt_pbt* s, int extra) {
    bgpbt_pbt_row* r;
    int cap = s->cap_rows;
    if (s->n_rows + extra <= s->cap_rows) return BGPBT_OK;
    while (cap < s->n_rows + extra) cap *= 2;
    if (cap > (1 << 26)) return bgpbt__error(&s->cfg.logger, BGPBT_ERR_LIMIT, "pbt: the log exceeds %d rows", 1 << 26);
    r = (bgpbt_pbt_row*)bgpbt__calloc(&s->cfg.allocator, (size_t)cap, sizeof(bgpbt_pbt_row));
    if (!r) return bgpbt__error(&s->cfg.logger, BGPBT_ERR_OUT_OF_MEMORY, "pbt: out of memory growing the log");
    memcpy(r, s->rows, (size_t)s->n_rows * sizeof(bgpbt_pbt_row));
    bgpbt__cfree(&s->cfg.allocator, s->rows, (size_t)s->cap_rows, sizeof(bgpbt_pbt_row));
    s->rows = r;
    s->cap_rows = cap;
    return BGPBT_OK;
}

BGPBT__PRIVATE void bgpbt__pbt_tr_restart(bgpbt_pbt* s) {
    s->gp_epoch++;
    s->tr_len = s->cfg.tr_init;
    s->tr_succ = s->tr_fail = 0;
    s->stall = 0;
    s->gen_best = -HUGE_VAL;
}

/* Trust-region bookkeeping after a round in which some agent ran a BO configuration:
   success = the round's best agent is one of them. */
BGPBT__PRIVATE void bgpbt__pbt_tr_update(bgpbt_pbt* s, int success) {
    const bgpbt_pbt_config* c = &s->cfg;
    if (success) { s->tr_succ++; s->tr_fail = 0; }
    else { s->tr_fail++; s->tr_succ = 0; }
    if (s->tr_succ >= c->tr_succtol) {
        s->tr_len = s->tr_len * c->tr_mult < c->tr_max ? s->tr_len * c->tr_mult : c->tr_max;
        s->tr_succ = 0;
    }
    if (s->tr_fail >= c->tr_failtol) {
        s->tr_len = s->tr_len / c->tr_mult > c->tr_min ? s->tr_len / c->tr_mult : c->tr_min;
        s->tr_fail = 0;
        /* hpo_only: restart at the minimum length (the code's categorical clause is always false) */
        if (c->hpo_only && s->tr_len <= c->tr_min) bgpbt__pbt_tr_restart(s);
    }
}

/* Everything that follows a fully told round: log rows, counters, selection. */
BGPBT__PRIVATE void bgpbt__pbt_complete(bgpbt_pbt* s, const double* rets, const long long* steps_run,
                                        const unsigned char* failed) {
    const bgpbt_pbt_config* c = &s->cfg;
    bgpbt__pbt_member* ms = s->round_kind == BGPBT_PBT_ROUND_TRAIN ? s->pop : s->cand;
    int order[BGPBT_PBT_MAX_POP], j, i, k, n = s->n_jobs;
    long long used = 0;
    for (j = 0; j < n; ++j) used += steps_run[j];
    s->total_steps += used;
    for (j = 0; j < n; ++j) {
        bgpbt__pbt_member* m = &ms[s->job_member[j]];
        bgpbt_pbt_row row;
        m->steps += steps_run[j];
        if (s->round_kind == BGPBT_PBT_ROUND_DISTILL) m->distill_done += steps_run[j];
        m->failed = failed[j] || !(rets[j] == rets[j]) || fabs(rets[j]) > DBL_MAX;
        m->ret = m->failed ? -HUGE_VAL : rets[j];
        memset(&row, 0, sizeof row);
        row.round = s->round_index;
        row.kind = s->round_kind;
        row.agent = m->id;
        row.slot = m->slot;
        row.parent = s->jobs[j].parent;
        row.teacher = s->jobs[j].teacher;
        row.generation = m->generation;
        row.gp_epoch = s->gp_epoch;
        row.source = m->source;
        row.arch_source = m->arch_source;
        row.failed = m->failed;
        row.steps_before = s->jobs[j].lineage_steps;
        row.steps = m->steps;
        row.total_steps = s->total_steps;
        row.ret_before = m->ret_before;
        row.ret = m->ret;
        memcpy(row.hp, m->hp, sizeof row.hp);
        memcpy(row.arch, m->arch, sizeof row.arch);
        s->rows[s->n_rows++] = row; /* capacity reserved when the round was issued */
    }
    /* the ids the user now holds */
    s->n_alive = 0;
    for (j = 0; j < n; ++j) s->alive[s->n_alive++] = s->jobs[j].agent;
    if (s->round_kind == BGPBT_PBT_ROUND_DISTILL)
        for (k = 0; k < s->n_teachers; ++k) s->alive[s->n_alive++] = s->teachers[k];
    if (s->round_kind == BGPBT_PBT_ROUND_TRAIN) /* members that did not train still hold state */
        for (i = 0; i < s->n_pop; ++i) {
            int held = 0;
            for (j = 0; j < n; ++j) held |= s->jobs[j].agent == s->pop[i].id;
            if (!held && !s->pop[i].dead) s->alive[s->n_alive++] = s->pop[i].id;
        }
    s->round_open = 0;

    if (s->round_kind == BGPBT_PBT_ROUND_INIT) {
        bgpbt__pbt_rank(s->cand, s->n_cand, order);
        if (c->method == BGPBT_PBT_METHOD_BGPBT && s->n_cand > c->pop_size) {
            for (k = 0; k < c->pop_size; ++k) { s->pop[k] = s->cand[order[k]]; s->pop[k].slot = k; }
        } else {
            for (k = 0; k < s->n_cand; ++k) s->pop[k] = s->cand[k];
        }
        s->n_pop = c->pop_size;
        s->n_cand = 0;
        s->exploit_ready = c->method != BGPBT_PBT_METHOD_BGPBT;
        s->gen_best = bgpbt__pbt_score(&s->pop[0]);
        for (i = 0; i < s->n_pop; ++i) if (bgpbt__pbt_score(&s->pop[i]) > s->gen_best) s->gen_best = bgpbt__pbt_score(&s->pop[i]);
        s->stall = 0;
        s->gen_start = s->pop[0].steps;
        for (i = 0; i < s->n_pop; ++i) if (s->pop[i].steps < s->gen_start) s->gen_start = s->pop[i].steps;
        s->phase = BGPBT__PBT_TRAIN;
        return;
    }
    if (s->round_kind == BGPBT_PBT_ROUND_DISTILL) {
        int keep;
        bgpbt__pbt_member tmp[BGPBT_PBT_MAX_POP];
        bgpbt__pbt_rank(s->cand, s->n_cand, order);
        keep = bgpbt__pbt_sh_keep(c, s->n_cand, s->rung, s->n_rungs);
        for (k = 0; k < keep; ++k) tmp[k] = s->cand[order[k]];
        for (k = 0; k < keep; ++k) s->cand[k] = tmp[k];
        s->n_cand = keep;
        if (s->rung + 1 < s->n_rungs) {
            s->rung++;
            return;
        }
        /* hand-over: the best B students are the new population */
        for (k = 0; k < c->pop_size && k < s->n_cand; ++k) {
            s->pop[k] = s->cand[k];
            s->pop[k].slot = k;
            s->pop[k].source = BGPBT_PBT_SRC_DISTILLED;
            s->pop[k].teacher = -1;
        }
        s->n_pop = k;
        s->n_cand = 0;
        s->n_teachers = 0;
        s->gp_epoch++;
        s->gen_best = -HUGE_VAL;
        for (i = 0; i < s->n_pop; ++i) if (bgpbt__pbt_score(&s->pop[i]) > s->gen_best) s->gen_best = bgpbt__pbt_score(&s->pop[i]);
        s->stall = 0;
        s->gen_start = s->pop[0].steps;
        for (i = 0; i < s->n_pop; ++i) if (s->pop[i].steps < s->gen_start) s->gen_start = s->pop[i].steps;
        s->exploit_ready = 0;
        s->phase = BGPBT__PBT_TRAIN;
        return;
    }
    /* a training round */
    {
        double best_now = -HUGE_VAL;
        int best_j = -1, any_bo = 0;
        for (j = 0; j < n; ++j) {
            const bgpbt__pbt_member* m = &s->pop[s->job_member[j]];
            double sc = bgpbt__pbt_score(m);
            any_bo |= m->source == BGPBT_PBT_SRC_BO;
            if (best_j < 0 || sc > best_now) { best_now = sc; best_j = j; }
        }
        if (c->method == BGPBT_PBT_METHOD_BGPBT && any_bo)
            bgpbt__pbt_tr_update(s, s->pop[s->job_member[best_j]].source == BGPBT_PBT_SRC_BO);
        if (best_now > -HUGE_VAL && best_now >= s->gen_best) { s->gen_best = best_now; s->stall = 0; }
        else s->stall++;
        if (c->method == BGPBT_PBT_METHOD_BGPBT && c->hpo_only && c->hpo_restart_patience > 0 &&
            s->stall >= c->hpo_restart_patience)
            bgpbt__pbt_tr_restart(s);
        s->exploit_ready = 1;
        if (bgpbt__pbt_arch_search(c) && s->generation < c->max_generations) {
            long long tmax = bgpbt__pbt_max_lineage(s);
            if ((s->stall >= c->patience || tmax - s->gen_start > c->distill_every) && tmax < c->max_steps) {
                int n_students = c->n_arch_candidates + s->n_archive + 1;
                long long cost = bgpbt__pbt_sh_cost(c, n_students);
                if (c->max_total_steps <= 0 || s->total_steps + cost <= c->max_total_steps) s->switch_pending = 1;
            }
        }
    }
}

BGPBT_API bgpbt_result bgpbt_pbt_ask(bgpbt_pbt* s, const bgpbt_pbt_round** round) {
    bgpbt_result r;
    if (!s || !round) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!s->round_open && s->phase != BGPBT__PBT_DONE) {
        r = bgpbt__pbt_reserve_rows(s, s->cap);
        if (r != BGPBT_OK) return r;
        switch (s->phase) {
        case BGPBT__PBT_START: bgpbt__pbt_build_init(s); break;
        case BGPBT__PBT_TRAIN:
            if (s->switch_pending) bgpbt__pbt_build_distill(s);
            else bgpbt__pbt_build_train(s);
            break;
        case BGPBT__PBT_DISTILL: bgpbt__pbt_build_next_rung(s); break;
        default: break;
        }
    }
    memset(&s->round, 0, sizeof s->round);
    s->round.index = s->round_index;
    if (s->round_open) {
        s->round.kind = s->round_kind;
        s->round.rung = s->round_kind == BGPBT_PBT_ROUND_DISTILL ? s->rung : 0;
        s->round.n_jobs = s->n_jobs;
        s->round.jobs = s->jobs;
        s->round.n_release = s->n_release;
        s->round.release = s->release;
    }
    *round = &s->round;
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_pbt_tell(bgpbt_pbt* s, int job, double ret, long long steps_run, int failed) {
    int j, all = 1;
    if (!s) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!s->round_open) return bgpbt__error(&s->cfg.logger, BGPBT_ERR_WRONG_ORDER, "pbt: tell without an open round (ask first)");
    if (job < 0 || job >= s->n_jobs)
        return bgpbt__error(&s->cfg.logger, BGPBT_ERR_OUT_OF_RANGE, "pbt: job %d is outside [0, %d)", job, s->n_jobs);
    if (s->told[job])
        return bgpbt__error(&s->cfg.logger, BGPBT_ERR_WRONG_ORDER, "pbt: job %d of round %d was already told", job, s->round_index);
    if (steps_run < 0 || steps_run > ((long long)1 << 50))
        return bgpbt__error(&s->cfg.logger, BGPBT_ERR_OUT_OF_RANGE, "pbt: steps_run %lld is out of range", steps_run);
    s->told[job] = 1;
    s->res_steps[job] = steps_run;
    s->res_ret[job] = ret;
    s->res_failed[job] = (unsigned char)(failed != 0);
    for (j = 0; j < s->n_jobs; ++j) all &= s->told[j];
    if (all) bgpbt__pbt_complete(s, s->res_ret, s->res_steps, s->res_failed);
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_pbt_best(const bgpbt_pbt* s, int* id, double* ret, const bgpbt_pbt_row** row) {
    int i, b = -1, k;
    if (!s) return BGPBT_ERR_INVALID_ARGUMENT;
    for (i = 0; i < s->n_pop; ++i) if (b < 0 || bgpbt__pbt_score(&s->pop[i]) > bgpbt__pbt_score(&s->pop[b])) b = i;
    if (b < 0) return bgpbt__error(&s->cfg.logger, BGPBT_ERR_WRONG_ORDER, "pbt: no population yet");
    if (id) *id = s->pop[b].id;
    if (ret) *ret = bgpbt__pbt_score(&s->pop[b]);
    if (row) {
        *row = NULL;
        for (k = s->n_rows - 1; k >= 0; --k) if (s->rows[k].agent == s->pop[b].id) { *row = &s->rows[k]; break; }
    }
    return BGPBT_OK;
}

/* ---- GP-based parts: PB2's bandit and BG-PBT's trust-region BO (on the bo layer), and the
        architecture BO of a generation switch (on the gp layer) ----------------------------- */

/* One BO suggestion on data g. BG-PBT: the space is the hyperparameters, then the context
   dims (architecture, R_before; already normalised to [0,1]); minimise mu - beta sigma of the
   negated copula target in a trust region of length tr_len around the source agent, time at
   the latest round. PB2: the whole cube (no trust region), context R_before, time normalised,
   minimise mu - kappa var of the negated z-scored target (= PB2's UCB), kappa = sqrt(c1 +
   max(0, log(c2 n))) (Ray's beta_t). Pending points: variance from the data plus the pending
   configurations (GP-BUCB, kriging believer). */
BGPBT__PRIVATE int bgpbt__pbt_bo_suggest(bgpbt_pbt* s, const bgpbt__pbt_member* src, const bgpbt__pbt_gpdata* g,
                                         const double* pending_hp, const int* pending_arch, int n_pending, double* out) {
    const bgpbt_pbt_config* c = &s->cfg;
    int pb2 = c->method == BGPBT_PBT_METHOD_PB2;
    int n_hp = c->n_hp, n_ctx = g->n_ctx, dim = n_hp + n_ctx, i, k, tag = BGPBT_PBT_SRC_RANDOM;
    int n_arch_ctx = pb2 ? 0 : n_ctx - 1;
    bgpbt_bo_config bc = bgpbt_bo_config_default();
    bgpbt_bo* bo = NULL;
    bgpbt_bo_request req;
    double *V = NULL, *Y = NULL, *P = NULL, ctx[BGPBT_PBT_MAX_ARCH + 1], center[BGPBT_PBT_MAX_HP + BGPBT_PBT_MAX_ARCH + 1];
    double res[BGPBT_PBT_MAX_HP + BGPBT_PBT_MAX_ARCH + 1];
    const bgpbt_allocator* A = &c->allocator;
    size_t nv = (size_t)(g->n > 0 ? g->n : 1) * (size_t)dim, np = (size_t)(n_pending > 0 ? n_pending : 1) * (size_t)dim;
    bgpbt_bo_tr_state tr;
    char name[BGPBT_PBT_NAME_LEN + 8];

    bgpbt_bo_space_init(&bc.space, NULL);
    for (k = 0; k < n_hp; ++k) {
        const bgpbt_pbt_param* p = &c->hp[k];
        if (p->type == BGPBT_PBT_INT) {
            if (bgpbt_bo_space_add_int(&bc.space, p->name, (int)p->lo, (int)p->hi, p->log) != BGPBT_OK) return tag;
        } else if (bgpbt_bo_space_add_float(&bc.space, p->name, p->lo, p->hi, p->log) != BGPBT_OK) {
            return tag;
        }
    }
    for (k = 0; k < n_ctx; ++k) {
        sprintf(name, "ctx%d", k);
        if (bgpbt_bo_space_add_context(&bc.space, name, 0.0, 1.0) != BGPBT_OK) return tag;
    }
    bc.time_varying = 1;
    bc.seed = bgpbt_rng_u64(&s->rng);
    bc.n_restarts = c->acq_restarts;
    bc.n_steps = c->acq_steps;
    bc.max_data = g->n + 1;
    bc.max_pending = n_pending + 1;
    bc.allocator = c->allocator;
    if (pb2) {
        double kappa = sqrt(c->pb2_c1 + (log(c->pb2_c2 * g->n) > 0 ? log(c->pb2_c2 * g->n) : 0.0));
        bc.gp = bgpbt_gp_config_pb2(dim);
        bc.gp.output = BGPBT_GP_NONE; /* already z-scored and clipped */
        bc.acq = BGPBT_BO_ACQ_LCB_VAR;
        bc.beta = kappa > 0 ? kappa : 1e-9;
        bc.tr = bgpbt_bo_tr_bgpbt();
        bc.tr.global = 1;
    } else {
        double lmin = 0.01, lmax = sqrt((double)dim);
        bc.gp = bgpbt_gp_config_default();
        bc.gp.kernel = BGPBT_GP_MATERN52;
        bc.gp.ard = 0;
        bc.gp.output = BGPBT_GP_NONE; /* already copula-standardised */
        bc.gp.noise_min = 1e-6; bc.gp.noise_max = 0.1; bc.gp.noise_init = 1e-3;
        bc.gp.outputscale_min = 0.5; bc.gp.outputscale_max = 5; bc.gp.outputscale_init = 1;
        bc.gp.eps_init = 0.5;
        bc.gp.lengthscale_min = lmin;
        bc.gp.lengthscale_max = lmax;
        bc.gp.lengthscale_init = (lmax - lmin) / 2 + lmin;
        if (c->gp_fix_lengthscale) bc.gp.lengthscale_min = bc.gp.lengthscale_max = bc.gp.lengthscale_init;
        bc.acq = BGPBT_BO_ACQ_LCB;
        bc.beta = c->lcb_beta > 0 ? c->lcb_beta : 1e-9;
        bc.tr = bgpbt_bo_tr_bgpbt();
        bc.tr.length_init = s->tr_len;
        bc.tr.length_min = c->tr_min < s->tr_len ? c->tr_min : s->tr_len;
        bc.tr.length_max = c->tr_max > s->tr_len ? c->tr_max : s->tr_len;
        bc.tr.no_restart = 1;
    }
    bc.gp.seed = bc.seed ^ 0x5eedu;
    bc.gp.allocator = c->allocator;
    V = (double*)bgpbt__calloc(A, nv, sizeof(double));
    Y = (double*)bgpbt__calloc(A, (size_t)(g->n > 0 ? g->n : 1), sizeof(double));
    P = (double*)bgpbt__calloc(A, np, sizeof(double));
    if (!V || !Y || !P) goto done;
    for (i = 0; i < g->n; ++i) {
        const double* x = g->X + (size_t)i * (size_t)g->d;
        double* v = V + (size_t)i * (size_t)dim;
        if (pb2) {
            for (k = 0; k < n_hp; ++k) v[k] = bgpbt_pbt_param_decode(&c->hp[k], x[2 + k]);
            v[n_hp] = x[1];
        } else {
            for (k = 0; k < n_hp; ++k) v[k] = bgpbt_pbt_param_decode(&c->hp[k], x[k]);
            for (k = 0; k < n_ctx; ++k) v[n_hp + k] = x[n_hp + k];
        }
        Y[i] = -g->y[i]; /* the bo layer minimises */
    }
    /* context of the suggestion: the source agent's architecture and return before */
    for (k = 0; k < n_arch_ctx; ++k) ctx[k] = bgpbt_pbt_param_encode(&c->arch[k], (double)src->arch[k]);
    ctx[n_ctx - 1] = bgpbt__pbt_minmax(src->ret, g->rb_lo, g->rb_hi, pb2);
    if (ctx[n_ctx - 1] < 0) ctx[n_ctx - 1] = 0;
    if (ctx[n_ctx - 1] > 1) ctx[n_ctx - 1] = 1;
    for (k = 0; k < n_hp; ++k) center[k] = src->hp[k];
    for (k = 0; k < n_ctx; ++k) center[n_hp + k] = ctx[k];
    for (i = 0; i < n_pending; ++i) {
        double* v = P + (size_t)i * (size_t)dim;
        for (k = 0; k < n_hp; ++k) v[k] = pending_hp[(size_t)i * BGPBT_PBT_MAX_HP + (size_t)k];
        for (k = 0; k < n_arch_ctx; ++k)
            v[n_hp + k] = bgpbt_pbt_param_encode(&c->arch[k], (double)pending_arch[(size_t)i * BGPBT_PBT_MAX_ARCH + (size_t)k]);
        v[n_hp + n_ctx - 1] = ctx[n_ctx - 1];
    }
    if (bgpbt_bo_create(&bc, &bo) != BGPBT_OK) goto done;
    if (bgpbt_bo_set_data(bo, V, g->t, Y, g->n) != BGPBT_OK) goto done;
    if (!pb2) {
        bgpbt_bo_tr_get(bo, &tr);
        tr.length = s->tr_len;
        if (bgpbt_bo_tr_set(bo, &tr) != BGPBT_OK) goto done;
    }
    memset(&req, 0, sizeof req);
    req.center = pb2 ? NULL : center;
    req.context = ctx;
    req.pending = n_pending > 0 ? P : NULL;
    req.n_pending = n_pending;
    if (bgpbt_bo_suggest(bo, &req, 1, res) != BGPBT_OK) goto done;
    for (k = 0; k < n_hp; ++k) {
        if (!(res[k] == res[k])) goto done;
        out[k] = res[k] < c->hp[k].lo ? c->hp[k].lo : res[k] > c->hp[k].hi ? c->hp[k].hi : res[k];
    }
    tag = BGPBT_PBT_SRC_BO;
done:
    if (bo) bgpbt_bo_destroy(bo);
    bgpbt__cfree(A, V, nv, sizeof(double));
    bgpbt__cfree(A, Y, (size_t)(g->n > 0 ? g->n : 1), sizeof(double));
    bgpbt__cfree(A, P, np, sizeof(double));
    return tag;
}

/* PB2's data length (Ray's select_length): with 200 rows or more, fit the GP on the last
   200, 210, ..., n rows and keep the window with the best log marginal likelihood. */
BGPBT__PRIVATE int bgpbt__pbt_pb2_select_length(bgpbt_pbt* s, const bgpbt__pbt_gpdata* g) {
    const bgpbt_pbt_config* c = &s->cfg;
    int best_w = g->n, w, dim = 1 + c->n_hp, i, k;
    double best_lml = -HUGE_VAL;
    double* X;
    if (g->n < 200) return g->n;
    X = (double*)bgpbt__calloc(&c->allocator, (size_t)g->n * (size_t)dim, sizeof(double));
    if (!X) return g->n;
    for (i = 0; i < g->n; ++i) {
        for (k = 0; k < dim; ++k) X[(size_t)i * dim + k] = g->X[(size_t)i * g->d + 1 + k];
    }
    for (w = 200; w <= g->n; w += 10) {
        bgpbt_gp_config gc = bgpbt_gp_config_pb2(dim);
        bgpbt_gp* gp = NULL;
        bgpbt_gp_fit_info fi;
        int off = g->n - w;
        gc.output = BGPBT_GP_NONE;
        gc.fit_restarts = -1;
        gc.seed = c->seed;
        gc.allocator = c->allocator;
        if (bgpbt_gp_create(&gc, &gp) != BGPBT_OK) break;
        if (bgpbt_gp_set_data(gp, X + (size_t)off * dim, g->t + off, g->y + off, w) == BGPBT_OK && bgpbt_gp_fit(gp) == BGPBT_OK) {
            bgpbt_gp_get_fit_info(gp, &fi);
            if (fi.lml > best_lml) { best_lml = fi.lml; best_w = w; }
        }
        bgpbt_gp_destroy(gp);
    }
    bgpbt__cfree(&c->allocator, X, (size_t)g->n * (size_t)dim, sizeof(double));
    return best_w;
}

BGPBT__PRIVATE int bgpbt__pbt_suggest_gp(bgpbt_pbt* s, const bgpbt__pbt_member* src, const bgpbt__pbt_gpdata* g,
                                         const double* pending_hp, const int* pending_arch, int n_pending, double* out) {
    if (s->cfg.method == BGPBT_PBT_METHOD_PB2 && g->n >= 200) {
        int w = bgpbt__pbt_pb2_select_length(s, g);
        if (w < g->n) { /* use the last w points: a view of g */
            bgpbt__pbt_gpdata v = *g;
            int off = g->n - w;
            v.X = g->X + (size_t)off * (size_t)g->d;
            v.y = g->y + off;
            v.t = g->t + off;
            v.n = w;
            return bgpbt__pbt_bo_suggest(s, src, &v, pending_hp, pending_arch, n_pending, out);
        }
    }
    return bgpbt__pbt_bo_suggest(s, src, g, pending_hp, pending_arch, n_pending, out);
}

/* Architecture BO at a generation switch: a GP (Matern-5/2, copula targets) on the encoded
   architecture -> the best return it ever reached (every generation, every round); the
   candidates are every architecture of the space (or 4096 random ones when it is larger)
   that has not been tried; n are chosen one by one by mu + beta sigma (beta = lcb_beta), each
   added as a pending point (kriging believer) before the next. Returns how many it proposed
   (0 when there are fewer than 3 distinct architectures in the data or the GP fails). */
BGPBT__PRIVATE int bgpbt__pbt_propose_archs(bgpbt_pbt* s, int n, int* out) {
    const bgpbt_pbt_config* c = &s->cfg;
    const bgpbt_allocator* A = &c->allocator;
    int na = c->n_arch, n_data = 0, i, k, j, got = 0, n_cand = 0, space = 1;
    int* arch_data = NULL;
    int* cand = NULL;
    double *X = NULL, *y = NULL, *Xc = NULL, *mu = NULL, *var = NULL, *Xp = NULL;
    unsigned char* used = NULL;
    bgpbt_gp* gp = NULL;
    bgpbt_gp_config gc;
    int max_cand = 4096;
    if (na <= 0 || n <= 0 || s->n_rows == 0) return 0;
    for (k = 0; k < na; ++k) {
        double r = c->arch[k].hi - c->arch[k].lo + 1;
        if (space > max_cand || r > max_cand) { space = max_cand + 1; break; }
        space *= (int)r;
    }
    arch_data = (int*)bgpbt__calloc(A, (size_t)s->n_rows * BGPBT_PBT_MAX_ARCH, sizeof(int));
    y = (double*)bgpbt__calloc(A, (size_t)s->n_rows, sizeof(double));
    X = (double*)bgpbt__calloc(A, (size_t)s->n_rows * (size_t)na, sizeof(double));
    cand = (int*)bgpbt__calloc(A, (size_t)max_cand * BGPBT_PBT_MAX_ARCH, sizeof(int));
    Xc = (double*)bgpbt__calloc(A, (size_t)max_cand * (size_t)na, sizeof(double));
    mu = (double*)bgpbt__calloc(A, (size_t)max_cand, sizeof(double));
    var = (double*)bgpbt__calloc(A, (size_t)max_cand, sizeof(double));
    used = (unsigned char*)bgpbt__calloc(A, (size_t)max_cand, 1);
    Xp = (double*)bgpbt__calloc(A, (size_t)(n + 1) * (size_t)na, sizeof(double));
    if (!arch_data || !y || !X || !cand || !Xc || !mu || !var || !used || !Xp) goto done;
    /* best return per distinct architecture */
    for (i = 0; i < s->n_rows; ++i) {
        const bgpbt_pbt_row* r = &s->rows[i];
        int found = -1;
        if (r->failed || !(r->ret == r->ret) || fabs(r->ret) > DBL_MAX) continue;
        for (j = 0; j < n_data && found < 0; ++j)
            if (bgpbt__pbt_arch_equal(arch_data + (size_t)j * BGPBT_PBT_MAX_ARCH, r->arch, na)) found = j;
        if (found < 0) {
            found = n_data++;
            memcpy(arch_data + (size_t)found * BGPBT_PBT_MAX_ARCH, r->arch, sizeof(int) * BGPBT_PBT_MAX_ARCH);
            y[found] = r->ret;
        } else if (r->ret > y[found]) {
            y[found] = r->ret;
        }
    }
    if (n_data < 3) goto done;
    for (i = 0; i < n_data; ++i) {
        for (k = 0; k < na; ++k)
            X[(size_t)i * na + k] = bgpbt_pbt_param_encode(&c->arch[k], (double)arch_data[(size_t)i * BGPBT_PBT_MAX_ARCH + k]);
        y[i] = -y[i]; /* minimise */
    }
    gc = bgpbt_gp_config_default();
    gc.dim = na;
    gc.kernel = BGPBT_GP_MATERN52;
    gc.output = BGPBT_GP_COPULA;
    gc.seed = bgpbt_rng_u64(&s->rng);
    gc.allocator = c->allocator;
    if (bgpbt_gp_create(&gc, &gp) != BGPBT_OK) goto done;
    if (bgpbt_gp_set_data(gp, X, NULL, y, n_data) != BGPBT_OK) goto done;
    if (bgpbt_gp_fit(gp) != BGPBT_OK) goto done;
    /* candidates: the untried architectures */
    if (space <= max_cand) {
        for (i = 0; i < space; ++i) {
            int rem = i, tried = 0;
            int* a = cand + (size_t)n_cand * BGPBT_PBT_MAX_ARCH;
            for (k = 0; k < na; ++k) {
                int r = (int)(c->arch[k].hi - c->arch[k].lo + 1);
                a[k] = (int)c->arch[k].lo + rem % r;
                rem /= r;
            }
            for (j = 0; j < n_data && !tried; ++j) tried = bgpbt__pbt_arch_equal(arch_data + (size_t)j * BGPBT_PBT_MAX_ARCH, a, na);
            if (!tried) n_cand++;
        }
    } else {
        for (i = 0; i < max_cand; ++i) bgpbt__pbt_random_arch(s, cand + (size_t)n_cand++ * BGPBT_PBT_MAX_ARCH);
    }
    for (i = 0; i < n_cand; ++i)
        for (k = 0; k < na; ++k) Xc[(size_t)i * na + k] = bgpbt_pbt_param_encode(&c->arch[k], (double)cand[(size_t)i * BGPBT_PBT_MAX_ARCH + k]);
    for (got = 0; got < n && got < n_cand;) {
        int best = -1;
        double best_a = HUGE_VAL;
        if (bgpbt_gp_predict(gp, Xc, NULL, n_cand, mu, var) != BGPBT_OK) break;
        for (i = 0; i < n_cand; ++i) {
            double a = mu[i] - c->lcb_beta * sqrt(var[i] > 0 ? var[i] : 0);
            if (!used[i] && a < best_a) { best_a = a; best = i; }
        }
        if (best < 0) break;
        used[best] = 1;
        memcpy(out + (size_t)got * BGPBT_PBT_MAX_ARCH, cand + (size_t)best * BGPBT_PBT_MAX_ARCH, sizeof(int) * BGPBT_PBT_MAX_ARCH);
        memcpy(Xp + (size_t)got * na, Xc + (size_t)best * na, sizeof(double) * (size_t)na);
        got++;
        if (bgpbt_gp_set_pending(gp, Xp, NULL, got) != BGPBT_OK) break;
    }
done:
    if (gp) bgpbt_gp_destroy(gp);
    bgpbt__cfree(A, arch_data, (size_t)s->n_rows * BGPBT_PBT_MAX_ARCH, sizeof(int));
    bgpbt__cfree(A, y, (size_t)s->n_rows, sizeof(double));
    bgpbt__cfree(A, X, (size_t)s->n_rows * (size_t)na, sizeof(double));
    bgpbt__cfree(A, cand, (size_t)max_cand * BGPBT_PBT_MAX_ARCH, sizeof(int));
    bgpbt__cfree(A, Xc, (size_t)max_cand * (size_t)na, sizeof(double));
    bgpbt__cfree(A, mu, (size_t)max_cand, sizeof(double));
    bgpbt__cfree(A, var, (size_t)max_cand, sizeof(double));
    bgpbt__cfree(A, used, (size_t)max_cand, 1);
    bgpbt__cfree(A, Xp, (size_t)(n + 1) * (size_t)na, sizeof(double));
    return got;
}

/* ---- save / load ---------------------------------------------------------------------------- */

#define BGPBT__PBT_KIND BGPBT_FOURCC('P', 'B', 'T', 'S')
#define BGPBT__PBT_VERSION 1u

BGPBT__PRIVATE void bgpbt__pbt_w_param(bgpbt_writer* w, const bgpbt_pbt_param* p) {
    bgpbt_write_bytes(w, p->name, BGPBT_PBT_NAME_LEN);
    bgpbt_write_i32(w, p->type);
    bgpbt_write_i32(w, p->log);
    bgpbt_write_f64(w, p->lo);
    bgpbt_write_f64(w, p->hi);
}
BGPBT__PRIVATE void bgpbt__pbt_r_param(bgpbt_reader* r, bgpbt_pbt_param* p) {
    bgpbt_read_bytes(r, p->name, BGPBT_PBT_NAME_LEN);
    p->name[BGPBT_PBT_NAME_LEN - 1] = 0;
    p->type = bgpbt_read_i32(r);
    p->log = bgpbt_read_i32(r);
    p->lo = bgpbt_read_f64(r);
    p->hi = bgpbt_read_f64(r);
}
BGPBT__PRIVATE void bgpbt__pbt_w_i64(bgpbt_writer* w, long long v) { bgpbt_write_u64(w, (uint64_t)v); }
BGPBT__PRIVATE long long bgpbt__pbt_r_i64(bgpbt_reader* r) {
    uint64_t u = bgpbt_read_u64(r);
    long long v;
    memcpy(&v, &u, 8);
    return v;
}

BGPBT__PRIVATE void bgpbt__pbt_w_config(bgpbt_writer* w, const bgpbt_pbt_config* c) {
    int i;
    bgpbt_write_i32(w, c->method);
    bgpbt_write_i32(w, c->pop_size);
    bgpbt_write_u64(w, c->seed);
    bgpbt_write_i32(w, c->hpo_only);
    bgpbt_write_i32(w, c->n_hp);
    for (i = 0; i < BGPBT_PBT_MAX_HP; ++i) bgpbt__pbt_w_param(w, &c->hp[i]);
    bgpbt_write_i32(w, c->n_arch);
    for (i = 0; i < BGPBT_PBT_MAX_ARCH; ++i) bgpbt__pbt_w_param(w, &c->arch[i]);
    for (i = 0; i < BGPBT_PBT_MAX_ARCH; ++i) bgpbt_write_i32(w, c->default_arch[i]);
    bgpbt_write_f64(w, c->quantile);
    bgpbt_write_i32(w, c->n_init);
    bgpbt__pbt_w_i64(w, c->t_ready);
    bgpbt__pbt_w_i64(w, c->t_ready_end);
    bgpbt__pbt_w_i64(w, c->max_steps);
    bgpbt__pbt_w_i64(w, c->max_total_steps);
    bgpbt_write_f64(w, c->resample_prob);
    bgpbt_write_f64(w, c->perturb_down);
    bgpbt_write_f64(w, c->perturb_up);
    bgpbt_write_f64(w, c->tr_init);
    bgpbt_write_f64(w, c->tr_min);
    bgpbt_write_f64(w, c->tr_max);
    bgpbt_write_f64(w, c->tr_mult);
    bgpbt_write_i32(w, c->tr_succtol);
    bgpbt_write_i32(w, c->tr_failtol);
    bgpbt_write_i32(w, c->hpo_restart_patience);
    bgpbt_write_i32(w, c->gp_window);
    bgpbt_write_f64(w, c->lcb_beta);
    bgpbt_write_f64(w, c->pb2_c1);
    bgpbt_write_f64(w, c->pb2_c2);
    bgpbt_write_i32(w, c->acq_restarts);
    bgpbt_write_i32(w, c->acq_steps);
    bgpbt_write_i32(w, c->gp_fix_lengthscale);
    bgpbt_write_i32(w, c->min_gp_points);
    bgpbt_write_i32(w, c->patience);
    bgpbt__pbt_w_i64(w, c->distill_every);
    bgpbt_write_i32(w, c->max_generations);
    bgpbt__pbt_w_i64(w, c->distill_budget);
    bgpbt_write_f64(w, c->sh_eta);
    bgpbt_write_i32(w, c->n_arch_candidates);
    bgpbt_write_i32(w, c->arch_proposal);
    bgpbt_write_f64(w, c->distill_alpha_start);
    bgpbt_write_f64(w, c->distill_alpha_end);
    bgpbt_write_f64(w, c->distill_anneal_frac);
}
BGPBT__PRIVATE void bgpbt__pbt_r_config(bgpbt_reader* r, bgpbt_pbt_config* c) {
    int i;
    c->method = bgpbt_read_i32(r);
    c->pop_size = bgpbt_read_i32(r);
    c->seed = bgpbt_read_u64(r);
    c->hpo_only = bgpbt_read_i32(r);
    c->n_hp = bgpbt_read_i32(r);
    for (i = 0; i < BGPBT_PBT_MAX_HP; ++i) bgpbt__pbt_r_param(r, &c->hp[i]);
    c->n_arch = bgpbt_read_i32(r);
    for (i = 0; i < BGPBT_PBT_MAX_ARCH; ++i) bgpbt__pbt_r_param(r, &c->arch[i]);
    for (i = 0; i < BGPBT_PBT_MAX_ARCH; ++i) c->default_arch[i] = bgpbt_read_i32(r);
    c->quantile = bgpbt_read_f64(r);
    c->n_init = bgpbt_read_i32(r);
    c->t_ready = bgpbt__pbt_r_i64(r);
    c->t_ready_end = bgpbt__pbt_r_i64(r);
    c->max_steps = bgpbt__pbt_r_i64(r);
    c->max_total_steps = bgpbt__pbt_r_i64(r);
    c->resample_prob = bgpbt_read_f64(r);
    c->perturb_down = bgpbt_read_f64(r);
    c->perturb_up = bgpbt_read_f64(r);
    c->tr_init = bgpbt_read_f64(r);
    c->tr_min = bgpbt_read_f64(r);
    c->tr_max = bgpbt_read_f64(r);
    c->tr_mult = bgpbt_read_f64(r);
    c->tr_succtol = bgpbt_read_i32(r);
    c->tr_failtol = bgpbt_read_i32(r);
    c->hpo_restart_patience = bgpbt_read_i32(r);
    c->gp_window = bgpbt_read_i32(r);
    c->lcb_beta = bgpbt_read_f64(r);
    c->pb2_c1 = bgpbt_read_f64(r);
    c->pb2_c2 = bgpbt_read_f64(r);
    c->acq_restarts = bgpbt_read_i32(r);
    c->acq_steps = bgpbt_read_i32(r);
    c->gp_fix_lengthscale = bgpbt_read_i32(r);
    c->min_gp_points = bgpbt_read_i32(r);
    c->patience = bgpbt_read_i32(r);
    c->distill_every = bgpbt__pbt_r_i64(r);
    c->max_generations = bgpbt_read_i32(r);
    c->distill_budget = bgpbt__pbt_r_i64(r);
    c->sh_eta = bgpbt_read_f64(r);
    c->n_arch_candidates = bgpbt_read_i32(r);
    c->arch_proposal = bgpbt_read_i32(r);
    c->distill_alpha_start = bgpbt_read_f64(r);
    c->distill_alpha_end = bgpbt_read_f64(r);
    c->distill_anneal_frac = bgpbt_read_f64(r);
}

BGPBT__PRIVATE void bgpbt__pbt_w_member(bgpbt_writer* w, const bgpbt__pbt_member* m) {
    int i;
    bgpbt_write_i32(w, m->id); bgpbt_write_i32(w, m->slot); bgpbt_write_i32(w, m->parent);
    bgpbt_write_i32(w, m->teacher); bgpbt_write_i32(w, m->source); bgpbt_write_i32(w, m->arch_source);
    bgpbt_write_i32(w, m->generation); bgpbt_write_i32(w, m->failed); bgpbt_write_i32(w, m->dead);
    bgpbt__pbt_w_i64(w, m->steps); bgpbt__pbt_w_i64(w, m->steps_before); bgpbt__pbt_w_i64(w, m->distill_done);
    bgpbt_write_f64(w, m->ret); bgpbt_write_f64(w, m->ret_before);
    bgpbt_write_f64s(w, m->hp, BGPBT_PBT_MAX_HP);
    for (i = 0; i < BGPBT_PBT_MAX_ARCH; ++i) bgpbt_write_i32(w, m->arch[i]);
}
BGPBT__PRIVATE void bgpbt__pbt_r_member(bgpbt_reader* r, bgpbt__pbt_member* m) {
    int i;
    m->id = bgpbt_read_i32(r); m->slot = bgpbt_read_i32(r); m->parent = bgpbt_read_i32(r);
    m->teacher = bgpbt_read_i32(r); m->source = bgpbt_read_i32(r); m->arch_source = bgpbt_read_i32(r);
    m->generation = bgpbt_read_i32(r); m->failed = bgpbt_read_i32(r); m->dead = bgpbt_read_i32(r);
    m->steps = bgpbt__pbt_r_i64(r); m->steps_before = bgpbt__pbt_r_i64(r); m->distill_done = bgpbt__pbt_r_i64(r);
    m->ret = bgpbt_read_f64(r); m->ret_before = bgpbt_read_f64(r);
    bgpbt_read_f64s(r, m->hp, BGPBT_PBT_MAX_HP);
    for (i = 0; i < BGPBT_PBT_MAX_ARCH; ++i) m->arch[i] = bgpbt_read_i32(r);
}
BGPBT__PRIVATE void bgpbt__pbt_w_job(bgpbt_writer* w, const bgpbt_pbt_job* j) {
    int i;
    bgpbt_write_i32(w, j->agent); bgpbt_write_i32(w, j->parent); bgpbt_write_i32(w, j->teacher);
    bgpbt_write_i32(w, j->slot); bgpbt_write_i32(w, j->source); bgpbt_write_i32(w, j->arch_source);
    bgpbt_write_i32(w, j->generation);
    bgpbt__pbt_w_i64(w, j->steps); bgpbt__pbt_w_i64(w, j->lineage_steps);
    bgpbt__pbt_w_i64(w, j->distill_done); bgpbt__pbt_w_i64(w, j->distill_total);
    bgpbt_write_u64(w, j->seed);
    bgpbt_write_f64s(w, j->hp, BGPBT_PBT_MAX_HP);
    for (i = 0; i < BGPBT_PBT_MAX_ARCH; ++i) bgpbt_write_i32(w, j->arch[i]);
}
BGPBT__PRIVATE void bgpbt__pbt_r_job(bgpbt_reader* r, bgpbt_pbt_job* j) {
    int i;
    j->agent = bgpbt_read_i32(r); j->parent = bgpbt_read_i32(r); j->teacher = bgpbt_read_i32(r);
    j->slot = bgpbt_read_i32(r); j->source = bgpbt_read_i32(r); j->arch_source = bgpbt_read_i32(r);
    j->generation = bgpbt_read_i32(r);
    j->steps = bgpbt__pbt_r_i64(r); j->lineage_steps = bgpbt__pbt_r_i64(r);
    j->distill_done = bgpbt__pbt_r_i64(r); j->distill_total = bgpbt__pbt_r_i64(r);
    j->seed = bgpbt_read_u64(r);
    bgpbt_read_f64s(r, j->hp, BGPBT_PBT_MAX_HP);
    for (i = 0; i < BGPBT_PBT_MAX_ARCH; ++i) j->arch[i] = bgpbt_read_i32(r);
}
BGPBT__PRIVATE void bgpbt__pbt_w_row(bgpbt_writer* w, const bgpbt_pbt_row* o) {
    int i;
    bgpbt_write_i32(w, o->round); bgpbt_write_i32(w, o->kind); bgpbt_write_i32(w, o->agent);
    bgpbt_write_i32(w, o->slot); bgpbt_write_i32(w, o->parent); bgpbt_write_i32(w, o->teacher);
    bgpbt_write_i32(w, o->generation); bgpbt_write_i32(w, o->gp_epoch); bgpbt_write_i32(w, o->source);
    bgpbt_write_i32(w, o->arch_source); bgpbt_write_i32(w, o->failed);
    bgpbt__pbt_w_i64(w, o->steps_before); bgpbt__pbt_w_i64(w, o->steps); bgpbt__pbt_w_i64(w, o->total_steps);
    bgpbt_write_f64(w, o->ret_before); bgpbt_write_f64(w, o->ret);
    bgpbt_write_f64s(w, o->hp, BGPBT_PBT_MAX_HP);
    for (i = 0; i < BGPBT_PBT_MAX_ARCH; ++i) bgpbt_write_i32(w, o->arch[i]);
}
BGPBT__PRIVATE void bgpbt__pbt_r_row(bgpbt_reader* r, bgpbt_pbt_row* o) {
    int i;
    o->round = bgpbt_read_i32(r); o->kind = bgpbt_read_i32(r); o->agent = bgpbt_read_i32(r);
    o->slot = bgpbt_read_i32(r); o->parent = bgpbt_read_i32(r); o->teacher = bgpbt_read_i32(r);
    o->generation = bgpbt_read_i32(r); o->gp_epoch = bgpbt_read_i32(r); o->source = bgpbt_read_i32(r);
    o->arch_source = bgpbt_read_i32(r); o->failed = bgpbt_read_i32(r);
    o->steps_before = bgpbt__pbt_r_i64(r); o->steps = bgpbt__pbt_r_i64(r); o->total_steps = bgpbt__pbt_r_i64(r);
    o->ret_before = bgpbt_read_f64(r); o->ret = bgpbt_read_f64(r);
    bgpbt_read_f64s(r, o->hp, BGPBT_PBT_MAX_HP);
    for (i = 0; i < BGPBT_PBT_MAX_ARCH; ++i) o->arch[i] = bgpbt_read_i32(r);
}

BGPBT__PRIVATE void bgpbt__pbt_write_all(const bgpbt_pbt* s, bgpbt_writer* w) {
    uint64_t st[4];
    int i, k;
    size_t begin = w->pos;
    bgpbt_container_begin(w, BGPBT__PBT_KIND, BGPBT__PBT_VERSION);
    bgpbt__pbt_w_config(w, &s->cfg);
    bgpbt_rng_get_state(&s->rng, st);
    for (i = 0; i < 4; ++i) bgpbt_write_u64(w, st[i]);
    bgpbt_write_i32(w, s->phase); bgpbt_write_i32(w, s->exploit_ready); bgpbt_write_i32(w, s->switch_pending);
    bgpbt_write_i32(w, s->round_index); bgpbt_write_i32(w, s->round_open); bgpbt_write_i32(w, s->round_kind);
    bgpbt_write_i32(w, s->rung); bgpbt_write_i32(w, s->n_rungs); bgpbt_write_i32(w, s->next_id);
    bgpbt__pbt_w_i64(w, s->total_steps);
    bgpbt_write_f64(w, s->tr_len); bgpbt_write_i32(w, s->tr_succ); bgpbt_write_i32(w, s->tr_fail);
    bgpbt_write_i32(w, s->generation); bgpbt_write_i32(w, s->gp_epoch); bgpbt_write_i32(w, s->stall);
    bgpbt_write_i32(w, s->hpo_stall); bgpbt_write_f64(w, s->gen_best); bgpbt__pbt_w_i64(w, s->gen_start);
    bgpbt_write_u32(w, (uint32_t)s->n_pop);
    for (i = 0; i < s->n_pop; ++i) bgpbt__pbt_w_member(w, &s->pop[i]);
    bgpbt_write_u32(w, (uint32_t)s->n_cand);
    for (i = 0; i < s->n_cand; ++i) bgpbt__pbt_w_member(w, &s->cand[i]);
    bgpbt_write_u32(w, (uint32_t)s->n_jobs);
    for (i = 0; i < s->n_jobs; ++i) {
        bgpbt__pbt_w_job(w, &s->jobs[i]);
        bgpbt_write_i32(w, s->job_member[i]);
        bgpbt_write_i32(w, s->told[i]);
        bgpbt_write_f64(w, s->res_ret[i]);
        bgpbt__pbt_w_i64(w, s->res_steps[i]);
        bgpbt_write_i32(w, s->res_failed[i]);
    }
    bgpbt_write_u32(w, (uint32_t)s->n_alive);
    for (i = 0; i < s->n_alive; ++i) bgpbt_write_i32(w, s->alive[i]);
    bgpbt_write_u32(w, (uint32_t)s->n_release);
    for (i = 0; i < s->n_release; ++i) bgpbt_write_i32(w, s->release[i]);
    bgpbt_write_u32(w, (uint32_t)s->n_teachers);
    for (i = 0; i < s->n_teachers; ++i) bgpbt_write_i32(w, s->teachers[i]);
    bgpbt_write_u32(w, (uint32_t)s->n_archive);
    for (i = 0; i < s->n_archive; ++i)
        for (k = 0; k < BGPBT_PBT_MAX_ARCH; ++k) bgpbt_write_i32(w, s->archive[i][k]);
    bgpbt_write_u32(w, (uint32_t)s->n_rows);
    for (i = 0; i < s->n_rows; ++i) bgpbt__pbt_w_row(w, &s->rows[i]);
    bgpbt_container_end(w, begin);
}

BGPBT_API bgpbt_result bgpbt_pbt_save(const bgpbt_pbt* s, void* buf, size_t cap, size_t* size) {
    bgpbt_writer w;
    if (!s || !size) return BGPBT_ERR_INVALID_ARGUMENT;
    memset(&w, 0, sizeof w);
    bgpbt__pbt_write_all(s, &w); /* count */
    *size = w.pos;
    if (!buf) return BGPBT_OK;
    if (cap < w.pos) return bgpbt__error(&s->cfg.logger, BGPBT_ERR_BUFFER_TOO_SMALL, "pbt: save needs %zu bytes, buffer has %zu", w.pos, cap);
    memset(&w, 0, sizeof w);
    w.buf = (unsigned char*)buf;
    w.cap = cap;
    bgpbt__pbt_write_all(s, &w);
    return w.overflow ? BGPBT_ERR_INTERNAL : BGPBT_OK;
}

/* Checks that a member read from a file is sane (indices are only used as values, but the
   enums index name tables and the counts bound loops). */
BGPBT__PRIVATE int bgpbt__pbt_member_ok(const bgpbt__pbt_member* m, int next_id) {
    return m->id >= 0 && m->id < next_id && m->source >= 0 && m->source < 8 && m->arch_source >= 0 &&
           m->arch_source < 8 && m->steps >= 0 && m->steps_before >= 0 && m->distill_done >= 0 && m->parent >= -1 &&
           m->parent < next_id && m->teacher >= -1 && m->teacher < next_id;
}

BGPBT_API bgpbt_result bgpbt_pbt_load(bgpbt_pbt* target, const void* data, size_t size) {
    bgpbt_reader r;
    bgpbt_pbt_config c, resolved;
    bgpbt_pbt* s = NULL;
    bgpbt_result res;
    uint64_t st[4];
    uint32_t n, nr;
    int i, k, bad = 0;
    const bgpbt_logger* log;
    if (!target || !data) return BGPBT_ERR_INVALID_ARGUMENT;
    log = &target->cfg.logger;
    res = bgpbt_container_open(data, size, BGPBT__PBT_KIND, BGPBT__PBT_VERSION, NULL, &r);
    if (res != BGPBT_OK) return bgpbt__error(log, res, "pbt: scheduler state rejected: %s", bgpbt_result_string(res));
    memset(&c, 0, sizeof c);
    bgpbt__pbt_r_config(&r, &c);
    if (r.failed) return bgpbt__error(log, BGPBT_ERR_TRUNCATED, "pbt: scheduler state is truncated (configuration)");
    c.allocator = target->cfg.allocator;
    c.logger = target->cfg.logger;
    res = bgpbt__pbt_resolve(&c, &resolved);
    if (res != BGPBT_OK) return bgpbt__error(log, BGPBT_ERR_BAD_FORMAT, "pbt: scheduler state has an invalid configuration");
    /* rows are bounded by the payload size before any allocation */
    res = bgpbt__pbt_alloc(&resolved, 64, &s);
    if (res != BGPBT_OK) return res;
    for (i = 0; i < 4; ++i) st[i] = bgpbt_read_u64(&r);
    if (bgpbt_rng_set_state(&s->rng, st) != BGPBT_OK) bad = 1;
    s->phase = bgpbt_read_i32(&r); s->exploit_ready = bgpbt_read_i32(&r); s->switch_pending = bgpbt_read_i32(&r);
    s->round_index = bgpbt_read_i32(&r); s->round_open = bgpbt_read_i32(&r); s->round_kind = bgpbt_read_i32(&r);
    s->rung = bgpbt_read_i32(&r); s->n_rungs = bgpbt_read_i32(&r); s->next_id = bgpbt_read_i32(&r);
    s->total_steps = bgpbt__pbt_r_i64(&r);
    s->tr_len = bgpbt_read_f64(&r); s->tr_succ = bgpbt_read_i32(&r); s->tr_fail = bgpbt_read_i32(&r);
    s->generation = bgpbt_read_i32(&r); s->gp_epoch = bgpbt_read_i32(&r); s->stall = bgpbt_read_i32(&r);
    s->hpo_stall = bgpbt_read_i32(&r); s->gen_best = bgpbt_read_f64(&r); s->gen_start = bgpbt__pbt_r_i64(&r);
    if (s->phase < 0 || s->phase > BGPBT__PBT_DONE || s->round_kind < 0 || s->round_kind > 2 || s->next_id < 0 ||
        s->rung < 0 || s->n_rungs < 0 || s->rung > 64 || s->n_rungs > 64 || s->total_steps < 0 || !(s->tr_len > 0) ||
        s->generation < 0 || s->generation > BGPBT__PBT_MAX_GEN || s->round_index < 0)
        bad = 1;
    n = bgpbt_read_count(&r, (uint32_t)s->cap, 64);
    s->n_pop = (int)n;
    for (i = 0; i < s->n_pop; ++i) { bgpbt__pbt_r_member(&r, &s->pop[i]); bad |= !bgpbt__pbt_member_ok(&s->pop[i], s->next_id); }
    n = bgpbt_read_count(&r, (uint32_t)s->cap, 64);
    s->n_cand = (int)n;
    for (i = 0; i < s->n_cand; ++i) { bgpbt__pbt_r_member(&r, &s->cand[i]); bad |= !bgpbt__pbt_member_ok(&s->cand[i], s->next_id); }
    n = bgpbt_read_count(&r, (uint32_t)s->cap, 64);
    s->n_jobs = (int)n;
    for (i = 0; i < s->n_jobs; ++i) {
        int lim = s->round_kind == BGPBT_PBT_ROUND_TRAIN ? s->n_pop : s->n_cand;
        bgpbt__pbt_r_job(&r, &s->jobs[i]);
        s->job_member[i] = bgpbt_read_i32(&r);
        s->told[i] = (unsigned char)(bgpbt_read_i32(&r) != 0);
        s->res_ret[i] = bgpbt_read_f64(&r);
        s->res_steps[i] = bgpbt__pbt_r_i64(&r);
        s->res_failed[i] = (unsigned char)(bgpbt_read_i32(&r) != 0);
        if (s->job_member[i] < 0 || s->job_member[i] >= lim || s->res_steps[i] < 0) bad = 1;
    }
    n = bgpbt_read_count(&r, (uint32_t)s->cap * 3, 4);
    s->n_alive = (int)n;
    for (i = 0; i < s->n_alive; ++i) s->alive[i] = bgpbt_read_i32(&r);
    n = bgpbt_read_count(&r, (uint32_t)s->cap * 3, 4);
    s->n_release = (int)n;
    for (i = 0; i < s->n_release; ++i) s->release[i] = bgpbt_read_i32(&r);
    n = bgpbt_read_count(&r, (uint32_t)s->cap, 4);
    s->n_teachers = (int)n;
    for (i = 0; i < s->n_teachers; ++i) s->teachers[i] = bgpbt_read_i32(&r);
    n = bgpbt_read_count(&r, BGPBT__PBT_MAX_GEN + 1, 4 * BGPBT_PBT_MAX_ARCH);
    s->n_archive = (int)n;
    for (i = 0; i < s->n_archive; ++i)
        for (k = 0; k < BGPBT_PBT_MAX_ARCH; ++k) s->archive[i][k] = bgpbt_read_i32(&r);
    nr = bgpbt_read_count(&r, 1u << 26, 200);
    if (!r.failed && !bad && nr > 0) {
        int cap = s->cap_rows;
        while ((uint32_t)cap < nr + (uint32_t)s->cap) cap *= 2;
        bgpbt__cfree(&s->cfg.allocator, s->rows, (size_t)s->cap_rows, sizeof(bgpbt_pbt_row));
        s->rows = (bgpbt_pbt_row*)bgpbt__calloc(&s->cfg.allocator, (size_t)cap, sizeof(bgpbt_pbt_row));
        s->cap_rows = s->rows ? cap : 0;
        if (!s->rows) {
            bgpbt_pbt_destroy(s);
            return bgpbt__error(log, BGPBT_ERR_OUT_OF_MEMORY, "pbt: out of memory loading the log");
        }
        for (i = 0; i < (int)nr; ++i) {
            bgpbt__pbt_r_row(&r, &s->rows[i]);
            if (s->rows[i].source < 0 || s->rows[i].source > 7 || s->rows[i].arch_source < 0 ||
                s->rows[i].arch_source > 7 || s->rows[i].kind < 0 || s->rows[i].kind > 2)
                bad = 1;
        }
        s->n_rows = (int)nr;
    }
    if (r.failed || bad || r.pos != r.size) {
        bgpbt_pbt_destroy(s);
        return bgpbt__error(log, r.failed ? BGPBT_ERR_TRUNCATED : BGPBT_ERR_BAD_FORMAT,
                            "pbt: scheduler state is %s", r.failed ? "truncated" : "inconsistent");
    }
    /* swap: the target takes the loaded state, the old state is freed */
    {
        bgpbt_pbt tmp = *target;
        *target = *s;
        *s = tmp;
        bgpbt_pbt_destroy(s);
    }
    return BGPBT_OK;
}

/* ---- CSV log and plots ---------------------------------------------------------------------- */

BGPBT__PRIVATE const char* bgpbt__pbt_kind_name(int kind) {
    return kind == BGPBT_PBT_ROUND_INIT ? "init" : kind == BGPBT_PBT_ROUND_TRAIN ? "train" : "distill";
}

BGPBT_API bgpbt_result bgpbt_pbt_write_csv(const bgpbt_pbt* s, const char* path) {
    bgpbt_text t;
    bgpbt_result r;
    int i, k;
    if (!s || !path) return BGPBT_ERR_INVALID_ARGUMENT;
    bgpbt_text_init(&t, &s->cfg.allocator);
    bgpbt_text_append(&t, "round,kind,agent,slot,parent,teacher,generation,gp_epoch,source,arch_source,failed,"
                          "steps_before,steps,total_steps,return_before,return");
    for (k = 0; k < s->cfg.n_hp; ++k) bgpbt_text_printf(&t, ",%s", s->cfg.hp[k].name);
    for (k = 0; k < s->cfg.n_arch; ++k) bgpbt_text_printf(&t, ",%s", s->cfg.arch[k].name);
    bgpbt_text_append(&t, "\n");
    for (i = 0; i < s->n_rows; ++i) {
        const bgpbt_pbt_row* o = &s->rows[i];
        bgpbt_text_printf(&t, "%d,%s,%d,%d,%d,%d,%d,%d,%s,%s,%d,%lld,%lld,%lld,", o->round, bgpbt__pbt_kind_name(o->kind),
                          o->agent, o->slot, o->parent, o->teacher, o->generation, o->gp_epoch,
                          bgpbt_pbt_source_name(o->source), bgpbt_pbt_source_name(o->arch_source), o->failed,
                          o->steps_before, o->steps, o->total_steps);
        bgpbt__text_num(&t, o->ret_before);
        bgpbt_text_append(&t, ",");
        bgpbt__text_num(&t, o->ret);
        for (k = 0; k < s->cfg.n_hp; ++k) { bgpbt_text_append(&t, ","); bgpbt__text_num(&t, o->hp[k]); }
        for (k = 0; k < s->cfg.n_arch; ++k) bgpbt_text_printf(&t, ",%d", o->arch[k]);
        bgpbt_text_append(&t, "\n");
    }
    r = bgpbt_text_write_file(&t, path);
    bgpbt_text_free(&t);
    if (r != BGPBT_OK) return bgpbt__error(&s->cfg.logger, r, "pbt: cannot write the CSV log '%s'", path);
    return BGPBT_OK;
}

/* The lineage of the current best agent, oldest row first: follows parents (exploit copies)
   and, for students, their teacher. Returns the count written to idx. */
BGPBT__PRIVATE int bgpbt__pbt_lineage(const bgpbt_pbt* s, int* idx, int max) {
    const bgpbt_pbt_row* row = NULL;
    int n = 0, i, cur, round;
    if (bgpbt_pbt_best(s, NULL, NULL, &row) != BGPBT_OK || !row) return 0;
    cur = (int)(row - s->rows);
    while (cur >= 0 && n < max) {
        const bgpbt_pbt_row* o = &s->rows[cur];
        int want = o->parent >= 0 ? o->parent : o->teacher;
        idx[n++] = cur;
        if (want < 0 && o->kind != BGPBT_PBT_ROUND_DISTILL) break;
        if (want < 0) break;
        round = o->round;
        cur = -1;
        for (i = (int)(o - s->rows) - 1; i >= 0; --i)
            if (s->rows[i].round < round && s->rows[i].agent == want) { cur = i; break; }
    }
    for (i = 0; i < n / 2; ++i) { int t = idx[i]; idx[i] = idx[n - 1 - i]; idx[n - 1 - i] = t; }
    return n;
}

BGPBT_API bgpbt_result bgpbt_pbt_write_plots(const bgpbt_pbt* s, const char* prefix) {
    const bgpbt_pbt_config* c;
    const bgpbt_allocator* a;
    char path[4096];
    double* buf = NULL;
    int* idx = NULL;
    size_t nb;
    bgpbt_result r = BGPBT_OK;
    int n, i, k, slot, n_series, nl, max_slot = 0, max_round = 0;
    bgpbt_plot_series* series = NULL;
    bgpbt_plot_panel panels[BGPBT_PBT_MAX_HP + BGPBT_PBT_MAX_ARCH + 2];
    if (!s || !prefix) return BGPBT_ERR_INVALID_ARGUMENT;
    if (strlen(prefix) + 16 > sizeof path) return BGPBT_ERR_LIMIT;
    c = &s->cfg;
    a = &c->allocator;
    n = s->n_rows;
    if (n == 0) return bgpbt__error(&c->logger, BGPBT_ERR_WRONG_ORDER, "pbt: nothing to plot yet");
    for (i = 0; i < n; ++i) {
        if (s->rows[i].slot > max_slot) max_slot = s->rows[i].slot;
        if (s->rows[i].round > max_round) max_round = s->rows[i].round;
    }
    /* scratch: per series x and y for every row, several times over */
    nb = (size_t)n * 2 * (size_t)(max_slot + 2 + BGPBT__PBT_MAX_GEN + 2);
    buf = (double*)bgpbt__calloc(a, nb, sizeof(double));
    idx = (int*)bgpbt__calloc(a, (size_t)n + 1, sizeof(int));
    series = (bgpbt_plot_series*)bgpbt__calloc(a, (size_t)(max_slot + 2 + BGPBT__PBT_MAX_GEN + 2), sizeof(bgpbt_plot_series));
    if (!buf || !idx || !series) { r = BGPBT_ERR_OUT_OF_MEMORY; goto done; }

    /* 1. returns: each slot's return over its lineage steps, the best per round, and the
          best so far against the whole run's env steps */
    {
        double* bx = buf;
        double* by = buf + n;
        double* tx = buf + 2 * (size_t)n;
        double* ty = buf + 3 * (size_t)n;
        double best_so_far = -HUGE_VAL;
        int nbest = 0, nt = 0, rd;
        double* p = buf + 4 * (size_t)n;
        n_series = 0;
        for (slot = 0; slot <= max_slot && slot < 64; ++slot) {
            int m = 0;
            double* sx = p;
            double* sy = p + n;
            for (i = 0; i < n; ++i) {
                const bgpbt_pbt_row* o = &s->rows[i];
                if (o->kind != BGPBT_PBT_ROUND_TRAIN || o->slot != slot) continue;
                sx[m] = (double)o->steps;
                sy[m] = o->failed ? (double)NAN : o->ret;
                m++;
            }
            if (m == 0) continue;
            memset(&series[n_series], 0, sizeof series[0]);
            series[n_series].x = sx;
            series[n_series].y = sy;
            series[n_series].n = m;
            series[n_series].width = 1.0;
            series[n_series].style = BGPBT_PLOT_POINTS;
            n_series++;
            p += 2 * (size_t)n;
        }
        for (rd = 1; rd <= max_round; ++rd) {
            double b = -HUGE_VAL, x = 0, tot = 0;
            int any = 0;
            for (i = 0; i < n; ++i) {
                const bgpbt_pbt_row* o = &s->rows[i];
                if (o->round != rd) continue;
                tot = (double)o->total_steps;
                if (o->kind == BGPBT_PBT_ROUND_DISTILL || o->failed) continue;
                if (!any || o->ret > b) { b = o->ret; x = (double)o->steps; }
                any = 1;
            }
            if (any) { bx[nbest] = x; by[nbest] = b; nbest++; if (b > best_so_far) best_so_far = b; }
            if (best_so_far > -HUGE_VAL && tot > 0) { tx[nt] = tot; ty[nt] = best_so_far; nt++; }
        }
        memset(&series[n_series], 0, sizeof series[0]);
        series[n_series].label = "best of round";
        series[n_series].x = bx;
        series[n_series].y = by;
        series[n_series].n = nbest;
        series[n_series].color = 0x000000;
        series[n_series].width = 2.0;
        n_series++;
        memset(panels, 0, sizeof panels);
        panels[0].title = "population returns (points: agents, by slot)";
        panels[0].xlabel = "agent env steps (lineage)";
        panels[0].ylabel = "return";
        panels[0].series = series;
        panels[0].n_series = n_series;
        memset(&series[n_series], 0, sizeof series[0]);
        series[n_series].label = "best so far";
        series[n_series].x = tx;
        series[n_series].y = ty;
        series[n_series].n = nt;
        series[n_series].color = 0xd62728;
        series[n_series].style = BGPBT_PLOT_STEPS;
        series[n_series].width = 2.0;
        panels[1].title = "best return against the run's env steps (all agents, init and distillation)";
        panels[1].xlabel = "total env steps";
        panels[1].ylabel = "return";
        panels[1].series = &series[n_series];
        panels[1].n_series = 1;
        sprintf(path, "%sreturns.svg", prefix);
        r = bgpbt_svg_write_plots(path, bgpbt_pbt_method_name(c->method), panels, 2, 760, 320, a);
        if (r != BGPBT_OK) goto done;
    }

    /* 2. the best agent's lineage: hyperparameters (and return) over steps */
    nl = bgpbt__pbt_lineage(s, idx, n);
    if (nl > 0) {
        double* x = buf;
        double* ys = buf + (size_t)nl + 1;
        int np = 0;
        for (i = 0; i < nl; ++i) x[i] = (double)s->rows[idx[i]].steps_before;
        x[nl] = (double)s->rows[idx[nl - 1]].steps;
        memset(panels, 0, sizeof panels);
        for (k = 0; k <= c->n_hp; ++k) {
            double* y = ys + (size_t)k * ((size_t)nl + 1);
            if (k < c->n_hp) {
                for (i = 0; i < nl; ++i) y[i] = s->rows[idx[i]].hp[k];
                y[nl] = y[nl - 1];
            } else {
                for (i = 0; i < nl; ++i) y[i] = s->rows[idx[i]].failed ? (double)NAN : s->rows[idx[i]].ret;
                y[nl] = y[nl - 1];
            }
            memset(&series[k], 0, sizeof series[0]);
            series[k].x = x;
            series[k].y = y;
            series[k].n = nl + 1;
            series[k].style = k < c->n_hp ? BGPBT_PLOT_STEPS : BGPBT_PLOT_LINE;
            series[k].width = 2.0;
            panels[np].title = k < c->n_hp ? c->hp[k].name : "return (end of each interval)";
            panels[np].xlabel = "agent env steps (lineage)";
            panels[np].log_y = k < c->n_hp ? c->hp[k].log : 0;
            panels[np].series = &series[k];
            panels[np].n_series = 1;
            np++;
        }
        sprintf(path, "%sschedule.svg", prefix);
        r = bgpbt_svg_write_plots(path, "hyperparameter schedule of the best agent's lineage", panels, np, 760, 200, a);
        if (r != BGPBT_OK) goto done;
    }

    /* 3. architecture of the members of each generation (training rounds), one panel per dim */
    if (c->n_arch > 0) {
        int np = 0, g, max_gen = 0, ns = 0;
        double* p = buf;
        for (i = 0; i < n; ++i) if (s->rows[i].generation > max_gen) max_gen = s->rows[i].generation;
        if (max_gen > BGPBT__PBT_MAX_GEN) max_gen = BGPBT__PBT_MAX_GEN;
        memset(panels, 0, sizeof panels);
        for (k = 0; k < c->n_arch && k < 8; ++k) {
            int first = ns;
            for (g = 0; g <= max_gen; ++g) {
                int m = 0;
                double* sx = p;
                double* sy = p + n;
                static const char* const gl[4] = {"generation 0", "generation 1", "generation 2", "generation 3+"};
                if (ns >= max_slot + 2 + BGPBT__PBT_MAX_GEN + 2) break;
                for (i = 0; i < n; ++i) {
                    const bgpbt_pbt_row* o = &s->rows[i];
                    if (o->kind == BGPBT_PBT_ROUND_DISTILL || o->generation != g) continue;
                    sx[m] = (double)o->round;
                    sy[m] = (double)o->arch[k] + 0.12 * ((double)(o->slot % 5) - 2.0) / 2.0; /* jitter: members apart */
                    m++;
                }
                if (m == 0) continue;
                if ((size_t)(p - buf) + 2 * (size_t)n > nb) break;
                memset(&series[ns], 0, sizeof series[0]);
                series[ns].label = k == 0 ? gl[g < 3 ? g : 3] : NULL;
                series[ns].x = sx;
                series[ns].y = sy;
                series[ns].n = m;
                series[ns].style = BGPBT_PLOT_POINTS;
                series[ns].width = 1.0;
                series[ns].color = (uint32_t)(g == 0 ? 0x1f77b4 : g == 1 ? 0xff7f0e : g == 2 ? 0x2ca02c : 0xd62728);
                ns++;
                p += 2 * (size_t)n;
            }
            panels[np].title = c->arch[k].name;
            panels[np].xlabel = "round";
            panels[np].series = &series[first];
            panels[np].n_series = ns - first;
            np++;
        }
        sprintf(path, "%sarch.svg", prefix);
        r = bgpbt_svg_write_plots(path, "architecture of the population per generation", panels, np, 760, 180, a);
    }
done:
    bgpbt__cfree(a, buf, nb, sizeof(double));
    bgpbt__cfree(a, idx, (size_t)n + 1, sizeof(int));
    bgpbt__cfree(a, series, (size_t)(max_slot + 2 + BGPBT__PBT_MAX_GEN + 2), sizeof(bgpbt_plot_series));
    if (r != BGPBT_OK) return bgpbt__error(&c->logger, r, "pbt: cannot write the plots '%s*.svg'", prefix);
    return BGPBT_OK;
}

#ifdef __cplusplus
}
#endif
#endif /* BGPBT_IMPLEMENTATION */

/*
   [license]
   ------------------------------------------------------------------------------------------
   This software is available under 2 licenses -- choose whichever you prefer.
   ------------------------------------------------------------------------------------------
   ALTERNATIVE A - MIT License
   Copyright (c) 2026 the bgpbt.h authors
   Permission is hereby granted, free of charge, to any person obtaining a copy of this
   software and associated documentation files (the "Software"), to deal in the Software
   without restriction, including without limitation the rights to use, copy, modify, merge,
   publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
   to whom the Software is furnished to do so, subject to the following conditions:
   The above copyright notice and this permission notice shall be included in all copies or
   substantial portions of the Software.
   THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
   INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
   PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
   FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
   OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
   DEALINGS IN THE SOFTWARE.
   ------------------------------------------------------------------------------------------
   ALTERNATIVE B - Public Domain (www.unlicense.org)
   This is free and unencumbered software released into the public domain.
   Anyone is free to copy, modify, publish, use, compile, sell, or distribute this software,
   either in source code form or as a compiled binary, for any purpose, commercial or
   non-commercial, and by any means.
   In jurisdictions that recognize copyright laws, the author or authors of this software
   dedicate any and all copyright interest in the software to the public domain. We make this
   dedication for the benefit of the public at large and to the detriment of our heirs and
   successors. We intend this dedication to be an overt act of relinquishment in perpetuity of
   all present and future rights to this software under copyright law.
   THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
   INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
   PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS BE LIABLE FOR ANY CLAIM,
   DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING
   FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
   SOFTWARE.
   ------------------------------------------------------------------------------------------
*/
