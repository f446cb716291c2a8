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

/* Single-precision GEMM for the MLP: C = A B (beta 0) or C += A B (beta 1), C row-major
   m x n with row stride ldc. A(i, k) is read at a[i * a_rs + k * a_cs], so A and A^T cost the
   same (A: a_rs = lda, a_cs = 1; A^T: a_rs = 1, a_cs = lda). B(k, j) is read at b[k * ldb + j].

   Kernels, chosen at compile time: an 8x32 AVX-512 micro-kernel (16 zmm accumulators, A
   broadcast from memory), a 6x16 AVX2+FMA one (12 ymm accumulators), and a 4x(2W) kernel on
   the bgpbt_fw vocabulary for SSE2, NEON and scalar builds. k is blocked by 256 so a B
   micro-panel stays in L1/L2; A is not packed (its broadcasts read MR rows in place); B is read
   in place when a full 32-column panel exists and copied to a zero-padded stack panel at the
   right edge. Every output element is one FMA chain over k from zero per 256-block, the blocks
   added to C in order, so a row's result does not depend on m, on the tiling or on the thread
   count. OpenMP splits output tiles (up to 64 rows x one column panel) among threads when the
   product is large enough to pay for it. Nothing is allocated. */
BGPBT_API void bgpbt_sgemm(int m, int n, int k, const float* a, ptrdiff_t a_rs, ptrdiff_t a_cs,
                           const float* b, ptrdiff_t ldb, float* c, ptrdiff_t ldc, int beta);
/* The micro-kernel in use: "avx512-8x32", "avx2-6x16" or "generic-4x<2W>". */
BGPBT_API const char* bgpbt_sgemm_kernel_name(void);

/* ---- [decl.linalg.chol] fp64 Cholesky and triangular solves -------------------------------- */

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
   not share mutable state between copies except through `user`, read-only.

   Contract of the vecenv (user environments and built-in tasks alike):
   - bgpbt_vecenv_reset must be called once before the first step (else BGPBT_ERR_WRONG_ORDER).
   - Copy i draws every random number from its own stream bgpbt_rng_init(seed, stream_base + i),
     so results are bit-identical for any thread count, and N copies stepped together equal N
     single-copy vecenvs with stream_base + i stepped one by one.
   - Actions are clipped to [-1, 1] (+-inf too); a NaN anywhere is BGPBT_ERR_NOT_FINITE and the
     call changes nothing.
   - terminated and truncated are exclusive: termination (the task's rule) wins; truncated means
     the copy reached max_episode_steps. Either way the copy is reset at once to a fresh random
     initial state drawn from its stream (not a cached one), final_obs() holds the last
     observation of the old episode (bootstrap from it on truncation), and
     episode_returns()/episode_lengths() hold the finished episode's return and length.
   - A copy whose observation or reward becomes NaN/inf is terminated with reward 0 and a zero
     final observation, and counted in bgpbt_episode_stats.unstable: the learner never sees NaN.
   - Stepping allocates nothing. */
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
    /* Optional (NULL: use step). A batched step for worlds that are cheaper to advance all at
       once: called once per vecenv step, from the calling thread, with every copy's state
       (copy i at (char*)states + i * state_stride), actions[num_envs][act_dim] (already clipped),
       the per-copy RNG streams, and outputs obs[num_envs][obs_dim], rewards[num_envs],
       terminated[num_envs]. It may use its own threads; for thread-count-independent results
       each copy must only read its own row and its own RNG. */
    void (*step_batch)(void* states, size_t state_stride, int num_envs, const float* actions,
                       bgpbt_rng* rngs, float* obs, float* rewards, int* terminated, void* user);
} bgpbt_env_def;

typedef struct bgpbt_vecenv bgpbt_vecenv;

typedef struct bgpbt_vecenv_config {
    int num_envs;      /* default 16 */
    uint64_t seed;     /* copy i draws from stream (stream_base + i) of this seed */
    uint64_t stream_base;
    bgpbt_allocator allocator;
    bgpbt_logger logger;
    int num_threads; /* OpenMP threads for stepping; 0: OpenMP's default. Results do not depend
                        on it (each copy is owned by one thread; reductions run in index order) */
} bgpbt_vecenv_config;

/* Statistics of the episodes that ended since the last call to bgpbt_vecenv_take_stats. */
typedef struct bgpbt_episode_stats {
    long episodes;
    double return_sum, return_sq_sum; /* of episode returns */
    double length_sum;                /* of episode lengths (steps) */
    long terminated;                  /* episodes that ended by termination (others: time limit) */
    long unstable;                    /* episodes cut because obs or reward became non-finite */
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

/* The info record of the last step, per copy (rows valid where terminated or truncated):
   the return and length of the episode that just ended. */
BGPBT_API const float* bgpbt_vecenv_episode_returns(const bgpbt_vecenv* venv); /* [num_envs] */
BGPBT_API const int* bgpbt_vecenv_episode_lengths(const bgpbt_vecenv* venv);   /* [num_envs] */
/* Steps taken so far in each copy's current episode, and its return so far. */
BGPBT_API const int* bgpbt_vecenv_step_counts(const bgpbt_vecenv* venv);       /* [num_envs] */
/* Reward terms of the last step: [num_envs][*num_terms] (built-in tasks list them in the task
   table; a user environment has none: NULL and 0). For copies that were reset the row still
   describes the step that ended the old episode. */
BGPBT_API const float* bgpbt_vecenv_reward_terms(const bgpbt_vecenv* venv, int* num_terms);
BGPBT_API const char* bgpbt_vecenv_reward_term_name(const bgpbt_vecenv* venv, int term); /* NULL if out of range */
BGPBT_API const char* bgpbt_vecenv_name(const bgpbt_vecenv* venv);
BGPBT_API int bgpbt_vecenv_max_episode_steps(const bgpbt_vecenv* venv);
/* Reset one copy to a fresh random initial state (its episode counters restart at zero). */
BGPBT_API bgpbt_result bgpbt_vecenv_reset_one(bgpbt_vecenv* venv, int env);
/* The per-copy state of a user environment (state_bytes of it), for rendering or inspection;
   NULL for built-in tasks or out-of-range copies. */
BGPBT_API void* bgpbt_vecenv_user_state(bgpbt_vecenv* venv, int env);


/* ---- [decl.env.render] rendering for people, and body transforms for games ----------------

   A picture needs no library: bgpbt_render_svg draws a list of geoms (spheres, capsules, boxes,
   an infinite ground plane) in orthographic side (x-z, looking along +y) and top (x-y) views,
   as an SVG document. Capsules project exactly to rounded strokes and boxes to the convex hull
   of their 8 projected corners; geoms are drawn far to near. With frames > 1 the geoms array
   holds `frames` consecutive snapshots of num_geoms geoms (a rollout): earlier ones are drawn
   faded, so one picture shows a gait. Built-in tasks produce their geoms with
   bgpbt_vecenv_render_geoms; a game can fill bgpbt_render_geom itself. */
typedef enum bgpbt_geom_type {
    BGPBT_GEOM_PLANE = 0,   /* ground: the plane z = pos[2] (normal +z); size unused */
    BGPBT_GEOM_SPHERE = 1,  /* size[0] = radius */
    BGPBT_GEOM_CAPSULE = 2, /* size[0] = radius, size[1] = half-length of the axis (local z) */
    BGPBT_GEOM_BOX = 3      /* size[0..2] = half extents */
} bgpbt_geom_type;

typedef struct bgpbt_render_geom {
    int type;      /* bgpbt_geom_type */
    float size[3];
    float pos[3];  /* world position of the centre */
    float quat[4]; /* world orientation (w, x, y, z), unit */
    float rgba[4]; /* colour, components in [0, 1] */
} bgpbt_render_geom;

typedef struct bgpbt_render_options {
    int width;          /* pixels per view; default 360 */
    int views;          /* 1 side, 2 top, 3 both (default) */
    int frames;         /* snapshots in the geoms array; default 1 */
    const char* title;  /* optional caption */
    float extent;       /* metres shown across a view; 0: fit the geoms */
} bgpbt_render_options;

BGPBT_API bgpbt_render_options bgpbt_render_options_default(void);
/* Write the SVG text (NUL-terminated) into buf[cap]; *size = its length without the NUL. With
   buf == NULL only *size is computed. BGPBT_ERR_BUFFER_TOO_SMALL if cap <= *size (nothing
   useful is written). Non-finite positions are BGPBT_ERR_NOT_FINITE. */
BGPBT_API bgpbt_result bgpbt_render_svg(const bgpbt_render_geom* geoms, int num_geoms,
                                        const bgpbt_render_options* options, char* buf,
                                        size_t cap, size_t* size);
/* The same, written atomically to a file (memory from the default allocator). */
BGPBT_API bgpbt_result bgpbt_render_svg_file(const char* path, const bgpbt_render_geom* geoms,
                                             int num_geoms, const bgpbt_render_options* options);

/* ============================================================================================
   [decl.nn] nn: MLP, batched forward/backward, Adam
   ============================================================================================ */

/* A multilayer perceptron: in -> hidden[0] -> ... -> hidden[L-1] -> out, the chosen activation
   after every hidden layer, a linear output. It owns its parameters, their gradients, the Adam
   moments and the activations of the last training forward pass, all allocated at creation:
   nothing is allocated afterwards.

   Initialisation: Brax's lecun_uniform (variance scaling 1/fan_in, uniform): weights
   U(-sqrt(3/fan_in), +sqrt(3/fan_in)), biases 0, drawn from the config's (seed, stream).
   config.last_layer_scale multiplies the output layer's weights (1 by default).

   Layout: weights are stored [fan_in][fan_out rounded up to 32] with zero padding, so every
   GEMM runs on full 32-column panels; the padding stays exactly zero through Adam. Parameters
   (and gradients, and Adam moments) are one flat array; bgpbt_mlp_num_params counts only the
   real ones, which is also what save/load, get/set_params and the gradient norm use.

   Training step: forward(train=1) caches activations; backward(dY) overwrites the gradients
   (dY is d loss / d output, already divided by whatever the loss averages over) and optionally
   returns dX; adam_step applies Adam with bias correction and optional global-norm clipping.
   Batches above max_batch are refused for training (BGPBT_ERR_LIMIT); inference (train=0)
   runs in chunks of max_batch and accepts any batch. */
#define BGPBT_MLP_MAX_HIDDEN 16

typedef enum bgpbt_activation {
    BGPBT_ACT_SILU = 0, /* x * sigmoid(x) (Brax's swish; the default) */
    BGPBT_ACT_TANH = 1,
    BGPBT_ACT_RELU = 2,
    BGPBT_ACT_LINEAR = 3
} bgpbt_activation;

typedef struct bgpbt_mlp_config {
    int in_dim, out_dim;               /* required, >= 1 */
    int num_hidden;                    /* 0..BGPBT_MLP_MAX_HIDDEN; default config: 2 */
    int hidden[BGPBT_MLP_MAX_HIDDEN];  /* widths >= 1; default config: 64, 64 */
    bgpbt_activation activation;       /* of the hidden layers; 0 = SiLU */
    int max_batch;                     /* rows per training forward; 0: 256 */
    float last_layer_scale;            /* 0: 1 */
    uint64_t seed, stream;             /* initialisation stream */
    bgpbt_allocator allocator;
    bgpbt_logger logger;
} bgpbt_mlp_config;

typedef struct bgpbt_adam_config {
    float learning_rate; /* 0: 3e-4 */
    float beta1, beta2;  /* 0: 0.9, 0.999 */
    float eps;           /* 0: 1e-8 */
    float max_grad_norm; /* > 0: scale the gradient to at most this global L2 norm; 0: off */
} bgpbt_adam_config;

typedef struct bgpbt_mlp bgpbt_mlp;

BGPBT_API bgpbt_mlp_config bgpbt_mlp_config_default(void);
BGPBT_API bgpbt_adam_config bgpbt_adam_config_default(void);
BGPBT_API bgpbt_result bgpbt_mlp_create(const bgpbt_mlp_config* config, bgpbt_mlp** out);
BGPBT_API void bgpbt_mlp_destroy(bgpbt_mlp* mlp);
/* The architecture it was created with (allocator, logger, seed and max_batch included). */
BGPBT_API bgpbt_mlp_config bgpbt_mlp_get_config(const bgpbt_mlp* mlp);
BGPBT_API size_t bgpbt_mlp_num_params(const bgpbt_mlp* mlp);
/* Y[batch][out_dim] = f(X[batch][in_dim]). train = 1 caches what backward needs (batch <=
   max_batch). Non-finite inputs propagate; the caller checks its loss. */
BGPBT_API bgpbt_result bgpbt_mlp_forward(bgpbt_mlp* mlp, const float* x, int batch, float* y, int train);
/* After forward(train=1) on the same batch: gradients = d loss / d params for
   dy[batch][out_dim] (overwritten, not accumulated); dx[batch][in_dim] if not NULL. */
BGPBT_API bgpbt_result bgpbt_mlp_backward(bgpbt_mlp* mlp, const float* dy, int batch, float* dx);
/* The output of the last training forward, [batch][out_dim] with row stride *ld. */
BGPBT_API const float* bgpbt_mlp_output(const bgpbt_mlp* mlp, int* ld);
BGPBT_API double bgpbt_mlp_grad_norm(const bgpbt_mlp* mlp);
/* One Adam step (t += 1, bias-corrected). Returns BGPBT_ERR_NOT_FINITE and changes nothing if
   the gradient has a NaN or infinity. */
BGPBT_API bgpbt_result bgpbt_mlp_adam_step(bgpbt_mlp* mlp, const bgpbt_adam_config* adam);
BGPBT_API void bgpbt_mlp_reset_adam(bgpbt_mlp* mlp); /* moments and step count to zero */
BGPBT_API long bgpbt_mlp_adam_steps(const bgpbt_mlp* mlp);
/* Parameters and gradients in a flat order: layer by layer, W[fan_in][fan_out] then b[fan_out].
   get_* copy num_params floats out; set_params copies them in (NaN: BGPBT_ERR_NOT_FINITE, no
   change). */
BGPBT_API void bgpbt_mlp_get_params(const bgpbt_mlp* mlp, float* out);
BGPBT_API bgpbt_result bgpbt_mlp_set_params(bgpbt_mlp* mlp, const float* params);
BGPBT_API void bgpbt_mlp_get_grads(const bgpbt_mlp* mlp, float* out);
/* Copy parameters and Adam state between MLPs of the same architecture (else
   BGPBT_ERR_SIZE_MISMATCH, dst unchanged). */
BGPBT_API bgpbt_result bgpbt_mlp_copy(bgpbt_mlp* dst, const bgpbt_mlp* src);
/* Save to a container of kind "MLP " (architecture, parameters, Adam moments and step count).
   buf == NULL: *size receives the size needed. */
BGPBT_API bgpbt_result bgpbt_mlp_save(const bgpbt_mlp* mlp, void* buf, size_t cap, size_t* size);
/* Load into an MLP of the same architecture; on any error (corrupt, truncated, other
   architecture: BGPBT_ERR_SIZE_MISMATCH) mlp is unchanged. */
BGPBT_API bgpbt_result bgpbt_mlp_load(bgpbt_mlp* mlp, const void* data, size_t size);
/* Create a new MLP from a saved one (allocator, logger and max_batch from config; NULL: defaults). */
BGPBT_API bgpbt_result bgpbt_mlp_create_from_blob(const void* data, size_t size,
                                                  const bgpbt_mlp_config* config, bgpbt_mlp** out);

/* ============================================================================================
   [decl.ppo] ppo: tanh-Gaussian actor-critic agent, rollouts, GAE, PPO and distillation
   ============================================================================================ */

/* PPO as BG-PBT ran it (the authors' PyTorch port of Brax v0.0.10 PPO), in one resumable object.

   Policy: MLP(obs) -> (loc, raw scale) per action dimension; scale = softplus(raw) + 0.001;
   u ~ N(loc, scale); action = tanh(u). log pi(a) = log N(u) - sum 2 (log 2 - u - softplus(-2u)).
   Value: a separate MLP(obs) -> 1. Both see observations normalised by a running mean and
   variance (all observations of each batch are merged before its update; variance clipped to
   [1e-6, 1e6]; normalised values clipped to +-obs_clip, 5 by default).

   One training round ("batch"): S = batch_size x num_minibatches segments of unroll_length
   steps. The vecenv's num_envs copies run U = ceil(S / num_envs) consecutive unrolls (if
   num_envs does not divide S, a random S of the U x num_envs segments are used). Then
   update_epochs passes, each over a fresh shuffle of the segments split into num_minibatches
   minibatches of batch_size segments; per minibatch, like Brax, the value network is run on
   the unroll_length + 1 observations of each segment with the current parameters and GAE is
   computed there (V-trace form with rho = 1: vs targets, and advantages r + g vs_{t+1} - V_t).
   Rewards are multiplied by reward_scaling. Termination cuts the return; truncation (time
   limit) cuts the trace but bootstraps from V(final observation), computed when the step was
   collected (Brax instead drops truncated steps; SB3 does what we do). Loss, averaged over the
   minibatch's rows:
     L = -min(rho A, clip(rho, 1-eps, 1+eps) A) + value_coef (vs - V)^2 - entropy_cost H
   with value_coef 0.25 (Brax's 0.5 * 0.5) and H = the Gaussian entropy plus the tanh log-det at
   a fresh sample (Brax). No advantage normalisation, no value clipping; gradient clipping only
   if max_grad_norm > 0 (the paper: none). Adam, constant learning rate, one optimiser per network.

   Intervals: every bgpbt_agent_train call starts from fresh environment resets drawn from the
   agent's RNG and runs whole rounds until at least the requested env steps are done (episodes
   cut at the end of a call are dropped from the statistics). So everything that determines the
   future is inside the agent (weights, Adam moments, normaliser, RNG states, hyperparameters,
   counters): a blob saved between calls resumes bit-identically, and copy_from + train equals
   train on the source.

   Hyperparameters (bgpbt_ppo_hparams) may be changed between calls; weights, Adam moments and
   the normaliser are kept. The architecture is fixed per agent (BG-PBT changes it only through
   a new agent and distillation); copy_from adopts the source's architecture.

   Distillation (BG-PBT's generation switch): the student collects its own rollouts and
   minimises L_PPO + alpha * kl_coef * KL(teacher || student), the KL between the pre-tanh
   diagonal Gaussians (each network normalises the observation with its own normaliser),
   averaged over rows and action dimensions. alpha goes linearly from alpha_start to alpha_end
   over anneal_steps env steps of distillation and then stays; the student's distillation step
   counter is part of the agent (saved in the blob), so alpha continues across calls instead of
   restarting as in the released code. The teacher may have another architecture.

   Failure: if a loss or gradient becomes NaN or infinite, training stops, the agent is marked
   failed (bgpbt_agent_failed) and every later train/distill/evaluate call returns
   BGPBT_ERR_AGENT_FAILED until copy_from or load replaces its state.

   Determinism: results are bit-identical for any OpenMP thread count (GEMM tiles and
   element-wise passes split by output rows; reductions in index order; RNG draws on the
   calling thread). */

typedef struct bgpbt_ppo_hparams {
    /* the BG-PBT search space (ranges of the paper in brackets) */
    double learning_rate;   /* [1e-4, 1e-3] log; 0: 3e-4 */
    double discount;        /* [0.9, 0.9999] log; 0: 0.97 */
    double entropy_cost;    /* [1e-6, 0.1] log; 0 means 0 (set it: default config 1e-2) */
    int unroll_length;      /* [5, 15]; 0: 5 */
    int batch_size;         /* [64, 1024] segments per minibatch; 0: 1024 */
    int update_epochs;      /* [2, 16]; 0: 4 */
    double reward_scaling;  /* [0.05, 20] log; 0: 10 */
    double gae_lambda;      /* [0.9, 1]; 0: 0.95 */
    double clip_epsilon;    /* [0.1, 0.4]; 0: 0.3 (Brax trainer default) */
    /* fixed in the paper */
    int num_minibatches;    /* 0: 32 */
    double value_coef;      /* 0: 0.25 */
    double max_grad_norm;   /* 0: no clipping */
} bgpbt_ppo_hparams;

typedef struct bgpbt_ppo_arch {
    int policy_layers, policy_width; /* 0: 4 x 32 (Brax default) */
    int value_layers, value_width;   /* 0: 5 x 256 */
    bgpbt_activation activation;     /* 0: SiLU */
} bgpbt_ppo_arch;

typedef struct bgpbt_agent_config {
    /* the environment: a user definition, or a built-in task name (when the env layer has it) */
    const bgpbt_env_def* env_def;
    const char* task;
    bgpbt_ppo_hparams hparams;
    bgpbt_ppo_arch arch;
    uint64_t seed;
    int num_envs;           /* training copies; 0: 64 */
    int eval_episodes;      /* evaluation copies, one full episode each; 0: 16 */
    int eval_max_steps;     /* cap per evaluation episode; 0: the env's time limit, else 1000 */
    float obs_clip;         /* 0: 5 */
    int env_threads;        /* OpenMP threads stepping the environments (bgpbt_vecenv_config
                               num_threads); 0: OpenMP's default. Set 1 for cheap callbacks,
                               where a parallel region per step costs more than the step */
    bgpbt_allocator allocator;
    bgpbt_logger logger;
} bgpbt_agent_config;

typedef struct bgpbt_agent_stats {
    long long env_steps;          /* training env steps of this agent's lineage (copied by copy_from) */
    long long distill_steps;      /* env steps spent distilling (drives the alpha schedule) */
    long long updates;            /* SGD steps */
    long rounds;                  /* collected batches */
    double last_train_return;     /* mean return of episodes finished in the last train/distill call (NaN if none) */
    long last_train_episodes;
    double last_eval_return;      /* mean and spread of the last evaluation (NaN before any) */
    double last_eval_std;
    double last_loss, last_policy_loss, last_value_loss, last_entropy, last_kl; /* last minibatch */
    int failed;
} bgpbt_agent_stats;

typedef struct bgpbt_distill_config {
    double alpha_start, alpha_end; /* 0: 1.0 and 0.05 */
    long long anneal_steps;        /* 0: 24,000,000 (0.8 of a 30M-step budget) */
    double kl_coef;                /* 0: 5 (policy_reg_coef) */
    double learning_rate;          /* 0: 3e-4 (fixed during distillation in the paper) */
    int epochs;                    /* 0: 4 */
} bgpbt_distill_config;

typedef struct bgpbt_agent bgpbt_agent;

BGPBT_API bgpbt_ppo_hparams bgpbt_ppo_hparams_default(void); /* Brax ant defaults, clip 0.3 */
BGPBT_API bgpbt_ppo_arch bgpbt_ppo_arch_default(void);       /* policy 4x32, value 5x256, SiLU */
BGPBT_API bgpbt_agent_config bgpbt_agent_config_default(void);
BGPBT_API bgpbt_distill_config bgpbt_distill_config_default(void);
BGPBT_API bgpbt_result bgpbt_agent_create(const bgpbt_agent_config* config, bgpbt_agent** out);
BGPBT_API void bgpbt_agent_destroy(bgpbt_agent* agent);
/* Restart the agent's training and evaluation RNG streams from a new seed (e.g. after a PBT
   exploit, so the copy does not replay its source's random numbers). */
BGPBT_API void bgpbt_agent_reseed(bgpbt_agent* agent, uint64_t seed);
/* Train for at least env_steps environment steps (whole rounds; at least one). */
BGPBT_API bgpbt_result bgpbt_agent_train(bgpbt_agent* agent, long long env_steps);
/* Distil from teacher for at least env_steps of the student's own rollouts. */
BGPBT_API bgpbt_result bgpbt_agent_distill(bgpbt_agent* student, const bgpbt_agent* teacher,
                                           const bgpbt_distill_config* distill, long long env_steps);
/* Deterministic policy (tanh of the mean) over eval_episodes full episodes on separate
   evaluation environments (fresh resets from the agent's evaluation stream). mean/std may be NULL. */
BGPBT_API bgpbt_result bgpbt_agent_evaluate(bgpbt_agent* agent, double* mean_return, double* std_return);
BGPBT_API bgpbt_ppo_hparams bgpbt_agent_get_hparams(const bgpbt_agent* agent);
/* Validated (NaN or out of its sane range: error, nothing changed); takes effect at the next call. */
BGPBT_API bgpbt_result bgpbt_agent_set_hparams(bgpbt_agent* agent, const bgpbt_ppo_hparams* hparams);
BGPBT_API bgpbt_ppo_arch bgpbt_agent_get_arch(const bgpbt_agent* agent);
BGPBT_API void bgpbt_agent_get_stats(const bgpbt_agent* agent, bgpbt_agent_stats* out);
BGPBT_API int bgpbt_agent_failed(const bgpbt_agent* agent);
BGPBT_API int bgpbt_agent_obs_dim(const bgpbt_agent* agent);
BGPBT_API int bgpbt_agent_act_dim(const bgpbt_agent* agent);
/* PBT exploit: make dst a copy of src (weights, Adam, normaliser, RNG states, hyperparameters,
   architecture, counters, failed flag). Both must be on the same environment (obs/act sizes).
   On failure dst is unchanged. */
BGPBT_API bgpbt_result bgpbt_agent_copy_from(bgpbt_agent* dst, const bgpbt_agent* src);
/* Serialise everything resumable into a container of kind "AGNT". buf == NULL: size only. */
BGPBT_API bgpbt_result bgpbt_agent_save(const bgpbt_agent* agent, void* buf, size_t cap, size_t* size);
/* Replace the agent's state by a saved one (same obs/act sizes; the architecture may differ).
   On any error the agent is unchanged. */
BGPBT_API bgpbt_result bgpbt_agent_load(bgpbt_agent* agent, const void* data, size_t size);
/* Actions for observations (raw, un-normalised): deterministic (tanh of the mean) or sampled
   from the agent's evaluation stream. actions[batch][act_dim]. The game use case. */
BGPBT_API bgpbt_result bgpbt_agent_act(bgpbt_agent* agent, const float* obs, int batch, float* actions,
                                       int deterministic);
/* The networks, for inspection and benchmarks (owned by the agent). */
BGPBT_API bgpbt_mlp* bgpbt_agent_policy(bgpbt_agent* agent);
BGPBT_API bgpbt_mlp* bgpbt_agent_value(bgpbt_agent* agent);
/* GAE of one segment, as used per minibatch (exposed for tests and reuse). rewards[T] (already
   scaled), values[T+1] (values[T] = bootstrap), boot[T] = V(final observation) where truncated,
   term[T], trunc[T] flags. Outputs vs[T] (value targets) and adv[T]. */
BGPBT_API void bgpbt_ppo_gae(int T, const float* rewards, const float* values, const float* boot,
                             const unsigned char* term, const unsigned char* trunc, float discount,
                             float lambda, float* vs, float* adv);

/* ============================================================================================
   [decl.gp] gp: kernels, exact GP, marginal-likelihood fitting
   ============================================================================================ */

/* ============================================================================================
   [decl.bo] bo: search spaces, trust regions, acquisition, ask/tell
   ============================================================================================ */

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

/* Register blocking per ISA (see [decl.linalg.gemm]). */
#if defined(BGPBT_SIMD_AVX512)
#  define BGPBT__GEMM_MR 8
#  define BGPBT__GEMM_NR 32
#elif defined(BGPBT_SIMD_AVX2)
#  define BGPBT__GEMM_MR 6
#  define BGPBT__GEMM_NR 16
#else
#  define BGPBT__GEMM_MR 4
#  define BGPBT__GEMM_NR (2 * BGPBT_FW_WIDTH)
#endif
#define BGPBT__GEMM_KC 256 /* k block: a 32-column B micro-panel of 32 KiB stays in L1/L2 */
#define BGPBT__GEMM_MC 256 /* rows per output tile (the unit of work of one thread) */

/* acc[MR][NR] = sum_{p < kc} A(row_i, p) B(p, :); then C rows (< mr) = acc (beta 0) or += acc. */
#if defined(BGPBT_SIMD_AVX512)
BGPBT__PRIVATE void bgpbt__ukernel(int kc, const float* const* ar, ptrdiff_t a_cs, const float* b,
                                   ptrdiff_t ldb, float* c, ptrdiff_t ldc, int mr, int beta) {
    __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(),
           c11 = _mm512_setzero_ps(), c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps(),
           c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps(), c40 = _mm512_setzero_ps(),
           c41 = _mm512_setzero_ps(), c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps(),
           c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps(), c70 = _mm512_setzero_ps(),
           c71 = _mm512_setzero_ps();
    const float *a0 = ar[0], *a1 = ar[1], *a2 = ar[2], *a3 = ar[3], *a4 = ar[4], *a5 = ar[5],
                *a6 = ar[6], *a7 = ar[7];
    int p;
    for (p = 0; p < kc; ++p) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16), x;
        ptrdiff_t o = (ptrdiff_t)p * a_cs;
        b += ldb;
#  define BGPBT__K512(i) x = _mm512_set1_ps(a##i[o]); c##i##0 = _mm512_fmadd_ps(x, b0, c##i##0); \
                          c##i##1 = _mm512_fmadd_ps(x, b1, c##i##1);
        BGPBT__K512(0) BGPBT__K512(1) BGPBT__K512(2) BGPBT__K512(3)
        BGPBT__K512(4) BGPBT__K512(5) BGPBT__K512(6) BGPBT__K512(7)
#  undef BGPBT__K512
    }
#  define BGPBT__S512(i) if (i < mr) { float* cr = c + (ptrdiff_t)i * ldc; \
        if (beta) { c##i##0 = _mm512_add_ps(_mm512_loadu_ps(cr), c##i##0); \
                    c##i##1 = _mm512_add_ps(_mm512_loadu_ps(cr + 16), c##i##1); } \
        _mm512_storeu_ps(cr, c##i##0); _mm512_storeu_ps(cr + 16, c##i##1); }
    BGPBT__S512(0) BGPBT__S512(1) BGPBT__S512(2) BGPBT__S512(3)
    BGPBT__S512(4) BGPBT__S512(5) BGPBT__S512(6) BGPBT__S512(7)
#  undef BGPBT__S512
}
#elif defined(BGPBT_SIMD_AVX2)
BGPBT__PRIVATE void bgpbt__ukernel(int kc, const float* const* ar, ptrdiff_t a_cs, const float* b,
                                   ptrdiff_t ldb, float* c, ptrdiff_t ldc, int mr, int beta) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(),
           c11 = _mm256_setzero_ps(), c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(),
           c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps(), c40 = _mm256_setzero_ps(),
           c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    const float *a0 = ar[0], *a1 = ar[1], *a2 = ar[2], *a3 = ar[3], *a4 = ar[4], *a5 = ar[5];
    int p;
    for (p = 0; p < kc; ++p) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8), x;
        ptrdiff_t o = (ptrdiff_t)p * a_cs;
        b += ldb;
#  define BGPBT__K256(i) x = _mm256_broadcast_ss(a##i + o); c##i##0 = _mm256_fmadd_ps(x, b0, c##i##0); \
                          c##i##1 = _mm256_fmadd_ps(x, b1, c##i##1);
        BGPBT__K256(0) BGPBT__K256(1) BGPBT__K256(2) BGPBT__K256(3) BGPBT__K256(4) BGPBT__K256(5)
#  undef BGPBT__K256
    }
#  define BGPBT__S256(i) if (i < mr) { float* cr = c + (ptrdiff_t)i * ldc; \
        if (beta) { c##i##0 = _mm256_add_ps(_mm256_loadu_ps(cr), c##i##0); \
                    c##i##1 = _mm256_add_ps(_mm256_loadu_ps(cr + 8), c##i##1); } \
        _mm256_storeu_ps(cr, c##i##0); _mm256_storeu_ps(cr + 8, c##i##1); }
    BGPBT__S256(0) BGPBT__S256(1) BGPBT__S256(2) BGPBT__S256(3) BGPBT__S256(4) BGPBT__S256(5)
#  undef BGPBT__S256
}
#else
/* Generic kernel on the wide-float vocabulary (SSE2, NEON, scalar): 4 rows x 2 vectors. */
BGPBT__PRIVATE void bgpbt__ukernel(int kc, const float* const* ar, ptrdiff_t a_cs, const float* b,
                                   ptrdiff_t ldb, float* c, ptrdiff_t ldc, int mr, int beta) {
    bgpbt_fw c00 = bgpbt_fw_zero(), c01 = bgpbt_fw_zero(), c10 = bgpbt_fw_zero(), c11 = bgpbt_fw_zero(),
             c20 = bgpbt_fw_zero(), c21 = bgpbt_fw_zero(), c30 = bgpbt_fw_zero(), c31 = bgpbt_fw_zero();
    const float *a0 = ar[0], *a1 = ar[1], *a2 = ar[2], *a3 = ar[3];
    int p;
    for (p = 0; p < kc; ++p) {
        bgpbt_fw b0 = bgpbt_fw_load(b), b1 = bgpbt_fw_load(b + BGPBT_FW_WIDTH), x;
        ptrdiff_t o = (ptrdiff_t)p * a_cs;
        b += ldb;
#  define BGPBT__KG(i) x = bgpbt_fw_set1(a##i[o]); c##i##0 = bgpbt_fw_fma(x, b0, c##i##0); \
                        c##i##1 = bgpbt_fw_fma(x, b1, c##i##1);
        BGPBT__KG(0) BGPBT__KG(1) BGPBT__KG(2) BGPBT__KG(3)
#  undef BGPBT__KG
    }
#  define BGPBT__SG(i) if (i < mr) { float* cr = c + (ptrdiff_t)i * ldc; \
        if (beta) { c##i##0 = bgpbt_fw_add(bgpbt_fw_load(cr), c##i##0); \
                    c##i##1 = bgpbt_fw_add(bgpbt_fw_load(cr + BGPBT_FW_WIDTH), c##i##1); } \
        bgpbt_fw_store(cr, c##i##0); bgpbt_fw_store(cr + BGPBT_FW_WIDTH, c##i##1); }
    BGPBT__SG(0) BGPBT__SG(1) BGPBT__SG(2) BGPBT__SG(3)
#  undef BGPBT__SG
}
#endif

BGPBT_API const char* bgpbt_sgemm_kernel_name(void) {
#if defined(BGPBT_SIMD_AVX512)
    return "avx512-8x32";
#elif defined(BGPBT_SIMD_AVX2)
    return "avx2-6x16";
#elif BGPBT_FW_WIDTH == 4
    return "generic-4x8";
#else
    return "generic-4x2";
#endif
}

/* Matrices B and C are addressed in 32-column panels: element (r, j) at
   base[(j / 32) * ps + r * rs + j % 32]. Row-major is ps = 32, rs = ld; "panel-major" (each
   32-column panel contiguous, rs = 32, ps = rows * 32) is how the MLP stores its weights, so
   its B micro-panels are read in place, with no copy. */
#define BGPBT__PANEL 32

/* One output tile: rows [i0, i0 + mc) x columns [j0, j0 + nc), nc <= NR. */
BGPBT__PRIVATE void bgpbt__gemm_tile(int i0, int mc, int j0, int nc, int k, const float* a,
                                     ptrdiff_t a_rs, ptrdiff_t a_cs, const float* b, ptrdiff_t b_rs,
                                     ptrdiff_t b_ps, float* c, ptrdiff_t ldc, ptrdiff_t c_ps, int beta) {
    float bpanel[BGPBT__GEMM_KC * BGPBT__GEMM_NR];
    float ctile[BGPBT__GEMM_MR * BGPBT__GEMM_NR];
    const float* ar[BGPBT__GEMM_MR];
    int kb, ir, r, j;
    const int full = (nc == BGPBT__GEMM_NR);
    const float* bcol = b + (ptrdiff_t)(j0 / BGPBT__PANEL) * b_ps + (j0 % BGPBT__PANEL);
    float* ccol = c + (ptrdiff_t)(j0 / BGPBT__PANEL) * c_ps + (j0 % BGPBT__PANEL);
    const ptrdiff_t ldb = b_rs;
    for (kb = 0; kb < k; kb += BGPBT__GEMM_KC) {
        int kc = k - kb < BGPBT__GEMM_KC ? k - kb : BGPBT__GEMM_KC;
        const float* bp = bcol + (ptrdiff_t)kb * ldb;
        ptrdiff_t bld = ldb;
        int bt = beta || kb > 0;
        if (!full || ldb > BGPBT__PANEL) {
            /* a contiguous copy of the micro-panel: B rows read in place at a large stride
               (1 KiB for 256-wide layers) alias to a few L1 sets and evict each other; the
               copy is reused by every row block of the tile. Zero-padded at the right edge. */
            int p;
            if (full)
                for (p = 0; p < kc; ++p) memcpy(bpanel + p * BGPBT__GEMM_NR, bp + (ptrdiff_t)p * ldb, sizeof(float) * BGPBT__GEMM_NR);
            else
                for (p = 0; p < kc; ++p) {
                    for (j = 0; j < nc; ++j) bpanel[p * BGPBT__GEMM_NR + j] = bp[(ptrdiff_t)p * ldb + j];
                    for (; j < BGPBT__GEMM_NR; ++j) bpanel[p * BGPBT__GEMM_NR + j] = 0.0f;
                }
            bp = bpanel;
            bld = BGPBT__GEMM_NR;
        }
        for (ir = 0; ir < mc; ir += BGPBT__GEMM_MR) {
            int mr = mc - ir < BGPBT__GEMM_MR ? mc - ir : BGPBT__GEMM_MR;
            float* cp = ccol + (ptrdiff_t)(i0 + ir) * ldc;
            for (r = 0; r < BGPBT__GEMM_MR; ++r) /* missing rows re-read row 0: results discarded */
                ar[r] = a + (ptrdiff_t)(i0 + ir + (r < mr ? r : 0)) * a_rs + (ptrdiff_t)kb * a_cs;
            if (full) {
                bgpbt__ukernel(kc, ar, a_cs, bp, bld, cp, ldc, mr, bt);
            } else {
                bgpbt__ukernel(kc, ar, a_cs, bp, bld, ctile, BGPBT__GEMM_NR, mr, 0);
                for (r = 0; r < mr; ++r)
                    for (j = 0; j < nc; ++j) {
                        float* o = cp + (ptrdiff_t)r * ldc + j;
                        *o = bt ? *o + ctile[r * BGPBT__GEMM_NR + j] : ctile[r * BGPBT__GEMM_NR + j];
                    }
            }
        }
    }
}

BGPBT__PRIVATE void bgpbt__sgemm_ex(int m, int n, int k, const float* a, ptrdiff_t a_rs, ptrdiff_t a_cs,
                                    const float* b, ptrdiff_t b_rs, ptrdiff_t b_ps, float* c, ptrdiff_t ldc,
                                    ptrdiff_t c_ps, int beta) {
    int npan, mtiles, ntiles, t;
    double work;
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        if (!beta) {
            int i, j;
            for (i = 0; i < m; ++i)
                for (j = 0; j < n; ++j) c[(ptrdiff_t)(j / BGPBT__PANEL) * c_ps + (ptrdiff_t)i * ldc + j % BGPBT__PANEL] = 0.0f;
        }
        return;
    }
    npan = (n + BGPBT__GEMM_NR - 1) / BGPBT__GEMM_NR;
    mtiles = (m + BGPBT__GEMM_MC - 1) / BGPBT__GEMM_MC;
    ntiles = npan * mtiles;
    work = (double)m * (double)n * (double)k;
    (void)work;
    /* tiles are independent outputs: any thread count gives the same bits */
    BGPBT_OMP(parallel for schedule(static) if (work > 4194304.0 && ntiles > 1))
    for (t = 0; t < ntiles; ++t) {
        int mt = t / npan, pj = t - mt * npan;
        int i0 = mt * BGPBT__GEMM_MC, j0 = pj * BGPBT__GEMM_NR;
        int mc = m - i0 < BGPBT__GEMM_MC ? m - i0 : BGPBT__GEMM_MC;
        int nc = n - j0 < BGPBT__GEMM_NR ? n - j0 : BGPBT__GEMM_NR;
        bgpbt__gemm_tile(i0, mc, j0, nc, k, a, a_rs, a_cs, b, b_rs, b_ps, c, ldc, c_ps, beta);
    }
}

BGPBT_API void bgpbt_sgemm(int m, int n, int k, const float* a, ptrdiff_t a_rs, ptrdiff_t a_cs,
                           const float* b, ptrdiff_t ldb, float* c, ptrdiff_t ldc, int beta) {
    bgpbt__sgemm_ex(m, n, k, a, a_rs, a_cs, b, ldb, BGPBT__PANEL, c, ldc, BGPBT__PANEL, beta);
}

/* ---- [impl.linalg.chol] -------------------------------------------------------------------- */

/* ============================================================================================
   [impl.sim] sim
   ============================================================================================ */

/* ============================================================================================
   [impl.env] env
   ============================================================================================ */

/* ---- [impl.env.vecenv] vectorised environments ---------------------------------------------- */

/* A backend steps all copies; the vecenv around it owns clipping, truncation, auto-reset,
   episode accounting and the info record. The user-callback backend is below; the built-in
   tasks plug in the same way (bgpbt__task_backend in [impl.env.tasks]). */
typedef struct bgpbt__env_backend {
    /* reset copy i: fill obs row i (and whatever state the backend keeps) */
    void (*reset_one)(bgpbt_vecenv* v, int i);
    /* step every copy with v->act; fill v->obs, v->rewards, v->iterm (and v->terms) */
    void (*step_all)(bgpbt_vecenv* v);
    void (*destroy)(bgpbt_vecenv* v);
} bgpbt__env_backend;

struct bgpbt_vecenv {
    bgpbt_env_def def;
    char name[48];
    int n, obs_dim, act_dim, max_steps, num_threads, was_reset;
    bgpbt_allocator allocator;
    bgpbt_logger logger;
    const bgpbt__env_backend* backend;
    void* task; /* built-in task data (owned by the backend) */
    size_t state_stride;
    unsigned char* states; /* user env states, n * state_stride */
    bgpbt_rng* rngs;       /* n */
    float *obs, *final_obs, *rewards, *act, *ep_ret_f; /* ep_ret_f: info record */
    double *ep_ret, *ep_ret_done; /* running return, and the return of the episode just ended */
    int *ep_len, *ep_len_done, *iterm;
    unsigned char *term, *trunc, *unstable;
    int n_terms;
    float* terms;                  /* n * n_terms */
    const char* const* term_names; /* n_terms */
    bgpbt_episode_stats stats;
};

BGPBT__PRIVATE int bgpbt__venv_threads(const bgpbt_vecenv* v) {
#if BGPBT__HAS_OPENMP
    return v->num_threads > 0 ? v->num_threads : omp_get_max_threads();
#else
    (void)v;
    return 1;
#endif
}

/* User-callback backend. */
BGPBT__PRIVATE void bgpbt__user_reset_one(bgpbt_vecenv* v, int i) {
    void* st = v->states ? (void*)(v->states + (size_t)i * v->state_stride) : NULL;
    v->def.reset(st, &v->rngs[i], v->obs + (size_t)i * (size_t)v->obs_dim, v->def.user);
}

BGPBT__PRIVATE void bgpbt__user_step_all(bgpbt_vecenv* v) {
    int i, n = v->n;
    if (v->def.step_batch) {
        v->def.step_batch(v->states, v->state_stride, n, v->act, v->rngs, v->obs, v->rewards,
                          v->iterm, v->def.user);
        return;
    }
    {
        int nt = bgpbt__venv_threads(v);
        (void)nt;
        BGPBT_OMP(parallel for num_threads(nt) schedule(static) if(nt > 1))
        for (i = 0; i < n; ++i) {
            void* st = v->states ? (void*)(v->states + (size_t)i * v->state_stride) : NULL;
            v->def.step(st, v->act + (size_t)i * (size_t)v->act_dim, &v->rngs[i],
                        v->obs + (size_t)i * (size_t)v->obs_dim, &v->rewards[i], &v->iterm[i],
                        v->def.user);
        }
    }
}

static const bgpbt__env_backend bgpbt__user_backend = {bgpbt__user_reset_one, bgpbt__user_step_all, NULL};

BGPBT_API bgpbt_vecenv_config bgpbt_vecenv_config_default(void) {
    bgpbt_vecenv_config c;
    memset(&c, 0, sizeof c);
    c.num_envs = 16;
    return c;
}

BGPBT_API void bgpbt_vecenv_destroy(bgpbt_vecenv* v) {
    size_t n, od, ad;
    bgpbt_allocator a;
    if (!v) return;
    a = v->allocator;
    n = (size_t)v->n;
    od = (size_t)v->obs_dim;
    ad = (size_t)v->act_dim;
    if (v->backend && v->backend->destroy) v->backend->destroy(v);
    if (v->states) bgpbt_mem_free(&a, v->states, n * v->state_stride);
    bgpbt__cfree(&a, v->rngs, n, sizeof(bgpbt_rng));
    bgpbt__cfree(&a, v->obs, n * od, sizeof(float));
    bgpbt__cfree(&a, v->final_obs, n * od, sizeof(float));
    bgpbt__cfree(&a, v->act, n * ad, sizeof(float));
    bgpbt__cfree(&a, v->rewards, n, sizeof(float));
    bgpbt__cfree(&a, v->ep_ret_f, n, sizeof(float));
    bgpbt__cfree(&a, v->ep_ret, n, sizeof(double));
    bgpbt__cfree(&a, v->ep_ret_done, n, sizeof(double));
    bgpbt__cfree(&a, v->ep_len, n, sizeof(int));
    bgpbt__cfree(&a, v->ep_len_done, n, sizeof(int));
    bgpbt__cfree(&a, v->iterm, n, sizeof(int));
    bgpbt__cfree(&a, v->term, n, 1);
    bgpbt__cfree(&a, v->trunc, n, 1);
    bgpbt__cfree(&a, v->unstable, n, 1);
    if (v->n_terms > 0) bgpbt__cfree(&a, v->terms, n * (size_t)v->n_terms, sizeof(float));
    bgpbt_mem_free(&a, v, sizeof *v);
}

/* Allocate the common part. The caller fills def/backend; on failure nothing is left. */
BGPBT__PRIVATE bgpbt_result bgpbt__venv_alloc(const bgpbt_vecenv_config* cfg, const char* name,
                                              int obs_dim, int act_dim, int n_terms,
                                              size_t state_bytes, bgpbt_vecenv** out) {
    bgpbt_vecenv* v;
    const bgpbt_allocator* a = &cfg->allocator;
    size_t n, od, ad;
    int i;
    v = (bgpbt_vecenv*)bgpbt__calloc(a, 1, sizeof *v);
    if (!v) return bgpbt__error(&cfg->logger, BGPBT_ERR_OUT_OF_MEMORY, "vecenv: out of memory");
    v->allocator = cfg->allocator;
    v->logger = cfg->logger;
    v->n = cfg->num_envs > 0 ? cfg->num_envs : 16;
    v->obs_dim = obs_dim;
    v->act_dim = act_dim;
    v->num_threads = cfg->num_threads;
    v->n_terms = n_terms;
    snprintf(v->name, sizeof v->name, "%s", name ? name : "user");
    n = (size_t)v->n;
    od = (size_t)obs_dim;
    ad = (size_t)act_dim;
    /* one cache line per copy at least, so threads never share a line of state */
    v->state_stride = state_bytes ? (state_bytes + 63u) & ~(size_t)63u : 0;
    if (v->state_stride) {
        v->states = (unsigned char*)bgpbt__calloc(a, n, v->state_stride);
        if (!v->states) goto oom;
    }
    v->rngs = (bgpbt_rng*)bgpbt__calloc(a, n, sizeof(bgpbt_rng));
    v->obs = (float*)bgpbt__calloc(a, n * od, sizeof(float));
    v->final_obs = (float*)bgpbt__calloc(a, n * od, sizeof(float));
    v->act = (float*)bgpbt__calloc(a, n * ad, sizeof(float));
    v->rewards = (float*)bgpbt__calloc(a, n, sizeof(float));
    v->ep_ret_f = (float*)bgpbt__calloc(a, n, sizeof(float));
    v->ep_ret = (double*)bgpbt__calloc(a, n, sizeof(double));
    v->ep_ret_done = (double*)bgpbt__calloc(a, n, sizeof(double));
    v->ep_len = (int*)bgpbt__calloc(a, n, sizeof(int));
    v->ep_len_done = (int*)bgpbt__calloc(a, n, sizeof(int));
    v->iterm = (int*)bgpbt__calloc(a, n, sizeof(int));
    v->term = (unsigned char*)bgpbt__calloc(a, n, 1);
    v->trunc = (unsigned char*)bgpbt__calloc(a, n, 1);
    v->unstable = (unsigned char*)bgpbt__calloc(a, n, 1);
    if (!v->rngs || !v->obs || !v->final_obs || !v->act || !v->rewards || !v->ep_ret_f ||
        !v->ep_ret || !v->ep_ret_done || !v->ep_len || !v->ep_len_done || !v->iterm || !v->term || !v->trunc ||
        !v->unstable)
        goto oom;
    if (n_terms > 0) {
        v->terms = (float*)bgpbt__calloc(a, n * (size_t)n_terms, sizeof(float));
        if (!v->terms) goto oom;
    }
    for (i = 0; i < v->n; ++i) bgpbt_rng_init(&v->rngs[i], cfg->seed, cfg->stream_base + (uint64_t)i);
    *out = v;
    return BGPBT_OK;
oom:
    bgpbt_vecenv_destroy(v);
    return bgpbt__error(&cfg->logger, BGPBT_ERR_OUT_OF_MEMORY,
                        "vecenv '%s': out of memory for %d copies", name ? name : "user",
                        cfg->num_envs);
}

BGPBT__PRIVATE bgpbt_result bgpbt__venv_check_config(const bgpbt_vecenv_config* cfg) {
    if (cfg->num_envs < 0 || cfg->num_envs > (1 << 24))
        return bgpbt__error(&cfg->logger, BGPBT_ERR_OUT_OF_RANGE,
                            "vecenv: num_envs = %d, must be in 1..16777216 (0 = 16)", cfg->num_envs);
    if (cfg->num_threads < 0)
        return bgpbt__error(&cfg->logger, BGPBT_ERR_OUT_OF_RANGE,
                            "vecenv: num_threads = %d, must be >= 0 (0 = OpenMP default)", cfg->num_threads);
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_vecenv_create(const bgpbt_env_def* def, const bgpbt_vecenv_config* config,
                                           bgpbt_vecenv** out) {
    bgpbt_vecenv_config cfg = config ? *config : bgpbt_vecenv_config_default();
    bgpbt_vecenv* v = NULL;
    bgpbt_result r;
    if (out) *out = NULL;
    if (!def || !out)
        return bgpbt__error(&cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "vecenv_create: %s is NULL",
                            !def ? "def" : "out");
    if ((r = bgpbt__venv_check_config(&cfg)) != BGPBT_OK) return r;
    if (def->obs_dim <= 0 || def->obs_dim > (1 << 20) || def->act_dim <= 0 || def->act_dim > (1 << 16))
        return bgpbt__error(&cfg.logger, BGPBT_ERR_OUT_OF_RANGE,
                            "vecenv_create: env '%s' has obs_dim %d and act_dim %d; both must be "
                            "positive (obs_dim <= 2^20, act_dim <= 2^16)",
                            def->name ? def->name : "user", def->obs_dim, def->act_dim);
    if (!def->reset || (!def->step && !def->step_batch))
        return bgpbt__error(&cfg.logger, BGPBT_ERR_INVALID_ARGUMENT,
                            "vecenv_create: env '%s' needs a reset callback and a step (or "
                            "step_batch) callback", def->name ? def->name : "user");
    if (def->max_episode_steps < 0)
        return bgpbt__error(&cfg.logger, BGPBT_ERR_OUT_OF_RANGE,
                            "vecenv_create: max_episode_steps = %d, must be >= 0 (0 = no limit)",
                            def->max_episode_steps);
    if (def->state_bytes > ((size_t)1 << 30))
        return bgpbt__error(&cfg.logger, BGPBT_ERR_LIMIT,
                            "vecenv_create: state_bytes = %lu is above the 1 GiB limit",
                            (unsigned long)def->state_bytes);
    r = bgpbt__venv_alloc(&cfg, def->name, def->obs_dim, def->act_dim, 0, def->state_bytes, &v);
    if (r != BGPBT_OK) return r;
    v->def = *def;
    v->def.name = v->name; /* the caller's string need not outlive the vecenv */
    v->max_steps = def->max_episode_steps;
    v->backend = &bgpbt__user_backend;
    *out = v;
    return BGPBT_OK;
}

BGPBT_API int bgpbt_vecenv_num_envs(const bgpbt_vecenv* v) { return v ? v->n : 0; }
BGPBT_API int bgpbt_vecenv_obs_dim(const bgpbt_vecenv* v) { return v ? v->obs_dim : 0; }
BGPBT_API int bgpbt_vecenv_act_dim(const bgpbt_vecenv* v) { return v ? v->act_dim : 0; }
BGPBT_API const char* bgpbt_vecenv_name(const bgpbt_vecenv* v) { return v ? v->name : ""; }
BGPBT_API int bgpbt_vecenv_max_episode_steps(const bgpbt_vecenv* v) { return v ? v->max_steps : 0; }
BGPBT_API const float* bgpbt_vecenv_obs(const bgpbt_vecenv* v) { return v ? v->obs : NULL; }
BGPBT_API const float* bgpbt_vecenv_final_obs(const bgpbt_vecenv* v) { return v ? v->final_obs : NULL; }
BGPBT_API const float* bgpbt_vecenv_rewards(const bgpbt_vecenv* v) { return v ? v->rewards : NULL; }
BGPBT_API const unsigned char* bgpbt_vecenv_terminated(const bgpbt_vecenv* v) { return v ? v->term : NULL; }
BGPBT_API const unsigned char* bgpbt_vecenv_truncated(const bgpbt_vecenv* v) { return v ? v->trunc : NULL; }
BGPBT_API const float* bgpbt_vecenv_episode_returns(const bgpbt_vecenv* v) { return v ? v->ep_ret_f : NULL; }
BGPBT_API const int* bgpbt_vecenv_episode_lengths(const bgpbt_vecenv* v) { return v ? v->ep_len_done : NULL; }
BGPBT_API const int* bgpbt_vecenv_step_counts(const bgpbt_vecenv* v) { return v ? v->ep_len : NULL; }
BGPBT_API const float* bgpbt_vecenv_reward_terms(const bgpbt_vecenv* v, int* num_terms) {
    if (num_terms) *num_terms = v ? v->n_terms : 0;
    return v && v->n_terms > 0 ? v->terms : NULL;
}
BGPBT_API const char* bgpbt_vecenv_reward_term_name(const bgpbt_vecenv* v, int term) {
    if (!v || term < 0 || term >= v->n_terms || !v->term_names) return NULL;
    return v->term_names[term];
}
BGPBT_API void* bgpbt_vecenv_user_state(bgpbt_vecenv* v, int env) {
    if (!v || !v->states || env < 0 || env >= v->n) return NULL;
    return v->states + (size_t)env * v->state_stride;
}

BGPBT__PRIVATE void bgpbt__venv_clear_one(bgpbt_vecenv* v, int i) {
    v->ep_len[i] = 0;
    v->ep_ret[i] = 0.0;
}

BGPBT_API bgpbt_result bgpbt_vecenv_reset(bgpbt_vecenv* v) {
    int i, n, nt;
    if (!v) return BGPBT_ERR_INVALID_ARGUMENT;
    n = v->n;
    nt = bgpbt__venv_threads(v);
    (void)nt;
    BGPBT_OMP(parallel for num_threads(nt) schedule(static) if(nt > 1))
    for (i = 0; i < n; ++i) {
        bgpbt__venv_clear_one(v, i);
        v->term[i] = v->trunc[i] = v->unstable[i] = 0;
        v->rewards[i] = 0.0f;
        v->backend->reset_one(v, i);
    }
    v->was_reset = 1;
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_vecenv_reset_one(bgpbt_vecenv* v, int env) {
    if (!v) return BGPBT_ERR_INVALID_ARGUMENT;
    if (env < 0 || env >= v->n)
        return bgpbt__error(&v->logger, BGPBT_ERR_OUT_OF_RANGE,
                            "vecenv_reset_one: env %d is outside 0..%d", env, v->n - 1);
    if (!v->was_reset)
        return bgpbt__error(&v->logger, BGPBT_ERR_WRONG_ORDER,
                            "vecenv_reset_one: call bgpbt_vecenv_reset first");
    bgpbt__venv_clear_one(v, env);
    v->term[env] = v->trunc[env] = v->unstable[env] = 0;
    v->backend->reset_one(v, env);
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_vecenv_step(bgpbt_vecenv* v, const float* actions) {
    size_t k, total;
    int i, n, nt, od;
    if (!v) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!actions)
        return bgpbt__error(&v->logger, BGPBT_ERR_INVALID_ARGUMENT, "vecenv_step('%s'): actions is NULL", v->name);
    if (!v->was_reset)
        return bgpbt__error(&v->logger, BGPBT_ERR_WRONG_ORDER,
                            "vecenv_step('%s'): call bgpbt_vecenv_reset before the first step", v->name);
    /* Validate everything before changing anything: a NaN action leaves the vecenv as it was. */
    total = (size_t)v->n * (size_t)v->act_dim;
    for (k = 0; k < total; ++k) {
        if (actions[k] != actions[k]) /* NaN; +-inf is clipped like any large value */
            return bgpbt__error(&v->logger, BGPBT_ERR_NOT_FINITE,
                                "vecenv_step('%s'): action %d of env %d is NaN", v->name,
                                (int)(k % (size_t)v->act_dim), (int)(k / (size_t)v->act_dim));
    }
    for (k = 0; k < total; ++k) {
        float a = actions[k];
        v->act[k] = a > 1.0f ? 1.0f : a < -1.0f ? -1.0f : a;
    }
    v->backend->step_all(v);
    n = v->n;
    od = v->obs_dim;
    nt = bgpbt__venv_threads(v);
    (void)nt;
    BGPBT_OMP(parallel for num_threads(nt) schedule(static) if(nt > 1))
    for (i = 0; i < n; ++i) {
        float* o = v->obs + (size_t)i * (size_t)od;
        float r = v->rewards[i];
        int j, bad = !bgpbt__isfinitef(r), t = v->iterm[i] != 0;
        for (j = 0; j < od && !bad; ++j) bad = !bgpbt__isfinitef(o[j]);
        if (bad) { /* a blown-up copy ends its episode; the learner never sees the NaN */
            r = 0.0f;
            t = 1;
            for (j = 0; j < od; ++j) o[j] = 0.0f;
        }
        v->rewards[i] = r;
        v->unstable[i] = (unsigned char)bad;
        v->ep_len[i] += 1;
        v->ep_ret[i] += (double)r;
        v->term[i] = (unsigned char)t;
        v->trunc[i] = (unsigned char)(!t && v->max_steps > 0 && v->ep_len[i] >= v->max_steps);
        if (t || v->trunc[i]) {
            memcpy(v->final_obs + (size_t)i * (size_t)od, o, (size_t)od * sizeof(float));
            v->ep_ret_done[i] = v->ep_ret[i];
            v->ep_ret_f[i] = (float)v->ep_ret[i];
            v->ep_len_done[i] = v->ep_len[i];
            bgpbt__venv_clear_one(v, i);
            v->backend->reset_one(v, i); /* a fresh draw from this copy's stream */
        }
    }
    /* statistics in index order: the same sums for any thread count */
    for (i = 0; i < n; ++i) {
        if (v->term[i] || v->trunc[i]) {
            double R = v->ep_ret_done[i];
            v->stats.episodes += 1;
            v->stats.return_sum += R;
            v->stats.return_sq_sum += R * R;
            v->stats.length_sum += (double)v->ep_len_done[i];
            v->stats.terminated += v->term[i];
            v->stats.unstable += v->unstable[i];
        }
    }
    return BGPBT_OK;
}

BGPBT_API void bgpbt_vecenv_take_stats(bgpbt_vecenv* v, bgpbt_episode_stats* out) {
    if (!v) {
        if (out) memset(out, 0, sizeof *out);
        return;
    }
    if (out) *out = v->stats;
    memset(&v->stats, 0, sizeof v->stats);
}


/* ---- [impl.env.render] SVG rendering -------------------------------------------------------- */

BGPBT__PRIVATE void bgpbt__env_qrot(const float q[4], const float v[3], float out[3]) {
    /* v + 2 w (u x v) + 2 u x (u x v), u = (x, y, z) */
    float ux = q[1], uy = q[2], uz = q[3], w = q[0];
    float tx = 2.0f * (uy * v[2] - uz * v[1]);
    float ty = 2.0f * (uz * v[0] - ux * v[2]);
    float tz = 2.0f * (ux * v[1] - uy * v[0]);
    out[0] = v[0] + w * tx + (uy * tz - uz * ty);
    out[1] = v[1] + w * ty + (uz * tx - ux * tz);
    out[2] = v[2] + w * tz + (ux * ty - uy * tx);
}

BGPBT_API bgpbt_render_options bgpbt_render_options_default(void) {
    bgpbt_render_options o;
    memset(&o, 0, sizeof o);
    o.width = 360;
    o.views = 3;
    o.frames = 1;
    return o;
}

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 2, 3)))
#endif
BGPBT__PRIVATE void bgpbt__svgf(bgpbt_writer* w, const char* fmt, ...) {
    char tmp[512];
    int len;
    va_list ap;
    va_start(ap, fmt);
    len = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (len > 0) bgpbt_write_bytes(w, tmp, (size_t)len < sizeof tmp ? (size_t)len : sizeof tmp - 1);
}

/* Projection axes per view: side shows (x, z) with depth y (far = +y), top shows (x, y) with
   depth z (far = -z). */
BGPBT__PRIVATE void bgpbt__env_project(int view, const float p[3], float* u, float* v, float* depth) {
    *u = p[0];
    if (view == 0) { *v = p[2]; *depth = p[1]; }
    else { *v = p[1]; *depth = -p[2]; }
}

/* Half-extent of a geom along world axis k (for fitting the view). */
BGPBT__PRIVATE float bgpbt__env_geom_extent(const bgpbt_render_geom* g, int k) {
    float e = 0.0f, ax[3], loc[3] = {0, 0, 0};
    int j;
    if (g->type == BGPBT_GEOM_SPHERE) return g->size[0];
    if (g->type == BGPBT_GEOM_CAPSULE) {
        loc[2] = g->size[1];
        bgpbt__env_qrot(g->quat, loc, ax);
        return (float)fabs(ax[k]) + g->size[0];
    }
    if (g->type == BGPBT_GEOM_BOX) {
        for (j = 0; j < 3; ++j) {
            loc[0] = loc[1] = loc[2] = 0.0f;
            loc[j] = g->size[j];
            bgpbt__env_qrot(g->quat, loc, ax);
            e += (float)fabs(ax[k]);
        }
    }
    return e;
}

typedef struct bgpbt__env_draw { float depth; int index; } bgpbt__env_draw;

BGPBT__PRIVATE void bgpbt__env_svg_view(bgpbt_writer* w, int view, const bgpbt_render_geom* geoms,
                                        int ng, int frames, float x0, float y0, float size_px,
                                        float cu, float cv, float extent, bgpbt__env_draw* order) {
    float sc = size_px / extent;
    int f, i, j;
    /* view frame and title */
    bgpbt__svgf(w, "<g><rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='%s' stroke='#999'/>\n",
                x0, y0, size_px, size_px, view == 0 ? "#eef3fa" : "#f4f1ea");
    bgpbt__svgf(w, "<text x='%.1f' y='%.1f' font-family='sans-serif' font-size='12' fill='#555'>%s</text>\n",
                x0 + 4, y0 + 14, view == 0 ? "side (x right, z up)" : "top (x right, y up)");
    /* ground: a line in the side view, a 1 m grid in the top view */
    for (i = 0; i < ng; ++i) {
        const bgpbt_render_geom* g = &geoms[i];
        if (g->type != BGPBT_GEOM_PLANE) continue;
        if (view == 0) {
            float py = y0 + size_px * 0.5f - (g->pos[2] - cv) * sc;
            if (py > y0 && py < y0 + size_px)
                bgpbt__svgf(w, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='#d9d2c3'/>"
                            "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#776' stroke-width='1.5'/>\n",
                            x0, py, size_px, y0 + size_px - py, x0, py, x0 + size_px, py);
        } else {
            float g0u = (float)floor(cu - extent * 0.5f), g0v = (float)floor(cv - extent * 0.5f);
            for (j = 0; j <= (int)extent + 1; ++j) {
                float pu = x0 + size_px * 0.5f + (g0u + (float)j - cu) * sc;
                float pv = y0 + size_px * 0.5f - (g0v + (float)j - cv) * sc;
                if (pu > x0 && pu < x0 + size_px)
                    bgpbt__svgf(w, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd6c8'/>\n",
                                pu, y0, pu, y0 + size_px);
                if (pv > y0 && pv < y0 + size_px)
                    bgpbt__svgf(w, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd6c8'/>\n",
                                x0, pv, x0 + size_px, pv);
            }
        }
        break;
    }
    bgpbt__svgf(w, "<svg x='%.1f' y='%.1f' width='%.1f' height='%.1f' overflow='hidden'>\n",
                x0, y0, size_px, size_px);
    for (f = 0; f < frames; ++f) {
        const bgpbt_render_geom* fg = geoms + (size_t)f * (size_t)ng;
        float alpha = frames > 1 ? 0.25f + 0.75f * (float)(f + 1) / (float)frames : 1.0f;
        int m = 0;
        for (i = 0; i < ng; ++i) {
            float u, v, d;
            if (fg[i].type == BGPBT_GEOM_PLANE) continue;
            bgpbt__env_project(view, fg[i].pos, &u, &v, &d);
            order[m].depth = d;
            order[m].index = i;
            ++m;
        }
        /* far to near (insertion sort: a few dozen geoms; ties keep index order) */
        for (i = 1; i < m; ++i) {
            bgpbt__env_draw key = order[i];
            j = i - 1;
            while (j >= 0 && order[j].depth < key.depth) { order[j + 1] = order[j]; --j; }
            order[j + 1] = key;
        }
        for (i = 0; i < m; ++i) {
            const bgpbt_render_geom* g = &fg[order[i].index];
            int rr = (int)(255.0f * (g->rgba[0] < 0 ? 0 : g->rgba[0] > 1 ? 1 : g->rgba[0]));
            int gg = (int)(255.0f * (g->rgba[1] < 0 ? 0 : g->rgba[1] > 1 ? 1 : g->rgba[1]));
            int bb = (int)(255.0f * (g->rgba[2] < 0 ? 0 : g->rgba[2] > 1 ? 1 : g->rgba[2]));
            float op = alpha * (g->rgba[3] <= 0.0f ? 1.0f : g->rgba[3] > 1.0f ? 1.0f : g->rgba[3]);
            float u, v, d;
            bgpbt__env_project(view, g->pos, &u, &v, &d);
            u = size_px * 0.5f + (u - cu) * sc;
            v = size_px * 0.5f - (v - cv) * sc;
            if (g->type == BGPBT_GEOM_SPHERE) {
                bgpbt__svgf(w, "<circle cx='%.1f' cy='%.1f' r='%.2f' fill='#%02x%02x%02x' "
                            "fill-opacity='%.2f' stroke='#333' stroke-opacity='%.2f' stroke-width='0.8'/>\n",
                            u, v, g->size[0] * sc, rr, gg, bb, op, op);
            } else if (g->type == BGPBT_GEOM_CAPSULE) {
                float loc[3] = {0, 0, 0}, ax[3], pa[3], pb[3], ua, va, ub, vb;
                loc[2] = g->size[1];
                bgpbt__env_qrot(g->quat, loc, ax);
                for (j = 0; j < 3; ++j) { pa[j] = g->pos[j] - ax[j]; pb[j] = g->pos[j] + ax[j]; }
                bgpbt__env_project(view, pa, &ua, &va, &d);
                bgpbt__env_project(view, pb, &ub, &vb, &d);
                ua = size_px * 0.5f + (ua - cu) * sc; va = size_px * 0.5f - (va - cv) * sc;
                ub = size_px * 0.5f + (ub - cu) * sc; vb = size_px * 0.5f - (vb - cv) * sc;
                /* outline: a slightly wider dark stroke under the coloured one */
                bgpbt__svgf(w, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#333' "
                            "stroke-opacity='%.2f' stroke-width='%.2f' stroke-linecap='round'/>\n",
                            ua, va, ub, vb, op, 2.0f * g->size[0] * sc + 1.6f);
                bgpbt__svgf(w, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#%02x%02x%02x' "
                            "stroke-opacity='%.2f' stroke-width='%.2f' stroke-linecap='round'/>\n",
                            ua, va, ub, vb, rr, gg, bb, op > 0.999f ? 1.0f : op, 2.0f * g->size[0] * sc);
            } else if (g->type == BGPBT_GEOM_BOX) {
                float pu[8], pv[8];
                int hull[9], nh = 0, start = 0, cur, k;
                for (k = 0; k < 8; ++k) {
                    float loc[3], wv[3], p[3];
                    loc[0] = (k & 1) ? g->size[0] : -g->size[0];
                    loc[1] = (k & 2) ? g->size[1] : -g->size[1];
                    loc[2] = (k & 4) ? g->size[2] : -g->size[2];
                    bgpbt__env_qrot(g->quat, loc, wv);
                    for (j = 0; j < 3; ++j) p[j] = g->pos[j] + wv[j];
                    bgpbt__env_project(view, p, &pu[k], &pv[k], &d);
                    if (pu[k] < pu[start] || (pu[k] == pu[start] && pv[k] < pv[start])) start = k;
                }
                /* gift wrapping over 8 points */
                cur = start;
                do {
                    int nxt = (cur + 1) % 8;
                    hull[nh++] = cur;
                    for (k = 0; k < 8; ++k) {
                        float cr = (pu[nxt] - pu[cur]) * (pv[k] - pv[cur]) - (pv[nxt] - pv[cur]) * (pu[k] - pu[cur]);
                        if (cr < 0.0f) nxt = k;
                    }
                    cur = nxt;
                } while (cur != start && nh < 8);
                bgpbt__svgf(w, "<polygon points='");
                for (k = 0; k < nh; ++k)
                    bgpbt__svgf(w, "%.1f,%.1f ", size_px * 0.5f + (pu[hull[k]] - cu) * sc,
                                size_px * 0.5f - (pv[hull[k]] - cv) * sc);
                bgpbt__svgf(w, "' fill='#%02x%02x%02x' fill-opacity='%.2f' stroke='#333' "
                            "stroke-opacity='%.2f' stroke-width='0.8'/>\n", rr, gg, bb, op, op);
            }
        }
    }
    bgpbt__svgf(w, "</svg></g>\n");
}

BGPBT_API bgpbt_result bgpbt_render_svg(const bgpbt_render_geom* geoms, int num_geoms,
                                        const bgpbt_render_options* options, char* buf,
                                        size_t cap, size_t* size) {
    bgpbt_render_options o = options ? *options : bgpbt_render_options_default();
    bgpbt_writer w;
    bgpbt__env_draw order_stack[64];
    bgpbt__env_draw* order = order_stack;
    float lo[3] = {1e30f, 1e30f, 1e30f}, hi[3] = {-1e30f, -1e30f, -1e30f}, extent[2], cen[2][2];
    float ground = 0.0f, size_px, total_w;
    int i, k, nviews, view, vi, have_ground = 0;
    size_t total;
    if (size) *size = 0;
    if (!size || (num_geoms > 0 && !geoms) || num_geoms < 0) return BGPBT_ERR_INVALID_ARGUMENT;
    if (buf) { /* size it first, so a short buffer is refused before anything is written */
        bgpbt_result r = bgpbt_render_svg(geoms, num_geoms, options, NULL, 0, size);
        if (r != BGPBT_OK) return r;
        if (cap <= *size) {
            if (cap > 0) buf[0] = '\0';
            return BGPBT_ERR_BUFFER_TOO_SMALL;
        }
    }
    if (o.width <= 0) o.width = 360;
    if (o.views <= 0 || o.views > 3) o.views = 3;
    if (o.frames <= 0) o.frames = 1;
    total = (size_t)num_geoms * (size_t)o.frames;
    for (i = 0; i < (int)total; ++i) {
        const bgpbt_render_geom* g = &geoms[i];
        if (!bgpbt__isfinitef(g->pos[0]) || !bgpbt__isfinitef(g->pos[1]) || !bgpbt__isfinitef(g->pos[2]) ||
            !bgpbt__isfinitef(g->quat[0]) || !bgpbt__isfinitef(g->quat[1]) ||
            !bgpbt__isfinitef(g->quat[2]) || !bgpbt__isfinitef(g->quat[3]))
            return BGPBT_ERR_NOT_FINITE;
        if (g->type == BGPBT_GEOM_PLANE) { ground = g->pos[2]; have_ground = 1; continue; }
        for (k = 0; k < 3; ++k) {
            float e = bgpbt__env_geom_extent(g, k);
            if (g->pos[k] - e < lo[k]) lo[k] = g->pos[k] - e;
            if (g->pos[k] + e > hi[k]) hi[k] = g->pos[k] + e;
        }
    }
    if (lo[0] > hi[0]) { for (k = 0; k < 3; ++k) { lo[k] = -1.0f; hi[k] = 1.0f; } }
    if (have_ground && ground < lo[2]) lo[2] = ground;
    /* one scale for both views, so sizes compare; centre each view on its geoms */
    extent[0] = hi[0] - lo[0] > hi[2] - lo[2] ? hi[0] - lo[0] : hi[2] - lo[2];
    extent[1] = hi[0] - lo[0] > hi[1] - lo[1] ? hi[0] - lo[0] : hi[1] - lo[1];
    {
        float e = (extent[0] > extent[1] ? extent[0] : extent[1]) * 1.15f + 0.2f;
        if (o.extent > 0.0f) e = o.extent;
        extent[0] = extent[1] = e;
    }
    cen[0][0] = 0.5f * (lo[0] + hi[0]);
    cen[0][1] = 0.5f * (lo[2] + hi[2]);
    cen[1][0] = 0.5f * (lo[0] + hi[0]);
    cen[1][1] = 0.5f * (lo[1] + hi[1]);
    if (num_geoms > 64) {
        order = (bgpbt__env_draw*)bgpbt__calloc(NULL, (size_t)num_geoms, sizeof *order);
        if (!order) return BGPBT_ERR_OUT_OF_MEMORY;
    }
    nviews = (o.views & 1) + ((o.views >> 1) & 1);
    size_px = (float)o.width;
    total_w = (size_px + 10.0f) * (float)nviews + 10.0f;
    memset(&w, 0, sizeof w);
    w.buf = (unsigned char*)buf;
    w.cap = buf ? cap : 0;
    bgpbt__svgf(&w, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' viewBox='0 0 %d %d'>\n",
                (int)total_w, (int)size_px + 44, (int)total_w, (int)size_px + 44);
    bgpbt__svgf(&w, "<rect width='100%%' height='100%%' fill='white'/>\n");
    vi = 0;
    for (view = 0; view < 2; ++view) {
        if (!(o.views & (1 << view))) continue;
        bgpbt__env_svg_view(&w, view, geoms, num_geoms, o.frames, 10.0f + (size_px + 10.0f) * (float)vi,
                            10.0f, size_px, cen[view][0], cen[view][1], extent[view], order);
        ++vi;
    }
    bgpbt__svgf(&w, "<text x='10' y='%d' font-family='sans-serif' font-size='13' fill='#222'>",
                (int)size_px + 32);
    if (o.title) { /* escape the caption */
        const char* c;
        for (c = o.title; *c; ++c) {
            if (*c == '<') bgpbt__svgf(&w, "&lt;");
            else if (*c == '>') bgpbt__svgf(&w, "&gt;");
            else if (*c == '&') bgpbt__svgf(&w, "&amp;");
            else bgpbt_write_bytes(&w, c, 1);
        }
    }
    bgpbt__svgf(&w, " (grid 1 m; view %.2f m across)</text>\n</svg>\n", extent[0]);
    if (order != order_stack) bgpbt__cfree(NULL, order, (size_t)num_geoms, sizeof *order);
    *size = w.pos;
    if (!buf) return BGPBT_OK;
    if (w.overflow || w.pos >= cap) { /* cannot happen after the sizing pass */
        if (cap > 0) buf[0] = '\0';
        return BGPBT_ERR_INTERNAL;
    }
    buf[w.pos] = '\0';
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_render_svg_file(const char* path, const bgpbt_render_geom* geoms,
                                             int num_geoms, const bgpbt_render_options* options) {
    size_t need = 0;
    char* text;
    bgpbt_result r;
    if (!path) return BGPBT_ERR_INVALID_ARGUMENT;
    r = bgpbt_render_svg(geoms, num_geoms, options, NULL, 0, &need);
    if (r != BGPBT_OK) return r;
    text = (char*)bgpbt_mem_alloc(NULL, need + 1, 16);
    if (!text) return BGPBT_ERR_OUT_OF_MEMORY;
    r = bgpbt_render_svg(geoms, num_geoms, options, text, need + 1, &need);
    if (r == BGPBT_OK) r = bgpbt_file_write_atomic(path, text, need);
    bgpbt_mem_free(NULL, text, need + 1);
    return r;
}

/* ============================================================================================
   [impl.nn] nn
   ============================================================================================ */

#define BGPBT__NN_PAD 32 /* every fan_out is stored rounded up to this (a GEMM column panel) */
#define BGPBT__NN_INFER_CHUNK 1024
#define BGPBT__MLP_KIND BGPBT_FOURCC('M', 'L', 'P', ' ')
#define BGPBT__MLP_VERSION 1u

struct bgpbt_mlp {
    bgpbt_mlp_config cfg;
    int nl;                                  /* linear layers = num_hidden + 1 */
    int dim[BGPBT_MLP_MAX_HIDDEN + 2];       /* dim[0] = in, dim[l + 1] = fan_out of layer l */
    int pad[BGPBT_MLP_MAX_HIDDEN + 2];       /* rounded up to BGPBT__NN_PAD (pad[0] too) */
    size_t woff[BGPBT_MLP_MAX_HIDDEN + 1], boff[BGPBT_MLP_MAX_HIDDEN + 1];
    size_t np_pad, np, maxpad;
    float *params, *grads, *m, *v; /* np_pad each */
    long adam_t;
    int last_batch;                /* rows of the last training forward (0: none) */
    float* xin;                    /* [max_batch][in] copy of the last training input */
    float* z[BGPBT_MLP_MAX_HIDDEN + 1]; /* pre-activations [max_batch][pad[l+1]] */
    float* h[BGPBT_MLP_MAX_HIDDEN];     /* hidden outputs [max_batch][pad[l+1]] */
    float *g0, *g1;                /* backward ping-pong [max_batch][maxpad] */
    float* xt;                     /* a layer input transposed, [maxpad][max_batch] */
    float* wt;                     /* transposed weights scratch [maxpad][maxpad] */
    float *i0, *i1;                /* inference ping-pong [chunk][maxpad] */
    int chunk;
    size_t act_floats, infer_floats;
};

BGPBT__INLINE int bgpbt__nn_pad(int d) { return (d + BGPBT__NN_PAD - 1) / BGPBT__NN_PAD * BGPBT__NN_PAD; }

/* Index of weight (i = input, j = output) of layer l: panel-major, 32 outputs per panel. */
#define BGPBT__WIDX(n, l, i, j) ((n)->woff[l] + (size_t)((j) / 32) * (size_t)(n)->dim[l] * 32u + (size_t)(i) * 32u + (size_t)((j) % 32))

BGPBT_API bgpbt_mlp_config bgpbt_mlp_config_default(void) {
    bgpbt_mlp_config c;
    memset(&c, 0, sizeof c);
    c.num_hidden = 2;
    c.hidden[0] = c.hidden[1] = 64;
    c.activation = BGPBT_ACT_SILU;
    c.max_batch = 256;
    c.last_layer_scale = 1.0f;
    return c;
}

BGPBT_API bgpbt_adam_config bgpbt_adam_config_default(void) {
    bgpbt_adam_config a;
    a.learning_rate = 3e-4f;
    a.beta1 = 0.9f;
    a.beta2 = 0.999f;
    a.eps = 1e-8f;
    a.max_grad_norm = 0.0f;
    return a;
}

BGPBT__PRIVATE bgpbt_result bgpbt__mlp_check_config(const bgpbt_mlp_config* c) {
    const bgpbt_logger* lg = &c->logger;
    int l;
    if (c->in_dim < 1 || c->in_dim > (1 << 20) || c->out_dim < 1 || c->out_dim > (1 << 20))
        return bgpbt__error(lg, BGPBT_ERR_INVALID_ARGUMENT, "mlp: in_dim %d and out_dim %d must be in 1..2^20",
                            c->in_dim, c->out_dim);
    if (c->num_hidden < 0 || c->num_hidden > BGPBT_MLP_MAX_HIDDEN)
        return bgpbt__error(lg, BGPBT_ERR_LIMIT, "mlp: num_hidden %d must be in 0..%d", c->num_hidden,
                            BGPBT_MLP_MAX_HIDDEN);
    for (l = 0; l < c->num_hidden; ++l)
        if (c->hidden[l] < 1 || c->hidden[l] > (1 << 16))
            return bgpbt__error(lg, BGPBT_ERR_INVALID_ARGUMENT, "mlp: hidden[%d] = %d must be in 1..65536", l,
                                c->hidden[l]);
    if ((int)c->activation < 0 || (int)c->activation > 3)
        return bgpbt__error(lg, BGPBT_ERR_INVALID_ARGUMENT, "mlp: unknown activation %d", (int)c->activation);
    if (c->max_batch < 0 || c->max_batch > (1 << 24))
        return bgpbt__error(lg, BGPBT_ERR_LIMIT, "mlp: max_batch %d must be in 0..2^24", c->max_batch);
    if (!bgpbt__isfinitef(c->last_layer_scale))
        return bgpbt__error(lg, BGPBT_ERR_NOT_FINITE, "mlp: last_layer_scale is not finite");
    return BGPBT_OK;
}

BGPBT_API void bgpbt_mlp_destroy(bgpbt_mlp* n) {
    const bgpbt_allocator* a;
    int l;
    size_t mb;
    if (!n) return;
    a = &n->cfg.allocator;
    mb = (size_t)n->cfg.max_batch;
    bgpbt__cfree(a, n->params, n->np_pad, sizeof(float));
    bgpbt__cfree(a, n->grads, n->np_pad, sizeof(float));
    bgpbt__cfree(a, n->m, n->np_pad, sizeof(float));
    bgpbt__cfree(a, n->v, n->np_pad, sizeof(float));
    bgpbt__cfree(a, n->xin, mb * (size_t)n->dim[0], sizeof(float));
    for (l = 0; l < n->nl; ++l) bgpbt__cfree(a, n->z[l], mb * (size_t)n->pad[l + 1], sizeof(float));
    for (l = 0; l + 1 < n->nl; ++l) bgpbt__cfree(a, n->h[l], mb * (size_t)n->pad[l + 1], sizeof(float));
    bgpbt__cfree(a, n->g0, mb * n->maxpad, sizeof(float));
    bgpbt__cfree(a, n->g1, mb * n->maxpad, sizeof(float));
    bgpbt__cfree(a, n->xt, mb * n->maxpad, sizeof(float));
    bgpbt__cfree(a, n->wt, n->maxpad * n->maxpad, sizeof(float));
    bgpbt__cfree(a, n->i0, (size_t)n->chunk * n->maxpad, sizeof(float));
    bgpbt__cfree(a, n->i1, (size_t)n->chunk * n->maxpad, sizeof(float));
    bgpbt_mem_free(a, n, sizeof *n);
}

/* Shapes and buffers, no initialisation. */
BGPBT__PRIVATE bgpbt_result bgpbt__mlp_alloc(const bgpbt_mlp_config* config, bgpbt_mlp** out) {
    bgpbt_mlp* n;
    bgpbt_mlp_config c = *config;
    size_t off = 0, mb;
    int l, ok = 1;
    bgpbt_result r;
    *out = NULL;
    if (c.max_batch == 0) c.max_batch = 256;
    if (c.last_layer_scale == 0.0f) c.last_layer_scale = 1.0f;
    r = bgpbt__mlp_check_config(&c);
    if (r != BGPBT_OK) return r;
    n = (bgpbt_mlp*)bgpbt_mem_alloc(&c.allocator, sizeof *n, 64);
    if (!n) return bgpbt__error(&c.logger, BGPBT_ERR_OUT_OF_MEMORY, "mlp: out of memory");
    memset(n, 0, sizeof *n);
    n->cfg = c;
    n->nl = c.num_hidden + 1;
    n->dim[0] = c.in_dim;
    for (l = 0; l < c.num_hidden; ++l) n->dim[l + 1] = c.hidden[l];
    n->dim[n->nl] = c.out_dim;
    n->maxpad = 0;
    for (l = 0; l <= n->nl; ++l) {
        n->pad[l] = bgpbt__nn_pad(n->dim[l]);
        if ((size_t)n->pad[l] > n->maxpad) n->maxpad = (size_t)n->pad[l];
    }
    n->np = 0;
    for (l = 0; l < n->nl; ++l) {
        n->woff[l] = off;
        off += (size_t)n->dim[l] * (size_t)n->pad[l + 1];
        n->boff[l] = off;
        off += (size_t)n->pad[l + 1];
        n->np += (size_t)n->dim[l] * (size_t)n->dim[l + 1] + (size_t)n->dim[l + 1];
    }
    n->np_pad = off;
    mb = (size_t)c.max_batch;
    n->chunk = c.max_batch < BGPBT__NN_INFER_CHUNK ? c.max_batch : BGPBT__NN_INFER_CHUNK;
    n->params = (float*)bgpbt__calloc(&c.allocator, off, sizeof(float));
    n->grads = (float*)bgpbt__calloc(&c.allocator, off, sizeof(float));
    n->m = (float*)bgpbt__calloc(&c.allocator, off, sizeof(float));
    n->v = (float*)bgpbt__calloc(&c.allocator, off, sizeof(float));
    ok = n->params && n->grads && n->m && n->v;
    if (ok) ok = (n->xin = (float*)bgpbt__calloc(&c.allocator, mb * (size_t)c.in_dim, sizeof(float))) != NULL;
    for (l = 0; ok && l < n->nl; ++l)
        ok = (n->z[l] = (float*)bgpbt__calloc(&c.allocator, mb * (size_t)n->pad[l + 1], sizeof(float))) != NULL;
    for (l = 0; ok && l + 1 < n->nl; ++l)
        ok = (n->h[l] = (float*)bgpbt__calloc(&c.allocator, mb * (size_t)n->pad[l + 1], sizeof(float))) != NULL;
    if (ok) ok = (n->g0 = (float*)bgpbt__calloc(&c.allocator, mb * n->maxpad, sizeof(float))) != NULL;
    if (ok) ok = (n->g1 = (float*)bgpbt__calloc(&c.allocator, mb * n->maxpad, sizeof(float))) != NULL;
    if (ok) ok = (n->xt = (float*)bgpbt__calloc(&c.allocator, mb * n->maxpad, sizeof(float))) != NULL;
    if (ok) ok = (n->wt = (float*)bgpbt__calloc(&c.allocator, n->maxpad * n->maxpad, sizeof(float))) != NULL;
    if (ok) ok = (n->i0 = (float*)bgpbt__calloc(&c.allocator, (size_t)n->chunk * n->maxpad, sizeof(float))) != NULL;
    if (ok) ok = (n->i1 = (float*)bgpbt__calloc(&c.allocator, (size_t)n->chunk * n->maxpad, sizeof(float))) != NULL;
    if (!ok) {
        bgpbt_mlp_destroy(n);
        return bgpbt__error(&c.logger, BGPBT_ERR_OUT_OF_MEMORY, "mlp: out of memory for %lu parameters",
                            (unsigned long)off);
    }
    *out = n;
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_mlp_create(const bgpbt_mlp_config* config, bgpbt_mlp** out) {
    bgpbt_mlp* n;
    bgpbt_result r;
    bgpbt_rng rng;
    int l;
    if (!out) return BGPBT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!config) return BGPBT_ERR_INVALID_ARGUMENT;
    r = bgpbt__mlp_alloc(config, &n);
    if (r != BGPBT_OK) return r;
    bgpbt_rng_init(&rng, n->cfg.seed, n->cfg.stream);
    for (l = 0; l < n->nl; ++l) { /* lecun_uniform: U(+-sqrt(3 / fan_in)), biases 0 */
        double lim = sqrt(3.0 / (double)n->dim[l]) * (l == n->nl - 1 ? (double)n->cfg.last_layer_scale : 1.0);
        int i, j;
        for (i = 0; i < n->dim[l]; ++i)
            for (j = 0; j < n->dim[l + 1]; ++j)
                n->params[BGPBT__WIDX(n, l, i, j)] =
                    (float)(lim * (2.0 * bgpbt_rng_double(&rng) - 1.0));
    }
    *out = n;
    return BGPBT_OK;
}

BGPBT_API bgpbt_mlp_config bgpbt_mlp_get_config(const bgpbt_mlp* n) { return n->cfg; }
BGPBT_API size_t bgpbt_mlp_num_params(const bgpbt_mlp* n) { return n ? n->np : 0; }
BGPBT_API long bgpbt_mlp_adam_steps(const bgpbt_mlp* n) { return n ? n->adam_t : 0; }

/* z += bias, then h = act(z) over rows [0, rows) of width w (a multiple of the vector width). */
BGPBT__PRIVATE void bgpbt__nn_bias_act(float* z, float* h, const float* bias, int rows, int w,
                                       bgpbt_activation act) {
    int i;
    BGPBT_OMP(parallel for schedule(static) if ((double)rows * w > 1048576.0))
    for (i = 0; i < rows; ++i) {
        float* zr = z + (size_t)i * (size_t)w;
        float* hr = h ? h + (size_t)i * (size_t)w : NULL;
        int j;
        for (j = 0; j < w; j += BGPBT_FW_WIDTH) {
            bgpbt_fw x = bgpbt_fw_add(bgpbt_fw_load(zr + j), bgpbt_fw_load(bias + j)), y;
            bgpbt_fw_store(zr + j, x);
            if (!hr) continue;
            switch (act) {
                case BGPBT_ACT_SILU:
                    y = bgpbt_fw_div(x, bgpbt_fw_add(bgpbt_fw_set1(1.0f), bgpbt_fw_exp(bgpbt_fw_neg(x))));
                    break;
                case BGPBT_ACT_TANH: y = bgpbt_fw_tanh(x); break;
                case BGPBT_ACT_RELU: y = bgpbt_fw_max(x, bgpbt_fw_zero()); break;
                default: y = x; break;
            }
            bgpbt_fw_store(hr + j, y);
        }
    }
}

/* g *= act'(z) (h = act(z)), rows x w. */
BGPBT__PRIVATE void bgpbt__nn_act_grad(float* g, const float* z, const float* h, int rows, int w,
                                       bgpbt_activation act) {
    int i;
    BGPBT_OMP(parallel for schedule(static) if ((double)rows * w > 1048576.0))
    for (i = 0; i < rows; ++i) {
        float* gr = g + (size_t)i * (size_t)w;
        const float* zr = z + (size_t)i * (size_t)w;
        const float* hr = h + (size_t)i * (size_t)w;
        int j;
        for (j = 0; j < w; j += BGPBT_FW_WIDTH) {
            bgpbt_fw x = bgpbt_fw_load(zr + j), d, one = bgpbt_fw_set1(1.0f);
            switch (act) {
                case BGPBT_ACT_SILU: { /* s (1 + x (1 - s)) */
                    bgpbt_fw s = bgpbt_fw_div(one, bgpbt_fw_add(one, bgpbt_fw_exp(bgpbt_fw_neg(x))));
                    d = bgpbt_fw_mul(s, bgpbt_fw_add(one, bgpbt_fw_mul(x, bgpbt_fw_sub(one, s))));
                    break;
                }
                case BGPBT_ACT_TANH: {
                    bgpbt_fw y = bgpbt_fw_load(hr + j);
                    d = bgpbt_fw_sub(one, bgpbt_fw_mul(y, y));
                    break;
                }
                case BGPBT_ACT_RELU: d = bgpbt_fw_blend(bgpbt_fw_gt(x, bgpbt_fw_zero()), bgpbt_fw_zero(), one); break;
                default: d = one; break;
            }
            bgpbt_fw_store(gr + j, bgpbt_fw_mul(bgpbt_fw_load(gr + j), d));
        }
    }
}

/* Forward of rows [0, rows) of x (row stride ldx) through every layer. With train, into the
   cache; otherwise through the ping-pong buffers. Returns the output buffer (stride pad[nl]). */
BGPBT__PRIVATE float* bgpbt__mlp_run(bgpbt_mlp* n, const float* x, ptrdiff_t ldx, int rows, int train) {
    const float* in = x;
    ptrdiff_t ld = ldx;
    int l;
    for (l = 0; l < n->nl; ++l) {
        int w = n->pad[l + 1], last = (l == n->nl - 1);
        float* z = train ? n->z[l] : ((l & 1) ? n->i1 : n->i0);
        float* h = last ? NULL : (train ? n->h[l] : z);
        bgpbt__sgemm_ex(rows, w, n->dim[l], in, ld, 1, n->params + n->woff[l], 32,
                        (ptrdiff_t)n->dim[l] * 32, z, w, 32, 0);
        bgpbt__nn_bias_act(z, h, n->params + n->boff[l], rows, w,
                           last ? BGPBT_ACT_LINEAR : n->cfg.activation);
        in = last ? z : h;
        ld = w;
    }
    return (float*)in;
}

BGPBT_API bgpbt_result bgpbt_mlp_forward(bgpbt_mlp* n, const float* x, int batch, float* y, int train) {
    int out, wo, i;
    if (!n || (!x && batch > 0) || batch < 0) return BGPBT_ERR_INVALID_ARGUMENT;
    out = n->dim[n->nl];
    wo = n->pad[n->nl];
    if (train) {
        const float* o;
        if (batch > n->cfg.max_batch)
            return bgpbt__error(&n->cfg.logger, BGPBT_ERR_LIMIT, "mlp: training batch %d above max_batch %d",
                                batch, n->cfg.max_batch);
        if (batch > 0) memcpy(n->xin, x, (size_t)batch * (size_t)n->dim[0] * sizeof(float));
        n->last_batch = batch;
        if (batch == 0) return BGPBT_OK;
        o = bgpbt__mlp_run(n, n->xin, n->dim[0], batch, 1);
        if (y)
            for (i = 0; i < batch; ++i) memcpy(y + (size_t)i * (size_t)out, o + (size_t)i * (size_t)wo, (size_t)out * sizeof(float));
        return BGPBT_OK;
    }
    for (i = 0; i < batch; i += n->chunk) { /* rows are independent: chunking changes no bits */
        int rows = batch - i < n->chunk ? batch - i : n->chunk, r;
        const float* o = bgpbt__mlp_run(n, x + (size_t)i * (size_t)n->dim[0], n->dim[0], rows, 0);
        if (y)
            for (r = 0; r < rows; ++r)
                memcpy(y + (size_t)(i + r) * (size_t)out, o + (size_t)r * (size_t)wo, (size_t)out * sizeof(float));
    }
    return BGPBT_OK;
}

BGPBT_API const float* bgpbt_mlp_output(const bgpbt_mlp* n, int* ld) {
    if (ld) *ld = n->pad[n->nl];
    return n->z[n->nl - 1];
}

/* Column sums of g[rows][w] into out[w], rows in order (deterministic). */
BGPBT__PRIVATE void bgpbt__nn_colsum(const float* g, int rows, int w, float* out) {
    int j;
    BGPBT_OMP(parallel for schedule(static) if ((double)rows * w > 1048576.0))
    for (j = 0; j < w; j += BGPBT_FW_WIDTH) {
        bgpbt_fw s = bgpbt_fw_zero();
        int i;
        for (i = 0; i < rows; ++i) s = bgpbt_fw_add(s, bgpbt_fw_load(g + (size_t)i * (size_t)w + j));
        bgpbt_fw_store(out + j, s);
    }
}

BGPBT_API bgpbt_result bgpbt_mlp_backward(bgpbt_mlp* n, const float* dy, int batch, float* dx) {
    int l, i, out, wo;
    float *g, *gn;
    if (!n || (!dy && batch > 0)) return BGPBT_ERR_INVALID_ARGUMENT;
    if (batch != n->last_batch || batch <= 0)
        return bgpbt__error(&n->cfg.logger, BGPBT_ERR_WRONG_ORDER,
                            "mlp: backward on %d rows needs a training forward on the same rows (last: %d)",
                            batch, n->last_batch);
    out = n->dim[n->nl];
    wo = n->pad[n->nl];
    g = n->g0;
    gn = n->g1;
    for (i = 0; i < batch; ++i) {
        float* gr = g + (size_t)i * (size_t)wo;
        memcpy(gr, dy + (size_t)i * (size_t)out, (size_t)out * sizeof(float));
        memset(gr + out, 0, (size_t)(wo - out) * sizeof(float));
    }
    for (l = n->nl - 1; l >= 0; --l) {
        int w = n->pad[l + 1], fin = n->dim[l], pin = n->pad[l], fout = n->dim[l + 1];
        const float* hin = l == 0 ? n->xin : n->h[l - 1];
        ptrdiff_t ldin = l == 0 ? n->dim[0] : n->pad[l];
        if (l < n->nl - 1) bgpbt__nn_act_grad(g, n->z[l], n->h[l], batch, w, n->cfg.activation);
        /* dW = hin^T g: k runs over the batch, so each thread owns whole dW tiles. hin^T is
           first copied to contiguous rows: read in place, its columns sit 1 KiB apart (for
           256-wide layers) and thrash a few L1 sets. */
        {
            int c0;
            BGPBT_OMP(parallel for schedule(static) if ((double)batch * fin > 1048576.0))
            for (c0 = 0; c0 < fin; c0 += 16) {
                int c1 = c0 + 16 < fin ? c0 + 16 : fin, r, cc;
                for (r = 0; r < batch; ++r) {
                    const float* src = hin + (ptrdiff_t)r * ldin;
                    for (cc = c0; cc < c1; ++cc) n->xt[(size_t)cc * (size_t)batch + (size_t)r] = src[cc];
                }
            }
        }
        bgpbt__sgemm_ex(fin, w, batch, n->xt, batch, 1, g, w, 32, n->grads + n->woff[l], 32,
                        (ptrdiff_t)fin * 32, 0);
        bgpbt__nn_colsum(g, batch, w, n->grads + n->boff[l]);
        if (l > 0 || dx) { /* gn = g W^T through a zero-padded transposed copy of W */
            int a, b2;
            for (b2 = 0; b2 < fout; ++b2) { /* W^T, panel-major too: [in/32][out][32] */
                for (a = 0; a < fin; ++a)
                    n->wt[(size_t)(a / 32) * (size_t)fout * 32u + (size_t)b2 * 32u + (size_t)(a % 32)] =
                        n->params[BGPBT__WIDX(n, l, a, b2)];
                for (; a < pin; ++a) n->wt[(size_t)(a / 32) * (size_t)fout * 32u + (size_t)b2 * 32u + (size_t)(a % 32)] = 0.0f;
            }
            bgpbt__sgemm_ex(batch, pin, fout, g, w, 1, n->wt, 32, (ptrdiff_t)fout * 32, gn, pin, 32, 0);
            if (l == 0) {
                for (i = 0; i < batch; ++i)
                    memcpy(dx + (size_t)i * (size_t)fin, gn + (size_t)i * (size_t)pin, (size_t)fin * sizeof(float));
            }
            { float* t = g; g = gn; gn = t; }
        }
    }
    return BGPBT_OK;
}

/* Sum of squares of the flat array in a fixed lane order (thread-count independent). */
BGPBT__PRIVATE double bgpbt__nn_sumsq(const float* p, size_t n) {
    double s = 0.0;
    size_t i = 0;
    for (; i + 256 <= n; i += 256) {
        bgpbt_fw acc = bgpbt_fw_zero();
        size_t j;
        for (j = 0; j < 256; j += BGPBT_FW_WIDTH) {
            bgpbt_fw x = bgpbt_fw_load(p + i + j);
            acc = bgpbt_fw_add(acc, bgpbt_fw_mul(x, x));
        }
        s += (double)bgpbt_fw_hsum(acc);
    }
    for (; i < n; ++i) s += (double)p[i] * (double)p[i];
    return s;
}

BGPBT_API double bgpbt_mlp_grad_norm(const bgpbt_mlp* n) { return sqrt(bgpbt__nn_sumsq(n->grads, n->np_pad)); }

BGPBT_API bgpbt_result bgpbt_mlp_adam_step(bgpbt_mlp* n, const bgpbt_adam_config* adam) {
    bgpbt_adam_config a = adam ? *adam : bgpbt_adam_config_default();
    double norm2, scale = 1.0, bc1, bc2;
    float lr_t, eps_t, b1, b2, gs;
    size_t i, np;
    long t;
    if (!n) return BGPBT_ERR_INVALID_ARGUMENT;
    if (a.learning_rate == 0.0f) a.learning_rate = 3e-4f;
    if (a.beta1 == 0.0f) a.beta1 = 0.9f;
    if (a.beta2 == 0.0f) a.beta2 = 0.999f;
    if (a.eps == 0.0f) a.eps = 1e-8f;
    if (!bgpbt__isfinitef(a.learning_rate) || !(a.beta1 > 0.0f && a.beta1 < 1.0f) ||
        !(a.beta2 > 0.0f && a.beta2 < 1.0f) || !(a.eps > 0.0f) || !(a.max_grad_norm >= 0.0f))
        return bgpbt__error(&n->cfg.logger, BGPBT_ERR_OUT_OF_RANGE,
                            "adam: bad settings (lr %g, beta1 %g, beta2 %g, eps %g, max_grad_norm %g)",
                            (double)a.learning_rate, (double)a.beta1, (double)a.beta2, (double)a.eps,
                            (double)a.max_grad_norm);
    norm2 = bgpbt__nn_sumsq(n->grads, n->np_pad);
    if (!bgpbt__isfinite(norm2))
        return bgpbt__error(&n->cfg.logger, BGPBT_ERR_NOT_FINITE, "adam: the gradient is not finite");
    if (a.max_grad_norm > 0.0f && sqrt(norm2) > (double)a.max_grad_norm)
        scale = (double)a.max_grad_norm / sqrt(norm2);
    t = n->adam_t + 1;
    bc1 = 1.0 - pow((double)a.beta1, (double)t);
    bc2 = 1.0 - pow((double)a.beta2, (double)t);
    /* p -= lr * mhat / (sqrt(vhat) + eps) with mhat = m / bc1, vhat = v / bc2, rewritten as
       p -= (lr sqrt(bc2) / bc1) * m / (sqrt(v) + eps sqrt(bc2)) (one division per element) */
    lr_t = (float)((double)a.learning_rate * sqrt(bc2) / bc1);
    eps_t = (float)((double)a.eps * sqrt(bc2));
    b1 = a.beta1;
    b2 = a.beta2;
    gs = (float)scale;
    np = n->np_pad;
    {
        bgpbt_fw vb1 = bgpbt_fw_set1(b1), vb2 = bgpbt_fw_set1(b2), vc1 = bgpbt_fw_set1(1.0f - b1),
                 vc2 = bgpbt_fw_set1(1.0f - b2), vlr = bgpbt_fw_set1(lr_t), veps = bgpbt_fw_set1(eps_t),
                 vgs = bgpbt_fw_set1(gs);
        for (i = 0; i < np; i += BGPBT_FW_WIDTH) { /* np_pad is a multiple of 32 */
            bgpbt_fw g = bgpbt_fw_mul(bgpbt_fw_load(n->grads + i), vgs);
            bgpbt_fw m = bgpbt_fw_add(bgpbt_fw_mul(vb1, bgpbt_fw_load(n->m + i)), bgpbt_fw_mul(vc1, g));
            bgpbt_fw v = bgpbt_fw_add(bgpbt_fw_mul(vb2, bgpbt_fw_load(n->v + i)), bgpbt_fw_mul(vc2, bgpbt_fw_mul(g, g)));
            bgpbt_fw d = bgpbt_fw_div(bgpbt_fw_mul(vlr, m), bgpbt_fw_add(bgpbt_fw_sqrt(v), veps));
            bgpbt_fw_store(n->m + i, m);
            bgpbt_fw_store(n->v + i, v);
            bgpbt_fw_store(n->params + i, bgpbt_fw_sub(bgpbt_fw_load(n->params + i), d));
        }
    }
    n->adam_t = t;
    return BGPBT_OK;
}

BGPBT_API void bgpbt_mlp_reset_adam(bgpbt_mlp* n) {
    if (!n) return;
    memset(n->m, 0, n->np_pad * sizeof(float));
    memset(n->v, 0, n->np_pad * sizeof(float));
    n->adam_t = 0;
}

/* Visit the real (unpadded) entries of a padded flat array in the public order. */
BGPBT__PRIVATE void bgpbt__mlp_pack(const bgpbt_mlp* n, const float* padded, float* out) {
    int l, i;
    size_t k = 0;
    for (l = 0; l < n->nl; ++l) {
        size_t fo = (size_t)n->dim[l + 1], w = (size_t)n->pad[l + 1];
        size_t j;
        (void)w;
        for (i = 0; i < n->dim[l]; ++i, k += fo)
            for (j = 0; j < fo; ++j) out[k + j] = padded[BGPBT__WIDX(n, l, i, j)];
        memcpy(out + k, padded + n->boff[l], fo * sizeof(float));
        k += fo;
    }
}
BGPBT__PRIVATE void bgpbt__mlp_unpack(bgpbt_mlp* n, const float* in, float* padded) {
    int l, i;
    size_t k = 0;
    for (l = 0; l < n->nl; ++l) {
        size_t fo = (size_t)n->dim[l + 1], w = (size_t)n->pad[l + 1];
        size_t j;
        (void)w;
        for (i = 0; i < n->dim[l]; ++i, k += fo)
            for (j = 0; j < fo; ++j) padded[BGPBT__WIDX(n, l, i, j)] = in[k + j];
        memcpy(padded + n->boff[l], in + k, fo * sizeof(float));
        k += fo;
    }
}

BGPBT_API void bgpbt_mlp_get_params(const bgpbt_mlp* n, float* out) { bgpbt__mlp_pack(n, n->params, out); }
BGPBT_API void bgpbt_mlp_get_grads(const bgpbt_mlp* n, float* out) { bgpbt__mlp_pack(n, n->grads, out); }
BGPBT_API bgpbt_result bgpbt_mlp_set_params(bgpbt_mlp* n, const float* p) {
    size_t i;
    if (!n || !p) return BGPBT_ERR_INVALID_ARGUMENT;
    for (i = 0; i < n->np; ++i)
        if (!bgpbt__isfinitef(p[i]))
            return bgpbt__error(&n->cfg.logger, BGPBT_ERR_NOT_FINITE, "mlp: parameter %lu is not finite", (unsigned long)i);
    bgpbt__mlp_unpack(n, p, n->params);
    return BGPBT_OK;
}

BGPBT__PRIVATE int bgpbt__mlp_same_arch(const bgpbt_mlp* a, const bgpbt_mlp* b) {
    int l;
    if (a->nl != b->nl || a->cfg.activation != b->cfg.activation) return 0;
    for (l = 0; l <= a->nl; ++l)
        if (a->dim[l] != b->dim[l]) return 0;
    return 1;
}

BGPBT_API bgpbt_result bgpbt_mlp_copy(bgpbt_mlp* dst, const bgpbt_mlp* src) {
    if (!dst || !src) return BGPBT_ERR_INVALID_ARGUMENT;
    if (dst == src) return BGPBT_OK;
    if (!bgpbt__mlp_same_arch(dst, src))
        return bgpbt__error(&dst->cfg.logger, BGPBT_ERR_SIZE_MISMATCH, "mlp_copy: the architectures differ");
    memcpy(dst->params, src->params, src->np_pad * sizeof(float));
    memcpy(dst->m, src->m, src->np_pad * sizeof(float));
    memcpy(dst->v, src->v, src->np_pad * sizeof(float));
    dst->adam_t = src->adam_t;
    return BGPBT_OK;
}

/* Payload: in, out, num_hidden, hidden[], activation, np (u64), params, adam_t (u64), m, v. */
BGPBT__PRIVATE void bgpbt__mlp_write(bgpbt_writer* w, const bgpbt_mlp* n) {
    int l;
    size_t i;
    bgpbt_write_u32(w, (uint32_t)n->dim[0]);
    bgpbt_write_u32(w, (uint32_t)n->dim[n->nl]);
    bgpbt_write_u32(w, (uint32_t)(n->nl - 1));
    for (l = 0; l < n->nl - 1; ++l) bgpbt_write_u32(w, (uint32_t)n->dim[l + 1]);
    bgpbt_write_u32(w, (uint32_t)n->cfg.activation);
    bgpbt_write_u64(w, (uint64_t)n->np);
    {
        const float* arrs[3];
        int q;
        arrs[0] = n->params; arrs[1] = n->m; arrs[2] = n->v;
        for (q = 0; q < 3; ++q) {
            if (q == 1) bgpbt_write_u64(w, (uint64_t)n->adam_t);
            for (l = 0; l < n->nl; ++l) {
                size_t fo = (size_t)n->dim[l + 1], wd = (size_t)n->pad[l + 1];
                size_t j;
                (void)wd;
                for (i = 0; i < (size_t)n->dim[l]; ++i)
                    for (j = 0; j < fo; ++j) bgpbt_write_f32(w, arrs[q][BGPBT__WIDX(n, l, i, j)]);
                bgpbt_write_f32s(w, arrs[q] + n->boff[l], fo);
            }
        }
    }
}

BGPBT_API bgpbt_result bgpbt_mlp_save(const bgpbt_mlp* n, void* buf, size_t cap, size_t* size) {
    bgpbt_writer w;
    if (!n || !size) return BGPBT_ERR_INVALID_ARGUMENT;
    w.buf = (unsigned char*)buf;
    w.cap = buf ? cap : 0;
    w.pos = 0;
    w.overflow = 0;
    bgpbt_container_begin(&w, BGPBT__MLP_KIND, BGPBT__MLP_VERSION);
    bgpbt__mlp_write(&w, n);
    bgpbt_container_end(&w, 0);
    *size = w.pos;
    if (buf && w.overflow) return BGPBT_ERR_BUFFER_TOO_SMALL;
    return BGPBT_OK;
}

/* Read the architecture part of a payload into cfg (bounded). */
BGPBT__PRIVATE bgpbt_result bgpbt__mlp_read_arch(bgpbt_reader* r, bgpbt_mlp_config* cfg) {
    int l;
    uint32_t nh;
    cfg->in_dim = (int)bgpbt_read_u32(r);
    cfg->out_dim = (int)bgpbt_read_u32(r);
    nh = bgpbt_read_u32(r);
    if (r->failed) return BGPBT_ERR_TRUNCATED;
    if (nh > BGPBT_MLP_MAX_HIDDEN) return BGPBT_ERR_BAD_FORMAT;
    cfg->num_hidden = (int)nh;
    for (l = 0; l < (int)nh; ++l) cfg->hidden[l] = (int)bgpbt_read_u32(r);
    cfg->activation = (bgpbt_activation)bgpbt_read_u32(r);
    if (r->failed) return BGPBT_ERR_TRUNCATED;
    if (cfg->in_dim < 1 || cfg->in_dim > (1 << 20) || cfg->out_dim < 1 || cfg->out_dim > (1 << 20) ||
        (int)cfg->activation < 0 || (int)cfg->activation > 3)
        return BGPBT_ERR_BAD_FORMAT;
    for (l = 0; l < (int)nh; ++l)
        if (cfg->hidden[l] < 1 || cfg->hidden[l] > (1 << 16)) return BGPBT_ERR_BAD_FORMAT;
    return BGPBT_OK;
}

/* Read params, moments and step count of the payload (after the architecture) into n. */
BGPBT__PRIVATE bgpbt_result bgpbt__mlp_read_body(bgpbt_reader* r, bgpbt_mlp* n) {
    uint64_t np = bgpbt_read_u64(r);
    int q, l;
    size_t i;
    if (r->failed) return BGPBT_ERR_TRUNCATED;
    if (np != (uint64_t)n->np) return BGPBT_ERR_BAD_FORMAT;
    if ((r->size - r->pos) / 12 < n->np) return BGPBT_ERR_TRUNCATED;
    for (q = 0; q < 3; ++q) {
        float* dst = q == 0 ? n->params : q == 1 ? n->m : n->v;
        if (q == 1) n->adam_t = (long)bgpbt_read_u64(r);
        for (l = 0; l < n->nl; ++l) {
            size_t fo = (size_t)n->dim[l + 1], wd = (size_t)n->pad[l + 1];
            size_t j;
            (void)wd;
            for (i = 0; i < (size_t)n->dim[l]; ++i)
                for (j = 0; j < fo; ++j) dst[BGPBT__WIDX(n, l, i, j)] = bgpbt_read_f32(r);
            bgpbt_read_f32s(r, dst + n->boff[l], fo);
        }
    }
    if (r->failed) return BGPBT_ERR_TRUNCATED;
    for (i = 0; i < n->np_pad; ++i)
        if (!bgpbt__isfinitef(n->params[i]) || !bgpbt__isfinitef(n->m[i]) || !bgpbt__isfinitef(n->v[i]) || n->v[i] < 0.0f)
            return BGPBT_ERR_NOT_FINITE;
    if (n->adam_t < 0) return BGPBT_ERR_BAD_FORMAT;
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_mlp_create_from_blob(const void* data, size_t size, const bgpbt_mlp_config* config,
                                                  bgpbt_mlp** out) {
    bgpbt_mlp_config cfg = config ? *config : bgpbt_mlp_config_default();
    bgpbt_reader r;
    bgpbt_result res;
    bgpbt_mlp* n;
    if (!out) return BGPBT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    res = bgpbt_container_open(data, size, BGPBT__MLP_KIND, BGPBT__MLP_VERSION, NULL, &r);
    if (res != BGPBT_OK) return bgpbt__error(&cfg.logger, res, "mlp_load: not a valid MLP blob (%s)", bgpbt_result_string(res));
    res = bgpbt__mlp_read_arch(&r, &cfg);
    if (res != BGPBT_OK) return bgpbt__error(&cfg.logger, res, "mlp_load: bad architecture record");
    res = bgpbt__mlp_alloc(&cfg, &n);
    if (res != BGPBT_OK) return res;
    res = bgpbt__mlp_read_body(&r, n);
    if (res != BGPBT_OK) {
        bgpbt_mlp_destroy(n);
        return bgpbt__error(&cfg.logger, res, "mlp_load: bad parameter record");
    }
    *out = n;
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_mlp_load(bgpbt_mlp* n, const void* data, size_t size) {
    bgpbt_mlp* tmp;
    bgpbt_mlp_config cfg;
    bgpbt_result res;
    if (!n) return BGPBT_ERR_INVALID_ARGUMENT;
    cfg = n->cfg;
    cfg.max_batch = 1; /* the temporary needs no activation buffers of size */
    res = bgpbt_mlp_create_from_blob(data, size, &cfg, &tmp);
    if (res != BGPBT_OK) return res;
    if (!bgpbt__mlp_same_arch(n, tmp)) {
        bgpbt_mlp_destroy(tmp);
        return bgpbt__error(&n->cfg.logger, BGPBT_ERR_SIZE_MISMATCH, "mlp_load: the saved architecture differs");
    }
    res = bgpbt_mlp_copy(n, tmp);
    bgpbt_mlp_destroy(tmp);
    return res;
}

/* ============================================================================================
   [impl.ppo] ppo
   ============================================================================================ */

#define BGPBT__AGENT_KIND BGPBT_FOURCC('A', 'G', 'N', 'T')
#define BGPBT__AGENT_VERSION 1u
#define BGPBT__LOG_SQRT_2PI 0.91893853320467274178

BGPBT_API bgpbt_ppo_hparams bgpbt_ppo_hparams_default(void) {
    bgpbt_ppo_hparams h;
    memset(&h, 0, sizeof h);
    h.learning_rate = 3e-4;
    h.discount = 0.97;
    h.entropy_cost = 1e-2;
    h.unroll_length = 5;
    h.batch_size = 1024;
    h.update_epochs = 4;
    h.reward_scaling = 10.0;
    h.gae_lambda = 0.95;
    h.clip_epsilon = 0.3;
    h.num_minibatches = 32;
    h.value_coef = 0.25;
    h.max_grad_norm = 0.0;
    return h;
}

BGPBT_API bgpbt_ppo_arch bgpbt_ppo_arch_default(void) {
    bgpbt_ppo_arch a;
    a.policy_layers = 4;
    a.policy_width = 32;
    a.value_layers = 5;
    a.value_width = 256;
    a.activation = BGPBT_ACT_SILU;
    return a;
}

BGPBT_API bgpbt_agent_config bgpbt_agent_config_default(void) {
    bgpbt_agent_config c;
    memset(&c, 0, sizeof c);
    c.hparams = bgpbt_ppo_hparams_default();
    c.arch = bgpbt_ppo_arch_default();
    c.num_envs = 64;
    c.eval_episodes = 16;
    c.obs_clip = 5.0f;
    return c;
}

BGPBT_API bgpbt_distill_config bgpbt_distill_config_default(void) {
    bgpbt_distill_config d;
    d.alpha_start = 1.0;
    d.alpha_end = 0.05;
    d.anneal_steps = 24000000;
    d.kl_coef = 5.0;
    d.learning_rate = 3e-4;
    d.epochs = 4;
    return d;
}

struct bgpbt_agent {
    bgpbt_agent_config cfg;
    bgpbt_env_def def;
    char task[64];
    int obs_dim, act_dim;
    bgpbt_ppo_hparams hp;
    bgpbt_ppo_arch arch;
    bgpbt_mlp *pi, *vf;
    /* observation normaliser (double accumulators; float copies applied) */
    double nm_count;
    double *nm_mean, *nm_m2;
    float *nm_mu, *nm_is; /* mean and 1/std used for normalising */
    bgpbt_rng rng, eval_rng;
    bgpbt_agent_stats st;
    /* buffers, sized for (num_envs, U, T, B) */
    int cap_envs, cap_steps, cap_rows_pi, cap_rows_vf, cap_segs;
    float *obs_buf;      /* [envs][steps + 1][obs] raw */
    float *u_buf;        /* [envs][steps][act] pre-tanh actions */
    float *logp_buf, *rew_buf, *boot_buf; /* [envs][steps] */
    unsigned char *term_buf, *trunc_buf;
    float *r_obsn, *r_pol, *r_act, *r_eps, *r_fin, *r_vb, *r_u, *r_lp; /* per-step rollout scratch [envs][...] */
    int* perm;
    float *mb_vin, *mb_pin, *mb_tin, *mb_pol, *mb_tpol, *mb_val, *mb_dpol, *mb_dval, *mb_eps;
    float *mb_vs, *mb_adv, *mb_vals; /* [rows] ; mb_vals [B][T+1] */
    bgpbt_mlp* tpi; /* the teacher's policy, copied at each distill call */
    float *t_mu, *t_is;
};

BGPBT__PRIVATE bgpbt_result bgpbt__ppo_check_hparams(const bgpbt_logger* lg, bgpbt_ppo_hparams* h) {
    bgpbt_ppo_hparams d = bgpbt_ppo_hparams_default();
    if (h->learning_rate == 0.0) h->learning_rate = d.learning_rate;
    if (h->discount == 0.0) h->discount = d.discount;
    if (h->unroll_length == 0) h->unroll_length = d.unroll_length;
    if (h->batch_size == 0) h->batch_size = d.batch_size;
    if (h->update_epochs == 0) h->update_epochs = d.update_epochs;
    if (h->reward_scaling == 0.0) h->reward_scaling = d.reward_scaling;
    if (h->gae_lambda == 0.0) h->gae_lambda = d.gae_lambda;
    if (h->clip_epsilon == 0.0) h->clip_epsilon = d.clip_epsilon;
    if (h->num_minibatches == 0) h->num_minibatches = d.num_minibatches;
    if (h->value_coef == 0.0) h->value_coef = d.value_coef;
    if (!(h->learning_rate > 0.0 && h->learning_rate <= 1.0))
        return bgpbt__error(lg, BGPBT_ERR_OUT_OF_RANGE, "ppo: learning_rate %g must be in (0, 1]", h->learning_rate);
    if (!(h->discount > 0.0 && h->discount <= 1.0))
        return bgpbt__error(lg, BGPBT_ERR_OUT_OF_RANGE, "ppo: discount %g must be in (0, 1]", h->discount);
    if (!(h->entropy_cost >= 0.0 && h->entropy_cost <= 10.0))
        return bgpbt__error(lg, BGPBT_ERR_OUT_OF_RANGE, "ppo: entropy_cost %g must be in [0, 10]", h->entropy_cost);
    if (h->unroll_length < 1 || h->unroll_length > 10000)
        return bgpbt__error(lg, BGPBT_ERR_OUT_OF_RANGE, "ppo: unroll_length %d must be in 1..10000", h->unroll_length);
    if (h->batch_size < 1 || h->batch_size > (1 << 20))
        return bgpbt__error(lg, BGPBT_ERR_OUT_OF_RANGE, "ppo: batch_size %d must be in 1..2^20", h->batch_size);
    if (h->update_epochs < 1 || h->update_epochs > 1000)
        return bgpbt__error(lg, BGPBT_ERR_OUT_OF_RANGE, "ppo: update_epochs %d must be in 1..1000", h->update_epochs);
    if (!(h->reward_scaling > 0.0 && h->reward_scaling < 1e6))
        return bgpbt__error(lg, BGPBT_ERR_OUT_OF_RANGE, "ppo: reward_scaling %g must be in (0, 1e6)", h->reward_scaling);
    if (!(h->gae_lambda >= 0.0 && h->gae_lambda <= 1.0))
        return bgpbt__error(lg, BGPBT_ERR_OUT_OF_RANGE, "ppo: gae_lambda %g must be in [0, 1]", h->gae_lambda);
    if (!(h->clip_epsilon > 0.0 && h->clip_epsilon <= 10.0))
        return bgpbt__error(lg, BGPBT_ERR_OUT_OF_RANGE, "ppo: clip_epsilon %g must be in (0, 10]", h->clip_epsilon);
    if (h->num_minibatches < 1 || h->num_minibatches > 65536)
        return bgpbt__error(lg, BGPBT_ERR_OUT_OF_RANGE, "ppo: num_minibatches %d must be in 1..65536", h->num_minibatches);
    if ((double)h->batch_size * h->num_minibatches * h->unroll_length > 1e9)
        return bgpbt__error(lg, BGPBT_ERR_LIMIT, "ppo: batch_size x num_minibatches x unroll_length above 1e9");
    if (!(h->value_coef > 0.0 && h->value_coef < 1e6))
        return bgpbt__error(lg, BGPBT_ERR_OUT_OF_RANGE, "ppo: value_coef %g must be in (0, 1e6)", h->value_coef);
    if (!(h->max_grad_norm >= 0.0 && h->max_grad_norm < 1e30))
        return bgpbt__error(lg, BGPBT_ERR_OUT_OF_RANGE, "ppo: max_grad_norm %g must be >= 0", h->max_grad_norm);
    return BGPBT_OK;
}

BGPBT__PRIVATE bgpbt_result bgpbt__ppo_check_arch(const bgpbt_logger* lg, bgpbt_ppo_arch* a) {
    bgpbt_ppo_arch d = bgpbt_ppo_arch_default();
    if (a->policy_layers == 0) a->policy_layers = d.policy_layers;
    if (a->policy_width == 0) a->policy_width = d.policy_width;
    if (a->value_layers == 0) a->value_layers = d.value_layers;
    if (a->value_width == 0) a->value_width = d.value_width;
    if (a->policy_layers < 1 || a->policy_layers > BGPBT_MLP_MAX_HIDDEN || a->value_layers < 1 ||
        a->value_layers > BGPBT_MLP_MAX_HIDDEN || a->policy_width < 1 || a->policy_width > 4096 ||
        a->value_width < 1 || a->value_width > 4096 || (int)a->activation < 0 || (int)a->activation > 3)
        return bgpbt__error(lg, BGPBT_ERR_OUT_OF_RANGE,
                            "ppo: architecture policy %dx%d, value %dx%d, activation %d out of range",
                            a->policy_layers, a->policy_width, a->value_layers, a->value_width, (int)a->activation);
    return BGPBT_OK;
}

BGPBT__PRIVATE bgpbt_result bgpbt__ppo_make_mlp(const bgpbt_agent* ag, const bgpbt_ppo_arch* a, int policy,
                                                int max_batch, uint64_t seed, bgpbt_mlp** out) {
    bgpbt_mlp_config c = bgpbt_mlp_config_default();
    int l;
    c.in_dim = ag->obs_dim;
    c.out_dim = policy ? 2 * ag->act_dim : 1;
    c.num_hidden = policy ? a->policy_layers : a->value_layers;
    for (l = 0; l < c.num_hidden; ++l) c.hidden[l] = policy ? a->policy_width : a->value_width;
    c.activation = a->activation;
    c.max_batch = max_batch < 1 ? 1 : max_batch;
    c.seed = seed;
    c.stream = policy ? 1 : 2;
    c.allocator = ag->cfg.allocator;
    c.logger = ag->cfg.logger;
    return bgpbt_mlp_create(&c, out);
}

/* Rebuild net with a new max_batch, keeping parameters and Adam state. */
BGPBT__PRIVATE bgpbt_result bgpbt__ppo_regrow(bgpbt_mlp** net, int max_batch) {
    bgpbt_mlp_config c = (*net)->cfg;
    bgpbt_mlp* n2;
    bgpbt_result r;
    if (c.max_batch >= max_batch) return BGPBT_OK;
    c.max_batch = max_batch;
    r = bgpbt__mlp_alloc(&c, &n2);
    if (r != BGPBT_OK) return r;
    bgpbt_mlp_copy(n2, *net);
    bgpbt_mlp_destroy(*net);
    *net = n2;
    return BGPBT_OK;
}

#define BGPBT__AG_FREE(p, n) (bgpbt__cfree(a, (p), (size_t)(n), sizeof *(p)), (p) = NULL)
BGPBT__PRIVATE void bgpbt__agent_free_buffers(bgpbt_agent* g) {
    const bgpbt_allocator* a = &g->cfg.allocator;
    size_t E = (size_t)g->cap_envs, S = (size_t)g->cap_steps, O = (size_t)g->obs_dim, A = (size_t)g->act_dim;
    size_t rp = (size_t)g->cap_rows_pi, rv = (size_t)g->cap_rows_vf;
    BGPBT__AG_FREE(g->obs_buf, E * (S + 1) * O);
    BGPBT__AG_FREE(g->u_buf, E * S * A);
    BGPBT__AG_FREE(g->logp_buf, E * S);
    BGPBT__AG_FREE(g->rew_buf, E * S);
    BGPBT__AG_FREE(g->boot_buf, E * S);
    BGPBT__AG_FREE(g->term_buf, E * S);
    BGPBT__AG_FREE(g->trunc_buf, E * S);
    BGPBT__AG_FREE(g->r_obsn, E * O);
    BGPBT__AG_FREE(g->r_pol, E * 2 * A);
    BGPBT__AG_FREE(g->r_act, E * A);
    BGPBT__AG_FREE(g->r_eps, E * A);
    BGPBT__AG_FREE(g->r_fin, E * O);
    BGPBT__AG_FREE(g->r_vb, E);
    BGPBT__AG_FREE(g->r_u, E * A);
    BGPBT__AG_FREE(g->r_lp, E);
    BGPBT__AG_FREE(g->perm, (size_t)g->cap_segs);
    BGPBT__AG_FREE(g->mb_vin, rv * O);
    BGPBT__AG_FREE(g->mb_pin, rp * O);
    BGPBT__AG_FREE(g->mb_tin, rp * O);
    BGPBT__AG_FREE(g->mb_pol, rp * 2 * A);
    BGPBT__AG_FREE(g->mb_tpol, rp * 2 * A);
    BGPBT__AG_FREE(g->mb_dpol, rp * 2 * A);
    BGPBT__AG_FREE(g->mb_eps, rp * A);
    BGPBT__AG_FREE(g->mb_val, rv);
    BGPBT__AG_FREE(g->mb_dval, rv);
    BGPBT__AG_FREE(g->mb_vals, rv);
    BGPBT__AG_FREE(g->mb_vs, rp);
    BGPBT__AG_FREE(g->mb_adv, rp);
    g->cap_envs = g->cap_steps = g->cap_rows_pi = g->cap_rows_vf = g->cap_segs = 0;
}

/* Size the rollout and minibatch buffers for the current hyperparameters (only grows). */
BGPBT__PRIVATE bgpbt_result bgpbt__agent_ensure(bgpbt_agent* g) {
    const bgpbt_allocator* a = &g->cfg.allocator;
    int E = g->cfg.num_envs, T = g->hp.unroll_length, B = g->hp.batch_size;
    long long S = (long long)B * g->hp.num_minibatches, U = (S + E - 1) / E;
    int steps = (int)(U * T), rp = B * T, rv = B * (T + 1);
    size_t O = (size_t)g->obs_dim, A = (size_t)g->act_dim;
    bgpbt_result r;
    int ok = 1;
    if (E <= g->cap_envs && steps <= g->cap_steps && rp <= g->cap_rows_pi && rv <= g->cap_rows_vf &&
        U * E <= g->cap_segs)
        goto nets;
    bgpbt__agent_free_buffers(g);
#define BGPBT__AG_ALLOCF(p, n) if (ok) ok = ((p) = (float*)bgpbt__calloc(a, (size_t)(n), sizeof(float))) != NULL
    BGPBT__AG_ALLOCF(g->obs_buf, (size_t)E * (size_t)(steps + 1) * O);
    BGPBT__AG_ALLOCF(g->u_buf, (size_t)E * (size_t)steps * A);
    BGPBT__AG_ALLOCF(g->logp_buf, (size_t)E * (size_t)steps);
    BGPBT__AG_ALLOCF(g->rew_buf, (size_t)E * (size_t)steps);
    BGPBT__AG_ALLOCF(g->boot_buf, (size_t)E * (size_t)steps);
    if (ok) ok = (g->term_buf = (unsigned char*)bgpbt__calloc(a, (size_t)E * (size_t)steps, 1)) != NULL;
    if (ok) ok = (g->trunc_buf = (unsigned char*)bgpbt__calloc(a, (size_t)E * (size_t)steps, 1)) != NULL;
    BGPBT__AG_ALLOCF(g->r_obsn, (size_t)E * O);
    BGPBT__AG_ALLOCF(g->r_pol, (size_t)E * 2 * A);
    BGPBT__AG_ALLOCF(g->r_act, (size_t)E * A);
    BGPBT__AG_ALLOCF(g->r_eps, (size_t)E * A);
    BGPBT__AG_ALLOCF(g->r_fin, (size_t)E * O);
    BGPBT__AG_ALLOCF(g->r_vb, (size_t)E);
    BGPBT__AG_ALLOCF(g->r_u, (size_t)E * A);
    BGPBT__AG_ALLOCF(g->r_lp, (size_t)E);
    if (ok) ok = (g->perm = (int*)bgpbt__calloc(a, (size_t)(U * E), sizeof(int))) != NULL;
    BGPBT__AG_ALLOCF(g->mb_vin, (size_t)rv * O);
    BGPBT__AG_ALLOCF(g->mb_pin, (size_t)rp * O);
    BGPBT__AG_ALLOCF(g->mb_tin, (size_t)rp * O);
    BGPBT__AG_ALLOCF(g->mb_pol, (size_t)rp * 2 * A);
    BGPBT__AG_ALLOCF(g->mb_tpol, (size_t)rp * 2 * A);
    BGPBT__AG_ALLOCF(g->mb_dpol, (size_t)rp * 2 * A);
    BGPBT__AG_ALLOCF(g->mb_eps, (size_t)rp * A);
    BGPBT__AG_ALLOCF(g->mb_val, (size_t)rv);
    BGPBT__AG_ALLOCF(g->mb_dval, (size_t)rv);
    BGPBT__AG_ALLOCF(g->mb_vals, (size_t)rv);
    BGPBT__AG_ALLOCF(g->mb_vs, (size_t)rp);
    BGPBT__AG_ALLOCF(g->mb_adv, (size_t)rp);
#undef BGPBT__AG_ALLOCF
    g->cap_envs = E;
    g->cap_steps = steps;
    g->cap_rows_pi = rp;
    g->cap_rows_vf = rv;
    g->cap_segs = (int)(U * E);
    if (!ok) {
        bgpbt__agent_free_buffers(g);
        return bgpbt__error(&g->cfg.logger, BGPBT_ERR_OUT_OF_MEMORY, "agent: out of memory for rollout buffers");
    }
nets:
    r = bgpbt__ppo_regrow(&g->pi, rp > E ? rp : E);
    if (r == BGPBT_OK) r = bgpbt__ppo_regrow(&g->vf, rv > E ? rv : E);
    return r;
}

BGPBT_API void bgpbt_agent_destroy(bgpbt_agent* g) {
    const bgpbt_allocator* a;
    if (!g) return;
    a = &g->cfg.allocator;
    bgpbt__agent_free_buffers(g);
    bgpbt_mlp_destroy(g->pi);
    bgpbt_mlp_destroy(g->vf);
    bgpbt_mlp_destroy(g->tpi);
    bgpbt__cfree(a, g->nm_mean, (size_t)g->obs_dim, sizeof(double));
    bgpbt__cfree(a, g->nm_m2, (size_t)g->obs_dim, sizeof(double));
    bgpbt__cfree(a, g->nm_mu, (size_t)g->obs_dim, sizeof(float));
    bgpbt__cfree(a, g->nm_is, (size_t)g->obs_dim, sizeof(float));
    bgpbt__cfree(a, g->t_mu, (size_t)g->obs_dim, sizeof(float));
    bgpbt__cfree(a, g->t_is, (size_t)g->obs_dim, sizeof(float));
    bgpbt_mem_free(a, g, sizeof *g);
}

/* The float mean and 1/std applied to observations, from the double accumulators. */
BGPBT__PRIVATE void bgpbt__nm_refresh(bgpbt_agent* g) {
    int i;
    for (i = 0; i < g->obs_dim; ++i) {
        double var = g->nm_count > 0.0 ? g->nm_m2[i] / g->nm_count : 1.0;
        if (var < 1e-6) var = 1e-6;
        if (var > 1e6) var = 1e6;
        g->nm_mu[i] = (float)g->nm_mean[i];
        g->nm_is[i] = (float)(1.0 / sqrt(var));
    }
}

/* Merge n rows (row stride ld) into the running statistics (Chan et al.'s parallel update:
   batch mean and M2 in two passes, then combined). Each dimension is owned by one thread and
   sums its rows in order, so any thread count gives the same bits. */
BGPBT__PRIVATE void bgpbt__nm_update(bgpbt_agent* g, const float* x, long n, ptrdiff_t ld) {
    int d, D = g->obs_dim;
    double nb = (double)n, na = g->nm_count, nt = na + nb;
    if (n <= 0) return;
    BGPBT_OMP(parallel for schedule(static) if ((double)n * D > 1048576.0))
    for (d = 0; d < D; ++d) {
        double s = 0.0, m, m2 = 0.0, delta;
        long i;
        for (i = 0; i < n; ++i) s += (double)x[(ptrdiff_t)i * ld + d];
        m = s / nb;
        for (i = 0; i < n; ++i) {
            double e = (double)x[(ptrdiff_t)i * ld + d] - m;
            m2 += e * e;
        }
        delta = m - g->nm_mean[d];
        g->nm_mean[d] += delta * nb / nt;
        g->nm_m2[d] += m2 + delta * delta * na * nb / nt;
    }
    g->nm_count = nt;
    bgpbt__nm_refresh(g);
}

/* out = clip((x - mu) * is, +-clip), rows x D */
BGPBT__PRIVATE void bgpbt__nm_apply(const float* mu, const float* is, float clip, int D, const float* x,
                                    ptrdiff_t ldx, float* out, int rows) {
    int i, d;
    for (i = 0; i < rows; ++i) {
        const float* xr = x + (ptrdiff_t)i * ldx;
        float* o = out + (size_t)i * (size_t)D;
        for (d = 0; d < D; ++d) {
            float v = (xr[d] - mu[d]) * is[d];
            o[d] = v < -clip ? -clip : v > clip ? clip : v;
        }
    }
}

BGPBT_API bgpbt_result bgpbt_agent_create(const bgpbt_agent_config* config, bgpbt_agent** out) {
    bgpbt_agent_config c;
    bgpbt_agent* g;
    const bgpbt_allocator* a;
    bgpbt_result r;
    if (!out) return BGPBT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!config) return BGPBT_ERR_INVALID_ARGUMENT;
    c = *config;
    if (c.num_envs == 0) c.num_envs = 64;
    if (c.eval_episodes == 0) c.eval_episodes = 16;
    if (c.obs_clip == 0.0f) c.obs_clip = 5.0f;
    r = bgpbt__ppo_check_hparams(&c.logger, &c.hparams);
    if (r != BGPBT_OK) return r;
    r = bgpbt__ppo_check_arch(&c.logger, &c.arch);
    if (r != BGPBT_OK) return r;
    if (c.num_envs < 1 || c.num_envs > (1 << 20) || c.eval_episodes < 1 || c.eval_episodes > (1 << 20) ||
        c.eval_max_steps < 0 || !(c.obs_clip > 0.0f))
        return bgpbt__error(&c.logger, BGPBT_ERR_OUT_OF_RANGE,
                            "agent: num_envs %d, eval_episodes %d, eval_max_steps %d or obs_clip %g out of range",
                            c.num_envs, c.eval_episodes, c.eval_max_steps, (double)c.obs_clip);
    if (!c.env_def) {
        if (!c.task) return bgpbt__error(&c.logger, BGPBT_ERR_INVALID_ARGUMENT, "agent: neither env_def nor task is set");
        return bgpbt__error(&c.logger, BGPBT_ERR_UNKNOWN_NAME, "agent: no built-in task named '%s'", c.task);
    }
    if (c.env_def->obs_dim < 1 || c.env_def->act_dim < 1 || !c.env_def->reset || (!c.env_def->step && !c.env_def->step_batch))
        return bgpbt__error(&c.logger, BGPBT_ERR_INVALID_ARGUMENT, "agent: env_def needs obs_dim, act_dim >= 1 and callbacks");
    a = &c.allocator;
    g = (bgpbt_agent*)bgpbt_mem_alloc(a, sizeof *g, 64);
    if (!g) return bgpbt__error(&c.logger, BGPBT_ERR_OUT_OF_MEMORY, "agent: out of memory");
    memset(g, 0, sizeof *g);
    g->cfg = c;
    g->def = *c.env_def;
    g->cfg.env_def = &g->def;
    g->cfg.task = NULL;
    g->obs_dim = g->def.obs_dim;
    g->act_dim = g->def.act_dim;
    g->hp = c.hparams;
    g->arch = c.arch;
    bgpbt_rng_init(&g->rng, c.seed, 11);
    bgpbt_rng_init(&g->eval_rng, c.seed, 12);
    g->st.last_train_return = g->st.last_eval_return = g->st.last_eval_std = NAN;
    g->nm_mean = (double*)bgpbt__calloc(a, (size_t)g->obs_dim, sizeof(double));
    g->nm_m2 = (double*)bgpbt__calloc(a, (size_t)g->obs_dim, sizeof(double));
    g->nm_mu = (float*)bgpbt__calloc(a, (size_t)g->obs_dim, sizeof(float));
    g->nm_is = (float*)bgpbt__calloc(a, (size_t)g->obs_dim, sizeof(float));
    g->t_mu = (float*)bgpbt__calloc(a, (size_t)g->obs_dim, sizeof(float));
    g->t_is = (float*)bgpbt__calloc(a, (size_t)g->obs_dim, sizeof(float));
    if (!g->nm_mean || !g->nm_m2 || !g->nm_mu || !g->nm_is || !g->t_mu || !g->t_is) {
        bgpbt_agent_destroy(g);
        return bgpbt__error(&c.logger, BGPBT_ERR_OUT_OF_MEMORY, "agent: out of memory");
    }
    bgpbt__nm_refresh(g);
    r = bgpbt__ppo_make_mlp(g, &g->arch, 1, c.num_envs, c.seed, &g->pi);
    if (r == BGPBT_OK) r = bgpbt__ppo_make_mlp(g, &g->arch, 0, c.num_envs, c.seed, &g->vf);
    if (r != BGPBT_OK) {
        bgpbt_agent_destroy(g);
        return r;
    }
    *out = g;
    return BGPBT_OK;
}

BGPBT_API void bgpbt_agent_reseed(bgpbt_agent* g, uint64_t seed) {
    if (!g) return;
    bgpbt_rng_init(&g->rng, seed, 11);
    bgpbt_rng_init(&g->eval_rng, seed, 12);
}

BGPBT_API bgpbt_ppo_hparams bgpbt_agent_get_hparams(const bgpbt_agent* g) { return g->hp; }
BGPBT_API bgpbt_result bgpbt_agent_set_hparams(bgpbt_agent* g, const bgpbt_ppo_hparams* h) {
    bgpbt_ppo_hparams c;
    bgpbt_result r;
    if (!g || !h) return BGPBT_ERR_INVALID_ARGUMENT;
    c = *h;
    r = bgpbt__ppo_check_hparams(&g->cfg.logger, &c);
    if (r == BGPBT_OK) g->hp = c;
    return r;
}
BGPBT_API bgpbt_ppo_arch bgpbt_agent_get_arch(const bgpbt_agent* g) { return g->arch; }
BGPBT_API void bgpbt_agent_get_stats(const bgpbt_agent* g, bgpbt_agent_stats* out) {
    if (!out) return;
    if (g) *out = g->st;
    else memset(out, 0, sizeof *out);
}
BGPBT_API int bgpbt_agent_failed(const bgpbt_agent* g) { return g ? g->st.failed : 1; }
BGPBT_API int bgpbt_agent_obs_dim(const bgpbt_agent* g) { return g->obs_dim; }
BGPBT_API int bgpbt_agent_act_dim(const bgpbt_agent* g) { return g->act_dim; }
BGPBT_API bgpbt_mlp* bgpbt_agent_policy(bgpbt_agent* g) { return g->pi; }
BGPBT_API bgpbt_mlp* bgpbt_agent_value(bgpbt_agent* g) { return g->vf; }

BGPBT__INLINE float bgpbt__softplusf(float x) { return x > 20.0f ? x : log1pf(expf(x)); }
BGPBT__INLINE float bgpbt__sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

/* log N(u; loc, scale) summed over A dims (policy output row: loc[A], raw scale[A]) */
BGPBT__PRIVATE double bgpbt__ppo_logp(const float* pol, const float* u, int A) {
    double s = 0.0;
    int j;
    for (j = 0; j < A; ++j) {
        double sc = (double)bgpbt__softplusf(pol[A + j]) + 0.001, z = ((double)u[j] - pol[j]) / sc;
        s += -0.5 * z * z - log(sc) - BGPBT__LOG_SQRT_2PI;
    }
    return s;
}

BGPBT_API void bgpbt_ppo_gae(int T, const float* rewards, const float* values, const float* boot,
                             const unsigned char* term, const unsigned char* trunc, float discount,
                             float lambda, float* vs, float* adv) {
    double acc = 0.0, g = discount, next_vs;
    int t;
    for (t = T - 1; t >= 0; --t) {
        double nv, delta;
        int done = term[t] || trunc[t];
        nv = term[t] ? 0.0 : trunc[t] ? (double)boot[t] : (double)values[t + 1];
        delta = (double)rewards[t] + g * nv - (double)values[t];
        acc = delta + (done ? 0.0 : g * (double)lambda * acc);
        vs[t] = (float)(acc + (double)values[t]);
    }
    next_vs = values[T];
    for (t = T - 1; t >= 0; --t) { /* V-trace-style advantage, rho = 1 (Brax) */
        double nv = term[t] ? 0.0 : trunc[t] ? (double)boot[t] : next_vs;
        adv[t] = (float)((double)rewards[t] + g * nv - (double)values[t]);
        next_vs = vs[t];
    }
}

/* Per-row policy loss and its gradient with respect to the policy output row (loc, raw scale).
   Returns the row's terms through out[]: [0] surrogate loss, [1] entropy, [2] KL. dpol is
   d(row loss)/d(output) where row loss = surr - ent_cost * H + kl_w * KL (not yet averaged). */
BGPBT__PRIVATE void bgpbt__ppo_row(const float* pol, const float* u, double logp_old, double adv, const float* eps,
                                   double clip, double ent_cost, const float* tpol, double kl_w, int A,
                                   float* dpol, double* out) {
    double logp = bgpbt__ppo_logp(pol, u, A), rho, surr_grad, H = 0.0, kl = 0.0;
    int j;
    rho = exp(logp - logp_old);
    {
        double lo = 1.0 - clip, hi = 1.0 + clip, rc = rho < lo ? lo : rho > hi ? hi : rho;
        double unc = rho * adv, cl = rc * adv;
        out[0] = -(unc < cl ? unc : cl);
        /* gradient of -min(.): -adv through rho when the unclipped term is the minimum */
        surr_grad = (unc <= cl) ? -adv * rho : 0.0; /* d loss / d logp */
    }
    for (j = 0; j < A; ++j) {
        double s = (double)bgpbt__softplusf(pol[A + j]) + 0.001, zz = ((double)u[j] - pol[j]) / s;
        double dsig = (double)bgpbt__sigmoidf(pol[A + j]); /* d scale / d raw */
        /* d logp / d loc = z / s ; d logp / d s = (z^2 - 1) / s */
        double dloc = surr_grad * zz / s, ds = surr_grad * (zz * zz - 1.0) / s;
        /* entropy: 0.5 + log sqrt(2 pi) + log s + log-det of tanh at x = loc + s eps */
        double x = (double)pol[j] + s * (double)eps[j];
        double ld = 2.0 * (0.69314718055994531 - x - (-2.0 * x > 30.0 ? -2.0 * x : log1p(exp(-2.0 * x))));
        double dld = -2.0 * tanh(x); /* d logdet / dx */
        H += 0.5 + BGPBT__LOG_SQRT_2PI + log(s) + ld;
        dloc += -ent_cost * dld;
        ds += -ent_cost * (1.0 / s + dld * (double)eps[j]);
        if (tpol) { /* KL(N(mt, st) || N(m, s)) = log(s/st) + (st^2 + (mt - m)^2) / (2 s^2) - 1/2 */
            double st = (double)bgpbt__softplusf(tpol[A + j]) + 0.001, dm = (double)tpol[j] - pol[j];
            kl += log(s / st) + (st * st + dm * dm) / (2.0 * s * s) - 0.5;
            dloc += kl_w * (-dm / (s * s));
            ds += kl_w * (1.0 / s - (st * st + dm * dm) / (s * s * s));
        }
        dpol[j] = (float)dloc;
        dpol[A + j] = (float)(ds * dsig);
    }
    out[1] = H;
    out[2] = kl;
}

/* Loss and gradients of both networks on minibatch segments seg[0..B) (no parameter change).
   flags: 1 = reuse the entropy noise of the previous call, 2 = reuse its GAE targets (the tests
   use both to check gradients by finite differences with the targets held fixed, as the
   stop-gradient intends). */
BGPBT__PRIVATE bgpbt_result bgpbt__ppo_loss_grad(bgpbt_agent* g, const int* seg, int B, int steps_per_env,
                                                double kl_coef, int flags) {
    const int T = g->hp.unroll_length, A = g->act_dim, O = g->obs_dim, E = g->cfg.num_envs;
    const int rp = B * T, rv = B * (T + 1);
    const float clipv = g->cfg.obs_clip;
    const float rs = (float)g->hp.reward_scaling;
    double sum_surr = 0.0, sum_h = 0.0, sum_kl = 0.0, sum_v = 0.0, inv = 1.0 / (double)rp;
    bgpbt_result r;
    int b, t, i;
    (void)E;
    /* gather and normalise: value rows b*(T+1)+t, policy rows b*T+t */
    for (b = 0; b < B; ++b) {
        int e = seg[b] % g->cfg.num_envs, u = seg[b] / g->cfg.num_envs;
        const float* src = g->obs_buf + ((size_t)e * (size_t)(steps_per_env + 1) + (size_t)u * (size_t)T) * (size_t)O;
        bgpbt__nm_apply(g->nm_mu, g->nm_is, clipv, O, src, O, g->mb_vin + (size_t)b * (size_t)(T + 1) * (size_t)O, T + 1);
        memcpy(g->mb_pin + (size_t)b * (size_t)T * (size_t)O, g->mb_vin + (size_t)b * (size_t)(T + 1) * (size_t)O,
               (size_t)T * (size_t)O * sizeof(float));
        if (g->tpi && kl_coef > 0.0)
            bgpbt__nm_apply(g->t_mu, g->t_is, clipv, O, src, O, g->mb_tin + (size_t)b * (size_t)T * (size_t)O, T);
    }
    r = bgpbt_mlp_forward(g->vf, g->mb_vin, rv, g->mb_val, 1);
    if (r == BGPBT_OK) r = bgpbt_mlp_forward(g->pi, g->mb_pin, rp, g->mb_pol, 1);
    if (r == BGPBT_OK && g->tpi && kl_coef > 0.0) r = bgpbt_mlp_forward(g->tpi, g->mb_tin, rp, g->mb_tpol, 0);
    if (r != BGPBT_OK) return r;
    if (!(flags & 1)) bgpbt_rng_normals(&g->rng, g->mb_eps, (size_t)rp * (size_t)A);
    for (b = 0; b < B; ++b) {
        int e = seg[b] % g->cfg.num_envs, u = seg[b] / g->cfg.num_envs;
        size_t base = (size_t)e * (size_t)steps_per_env + (size_t)u * (size_t)T;
        float* rew = g->mb_vals; /* scratch: scaled rewards */
        float* vals = g->mb_val + (size_t)b * (size_t)(T + 1);
        float *vs = g->mb_vs + (size_t)b * (size_t)T, *adv = g->mb_adv + (size_t)b * (size_t)T;
        if (!(flags & 2)) {
            for (t = 0; t < T; ++t) rew[t] = g->rew_buf[base + (size_t)t] * rs;
            bgpbt_ppo_gae(T, rew, vals, g->boot_buf + base, g->term_buf + base, g->trunc_buf + base,
                          (float)g->hp.discount, (float)g->hp.gae_lambda, vs, adv);
        }
        for (t = 0; t <= T; ++t) {
            size_t row = (size_t)b * (size_t)(T + 1) + (size_t)t;
            if (t == T) { g->mb_dval[row] = 0.0f; continue; }
            {
                double err = (double)vs[t] - (double)vals[t];
                sum_v += err * err;
                g->mb_dval[row] = (float)(-2.0 * g->hp.value_coef * err * inv);
            }
        }
        for (t = 0; t < T; ++t) {
            size_t row = (size_t)b * (size_t)T + (size_t)t;
            double o[3];
            bgpbt__ppo_row(g->mb_pol + row * 2 * (size_t)A, g->u_buf + (base + (size_t)t) * (size_t)A,
                           (double)g->logp_buf[base + (size_t)t], (double)adv[t], g->mb_eps + row * (size_t)A,
                           g->hp.clip_epsilon, g->hp.entropy_cost,
                           (g->tpi && kl_coef > 0.0) ? g->mb_tpol + row * 2 * (size_t)A : NULL, kl_coef / (double)A,
                           A, g->mb_dpol + row * 2 * (size_t)A, o);
            sum_surr += o[0];
            sum_h += o[1];
            sum_kl += o[2];
        }
    }
    for (i = 0; i < rp * 2 * A; ++i) g->mb_dpol[i] = (float)((double)g->mb_dpol[i] * inv);
    g->st.last_policy_loss = sum_surr * inv;
    g->st.last_value_loss = g->hp.value_coef * sum_v * inv;
    g->st.last_entropy = sum_h * inv;
    g->st.last_kl = sum_kl * inv / (double)A;
    g->st.last_loss = g->st.last_policy_loss + g->st.last_value_loss - g->hp.entropy_cost * g->st.last_entropy +
                      kl_coef * g->st.last_kl;
    if (!bgpbt__isfinite(g->st.last_loss)) return BGPBT_ERR_AGENT_FAILED;
    r = bgpbt_mlp_backward(g->pi, g->mb_dpol, rp, NULL);
    if (r == BGPBT_OK) r = bgpbt_mlp_backward(g->vf, g->mb_dval, rv, NULL);
    return r;
}

/* One SGD step on minibatch segments seg[0..B). Returns BGPBT_ERR_AGENT_FAILED on non-finite. */
BGPBT__PRIVATE bgpbt_result bgpbt__ppo_sgd(bgpbt_agent* g, const int* seg, int B, int steps_per_env, double kl_coef,
                                          double lr) {
    bgpbt_adam_config adam = bgpbt_adam_config_default();
    bgpbt_result r = bgpbt__ppo_loss_grad(g, seg, B, steps_per_env, kl_coef, 0);
    if (r != BGPBT_OK) return r;
    adam.learning_rate = (float)lr;
    adam.max_grad_norm = (float)g->hp.max_grad_norm;
    if (bgpbt_mlp_adam_step(g->pi, &adam) != BGPBT_OK || bgpbt_mlp_adam_step(g->vf, &adam) != BGPBT_OK)
        return BGPBT_ERR_AGENT_FAILED;
    g->st.updates++;
    return BGPBT_OK;
}

/* Rollout scratch: actions for the current observations. */
BGPBT__PRIVATE bgpbt_result bgpbt__ppo_policy_step(bgpbt_agent* g, const float* obs, int n, int sample,
                                                  bgpbt_rng* rng, float* u_out, float* logp_out) {
    const int A = g->act_dim;
    int i, j;
    bgpbt_result r;
    bgpbt__nm_apply(g->nm_mu, g->nm_is, g->cfg.obs_clip, g->obs_dim, obs, g->obs_dim, g->r_obsn, n);
    r = bgpbt_mlp_forward(g->pi, g->r_obsn, n, g->r_pol, 0);
    if (r != BGPBT_OK) return r;
    if (sample) bgpbt_rng_normals(rng, g->r_eps, (size_t)n * (size_t)A);
    for (i = 0; i < n; ++i) {
        const float* pol = g->r_pol + (size_t)i * 2 * (size_t)A;
        float* u = u_out + (size_t)i * (size_t)A;
        for (j = 0; j < A; ++j) {
            float s = bgpbt__softplusf(pol[A + j]) + 0.001f;
            u[j] = sample ? pol[j] + s * g->r_eps[(size_t)i * (size_t)A + (size_t)j] : pol[j];
            g->r_act[(size_t)i * (size_t)A + (size_t)j] = tanhf(u[j]);
        }
        if (logp_out) logp_out[i] = (float)bgpbt__ppo_logp(pol, u, A);
    }
    return BGPBT_OK;
}

BGPBT__PRIVATE bgpbt_result bgpbt__agent_make_env(bgpbt_agent* g, int n, uint64_t seed, bgpbt_vecenv** v) {
    bgpbt_vecenv_config vc = bgpbt_vecenv_config_default();
    vc.num_envs = n;
    vc.seed = seed;
    vc.num_threads = g->cfg.env_threads;
    vc.allocator = g->cfg.allocator;
    vc.logger = g->cfg.logger;
    return bgpbt_vecenv_create(&g->def, &vc, v);
}

BGPBT__PRIVATE bgpbt_result bgpbt__agent_fail(bgpbt_agent* g, const char* what) {
    g->st.failed = 1;
    return bgpbt__error(&g->cfg.logger, BGPBT_ERR_AGENT_FAILED, "agent: %s produced non-finite values; the agent is marked failed", what);
}

/* The training loop shared by train and distill (teacher may be NULL). */
BGPBT__PRIVATE bgpbt_result bgpbt__agent_run(bgpbt_agent* g, long long env_steps, const bgpbt_distill_config* dc) {
    const int E = g->cfg.num_envs, T = g->hp.unroll_length, B = g->hp.batch_size, O = g->obs_dim, A = g->act_dim;
    const int M = g->hp.num_minibatches;
    const long long S = (long long)B * M, U = (S + E - 1) / E;
    const int steps = (int)(U * T);
    bgpbt_vecenv* v = NULL;
    bgpbt_episode_stats es;
    long long done = 0;
    double ret_sum = 0.0;
    long eps_count = 0;
    bgpbt_result r;
    int epochs = dc ? dc->epochs : g->hp.update_epochs;
    if (g->st.failed) return bgpbt__error(&g->cfg.logger, BGPBT_ERR_AGENT_FAILED, "agent: failed earlier; copy or load a healthy state");
    r = bgpbt__agent_ensure(g);
    if (r != BGPBT_OK) return r;
    r = bgpbt__agent_make_env(g, E, bgpbt_rng_u64(&g->rng), &v);
    if (r != BGPBT_OK) return r;
    r = bgpbt_vecenv_reset(v);
    bgpbt_vecenv_take_stats(v, &es);
    while (r == BGPBT_OK && (done < env_steps || done == 0)) {
        int s, e, ep, mb;
        /* collect U unrolls of T steps in each of E copies */
        for (s = 0; s < steps && r == BGPBT_OK; ++s) {
            const float* obs = bgpbt_vecenv_obs(v);
            const float *rw, *fin;
            const unsigned char *te, *tr;
            int ntr = 0;
            for (e = 0; e < E; ++e)
                memcpy(g->obs_buf + ((size_t)e * (size_t)(steps + 1) + (size_t)s) * (size_t)O, obs + (size_t)e * (size_t)O, (size_t)O * sizeof(float));
            r = bgpbt__ppo_policy_step(g, obs, E, 1, &g->rng, g->r_u, g->r_lp);
            if (r != BGPBT_OK) break;
            for (e = 0; e < E; ++e) {
                memcpy(g->u_buf + ((size_t)e * (size_t)steps + (size_t)s) * (size_t)A, g->r_u + (size_t)e * (size_t)A, (size_t)A * sizeof(float));
                g->logp_buf[(size_t)e * (size_t)steps + (size_t)s] = g->r_lp[e];
            }
            r = bgpbt_vecenv_step(v, g->r_act);
            if (r != BGPBT_OK) break;
            rw = bgpbt_vecenv_rewards(v);
            te = bgpbt_vecenv_terminated(v);
            tr = bgpbt_vecenv_truncated(v);
            fin = bgpbt_vecenv_final_obs(v);
            for (e = 0; e < E; ++e) {
                size_t k = (size_t)e * (size_t)steps + (size_t)s;
                g->rew_buf[k] = rw[e];
                g->term_buf[k] = te[e];
                g->trunc_buf[k] = (unsigned char)(tr[e] && !te[e]);
                g->boot_buf[k] = 0.0f;
                if (tr[e] && !te[e]) { /* bootstrap value of the cut episode, with the current networks */
                    bgpbt__nm_apply(g->nm_mu, g->nm_is, g->cfg.obs_clip, O, fin + (size_t)e * (size_t)O, O,
                                    g->r_obsn + (size_t)ntr * (size_t)O, 1);
                    ntr++;
                }
            }
            if (ntr) {
                int q = 0;
                r = bgpbt_mlp_forward(g->vf, g->r_obsn, ntr, g->r_vb, 0);
                for (e = 0; e < E; ++e)
                    if (tr[e] && !te[e]) g->boot_buf[(size_t)e * (size_t)steps + (size_t)s] = g->r_vb[q++];
            }
        }
        if (r != BGPBT_OK) break;
        {
            const float* obs = bgpbt_vecenv_obs(v);
            for (e = 0; e < E; ++e)
                memcpy(g->obs_buf + ((size_t)e * (size_t)(steps + 1) + (size_t)steps) * (size_t)O, obs + (size_t)e * (size_t)O, (size_t)O * sizeof(float));
        }
        for (e = 0; e < E; ++e) { /* normaliser sees every collected step, then the update runs */
            bgpbt__nm_update(g, g->obs_buf + (size_t)e * (size_t)(steps + 1) * (size_t)O, steps, O);
        }
        done += (long long)steps * E;
        g->st.rounds++;
        {
            double kl = 0.0, lr = g->hp.learning_rate;
            if (dc) {
                double f = dc->anneal_steps > 0 ? (double)g->st.distill_steps / (double)dc->anneal_steps : 1.0;
                double alpha = dc->alpha_start + (dc->alpha_end - dc->alpha_start) * (f > 1.0 ? 1.0 : f);
                kl = alpha * dc->kl_coef;
                lr = dc->learning_rate;
                g->st.distill_steps += (long long)steps * E;
            }
            for (ep = 0; ep < epochs && r == BGPBT_OK; ++ep) {
                bgpbt_rng_permutation(&g->rng, g->perm, (int)(U * E));
                for (mb = 0; mb < M; ++mb) {
                    r = bgpbt__ppo_sgd(g, g->perm + (size_t)mb * (size_t)B, B, steps, kl, lr);
                    if (r != BGPBT_OK) break;
                }
            }
        }
        g->st.env_steps += (long long)steps * E;
        bgpbt_vecenv_take_stats(v, &es);
        ret_sum += es.return_sum;
        eps_count += es.episodes;
    }
    bgpbt_vecenv_destroy(v);
    g->st.last_train_episodes = eps_count;
    g->st.last_train_return = eps_count ? ret_sum / (double)eps_count : NAN;
    if (r == BGPBT_ERR_AGENT_FAILED) return bgpbt__agent_fail(g, dc ? "distillation" : "training");
    return r;
}

BGPBT_API bgpbt_result bgpbt_agent_train(bgpbt_agent* g, long long env_steps) {
    if (!g || env_steps < 0) return BGPBT_ERR_INVALID_ARGUMENT;
    return bgpbt__agent_run(g, env_steps, NULL);
}

BGPBT_API bgpbt_result bgpbt_agent_distill(bgpbt_agent* g, const bgpbt_agent* teacher, const bgpbt_distill_config* distill,
                                           long long env_steps) {
    bgpbt_distill_config d = distill ? *distill : bgpbt_distill_config_default();
    bgpbt_distill_config def = bgpbt_distill_config_default();
    bgpbt_result r;
    int T, B;
    if (!g || !teacher || env_steps < 0 || teacher == g) return BGPBT_ERR_INVALID_ARGUMENT;
    if (teacher->obs_dim != g->obs_dim || teacher->act_dim != g->act_dim)
        return bgpbt__error(&g->cfg.logger, BGPBT_ERR_SIZE_MISMATCH, "distill: teacher and student see different obs/act sizes");
    if (d.alpha_start == 0.0 && d.alpha_end == 0.0) { d.alpha_start = def.alpha_start; d.alpha_end = def.alpha_end; }
    if (d.anneal_steps == 0) d.anneal_steps = def.anneal_steps;
    if (d.kl_coef == 0.0) d.kl_coef = def.kl_coef;
    if (d.learning_rate == 0.0) d.learning_rate = def.learning_rate;
    if (d.epochs == 0) d.epochs = def.epochs;
    if (!bgpbt__isfinite(d.alpha_start) || !bgpbt__isfinite(d.alpha_end) || d.alpha_start < 0 || d.alpha_end < 0 ||
        d.anneal_steps < 0 || !(d.kl_coef >= 0 && d.kl_coef < 1e6) || !(d.learning_rate > 0 && d.learning_rate <= 1) ||
        d.epochs < 1 || d.epochs > 1000)
        return bgpbt__error(&g->cfg.logger, BGPBT_ERR_OUT_OF_RANGE, "distill: bad schedule or settings");
    if (teacher->st.failed) return bgpbt__error(&g->cfg.logger, BGPBT_ERR_AGENT_FAILED, "distill: the teacher has failed");
    /* a private copy of the teacher's policy and normaliser (the teacher stays read-only) */
    T = g->hp.unroll_length;
    B = g->hp.batch_size;
    if (g->tpi && !bgpbt__mlp_same_arch(g->tpi, teacher->pi)) {
        bgpbt_mlp_destroy(g->tpi);
        g->tpi = NULL;
    }
    if (!g->tpi) {
        bgpbt_mlp_config c = teacher->pi->cfg;
        c.allocator = g->cfg.allocator;
        c.logger = g->cfg.logger;
        c.max_batch = B * T;
        r = bgpbt__mlp_alloc(&c, &g->tpi);
        if (r != BGPBT_OK) return r;
    }
    memcpy(g->tpi->params, teacher->pi->params, teacher->pi->np_pad * sizeof(float));
    memcpy(g->t_mu, teacher->nm_mu, (size_t)g->obs_dim * sizeof(float));
    memcpy(g->t_is, teacher->nm_is, (size_t)g->obs_dim * sizeof(float));
    return bgpbt__agent_run(g, env_steps, &d);
}

BGPBT_API bgpbt_result bgpbt_agent_evaluate(bgpbt_agent* g, double* mean_return, double* std_return) {
    bgpbt_vecenv* v = NULL;
    bgpbt_result r;
    int n, e, maxs, s, left;
    double *ret = NULL, sum = 0.0, sq = 0.0;
    unsigned char* fin = NULL;
    const bgpbt_allocator* a;
    if (!g) return BGPBT_ERR_INVALID_ARGUMENT;
    if (g->st.failed) return bgpbt__error(&g->cfg.logger, BGPBT_ERR_AGENT_FAILED, "agent: failed earlier; nothing to evaluate");
    a = &g->cfg.allocator;
    n = g->cfg.eval_episodes;
    maxs = g->cfg.eval_max_steps ? g->cfg.eval_max_steps : (g->def.max_episode_steps ? g->def.max_episode_steps : 1000);
    if (n > g->cap_envs) { /* eval needs the per-step scratch for n rows */
        int keep = g->cfg.num_envs;
        g->cfg.num_envs = n;
        bgpbt__agent_free_buffers(g);
        r = bgpbt__agent_ensure(g);
        g->cfg.num_envs = keep;
        if (r != BGPBT_OK) return r;
    } else if (!g->r_obsn) {
        r = bgpbt__agent_ensure(g);
        if (r != BGPBT_OK) return r;
    }
    ret = (double*)bgpbt__calloc(a, (size_t)n, sizeof(double));
    fin = (unsigned char*)bgpbt__calloc(a, (size_t)n, 1);
    if (!ret || !fin) {
        r = bgpbt__error(&g->cfg.logger, BGPBT_ERR_OUT_OF_MEMORY, "evaluate: out of memory");
        goto done;
    }
    r = bgpbt__agent_make_env(g, n, bgpbt_rng_u64(&g->eval_rng), &v);
    if (r != BGPBT_OK) goto done;
    r = bgpbt_vecenv_reset(v);
    left = n;
    for (s = 0; s < maxs && left > 0 && r == BGPBT_OK; ++s) {
        const float* rw;
        const unsigned char *te, *tr;
        r = bgpbt__ppo_policy_step(g, bgpbt_vecenv_obs(v), n, 0, NULL, g->r_u, NULL);
        if (r == BGPBT_OK) r = bgpbt_vecenv_step(v, g->r_act);
        if (r != BGPBT_OK) break;
        rw = bgpbt_vecenv_rewards(v);
        te = bgpbt_vecenv_terminated(v);
        tr = bgpbt_vecenv_truncated(v);
        for (e = 0; e < n; ++e) {
            if (fin[e]) continue;
            ret[e] += (double)rw[e];
            if (te[e] || tr[e]) { fin[e] = 1; left--; }
        }
    }
    if (r == BGPBT_OK) {
        for (e = 0; e < n; ++e) { sum += ret[e]; }
        sum /= n;
        for (e = 0; e < n; ++e) sq += (ret[e] - sum) * (ret[e] - sum);
        g->st.last_eval_return = sum;
        g->st.last_eval_std = sqrt(sq / n);
        if (mean_return) *mean_return = sum;
        if (std_return) *std_return = g->st.last_eval_std;
        if (!bgpbt__isfinite(sum)) r = bgpbt__agent_fail(g, "evaluation");
    }
done:
    bgpbt_vecenv_destroy(v);
    bgpbt__cfree(a, ret, (size_t)n, sizeof(double));
    bgpbt__cfree(a, fin, (size_t)n, 1);
    return r;
}

BGPBT_API bgpbt_result bgpbt_agent_act(bgpbt_agent* g, const float* obs, int batch, float* actions, int deterministic) {
    int done = 0;
    bgpbt_result r = BGPBT_OK;
    if (!g || (!obs && batch > 0) || !actions || batch < 0) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!g->r_obsn) {
        r = bgpbt__agent_ensure(g);
        if (r != BGPBT_OK) return r;
    }
    while (done < batch && r == BGPBT_OK) { /* chunks of the rollout scratch size */
        int n = batch - done < g->cap_envs ? batch - done : g->cap_envs;
        r = bgpbt__ppo_policy_step(g, obs + (size_t)done * (size_t)g->obs_dim, n, !deterministic, &g->eval_rng, g->r_u, NULL);
        if (r == BGPBT_OK) memcpy(actions + (size_t)done * (size_t)g->act_dim, g->r_act, (size_t)n * (size_t)g->act_dim * sizeof(float));
        done += n;
    }
    return r;
}

/* ---- copy and serialisation ---- */

BGPBT__PRIVATE void bgpbt__agent_copy_state(bgpbt_agent* d, const bgpbt_agent* s) {
    memcpy(d->nm_mean, s->nm_mean, (size_t)d->obs_dim * sizeof(double));
    memcpy(d->nm_m2, s->nm_m2, (size_t)d->obs_dim * sizeof(double));
    d->nm_count = s->nm_count;
    bgpbt__nm_refresh(d);
    d->rng = s->rng;
    d->eval_rng = s->eval_rng;
    d->st = s->st;
    d->hp = s->hp;
    d->arch = s->arch;
}

BGPBT_API bgpbt_result bgpbt_agent_copy_from(bgpbt_agent* d, const bgpbt_agent* s) {
    bgpbt_mlp *pi = NULL, *vf = NULL;
    bgpbt_result r;
    if (!d || !s) return BGPBT_ERR_INVALID_ARGUMENT;
    if (d == s) return BGPBT_OK;
    if (d->obs_dim != s->obs_dim || d->act_dim != s->act_dim)
        return bgpbt__error(&d->cfg.logger, BGPBT_ERR_SIZE_MISMATCH, "agent_copy_from: observation or action sizes differ");
    if (!bgpbt__mlp_same_arch(d->pi, s->pi) || !bgpbt__mlp_same_arch(d->vf, s->vf)) {
        r = bgpbt__ppo_make_mlp(d, &s->arch, 1, d->pi->cfg.max_batch, 0, &pi);
        if (r == BGPBT_OK) r = bgpbt__ppo_make_mlp(d, &s->arch, 0, d->vf->cfg.max_batch, 0, &vf);
        if (r != BGPBT_OK) {
            bgpbt_mlp_destroy(pi);
            bgpbt_mlp_destroy(vf);
            return r;
        }
        bgpbt_mlp_destroy(d->pi);
        bgpbt_mlp_destroy(d->vf);
        d->pi = pi;
        d->vf = vf;
    }
    bgpbt_mlp_copy(d->pi, s->pi);
    bgpbt_mlp_copy(d->vf, s->vf);
    bgpbt__agent_copy_state(d, s);
    return BGPBT_OK;
}

BGPBT__PRIVATE void bgpbt__agent_write(bgpbt_writer* w, const bgpbt_agent* g) {
    const bgpbt_ppo_hparams* h = &g->hp;
    uint64_t st[4];
    size_t n1 = 0, n2 = 0;
    int q;
    bgpbt_write_u32(w, (uint32_t)g->obs_dim);
    bgpbt_write_u32(w, (uint32_t)g->act_dim);
    bgpbt_write_i32(w, g->arch.policy_layers);
    bgpbt_write_i32(w, g->arch.policy_width);
    bgpbt_write_i32(w, g->arch.value_layers);
    bgpbt_write_i32(w, g->arch.value_width);
    bgpbt_write_i32(w, (int32_t)g->arch.activation);
    bgpbt_write_f64(w, h->learning_rate);
    bgpbt_write_f64(w, h->discount);
    bgpbt_write_f64(w, h->entropy_cost);
    bgpbt_write_i32(w, h->unroll_length);
    bgpbt_write_i32(w, h->batch_size);
    bgpbt_write_i32(w, h->update_epochs);
    bgpbt_write_f64(w, h->reward_scaling);
    bgpbt_write_f64(w, h->gae_lambda);
    bgpbt_write_f64(w, h->clip_epsilon);
    bgpbt_write_i32(w, h->num_minibatches);
    bgpbt_write_f64(w, h->value_coef);
    bgpbt_write_f64(w, h->max_grad_norm);
    for (q = 0; q < 2; ++q) {
        bgpbt_rng_get_state(q ? &g->eval_rng : &g->rng, st);
        bgpbt_write_u64(w, st[0]); bgpbt_write_u64(w, st[1]); bgpbt_write_u64(w, st[2]); bgpbt_write_u64(w, st[3]);
    }
    bgpbt_write_u64(w, (uint64_t)g->st.env_steps);
    bgpbt_write_u64(w, (uint64_t)g->st.distill_steps);
    bgpbt_write_u64(w, (uint64_t)g->st.updates);
    bgpbt_write_u64(w, (uint64_t)g->st.rounds);
    bgpbt_write_f64(w, g->st.last_train_return);
    bgpbt_write_f64(w, g->st.last_eval_return);
    bgpbt_write_f64(w, g->st.last_eval_std);
    bgpbt_write_u32(w, (uint32_t)g->st.failed);
    bgpbt_write_f64(w, g->nm_count);
    bgpbt_write_f64s(w, g->nm_mean, (size_t)g->obs_dim);
    bgpbt_write_f64s(w, g->nm_m2, (size_t)g->obs_dim);
    bgpbt_mlp_save(g->pi, NULL, 0, &n1);
    bgpbt_mlp_save(g->vf, NULL, 0, &n2);
    bgpbt_write_u64(w, (uint64_t)n1);
    if (w->buf && !w->overflow && w->cap - w->pos >= n1) bgpbt_mlp_save(g->pi, w->buf + w->pos, n1, &n1);
    bgpbt_write_bytes(w, w->buf ? w->buf + w->pos : NULL, n1);
    bgpbt_write_u64(w, (uint64_t)n2);
    if (w->buf && !w->overflow && w->cap - w->pos >= n2) bgpbt_mlp_save(g->vf, w->buf + w->pos, n2, &n2);
    bgpbt_write_bytes(w, w->buf ? w->buf + w->pos : NULL, n2);
}

BGPBT_API bgpbt_result bgpbt_agent_save(const bgpbt_agent* g, void* buf, size_t cap, size_t* size) {
    bgpbt_writer w;
    if (!g || !size) return BGPBT_ERR_INVALID_ARGUMENT;
    w.buf = (unsigned char*)buf;
    w.cap = buf ? cap : 0;
    w.pos = 0;
    w.overflow = 0;
    bgpbt_container_begin(&w, BGPBT__AGENT_KIND, BGPBT__AGENT_VERSION);
    bgpbt__agent_write(&w, g);
    bgpbt_container_end(&w, 0);
    *size = w.pos;
    if (buf && w.overflow) return BGPBT_ERR_BUFFER_TOO_SMALL;
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_agent_load(bgpbt_agent* g, const void* data, size_t size) {
    bgpbt_reader r;
    bgpbt_result res;
    bgpbt_agent tmp; /* the parsed state, applied only when everything checked out */
    bgpbt_mlp *pi = NULL, *vf = NULL;
    bgpbt_mlp_config pc, vc;
    uint64_t st[2][4];
    size_t n;
    int q, i;
    const bgpbt_logger* lg;
    if (!g) return BGPBT_ERR_INVALID_ARGUMENT;
    lg = &g->cfg.logger;
    res = bgpbt_container_open(data, size, BGPBT__AGENT_KIND, BGPBT__AGENT_VERSION, NULL, &r);
    if (res != BGPBT_OK) return bgpbt__error(lg, res, "agent_load: not a valid agent blob (%s)", bgpbt_result_string(res));
    memset(&tmp, 0, sizeof tmp);
    if ((int)bgpbt_read_u32(&r) != g->obs_dim || (int)bgpbt_read_u32(&r) != g->act_dim)
        return bgpbt__error(lg, r.failed ? BGPBT_ERR_TRUNCATED : BGPBT_ERR_SIZE_MISMATCH, "agent_load: observation or action sizes differ");
    tmp.arch.policy_layers = bgpbt_read_i32(&r);
    tmp.arch.policy_width = bgpbt_read_i32(&r);
    tmp.arch.value_layers = bgpbt_read_i32(&r);
    tmp.arch.value_width = bgpbt_read_i32(&r);
    tmp.arch.activation = (bgpbt_activation)bgpbt_read_i32(&r);
    tmp.hp.learning_rate = bgpbt_read_f64(&r);
    tmp.hp.discount = bgpbt_read_f64(&r);
    tmp.hp.entropy_cost = bgpbt_read_f64(&r);
    tmp.hp.unroll_length = bgpbt_read_i32(&r);
    tmp.hp.batch_size = bgpbt_read_i32(&r);
    tmp.hp.update_epochs = bgpbt_read_i32(&r);
    tmp.hp.reward_scaling = bgpbt_read_f64(&r);
    tmp.hp.gae_lambda = bgpbt_read_f64(&r);
    tmp.hp.clip_epsilon = bgpbt_read_f64(&r);
    tmp.hp.num_minibatches = bgpbt_read_i32(&r);
    tmp.hp.value_coef = bgpbt_read_f64(&r);
    tmp.hp.max_grad_norm = bgpbt_read_f64(&r);
    for (q = 0; q < 2; ++q)
        for (i = 0; i < 4; ++i) st[q][i] = bgpbt_read_u64(&r);
    tmp.st.env_steps = (long long)bgpbt_read_u64(&r);
    tmp.st.distill_steps = (long long)bgpbt_read_u64(&r);
    tmp.st.updates = (long long)bgpbt_read_u64(&r);
    tmp.st.rounds = (long)bgpbt_read_u64(&r);
    tmp.st.last_train_return = bgpbt_read_f64(&r);
    tmp.st.last_eval_return = bgpbt_read_f64(&r);
    tmp.st.last_eval_std = bgpbt_read_f64(&r);
    tmp.st.failed = bgpbt_read_u32(&r) ? 1 : 0;
    tmp.nm_count = bgpbt_read_f64(&r);
    if (r.failed) return bgpbt__error(lg, BGPBT_ERR_TRUNCATED, "agent_load: truncated record");
    if (bgpbt__ppo_check_arch(lg, &tmp.arch) != BGPBT_OK || bgpbt__ppo_check_hparams(lg, &tmp.hp) != BGPBT_OK ||
        !(tmp.nm_count >= 0.0) || !bgpbt__isfinite(tmp.nm_count) || tmp.st.env_steps < 0 ||
        bgpbt_rng_set_state(&tmp.rng, st[0]) != BGPBT_OK || bgpbt_rng_set_state(&tmp.eval_rng, st[1]) != BGPBT_OK)
        return bgpbt__error(lg, BGPBT_ERR_BAD_FORMAT, "agent_load: invalid settings in the record");
    if ((r.size - r.pos) / 16 < (size_t)g->obs_dim) return bgpbt__error(lg, BGPBT_ERR_TRUNCATED, "agent_load: truncated normaliser");
    {
        /* normaliser into the target's spare teacher arrays would be unsafe; read into place later */
        size_t pos_norm = r.pos;
        r.pos += (size_t)g->obs_dim * 16;
        n = (size_t)bgpbt_read_u64(&r);
        if (r.failed || n > r.size - r.pos) return bgpbt__error(lg, BGPBT_ERR_TRUNCATED, "agent_load: truncated policy");
        pc = g->pi->cfg;
        res = bgpbt_mlp_create_from_blob(r.buf + r.pos, n, &pc, &pi);
        r.pos += n;
        if (res != BGPBT_OK) return res;
        n = (size_t)bgpbt_read_u64(&r);
        if (r.failed || n > r.size - r.pos) {
            bgpbt_mlp_destroy(pi);
            return bgpbt__error(lg, BGPBT_ERR_TRUNCATED, "agent_load: truncated value network");
        }
        vc = g->vf->cfg;
        res = bgpbt_mlp_create_from_blob(r.buf + r.pos, n, &vc, &vf);
        if (res != BGPBT_OK) {
            bgpbt_mlp_destroy(pi);
            return res;
        }
        if (pi->dim[0] != g->obs_dim || pi->dim[pi->nl] != 2 * g->act_dim || vf->dim[0] != g->obs_dim || vf->dim[vf->nl] != 1) {
            bgpbt_mlp_destroy(pi);
            bgpbt_mlp_destroy(vf);
            return bgpbt__error(lg, BGPBT_ERR_BAD_FORMAT, "agent_load: network sizes do not match the environment");
        }
        r.pos = pos_norm;
        for (i = 0; i < 2 * g->obs_dim; ++i) {
            double x = bgpbt_read_f64(&r);
            if (!bgpbt__isfinite(x) || (i >= g->obs_dim && x < 0.0)) {
                bgpbt_mlp_destroy(pi);
                bgpbt_mlp_destroy(vf);
                return bgpbt__error(lg, BGPBT_ERR_BAD_FORMAT, "agent_load: invalid normaliser statistics");
            }
        }
        /* commit: nothing below can fail */
        r.pos = pos_norm;
        bgpbt_read_f64s(&r, g->nm_mean, (size_t)g->obs_dim);
        bgpbt_read_f64s(&r, g->nm_m2, (size_t)g->obs_dim);
    }
    bgpbt_mlp_destroy(g->pi);
    bgpbt_mlp_destroy(g->vf);
    g->pi = pi;
    g->vf = vf;
    g->nm_count = tmp.nm_count;
    bgpbt__nm_refresh(g);
    g->rng = tmp.rng;
    g->eval_rng = tmp.eval_rng;
    g->hp = tmp.hp;
    g->arch = tmp.arch;
    g->st = tmp.st;
    return BGPBT_OK;
}

/* ============================================================================================
   [impl.gp] gp
   ============================================================================================ */

/* ============================================================================================
   [impl.bo] bo
   ============================================================================================ */

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
