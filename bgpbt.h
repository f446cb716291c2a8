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

/* ============================================================================================
   [decl.linalg] linalg: fp32 GEMM kernels (MLP) and fp64 Cholesky / triangular solves (GP)
   ============================================================================================ */

/* ---- [decl.linalg.gemm] fp32 GEMM ---------------------------------------------------------- */

/* ---- [decl.linalg.chol] fp64 Cholesky and triangular solves -------------------------------- */

/* Dense fp64 Cholesky for the Gaussian process. Matrices are row-major with a leading
   dimension (row stride) lda >= n; only the lower triangle (j <= i) is read or written, the
   strict upper triangle is left untouched. The factorisation is blocked (panels of 16
   columns, 4x4 register tiles of dot products on AVX2/AVX-512 fp64 vectors, a scalar path
   otherwise). It runs on one thread unless the implementation file defines BGPBT_CHOL_PAR_N
   (a size from which to use OpenMP): its two barriers per panel cost a scheduler time slice
   each on a machine with more runnable threads than cores. bgpbt_linalg_lower_inverse uses
   OpenMP from n >= 128. Every element is computed by the same code whatever the thread count,
   so results are bit-identical for any number of threads.

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
   (our own, in the raw coordinates; memory 8, Armijo backtracking, stops when an iteration
   gains less than 1e-6 relatively or the gradient is below 1e-5) from the current values (a
   warm start) plus `fit_restarts` random starts (at most 7), which run on separate OpenMP
   threads, and keeps the best; if every start fails the previous hyperparameters are kept.

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
   every suggestion on the last max_data observations. bgpbt_bo_config_default sets
   gp.ard = 1, gp.fit_restarts = 1 and gp.fit_max_iter = 50 (the warm start does most of the
   work from one suggestion to the next).

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
   records no observation (the GP never sees the NaN, the best is unchanged); the point leaves
   the pending set, counts as a trust-region failure and is remembered as a failed point of the
   region (the last 16): at each suggestion these enter the GP with the worst y of the region's
   data, so the search moves away from crashing configurations (CASMOPOLITAN maps NaN to a
   number for the same reason). bgpbt_bo_set_data rejects the whole set (BGPBT_ERR_NOT_FINITE).

   PB2 WITH THIS LAYER. gp = bgpbt_gp_config_pb2(0) (SE, shared lengthscale, eps <= 0.5,
   z-scored y clipped to [-2, 2]), time_varying = 1 with t = PB2's min-max normalised time,
   a context dim (auto-ranged) for the reward before the interval, acq = LCB_VAR on
   y = -(reward change per step) with request.beta = PB2's kappa, tr.global = 1 (the whole
   cube), n_restarts = 10; data through bgpbt_bo_set_data and the running trials as
   request.pending (their variance reduction is PB2's second GP). The acquisition optimiser is
   ours (screened candidates + projected Adam), not scipy's L-BFGS-B.

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
    double beta;                 /* > 0: overrides config.beta for this request (PB2's kappa
                                    grows with the data) */
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
/* OpenMP only from n >= 128. The factorisation itself has two barriers per panel of 16
   columns; on a busy machine (more runnable threads than cores) a barrier can cost a scheduler
   time slice, which made a threaded n = 1000 factorisation 50x slower than the serial one in
   our measurements, so it runs on one thread unless BGPBT_CHOL_PAR_N (a size) is defined lower.
   The GP fit gets its parallelism from running the restarts on separate threads instead. */
#ifndef BGPBT_CHOL_PAR_N
#define BGPBT_CHOL_PAR_N 1000000
#endif

BGPBT_API bgpbt_result bgpbt_linalg_cholesky(double* a, int n, int lda) {
    int j0, fail = 0;
    if (n < 0 || lda < n || (n > 0 && !a)) return BGPBT_ERR_INVALID_ARGUMENT;
    for (j0 = 0; j0 < n && !fail; j0 += BGPBT__CHOL_NB) {
        int jb = n - j0 < BGPBT__CHOL_NB ? n - j0 : BGPBT__CHOL_NB;
        int i0, i, j, k;
        /* 1. panel update with the finished columns k < j0 (rows j0..n-1, cols j0..j0+jb-1) */
        if (j0 > 0) {
            BGPBT_OMP(parallel for schedule(static) if (n >= BGPBT_CHOL_PAR_N))
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
        /* 3. the rows below the diagonal block: x L_D^T = row, solved column by column with
           axpy updates along the row (the block is copied transposed, so they are contiguous
           and vectorise), 4 rows interleaved so their dependency chains overlap */
        {
            double dt[BGPBT__CHOL_NB * BGPBT__CHOL_NB], inv[BGPBT__CHOL_NB];
            int jj, kk;
            for (jj = 0; jj < jb; ++jj) {
                inv[jj] = 1.0 / a[(size_t)(j0 + jj) * lda + j0 + jj];
                for (kk = 0; kk < jb; ++kk) dt[jj * BGPBT__CHOL_NB + kk] = kk > jj ? a[(size_t)(j0 + kk) * lda + j0 + jj] : 0.0;
            }
            BGPBT_OMP(parallel for schedule(static) if (n >= BGPBT_CHOL_PAR_N))
            for (i = j0 + jb; i < n; i += 4) {
                double* r4[4];
                int rr, nr = n - i < 4 ? n - i : 4, q, c;
                for (rr = 0; rr < nr; ++rr) r4[rr] = a + (size_t)(i + rr) * lda + j0;
                for (q = 0; q < jb; ++q) {
                    const double* dq = dt + q * BGPBT__CHOL_NB;
                    for (rr = 0; rr < nr; ++rr) {
                        double* ri = r4[rr];
                        double x = ri[q] * inv[q];
                        ri[q] = x;
#if defined(BGPBT__D4)
                        if (jb == BGPBT__CHOL_NB) { /* full panel: dq is 0 up to q, so update all 16 */
                            __m256d xv = _mm256_set1_pd(x);
                            _mm256_storeu_pd(ri, _mm256_fnmadd_pd(xv, _mm256_loadu_pd(dq), _mm256_loadu_pd(ri)));
                            _mm256_storeu_pd(ri + 4, _mm256_fnmadd_pd(xv, _mm256_loadu_pd(dq + 4), _mm256_loadu_pd(ri + 4)));
                            _mm256_storeu_pd(ri + 8, _mm256_fnmadd_pd(xv, _mm256_loadu_pd(dq + 8), _mm256_loadu_pd(ri + 8)));
                            _mm256_storeu_pd(ri + 12, _mm256_fnmadd_pd(xv, _mm256_loadu_pd(dq + 12), _mm256_loadu_pd(ri + 12)));
                            ri[q] = x;
                            continue;
                        }
#endif
                        for (c = q + 1; c < jb; ++c) ri[c] -= x * dq[c];
                    }
                }
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
#define BGPBT__GP_MAXWS 8 /* fit restarts run in parallel, each with its own workspace */

/* scratch of one likelihood evaluation: K then K^{-1}, L, L^{-T}, per-row gradients + alpha,
   scaled features */
typedef struct bgpbt__gpws { double *Kw, *Lw, *Mw, *g, *z, *Kc, *Dc; } bgpbt__gpws;
/* Kc, Dc: k and s k_t dk_x/dr^2 of every pair, cached by the kernel-matrix pass for the gradient
   pass (continuous kernels; with categorical dims the gradient pass recomputes the pairs) */
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
    double *L, *Linv, *Lp, *Linvp, *Kw, *Lw, *Mw, *grow_buf, *kc, *z; /* Kw..z: ws[0] */
    double* zf; /* features of the factored rows (data + pending) at the current hyperparameters */
    int nws;
    bgpbt__gpws ws[BGPBT__GP_MAXWS];
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
    {
        int w;
        for (w = 0; w < gp->nws; ++w) {
            bgpbt__cfree(A, gp->ws[w].Kw, c2, sizeof(double));
            bgpbt__cfree(A, gp->ws[w].Lw, c2, sizeof(double));
            bgpbt__cfree(A, gp->ws[w].Mw, c2, sizeof(double));
            bgpbt__cfree(A, gp->ws[w].g, c, sizeof(double) * BGPBT__GP_MAXP);
            bgpbt__cfree(A, gp->ws[w].z, c, sizeof(double) * (size_t)(gp->dim + 1));
            bgpbt__cfree(A, gp->ws[w].Kc, c2, sizeof(double));
            bgpbt__cfree(A, gp->ws[w].Dc, c2, sizeof(double));
            memset(&gp->ws[w], 0, sizeof gp->ws[w]);
        }
    }
    bgpbt__cfree(A, gp->kc, c * BGPBT__GP_KCROWS, sizeof(double));
    bgpbt__cfree(A, gp->zf, c, sizeof(double) * (size_t)(gp->dim + 1));
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
    tmp.kc = (double*)bgpbt__calloc(A, c * BGPBT__GP_KCROWS, sizeof(double));
    tmp.zf = (double*)bgpbt__calloc(A, c, sizeof(double) * (size_t)(gp->dim + 1));
    tmp.nws = gp->nws;
    {
        int w, bad = 0;
        for (w = 0; w < tmp.nws; ++w) {
            tmp.ws[w].Kw = (double*)bgpbt__calloc(A, c2, sizeof(double));
            tmp.ws[w].Lw = (double*)bgpbt__calloc(A, c2, sizeof(double));
            tmp.ws[w].Mw = (double*)bgpbt__calloc(A, c2, sizeof(double));
            tmp.ws[w].g = (double*)bgpbt__calloc(A, c, sizeof(double) * BGPBT__GP_MAXP);
            tmp.ws[w].z = (double*)bgpbt__calloc(A, c, sizeof(double) * (size_t)(gp->dim + 1));
            tmp.ws[w].Kc = (double*)bgpbt__calloc(A, c2, sizeof(double));
            tmp.ws[w].Dc = (double*)bgpbt__calloc(A, c2, sizeof(double));
            if (!tmp.ws[w].Kw || !tmp.ws[w].Lw || !tmp.ws[w].Mw || !tmp.ws[w].g || !tmp.ws[w].z || !tmp.ws[w].Kc || !tmp.ws[w].Dc) bad = 1;
        }
        if (bad) tmp.kc = (bgpbt__cfree(A, tmp.kc, c * BGPBT__GP_KCROWS, sizeof(double)), (double*)NULL);
    }
    if (!tmp.X || !tmp.t || !tmp.yraw || !tmp.y || !tmp.alpha || !tmp.L || !tmp.Linv || !tmp.Lp ||
        !tmp.Linvp || !tmp.kc || !tmp.zf) {
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
    memcpy(gp->ws, tmp.ws, sizeof gp->ws);
    gp->Kw = tmp.ws[0].Kw; gp->Lw = tmp.ws[0].Lw; gp->Mw = tmp.ws[0].Mw; gp->grow_buf = tmp.ws[0].g;
    gp->kc = tmp.kc; gp->z = tmp.ws[0].z; gp->zf = tmp.zf;
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
        c = 0;
#if defined(BGPBT__D4)
        if (K->ncont >= 8) {
            __m256d s = _mm256_setzero_pd();
            double t4[4];
            for (; c + 4 <= K->ncont; c += 4) {
                __m256d d = _mm256_sub_pd(_mm256_loadu_pd(za + c), _mm256_loadu_pd(zb + c));
                s = _mm256_fmadd_pd(d, d, s);
            }
            _mm256_storeu_pd(t4, s);
            r2 = (t4[0] + t4[1]) + (t4[2] + t4[3]);
        }
#endif
        for (; c < K->ncont; ++c) { double d = za[c] - zb[c]; r2 += d * d; }
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
BGPBT__PRIVATE void bgpbt__gp_feats_to(const bgpbt_gp* gp, const bgpbt__gpk* K, int rows, double* z) {
    int i, zs = gp->dim + 1;
    for (i = 0; i < rows; ++i) bgpbt__gp_feat(gp, K, gp->X + (size_t)i * gp->dim, z + (size_t)i * zs);
}
BGPBT__PRIVATE void bgpbt__gp_feats(bgpbt_gp* gp, const bgpbt__gpk* K, int rows) { bgpbt__gp_feats_to(gp, K, rows, gp->zf); }

/* lower triangle of K(rows x rows) + noise on the diagonal of the first n_noise rows... all rows
   get the noise (pending points are fantasy observations with the same noise) */
BGPBT__PRIVATE void bgpbt__gp_kmat(const bgpbt_gp* gp, const bgpbt__gpk* K, double noise, int rows, const double* z, double* out) {
    int i, zs = gp->dim + 1;
    BGPBT_OMP(parallel for schedule(dynamic, 16) if (rows >= 128))
    for (i = 0; i < rows; ++i) {
        int j;
        bgpbt__gpp p;
        const double* zi = z + (size_t)i * zs;
        double* row = out + (size_t)i * gp->cap;
        for (j = 0; j <= i; ++j) {
            bgpbt__gp_pair(K, zi, z + (size_t)j * zs, gp->t[i] - gp->t[j], &p);
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
    bgpbt__gp_kmat(gp, &K, gp->h.noise, rows, gp->zf, gp->Kw);
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
    if (c.fit_restarts > BGPBT__GP_MAXWS - 1) c.fit_restarts = BGPBT__GP_MAXWS - 1;
    if (c.max_points <= 0) c.max_points = 4096;
    gp->cfg = c;
    gp->nws = 1 + c.fit_restarts;
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
/* The gradient pass: needs the value pass (bgpbt__gp_lml with grad == NULL) just done on the
   same raw parameters in the same workspace (it reuses L, alpha, the features and the pair
   cache), so a line search can reject a step without paying for K^{-1}. */
BGPBT__PRIVATE void bgpbt__gp_lml_grad(const bgpbt_gp* gp, const bgpbt__gpws* ws, const double* raw, double* grad);

BGPBT__PRIVATE bgpbt_result bgpbt__gp_lml(const bgpbt_gp* gp, const bgpbt__gpws* ws, const double* raw, double* lml, double* grad) {
    bgpbt_gp_hypers h;
    bgpbt__gpk K;
    int n = gp->n, ld = gp->cap, i, P = gp->np, zs = gp->dim + 1;
    double logdet = 0.0, quad = 0.0, jit;
    double* a = ws->g; /* per-row gradient partial sums, then alpha */
    double* alpha;
    bgpbt_result r;
    int cache;
    bgpbt__gp_decode(gp, raw, &h);
    bgpbt__gp_consts(gp, &h, &K);
    bgpbt__gp_feats_to(gp, &K, n, ws->z);
    cache = gp->ncat == 0;
    if (!cache) bgpbt__gp_kmat(gp, &K, h.noise, n, ws->z, ws->Kw);
    else {
        BGPBT_OMP(parallel for schedule(dynamic, 16) if (n >= 128))
        for (i = 0; i < n; ++i) {
            int j;
            bgpbt__gpp p;
            const double* zi = ws->z + (size_t)i * zs;
            double *row = ws->Kw + (size_t)i * ld, *kc = ws->Kc + (size_t)i * ld, *dc = ws->Dc + (size_t)i * ld;
            for (j = 0; j <= i; ++j) {
                bgpbt__gp_pair(&K, zi, ws->z + (size_t)j * zs, gp->t[i] - gp->t[j], &p);
                row[j] = kc[j] = p.k;
                dc[j] = K.s * p.kt * p.dkx_dr2;
            }
            row[i] += h.noise;
        }
    }
    r = bgpbt_linalg_cholesky_jitter(ws->Kw, ld, ws->Lw, ld, n, &jit, NULL);
    if (r != BGPBT_OK) return r;
    alpha = a + (size_t)n * P; /* grow_buf has cap * MAXP >= n * (P + 1) entries (P <= 68) */
    for (i = 0; i < n; ++i) alpha[i] = gp->y[i] - h.mean;
    bgpbt_linalg_solve_lower(ws->Lw, ld, n, alpha);
    for (i = 0; i < n; ++i) quad += alpha[i] * alpha[i];
    for (i = 0; i < n; ++i) logdet += log(ws->Lw[(size_t)i * ld + i]);
    bgpbt_linalg_solve_lower_t(ws->Lw, ld, n, alpha);
    *lml = -0.5 * quad - logdet - 0.5 * n * 1.8378770664093454836;
    if (grad) bgpbt__gp_lml_grad(gp, ws, raw, grad);
    return BGPBT_OK;
}

BGPBT__PRIVATE void bgpbt__gp_lml_grad(const bgpbt_gp* gp, const bgpbt__gpws* ws, const double* raw, double* grad) {
    bgpbt_gp_hypers h;
    bgpbt__gpk K;
    int n = gp->n, ld = gp->cap, i, P = gp->np, zs = gp->dim + 1;
    double* a = ws->g;
    double* alpha = a + (size_t)n * P;
    int cache = gp->ncat == 0;
    bgpbt__gp_decode(gp, raw, &h);
    bgpbt__gp_consts(gp, &h, &K);
    /* W = alpha alpha^T - K^{-1} (lower), then dLML/dp = 0.5 sum_ij W_ij dK_ij/dp */
    bgpbt_linalg_lower_inverse(ws->Lw, ld, n, ws->Mw, ld);
    bgpbt__gp_kinv(ws->Mw, ld, n, ws->Kw);
    BGPBT_OMP(parallel for schedule(dynamic, 8) if (n >= 64))
    for (i = 0; i < n; ++i) {
        double* g = a + (size_t)i * P;
        const double* zi = ws->z + (size_t)i * zs;
        const double* Wr = ws->Kw + (size_t)i * ld;
        int j, c, q;
        bgpbt__gpp p;
        for (q = 0; q < P; ++q) g[q] = 0.0;
        if (cache) { /* continuous kernel: k and its r^2-derivative come from the cache */
            const double *kc = ws->Kc + (size_t)i * ld, *dc = ws->Dc + (size_t)i * ld;
            double gs = 0.0, ge = 0.0, gl = 0.0, acc[BGPBT_GP_MAX_DIM + 4];
            int ard = gp->n_ls > 1, nc = gp->ncont;
            if (ard) for (c = 0; c < nc; ++c) acc[c] = 0.0;
            for (j = 0; j <= i; ++j) {
                const double* zj = ws->z + (size_t)j * zs;
                double w = (alpha[i] * alpha[j] - Wr[j]) * (i == j ? 0.5 : 1.0);
                double kw = w * kc[j], base = -2.0 * w * dc[j];
                gs += kw;
                if (gp->i_eps >= 0) ge += kw * fabs(gp->t[i] - gp->t[j]);
                if (ard) {
                    c = 0;
#if defined(BGPBT__D4)
                    {
                        __m256d bv = _mm256_set1_pd(base);
                        for (; c + 4 <= nc; c += 4) {
                            __m256d d = _mm256_sub_pd(_mm256_loadu_pd(zi + c), _mm256_loadu_pd(zj + c));
                            _mm256_storeu_pd(acc + c, _mm256_fmadd_pd(_mm256_mul_pd(bv, d), d, _mm256_loadu_pd(acc + c)));
                        }
                    }
#endif
                    for (; c < nc; ++c) { double d = zi[c] - zj[c]; acc[c] += base * d * d; }
                } else if (gp->n_ls) { double r2 = 0.0; for (c = 0; c < gp->ncont; ++c) { double d = zi[c] - zj[c]; r2 += d * d; } gl += base * r2; }
            }
            if (gp->i_scale >= 0) g[gp->i_scale] = gs;
            if (gp->i_noise >= 0) g[gp->i_noise] = (alpha[i] * alpha[i] - Wr[i]) * 0.5 * h.noise;
            if (gp->i_eps >= 0) g[gp->i_eps] = ge * 0.5 * K.dlog1me;
            if (gp->n_ls == 1) g[gp->i_ls] = gl;
            if (ard) for (c = 0; c < nc; ++c) g[gp->i_ls + c] = acc[c];
            continue;
        }
        for (j = 0; j <= i; ++j) {
            const double* zj = ws->z + (size_t)j * zs;
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
}

BGPBT_API bgpbt_result bgpbt_gp_lml(bgpbt_gp* gp, const double* raw, double* lml, double* grad) {
    double v = 0.0;
    bgpbt_result r;
    if (!gp || !raw || !lml) return BGPBT_ERR_INVALID_ARGUMENT;
    if (gp->n == 0) { *lml = 0.0; if (grad) memset(grad, 0, (size_t)gp->np * sizeof(double)); return BGPBT_OK; }
    r = bgpbt__gp_lml(gp, &gp->ws[0], raw, &v, grad);
    *lml = v;
    return r;
}

/* negative LML as the L-BFGS objective; +inf when the matrix cannot be factored */
BGPBT__PRIVATE double bgpbt__gp_obj(const bgpbt_gp* gp, const bgpbt__gpws* ws, const double* u, int* evals) {
    double v;
    (*evals)++;
    if (bgpbt__gp_lml(gp, ws, u, &v, NULL) != BGPBT_OK || !(v - v == 0.0)) return HUGE_VAL;
    return -v;
}
/* gradient of the objective at u, right after bgpbt__gp_obj(u) succeeded; 0 if not finite */
BGPBT__PRIVATE int bgpbt__gp_obj_grad(const bgpbt_gp* gp, const bgpbt__gpws* ws, const double* u, double* g) {
    int q;
    bgpbt__gp_lml_grad(gp, ws, u, g);
    for (q = 0; q < gp->np; ++q) {
        g[q] = -g[q];
        if (!(g[q] - g[q] == 0.0)) return 0;
    }
    return 1;
}

#define BGPBT__LBFGS_M 8
/* Stop when an iteration improves the negative LML by less than this, relatively. scipy's
   default (factr 1e7 -> 2.2e-9) spends many iterations creeping towards a box bound, which the
   smooth transform here makes asymptotic; 1e-6 of the LML is far below what changes a
   prediction. */
#ifndef BGPBT__LBFGS_FTOL
#define BGPBT__LBFGS_FTOL 1e-6
#endif

/* Minimise the negative LML from x (in place). Returns the final value (inf if none finite). */
BGPBT__PRIVATE double bgpbt__gp_lbfgs(const bgpbt_gp* gp, const bgpbt__gpws* ws, double* x, int maxit, int* evals, int* iters) {
    int P = gp->np, it, k, hist = 0, head = 0;
    double g[BGPBT__GP_MAXP], d[BGPBT__GP_MAXP], xn[BGPBT__GP_MAXP], gn[BGPBT__GP_MAXP];
    double S[BGPBT__LBFGS_M][BGPBT__GP_MAXP], Y[BGPBT__LBFGS_M][BGPBT__GP_MAXP];
    double rho[BGPBT__LBFGS_M], al[BGPBT__LBFGS_M];
    double f = bgpbt__gp_obj(gp, ws, x, evals);
    if (!(f < HUGE_VAL) || !bgpbt__gp_obj_grad(gp, ws, x, g)) return HUGE_VAL;
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
            fn = bgpbt__gp_obj(gp, ws, xn, evals);
            if (fn < HUGE_VAL && fn <= f + 1e-4 * step * gd) {
                ok = bgpbt__gp_obj_grad(gp, ws, xn, gn); /* only accepted steps pay for K^{-1} */
                if (!ok) fn = HUGE_VAL;
                break;
            }
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
        if (rel <= BGPBT__LBFGS_FTOL) break;
    }
    return f;
}

BGPBT_API bgpbt_result bgpbt_gp_fit(bgpbt_gp* gp) {
    double xs[BGPBT__GP_MAXWS][BGPBT__GP_MAXP], fs[BGPBT__GP_MAXWS];
    int ev[BGPBT__GP_MAXWS], it[BGPBT__GP_MAXWS];
    double fbest = HUGE_VAL;
    int s, k, P, ns, best = -1;
    bgpbt_gp_fit_info info;
    if (!gp) return BGPBT_ERR_INVALID_ARGUMENT;
    memset(&info, 0, sizeof info);
    P = gp->np;
    if (gp->n == 0 || P == 0) {
        gp->info = info;
        return bgpbt__gp_factor(gp, 0);
    }
    /* start 0: the current hyperparameters (a warm start); the others: random raw values, drawn
       here in order so that the result does not depend on the thread count */
    ns = 1 + gp->cfg.fit_restarts;
    if (ns > gp->nws) ns = gp->nws;
    for (s = 0; s < ns; ++s)
        for (k = 0; k < P; ++k)
            xs[s][k] = s == 0 ? gp->raw[k] : k == gp->i_mean ? 0.5 * bgpbt_rng_normal(&gp->rng) : bgpbt_rng_uniform(&gp->rng, -3.0, 3.0);
    /* one start per thread: long independent runs without barriers (the linear algebra inside
       runs its nested parallel regions on one thread) */
    BGPBT_OMP(parallel for schedule(dynamic, 1) if (ns > 1 && gp->n >= 32))
    for (s = 0; s < ns; ++s) {
        ev[s] = 0;
        it[s] = 0;
        fs[s] = bgpbt__gp_lbfgs(gp, &gp->ws[s], xs[s], gp->cfg.fit_max_iter, &ev[s], &it[s]);
    }
    for (s = 0; s < ns; ++s) {
        info.starts++;
        info.evaluations += ev[s];
        info.iterations += it[s];
        if (!(fs[s] < HUGE_VAL)) { info.failed_starts++; continue; }
        if (fs[s] < fbest) { fbest = fs[s]; best = s; }
    }
    if (best >= 0) {
        memcpy(gp->raw, xs[best], (size_t)P * sizeof(double));
        bgpbt__gp_decode(gp, gp->raw, &gp->h);
    }
    info.lml = -fbest;
    {
        bgpbt_result r = bgpbt__gp_factor(gp, 0);
        info.jitter = gp->jitter;
        gp->info = info;
        if (r != BGPBT_OK) return r;
    }
    if (best < 0)
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
            bgpbt__gp_pair(K, zc, gp->zf + (size_t)i * zs, tc - gp->t[i], &p);
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
    for (c0 = 0; c0 < m; c0 += BGPBT__GP_CHUNK) {
        int mc = m - c0 < BGPBT__GP_CHUNK ? m - c0 : BGPBT__GP_CHUNK, g;
        double kss[BGPBT__GP_CHUNK];
        bgpbt__gp_cross(gp, &K, X + (size_t)c0 * gp->dim, t ? t + c0 : NULL, mc, Nv, kss);
        if (mean)
            for (g = 0; g < mc; ++g) mean[c0 + g] = gp->h.mean + (n ? bgpbt__ddot(gp->kc + (size_t)g * gp->cap, gp->alpha, n) : 0.0);
        if (var) {
            BGPBT_OMP(parallel for schedule(static) if ((double)Nv * mc >= 32768.0))
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
    tc = t ? *t : gp->t_latest;
    bgpbt__gp_feat(gp, &K, x, zc);
    k = gp->kc;
    v = gp->kc + gp->cap;
    w = gp->kc + 2 * (size_t)gp->cap;
    /* dk rows: stored in kc rows 3.. (one per continuous dim) */
    for (i = 0; i < Nv; ++i) {
        bgpbt__gpp p;
        const double* zi = gp->zf + (size_t)i * zs;
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

#define BGPBT__BO_NFAIL 16

struct bgpbt_bo {
    bgpbt_bo_config cfg;
    bgpbt_bo_space space;
    int dim, nctx, ctx[BGPBT_BO_MAX_DIM];
    bgpbt_gp* gp;
    bgpbt_rng rng;
    /* observations: values (user units), t, y */
    int n, cap, region_start;
    /* points whose target was NaN/inf in this region (ring of BGPBT__BO_NFAIL) */
    int nfail, fail_head;
    double fail_vals[16 * BGPBT_BO_MAX_DIM];
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
    c.gp.fit_restarts = 1; /* refitted at every suggestion from the last fit: one random start is enough */
    c.gp.fit_max_iter = 50;
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
    bo->nfail = 0;
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
    double t, fbest, beta;
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
            if (dmu) { *dmu = 1.0; *dvar = -X->beta / (2.0 * s); }
            return mu - X->beta * s;
        case BGPBT_BO_ACQ_LCB_VAR:
            if (dmu) { *dmu = 1.0; *dvar = -X->beta; }
            return mu - X->beta * var;
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
    int fitted = 0, nfl;
    memset(&X, 0, sizeof X);
    start = bo->n - bo->region_start > bo->cfg.max_data ? bo->n - bo->cfg.max_data : bo->region_start;
    nd = bo->n - start;
    nfl = nd > 0 ? bo->nfail : 0; /* failed points enter the model with the worst y of the data */
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
        for (i = 0; req && i < req->n_pending; ++i) { double v = req->pending[(size_t)i * dim + d]; if (v < lo) lo = v; if (v > hi) hi = v; }
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
    U = (double*)bgpbt__calloc(A, (size_t)(nd + nfl > 0 ? nd + nfl : 1), sizeof(double) * (size_t)dim);
    Y = (double*)bgpbt__calloc(A, (size_t)(nd + nfl > 0 ? nd + nfl : 1), sizeof(double));
    T = (double*)bgpbt__calloc(A, (size_t)(nd + nfl > 0 ? nd + nfl : 1), sizeof(double));
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
    X.beta = (req && req->beta > 0.0) ? req->beta : bo->cfg.beta;
    if (nfl > 0) {
        double worst = Y[0];
        for (i = 1; i < nd; ++i) if (Y[i] > worst) worst = Y[i];
        for (i = 0; i < nfl; ++i) {
            double tmp[BGPBT_BO_MAX_DIM];
            memcpy(tmp, bo->fail_vals + (size_t)i * dim, (size_t)dim * sizeof(double));
            for (j = 0; j < bo->nctx; ++j) tmp[bo->ctx[j]] = ctxraw[bo->ctx[j]];
            bgpbt__bo_encode(bo, &X, tmp, U + (size_t)(nd + i) * dim);
            Y[nd + i] = worst;
            T[nd + i] = X.t;
        }
    }
    if (nd >= 2) {
        r = bgpbt_gp_set_data(bo->gp, U, bo->cfg.time_varying ? T : NULL, Y, nd + nfl);
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
    bgpbt__cfree(A, U, (size_t)(nd + nfl > 0 ? nd + nfl : 1), sizeof(double) * (size_t)dim);
    bgpbt__cfree(A, Y, (size_t)(nd + nfl > 0 ? nd + nfl : 1), sizeof(double));
    bgpbt__cfree(A, T, (size_t)(nd + nfl > 0 ? nd + nfl : 1), sizeof(double));
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
        bo->nfail = 0;
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
        memcpy(bo->fail_vals + (size_t)bo->fail_head * bo->dim, values, (size_t)bo->dim * sizeof(double));
        bo->fail_head = (bo->fail_head + 1) % BGPBT__BO_NFAIL;
        if (bo->nfail < BGPBT__BO_NFAIL) bo->nfail++;
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
