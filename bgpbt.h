/* bgpbt.h - v0.1.0 - Bayesian Generational Population-Based Training in one C header
   MIT or public domain, your choice (see end of file). No warranty implied.

   Do this:
       #define BGPBT_IMPLEMENTATION
   before you include this file in *one* C or C++ file to create the implementation.
   Every other file just includes "bgpbt.h".

   QUICK START: BG-PBT tunes 8 PPO agents on a built-in task

       #define BGPBT_IMPLEMENTATION
       #include "bgpbt.h"
       #include <stdio.h>
       int main(void) {
           bgpbt_pbt_run_config rc = bgpbt_pbt_run_config_default();
           bgpbt_pbt_run_result res;
           rc.pbt.method = BGPBT_PBT_METHOD_BGPBT;  // or _PB2, _PBT, _RANDOM
           rc.pbt.pop_size = 8;
           rc.pbt.t_ready = 50000;                  // env steps between exploit/explore
           rc.pbt.max_steps = 1000000;              // env steps per agent
           rc.agent.task = "halfcheetah";           // or rc.agent.env_def = &your_game;
           rc.out_prefix = "run_";                  // run_log.csv, run_returns.svg, checkpoint, ...
           rc.progress = 1;                         // one progress line per interval
           if (bgpbt_pbt_run(&rc, &res) != BGPBT_OK) return 1;
           printf("best return %.1f after %lld env steps\n", res.best_return, res.total_steps);
           return 0;
       }

       cc -O2 -march=native -fopenmp main.c -lm      (-fopenmp is optional)

   Every layer below is usable on its own: the simulator for a game, the GP/BO for any black-box
   function (bgpbt_bo_minimize), PPO for one agent (bgpbt_agent_*), the scheduler through
   ask/tell for agents trained elsewhere (bgpbt_pbt_ask / bgpbt_pbt_tell; see
   examples/mpi_population.c). The examples/ folder has one program per use, each with its
   one-line build at the top.

   WHAT IS INSIDE

   A CPU-only implementation of BG-PBT (Wan et al., AutoML-Conf 2022) and everything it needs,
   with no dependency beyond libc and libm (OpenMP optional). The layers, lowest first; a
   layer only ever calls the ones below it:

       core     result codes, allocator hooks, logger, RNG streams, arena, timer, OpenMP macro
       simd     one wide-float vocabulary over AVX-512 / AVX2+FMA / SSE2 / NEON / scalar
       io       CRC-32, byte streams, checkpoint container, atomic files, CSV and SVG plots
       linalg   fp32 GEMM micro-kernels (MLP); fp64 blocked Cholesky and triangular solves (GP)
       sim      articulated rigid bodies in generalized coordinates, contacts with friction,
                an MJCF subset loader; batched: SIMD lanes are environments
       env      vectorised environments, user environments from callbacks, ten built-in tasks
                (ant, halfcheetah, hopper, humanoid, reacher, fetch, ur5e, walker2d,
                inverted_pendulum, inverted_double_pendulum), SVG rendering
       nn       MLP of any depth and width, batched forward/backward, Adam
       ppo      the PPO agent as BG-PBT ran it (tanh-Gaussian policy, GAE, observation
                normaliser), evaluation, distillation, copy and save/load
       gp       exact Gaussian processes: Matern/SE/overlap/mixture/time-varying kernels,
                marginal-likelihood fitting with analytic gradients
       bo       search spaces, CASMOPOLITAN trust regions, acquisitions, ask/tell
       pbt      the population: random search, PBT, PB2 and BG-PBT with generations,
                architecture search and distillation; ask/tell, runner, checkpoints, logs, plots

   TABLE OF CONTENTS (search for the tag to jump)

       [doc.options]        compile-time options and the translation unit each belongs to
       [doc.determinism]    what is bit-identical and what agrees within a tolerance
       [doc.errors]         result codes and the logger
       [decl.core]          declarations, one section per layer, lowest first
       [decl.io]  [decl.io.plot]
       [decl.linalg]  [decl.linalg.gemm]  [decl.linalg.chol]
       [decl.sim]           (its MJCF subset table and physics model are at its top)
       [decl.env]  [decl.env.render]  [decl.env.tasks]   (the task table)
       [decl.nn]  [decl.ppo]
       [decl.gp]  [decl.bo]
       [decl.pbt]  [decl.pbt.driver]
       [impl.core]          implementation, in the same order
       [impl.simd]          (the SIMD vocabulary and its measured error bounds)
       [impl.io]  [impl.linalg]  [impl.sim]  [impl.env]  [impl.nn]  [impl.ppo]
       [impl.gp]  [impl.bo]  [impl.pbt]
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
   | BGPBT_SYS_FOPEN, _FREAD| fopen, fread,      | the implementation file  | the file operations of [impl.io] and the    |
   | _OPEN, _WRITE, _FSYNC, | open, write, fsync,| (a test seam)            | MJCF and checkpoint loaders; define one to  |
   | _RENAME, _LINK         | rename, link       |                          | inject I/O faults (tests/test_prelude.h)    |

   For results that are bit-identical across -O levels and between gcc and clang, compile the
   implementation file with -ffp-contract=off (gcc's default under -std=c99 / -std=c11); see
   [doc.determinism].

   SIMD is chosen at compile time from the compiler's flags: AVX-512F (-mavx512f or
   -march=native on a machine that has it), else AVX2 with FMA (-mavx2 -mfma), else SSE2 (every
   x86-64), else NEON (AArch64), else scalar. There is no run-time CPU dispatch: build for the
   machine you run on. The public API never exposes the SIMD width, so files compiled with
   different flags can share one implementation file.

   [doc.determinism] DETERMINISM CONTRACT

   - Same build, same inputs, same seed: bit-identical results, for any OpenMP thread count and
     with OpenMP off (the same flags without -fopenmp). Work is split by output ownership (each
     thread writes its own environments, rows or agents) and every reduction runs in index
     order, never in thread order. Each environment, agent and optimiser draws from its own RNG
     stream, derived from (seed, stream id), so environment i at step t sees the same numbers
     whatever thread runs it.
   - Across optimisation levels and compilers: bit-identical when the compiler does not
     contract a*b+c into a fused multiply-add on its own, i.e. gcc in an ISO mode (-std=c99,
     -std=c11: there -ffp-contract=off is gcc's default) or any gcc/clang with
     -ffp-contract=off. Then -O0 and -O2 (tested; -O1 and -O3 are expected to match) and gcc
     and clang give the same bits for the same SIMD width. Not guaranteed: gcc's GNU modes (-std=gnu99, the default without
     -std) contract at -O2 and above when the target has FMA (-march=native, -mfma), and clang
     contracts by default (-ffp-contract=on) even at -O0; both change the last bits of sums
     and products, and trajectories through chaotic dynamics (contacts, training) then drift
     apart: compare such builds statistically, not bit for bit. Explicit FMA in the SIMD layer is used the same way at every
     -O level, so it does not break this.
   - Across SIMD widths (scalar, SSE2, AVX2, AVX-512): the element-wise vocabulary (add, mul,
     min, max, blend, the separate-rounding multiply-add) is bit-identical lane for lane, and
     the simulator's kernels use only that vocabulary: a rollout is bit-identical on every
     width (tests/check_sim_simd.sh; tolerance if it ever is not: 1e-3 absolute after 500
     physics steps). The transcendental approximations use the same polynomials on every
     width; they agree with the scalar reference within the bounds in [impl.simd] (a few ulp).
     Reductions (sums, dot products, GEMM) may sum in a different order or with fused
     multiply-adds on one width and not another; they agree within a relative 1e-5 of the
     summed magnitudes per operation. Measured with tests/determinism.c (gcc -std=c99 -O2, an
     AVX-512 machine): the physics rollout hash is the same for scalar, SSE2, AVX2+FMA and
     AVX-512; the PPO update hash is the same for scalar (-march=native), AVX2+FMA and
     AVX-512 but differs for SSE2 (no FMA); the BO suggestion hash is the same for AVX2+FMA and
     AVX-512 and for scalar and SSE2, but differs between those two groups. So a PPO or BO run
     built for another width is a different, equally valid run: compare such runs with a
     tolerance (or statistically), not bit for bit.
   - Tested by: the hardening suite (1 and 2 threads, in every build of tests/run.sh) and
     tests/check_determinism.sh (golden hashes of a physics rollout, a PPO update and a BO
     suggestion: 1 and 2 threads, OpenMP off, -O0 and -O2, gcc and clang with contraction off).
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

   What "bad input" covers, for every public function: NULL pointers, zero and negative sizes
   and counts, mismatched dimensions, NaN and infinite values (observations, actions, states,
   rewards, GP inputs and targets, hyperparameters), reversed or empty ranges, unknown names,
   calls in the wrong order, and truncated, bit-flipped, foreign or newer-version files.
   - A function returning bgpbt_result returns the specific code and, when the object or config
     carrying a logger is in reach (not itself NULL), logs one message.
   - A getter returning a value returns a neutral one: 0, -1 (ids), NULL, "" or "unknown"; a
     void function does nothing (destroy(NULL), a NULL output pointer, an out-of-range id);
     the plain-data helpers (RNG draws, byte reader/writer, arena, text buffer, the linalg and
     GAE kernels) treat NULL or a negative size as "nothing to do" (the reader and writer set
     their `failed` / `overflow` flag).
   - Not checkable, so the caller's part: buffers at least as long as documented, objects from
     their _create and not used after _destroy, one object per thread at a time.
   Out of memory: BGPBT_ERR_OUT_OF_MEMORY, nothing leaked, existing objects unchanged and usable,
   whether one allocation fails or every allocation from some point on fails. Files: a failed
   read, write, fsync, rename or link is BGPBT_ERR_IO; bgpbt_file_write_atomic then leaves the
   previous file complete under its name and no "<path>.tmp"; a checkpoint save that fails
   leaves the previous checkpoint at its path, intact and loadable. The directory fsync after
   the rename is best effort (the new file is already in place; its failure is not reported).
   Tested by the hardening suite (tests/test_hardening.c): a bad-input matrix over every public
   function (tests/check_bad_input_matrix.sh fails when one has no case), allocation-failure
   injection in both modes, file-operation failure injection through the BGPBT_SYS_* seam
   ([doc.options]) in both modes, SIGKILL during checkpoint saves, and libFuzzer targets for
   every loader (tests/check_fuzz.sh); the README's Robustness section has the numbers.
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
   one, never a mix. A failed write, fsync or rename returns BGPBT_ERR_IO, removes the
   temporary file and leaves the old file as it was. */
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

/* Single-precision GEMM for the MLP: C = A B (beta 0) or C += A B (beta 1), C row-major
   m x n with row stride ldc. A(i, k) is read at a[i * a_rs + k * a_cs], so A and A^T cost the
   same (A: a_rs = lda, a_cs = 1; A^T: a_rs = 1, a_cs = lda). B(k, j) is read at b[k * ldb + j].

   Kernels, chosen at compile time: an 8x32 AVX-512 micro-kernel (16 zmm accumulators, A
   broadcast from memory), a 6x16 AVX2+FMA one (12 ymm accumulators), and a 4x(2W) kernel on
   the bgpbt_fw vocabulary for SSE2, NEON and scalar builds; half-width variants (MR x NR/2)
   for tiles of at most NR/2 columns (the MLP's narrow output layers), and a 1-row kernel
   (single-observation inference). The k loop reads A through one pointer (packed A: immediate
   offsets; strided A: one index register per row stride), so the loop is 2 loads + 8
   broadcasts + 16 FMAs + 2 pointer updates on AVX-512.
   Two drivers, chosen by the operands' layout (never by the thread count):
   - T (A read in place, row-major or the MLP's panel-major gradients): output tiles of 256
     rows x one NR-column panel; k in blocks of 256, outermost; each B micro-panel stays in L1
     while every 8-row block of the tile runs over it. B is read in place when its 32-column
     panel is contiguous (the MLP's weights), else copied to a stack buffer (B rows 1 KiB
     apart alias in L1). A transposed A is read in place too (MR consecutive floats per k);
     partial row blocks are packed per micro-panel.
   - P (A transposed and B panel-major: the MLP's weight gradient dW = X^T dY, k = the batch):
     per 256-row k block, the A block is packed once into a caller's workspace (8 floats per
     k and micro-panel: one vector move, reading X row by row), then each B micro-panel is
     read in place and stays in L1 while the packed micro-panels stream from L2 (GotoBLAS
     order). It replaces a transpose pass over X (12% of the default-network PPO update).
   The MLP fuses its elementwise work into the GEMMs (an epilogue run on each finished
   micro-tile while it is in L1: bias + activation + activation derivative in the forward,
   the derivative product in the backward) and gets the bias gradient from the dW GEMM as one
   more row of A that is all ones. Every output element is one FMA chain over k from zero per
   256-block, the blocks added to C in order, so a row's result does not depend on m, on the
   tiling, on the kernel variant or on the thread count. OpenMP splits output tiles (T) or
   row ranges of micro-panels (P) when the product is large enough to pay for a parallel
   region (m n k > 4M). Nothing is allocated.
   Measured (bench_mlp.c: mlp.gemm.*.fraction_of_peak, one thread, peak = the run's highest
   measured clock x measured FMAs per cycle x 32 FLOP): on 2 vCPUs of an AMD EPYC Zen 5 (two
   full-width 512-bit FMA pipes, 3.6-3.9 GHz), 0.89-0.93 of peak for 256-wide layers at
   256-1024 rows, 0.79-0.85 at 6144 rows, 0.72-0.83 for the weight-gradient shapes, 0.83 for a
   transposed A through this function (medians of 3 runs); on the Xeon of earlier sessions (two
   512-bit FMA units, 4.0-4.4 GHz, a busier machine) the same kernels gave 0.68-0.76 and
   0.55-0.69. */
BGPBT_API void bgpbt_sgemm(int m, int n, int k, const float* a, ptrdiff_t a_rs, ptrdiff_t a_cs,
                           const float* b, ptrdiff_t ldb, float* c, ptrdiff_t ldc, int beta);
/* The micro-kernel in use: "avx512-8x32", "avx2-6x16" or "generic-4x<2W>". */
BGPBT_API const char* bgpbt_sgemm_kernel_name(void);

/* ---- [decl.linalg.chol] fp64 Cholesky and triangular solves -------------------------------- */

/* Dense fp64 Cholesky for the Gaussian process. Matrices are row-major with a leading
   dimension (row stride) lda >= n; only the lower triangle (j <= i) is read or written, the
   strict upper triangle is left untouched. The factorisation is blocked (panels of 16
   columns; on AVX2/AVX-512 the panel update runs 4 x 8 outer-product register tiles of fp64
   vectors and the rows below each diagonal block are solved 8 at a time in dot form; a scalar
   path otherwise). It runs on one thread unless the implementation file defines BGPBT_CHOL_PAR_N
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

/* The simulator: one model, many environments, stepped together.

   API IN SHORT

     bgpbt_sim_model   immutable description: bodies, joints, geoms, sites, actuators, options.
                       Made by bgpbt_sim_model_from_mjcf / bgpbt_sim_model_load_mjcf (the MJCF
                       subset below) or by a bgpbt_sim_builder (add bodies, joints, geoms,
                       actuators by descriptor structs, then bgpbt_sim_builder_finish).
                       Names are looked up with bgpbt_sim_model_{body,joint,geom,site,actuator}_id
                       (-1 when absent); sizes with bgpbt_sim_model_sizes.
     bgpbt_sim         a batch of num_envs copies of one model (the model must outlive it).
                       Per env: set/get qpos (nq), qvel (nv), ctrl (nu); bgpbt_sim_step advances
                       every env by frame_skip physics steps (OpenMP over blocks of
                       BGPBT_FW_WIDTH envs; bit-identical for any thread count). Observables are
                       read per env after a step or a set: body pose, velocity, centre of mass,
                       contact force, site position, whole-model centre of mass, geom poses.
                       An env whose state becomes non-finite or absurd is reset to qpos0,
                       flagged (bgpbt_sim_env_flagged) and counted (bgpbt_sim_warnings); other
                       envs are untouched. bgpbt_sim_reset_env clears the flag.

   Threads: bgpbt_sim_step runs OpenMP inside; the observable getters only read and may be
   called from many threads at once; the setters (set_qpos/qvel/ctrl, reset_env, clear_flag)
   write one env and recompute its block, so call them from one thread at a time.

   Conventions follow MuJoCo, so Gymnasium-style observations read the same: quaternions are
   (w, x, y, z); a free joint has qpos = (position, quaternion) and qvel = (linear velocity of
   the body origin in the world frame, angular velocity in the body frame); a ball joint has a
   quaternion qpos and a body-frame angular velocity; hinge and slide joints have one scalar,
   measured from the joint's `ref`. Body 0 is the world. All state is float32.

   PHYSICS MODEL

   - Generalised coordinates. Forward kinematics as MuJoCo (joints of a body applied in order,
     hinges about their anchor). The joint-space mass matrix comes from the composite rigid
     body algorithm, bias forces (gravity, Coriolis, centrifugal, gyroscopic) from recursive
     Newton-Euler, both on spatial vectors about a per-environment reference point (the first
     moving body's origin, so float precision does not degrade far from the world origin).
     The matrix is factorised as L^T D L along the kinematic tree (no fill-in, O(nv * depth)).
   - Integration: semi-implicit (symplectic) Euler at the model time step, with joint damping
     and joint stiffness treated implicitly (M + h D + h^2 K), so stiff springs and strong
     dampers are stable at large steps. Quaternions are advanced by the exact exponential map
     and renormalised. This is the integrator for every `option integrator` value (see table).
   - Constraints (contacts, joint limits) are velocity-level complementarity constraints solved
     by projected Gauss-Seidel in joint space (rows J, M^-1 J^T from the L^T D L factor),
     warm-started from the previous step: normal impulses >= 0, friction impulses inside the
     Coulomb disc |f_t| <= mu f_n (a circular cone; static friction holds exactly), limits
     one-sided. Penetration (or limit violation) s is removed by a bias velocity
     min(beta s / h, 1 m/s) with beta = clamp(h / solref_timeconst, 0.05, 0.5); for contacts
     only the part beyond a 0.5 mm slop (pushing out the last fraction of a millimetre every
     step is what makes stacks of bodies jitter). A contact
     within 1 cm of touching (a limit within 1 cm/rad plus two steps of travel) is already in the
     solver but only speculatively: it may close the gap in this step, not cross it. So resting
     contact settles exactly at the surface, fast bodies do not tunnel, and no restitution is
     added (inelastic impacts). Contact forces are impulses / h. Like MuJoCo's soft
     contacts, pushing a deep penetration out gives the body that velocity (at most 1 m/s).
   - Collision pairs: plane-sphere, plane-capsule (2 points: the end caps), plane-box (8
     corners), sphere-sphere, sphere-capsule, capsule-capsule (closest points of the segments,
     one point), box-sphere (closest point; a centre inside leaves by the nearest face),
     box-capsule (3 points: both ends and the axis point nearest the box centre), box-box
     (up to 4 points: a separating-axis test over the 15 axes; on a face, the other box's most
     opposed face clipped to it, each point at its own depth, one point kept per quadrant so a
     point keeps its solver slot from step to step; on an edge pair, the closest points of the
     two edges; computed lane by lane in scalar code). A moving plane is not
     collided: model compilation reports each such pair through the logger as a warning.
     Candidate contacts are fixed per model (no broadphase: the SIMD lanes share one list): a
     pair is a candidate when MuJoCo's filter admits it (contype/conaffinity, different bodies,
     not parent and child unless the parent is the world, not both welded to the world, not
     excluded), or when listed in <contact><pair>. Friction of a pair = max of the two geoms'.
   - Actuators are motors: generalized force = gear * clamp(ctrl, ctrlrange) on their joint.
   - Bad states: after every bgpbt_sim_step, an env whose qpos or qvel is non-finite or beyond
     1e4 in any coordinate is reset to qpos0 with zero velocity, flagged and counted.
   - Determinism: an env's trajectory is a function of its own inputs only: bit-identical for
     any batch size, any position in the batch, any OpenMP thread count, and across SIMD widths
     (scalar, SSE2, AVX2, AVX-512: the kernels use only the element-wise ops, which round the same
     on every width; tests/check_sim_simd.sh compares them, tolerance if ever needed 1e-3).
   - Known behaviour: with the default 10 PGS sweeps, a resting articulated body on several
     contacts (the ant standing) can creep at ~1e-3 m/s; MJCF `iterations` (up to 30) reduces it.

   Checked against MuJoCo 2.2.2 (not in the test suite, which has no MuJoCo): joint-space
   accelerations of the ant, half_cheetah, hopper and humanoid in free flight agree to float
   finite-difference precision (implicit damping makes the stiffest dofs differ by ~1%).

   LIMITS: float32 state; at most 4096 bodies, dofs, geoms, joints, sites, actuators; a ball or
   free joint must be the only joint of its body (free: on a child of the world); no limits or
   springs on ball/free joints; no tendon forces, equality constraints, meshes, heightfields,
   cylinders, ellipsoids (refused by the loader); no restitution; friction is isotropic and
   sliding only (torsional/rolling friction ignored).

   MJCF SUBSET (what every element and attribute means here; angles follow <compiler angle>)

   | element / attribute                       | meaning here                                          |
   |-------------------------------------------|-------------------------------------------------------|
   | mujoco model                              | name (ignored)                                        |
   | compiler angle                            | degree (default) or radian: units of range, euler,    |
   |                                           | axisangle, ref, springref of hinges                   |
   | compiler coordinate                       | local (default) or global (positions, axes, fromto    |
   |                                           | given in the world frame; converted at load)          |
   | compiler inertiafromgeom                  | true: mass/inertia from geoms; auto (default): from   |
   |                                           | geoms unless <inertial>; false: <inertial> only       |
   | compiler settotalmass                     | scale every mass and inertia so the total is this     |
   | compiler autolimits                       | true (default): a range given means limited           |
   | compiler eulerseq                         | only "xyz" (the default); others are refused          |
   | option timestep, gravity                  | physics step, gravity vector                          |
   | option integrator                         | Euler, RK4, implicit, implicitfast: all run as        |
   |                                           | semi-implicit Euler with implicit joint damping/      |
   |                                           | stiffness (documented approximation)                  |
   | option solver, iterations                 | solver ignored (always PGS); iterations -> PGS        |
   |                                           | sweeps = clamp(iterations, 4, 30) (default 10)        |
   | option tolerance, cone, jacobian, impratio| ignored (no effect on the PGS solver); <flag> ignored |
   | option viscosity, density, wind, magnetic | refused unless zero                                   |
   | size, visual, asset, texture, material,   | accepted and ignored (visual or memory settings)      |
   | light, camera, statistic, sensor, keyframe|                                                       |
   | custom numeric name data                  | kept; read with bgpbt_sim_model_numeric               |
   | default class (nested), childclass, class | attribute defaults for joint, geom, site, motor, with |
   |                                           | MuJoCo's inheritance (own value, class, parent class) |
   | body name pos quat axisangle euler zaxis  | a body and its frame relative to its parent           |
   |   xyaxes childclass                       | (mocap="true" refused)                                |
   | inertial pos quat mass diaginertia        | explicit mass properties (fullinertia also accepted)  |
   | joint type hinge/slide/ball/free, name,   | a joint; pos/axis in the body frame; range, limited;  |
   |   pos axis range limited damping          | damping (implicit), stiffness + springref (implicit), |
   |   stiffness springref armature ref        | armature added to the mass matrix diagonal; ref =     |
   |                                           | the value of qpos0 (MuJoCo semantics)                 |
   | joint margin, solreflimit, solimplimit    | margin: the limit holds this far inside the range;    |
   |                                           | solreflimit as solref (below); solimplimit ignored    |
   | freejoint                                 | a free joint                                          |
   | geom type sphere/capsule/box/plane, size, | a collision shape; capsule size = (radius, half-      |
   |   pos quat axisangle euler zaxis fromto   | length) or radius + fromto                            |
   | geom density, mass                        | mass properties for inertiafromgeom (default 1000)    |
   | geom friction                             | first value = sliding mu; pair mu = max of both       |
   |                                           | (torsional and rolling values ignored)                |
   | geom contype conaffinity                  | MuJoCo's collision filter                             |
   | geom condim                               | 1: frictionless; 3, 4, 6: sliding friction only       |
   | geom margin, gap                          | detection band margin; rest separation margin - gap   |
   |                                           | (MuJoCo semantics)                                    |
   | geom solref, solimp                       | solref timeconst -> Baumgarte rate beta (above); a    |
   |                                           | negative (direct stiffness) solref is refused;        |
   |                                           | solimp ignored (hard contact)                         |
   | geom rgba, material, group, name, class   | kept for rendering (rgba) or ignored                  |
   | site name pos quat size type              | a point on a body; read with bgpbt_sim_site_pos       |
   | actuator motor joint gear ctrlrange       | torque/force actuator (gear: first value)             |
   |   ctrllimited name class                  |                                                       |
   | contact exclude body1 body2               | never collide these two bodies                        |
   | contact pair geom1 geom2 friction         | an explicit candidate pair (friction: first value)    |
   | tendon fixed (name class, joint coef)     | accepted only when passive (no limited/range,         |
   |                                           | stiffness, damping, frictionloss, armature): such a   |
   |                                           | tendon exerts no force in MuJoCo either; otherwise    |
   |                                           | refused with the line                                 |
   | tendon spatial, equality, actuator        | refused with BGPBT_ERR_UNSUPPORTED, naming the        |
   |   general/position/velocity/..., mesh,    | element or attribute and its line                     |
   |   mocap bodies, frictionloss, fluid       |                                                       |
   |   options, any other element/attribute    |                                                       |

   solref/solimp/margin/condim/integrator/iterations mapping, in one place:

   | MuJoCo setting           | here                                                             |
   |--------------------------|------------------------------------------------------------------|
   | solref (timeconst, d)    | Baumgarte rate beta = clamp(h/timeconst, 0.05, 0.5), push-out at  |
   |                          | most 1 m/s; d ignored; solreflimit the same for joint limits      |
   | solimp                   | ignored: constraints are hard (impulses, not springs)            |
   | margin / gap             | target separation margin - gap (MuJoCo's rest distance), with a   |
   |                          | 1 cm speculative band beyond it; joint margin shifts the limit    |
   | condim                   | 1 frictionless; otherwise 2-D Coulomb friction (circular cone)   |
   | integrator               | always semi-implicit Euler + implicit joint damping/stiffness    |
   | iterations               | PGS sweeps = clamp(iterations, 4, 30), warm-started              |
*/

typedef struct bgpbt_sim_model bgpbt_sim_model;
typedef struct bgpbt_sim_builder bgpbt_sim_builder;
typedef struct bgpbt_sim bgpbt_sim;

typedef enum bgpbt_sim_geom_type {
    BGPBT_SIM_GEOM_PLANE = 0,
    BGPBT_SIM_GEOM_SPHERE = 2,
    BGPBT_SIM_GEOM_CAPSULE = 3,
    BGPBT_SIM_GEOM_BOX = 6
} bgpbt_sim_geom_type; /* values as MuJoCo's mjtGeom */

typedef enum bgpbt_sim_joint_type {
    BGPBT_SIM_JOINT_FREE = 0,
    BGPBT_SIM_JOINT_BALL = 1,
    BGPBT_SIM_JOINT_SLIDE = 2,
    BGPBT_SIM_JOINT_HINGE = 3
} bgpbt_sim_joint_type; /* values as MuJoCo's mjtJoint */

typedef struct bgpbt_sim_model_config {
    bgpbt_allocator allocator;
    bgpbt_logger logger;
} bgpbt_sim_model_config;

/* Sizes of a model. */
typedef struct bgpbt_sim_sizes {
    int nq, nv, nu;            /* position coordinates, velocity dofs, actuators */
    int nbody, njoint, ngeom;  /* nbody counts the world (body 0) */
    int nsite, ncontact;       /* ncontact: candidate contact points per env */
} bgpbt_sim_sizes;

/* Descriptors for the builder (and what the model reports back). Get defaults from the
   *_default() functions; zero quaternions mean identity. */
typedef struct bgpbt_sim_body_desc {
    const char* name;  /* optional (copied) */
    int parent;        /* body id; 0 = world */
    float pos[3];      /* frame relative to the parent */
    float quat[4];
    float mass;        /* > 0: explicit mass properties (com, inertia); 0: from geoms' density */
    float com[3];      /* centre of mass in the body frame */
    float inertia[6];  /* about the com, body frame: xx yy zz xy xz yz */
} bgpbt_sim_body_desc;

typedef struct bgpbt_sim_joint_desc {
    const char* name;
    int body;
    bgpbt_sim_joint_type type; /* default hinge */
    float pos[3];              /* anchor in the body frame */
    float axis[3];             /* hinge/slide axis in the body frame (normalised); default z */
    int limited;               /* 1: range[0] <= q <= range[1] enforced (hinge, slide) */
    float range[2];            /* radians or metres */
    float damping, stiffness, springref, armature;
    float ref;                 /* qpos0 of a hinge/slide; body at its model pose when q == ref */
    float limit_margin;        /* limit becomes active this far from the bound */
    float limit_timeconst;     /* Baumgarte time constant of the limit (default 0.02) */
} bgpbt_sim_joint_desc;

typedef struct bgpbt_sim_geom_desc {
    const char* name;
    int body;                 /* default 1 (the first body added); 0 = the world, e.g. a ground plane */
    bgpbt_sim_geom_type type; /* default sphere */
    float size[3];            /* sphere r; capsule r, half-length (along local z); box half-sizes */
    float pos[3];             /* frame in the body frame */
    float quat[4];
    float density;            /* default 1000 (used when the body's mass comes from geoms) */
    float mass;               /* > 0: overrides density */
    float friction;           /* sliding mu, default 1 */
    int contype, conaffinity; /* default 1, 1 */
    int condim;               /* 1 or 3 (default 3) */
    float margin, gap;        /* default 0 */
    float timeconst;          /* solref[0], default 0.02 */
    float rgba[4];            /* rendering only; default (0.5, 0.5, 0.5, 1) */
} bgpbt_sim_geom_desc;

typedef struct bgpbt_sim_actuator_desc {
    const char* name;
    int joint;
    float gear;        /* default 1 */
    int ctrllimited;   /* default 1 when ctrlrange is non-empty */
    float ctrlrange[2];
} bgpbt_sim_actuator_desc;

typedef struct bgpbt_sim_options {
    float timestep;    /* default 0.002 */
    float gravity[3];  /* default (0, 0, -9.81) */
    int iterations;    /* PGS sweeps, default 10 (clamped to 4..30) */
} bgpbt_sim_options;

BGPBT_API bgpbt_sim_model_config bgpbt_sim_model_config_default(void);
BGPBT_API bgpbt_sim_body_desc bgpbt_sim_body_desc_default(void);
BGPBT_API bgpbt_sim_joint_desc bgpbt_sim_joint_desc_default(void);
BGPBT_API bgpbt_sim_geom_desc bgpbt_sim_geom_desc_default(void);
BGPBT_API bgpbt_sim_actuator_desc bgpbt_sim_actuator_desc_default(void);
BGPBT_API bgpbt_sim_options bgpbt_sim_options_default(void);

/* ---- builder: add parts in any order that respects parents, then finish. The id of the new
   part is written to *id (may be NULL). A failed add changes nothing. */
BGPBT_API bgpbt_result bgpbt_sim_builder_create(const bgpbt_sim_model_config* config, bgpbt_sim_builder** out);
BGPBT_API void bgpbt_sim_builder_destroy(bgpbt_sim_builder* b);
BGPBT_API bgpbt_result bgpbt_sim_builder_set_options(bgpbt_sim_builder* b, const bgpbt_sim_options* opt);
BGPBT_API bgpbt_result bgpbt_sim_builder_add_body(bgpbt_sim_builder* b, const bgpbt_sim_body_desc* d, int* id);
BGPBT_API bgpbt_result bgpbt_sim_builder_add_joint(bgpbt_sim_builder* b, const bgpbt_sim_joint_desc* d, int* id);
BGPBT_API bgpbt_result bgpbt_sim_builder_add_geom(bgpbt_sim_builder* b, const bgpbt_sim_geom_desc* d, int* id);
BGPBT_API bgpbt_result bgpbt_sim_builder_add_site(bgpbt_sim_builder* b, const char* name, int body,
                                                  const float pos[3], int* id);
BGPBT_API bgpbt_result bgpbt_sim_builder_add_actuator(bgpbt_sim_builder* b, const bgpbt_sim_actuator_desc* d, int* id);
/* Never collide these two bodies (MuJoCo <contact><exclude>). */
BGPBT_API bgpbt_result bgpbt_sim_builder_exclude(bgpbt_sim_builder* b, int body1, int body2);
/* Compile into a model. The builder stays valid (and can be destroyed or reused). */
BGPBT_API bgpbt_result bgpbt_sim_builder_finish(bgpbt_sim_builder* b, bgpbt_sim_model** out);

/* ---- MJCF: xml need not be NUL-terminated (len bytes); errors name the element, attribute
   and line through config->logger. */
BGPBT_API bgpbt_result bgpbt_sim_model_from_mjcf(const char* xml, size_t len, const bgpbt_sim_model_config* config,
                                                 bgpbt_sim_model** out);
BGPBT_API bgpbt_result bgpbt_sim_model_load_mjcf(const char* path, const bgpbt_sim_model_config* config,
                                                 bgpbt_sim_model** out);
BGPBT_API void bgpbt_sim_model_destroy(bgpbt_sim_model* m);

/* ---- model queries */
BGPBT_API bgpbt_sim_sizes bgpbt_sim_model_sizes(const bgpbt_sim_model* m);
BGPBT_API bgpbt_sim_options bgpbt_sim_model_options(const bgpbt_sim_model* m);
BGPBT_API int bgpbt_sim_model_body_id(const bgpbt_sim_model* m, const char* name);     /* -1: none */
BGPBT_API int bgpbt_sim_model_joint_id(const bgpbt_sim_model* m, const char* name);
BGPBT_API int bgpbt_sim_model_geom_id(const bgpbt_sim_model* m, const char* name);
BGPBT_API int bgpbt_sim_model_site_id(const bgpbt_sim_model* m, const char* name);
BGPBT_API int bgpbt_sim_model_actuator_id(const bgpbt_sim_model* m, const char* name);
/* Names ("" when unnamed; NULL for a bad id). */
BGPBT_API const char* bgpbt_sim_model_body_name(const bgpbt_sim_model* m, int id);
BGPBT_API const char* bgpbt_sim_model_joint_name(const bgpbt_sim_model* m, int id);
/* The descriptor of a part as compiled (body mass/com/inertia filled in; geom pose relative
   to its body; joint ranges in radians). */
BGPBT_API bgpbt_result bgpbt_sim_model_body(const bgpbt_sim_model* m, int id, bgpbt_sim_body_desc* out);
BGPBT_API bgpbt_result bgpbt_sim_model_joint(const bgpbt_sim_model* m, int id, bgpbt_sim_joint_desc* out);
BGPBT_API bgpbt_result bgpbt_sim_model_geom(const bgpbt_sim_model* m, int id, bgpbt_sim_geom_desc* out);
BGPBT_API bgpbt_result bgpbt_sim_model_actuator(const bgpbt_sim_model* m, int id, bgpbt_sim_actuator_desc* out);
/* Where a joint's coordinates live: qpos[qpos_adr ...], qvel[dof_adr ...]. */
BGPBT_API int bgpbt_sim_model_joint_qpos_adr(const bgpbt_sim_model* m, int joint);
BGPBT_API int bgpbt_sim_model_joint_dof_adr(const bgpbt_sim_model* m, int joint);
BGPBT_API float bgpbt_sim_model_total_mass(const bgpbt_sim_model* m);
BGPBT_API const float* bgpbt_sim_model_qpos0(const bgpbt_sim_model* m); /* nq values */
/* <custom><numeric name= data=>: copies up to cap values into out, returns the count (-1 if
   there is no such numeric). */
BGPBT_API int bgpbt_sim_model_numeric(const bgpbt_sim_model* m, const char* name, float* out, int cap);

/* ---- the batch */
typedef struct bgpbt_sim_config {
    int num_envs;   /* default 1 */
    int frame_skip; /* physics steps per bgpbt_sim_step, default 1 */
    bgpbt_allocator allocator;
    bgpbt_logger logger;
} bgpbt_sim_config;

BGPBT_API bgpbt_sim_config bgpbt_sim_config_default(void);
/* Every env starts at qpos0 with zero velocity and zero ctrl. */
BGPBT_API bgpbt_result bgpbt_sim_create(const bgpbt_sim_model* model, const bgpbt_sim_config* config, bgpbt_sim** out);
BGPBT_API void bgpbt_sim_destroy(bgpbt_sim* sim);
BGPBT_API const bgpbt_sim_model* bgpbt_sim_get_model(const bgpbt_sim* sim);
BGPBT_API int bgpbt_sim_num_envs(const bgpbt_sim* sim);
BGPBT_API int bgpbt_sim_frame_skip(const bgpbt_sim* sim);
BGPBT_API bgpbt_result bgpbt_sim_set_frame_skip(bgpbt_sim* sim, int frame_skip);

/* State of one env. Setting qpos renormalises quaternions (an all-zero one becomes identity),
   recomputes the env's kinematics and clears its warm-start impulses. NaN/inf input is
   refused (BGPBT_ERR_NOT_FINITE) and changes nothing. ctrl is clamped to ctrlrange when
   stepping (the stored value is what was set). */
BGPBT_API bgpbt_result bgpbt_sim_set_qpos(bgpbt_sim* sim, int env, const float* qpos);
BGPBT_API bgpbt_result bgpbt_sim_set_qvel(bgpbt_sim* sim, int env, const float* qvel);
BGPBT_API bgpbt_result bgpbt_sim_set_ctrl(bgpbt_sim* sim, int env, const float* ctrl);
/* ctrl for all envs at once: ctrl[num_envs][nu]. */
BGPBT_API bgpbt_result bgpbt_sim_set_ctrl_all(bgpbt_sim* sim, const float* ctrl);
BGPBT_API void bgpbt_sim_get_qpos(const bgpbt_sim* sim, int env, float* qpos);
BGPBT_API void bgpbt_sim_get_qvel(const bgpbt_sim* sim, int env, float* qvel);
BGPBT_API void bgpbt_sim_get_ctrl(const bgpbt_sim* sim, int env, float* ctrl);
/* Reset one env: qpos (NULL: qpos0), qvel (NULL: zero), ctrl zero, flag cleared. */
BGPBT_API bgpbt_result bgpbt_sim_reset_env(bgpbt_sim* sim, int env, const float* qpos, const float* qvel);

/* Advance every env by frame_skip physics steps. */
BGPBT_API bgpbt_result bgpbt_sim_step(bgpbt_sim* sim);

/* Observables of one env (world frame, after the last step or set). Out-of-range ids leave
   the output untouched. */
BGPBT_API void bgpbt_sim_body_pos(const bgpbt_sim* sim, int env, int body, float pos[3]);   /* frame origin */
BGPBT_API void bgpbt_sim_body_quat(const bgpbt_sim* sim, int env, int body, float quat[4]); /* w x y z */
BGPBT_API void bgpbt_sim_body_mat(const bgpbt_sim* sim, int env, int body, float mat[9]);   /* row-major */
BGPBT_API void bgpbt_sim_body_com(const bgpbt_sim* sim, int env, int body, float com[3]);
/* Linear velocity of the body's centre of mass and angular velocity, world frame. */
BGPBT_API void bgpbt_sim_body_vel(const bgpbt_sim* sim, int env, int body, float lin[3], float ang[3]);
/* Net contact force on the body and its torque about the body's com (world frame), from the
   last physics step (MuJoCo's cfrc_ext, but at the com and force first). */
BGPBT_API void bgpbt_sim_body_contact(const bgpbt_sim* sim, int env, int body, float force[3], float torque[3]);
BGPBT_API void bgpbt_sim_site_pos(const bgpbt_sim* sim, int env, int site, float pos[3]);
/* Whole-model centre of mass and its velocity (world bodies excluded). */
BGPBT_API void bgpbt_sim_com(const bgpbt_sim* sim, int env, float com[3], float vel[3]);
/* Geom pose for rendering: position and row-major rotation. */
BGPBT_API void bgpbt_sim_geom_pose(const bgpbt_sim* sim, int env, int geom, float pos[3], float mat[9]);
/* Number of active contact points in the env after the last step. */
BGPBT_API int bgpbt_sim_num_contacts(const bgpbt_sim* sim, int env);

/* Bad-state handling: an env whose state went non-finite or absurd was reset to qpos0 and is
   flagged until bgpbt_sim_reset_env or bgpbt_sim_clear_flag; warnings counts every event. */
BGPBT_API int bgpbt_sim_env_flagged(const bgpbt_sim* sim, int env);
BGPBT_API void bgpbt_sim_clear_flag(bgpbt_sim* sim, int env);
BGPBT_API long bgpbt_sim_warnings(const bgpbt_sim* sim);

/* ============================================================================================
   [decl.env] env: the environment interface, built-in tasks, vectorised environments, rendering
   ============================================================================================ */

/* THE ENV LAYER IN SHORT

     bgpbt_vecenv      N copies of one environment stepped together: automatic reset to fresh
                       random states, one RNG stream per copy, terminated/truncated, final_obs,
                       an info record (episode return/length, reward terms), episode statistics,
                       OpenMP over copies (bit-identical for any thread count), no allocation
                       per step.
     bgpbt_env_def     a user environment (a game's world) from callbacks        [decl.env]
     built-in tasks    ten tasks by name on the batched simulator          [decl.env.tasks]
     rendering         SVG pictures of geoms and rollouts; body transforms  [decl.env.render]

   Threads: the vecenv's own loops use config.num_threads (0: OpenMP's default); a task's
   simulator step uses OpenMP's default thread count at the time the vecenv was created.
   Small batches run their bookkeeping on one thread (a parallel region costs more there).

   An environment: observations and actions are float vectors; actions are in [-1, 1] (a task
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
   faded, so one picture shows a gait; with frame_seconds > 0 the frames play as a looping
   animation instead. Built-in tasks produce their geoms with
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
    float frame_seconds; /* > 0 and frames > 1: an animation (one frame at a time, this long
                            each, looping; browsers play SVG animations) instead of an overlay */
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


/* ---- [decl.env.tasks] the built-in tasks ----------------------------------------------------

   Ten tasks, created by name with bgpbt_vecenv_create_task. Each is our own model (MJCF text
   embedded in this header: bgpbt_task_mjcf gives it back, and all ten load unchanged in MuJoCo
   2.2.2, where they settle and move alike: see README),
   kept close to its Brax v0.0.10 counterpart (research: Brax-v1 envs as used by BG-PBT): same
   morphology and action meaning, same reward structure and termination rule, comparable
   observations. Actions are in [-1, 1] and scale the motors' gear (the Brax "strength").

   | task                     | obs | act | dt (timestep x skip) | reward (weights are the defaults)                         | terminated when                 |
   |--------------------------|-----|-----|----------------------|-----------------------------------------------------------|---------------------------------|
   | inverted_pendulum        |   4 |   1 | 0.04 (0.01 x 4)      | 1 per step                                                | pole centre <= 0.2 m above hinge|
   | inverted_double_pendulum |  10 |   1 | 0.05 (0.01 x 5)      | 10 - (0.01 tip_x^2 + (tip_z - 2)^2) - (1e-3 w1^2 + 5e-3 w2^2) | tip z <= 1                  |
   | reacher                  |  11 |   2 | 0.02 (0.01 x 2)      | -|tip - target| - sum a^2                                 | never (time limit)              |
   | halfcheetah              |  23 |   6 | 0.05 (0.01 x 5)      | dx_torso/dt - 0.1 sum a^2                                 | never (time limit)              |
   | hopper                   |  14 |   3 | 0.02 (0.005 x 4)     | dx_com/dt + 1 - 1e-3 sum a^2                              | torso z < 0.7                   |
   | walker2d                 |  20 |   6 | 0.02 (0.005 x 4)     | dx_com/dt + 1 - 1e-3 sum a^2                              | torso z outside (0.7, 2.0)      |
   | ant                      |  87 |   8 | 0.05 (0.01 x 5)      | dx_torso/dt - 0.5 sum a^2 - 5e-4 sum clip(cfrc,-1,1)^2 + 1 | torso z < 0.2 or z > 1.0       |
   | humanoid                 | 233 |  17 | 0.015 (0.003 x 5)    | 1.25 dx_com/dt - 0.01 sum a^2 + 5                         | torso z < 0.7 or z > 2.1        |
   | ur5e                     |  52 |   6 | 0.02 (0.0025 x 8)    | 0.1 (tool displacement . dir to target) + 1 per hit       | never (time limit)              |
   | fetch                    |  87 |  10 | 0.02 (0.005 x 4)     | 0.1 (torso displacement . dir) + 0.1 dt up_z + 0.1 dt z   | never (time limit)              |
   |                          |     |     |                      |   + hit * (torso forward . dir)                           |                                 |

   Episode length 1000 steps for every task (the vecenv truncates). Observations:
   - inverted_pendulum: cart x, pole angle, cart velocity, pole angular velocity.
   - inverted_double_pendulum: cart x, sin and cos of both angles, the 3 velocities, tip x
     relative to the cart, tip z.
   - reacher: cos and sin of both joint angles, target xy, joint velocities, tip - target (xyz).
   - halfcheetah, hopper, walker2d (planar): torso z, torso quaternion (w,x,y,z), joint angles,
     torso velocity (3), [halfcheetah: torso angular velocity (3)], joint velocities.
   - ant: torso z, quaternion, 8 joint angles, torso velocity (3), angular velocity (3), 8 joint
     velocities, then clip(contact force and torque, -1, 1) for each of the 10 bodies (world
     included, as Brax counts the ground).
   - humanoid: qpos without x, y (22), qvel (23), for the 11 bodies their position relative to
     the centre of mass, linear and angular velocity (99), actuator torques / 100 (17),
     clip(contact force/torque, -1, 1) of the 12 bodies (72).
   - ur5e: tool frame forward and up axes (6), distance to target (1), unit direction to target
     (3), then for the 6 links: position (3), velocity (3), contact flag (1).
   - fetch: torso forward and up axes (6), distance to target (1), unit direction to target in
     the torso frame (3), then for the 11 bodies: position and velocity in the torso frame (6)
     and a contact flag (1).
   Reset: joint angles and velocities get uniform noise (halfwidth: 0.1 ant, halfcheetah, reacher
   angles; 0.005 hopper, walker2d and reacher velocities; 0.01 humanoid and the pendulums;
   0.05 ur5e; fetch starts at rest with 0.01), scaled by reset_noise_scale. reacher's target is
   uniform in the disc of radius 0.2; ur5e's target is uniform in a shell 0.35..0.8 m around the
   shoulder, above 0.1 m, and respawns on a hit (tool within 0.05 m); fetch's target is
   2..17 m away in a random direction and respawns on a hit (torso within 2 m).

   Departures from Brax v0.0.10 (the physics is this library's articulated simulator, not
   Brax's spring joints, so returns are not comparable number for number):
   - Observation sizes: inverted_pendulum (Brax 10), inverted_double_pendulum (Brax 25) use the
     compact MuJoCo-style state; humanoid (Brax 299) replaces cinert/cvel (165 numbers of
     Brax-internal inertia terms) by 99 kinematic numbers; ur5e (Brax 66) and fetch (Brax 101)
     have fewer bodies (the fixed base is part of the world; fetch has 11 bodies, not 12).
   - Contact forces are the simulator's per-body contact force and torque, clipped to [-1, 1]
     as Brax clips its contact impulses.
   - hopper and walker2d do not negate the action (a Brax quirk), and have no velocity
     amplification (Brax's velocity_damping +1).
   - ant: the knee range 30..70 degrees is expressed as -20..20 about a shin built 50 degrees
     below the horizontal, so the model starts inside its joint limits (qpos 0 = mid-range);
     the torso starts at z 0.6. humanoid: as in Brax, only the shins and feet touch the
     floor (a fallen body sinks through it, but the episode has ended by then).
   - Masses, gears, damping and armature follow the MuJoCo/Gymnasium conventions (Brax's spring
     joints need their own constants); the env time steps dt are Brax's.
   - ur5e's hit radius is 0.05 m (Brax 0.02) so that early policies see hits; an option.
   - Auto-reset draws a fresh random state (Brax restores the first cached state). */
#define BGPBT_TASK_MAX_TERMS 6

typedef struct bgpbt_task_options {
    int episode_length;     /* 0: the task's default (1000) */
    float reset_noise_scale; /* multiplies the reset noise; 0: 1 (default); negative: no noise */
    int frame_skip;         /* physics steps per env step; 0: the task's default (sets dt) */
    int num_reward_weights; /* 0: defaults; n > 0: reward_weights[0..n-1] replace the defaults */
    float reward_weights[BGPBT_TASK_MAX_TERMS]; /* in the order of the task's reward terms */
    float hit_radius;       /* ur5e and fetch: 0 = default (0.05 m, 2 m) */
} bgpbt_task_options;

typedef struct bgpbt_task_info {
    const char* name;
    int obs_dim, act_dim, episode_length, frame_skip;
    float timestep, dt; /* physics step; env step = timestep * frame_skip */
    int num_terms;
    const char* term_names[BGPBT_TASK_MAX_TERMS];
    float default_weights[BGPBT_TASK_MAX_TERMS];
    float reset_noise_qpos, reset_noise_qvel;
} bgpbt_task_info;

BGPBT_API bgpbt_task_options bgpbt_task_options_default(void); /* all zero: defaults */
BGPBT_API int bgpbt_task_count(void);                          /* 10 */
BGPBT_API const char* bgpbt_task_name(int index);              /* NULL when out of range */
BGPBT_API bgpbt_result bgpbt_task_get_info(const char* name, bgpbt_task_info* out);
/* The task's model as MJCF text (NUL-terminated) into buf[cap]; *size = length without the NUL;
   buf NULL: size only. */
BGPBT_API bgpbt_result bgpbt_task_mjcf(const char* name, char* buf, size_t cap, size_t* size);
/* N copies of a built-in task, stepped together on the batched simulator. options may be NULL. */
BGPBT_API bgpbt_result bgpbt_vecenv_create_task(const char* name, const bgpbt_task_options* options,
                                                const bgpbt_vecenv_config* config, bgpbt_vecenv** out);

/* The physical state of copy `env` (built-in tasks): qpos[nq], qvel[nv] in MuJoCo's layout
   (a free root has position then quaternion w, x, y, z; hinges in radians). set_state places
   the copy in that state (quaternions renormalised), recomputes its observation (obs() row)
   and restarts its episode counters; its target, if any, is kept. NaN is refused. */
BGPBT_API bgpbt_result bgpbt_vecenv_state_sizes(const bgpbt_vecenv* venv, int* nq, int* nv);
BGPBT_API bgpbt_result bgpbt_vecenv_get_state(const bgpbt_vecenv* venv, int env, float* qpos, float* qvel);
BGPBT_API bgpbt_result bgpbt_vecenv_set_state(bgpbt_vecenv* venv, int env, const float* qpos, const float* qvel);
/* The simulator batch behind a built-in task (NULL for user environments), for reading more
   observables with the bgpbt_sim_* functions. Do not step it or change its state directly. */
BGPBT_API const bgpbt_sim* bgpbt_vecenv_sim(const bgpbt_vecenv* venv);

/* Body transforms of copy `env` (built-in tasks), for a game or renderer to draw each frame:
   pos[num_bodies][3] and quat[num_bodies][4] (w, x, y, z), world frame; body 0 is the world. */
BGPBT_API int bgpbt_vecenv_num_bodies(const bgpbt_vecenv* venv);
BGPBT_API const char* bgpbt_vecenv_body_name(const bgpbt_vecenv* venv, int body);
BGPBT_API bgpbt_result bgpbt_vecenv_body_transforms(const bgpbt_vecenv* venv, int env, float* pos,
                                                    float* quat);
/* The geoms of copy `env` in world frame, plus the task's target when it has one (a sphere):
   writes at most max geoms, *count = how many there are. Feed them to bgpbt_render_svg. */
BGPBT_API bgpbt_result bgpbt_vecenv_render_geoms(const bgpbt_vecenv* venv, int env,
                                                 bgpbt_render_geom* out, int max, int* count);
/* One picture of copy `env` as an SVG file (side and top view). */
BGPBT_API bgpbt_result bgpbt_vecenv_render_svg_file(const bgpbt_vecenv* venv, int env, const char* path,
                                                    const bgpbt_render_options* options);

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

   Layout: fan_out is rounded up to 32 with zero padding, and each layer's weights are stored
   in 32-output panels ([fan_out/32][fan_in][32]), so every GEMM runs on full, contiguous
   32-column panels read in place; the padding stays exactly zero through Adam. Parameters
   (and gradients, and Adam moments) are one flat array; bgpbt_mlp_num_params counts only the
   real ones, in the public order [fan_in][fan_out] then bias, which is also what save/load,
   get/set_params use.
   Kernels (see [decl.linalg.gemm]): three GEMMs per layer and nothing else over the batch.
   Forward: Z = X W, whose epilogue (on each 8x32 tile while it is in L1) adds the bias and
   writes h = act(z) (row-major: the next layer's A) and act'(z) (the backward's only cache;
   SiLU: sigmoid by an FMA exp and a Newton reciprocal, act' = s + h (1 - s)). The output layer
   computes only its real columns (half-width tiles for 16 or fewer). Backward, with dY kept
   panel-major: dW = X^T dY on the packed-A driver (X^T packed 8 columns at a time into a
   per-MLP workspace, dY read in place), db in the same GEMM as a row of ones appended to X^T
   (so it is summed in the same k blocks), dX = (dY W^T) * act' through a panel-major copy of
   W^T, the product with act' in the GEMM epilogue. Removed by this design (session 2): a
   transpose pass over X, a bias+activation pass, a derivative pass and a column-sum pass,
   which together were ~30% of the default-network PPO update.

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
   A minibatch is processed in chunks of about 512 rows (whole segments), each forward, loss and
   backward through both networks while its activations are in cache; the gradients add up over
   the chunks in row order. With 2+ OpenMP threads and two networks of similar cost (e.g. both
   2x64) the two networks run as a two-thread pipeline (the value network one chunk ahead);
   otherwise the GEMMs split over the threads. The bits are the same either way.

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
    /* the environment: a user definition, or a built-in task name (bgpbt_vecenv_create_task;
       env_def wins when both are set). The name and options are copied. */
    const bgpbt_env_def* env_def;
    const char* task;
    const bgpbt_task_options* task_options; /* NULL: the task's defaults */
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
   On failure dst is unchanged. dst then replays src's random numbers: call bgpbt_agent_reseed
   on it when the copy should explore on its own. */
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
   the noise. Fitting maximises the log marginal likelihood with analytic gradients by a
   projected L-BFGS of our own (memory 8, Armijo backtracking along the projected path) in
   log coordinates with hard boxes, as scikit-learn's L-BFGS-B does: log s, log s_n, log l,
   log w in [log lo, log hi], log(-log(1 - eps)), m. (In the raw sigmoid coordinates a
   hyperparameter that wants its bound runs off with a vanishing gradient; L-BFGS spent most
   of its evaluations creeping after it.) A start stops when an iteration gains less than
   fit_tol (1e-7) of the LML relatively or the largest free gradient entry is below 1e-5
   (scipy's tests; scipy's default tolerance is 2.2e-9). Starts: the current values (a warm
   start) plus `fit_restarts` random ones (raw values uniform in [-3, 3], at most 7), which run
   on separate OpenMP threads; the best is kept and stored in the raw coordinates; if every
   start fails the previous hyperparameters are kept. A line search evaluates the LML without
   its gradient; only accepted steps pay for K^{-1}. On AVX2/AVX-512 builds the continuous
   kernels, their gradients and the prediction's cross-kernel run 4 pairs at a time with a
   vector exp (within 2 ulp of libm's).

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
    double fit_tol;                           /* a start stops when an iteration gains less than
                                                 this fraction of the LML [1e-7]; scipy's
                                                 L-BFGS-B default (factr 1e7) is 2.2e-9 */
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

   GUIDED RESTART (tr.guided_restart; on in bgpbt_bo_tr_casmopolitan() as in CASMOPOLITAN, off
   in bgpbt_bo_tr_bgpbt() as in BG-PBT's runs). When an ask/tell region collapses, the best
   observation of each finished region (the last 32) trains an auxiliary GP: config.gp with one
   shared lengthscale (weight), no time kernel, the same seed. The new centre is the argmin of
   mu - 1.96 sigma over min(100 d, 5000) uniform random points of the space (d = free dims;
   context dims at the values of the best region best); the new region's initial design is that
   centre plus n_init - 1 Latin-hypercube points in the initial box (side length_init) around
   it, categorical dims resampled inside the initial Hamming ball. Without the switch, or if the
   auxiliary GP cannot be built, the design is a Latin hypercube of the whole space.

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
#define BGPBT_BO_MAX_STEPS 10000 /* acquisition-optimiser iterations per start (bo n_steps, pbt acq_steps) */

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
    int guided_restart;   /* ask/tell restarts centred by an auxiliary GP (see GUIDED RESTART) */
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
    int n_steps;             /* interleaved-search iterations per start [40], at most
                                BGPBT_BO_MAX_STEPS (10000) */
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
/* The centre (values) a guided restart chose for the current region; BGPBT_ERR_WRONG_ORDER when
   the current region did not start from one. */
BGPBT_API bgpbt_result bgpbt_bo_guided_center(const bgpbt_bo* bo, double* values);
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
    int acq_restarts, acq_steps;/* 3, 41; at most 24 starts are used, acq_steps <= 10000 */
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

/* ---- the built-in runner -------------------------------------------------------------------

   bgpbt_pbt_run drives a scheduler over real agents: PPO agents of the learner layer (on a
   built-in task or your bgpbt_env_def) by default, or your own through bgpbt_pbt_agent_ops.
   Per round: copies and fresh agents (and a private copy of the teacher for every distilling
   student, so students never share mutable state), releases, then the jobs in parallel
   (OpenMP over agents: `threads` at once; each agent is deterministic on its own, so results do
   not depend on the thread count), then the tells in job order, the CSV log, the plots and an
   atomic checkpoint (scheduler + every live agent), then one progress line:

     round 12 | env steps 1.23e+06 | 5.1e+04 steps/s | best 123.4 median 80.1 | gen 1 | TR 0.40 | ETA 2m10s

   Checkpoints: <prefix>checkpoint.bgpbt, written to a temporary file and renamed (a crash at
   any moment leaves a complete checkpoint); the one it replaces is kept as
   <prefix>checkpoint.bgpbt.prev (a hard link on POSIX: the checkpoint path itself is never
   missing, and a failed save leaves the previous checkpoint there). resume = 1 continues from the checkpoint if there is one (a
   corrupt or truncated one is refused with a logged error and the previous one is used), and
   the continued run is bit-identical to one never interrupted. max_rounds stops a call early
   (after a checkpoint), e.g. to spread a run over several sessions.

   PPO: hyperparameters are mapped by name onto bgpbt_ppo_hparams (lr or learning_rate, gamma
   or discount, entropy_cost, unroll_length, log2_batch_size or batch_size, num_update_epochs
   or update_epochs, reward_scaling, gae_lambda, clip_epsilon, num_minibatches) and the
   architecture onto bgpbt_ppo_arch (policy_layers, policy_log2_width or policy_width,
   value_layers, value_log2_width or value_width); names it does not know are ignored (use
   them in your own ops). Fields not searched come from agent.hparams / agent.arch. Distillation
   uses bgpbt_agent_distill with alpha from the scheduler's config (annealed over
   distill_anneal_frac x distill_budget student steps). The return of a job is the agent's
   deterministic evaluation (bgpbt_agent_evaluate) after the interval. */

typedef struct bgpbt_pbt_agent_ops {
    void* user;
    /* A fresh agent of architecture arch (n_arch values) with hyperparameters hp. */
    bgpbt_result (*create)(void* user, const int* arch, const double* hp, uint64_t seed, void** agent);
    void (*destroy)(void* user, void* agent);
    /* A copy of src (weights, optimiser, normaliser, counters) with a new RNG stream `seed`. */
    bgpbt_result (*clone)(void* user, const void* src, uint64_t seed, void** agent);
    /* Run job: train (teacher NULL) or distil from teacher for job->steps env steps with
       job->hp; then evaluate. *ret = return, *steps_run = env steps actually run. Return
       BGPBT_ERR_AGENT_FAILED (or a non-finite *ret) if training diverged; other errors stop
       the run. Called from OpenMP worker threads, one agent per thread. */
    bgpbt_result (*train)(void* user, void* agent, const void* teacher, const bgpbt_pbt_job* job,
                          double* ret, long long* steps_run);
    /* Serialise (buf NULL: *size = bytes needed) and restore (a new agent from a blob). */
    bgpbt_result (*save)(void* user, const void* agent, void* buf, size_t cap, size_t* size);
    bgpbt_result (*load)(void* user, const void* data, size_t size, void** agent);
} bgpbt_pbt_agent_ops;

typedef struct bgpbt_pbt_run_config {
    bgpbt_pbt_config pbt;           /* the scheduler */
    bgpbt_agent_config agent;       /* PPO agents: env_def or task, num_envs, eval_episodes, and
                                       the hyperparameters / architecture that are not searched */
    const bgpbt_pbt_agent_ops* ops; /* your own agents instead of PPO (NULL: PPO) */
    const char* out_prefix;         /* "<prefix>log.csv", "returns.svg", "schedule.svg",
                                       "arch.svg", "checkpoint.bgpbt", "best.agent"; NULL: no files */
    int resume;                     /* 1: continue from the checkpoint if it exists */
    int threads;                    /* agents trained at once; 0: OpenMP's default */
    int progress;                   /* 1: a progress line per round on stderr */
    int max_rounds;                 /* > 0: stop after this many rounds of this call */
    int plots_every;                /* rounds between plot updates (CSV and checkpoint: every round); 0: 1 */
} bgpbt_pbt_run_config;

typedef struct bgpbt_pbt_run_result {
    int rounds;                 /* rounds completed in total (including before a resume) */
    int resumed_at;             /* round the run resumed after (0: fresh start) */
    int finished;               /* the scheduler has nothing left to do */
    long long total_steps;      /* env steps of the whole run */
    double best_return;         /* best member of the final population */
    int best_agent;             /* its id (its blob is <prefix>best.agent) */
    double seconds;             /* wall time of this call */
} bgpbt_pbt_run_result;

BGPBT_API bgpbt_pbt_run_config bgpbt_pbt_run_config_default(void);
BGPBT_API bgpbt_result bgpbt_pbt_run(const bgpbt_pbt_run_config* config, bgpbt_pbt_run_result* result);
/* The PPO mapping above, exposed for ask/tell users: hp (the scheduler's space) over base. */
BGPBT_API void bgpbt_pbt_ppo_hparams(const bgpbt_pbt_config* c, const double* hp, const bgpbt_ppo_hparams* base,
                                     bgpbt_ppo_hparams* out);
BGPBT_API void bgpbt_pbt_ppo_arch(const bgpbt_pbt_config* c, const int* arch, const bgpbt_ppo_arch* base,
                                  bgpbt_ppo_arch* out);

/* ---- [decl.pbt.driver] the runner's pieces, for drivers that place the jobs themselves -------

   A driver that spreads a round's jobs over processes or machines (examples/mpi_population.c
   does it with MPI) gets bgpbt_pbt_run's results bit for bit by using the runner's own pieces:

   - bgpbt_pbt_ppo_ops_create: the runner's PPO agent operations (create, clone, train, save,
     load; see bgpbt_pbt_agent_ops). ops.train runs ONE job of one interval on one agent in
     isolation (set hyperparameters, train or distil, evaluate); its result depends only on
     the agent's state and the job, never on which process or thread runs it. Pass the
     scheduler's resolved config (bgpbt_pbt_get_config). A state moved as a blob (save, then
     load elsewhere) continues exactly like the original; a copy for an exploit is load, then
     bgpbt_agent_reseed(job->seed) (what ops.clone does in memory); the runner's private copy of
     a distillation teacher is reseeded with BGPBT_PBT_TEACHER_SEED(job->seed).
   - bgpbt_pbt_checkpoint_save / _load: the runner's checkpoint file (scheduler + one blob per
     held agent; written atomically, the previous one kept as <path>.prev), so a driver's
     checkpoint resumes under bgpbt_pbt_run and the other way round. `agents` are whatever
     ops.save / ops.load handle: live agents, or byte blobs through your own ops. load
     replaces *s and fills ids/agents (at most cap) or changes nothing on error. */
#define BGPBT_PBT_TEACHER_SEED(seed) ((seed) ^ 0x7EAC4E5ull)
BGPBT_API bgpbt_result bgpbt_pbt_ppo_ops_create(const bgpbt_pbt_config* resolved, const bgpbt_agent_config* agent,
                                                bgpbt_pbt_agent_ops* ops);
BGPBT_API void bgpbt_pbt_ppo_ops_destroy(bgpbt_pbt_agent_ops* ops);
BGPBT_API bgpbt_result bgpbt_pbt_checkpoint_save(const bgpbt_pbt* s, const bgpbt_pbt_agent_ops* ops, int n, const int* ids,
                                                 void* const* agents, const char* path);
BGPBT_API bgpbt_result bgpbt_pbt_checkpoint_load(bgpbt_pbt* s, const bgpbt_pbt_agent_ops* ops, const char* path, int cap,
                                                 int* ids, void** agents, int* n);

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
    if (!rng) return;
    for (i = 0; i < 4; ++i) {
        key += 0x9E3779B97F4A7C15ull;
        rng->s[i] = bgpbt_mix64(key);
    }
    if ((rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]) == 0) rng->s[0] = 1; /* never all zero */
}

BGPBT__INLINE uint64_t bgpbt__rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

BGPBT_API uint64_t bgpbt_rng_u64(bgpbt_rng* rng) {
    uint64_t* s;
    uint64_t result, t;
    if (!rng) return 0;
    s = rng->s;
    result = bgpbt__rotl(s[1] * 5, 7) * 9;
    t = s[1] << 17;
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
    if (n == 0 || !rng) return 0;
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
    if (!rng) return 0.0;
    do {
        u = 2.0 * bgpbt_rng_double(rng) - 1.0;
        v = 2.0 * bgpbt_rng_double(rng) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    return u * sqrt(-2.0 * log(s) / s);
}

BGPBT_API void bgpbt_rng_permutation(bgpbt_rng* rng, int* out, int n) {
    int i;
    if (!rng || !out) return;
    for (i = 0; i < n; ++i) out[i] = i;
    for (i = n - 1; i > 0; --i) { /* Fisher-Yates */
        int j = (int)bgpbt_rng_below(rng, (uint32_t)i + 1u);
        int t = out[i];
        out[i] = out[j];
        out[j] = t;
    }
}

BGPBT_API void bgpbt_rng_get_state(const bgpbt_rng* rng, uint64_t state[4]) {
    if (!rng || !state) return;
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

BGPBT_API size_t bgpbt_arena_mark(const bgpbt_arena* arena) { return arena ? arena->used : 0; }

BGPBT_API void bgpbt_arena_reset(bgpbt_arena* arena, size_t mark) {
    if (arena && mark <= arena->used) arena->used = mark;
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

BGPBT__INLINE int bgpbt__in_parallel(void) {
#if BGPBT__HAS_OPENMP
    return omp_in_parallel();
#else
    return 0;
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
BGPBT__INLINE bgpbt_fw bgpbt__fw_mul2n(bgpbt_fw p, bgpbt_fw nf) {
    return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(p), _mm512_slli_epi32(_mm512_castps_si512(nf), 23)));
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
BGPBT__INLINE bgpbt_fw bgpbt__fw_mul2n(bgpbt_fw p, bgpbt_fw nf) {
    return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), _mm256_slli_epi32(_mm256_castps_si256(nf), 23)));
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
BGPBT__INLINE bgpbt_fw bgpbt__fw_mul2n(bgpbt_fw p, bgpbt_fw nf) {
    return _mm_castsi128_ps(_mm_add_epi32(_mm_castps_si128(p), _mm_slli_epi32(_mm_castps_si128(nf), 23)));
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
BGPBT__INLINE bgpbt_fw bgpbt__fw_mul2n(bgpbt_fw p, bgpbt_fw nf) {
    return vreinterpretq_f32_s32(vaddq_s32(vreinterpretq_s32_f32(p), vshlq_n_s32(vreinterpretq_s32_f32(nf), 23)));
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
BGPBT__INLINE bgpbt_fw bgpbt__fw_mul2n(bgpbt_fw p, bgpbt_fw nf) {
    uint32_t pb, nb;
    memcpy(&pb, &p, 4);
    memcpy(&nb, &nf, 4);
    pb += nb << 23;
    memcpy(&p, &pb, 4);
    return p;
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
    if (!rng || !out) return;
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

/* The file operations, overridable for fault-injection tests (see [doc.options]): define any
   of these before the implementation to route it through your own function. */
#ifndef BGPBT_SYS_FOPEN
#  define BGPBT_SYS_FOPEN(path, mode) fopen(path, mode)
#endif
#ifndef BGPBT_SYS_FREAD
#  define BGPBT_SYS_FREAD(ptr, size, n, f) fread(ptr, size, n, f)
#endif
#ifndef BGPBT_SYS_RENAME
#  define BGPBT_SYS_RENAME(from, to) rename(from, to)
#endif
#if !defined(_WIN32)
#  ifndef BGPBT_SYS_OPEN
#    define BGPBT_SYS_OPEN(path, flags, mode) open(path, flags, mode)
#  endif
#  ifndef BGPBT_SYS_WRITE
#    define BGPBT_SYS_WRITE(fd, p, n) write(fd, p, n)
#  endif
#  ifndef BGPBT_SYS_FSYNC
#    define BGPBT_SYS_FSYNC(fd) fsync(fd)
#  endif
#  ifndef BGPBT_SYS_LINK
#    define BGPBT_SYS_LINK(from, to) link(from, to)
#  endif
#endif

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
    if (!data) return crc;
    crc = ~crc;
    for (i = 0; i < size; ++i) crc = table[(crc ^ p[i]) & 0xFFu] ^ (crc >> 8);
    return ~crc;
}

/* Writing size bytes from NULL: an overflow when writing (nothing to copy from), the size when
   counting. Its own function so that no memcpy with a NULL source is reachable once inlined
   (gcc -O3 -Wnonnull flagged bgpbt_write_f32s). */
BGPBT__PRIVATE void bgpbt__write_null(bgpbt_writer* w, size_t size) {
    if (!w || w->overflow) return;
    if (w->buf) w->overflow = 1;
    else w->pos += size;
}

BGPBT_API void bgpbt_write_bytes(bgpbt_writer* w, const void* data, size_t size) {
    if (!data && size) {
        bgpbt__write_null(w, size);
        return;
    }
    if (!w || w->overflow) return;
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
    if (!v && n) { bgpbt__write_null(w, n * 4); return; }
    for (i = 0; i < n; ++i) bgpbt_write_f32(w, v[i]);
}
BGPBT_API void bgpbt_write_f64s(bgpbt_writer* w, const double* v, size_t n) {
    size_t i;
    if (!v && n) { bgpbt__write_null(w, n * 8); return; }
    for (i = 0; i < n; ++i) bgpbt_write_f64(w, v[i]);
}

BGPBT_API void bgpbt_read_bytes(bgpbt_reader* r, void* out, size_t size) {
    if (!r || !out || r->failed || r->pos > r->size || size > r->size - r->pos) {
        if (r && (out || size)) r->failed = 1;
        if (size && out) memset(out, 0, size);
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
    if (!r || !out || r->failed || r->pos > r->size || n > (r->size - r->pos) / 4) {
        if (r && (out || n)) r->failed = 1;
        if (n && out) memset(out, 0, n * sizeof(float));
        return;
    }
    for (i = 0; i < n; ++i) out[i] = bgpbt_read_f32(r);
}
BGPBT_API void bgpbt_read_f64s(bgpbt_reader* r, double* out, size_t n) {
    size_t i;
    if (!r || !out || r->failed || r->pos > r->size || n > (r->size - r->pos) / 8) {
        if (r && (out || n)) r->failed = 1;
        if (n && out) memset(out, 0, n * sizeof(double));
        return;
    }
    for (i = 0; i < n; ++i) out[i] = bgpbt_read_f64(r);
}
BGPBT_API uint32_t bgpbt_read_count(bgpbt_reader* r, uint32_t max, size_t elem_size) {
    uint32_t n = bgpbt_read_u32(r);
    if (!r || r->failed) return 0;
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
    size_t payload;
    bgpbt_writer patch;
    unsigned char* h;
    if (!w || !w->buf || w->overflow || begin_pos > w->pos || w->pos - begin_pos < BGPBT_CONTAINER_HEADER_SIZE) return;
    payload = w->pos - begin_pos - BGPBT_CONTAINER_HEADER_SIZE;
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
    fd = BGPBT_SYS_OPEN(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return BGPBT_ERR_IO;
    while (done < size) {
        ssize_t n = BGPBT_SYS_WRITE(fd, p + done, size - done);
        if (n <= 0) {
            close(fd);
            unlink(tmp);
            return BGPBT_ERR_IO;
        }
        done += (size_t)n;
    }
    if (BGPBT_SYS_FSYNC(fd) != 0) {
        close(fd);
        unlink(tmp);
        return BGPBT_ERR_IO;
    }
    close(fd);
    if (BGPBT_SYS_RENAME(tmp, path) != 0) {
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
    fd = BGPBT_SYS_OPEN(dir, O_RDONLY, 0);
    if (fd >= 0) {
        (void)BGPBT_SYS_FSYNC(fd); /* best effort: the new file is already in place */
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
    f = BGPBT_SYS_FOPEN(path, "rb");
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
    n = BGPBT_SYS_FREAD(buf, 1, (size_t)end, f);
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
    if (!t) return;
    memset(t, 0, sizeof *t);
    if (a) t->allocator = *a;
}
BGPBT_API void bgpbt_text_free(bgpbt_text* t) {
    if (!t) return;
    if (t->data) bgpbt_mem_free(&t->allocator, t->data, t->cap);
    t->data = NULL;
    t->len = t->cap = 0;
}
BGPBT__PRIVATE int bgpbt__text_reserve(bgpbt_text* t, size_t extra) {
    size_t need, cap;
    char* p;
    if (!t || t->failed) return 0;
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
    if (!bgpbt__text_reserve(t, n) || !s) return;
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = 0;
}
BGPBT_API void bgpbt_text_printf(bgpbt_text* t, const char* fmt, ...) {
    char small[256];
    va_list ap;
    int n;
    if (!t || t->failed) return;
    if (!fmt) { t->failed = 1; return; }
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
    if (!t || !path) return BGPBT_ERR_INVALID_ARGUMENT;
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
/* Packed A micro-panels in a workspace lie KC * MR + 16 floats apart: at exactly 8 KiB apart
   the packing loop's stores (one per micro-panel per k) all hit one L1 set. */
#define BGPBT__GEMM_WSP (BGPBT__GEMM_KC * BGPBT__GEMM_MR + 16)
#define BGPBT__GEMM_WS(m) ((size_t)((m) + BGPBT__GEMM_MR) / BGPBT__GEMM_MR * BGPBT__GEMM_WSP)

/* acc[MR][NR] = sum_{p < kc} A(row_i, p) B(p, :); then C rows (< mr) = acc (beta 0) or += acc.
   A(row_i, p) = ar[i][(p / 32) * a_ps + (p % 32) * a_cs]: row-major A has a_ps = 32 a_cs,
   a packed micro-panel a_cs = MR, and a panel-major matrix (the MLP's gradients) a_cs = 1,
   a_ps = rows * 32; kc is a multiple of 32 except in the last k block. */
#define BGPBT__GEMM_KLOOP(...)                                                                  \
    int q, p;                                                                                   \
    for (q = 0; q < kc; q += 32) {                                                              \
        const int pe = kc - q < 32 ? kc - q : 32;                                               \
        const ptrdiff_t ob = (ptrdiff_t)(q >> 5) * a_ps;                                        \
        for (p = 0; p < pe; ++p) {                                                              \
            const float* ap = a + ob + (ptrdiff_t)p * a_cs;                                     \
            __VA_ARGS__                                                                         \
        }                                                                                       \
    }
#if defined(BGPBT_SIMD_AVX512)
BGPBT__PRIVATE void bgpbt__ukernel(int kc, const float* a, ptrdiff_t a_rs, ptrdiff_t a_cs, ptrdiff_t a_ps, const float* b,
                                   ptrdiff_t ldb, float* c, ptrdiff_t ldc, int mr, int beta) {
    __m512 c00 = _mm512_setzero_ps(), c01 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(),
           c11 = _mm512_setzero_ps(), c20 = _mm512_setzero_ps(), c21 = _mm512_setzero_ps(),
           c30 = _mm512_setzero_ps(), c31 = _mm512_setzero_ps(), c40 = _mm512_setzero_ps(),
           c41 = _mm512_setzero_ps(), c50 = _mm512_setzero_ps(), c51 = _mm512_setzero_ps(),
           c60 = _mm512_setzero_ps(), c61 = _mm512_setzero_ps(), c70 = _mm512_setzero_ps(),
           c71 = _mm512_setzero_ps();
#  define BGPBT__K512(i, RS) x = _mm512_set1_ps(ap[i * RS]); c##i##0 = _mm512_fmadd_ps(x, b0, c##i##0); \
                          c##i##1 = _mm512_fmadd_ps(x, b1, c##i##1);
#  define BGPBT__K512ALL(RS) __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16), x; b += ldb; \
        BGPBT__K512(0, RS) BGPBT__K512(1, RS) BGPBT__K512(2, RS) BGPBT__K512(3, RS) \
        BGPBT__K512(4, RS) BGPBT__K512(5, RS) BGPBT__K512(6, RS) BGPBT__K512(7, RS)
    if (a_rs == 1) { /* packed micro-panel: one pointer, immediate offsets */
        BGPBT__GEMM_KLOOP(BGPBT__K512ALL(1))
    } else {
        BGPBT__GEMM_KLOOP(BGPBT__K512ALL(a_rs))
    }
#  undef BGPBT__K512ALL
#  undef BGPBT__K512
#  define BGPBT__S512(i) if (i < mr) { float* cr = c + (ptrdiff_t)i * ldc; \
        if (beta) { c##i##0 = _mm512_add_ps(_mm512_loadu_ps(cr), c##i##0); \
                    c##i##1 = _mm512_add_ps(_mm512_loadu_ps(cr + 16), c##i##1); } \
        _mm512_storeu_ps(cr, c##i##0); _mm512_storeu_ps(cr + 16, c##i##1); }
    BGPBT__S512(0) BGPBT__S512(1) BGPBT__S512(2) BGPBT__S512(3)
    BGPBT__S512(4) BGPBT__S512(5) BGPBT__S512(6) BGPBT__S512(7)
#  undef BGPBT__S512
}
#elif defined(BGPBT_SIMD_AVX2)
BGPBT__PRIVATE void bgpbt__ukernel(int kc, const float* a, ptrdiff_t a_rs, ptrdiff_t a_cs, ptrdiff_t a_ps, const float* b,
                                   ptrdiff_t ldb, float* c, ptrdiff_t ldc, int mr, int beta) {
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(),
           c11 = _mm256_setzero_ps(), c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(),
           c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps(), c40 = _mm256_setzero_ps(),
           c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
#  define BGPBT__K256(i, RS) x = _mm256_broadcast_ss(ap + i * RS); c##i##0 = _mm256_fmadd_ps(x, b0, c##i##0); \
                          c##i##1 = _mm256_fmadd_ps(x, b1, c##i##1);
#  define BGPBT__K256ALL(RS) __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8), x; b += ldb; \
        BGPBT__K256(0, RS) BGPBT__K256(1, RS) BGPBT__K256(2, RS) BGPBT__K256(3, RS) BGPBT__K256(4, RS) \
        BGPBT__K256(5, RS)
    if (a_rs == 1) {
        BGPBT__GEMM_KLOOP(BGPBT__K256ALL(1))
    } else {
        BGPBT__GEMM_KLOOP(BGPBT__K256ALL(a_rs))
    }
#  undef BGPBT__K256ALL
#  undef BGPBT__K256
#  define BGPBT__S256(i) if (i < mr) { float* cr = c + (ptrdiff_t)i * ldc; \
        if (beta) { c##i##0 = _mm256_add_ps(_mm256_loadu_ps(cr), c##i##0); \
                    c##i##1 = _mm256_add_ps(_mm256_loadu_ps(cr + 8), c##i##1); } \
        _mm256_storeu_ps(cr, c##i##0); _mm256_storeu_ps(cr + 8, c##i##1); }
    BGPBT__S256(0) BGPBT__S256(1) BGPBT__S256(2) BGPBT__S256(3) BGPBT__S256(4) BGPBT__S256(5)
#  undef BGPBT__S256
}
#else
/* Generic kernel on the wide-float vocabulary (SSE2, NEON, scalar): 4 rows x 2 vectors. */
BGPBT__PRIVATE void bgpbt__ukernel(int kc, const float* a, ptrdiff_t a_rs, ptrdiff_t a_cs, ptrdiff_t a_ps, const float* b,
                                   ptrdiff_t ldb, float* c, ptrdiff_t ldc, int mr, int beta) {
    bgpbt_fw c00 = bgpbt_fw_zero(), c01 = bgpbt_fw_zero(), c10 = bgpbt_fw_zero(), c11 = bgpbt_fw_zero(),
             c20 = bgpbt_fw_zero(), c21 = bgpbt_fw_zero(), c30 = bgpbt_fw_zero(), c31 = bgpbt_fw_zero();
#  define BGPBT__KG(i) x = bgpbt_fw_set1(ap[i * a_rs]); c##i##0 = bgpbt_fw_fma(x, b0, c##i##0); \
                        c##i##1 = bgpbt_fw_fma(x, b1, c##i##1);
    BGPBT__GEMM_KLOOP(bgpbt_fw b0 = bgpbt_fw_load(b), b1 = bgpbt_fw_load(b + BGPBT_FW_WIDTH), x; b += ldb;
                      BGPBT__KG(0) BGPBT__KG(1) BGPBT__KG(2) BGPBT__KG(3))
#  undef BGPBT__KG
#  define BGPBT__SG(i) if (i < mr) { float* cr = c + (ptrdiff_t)i * ldc; \
        if (beta) { c##i##0 = bgpbt_fw_add(bgpbt_fw_load(cr), c##i##0); \
                    c##i##1 = bgpbt_fw_add(bgpbt_fw_load(cr + BGPBT_FW_WIDTH), c##i##1); } \
        bgpbt_fw_store(cr, c##i##0); bgpbt_fw_store(cr + BGPBT_FW_WIDTH, c##i##1); }
    BGPBT__SG(0) BGPBT__SG(1) BGPBT__SG(2) BGPBT__SG(3)
#  undef BGPBT__SG
}
#endif

/* Half-width tiles (MR x NR/2): the MLP's narrow output layers (16 actions x 2, one value)
   would otherwise run a full NR-wide tile that is half or more padding. Same FMA chains. */
#if defined(BGPBT_SIMD_AVX512)
BGPBT__PRIVATE void bgpbt__ukernel_h(int kc, const float* a, ptrdiff_t a_rs, ptrdiff_t a_cs, ptrdiff_t a_ps,
                                     const float* b, ptrdiff_t ldb, float* c, ptrdiff_t ldc, int mr, int beta) {
    __m512 c00 = _mm512_setzero_ps(), c10 = _mm512_setzero_ps(), c20 = _mm512_setzero_ps(),
           c30 = _mm512_setzero_ps(), c40 = _mm512_setzero_ps(), c50 = _mm512_setzero_ps(),
           c60 = _mm512_setzero_ps(), c70 = _mm512_setzero_ps();
#  define BGPBT__H512(i, RS) c##i##0 = _mm512_fmadd_ps(_mm512_set1_ps(ap[i * RS]), b0, c##i##0);
#  define BGPBT__H512ALL(RS) __m512 b0 = _mm512_loadu_ps(b); b += ldb; \
        BGPBT__H512(0, RS) BGPBT__H512(1, RS) BGPBT__H512(2, RS) BGPBT__H512(3, RS) \
        BGPBT__H512(4, RS) BGPBT__H512(5, RS) BGPBT__H512(6, RS) BGPBT__H512(7, RS)
    if (a_rs == 1) {
        BGPBT__GEMM_KLOOP(BGPBT__H512ALL(1))
    } else {
        BGPBT__GEMM_KLOOP(BGPBT__H512ALL(a_rs))
    }
#  undef BGPBT__H512ALL
#  undef BGPBT__H512
#  define BGPBT__SH512(i) if (i < mr) { float* cr = c + (ptrdiff_t)i * ldc; \
        if (beta) c##i##0 = _mm512_add_ps(_mm512_loadu_ps(cr), c##i##0); \
        _mm512_storeu_ps(cr, c##i##0); }
    BGPBT__SH512(0) BGPBT__SH512(1) BGPBT__SH512(2) BGPBT__SH512(3)
    BGPBT__SH512(4) BGPBT__SH512(5) BGPBT__SH512(6) BGPBT__SH512(7)
#  undef BGPBT__SH512
}
#elif defined(BGPBT_SIMD_AVX2)
BGPBT__PRIVATE void bgpbt__ukernel_h(int kc, const float* a, ptrdiff_t a_rs, ptrdiff_t a_cs, ptrdiff_t a_ps,
                                     const float* b, ptrdiff_t ldb, float* c, ptrdiff_t ldc, int mr, int beta) {
    __m256 c00 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c20 = _mm256_setzero_ps(),
           c30 = _mm256_setzero_ps(), c40 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps();
#  define BGPBT__H256(i, RS) c##i##0 = _mm256_fmadd_ps(_mm256_broadcast_ss(ap + i * RS), b0, c##i##0);
#  define BGPBT__H256ALL(RS) __m256 b0 = _mm256_loadu_ps(b); b += ldb; \
        BGPBT__H256(0, RS) BGPBT__H256(1, RS) BGPBT__H256(2, RS) BGPBT__H256(3, RS) BGPBT__H256(4, RS) \
        BGPBT__H256(5, RS)
    if (a_rs == 1) {
        BGPBT__GEMM_KLOOP(BGPBT__H256ALL(1))
    } else {
        BGPBT__GEMM_KLOOP(BGPBT__H256ALL(a_rs))
    }
#  undef BGPBT__H256ALL
#  undef BGPBT__H256
#  define BGPBT__SH256(i) if (i < mr) { float* cr = c + (ptrdiff_t)i * ldc; \
        if (beta) c##i##0 = _mm256_add_ps(_mm256_loadu_ps(cr), c##i##0); \
        _mm256_storeu_ps(cr, c##i##0); }
    BGPBT__SH256(0) BGPBT__SH256(1) BGPBT__SH256(2) BGPBT__SH256(3) BGPBT__SH256(4) BGPBT__SH256(5)
#  undef BGPBT__SH256
}
#else
BGPBT__PRIVATE void bgpbt__ukernel_h(int kc, const float* a, ptrdiff_t a_rs, ptrdiff_t a_cs, ptrdiff_t a_ps,
                                     const float* b, ptrdiff_t ldb, float* c, ptrdiff_t ldc, int mr, int beta) {
    bgpbt_fw c00 = bgpbt_fw_zero(), c10 = bgpbt_fw_zero(), c20 = bgpbt_fw_zero(), c30 = bgpbt_fw_zero();
#  define BGPBT__HG(i) c##i##0 = bgpbt_fw_fma(bgpbt_fw_set1(ap[i * a_rs]), b0, c##i##0);
    BGPBT__GEMM_KLOOP(bgpbt_fw b0 = bgpbt_fw_load(b); b += ldb; BGPBT__HG(0) BGPBT__HG(1) BGPBT__HG(2) BGPBT__HG(3))
#  undef BGPBT__HG
#  define BGPBT__SHG(i) if (i < mr) { float* cr = c + (ptrdiff_t)i * ldc; \
        if (beta) c##i##0 = bgpbt_fw_add(bgpbt_fw_load(cr), c##i##0); \
        bgpbt_fw_store(cr, c##i##0); }
    BGPBT__SHG(0) BGPBT__SHG(1) BGPBT__SHG(2) BGPBT__SHG(3)
#  undef BGPBT__SHG
}
#endif

/* One row (single-observation inference): the same FMA chain per element as the MR-row
   kernels (NR = 2 vectors on every ISA), so results are bit-identical to a row of a batch. */
BGPBT__PRIVATE void bgpbt__ukernel1(int kc, const float* a, ptrdiff_t a_cs, ptrdiff_t a_ps, const float* b,
                                    ptrdiff_t ldb, float* c, int beta) {
    bgpbt_fw c0 = bgpbt_fw_zero(), c1 = bgpbt_fw_zero();
    BGPBT__GEMM_KLOOP(bgpbt_fw x = bgpbt_fw_set1(ap[0]);
                      c0 = bgpbt_fw_fma(x, bgpbt_fw_load(b), c0);
                      c1 = bgpbt_fw_fma(x, bgpbt_fw_load(b + BGPBT_FW_WIDTH), c1);
                      b += ldb;)
    if (beta) {
        c0 = bgpbt_fw_add(bgpbt_fw_load(c), c0);
        c1 = bgpbt_fw_add(bgpbt_fw_load(c + BGPBT_FW_WIDTH), c1);
    }
    bgpbt_fw_store(c, c0);
    bgpbt_fw_store(c + BGPBT_FW_WIDTH, c1);
}
#undef BGPBT__GEMM_KLOOP

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
   32-column panel contiguous, rs = 32, ps = rows * 32) is how the MLP stores its weights and
   its gradients, so their B micro-panels are read in place, with no copy. */
#define BGPBT__PANEL 32

/* Work fused into a GEMM by the MLP (see [impl.nn]). fn runs on every finished micro-tile (all
   of k summed): rows [i, i + mr) x columns [j, j + NR) of C at c (row stride ldc), off = c - C
   (so arrays laid out like C are addressed at the same offset). colsum (packed-A products
   only): column sums of B over k into colsum[0..n), computed as one more row of A that is all
   ones, so it is summed in the same k blocks and order as the products (the bias gradient). */
typedef struct bgpbt__gemm_epi {
    void (*fn)(const struct bgpbt__gemm_epi* e, float* c, ptrdiff_t ldc, ptrdiff_t off, int i, int mr, int j);
    float* colsum;
    float* ws;          /* path P workspace: BGPBT__GEMM_WS(m) floats (the packed A block) */
    const float* bias;  /* nn: bias of the layer */
    const float* d;     /* nn: activation derivative, laid out like C */
    float* h;           /* nn: activation output, laid out like C */
    int act, train;
} bgpbt__gemm_epi;

/* Element (i, p) of a transposed A: rows of 32 consecutive i per k, 32-row panels a_ps apart
   (a_ps = 32: an ordinary transposed matrix; the MLP's panel-major activations: rows * 32). */
#define BGPBT__AT(a, i, p, a_cs, a_ps) ((a)[(ptrdiff_t)((i) / 32) * (a_ps) + ((i) % 32) + (ptrdiff_t)(p) * (a_cs)])

/* Packs A(i0 + r, kb + p), r < MR, p < kc, into ap[p * MR + r] for a transposed A (see
   BGPBT__AT): rows at or beyond m are zero, except row m which is all ones when ones. */
BGPBT__PRIVATE void bgpbt__gemm_packa(const float* a, ptrdiff_t a_cs, ptrdiff_t a_ps, int i0, int m, int ones, int kb,
                                      int kc, float* ap) {
    float tail[BGPBT__GEMM_MR];
    int p, r, mr = m - i0 < 0 ? 0 : m - i0 < BGPBT__GEMM_MR ? m - i0 : BGPBT__GEMM_MR;
    if (mr == BGPBT__GEMM_MR && i0 % 32 + BGPBT__GEMM_MR <= 32) {
        const float* src = &BGPBT__AT(a, i0, kb, a_cs, a_ps);
        for (p = 0; p < kc; ++p) memcpy(ap + p * BGPBT__GEMM_MR, src + (ptrdiff_t)p * a_cs, sizeof(float) * BGPBT__GEMM_MR);
        return;
    }
    for (r = 0; r < BGPBT__GEMM_MR; ++r) tail[r] = (ones && i0 + r == m) ? 1.0f : 0.0f; /* rows past the end */
    for (p = 0; p < kc; ++p) {
        float* d = ap + p * BGPBT__GEMM_MR;
        if (i0 % 32 + mr <= 32) { /* the real rows are contiguous */
            if (mr > 0) memcpy(d, &BGPBT__AT(a, i0, kb + p, a_cs, a_ps), sizeof(float) * (size_t)mr);
        } else {
            for (r = 0; r < mr; ++r) d[r] = BGPBT__AT(a, i0 + r, kb + p, a_cs, a_ps);
        }
        memcpy(d + mr, tail + mr, sizeof(float) * (size_t)(BGPBT__GEMM_MR - mr));
    }
}

/* One micro-tile product into C (rows [i, i + mr), full or partial columns), with the colsum
   row diverted: a tile that is partial (nc < NR) or holds the ones row goes through ctile. */
BGPBT__PRIVATE void bgpbt__gemm_micro(int kc, const float* a, ptrdiff_t a_rs, ptrdiff_t a_cs, ptrdiff_t a_ps,
                                      const float* bp, ptrdiff_t bld, float* cp, ptrdiff_t ldc, int mr, int nc,
                                      int bt, float* colsum_row) {
#if BGPBT_FW_WIDTH == 1 /* 8 floats: zeroed, since gcc -O3 cannot see the kernels fill them */
    float ctile[BGPBT__GEMM_MR * BGPBT__GEMM_NR] = {0};
#else
    float ctile[BGPBT__GEMM_MR * BGPBT__GEMM_NR];
#endif
    int r, j, mrc = mr + (colsum_row != NULL);
    if (nc == BGPBT__GEMM_NR && !colsum_row) {
        if (mr == 1) bgpbt__ukernel1(kc, a, a_cs, a_ps, bp, bld, cp, bt);
        else bgpbt__ukernel(kc, a, a_rs, a_cs, a_ps, bp, bld, cp, ldc, mr, bt);
        return;
    }
    if (mr == 1 && !colsum_row) { /* one row (A may hold no more rows): the one-row kernel */
        bgpbt__ukernel1(kc, a, a_cs, a_ps, bp, bld, ctile, 0);
    } else if (2 * nc <= BGPBT__GEMM_NR) {
        if (2 * nc == BGPBT__GEMM_NR && !colsum_row) {
            bgpbt__ukernel_h(kc, a, a_rs, a_cs, a_ps, bp, bld, cp, ldc, mr, bt);
            return;
        }
        bgpbt__ukernel_h(kc, a, a_rs, a_cs, a_ps, bp, bld, ctile, BGPBT__GEMM_NR, mrc, 0);
    } else {
        bgpbt__ukernel(kc, a, a_rs, a_cs, a_ps, bp, bld, ctile, BGPBT__GEMM_NR, mrc, 0);
    }
    for (r = 0; r < mrc; ++r) {
        float* o = r < mr ? cp + (ptrdiff_t)r * ldc : colsum_row;
        for (j = 0; j < nc; ++j) o[j] = bt ? o[j] + ctile[r * BGPBT__GEMM_NR + j] : ctile[r * BGPBT__GEMM_NR + j];
    }
}

/* Path T: an output tile of rows [i0, i0 + mc) x columns [j0, j0 + nc), nc <= NR, k blocks
   [kbeg, kend). The B micro-panel (in place when contiguous, else copied) stays in L1 while
   every row block of the tile runs over it; A is read in place (a transposed A too: a full
   micro-panel is MR consecutive floats per k), partial row blocks packed. */
BGPBT__PRIVATE void bgpbt__gemm_tile(int i0, int mc, int j0, int nc, int kbeg, int kend, int k, int m,
                                     const float* a, ptrdiff_t a_rs, ptrdiff_t a_cs, ptrdiff_t a_ps, int packa,
                                     const float* b, ptrdiff_t b_rs, ptrdiff_t b_ps, float* c, ptrdiff_t ldc,
                                     ptrdiff_t c_ps, int beta, const bgpbt__gemm_epi* epi) {
    float bpanel[BGPBT__GEMM_KC * BGPBT__GEMM_NR];
    float apack[BGPBT__GEMM_KC * BGPBT__GEMM_MR];
    int kb, ir, r, j, p;
    const int full = (nc == BGPBT__GEMM_NR);
    const float* bcol = b + (ptrdiff_t)(j0 / BGPBT__PANEL) * b_ps + (j0 % BGPBT__PANEL);
    float* ccol = c + (ptrdiff_t)(j0 / BGPBT__PANEL) * c_ps + (j0 % BGPBT__PANEL);
    const ptrdiff_t ldb = b_rs;
    for (kb = kbeg; kb < kend; kb += BGPBT__GEMM_KC) {
        int kc = k - kb < BGPBT__GEMM_KC ? k - kb : BGPBT__GEMM_KC;
        const float* bp = bcol + (ptrdiff_t)kb * ldb;
        ptrdiff_t bld = ldb;
        int bt = beta || kb > 0, last = kb + BGPBT__GEMM_KC >= k;
        if (!full || ldb > BGPBT__PANEL) {
            /* a contiguous copy of the micro-panel: B rows read in place at a large stride
               (1 KiB for 256-wide layers) alias to a few L1 sets and evict each other; the
               copy is reused by every row block of the tile. Zero-padded at the right edge. */
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
            if (packa && mr == BGPBT__GEMM_MR && (i0 + ir) % 32 + BGPBT__GEMM_MR <= 32) {
                /* a full micro-panel of a transposed A is MR consecutive floats per k: read
                   in place (packing it again for every column panel cost more than the
                   strided reads: 256x6144x256 0.48 -> 0.79 of peak) */
                bgpbt__gemm_micro(kc, &BGPBT__AT(a, i0 + ir, kb, a_cs, a_ps), 1, a_cs, 32 * a_cs, bp, bld, cp, ldc, mr, nc,
                                  bt, NULL);
            } else if (packa || (mr > 1 && mr < BGPBT__GEMM_MR)) { /* partial (or straddling), or a partial row block */
                if (packa) bgpbt__gemm_packa(a, a_cs, a_ps, i0 + ir, m, 0, kb, kc, apack);
                else
                    for (p = 0; p < kc; ++p)
                        for (r = 0; r < BGPBT__GEMM_MR; ++r)
                            apack[p * BGPBT__GEMM_MR + r] =
                                r < mr ? a[(ptrdiff_t)(i0 + ir + r) * a_rs + (ptrdiff_t)((kb + p) / 32) * a_ps +
                                           (ptrdiff_t)((kb + p) % 32) * a_cs] : 0.0f;
                bgpbt__gemm_micro(kc, apack, 1, BGPBT__GEMM_MR, 32 * BGPBT__GEMM_MR, bp, bld, cp, ldc, mr, nc, bt, NULL);
            } else {
                bgpbt__gemm_micro(kc, a + (ptrdiff_t)(i0 + ir) * a_rs + (ptrdiff_t)(kb / 32) * a_ps, a_rs, a_cs, a_ps, bp,
                                  bld, cp, ldc, mr, nc, bt, NULL);
            }
            if (last && epi && epi->fn)
                epi->fn(epi, cp, ldc, cp - c, i0 + ir, mr, j0);
        }
    }
}

/* Path P (transposed A, B in contiguous panels: the MLP's dW = X^T dY): columns [j0, j1) for
   all m rows. Each A micro-panel is packed once per k block (8 floats per k: one vector move)
   and reused from L1 by every column panel, whose B micro-panels stream in place from L2. */
BGPBT__PRIVATE void bgpbt__gemm_cols(int m, int j0, int j1, int k, const float* a, ptrdiff_t a_cs, ptrdiff_t a_ps,
                                     const float* b, ptrdiff_t b_ps, float* c, ptrdiff_t ldc, ptrdiff_t c_ps,
                                     int beta, const bgpbt__gemm_epi* epi) {
    float apack[BGPBT__GEMM_KC * BGPBT__GEMM_MR];
    float* colsum = epi ? epi->colsum : NULL;
    const int mt = m + (colsum != NULL);
    int kb, ir, j;
    for (kb = 0; kb < k; kb += BGPBT__GEMM_KC) {
        int kc = k - kb < BGPBT__GEMM_KC ? k - kb : BGPBT__GEMM_KC;
        int bt = beta || kb > 0, last = kb + BGPBT__GEMM_KC >= k;
        for (ir = 0; ir < mt; ir += BGPBT__GEMM_MR) {
            int mr = m - ir < BGPBT__GEMM_MR ? m - ir : BGPBT__GEMM_MR; /* real rows (may be 0) */
            int has_ones = colsum && ir + BGPBT__GEMM_MR > m;
            bgpbt__gemm_packa(a, a_cs, a_ps, ir, m, colsum != NULL, kb, kc, apack);
            for (j = j0; j < j1; j += BGPBT__GEMM_NR) {
                int nc = j1 - j < BGPBT__GEMM_NR ? j1 - j : BGPBT__GEMM_NR;
                const float* bp = b + (ptrdiff_t)(j / BGPBT__PANEL) * b_ps + (ptrdiff_t)kb * BGPBT__PANEL + (j % BGPBT__PANEL);
                float* cp = c + (ptrdiff_t)(j / BGPBT__PANEL) * c_ps + (ptrdiff_t)ir * ldc + (j % BGPBT__PANEL);
                bgpbt__gemm_micro(kc, apack, 1, BGPBT__GEMM_MR, 32 * BGPBT__GEMM_MR, bp, BGPBT__PANEL, cp, ldc, mr, nc, bt,
                                  has_ones ? colsum + j : NULL);
                if (last && mr > 0 && epi && epi->fn) epi->fn(epi, cp, ldc, cp - c, ir, mr, j);
            }
        }
    }
}

/* Path P with a workspace (GotoBLAS order): rows [r0, r1) (multiples of MR, the ones row
   included) of the A block of one k block are packed into ws, then each B micro-panel, read in
   place, stays in L1 while every packed A micro-panel streams over it from L2. */
BGPBT__PRIVATE void bgpbt__gemm_rows_ws(int m, int r0, int r1, int n, int k, const float* a, ptrdiff_t a_cs, ptrdiff_t a_ps,
                                       const float* b, ptrdiff_t b_ps, float* c, ptrdiff_t ldc, ptrdiff_t c_ps,
                                       int beta, const bgpbt__gemm_epi* epi) {
    float* colsum = epi->colsum;
    float* ws = epi->ws;
    /* Up to 64 columns (a packed micro-panel would serve at most two column panels), full
       micro-panels of A are read in place: MR floats a_cs apart per k (0.58 -> 0.63 of peak
       at 64 x 425 x 64, 0.53 -> 0.66 at 256 x 512 x 32). Wider products pack: each packed
       micro-panel is reused by n / 32 column panels (in place: 0.72 -> 0.66 at 128 x 512 x 256). */
    const int inplace = 32 % BGPBT__GEMM_MR == 0 && n <= 64;
    int kb, ir, j;
    for (kb = 0; kb < k; kb += BGPBT__GEMM_KC) {
        int kc = k - kb < BGPBT__GEMM_KC ? k - kb : BGPBT__GEMM_KC;
        int bt = beta || kb > 0, last = kb + BGPBT__GEMM_KC >= k;
        { /* full micro-panels row by row of the source (A^T: one contiguous run per k), so
             the reads stream; the partial last micro-panel (and the ones row) separately */
            int rf = m / BGPBT__GEMM_MR * BGPBT__GEMM_MR, p;
            if (rf > r1) rf = r1;
            if (inplace) {
                /* read in place below */
            } else if (32 % BGPBT__GEMM_MR == 0) { /* micro-panels never straddle a 32-row panel */
                for (p = 0; p < kc; ++p)
                    for (ir = r0; ir < rf; ir += BGPBT__GEMM_MR)
                        memcpy(ws + (ptrdiff_t)(ir / BGPBT__GEMM_MR) * BGPBT__GEMM_WSP + p * BGPBT__GEMM_MR,
                               &BGPBT__AT(a, ir, kb + p, a_cs, a_ps), sizeof(float) * BGPBT__GEMM_MR);
            } else {
                rf = r0;
            }
            for (ir = rf > r0 ? rf : r0; ir < r1; ir += BGPBT__GEMM_MR)
                if (ir < m || n % BGPBT__GEMM_NR) /* a ones-only micro-panel is summed by adds below */
                    bgpbt__gemm_packa(a, a_cs, a_ps, ir, m, colsum != NULL, kb, kc, ws + (ptrdiff_t)(ir / BGPBT__GEMM_MR) * BGPBT__GEMM_WSP);
        }
        for (j = 0; j < n; j += BGPBT__GEMM_NR) {
            int nc = n - j < BGPBT__GEMM_NR ? n - j : BGPBT__GEMM_NR;
            const float* bp = b + (ptrdiff_t)(j / BGPBT__PANEL) * b_ps + (ptrdiff_t)kb * BGPBT__PANEL + (j % BGPBT__PANEL);
            for (ir = r0; ir < r1; ir += BGPBT__GEMM_MR) {
                int mr = m - ir < BGPBT__GEMM_MR ? m - ir : BGPBT__GEMM_MR;
                int has_ones = colsum && ir + BGPBT__GEMM_MR > m;
                float* cp = c + (ptrdiff_t)(j / BGPBT__PANEL) * c_ps + (ptrdiff_t)ir * ldc + (j % BGPBT__PANEL);
                if (has_ones && mr == 0 && nc == BGPBT__GEMM_NR) {
                    /* a micro-panel holding only the ones row: the column sums by adds, the
                       same chain as fma(1, b, acc), without the 7 empty rows' FMAs */
                    bgpbt_fw s0 = bgpbt_fw_zero(), s1 = bgpbt_fw_zero();
                    const float* bq = bp;
                    int p, q;
                    for (q = 0; q < BGPBT__GEMM_NR; q += 2 * BGPBT_FW_WIDTH) {
                        s0 = bgpbt_fw_zero();
                        s1 = bgpbt_fw_zero();
                        for (p = 0, bq = bp + q; p < kc; ++p, bq += BGPBT__PANEL) {
                            s0 = bgpbt_fw_add(s0, bgpbt_fw_load(bq));
                            s1 = bgpbt_fw_add(s1, bgpbt_fw_load(bq + BGPBT_FW_WIDTH));
                        }
                        if (bt) {
                            s0 = bgpbt_fw_add(bgpbt_fw_load(colsum + j + q), s0);
                            s1 = bgpbt_fw_add(bgpbt_fw_load(colsum + j + q + BGPBT_FW_WIDTH), s1);
                        }
                        bgpbt_fw_store(colsum + j + q, s0);
                        bgpbt_fw_store(colsum + j + q + BGPBT_FW_WIDTH, s1);
                    }
                    continue;
                }
                if (inplace && ir + BGPBT__GEMM_MR <= m) /* a full micro-panel: MR floats a_cs apart per k */
                    bgpbt__gemm_micro(kc, &BGPBT__AT(a, ir, kb, a_cs, a_ps), 1, a_cs, 32 * a_cs, bp, BGPBT__PANEL, cp, ldc,
                                      mr, nc, bt, NULL);
                else
                    bgpbt__gemm_micro(kc, ws + (ptrdiff_t)(ir / BGPBT__GEMM_MR) * BGPBT__GEMM_WSP, 1, BGPBT__GEMM_MR,
                                      32 * BGPBT__GEMM_MR, bp, BGPBT__PANEL, cp, ldc, mr, nc, bt, has_ones ? colsum + j : NULL);
                if (last && mr > 0 && epi->fn) epi->fn(epi, cp, ldc, cp - c, ir, mr, j);
            }
        }
    }
}

/* C (m x n) = / += A (m x k) B (k x n). A(i, p) = a[i * a_rs + (p / 32) * a_ps + (p % 32) * a_cs]
   (a_ps = 0 means 32 a_cs: an ordinary strided matrix). A is transposed when a_rs == 1 and
   a_cs != 1: then A(i, p) = a[(i / 32) * a_ps + i % 32 + p * a_cs] (a_ps = 0 means 32: an
   ordinary transposed matrix; rows * 32 reads the MLP's panel-major activations). */
BGPBT__PRIVATE void bgpbt__sgemm_ex(int m, int n, int k, const float* a, ptrdiff_t a_rs, ptrdiff_t a_cs, ptrdiff_t a_ps,
                                    const float* b, ptrdiff_t b_rs, ptrdiff_t b_ps, float* c, ptrdiff_t ldc,
                                    ptrdiff_t c_ps, int beta, const bgpbt__gemm_epi* epi) {
    int npan, mtiles, ntiles, t, kb0;
    const int packa = (a_rs == 1 && a_cs != 1 && m > 1);
    const int par = BGPBT__HAS_OPENMP && (double)m * (double)n * (double)k > 4194304.0 && bgpbt_max_threads() > 1 &&
                    !bgpbt__in_parallel(); /* e.g. the PPO update's pipeline: no nested region */
    if (a_ps == 0) a_ps = packa ? 32 : 32 * a_cs;
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        int i, j;
        if (!beta)
            for (i = 0; i < m; ++i)
                for (j = 0; j < n; ++j) c[(ptrdiff_t)(j / BGPBT__PANEL) * c_ps + (ptrdiff_t)i * ldc + j % BGPBT__PANEL] = 0.0f;
        if (epi && epi->colsum)
            for (j = 0; j < n; ++j) epi->colsum[j] = beta ? epi->colsum[j] : 0.0f;
        return;
    }
    npan = (n + BGPBT__GEMM_NR - 1) / BGPBT__GEMM_NR;
    if (packa && b_rs == BGPBT__PANEL && epi && epi->ws) {
        /* threads own row ranges (whole micro-panels); results do not depend on the split */
        int mt = m + (epi->colsum != NULL), nb = (mt + BGPBT__GEMM_MR - 1) / BGPBT__GEMM_MR;
        int nt = par ? (bgpbt_max_threads() < nb ? bgpbt_max_threads() : nb) : 1, per = (nb + nt - 1) / nt;
        nt = (nb + per - 1) / per;
        if (nt > 1) {
            BGPBT_OMP(parallel for schedule(static, 1))
            for (t = 0; t < nt; ++t) {
                int r0 = t * per * BGPBT__GEMM_MR, r1 = (t + 1) * per * BGPBT__GEMM_MR;
                bgpbt__gemm_rows_ws(m, r0, r1 < mt ? r1 : mt, n, k, a, a_cs, a_ps, b, b_ps, c, ldc, c_ps, beta, epi);
            }
        } else {
            bgpbt__gemm_rows_ws(m, 0, mt, n, k, a, a_cs, a_ps, b, b_ps, c, ldc, c_ps, beta, epi);
        }
        return;
    }
    if (packa && b_rs == BGPBT__PANEL) {
        /* every thread owns whole column groups; a group's results do not depend on where
           the group boundaries fall, so any thread count gives the same bits */
        int ng = par ? (bgpbt_max_threads() < npan ? bgpbt_max_threads() : npan) : 1, gsz = (npan + ng - 1) / ng;
        ng = (npan + gsz - 1) / gsz;
        if (ng > 1) {
            BGPBT_OMP(parallel for schedule(static, 1))
            for (t = 0; t < ng; ++t) {
                int j0 = t * gsz * BGPBT__GEMM_NR, j1 = (t + 1) * gsz * BGPBT__GEMM_NR;
                bgpbt__gemm_cols(m, j0, j1 < n ? j1 : n, k, a, a_cs, a_ps, b, b_ps, c, ldc, c_ps, beta, epi);
            }
        } else {
            bgpbt__gemm_cols(m, 0, n, k, a, a_cs, a_ps, b, b_ps, c, ldc, c_ps, beta, epi);
        }
        return;
    }
    if (epi && epi->colsum) { /* only path P fuses it: here a separate pass, rows in order */
        int i, j;
        for (j = 0; j < n; ++j) {
            float s = 0.0f;
            for (i = 0; i < k; ++i) s += b[(ptrdiff_t)(j / BGPBT__PANEL) * b_ps + (ptrdiff_t)i * b_rs + j % BGPBT__PANEL];
            epi->colsum[j] = beta ? epi->colsum[j] + s : s;
        }
    }
    mtiles = (m + BGPBT__GEMM_MC - 1) / BGPBT__GEMM_MC;
    ntiles = npan * mtiles;
    /* tiles are independent outputs: any thread count gives the same bits. Small products
       skip the parallel region entirely (entering one, even with if(0), costs ~0.3 us). */
#define BGPBT__GEMM_TILE(t)                                                                       \
    do {                                                                                          \
        int mt_ = (t) / npan, pj_ = (t) - mt_ * npan;                                             \
        int i0_ = mt_ * BGPBT__GEMM_MC, j0_ = pj_ * BGPBT__GEMM_NR;                               \
        int mc_ = m - i0_ < BGPBT__GEMM_MC ? m - i0_ : BGPBT__GEMM_MC;                            \
        int nc_ = n - j0_ < BGPBT__GEMM_NR ? n - j0_ : BGPBT__GEMM_NR;                            \
        bgpbt__gemm_tile(i0_, mc_, j0_, nc_, kb0, kb1, k, m, a, a_rs, a_cs, a_ps, packa, b, b_rs, b_ps, c, \
                         ldc, c_ps, beta, epi);                                                   \
    } while (0)
    /* k blocks outermost: the A block of one k block is reused by every column panel while it
       is in L2 (with k innermost, a long k re-streams all of A once per panel); C blocks are
       still summed in k order, so the bits do not change. */
    for (kb0 = 0; kb0 < k; kb0 += BGPBT__GEMM_KC) {
        int kb1 = k - kb0 < BGPBT__GEMM_KC ? k : kb0 + BGPBT__GEMM_KC;
        if (par && ntiles > 1) {
            BGPBT_OMP(parallel for schedule(static))
            for (t = 0; t < ntiles; ++t) BGPBT__GEMM_TILE(t);
        } else {
            for (t = 0; t < ntiles; ++t) BGPBT__GEMM_TILE(t);
        }
    }
#undef BGPBT__GEMM_TILE
}

BGPBT_API void bgpbt_sgemm(int m, int n, int k, const float* a, ptrdiff_t a_rs, ptrdiff_t a_cs,
                           const float* b, ptrdiff_t ldb, float* c, ptrdiff_t ldc, int beta) {
    if (m <= 0 || n <= 0 || !c) return; /* nothing to write */
    if (k < 0 || (k > 0 && (!a || !b))) return;
    bgpbt__sgemm_ex(m, n, k, a, a_rs, a_cs, 0, b, ldb, BGPBT__PANEL, c, ldc, BGPBT__PANEL, beta, NULL);
}

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

#if defined(BGPBT__D4)
/* Step 1 of the factorisation with outer-product register tiles: the panel's columns k < j0
   are packed k-major (Bp[k][16], chunks of 128 k on the stack), then every block of 4 rows
   accumulates a 4 x 8 tile (8 accumulators, 2 loads and 4 broadcasts per 8 FMAs) twice across
   the panel; no horizontal sums. Rows of the diagonal block only update their lower part. */
#define BGPBT__CHOL_KC 128
BGPBT__PRIVATE void bgpbt__chol_panel_update(double* a, int n, int lda, int j0, int jb) {
    double Bp[BGPBT__CHOL_KC * BGPBT__CHOL_NB];
    int k0;
    for (k0 = 0; k0 < j0; k0 += BGPBT__CHOL_KC) {
        int kc = j0 - k0 < BGPBT__CHOL_KC ? j0 - k0 : BGPBT__CHOL_KC, k, c, i0;
        for (c = 0; c < BGPBT__CHOL_NB; ++c) {
            const double* src = a + (size_t)(j0 + (c < jb ? c : 0)) * lda + k0;
            for (k = 0; k < kc; ++k) Bp[k * BGPBT__CHOL_NB + c] = c < jb ? src[k] : 0.0;
        }
        for (i0 = j0; i0 < n; i0 += 4) {
            const double* A[4];
            int a_, h;
            for (a_ = 0; a_ < 4; ++a_) A[a_] = a + (size_t)(i0 + a_ < n ? i0 + a_ : n - 1) * lda + k0;
            for (h = 0; h < BGPBT__CHOL_NB && h < jb; h += 8) {
                __m256d c00 = _mm256_setzero_pd(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
                const double* bp = Bp + h;
                double t[32];
                for (k = 0; k < kc; ++k) {
                    __m256d b0 = _mm256_loadu_pd(bp + k * BGPBT__CHOL_NB), b1 = _mm256_loadu_pd(bp + k * BGPBT__CHOL_NB + 4);
                    __m256d x = _mm256_broadcast_sd(A[0] + k);
                    c00 = _mm256_fmadd_pd(x, b0, c00); c01 = _mm256_fmadd_pd(x, b1, c01);
                    x = _mm256_broadcast_sd(A[1] + k);
                    c10 = _mm256_fmadd_pd(x, b0, c10); c11 = _mm256_fmadd_pd(x, b1, c11);
                    x = _mm256_broadcast_sd(A[2] + k);
                    c20 = _mm256_fmadd_pd(x, b0, c20); c21 = _mm256_fmadd_pd(x, b1, c21);
                    x = _mm256_broadcast_sd(A[3] + k);
                    c30 = _mm256_fmadd_pd(x, b0, c30); c31 = _mm256_fmadd_pd(x, b1, c31);
                }
                if (i0 + 4 <= n && i0 >= j0 + jb && h + 8 <= jb) { /* full tile below the diagonal block */
                    double* r0 = a + (size_t)i0 * lda + j0 + h;
                    double* r1 = r0 + lda;
                    double* r2 = r1 + lda;
                    double* r3 = r2 + lda;
                    _mm256_storeu_pd(r0, _mm256_sub_pd(_mm256_loadu_pd(r0), c00)); _mm256_storeu_pd(r0 + 4, _mm256_sub_pd(_mm256_loadu_pd(r0 + 4), c01));
                    _mm256_storeu_pd(r1, _mm256_sub_pd(_mm256_loadu_pd(r1), c10)); _mm256_storeu_pd(r1 + 4, _mm256_sub_pd(_mm256_loadu_pd(r1 + 4), c11));
                    _mm256_storeu_pd(r2, _mm256_sub_pd(_mm256_loadu_pd(r2), c20)); _mm256_storeu_pd(r2 + 4, _mm256_sub_pd(_mm256_loadu_pd(r2 + 4), c21));
                    _mm256_storeu_pd(r3, _mm256_sub_pd(_mm256_loadu_pd(r3), c30)); _mm256_storeu_pd(r3 + 4, _mm256_sub_pd(_mm256_loadu_pd(r3 + 4), c31));
                    continue;
                }
                _mm256_storeu_pd(t, c00); _mm256_storeu_pd(t + 4, c01); _mm256_storeu_pd(t + 8, c10); _mm256_storeu_pd(t + 12, c11);
                _mm256_storeu_pd(t + 16, c20); _mm256_storeu_pd(t + 20, c21); _mm256_storeu_pd(t + 24, c30); _mm256_storeu_pd(t + 28, c31);
                for (a_ = 0; a_ < 4 && i0 + a_ < n; ++a_) {
                    double* r = a + (size_t)(i0 + a_) * lda + j0;
                    for (c = h; c < h + 8 && c < jb && j0 + c <= i0 + a_; ++c) r[c] -= t[8 * a_ + c - h];
                }
            }
        }
    }
}
#endif

BGPBT_API bgpbt_result bgpbt_linalg_cholesky(double* a, int n, int lda) {
    int j0, fail = 0;
    if (n < 0 || lda < n || (n > 0 && !a)) return BGPBT_ERR_INVALID_ARGUMENT;
    for (j0 = 0; j0 < n && !fail; j0 += BGPBT__CHOL_NB) {
        int jb = n - j0 < BGPBT__CHOL_NB ? n - j0 : BGPBT__CHOL_NB;
        int i, j, k;
        /* 1. panel update with the finished columns k < j0 (rows j0..n-1, cols j0..j0+jb-1) */
#if defined(BGPBT__D4)
        if (j0 > 0) bgpbt__chol_panel_update(a, n, lda, j0, jb);
#else
        if (j0 > 0) {
            int i0;
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
#endif
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
        /* 3. the rows below the diagonal block: x L_D^T = row by forward substitution in dot
           form, 4 rows at a time with the solutions kept in local arrays (solving in place
           along the row made every step reload an element that a vector store had just
           written, a store-forwarding stall) */
        {
            double lq[BGPBT__CHOL_NB * BGPBT__CHOL_NB], inv[BGPBT__CHOL_NB];
            int jj, kk;
            for (jj = 0; jj < jb; ++jj) {
                inv[jj] = 1.0 / a[(size_t)(j0 + jj) * lda + j0 + jj];
                for (kk = 0; kk < jj; ++kk) lq[jj * BGPBT__CHOL_NB + kk] = a[(size_t)(j0 + jj) * lda + j0 + kk];
            }
#if defined(BGPBT__D4)
            /* 8 rows as two vectors, each column's sum split in two chains (FMA latency) */
            BGPBT_OMP(parallel for schedule(static) if (n >= BGPBT_CHOL_PAR_N))
            for (i = j0 + jb; i < n; i += 8) {
                __m256d xa[BGPBT__CHOL_NB], xb[BGPBT__CHOL_NB];
                double* r[8];
                double tq[8];
                int rr, nr = n - i < 8 ? n - i : 8, q, p_;
                for (rr = 0; rr < 8; ++rr) r[rr] = a + (size_t)(i + (rr < nr ? rr : nr - 1)) * lda + j0;
                for (q = 0; q < jb; ++q) {
                    const double* lr = lq + q * BGPBT__CHOL_NB;
                    __m256d sa = _mm256_set_pd(r[3][q], r[2][q], r[1][q], r[0][q]), sb = _mm256_set_pd(r[7][q], r[6][q], r[5][q], r[4][q]);
                    __m256d ta = _mm256_setzero_pd(), tb = ta, iv = _mm256_set1_pd(inv[q]);
                    for (p_ = 0; p_ + 1 < q; p_ += 2) {
                        __m256d l0 = _mm256_set1_pd(lr[p_]), l1 = _mm256_set1_pd(lr[p_ + 1]);
                        sa = _mm256_fnmadd_pd(xa[p_], l0, sa); sb = _mm256_fnmadd_pd(xb[p_], l0, sb);
                        ta = _mm256_fnmadd_pd(xa[p_ + 1], l1, ta); tb = _mm256_fnmadd_pd(xb[p_ + 1], l1, tb);
                    }
                    if (p_ < q) {
                        __m256d l0 = _mm256_set1_pd(lr[p_]);
                        sa = _mm256_fnmadd_pd(xa[p_], l0, sa); sb = _mm256_fnmadd_pd(xb[p_], l0, sb);
                    }
                    xa[q] = _mm256_mul_pd(_mm256_add_pd(sa, ta), iv);
                    xb[q] = _mm256_mul_pd(_mm256_add_pd(sb, tb), iv);
                }
                for (q = 0; q < jb; ++q) {
                    _mm256_storeu_pd(tq, xa[q]);
                    _mm256_storeu_pd(tq + 4, xb[q]);
                    for (rr = 0; rr < nr; ++rr) r[rr][q] = tq[rr];
                }
            }
#else
            BGPBT_OMP(parallel for schedule(static) if (n >= BGPBT_CHOL_PAR_N))
            for (i = j0 + jb; i < n; i += 4) {
                double x0[BGPBT__CHOL_NB], x1[BGPBT__CHOL_NB], x2[BGPBT__CHOL_NB], x3[BGPBT__CHOL_NB];
                double* r[4];
                int rr, nr = n - i < 4 ? n - i : 4, q, p_;
                for (rr = 0; rr < 4; ++rr) r[rr] = a + (size_t)(i + (rr < nr ? rr : nr - 1)) * lda + j0;
                for (q = 0; q < jb; ++q) {
                    const double* lr = lq + q * BGPBT__CHOL_NB;
                    double s0 = r[0][q], s1 = r[1][q], s2 = r[2][q], s3 = r[3][q];
                    for (p_ = 0; p_ < q; ++p_) {
                        double l = lr[p_];
                        s0 -= x0[p_] * l; s1 -= x1[p_] * l; s2 -= x2[p_] * l; s3 -= x3[p_] * l;
                    }
                    x0[q] = s0 * inv[q]; x1[q] = s1 * inv[q]; x2[q] = s2 * inv[q]; x3[q] = s3 * inv[q];
                }
                for (q = 0; q < jb; ++q) {
                    r[0][q] = x0[q];
                    if (nr > 1) r[1][q] = x1[q];
                    if (nr > 2) r[2][q] = x2[q];
                    if (nr > 3) r[3][q] = x3[q];
                }
            }
#endif
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
    if (!l || !b || ldl < n) return; /* n <= 0: nothing to do */
    for (i = 0; i < n; ++i) {
        const double* r = l + (size_t)i * ldl;
        b[i] = (b[i] - bgpbt__ddot(r, b, i)) / r[i];
    }
}

BGPBT_API void bgpbt_linalg_solve_lower_t(const double* l, int ldl, int n, double* b) {
    int i, k;
    if (!l || !b || ldl < n) return;
    for (i = n - 1; i >= 0; --i) {
        const double* r = l + (size_t)i * ldl;
        double x = b[i] / r[i];
        b[i] = x;
        for (k = 0; k < i; ++k) b[k] -= x * r[k]; /* axpy: vectorises without reassociation */
    }
}

/* M = L^{-T}: row j of M holds column j of L^{-1}. For i > j,
   M[j][i] = -sum_{k=j}^{i-1} L[i][k] M[j][k] / L[i][i]; rows of M are independent, so they
   are split across threads, 4 at a time, with 4 x 4 tiles for the long dot products. With rd
   (the reciprocals of the diagonal, the GP's hot path) the divisions become products: at these
   sizes a division costs as much as the 4 x 4 tile it finishes. */
BGPBT__PRIVATE void bgpbt__lower_inverse(const double* l, int ldl, int n, double* m, int ldm, const double* rd) {
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
                mr[i] = rd ? s * rd[i] : s / lr[i];
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
                    mr[i0 + b_] = rd ? s * rd[i0 + b_] : s / lr[i0 + b_];
                }
            }
        }
    }
}

BGPBT_API void bgpbt_linalg_lower_inverse(const double* l, int ldl, int n, double* m, int ldm) {
    if (!l || !m || n <= 0 || ldl < n || ldm < n) return;
    bgpbt__lower_inverse(l, ldl, n, m, ldm, NULL);
}

/* ============================================================================================
   [impl.sim] sim
   ============================================================================================ */

/* Model storage. Arrays are per part, indexed by id; dofs are in the order of their joints.
   The model is built in double-free float arithmetic except mass properties (double). */

#define BGPBT__SIM_MAX_PARTS 4096
#define BGPBT__SIM_BAD_LIMIT 1e4f
#define BGPBT__SIM_SPEC_BAND 0.01f /* speculative contact band (m) */
#define BGPBT__SIM_MAX_BIAS 1.0f   /* fastest push-out of a penetration or limit violation (m/s, rad/s) */
#define BGPBT__SIM_SLOP 5e-4f      /* contact penetration left alone (m): pushing out every last bit makes stacks jitter */

typedef struct bgpbt__sim_slot { /* one candidate contact point */
    int kind;   /* 0 plane-point (sphere, capsule end, box corner), 1 segment-segment, 2 box-point, 3 box-box */
    int ga, gb; /* geoms: A is the plane in kind 0; the normal points from A to B */
    int ba, bb; /* bodies */
    int sub;    /* capsule end (0/1), box corner (0..7) or box-box manifold point (0..3) */
    int dofs[4]; /* dof ranges [dofs[0], dofs[1]) and [dofs[2], dofs[3]): the kinematic trees of the
                    two bodies. M is block-diagonal by tree, so J and M^-1 J^T are exactly zero
                    outside them and the solver's dot products skip the rest (piles of free bodies) */
    float mu, rest, beta_tc; /* friction (0: frictionless), rest separation, solref timeconst */
} bgpbt__sim_slot;

struct bgpbt_sim_model {
    bgpbt_allocator alloc;
    bgpbt_logger log;
    bgpbt_sim_options opt;
    int nbody, njnt, ngeom, nsite, nu, nq, nv, nslot, nlim, nnum;
    /* bodies */
    int* body_parent; int* body_jntadr; int* body_jntnum; int* body_free; /* free: joint id or -1 */
    int* body_chainadr; int* body_chainnum; int* chain; /* dofs of the body and its ancestors */
    float* body_pos; float* body_quat; float* body_mass; float* body_com; float* body_inertia;
    /* joints */
    int* jnt_type; int* jnt_body; int* jnt_qposadr; int* jnt_dofadr; int* jnt_limited;
    float* jnt_pos; float* jnt_axis; float* jnt_range; float* jnt_damping; float* jnt_stiffness;
    float* jnt_springref; float* jnt_armature; float* jnt_ref; float* jnt_lmargin; float* jnt_ltc;
    /* dofs */
    int* dof_body; int* dof_jnt; int* dof_parent;
    int* dof_anc_adr; int* dof_anc_num; int* anc; /* the ancestors of each dof, nearest first */
    float* dof_armature; float* dof_damping; float* dof_stiffness;
    /* geoms */
    int* geom_type; int* geom_body; int* geom_contype; int* geom_conaff; int* geom_condim;
    float* geom_size; float* geom_pos; float* geom_quat; float* geom_mat; float* geom_friction;
    float* geom_margin; float* geom_gap; float* geom_tc; float* geom_rgba; float* geom_density; float* geom_mass;
    /* sites */
    int* site_body; float* site_pos;
    /* actuators */
    int* act_jnt; int* act_dof; int* act_limited; float* act_gear; float* act_range;
    /* limits: the joints with limited = 1 (hinge/slide) */
    int* lim_jnt;
    float* qpos0;
    bgpbt__sim_slot* slot;
    /* custom numerics */
    int* num_adr; int* num_len; float* num_data; int num_total;
    /* names: one pool, offsets per part (-1 = unnamed) */
    char* names; size_t names_len;
    int* name_body; int* name_jnt; int* name_geom; int* name_site; int* name_act; int* name_num;
    float total_mass;
    /* one allocation holds every array above */
    void* mem; size_t mem_size;
};

/* ---- small float helpers (model compile, per-env reads: scalar) --------------------------- */
BGPBT__PRIVATE void bgpbt__q_normalize(float q[4]) {
    double n = sqrt((double)q[0] * q[0] + (double)q[1] * q[1] + (double)q[2] * q[2] + (double)q[3] * q[3]);
    if (!(n > 1e-12)) { q[0] = 1; q[1] = q[2] = q[3] = 0; return; }
    q[0] = (float)(q[0] / n); q[1] = (float)(q[1] / n); q[2] = (float)(q[2] / n); q[3] = (float)(q[3] / n);
}
BGPBT__PRIVATE void bgpbt__q_mul(float r[4], const float a[4], const float b[4]) {
    float t[4];
    t[0] = a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3];
    t[1] = a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2];
    t[2] = a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1];
    t[3] = a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0];
    memcpy(r, t, sizeof t);
}
BGPBT__PRIVATE void bgpbt__q_to_mat(const float q[4], float m[9]) {
    float w = q[0], x = q[1], y = q[2], z = q[3];
    m[0] = 1 - 2 * (y * y + z * z); m[1] = 2 * (x * y - w * z); m[2] = 2 * (x * z + w * y);
    m[3] = 2 * (x * y + w * z); m[4] = 1 - 2 * (x * x + z * z); m[5] = 2 * (y * z - w * x);
    m[6] = 2 * (x * z - w * y); m[7] = 2 * (y * z + w * x); m[8] = 1 - 2 * (x * x + y * y);
}
BGPBT__PRIVATE void bgpbt__m3_mulv(float r[3], const float m[9], const float v[3]) {
    float t0 = m[0] * v[0] + m[1] * v[1] + m[2] * v[2];
    float t1 = m[3] * v[0] + m[4] * v[1] + m[5] * v[2];
    float t2 = m[6] * v[0] + m[7] * v[1] + m[8] * v[2];
    r[0] = t0; r[1] = t1; r[2] = t2;
}
BGPBT__PRIVATE void bgpbt__m3_tmulv(float r[3], const float m[9], const float v[3]) {
    float t0 = m[0] * v[0] + m[3] * v[1] + m[6] * v[2];
    float t1 = m[1] * v[0] + m[4] * v[1] + m[7] * v[2];
    float t2 = m[2] * v[0] + m[5] * v[1] + m[8] * v[2];
    r[0] = t0; r[1] = t1; r[2] = t2;
}
BGPBT__PRIVATE void bgpbt__q_from_axis_angle(float q[4], const float axis[3], double angle) {
    double n = sqrt((double)axis[0] * axis[0] + (double)axis[1] * axis[1] + (double)axis[2] * axis[2]);
    double s = n > 1e-12 ? sin(angle / 2) / n : 0.0;
    q[0] = (float)cos(angle / 2); q[1] = (float)(axis[0] * s); q[2] = (float)(axis[1] * s); q[3] = (float)(axis[2] * s);
    if (!(n > 1e-12)) { q[0] = 1; }
}
/* Shortest rotation taking (0,0,1) to the direction v (MuJoCo's zaxis/fromto convention). */
BGPBT__PRIVATE void bgpbt__q_from_zaxis(float q[4], const float v[3]) {
    double n = sqrt((double)v[0] * v[0] + (double)v[1] * v[1] + (double)v[2] * v[2]);
    double z[3], c, ax[3], an, ang;
    float axf[3];
    q[0] = 1; q[1] = q[2] = q[3] = 0;
    if (!(n > 1e-12)) return;
    z[0] = v[0] / n; z[1] = v[1] / n; z[2] = v[2] / n;
    c = z[2];
    ax[0] = -z[1]; ax[1] = z[0]; ax[2] = 0; /* (0,0,1) x z */
    an = sqrt(ax[0] * ax[0] + ax[1] * ax[1]);
    if (an < 1e-10) {
        if (c < 0) { q[0] = 0; q[1] = 1; q[2] = 0; q[3] = 0; }
        return;
    }
    ang = atan2(an, c);
    axf[0] = (float)ax[0]; axf[1] = (float)ax[1]; axf[2] = 0;
    bgpbt__q_from_axis_angle(q, axf, ang);
}

/* ---- builder --------------------------------------------------------------------------------- */

typedef struct bgpbt__sim_bbody { bgpbt_sim_body_desc d; int name; } bgpbt__sim_bbody;
typedef struct bgpbt__sim_bjnt { bgpbt_sim_joint_desc d; int name; } bgpbt__sim_bjnt;
typedef struct bgpbt__sim_bgeom { bgpbt_sim_geom_desc d; int name; } bgpbt__sim_bgeom;
typedef struct bgpbt__sim_bsite { int name; int body; float pos[3]; } bgpbt__sim_bsite;
typedef struct bgpbt__sim_bact { bgpbt_sim_actuator_desc d; int name; } bgpbt__sim_bact;
typedef struct bgpbt__sim_bpair { int a, b; float mu; int is_pair; } bgpbt__sim_bpair; /* exclude: bodies; pair: geoms */
typedef struct bgpbt__sim_bnum { int name; int adr, len; } bgpbt__sim_bnum;

struct bgpbt_sim_builder {
    bgpbt_allocator alloc;
    bgpbt_logger log;
    bgpbt_sim_options opt;
    bgpbt__sim_bbody* body; int nbody, cap_body;
    bgpbt__sim_bjnt* jnt; int njnt, cap_jnt;
    bgpbt__sim_bgeom* geom; int ngeom, cap_geom;
    bgpbt__sim_bsite* site; int nsite, cap_site;
    bgpbt__sim_bact* act; int nact, cap_act;
    bgpbt__sim_bpair* pair; int npair, cap_pair;
    bgpbt__sim_bnum* num; int nnum, cap_num;
    float* num_data; int num_total, cap_num_data;
    char* names; size_t names_len, names_cap;
    float total_mass_target; /* > 0: settotalmass */
};

BGPBT__PRIVATE int bgpbt__sim_grow(bgpbt_sim_builder* b, void** arr, int* cap, int need, size_t elem) {
    int nc;
    void* p;
    if (need <= *cap) return 1;
    if (need > BGPBT__SIM_MAX_PARTS * 16) return 0;
    nc = *cap ? *cap * 2 : 16;
    while (nc < need) nc *= 2;
    p = bgpbt__calloc(&b->alloc, (size_t)nc, elem);
    if (!p) return 0;
    if (*arr) {
        memcpy(p, *arr, (size_t)*cap * elem);
        bgpbt__cfree(&b->alloc, *arr, (size_t)*cap, elem);
    }
    *arr = p;
    *cap = nc;
    return 1;
}

/* Copy a name into the pool; returns its offset, -1 for none, -2 on allocation failure. */
BGPBT__PRIVATE int bgpbt__sim_name(bgpbt_sim_builder* b, const char* s) {
    size_t n, need;
    int off;
    if (!s || !*s) return -1;
    n = strlen(s);
    if (n > 1000) n = 1000;
    need = b->names_len + n + 1;
    if (need > b->names_cap) {
        size_t nc = b->names_cap ? b->names_cap * 2 : 256;
        char* p;
        while (nc < need) nc *= 2;
        p = (char*)bgpbt__calloc(&b->alloc, nc, 1);
        if (!p) return -2;
        if (b->names) {
            memcpy(p, b->names, b->names_len);
            bgpbt__cfree(&b->alloc, b->names, b->names_cap, 1);
        }
        b->names = p;
        b->names_cap = nc;
    }
    memcpy(b->names + b->names_len, s, n);
    b->names[b->names_len + n] = 0;
    off = (int)b->names_len;
    b->names_len = need;
    return off;
}

BGPBT__PRIVATE int bgpbt__sim_find_name(const char* pool, const int* offs, int n, const char* s) {
    int i;
    if (!s || !pool) return -1;
    for (i = 0; i < n; ++i)
        if (offs[i] >= 0 && strcmp(pool + offs[i], s) == 0) return i;
    return -1;
}

BGPBT_API bgpbt_sim_model_config bgpbt_sim_model_config_default(void) {
    bgpbt_sim_model_config c;
    memset(&c, 0, sizeof c);
    return c;
}
BGPBT_API bgpbt_sim_options bgpbt_sim_options_default(void) {
    bgpbt_sim_options o;
    memset(&o, 0, sizeof o);
    o.timestep = 0.002f;
    o.gravity[2] = -9.81f;
    o.iterations = 10;
    return o;
}
BGPBT_API bgpbt_sim_body_desc bgpbt_sim_body_desc_default(void) {
    bgpbt_sim_body_desc d;
    memset(&d, 0, sizeof d);
    d.quat[0] = 1;
    return d;
}
BGPBT_API bgpbt_sim_joint_desc bgpbt_sim_joint_desc_default(void) {
    bgpbt_sim_joint_desc d;
    memset(&d, 0, sizeof d);
    d.body = 1;
    d.type = BGPBT_SIM_JOINT_HINGE;
    d.axis[2] = 1;
    d.limit_timeconst = 0.02f;
    return d;
}
BGPBT_API bgpbt_sim_geom_desc bgpbt_sim_geom_desc_default(void) {
    bgpbt_sim_geom_desc d;
    memset(&d, 0, sizeof d);
    d.body = 1;
    d.type = BGPBT_SIM_GEOM_SPHERE;
    d.size[0] = 0.1f;
    d.quat[0] = 1;
    d.density = 1000;
    d.friction = 1;
    d.contype = d.conaffinity = 1;
    d.condim = 3;
    d.timeconst = 0.02f;
    d.rgba[0] = d.rgba[1] = d.rgba[2] = 0.5f;
    d.rgba[3] = 1;
    return d;
}
BGPBT_API bgpbt_sim_actuator_desc bgpbt_sim_actuator_desc_default(void) {
    bgpbt_sim_actuator_desc d;
    memset(&d, 0, sizeof d);
    d.gear = 1;
    d.ctrllimited = 1;
    d.ctrlrange[0] = -1;
    d.ctrlrange[1] = 1;
    return d;
}

BGPBT__PRIVATE int bgpbt__finite_n(const float* x, int n) {
    int i;
    for (i = 0; i < n; ++i)
        if (!(x[i] - x[i] == 0.0f)) return 0;
    return 1;
}

BGPBT_API bgpbt_result bgpbt_sim_builder_create(const bgpbt_sim_model_config* config, bgpbt_sim_builder** out) {
    bgpbt_sim_model_config c = config ? *config : bgpbt_sim_model_config_default();
    bgpbt_sim_builder* b;
    bgpbt_sim_body_desc world = bgpbt_sim_body_desc_default();
    if (!out) return bgpbt__error(&c.logger, BGPBT_ERR_INVALID_ARGUMENT, "bgpbt_sim_builder_create: out is NULL");
    *out = NULL;
    b = (bgpbt_sim_builder*)bgpbt__calloc(&c.allocator, 1, sizeof *b);
    if (!b) return bgpbt__error(&c.logger, BGPBT_ERR_OUT_OF_MEMORY, "sim builder: out of memory");
    b->alloc = c.allocator;
    b->log = c.logger;
    b->opt = bgpbt_sim_options_default();
    world.parent = -1;
    if (!bgpbt__sim_grow(b, (void**)&b->body, &b->cap_body, 1, sizeof *b->body)) {
        bgpbt_sim_builder_destroy(b);
        return bgpbt__error(&c.logger, BGPBT_ERR_OUT_OF_MEMORY, "sim builder: out of memory");
    }
    b->body[0].d = world;
    b->body[0].name = bgpbt__sim_name(b, "world");
    if (b->body[0].name < 0) {
        bgpbt_sim_builder_destroy(b);
        return bgpbt__error(&c.logger, BGPBT_ERR_OUT_OF_MEMORY, "sim builder: out of memory");
    }
    b->nbody = 1;
    *out = b;
    return BGPBT_OK;
}

BGPBT_API void bgpbt_sim_builder_destroy(bgpbt_sim_builder* b) {
    bgpbt_allocator a;
    if (!b) return;
    a = b->alloc;
    bgpbt__cfree(&a, b->body, (size_t)b->cap_body, sizeof *b->body);
    bgpbt__cfree(&a, b->jnt, (size_t)b->cap_jnt, sizeof *b->jnt);
    bgpbt__cfree(&a, b->geom, (size_t)b->cap_geom, sizeof *b->geom);
    bgpbt__cfree(&a, b->site, (size_t)b->cap_site, sizeof *b->site);
    bgpbt__cfree(&a, b->act, (size_t)b->cap_act, sizeof *b->act);
    bgpbt__cfree(&a, b->pair, (size_t)b->cap_pair, sizeof *b->pair);
    bgpbt__cfree(&a, b->num, (size_t)b->cap_num, sizeof *b->num);
    bgpbt__cfree(&a, b->num_data, (size_t)b->cap_num_data, sizeof(float));
    bgpbt__cfree(&a, b->names, b->names_cap, 1);
    bgpbt__cfree(&a, b, 1, sizeof *b);
}

BGPBT_API bgpbt_result bgpbt_sim_builder_set_options(bgpbt_sim_builder* b, const bgpbt_sim_options* opt) {
    if (!b) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!opt) return bgpbt__error(&b->log, BGPBT_ERR_INVALID_ARGUMENT, "sim options: NULL");
    if (!(opt->timestep > 0 && opt->timestep <= 1) || !bgpbt__finite_n(opt->gravity, 3))
        return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_RANGE, "sim options: timestep %g must be in (0, 1] and gravity finite",
                            (double)opt->timestep);
    b->opt = *opt;
    if (b->opt.iterations <= 0) b->opt.iterations = 10;
    return BGPBT_OK;
}

#define BGPBT__SIM_ADD(arr, n, cap)                                                               \
    if (!bgpbt__sim_grow(b, (void**)&b->arr, &b->cap, b->n + 1, sizeof *b->arr))                  \
        return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_MEMORY, "sim builder: out of memory")

BGPBT_API bgpbt_result bgpbt_sim_builder_add_body(bgpbt_sim_builder* b, const bgpbt_sim_body_desc* d, int* id) {
    int nm;
    if (!b) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!d) return bgpbt__error(&b->log, BGPBT_ERR_INVALID_ARGUMENT, "sim builder: the description is NULL");
    if (d->parent < 0 || d->parent >= b->nbody)
        return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_RANGE, "sim body '%s': parent %d does not exist", d->name ? d->name : "", d->parent);
    if (b->nbody >= BGPBT__SIM_MAX_PARTS) return bgpbt__error(&b->log, BGPBT_ERR_LIMIT, "sim: too many bodies (max %d)", BGPBT__SIM_MAX_PARTS);
    if (!bgpbt__finite_n(d->pos, 3) || !bgpbt__finite_n(d->quat, 4) || !bgpbt__finite_n(d->com, 3) ||
        !bgpbt__finite_n(d->inertia, 6) || !(d->mass >= 0 && d->mass < 1e9f))
        return bgpbt__error(&b->log, BGPBT_ERR_NOT_FINITE, "sim body '%s': non-finite or negative pose or mass", d->name ? d->name : "");
    if (d->mass > 0 && (!(d->inertia[0] > 0 && d->inertia[1] > 0 && d->inertia[2] > 0) ||
                        d->inertia[0] + d->inertia[1] < d->inertia[2] * 0.999f || d->inertia[1] + d->inertia[2] < d->inertia[0] * 0.999f ||
                        d->inertia[0] + d->inertia[2] < d->inertia[1] * 0.999f))
        return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_RANGE, "sim body '%s': inertia must be positive and satisfy the triangle inequality",
                            d->name ? d->name : "");
    if (d->name) {
        int i;
        for (i = 0; i < b->nbody; ++i)
            if (b->body[i].name >= 0 && strcmp(b->names + b->body[i].name, d->name) == 0)
                return bgpbt__error(&b->log, BGPBT_ERR_INVALID_ARGUMENT, "sim: repeated body name '%s'", d->name);
    }
    BGPBT__SIM_ADD(body, nbody, cap_body);
    nm = bgpbt__sim_name(b, d->name);
    if (nm == -2) return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_MEMORY, "sim builder: out of memory");
    b->body[b->nbody].d = *d;
    b->body[b->nbody].d.name = NULL;
    b->body[b->nbody].name = nm;
    bgpbt__q_normalize(b->body[b->nbody].d.quat);
    if (id) *id = b->nbody;
    b->nbody++;
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_sim_builder_add_joint(bgpbt_sim_builder* b, const bgpbt_sim_joint_desc* d, int* id) {
    int nm, i;
    const char* name;
    if (!b) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!d) return bgpbt__error(&b->log, BGPBT_ERR_INVALID_ARGUMENT, "sim builder: the description is NULL");
    name = d->name ? d->name : "";
    if (d->body <= 0 || d->body >= b->nbody)
        return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_RANGE, "sim joint '%s': body %d does not exist (or is the world)", name, d->body);
    if (b->njnt > 0 && b->jnt[b->njnt - 1].d.body > d->body)
        return bgpbt__error(&b->log, BGPBT_ERR_WRONG_ORDER, "sim joint '%s': joints must be added in body order", name);
    if (d->type != BGPBT_SIM_JOINT_FREE && d->type != BGPBT_SIM_JOINT_BALL && d->type != BGPBT_SIM_JOINT_SLIDE &&
        d->type != BGPBT_SIM_JOINT_HINGE)
        return bgpbt__error(&b->log, BGPBT_ERR_INVALID_ARGUMENT, "sim joint '%s': unknown type %d", name, (int)d->type);
    if (!bgpbt__finite_n(d->pos, 3) || !bgpbt__finite_n(d->axis, 3) || !bgpbt__finite_n(d->range, 2) ||
        !bgpbt__finite_n(&d->damping, 1) || !bgpbt__finite_n(&d->stiffness, 1) || !bgpbt__finite_n(&d->springref, 1) ||
        !bgpbt__finite_n(&d->armature, 1) || !bgpbt__finite_n(&d->ref, 1) || !bgpbt__finite_n(&d->limit_margin, 1) ||
        !bgpbt__finite_n(&d->limit_timeconst, 1))
        return bgpbt__error(&b->log, BGPBT_ERR_NOT_FINITE, "sim joint '%s': non-finite value", name);
    if (d->damping < 0 || d->stiffness < 0 || d->armature < 0)
        return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_RANGE, "sim joint '%s': damping, stiffness and armature must be >= 0", name);
    if (d->limited && d->range[0] >= d->range[1])
        return bgpbt__error(&b->log, BGPBT_ERR_EMPTY_RANGE, "sim joint '%s': empty range [%g, %g]", name, (double)d->range[0], (double)d->range[1]);
    if (d->limited && (d->type == BGPBT_SIM_JOINT_BALL || d->type == BGPBT_SIM_JOINT_FREE))
        return bgpbt__error(&b->log, BGPBT_ERR_UNSUPPORTED, "sim joint '%s': limits on ball/free joints are not supported", name);
    if (d->stiffness > 0 && (d->type == BGPBT_SIM_JOINT_BALL || d->type == BGPBT_SIM_JOINT_FREE))
        return bgpbt__error(&b->log, BGPBT_ERR_UNSUPPORTED, "sim joint '%s': stiffness on ball/free joints is not supported", name);
    if ((d->type == BGPBT_SIM_JOINT_HINGE || d->type == BGPBT_SIM_JOINT_SLIDE) &&
        !(fabsf(d->axis[0]) + fabsf(d->axis[1]) + fabsf(d->axis[2]) > 1e-9f))
        return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_RANGE, "sim joint '%s': zero axis", name);
    for (i = 0; i < b->njnt; ++i) {
        if (b->jnt[i].d.body != d->body) continue;
        if (d->type == BGPBT_SIM_JOINT_FREE || d->type == BGPBT_SIM_JOINT_BALL || b->jnt[i].d.type == BGPBT_SIM_JOINT_FREE ||
            b->jnt[i].d.type == BGPBT_SIM_JOINT_BALL)
            return bgpbt__error(&b->log, BGPBT_ERR_UNSUPPORTED, "sim joint '%s': a ball or free joint must be the only joint of its body", name);
    }
    if (d->type == BGPBT_SIM_JOINT_FREE && b->body[d->body].d.parent != 0)
        return bgpbt__error(&b->log, BGPBT_ERR_UNSUPPORTED, "sim joint '%s': a free joint must be on a child of the world", name);
    if (d->name)
        for (i = 0; i < b->njnt; ++i)
            if (b->jnt[i].name >= 0 && strcmp(b->names + b->jnt[i].name, d->name) == 0)
                return bgpbt__error(&b->log, BGPBT_ERR_INVALID_ARGUMENT, "sim: repeated joint name '%s'", d->name);
    if (b->njnt >= BGPBT__SIM_MAX_PARTS) return bgpbt__error(&b->log, BGPBT_ERR_LIMIT, "sim: too many joints");
    BGPBT__SIM_ADD(jnt, njnt, cap_jnt);
    nm = bgpbt__sim_name(b, d->name);
    if (nm == -2) return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_MEMORY, "sim builder: out of memory");
    b->jnt[b->njnt].d = *d;
    b->jnt[b->njnt].d.name = NULL;
    b->jnt[b->njnt].name = nm;
    if (b->jnt[b->njnt].d.limit_timeconst <= 0) b->jnt[b->njnt].d.limit_timeconst = 0.02f;
    {
        float* ax = b->jnt[b->njnt].d.axis;
        double n = sqrt((double)ax[0] * ax[0] + (double)ax[1] * ax[1] + (double)ax[2] * ax[2]);
        if (n > 1e-12) { ax[0] = (float)(ax[0] / n); ax[1] = (float)(ax[1] / n); ax[2] = (float)(ax[2] / n); }
        else { ax[0] = 0; ax[1] = 0; ax[2] = 1; }
    }
    if (id) *id = b->njnt;
    b->njnt++;
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_sim_builder_add_geom(bgpbt_sim_builder* b, const bgpbt_sim_geom_desc* d, int* id) {
    int nm, i;
    const char* name;
    if (!b) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!d) return bgpbt__error(&b->log, BGPBT_ERR_INVALID_ARGUMENT, "sim builder: the description is NULL");
    name = d->name ? d->name : "";
    if (d->body < 0 || d->body >= b->nbody)
        return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_RANGE, "sim geom '%s': body %d does not exist", name, d->body);
    if (d->type != BGPBT_SIM_GEOM_PLANE && d->type != BGPBT_SIM_GEOM_SPHERE && d->type != BGPBT_SIM_GEOM_CAPSULE &&
        d->type != BGPBT_SIM_GEOM_BOX)
        return bgpbt__error(&b->log, BGPBT_ERR_UNSUPPORTED, "sim geom '%s': unsupported type %d", name, (int)d->type);
    if (!bgpbt__finite_n(d->size, 3) || !bgpbt__finite_n(d->pos, 3) || !bgpbt__finite_n(d->quat, 4) ||
        !bgpbt__finite_n(&d->density, 1) || !bgpbt__finite_n(&d->mass, 1) || !bgpbt__finite_n(&d->friction, 1) ||
        !bgpbt__finite_n(&d->margin, 1) || !bgpbt__finite_n(&d->gap, 1) || !bgpbt__finite_n(&d->timeconst, 1))
        return bgpbt__error(&b->log, BGPBT_ERR_NOT_FINITE, "sim geom '%s': non-finite value", name);
    if ((d->type == BGPBT_SIM_GEOM_SPHERE && !(d->size[0] > 0)) ||
        (d->type == BGPBT_SIM_GEOM_CAPSULE && !(d->size[0] > 0 && d->size[1] >= 0)) ||
        (d->type == BGPBT_SIM_GEOM_BOX && !(d->size[0] > 0 && d->size[1] > 0 && d->size[2] > 0)) ||
        d->size[0] > 1e6f || d->size[1] > 1e6f || d->size[2] > 1e6f)
        return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_RANGE, "sim geom '%s': bad size (%g %g %g)", name, (double)d->size[0],
                            (double)d->size[1], (double)d->size[2]);
    if (d->density < 0 || d->mass < 0 || d->friction < 0 || d->margin < 0 || d->gap < 0 || d->timeconst < 0)
        return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_RANGE, "sim geom '%s': density, mass, friction, margin, gap, timeconst must be >= 0", name);
    if (d->name)
        for (i = 0; i < b->ngeom; ++i)
            if (b->geom[i].name >= 0 && strcmp(b->names + b->geom[i].name, d->name) == 0)
                return bgpbt__error(&b->log, BGPBT_ERR_INVALID_ARGUMENT, "sim: repeated geom name '%s'", d->name);
    if (b->ngeom >= BGPBT__SIM_MAX_PARTS) return bgpbt__error(&b->log, BGPBT_ERR_LIMIT, "sim: too many geoms");
    BGPBT__SIM_ADD(geom, ngeom, cap_geom);
    nm = bgpbt__sim_name(b, d->name);
    if (nm == -2) return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_MEMORY, "sim builder: out of memory");
    b->geom[b->ngeom].d = *d;
    b->geom[b->ngeom].d.name = NULL;
    b->geom[b->ngeom].name = nm;
    if (b->geom[b->ngeom].d.timeconst <= 0) b->geom[b->ngeom].d.timeconst = 0.02f;
    bgpbt__q_normalize(b->geom[b->ngeom].d.quat);
    if (id) *id = b->ngeom;
    b->ngeom++;
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_sim_builder_add_site(bgpbt_sim_builder* b, const char* name, int body, const float pos[3], int* id) {
    int nm;
    float zero[3] = {0, 0, 0};
    if (!b) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!pos) pos = zero;
    if (body < 0 || body >= b->nbody)
        return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_RANGE, "sim site '%s': body %d does not exist", name ? name : "", body);
    if (!bgpbt__finite_n(pos, 3)) return bgpbt__error(&b->log, BGPBT_ERR_NOT_FINITE, "sim site '%s': non-finite pos", name ? name : "");
    if (b->nsite >= BGPBT__SIM_MAX_PARTS) return bgpbt__error(&b->log, BGPBT_ERR_LIMIT, "sim: too many sites");
    BGPBT__SIM_ADD(site, nsite, cap_site);
    nm = bgpbt__sim_name(b, name);
    if (nm == -2) return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_MEMORY, "sim builder: out of memory");
    b->site[b->nsite].name = nm;
    b->site[b->nsite].body = body;
    memcpy(b->site[b->nsite].pos, pos, 3 * sizeof(float));
    if (id) *id = b->nsite;
    b->nsite++;
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_sim_builder_add_actuator(bgpbt_sim_builder* b, const bgpbt_sim_actuator_desc* d, int* id) {
    int nm;
    const char* name;
    if (!b) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!d) return bgpbt__error(&b->log, BGPBT_ERR_INVALID_ARGUMENT, "sim builder: the description is NULL");
    name = d->name ? d->name : "";
    if (d->joint < 0 || d->joint >= b->njnt)
        return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_RANGE, "sim actuator '%s': joint %d does not exist", name, d->joint);
    if (b->jnt[d->joint].d.type != BGPBT_SIM_JOINT_HINGE && b->jnt[d->joint].d.type != BGPBT_SIM_JOINT_SLIDE)
        return bgpbt__error(&b->log, BGPBT_ERR_UNSUPPORTED, "sim actuator '%s': only hinge and slide joints can be actuated", name);
    if (!bgpbt__finite_n(&d->gear, 1) || !bgpbt__finite_n(d->ctrlrange, 2))
        return bgpbt__error(&b->log, BGPBT_ERR_NOT_FINITE, "sim actuator '%s': non-finite value", name);
    if (d->ctrllimited && d->ctrlrange[0] >= d->ctrlrange[1])
        return bgpbt__error(&b->log, BGPBT_ERR_EMPTY_RANGE, "sim actuator '%s': empty ctrlrange [%g, %g]", name, (double)d->ctrlrange[0],
                            (double)d->ctrlrange[1]);
    if (b->nact >= BGPBT__SIM_MAX_PARTS) return bgpbt__error(&b->log, BGPBT_ERR_LIMIT, "sim: too many actuators");
    BGPBT__SIM_ADD(act, nact, cap_act);
    nm = bgpbt__sim_name(b, d->name);
    if (nm == -2) return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_MEMORY, "sim builder: out of memory");
    b->act[b->nact].d = *d;
    b->act[b->nact].d.name = NULL;
    b->act[b->nact].name = nm;
    if (id) *id = b->nact;
    b->nact++;
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_sim_builder_exclude(bgpbt_sim_builder* b, int body1, int body2) {
    if (!b) return BGPBT_ERR_INVALID_ARGUMENT;
    if (body1 < 0 || body1 >= b->nbody || body2 < 0 || body2 >= b->nbody)
        return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_RANGE, "sim exclude: body %d or %d does not exist", body1, body2);
    if (b->npair >= BGPBT__SIM_MAX_PARTS * 4) return bgpbt__error(&b->log, BGPBT_ERR_LIMIT, "sim: too many excludes/pairs");
    BGPBT__SIM_ADD(pair, npair, cap_pair);
    b->pair[b->npair].a = body1;
    b->pair[b->npair].b = body2;
    b->pair[b->npair].is_pair = 0;
    b->npair++;
    return BGPBT_OK;
}

/* An explicit geom pair (MJCF <contact><pair>); mu < 0: the geoms' own mixing. */
BGPBT__PRIVATE bgpbt_result bgpbt__sim_builder_pair(bgpbt_sim_builder* b, int g1, int g2, float mu) {
    if (g1 < 0 || g1 >= b->ngeom || g2 < 0 || g2 >= b->ngeom || g1 == g2)
        return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_RANGE, "sim pair: bad geoms %d, %d", g1, g2);
    if (b->npair >= BGPBT__SIM_MAX_PARTS * 4) return bgpbt__error(&b->log, BGPBT_ERR_LIMIT, "sim: too many excludes/pairs");
    BGPBT__SIM_ADD(pair, npair, cap_pair);
    b->pair[b->npair].a = g1;
    b->pair[b->npair].b = g2;
    b->pair[b->npair].mu = mu;
    b->pair[b->npair].is_pair = 1;
    b->npair++;
    return BGPBT_OK;
}

BGPBT__PRIVATE bgpbt_result bgpbt__sim_builder_numeric(bgpbt_sim_builder* b, const char* name, const float* data, int n) {
    int nm;
    if (n < 0 || n > 1 << 20) return bgpbt__error(&b->log, BGPBT_ERR_LIMIT, "sim numeric '%s': too many values", name ? name : "");
    if (!bgpbt__sim_grow(b, (void**)&b->num_data, &b->cap_num_data, b->num_total + n + 1, sizeof(float)))
        return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_MEMORY, "sim builder: out of memory");
    BGPBT__SIM_ADD(num, nnum, cap_num);
    nm = bgpbt__sim_name(b, name);
    if (nm == -2) return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_MEMORY, "sim builder: out of memory");
    if (n) memcpy(b->num_data + b->num_total, data, (size_t)n * sizeof(float));
    b->num[b->nnum].name = nm;
    b->num[b->nnum].adr = b->num_total;
    b->num[b->nnum].len = n;
    b->num_total += n;
    b->nnum++;
    return BGPBT_OK;
}

/* ---- compile ------------------------------------------------------------------------------- */

/* Mass and inertia (about the com, in the geom frame, diagonal) of a geom. */
BGPBT__PRIVATE double bgpbt__sim_geom_massprops(const bgpbt_sim_geom_desc* g, double I[3]) {
    const double pi = 3.14159265358979323846;
    double r = g->size[0], vol = 0, m, rho;
    I[0] = I[1] = I[2] = 0;
    switch (g->type) {
    case BGPBT_SIM_GEOM_SPHERE: vol = 4.0 / 3.0 * pi * r * r * r; break;
    case BGPBT_SIM_GEOM_CAPSULE: vol = pi * r * r * (2.0 * g->size[1]) + 4.0 / 3.0 * pi * r * r * r; break;
    case BGPBT_SIM_GEOM_BOX: vol = 8.0 * g->size[0] * g->size[1] * g->size[2]; break;
    default: return 0;
    }
    rho = g->mass > 0 ? g->mass / vol : g->density;
    m = rho * vol;
    switch (g->type) {
    case BGPBT_SIM_GEOM_SPHERE: I[0] = I[1] = I[2] = 0.4 * m * r * r; break;
    case BGPBT_SIM_GEOM_CAPSULE: {
        double h = 2.0 * g->size[1], ms = rho * 4.0 / 3.0 * pi * r * r * r, mc = rho * pi * r * r * h;
        I[0] = I[1] = mc * (3 * r * r + h * h) / 12.0 + ms * (0.4 * r * r + 0.25 * h * h + 0.375 * h * r);
        I[2] = mc * r * r / 2.0 + ms * 0.4 * r * r;
        break;
    }
    case BGPBT_SIM_GEOM_BOX: {
        double a = g->size[0], bb = g->size[1], c = g->size[2];
        I[0] = m / 3.0 * (bb * bb + c * c); I[1] = m / 3.0 * (a * a + c * c); I[2] = m / 3.0 * (a * a + bb * bb);
        break;
    }
    default: break;
    }
    return m;
}

/* A pair's contact points (kind, count) or 0 when the pair is not collided. */
BGPBT__PRIVATE int bgpbt__sim_pair_points(int ta, int tb, int* kind) {
    if (ta == BGPBT_SIM_GEOM_PLANE && tb == BGPBT_SIM_GEOM_PLANE) return 0;
    if (ta == BGPBT_SIM_GEOM_PLANE) {
        *kind = 0;
        return tb == BGPBT_SIM_GEOM_SPHERE ? 1 : tb == BGPBT_SIM_GEOM_CAPSULE ? 2 : 8;
    }
    if ((ta == BGPBT_SIM_GEOM_SPHERE || ta == BGPBT_SIM_GEOM_CAPSULE) && (tb == BGPBT_SIM_GEOM_SPHERE || tb == BGPBT_SIM_GEOM_CAPSULE)) {
        *kind = 1;
        return 1;
    }
    if (ta == BGPBT_SIM_GEOM_BOX && (tb == BGPBT_SIM_GEOM_SPHERE || tb == BGPBT_SIM_GEOM_CAPSULE)) {
        *kind = 2; /* sphere: its centre; capsule: both ends and the axis point nearest the box centre */
        return tb == BGPBT_SIM_GEOM_SPHERE ? 1 : 3;
    }
    if (ta == BGPBT_SIM_GEOM_BOX && tb == BGPBT_SIM_GEOM_BOX) {
        *kind = 3; /* a clipped face reduced to one point per quadrant */
        return 4;
    }
    return 0;
}

/* Bump allocation over one block: pass 1 (base NULL) only counts. */
BGPBT__PRIVATE void* bgpbt__sim_carve(unsigned char* base, size_t* used, size_t count, size_t elem) {
    size_t at = (*used + 63) & ~(size_t)63;
    *used = at + count * elem;
    return base ? (void*)(base + at) : NULL;
}

/* Is the geom pair (i, j) a candidate by MuJoCo's rules? */
BGPBT__PRIVATE int bgpbt__sim_filter(const bgpbt_sim_builder* b, const int* body_has_dof, int i, int j) {
    const bgpbt_sim_geom_desc* gi = &b->geom[i].d;
    const bgpbt_sim_geom_desc* gj = &b->geom[j].d;
    int bi = gi->body, bj = gj->body, k, pi, pj;
    if (bi == bj) return 0;
    if (!body_has_dof[bi] && !body_has_dof[bj]) return 0; /* both welded to the world */
    if (!((gi->contype & gj->conaffinity) || (gj->contype & gi->conaffinity))) return 0;
    pi = b->body[bi].d.parent;
    pj = b->body[bj].d.parent;
    if ((pi == bj && bj != 0) || (pj == bi && bi != 0)) return 0;
    for (k = 0; k < b->npair; ++k)
        if (!b->pair[k].is_pair && ((b->pair[k].a == bi && b->pair[k].b == bj) || (b->pair[k].a == bj && b->pair[k].b == bi))) return 0;
    return 1;
}

BGPBT__PRIVATE void bgpbt__sim_fill_slot(const bgpbt_sim_builder* b, bgpbt__sim_slot* s, int ga, int gb, int kind, int sub, float mu_pair) {
    const bgpbt_sim_geom_desc* a = &b->geom[ga].d;
    const bgpbt_sim_geom_desc* c = &b->geom[gb].d;
    float mu = mu_pair >= 0 ? mu_pair : (a->friction > c->friction ? a->friction : c->friction);
    float margin = a->margin > c->margin ? a->margin : c->margin;
    float gap = a->gap > c->gap ? a->gap : c->gap;
    int condim = a->condim > c->condim ? a->condim : c->condim;
    s->kind = kind;
    s->ga = ga;
    s->gb = gb;
    s->ba = a->body;
    s->bb = c->body;
    s->sub = sub;
    s->mu = condim <= 1 ? 0.0f : mu;
    s->rest = margin - gap;
    s->beta_tc = 0.5f * (a->timeconst + c->timeconst);
}

/* The root of a body's kinematic tree (the ancestor whose parent is the world; 0 for the world). */
BGPBT__PRIVATE int bgpbt__sim_tree_root(const bgpbt_sim_model* m, int b) {
    while (b > 0 && m->body_parent[b] > 0) b = m->body_parent[b];
    return b;
}

/* A slot's dof ranges: the span of each body's tree (empty for the world), merged when they touch. */
BGPBT__PRIVATE void bgpbt__sim_slot_dofs(const bgpbt_sim_model* m, bgpbt__sim_slot* s) {
    int lo[2], hi[2], t, d;
    for (t = 0; t < 2; ++t) {
        int root = bgpbt__sim_tree_root(m, t ? s->bb : s->ba);
        lo[t] = hi[t] = 0;
        if (root == 0) continue;
        lo[t] = m->nv;
        for (d = 0; d < m->nv; ++d)
            if (bgpbt__sim_tree_root(m, m->dof_body[d]) == root) {
                if (d < lo[t]) lo[t] = d;
                if (d + 1 > hi[t]) hi[t] = d + 1;
            }
        if (hi[t] == 0) lo[t] = 0;
    }
    if (hi[0] == lo[0]) { lo[0] = lo[1]; hi[0] = hi[1]; lo[1] = hi[1] = 0; }
    if (lo[1] < lo[0] && hi[1] > lo[1]) { t = lo[0]; lo[0] = lo[1]; lo[1] = t; t = hi[0]; hi[0] = hi[1]; hi[1] = t; }
    if (hi[1] > lo[1] && lo[1] <= hi[0]) { /* overlapping or adjacent spans: one range */
        hi[0] = hi[1] > hi[0] ? hi[1] : hi[0];
        lo[1] = hi[1] = 0;
    }
    s->dofs[0] = lo[0]; s->dofs[1] = hi[0]; s->dofs[2] = lo[1]; s->dofs[3] = hi[1];
}

/* Enumerate contact slots; fills `out` when not NULL. Returns the count. */
BGPBT__PRIVATE int bgpbt__sim_slots(const bgpbt_sim_builder* b, const int* body_has_dof, bgpbt__sim_slot* out, int warn) {
    int n = 0, i, j, k, kind = 0, np;
    for (i = 0; i < b->ngeom; ++i) {
        for (j = i + 1; j < b->ngeom; ++j) {
            int ga = i, gb = j;
            if (!bgpbt__sim_filter(b, body_has_dof, i, j)) continue;
            if (b->geom[j].d.type == BGPBT_SIM_GEOM_PLANE || (b->geom[j].d.type == BGPBT_SIM_GEOM_BOX && b->geom[i].d.type != BGPBT_SIM_GEOM_PLANE)) { ga = j; gb = i; }
            np = bgpbt__sim_pair_points(b->geom[ga].d.type, b->geom[gb].d.type, &kind);
            if (np && kind == 0 && body_has_dof[b->geom[ga].d.body]) np = 0; /* moving plane */
            if (!np) {
                if (warn)
                    bgpbt__log(&b->log, BGPBT_LOG_WARN, "sim: geoms %d and %d (types %d, %d) are a candidate pair but this pair type is not collided",
                               ga, gb, (int)b->geom[ga].d.type, (int)b->geom[gb].d.type);
                continue;
            }
            for (k = 0; k < np; ++k, ++n)
                if (out) bgpbt__sim_fill_slot(b, &out[n], ga, gb, kind, k, -1.0f);
        }
    }
    for (k = 0; k < b->npair; ++k) {
        int ga, gb, q;
        if (!b->pair[k].is_pair) continue;
        ga = b->pair[k].a;
        gb = b->pair[k].b;
        if (b->geom[gb].d.type == BGPBT_SIM_GEOM_PLANE || (b->geom[gb].d.type == BGPBT_SIM_GEOM_BOX && b->geom[ga].d.type != BGPBT_SIM_GEOM_PLANE)) { int t = ga; ga = gb; gb = t; }
        np = bgpbt__sim_pair_points(b->geom[ga].d.type, b->geom[gb].d.type, &kind);
        if (np && kind == 0 && body_has_dof[b->geom[ga].d.body]) np = 0;
        if (!np) {
            if (warn) bgpbt__log(&b->log, BGPBT_LOG_WARN, "sim: explicit pair of geoms %d and %d has a type combination that is not collided", ga, gb);
            continue;
        }
        for (q = 0; q < np; ++q, ++n)
            if (out) bgpbt__sim_fill_slot(b, &out[n], ga, gb, kind, q, b->pair[k].mu);
    }
    return n;
}

BGPBT_API bgpbt_result bgpbt_sim_builder_finish(bgpbt_sim_builder* b, bgpbt_sim_model** out) {
    bgpbt_sim_model tmp, *m;
    unsigned char* base = NULL;
    size_t used = 0;
    int pass, i, j, k, nq = 0, nv = 0, nlim = 0, nslot, nchain = 0;
    int* has_dof = NULL;
    if (!b) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!out) return bgpbt__error(&b->log, BGPBT_ERR_INVALID_ARGUMENT, "sim builder finish: out is NULL");
    *out = NULL;
    /* sizes */
    for (j = 0; j < b->njnt; ++j) {
        int t = b->jnt[j].d.type;
        nq += t == BGPBT_SIM_JOINT_FREE ? 7 : t == BGPBT_SIM_JOINT_BALL ? 4 : 1;
        nv += t == BGPBT_SIM_JOINT_FREE ? 6 : t == BGPBT_SIM_JOINT_BALL ? 3 : 1;
        if (b->jnt[j].d.limited && (t == BGPBT_SIM_JOINT_HINGE || t == BGPBT_SIM_JOINT_SLIDE)) nlim++;
    }
    has_dof = (int*)bgpbt__calloc(&b->alloc, (size_t)b->nbody, sizeof(int));
    if (!has_dof) return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_MEMORY, "sim: out of memory");
    for (j = 0; j < b->njnt; ++j) has_dof[b->jnt[j].d.body] = 1;
    for (i = 1; i < b->nbody; ++i) /* a body moves when it or an ancestor has a dof (parents come first) */
        if (has_dof[b->body[i].d.parent]) has_dof[i] = 1;
    /* chain lengths: dofs of the body and its ancestors */
    for (i = 0; i < b->nbody; ++i) {
        int p = i;
        while (p > 0) {
            for (j = 0; j < b->njnt; ++j)
                if (b->jnt[j].d.body == p) {
                    int t = b->jnt[j].d.type;
                    nchain += t == BGPBT_SIM_JOINT_FREE ? 6 : t == BGPBT_SIM_JOINT_BALL ? 3 : 1;
                }
            p = b->body[p].d.parent;
        }
    }
    nslot = bgpbt__sim_slots(b, has_dof, NULL, 1);

    for (pass = 0; pass < 2; ++pass) {
        bgpbt_sim_model* mm = pass ? (bgpbt_sim_model*)base : &tmp;
        int nb = b->nbody, nj = b->njnt, ng = b->ngeom, ns = b->nsite, na = b->nact;
        if (!pass) memset(&tmp, 0, sizeof tmp);
        used = 0;
        (void)bgpbt__sim_carve(base, &used, 1, sizeof(bgpbt_sim_model));
#define BGPBT__C(field, n, T) mm->field = (T*)bgpbt__sim_carve(base, &used, (size_t)((n) > 0 ? (n) : 1), sizeof(T))
        BGPBT__C(body_parent, nb, int); BGPBT__C(body_jntadr, nb, int); BGPBT__C(body_jntnum, nb, int); BGPBT__C(body_free, nb, int);
        BGPBT__C(body_chainadr, nb, int); BGPBT__C(body_chainnum, nb, int); BGPBT__C(chain, nchain, int);
        BGPBT__C(body_pos, 3 * nb, float); BGPBT__C(body_quat, 4 * nb, float); BGPBT__C(body_mass, nb, float);
        BGPBT__C(body_com, 3 * nb, float); BGPBT__C(body_inertia, 6 * nb, float);
        BGPBT__C(jnt_type, nj, int); BGPBT__C(jnt_body, nj, int); BGPBT__C(jnt_qposadr, nj, int); BGPBT__C(jnt_dofadr, nj, int);
        BGPBT__C(jnt_limited, nj, int); BGPBT__C(jnt_pos, 3 * nj, float); BGPBT__C(jnt_axis, 3 * nj, float);
        BGPBT__C(jnt_range, 2 * nj, float); BGPBT__C(jnt_damping, nj, float); BGPBT__C(jnt_stiffness, nj, float);
        BGPBT__C(jnt_springref, nj, float); BGPBT__C(jnt_armature, nj, float); BGPBT__C(jnt_ref, nj, float);
        BGPBT__C(jnt_lmargin, nj, float); BGPBT__C(jnt_ltc, nj, float);
        BGPBT__C(dof_body, nv, int); BGPBT__C(dof_jnt, nv, int); BGPBT__C(dof_parent, nv, int);
        BGPBT__C(dof_armature, nv, float); BGPBT__C(dof_damping, nv, float); BGPBT__C(dof_stiffness, nv, float);
        BGPBT__C(dof_anc_adr, nv, int); BGPBT__C(dof_anc_num, nv, int); BGPBT__C(anc, (size_t)nv * (size_t)(nv + 1) / 2, int);
        BGPBT__C(geom_type, ng, int); BGPBT__C(geom_body, ng, int); BGPBT__C(geom_contype, ng, int); BGPBT__C(geom_conaff, ng, int);
        BGPBT__C(geom_condim, ng, int); BGPBT__C(geom_size, 3 * ng, float); BGPBT__C(geom_pos, 3 * ng, float);
        BGPBT__C(geom_quat, 4 * ng, float); BGPBT__C(geom_mat, 9 * ng, float); BGPBT__C(geom_friction, ng, float);
        BGPBT__C(geom_margin, ng, float); BGPBT__C(geom_gap, ng, float); BGPBT__C(geom_tc, ng, float);
        BGPBT__C(geom_rgba, 4 * ng, float); BGPBT__C(geom_density, ng, float); BGPBT__C(geom_mass, ng, float);
        BGPBT__C(site_body, ns, int); BGPBT__C(site_pos, 3 * ns, float);
        BGPBT__C(act_jnt, na, int); BGPBT__C(act_dof, na, int); BGPBT__C(act_limited, na, int); BGPBT__C(act_gear, na, float);
        BGPBT__C(act_range, 2 * na, float);
        BGPBT__C(lim_jnt, nlim, int); BGPBT__C(qpos0, nq, float); BGPBT__C(slot, nslot, bgpbt__sim_slot);
        BGPBT__C(num_adr, b->nnum, int); BGPBT__C(num_len, b->nnum, int); BGPBT__C(num_data, b->num_total, float);
        BGPBT__C(names, b->names_len + 1, char);
        BGPBT__C(name_body, nb, int); BGPBT__C(name_jnt, nj, int); BGPBT__C(name_geom, ng, int); BGPBT__C(name_site, ns, int);
        BGPBT__C(name_act, na, int); BGPBT__C(name_num, b->nnum, int);
#undef BGPBT__C
        if (!pass) {
            base = (unsigned char*)bgpbt__calloc(&b->alloc, used, 1);
            if (!base) {
                bgpbt__cfree(&b->alloc, has_dof, (size_t)b->nbody, sizeof(int));
                return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_MEMORY, "sim: out of memory for the model");
            }
        }
    }
    m = (bgpbt_sim_model*)base;
    m->mem = base;
    m->mem_size = used;
    m->alloc = b->alloc;
    m->log = b->log;
    m->opt = b->opt;
    if (m->opt.iterations < 4) m->opt.iterations = 4;
    if (m->opt.iterations > 30) m->opt.iterations = 30;
    m->nbody = b->nbody; m->njnt = b->njnt; m->ngeom = b->ngeom; m->nsite = b->nsite; m->nu = b->nact;
    m->nq = nq; m->nv = nv; m->nslot = nslot; m->nlim = nlim; m->nnum = b->nnum; m->num_total = b->num_total;
    if (b->names_len) memcpy(m->names, b->names, b->names_len);
    m->names_len = b->names_len;
    /* bodies */
    for (i = 0; i < b->nbody; ++i) {
        const bgpbt_sim_body_desc* d = &b->body[i].d;
        m->name_body[i] = b->body[i].name;
        m->body_parent[i] = i ? d->parent : -1;
        memcpy(m->body_pos + 3 * i, d->pos, 3 * sizeof(float));
        memcpy(m->body_quat + 4 * i, d->quat, 4 * sizeof(float));
        m->body_free[i] = -1;
        m->body_jntadr[i] = -1;
        if (i == 0) continue;
        if (d->mass > 0) {
            m->body_mass[i] = d->mass;
            memcpy(m->body_com + 3 * i, d->com, 3 * sizeof(float));
            memcpy(m->body_inertia + 6 * i, d->inertia, 6 * sizeof(float));
        } else { /* from geoms: sum of their masses, parallel-axis theorem about the combined com */
            double M = 0, c[3] = {0, 0, 0}, I[6] = {0, 0, 0, 0, 0, 0};
            for (k = 0; k < b->ngeom; ++k) {
                const bgpbt_sim_geom_desc* g = &b->geom[k].d;
                double Ig[3], mg;
                if (g->body != i) continue;
                mg = bgpbt__sim_geom_massprops(g, Ig);
                M += mg;
                c[0] += mg * g->pos[0]; c[1] += mg * g->pos[1]; c[2] += mg * g->pos[2];
            }
            if (M > 0) {
                c[0] /= M; c[1] /= M; c[2] /= M;
                for (k = 0; k < b->ngeom; ++k) {
                    const bgpbt_sim_geom_desc* g = &b->geom[k].d;
                    double Ig[3], mg, R[9], d3[3];
                    float Rf[9];
                    int r, s;
                    if (g->body != i) continue;
                    mg = bgpbt__sim_geom_massprops(g, Ig);
                    bgpbt__q_to_mat(g->quat, Rf);
                    for (r = 0; r < 9; ++r) R[r] = Rf[r];
                    d3[0] = g->pos[0] - c[0]; d3[1] = g->pos[1] - c[1]; d3[2] = g->pos[2] - c[2];
                    /* R diag(Ig) R^T + mg (|d|^2 E - d d^T); I = xx yy zz xy xz yz */
                    {
                        static const int ir[6] = {0, 1, 2, 0, 0, 1}, ic[6] = {0, 1, 2, 1, 2, 2};
                        double dd = d3[0] * d3[0] + d3[1] * d3[1] + d3[2] * d3[2];
                        for (s = 0; s < 6; ++s) {
                            double v = 0;
                            for (r = 0; r < 3; ++r) v += R[3 * ir[s] + r] * Ig[r] * R[3 * ic[s] + r];
                            v += mg * ((ir[s] == ic[s] ? dd : 0.0) - d3[ir[s]] * d3[ic[s]]);
                            I[s] += v;
                        }
                    }
                }
            }
            m->body_mass[i] = (float)M;
            for (k = 0; k < 3; ++k) m->body_com[3 * i + k] = (float)c[k];
            for (k = 0; k < 6; ++k) m->body_inertia[6 * i + k] = (float)I[k];
        }
    }
    if (b->total_mass_target > 0) {
        double tot = 0, s;
        for (i = 1; i < b->nbody; ++i) tot += m->body_mass[i];
        if (tot > 0) {
            s = b->total_mass_target / tot;
            for (i = 1; i < b->nbody; ++i) {
                m->body_mass[i] = (float)(m->body_mass[i] * s);
                for (k = 0; k < 6; ++k) m->body_inertia[6 * i + k] = (float)(m->body_inertia[6 * i + k] * s);
            }
        }
    }
    m->total_mass = 0;
    for (i = 1; i < b->nbody; ++i) m->total_mass += m->body_mass[i];
    /* joints and dofs (joints are in body order, so parents' dofs come first) */
    nq = nv = nlim = 0;
    for (j = 0; j < b->njnt; ++j) {
        const bgpbt_sim_joint_desc* d = &b->jnt[j].d;
        int t = d->type, nd = t == BGPBT_SIM_JOINT_FREE ? 6 : t == BGPBT_SIM_JOINT_BALL ? 3 : 1, bi = d->body;
        m->name_jnt[j] = b->jnt[j].name;
        m->jnt_type[j] = t;
        m->jnt_body[j] = bi;
        m->jnt_qposadr[j] = nq;
        m->jnt_dofadr[j] = nv;
        m->jnt_limited[j] = d->limited && (t == BGPBT_SIM_JOINT_HINGE || t == BGPBT_SIM_JOINT_SLIDE);
        memcpy(m->jnt_pos + 3 * j, d->pos, 3 * sizeof(float));
        memcpy(m->jnt_axis + 3 * j, d->axis, 3 * sizeof(float));
        memcpy(m->jnt_range + 2 * j, d->range, 2 * sizeof(float));
        m->jnt_damping[j] = d->damping; m->jnt_stiffness[j] = d->stiffness; m->jnt_springref[j] = d->springref;
        m->jnt_armature[j] = d->armature; m->jnt_ref[j] = d->ref; m->jnt_lmargin[j] = d->limit_margin; m->jnt_ltc[j] = d->limit_timeconst;
        if (m->jnt_limited[j]) m->lim_jnt[nlim++] = j;
        if (m->body_jntadr[bi] < 0) m->body_jntadr[bi] = j;
        m->body_jntnum[bi]++;
        if (t == BGPBT_SIM_JOINT_FREE) {
            m->body_free[bi] = j;
            memcpy(m->qpos0 + nq, m->body_pos + 3 * bi, 3 * sizeof(float));
            memcpy(m->qpos0 + nq + 3, m->body_quat + 4 * bi, 4 * sizeof(float));
        } else if (t == BGPBT_SIM_JOINT_BALL) {
            m->qpos0[nq] = 1;
        } else {
            m->qpos0[nq] = d->ref;
        }
        for (k = 0; k < nd; ++k) {
            int dof = nv + k, p;
            m->dof_body[dof] = bi;
            m->dof_jnt[dof] = j;
            m->dof_armature[dof] = d->armature;
            m->dof_damping[dof] = d->damping;
            m->dof_stiffness[dof] = (t == BGPBT_SIM_JOINT_HINGE || t == BGPBT_SIM_JOINT_SLIDE) ? d->stiffness : 0.0f;
            if (dof > 0 && m->dof_body[dof - 1] == bi) {
                m->dof_parent[dof] = dof - 1;
            } else { /* last dof of the nearest ancestor that has one */
                m->dof_parent[dof] = -1;
                for (p = b->body[bi].d.parent; p > 0; p = b->body[p].d.parent) {
                    int q, last = -1;
                    for (q = dof - 1; q >= 0; --q)
                        if (m->dof_body[q] == p) { last = q; break; }
                    if (last >= 0) { m->dof_parent[dof] = last; break; }
                }
            }
        }
        nq += t == BGPBT_SIM_JOINT_FREE ? 7 : t == BGPBT_SIM_JOINT_BALL ? 4 : 1;
        nv += nd;
    }
    { /* ancestor lists (at most nv (nv - 1) / 2 entries in all) */
        int na = 0;
        for (k = 0; k < nv; ++k) {
            int a;
            m->dof_anc_adr[k] = na;
            for (a = m->dof_parent[k]; a >= 0; a = m->dof_parent[a]) m->anc[na++] = a;
            m->dof_anc_num[k] = na - m->dof_anc_adr[k];
        }
    }
    /* chains */
    nchain = 0;
    for (i = 0; i < b->nbody; ++i) {
        int d;
        m->body_chainadr[i] = nchain;
        for (d = 0; d < nv; ++d) { /* ascending dof order: d is in the chain when its body is an ancestor-or-self */
            int p = i;
            while (p > 0 && p != m->dof_body[d]) p = m->body_parent[p];
            if (p > 0) m->chain[nchain++] = d;
        }
        m->body_chainnum[i] = nchain - m->body_chainadr[i];
    }
    /* geoms */
    for (k = 0; k < b->ngeom; ++k) {
        const bgpbt_sim_geom_desc* g = &b->geom[k].d;
        m->name_geom[k] = b->geom[k].name;
        m->geom_type[k] = g->type; m->geom_body[k] = g->body; m->geom_contype[k] = g->contype; m->geom_conaff[k] = g->conaffinity;
        m->geom_condim[k] = g->condim;
        memcpy(m->geom_size + 3 * k, g->size, 3 * sizeof(float));
        memcpy(m->geom_pos + 3 * k, g->pos, 3 * sizeof(float));
        memcpy(m->geom_quat + 4 * k, g->quat, 4 * sizeof(float));
        bgpbt__q_to_mat(g->quat, m->geom_mat + 9 * k);
        m->geom_friction[k] = g->friction; m->geom_margin[k] = g->margin; m->geom_gap[k] = g->gap; m->geom_tc[k] = g->timeconst;
        memcpy(m->geom_rgba + 4 * k, g->rgba, 4 * sizeof(float));
        m->geom_density[k] = g->density; m->geom_mass[k] = g->mass;
    }
    for (k = 0; k < b->nsite; ++k) {
        m->name_site[k] = b->site[k].name;
        m->site_body[k] = b->site[k].body;
        memcpy(m->site_pos + 3 * k, b->site[k].pos, 3 * sizeof(float));
    }
    for (k = 0; k < b->nact; ++k) {
        const bgpbt_sim_actuator_desc* d = &b->act[k].d;
        m->name_act[k] = b->act[k].name;
        m->act_jnt[k] = d->joint;
        m->act_dof[k] = m->jnt_dofadr[d->joint];
        m->act_limited[k] = d->ctrllimited;
        m->act_gear[k] = d->gear;
        memcpy(m->act_range + 2 * k, d->ctrlrange, 2 * sizeof(float));
    }
    for (k = 0; k < b->nnum; ++k) {
        m->name_num[k] = b->num[k].name;
        m->num_adr[k] = b->num[k].adr;
        m->num_len[k] = b->num[k].len;
    }
    if (b->num_total) memcpy(m->num_data, b->num_data, (size_t)b->num_total * sizeof(float));
    (void)bgpbt__sim_slots(b, has_dof, m->slot, 0);
    bgpbt__cfree(&b->alloc, has_dof, (size_t)b->nbody, sizeof(int));
    for (k = 0; k < nslot; ++k) bgpbt__sim_slot_dofs(m, &m->slot[k]);
    /* a moving body needs mass, or its dofs need armature: otherwise M is singular */
    for (k = 0; k < nv; ++k) {
        int bi = m->dof_body[k], p, massive = 0;
        for (p = 1; p < m->nbody && !massive; ++p) { /* any body in the subtree of bi with mass */
            int q = p;
            while (q > 0 && q != bi) q = m->body_parent[q];
            if (q == bi && m->body_mass[p] > 0) massive = 1;
        }
        if (!massive && !(m->dof_armature[k] > 0)) {
            bgpbt_sim_model_destroy(m);
            return bgpbt__error(&b->log, BGPBT_ERR_OUT_OF_RANGE, "sim: body %d has a joint but no mass below it (and no armature)", bi);
        }
    }
    *out = m;
    return BGPBT_OK;
}

BGPBT_API void bgpbt_sim_model_destroy(bgpbt_sim_model* m) {
    if (!m) return;
    {
        bgpbt_allocator a = m->alloc;
        bgpbt__cfree(&a, m->mem, m->mem_size, 1);
    }
}

/* ---- model queries ----------------------------------------------------------------------------- */
BGPBT_API bgpbt_sim_sizes bgpbt_sim_model_sizes(const bgpbt_sim_model* m) {
    bgpbt_sim_sizes s;
    memset(&s, 0, sizeof s);
    if (!m) return s;
    s.nq = m->nq; s.nv = m->nv; s.nu = m->nu; s.nbody = m->nbody; s.njoint = m->njnt; s.ngeom = m->ngeom;
    s.nsite = m->nsite; s.ncontact = m->nslot;
    return s;
}
BGPBT_API bgpbt_sim_options bgpbt_sim_model_options(const bgpbt_sim_model* m) {
    return m ? m->opt : bgpbt_sim_options_default();
}
BGPBT_API int bgpbt_sim_model_body_id(const bgpbt_sim_model* m, const char* name) {
    return m ? bgpbt__sim_find_name(m->names, m->name_body, m->nbody, name) : -1;
}
BGPBT_API int bgpbt_sim_model_joint_id(const bgpbt_sim_model* m, const char* name) {
    return m ? bgpbt__sim_find_name(m->names, m->name_jnt, m->njnt, name) : -1;
}
BGPBT_API int bgpbt_sim_model_geom_id(const bgpbt_sim_model* m, const char* name) {
    return m ? bgpbt__sim_find_name(m->names, m->name_geom, m->ngeom, name) : -1;
}
BGPBT_API int bgpbt_sim_model_site_id(const bgpbt_sim_model* m, const char* name) {
    return m ? bgpbt__sim_find_name(m->names, m->name_site, m->nsite, name) : -1;
}
BGPBT_API int bgpbt_sim_model_actuator_id(const bgpbt_sim_model* m, const char* name) {
    return m ? bgpbt__sim_find_name(m->names, m->name_act, m->nu, name) : -1;
}
BGPBT_API const char* bgpbt_sim_model_body_name(const bgpbt_sim_model* m, int id) {
    if (!m || id < 0 || id >= m->nbody) return NULL;
    return m->name_body[id] >= 0 ? m->names + m->name_body[id] : "";
}
BGPBT_API const char* bgpbt_sim_model_joint_name(const bgpbt_sim_model* m, int id) {
    if (!m || id < 0 || id >= m->njnt) return NULL;
    return m->name_jnt[id] >= 0 ? m->names + m->name_jnt[id] : "";
}
BGPBT_API bgpbt_result bgpbt_sim_model_body(const bgpbt_sim_model* m, int id, bgpbt_sim_body_desc* d) {
    if (!m || !d) return BGPBT_ERR_INVALID_ARGUMENT;
    if (id < 0 || id >= m->nbody) return BGPBT_ERR_OUT_OF_RANGE;
    *d = bgpbt_sim_body_desc_default();
    d->name = bgpbt_sim_model_body_name(m, id);
    d->parent = m->body_parent[id];
    memcpy(d->pos, m->body_pos + 3 * id, 3 * sizeof(float));
    memcpy(d->quat, m->body_quat + 4 * id, 4 * sizeof(float));
    d->mass = m->body_mass[id];
    memcpy(d->com, m->body_com + 3 * id, 3 * sizeof(float));
    memcpy(d->inertia, m->body_inertia + 6 * id, 6 * sizeof(float));
    return BGPBT_OK;
}
BGPBT_API bgpbt_result bgpbt_sim_model_joint(const bgpbt_sim_model* m, int id, bgpbt_sim_joint_desc* d) {
    if (!m || !d) return BGPBT_ERR_INVALID_ARGUMENT;
    if (id < 0 || id >= m->njnt) return BGPBT_ERR_OUT_OF_RANGE;
    *d = bgpbt_sim_joint_desc_default();
    d->name = bgpbt_sim_model_joint_name(m, id);
    d->body = m->jnt_body[id];
    d->type = (bgpbt_sim_joint_type)m->jnt_type[id];
    memcpy(d->pos, m->jnt_pos + 3 * id, 3 * sizeof(float));
    memcpy(d->axis, m->jnt_axis + 3 * id, 3 * sizeof(float));
    d->limited = m->jnt_limited[id];
    memcpy(d->range, m->jnt_range + 2 * id, 2 * sizeof(float));
    d->damping = m->jnt_damping[id]; d->stiffness = m->jnt_stiffness[id]; d->springref = m->jnt_springref[id];
    d->armature = m->jnt_armature[id]; d->ref = m->jnt_ref[id]; d->limit_margin = m->jnt_lmargin[id];
    d->limit_timeconst = m->jnt_ltc[id];
    return BGPBT_OK;
}
BGPBT_API bgpbt_result bgpbt_sim_model_geom(const bgpbt_sim_model* m, int id, bgpbt_sim_geom_desc* d) {
    if (!m || !d) return BGPBT_ERR_INVALID_ARGUMENT;
    if (id < 0 || id >= m->ngeom) return BGPBT_ERR_OUT_OF_RANGE;
    *d = bgpbt_sim_geom_desc_default();
    d->name = m->name_geom[id] >= 0 ? m->names + m->name_geom[id] : "";
    d->body = m->geom_body[id];
    d->type = (bgpbt_sim_geom_type)m->geom_type[id];
    memcpy(d->size, m->geom_size + 3 * id, 3 * sizeof(float));
    memcpy(d->pos, m->geom_pos + 3 * id, 3 * sizeof(float));
    memcpy(d->quat, m->geom_quat + 4 * id, 4 * sizeof(float));
    d->density = m->geom_density[id]; d->mass = m->geom_mass[id]; d->friction = m->geom_friction[id];
    d->contype = m->geom_contype[id]; d->conaffinity = m->geom_conaff[id]; d->condim = m->geom_condim[id];
    d->margin = m->geom_margin[id]; d->gap = m->geom_gap[id]; d->timeconst = m->geom_tc[id];
    memcpy(d->rgba, m->geom_rgba + 4 * id, 4 * sizeof(float));
    return BGPBT_OK;
}
BGPBT_API bgpbt_result bgpbt_sim_model_actuator(const bgpbt_sim_model* m, int id, bgpbt_sim_actuator_desc* d) {
    if (!m || !d) return BGPBT_ERR_INVALID_ARGUMENT;
    if (id < 0 || id >= m->nu) return BGPBT_ERR_OUT_OF_RANGE;
    *d = bgpbt_sim_actuator_desc_default();
    d->name = m->name_act[id] >= 0 ? m->names + m->name_act[id] : "";
    d->joint = m->act_jnt[id];
    d->gear = m->act_gear[id];
    d->ctrllimited = m->act_limited[id];
    memcpy(d->ctrlrange, m->act_range + 2 * id, 2 * sizeof(float));
    return BGPBT_OK;
}
BGPBT_API int bgpbt_sim_model_joint_qpos_adr(const bgpbt_sim_model* m, int j) {
    return (m && j >= 0 && j < m->njnt) ? m->jnt_qposadr[j] : -1;
}
BGPBT_API int bgpbt_sim_model_joint_dof_adr(const bgpbt_sim_model* m, int j) {
    return (m && j >= 0 && j < m->njnt) ? m->jnt_dofadr[j] : -1;
}
BGPBT_API float bgpbt_sim_model_total_mass(const bgpbt_sim_model* m) { return m ? m->total_mass : 0.0f; }
BGPBT_API const float* bgpbt_sim_model_qpos0(const bgpbt_sim_model* m) { return m ? m->qpos0 : NULL; }
BGPBT_API int bgpbt_sim_model_numeric(const bgpbt_sim_model* m, const char* name, float* out, int cap) {
    int k = m ? bgpbt__sim_find_name(m->names, m->name_num, m->nnum, name) : -1, n;
    if (k < 0) return -1;
    n = m->num_len[k];
    if (out && cap > 0) memcpy(out, m->num_data + m->num_adr[k], (size_t)(n < cap ? n : cap) * sizeof(float));
    return n;
}

/* ---- the batch: structure of arrays, SIMD lanes are environments ------------------------------
   The state of BGPBT_FW_WIDTH envs (a block) is one contiguous array of bgpbt_fw; field f of
   env e lives in lane e % W of vector (block e / W, offset f). Every kernel below is written
   once on bgpbt_fw (width 1 = the scalar path) and never mixes lanes, so an env's result does
   not depend on its neighbours, on the thread that ran it, or on the batch size. */

struct bgpbt_sim {
    const bgpbt_sim_model* m;
    bgpbt_allocator alloc;
    bgpbt_logger log;
    int num_envs, frame_skip, nblock, nscratch;
    size_t stride, scr_stride; /* in bgpbt_fw */
    /* block offsets */
    size_t o_qpos, o_qvel, o_ctrl, o_lam, o_laml, o_xpos, o_xquat, o_xmat, o_xipos, o_cdof, o_ref, o_cfrc, o_ncon;
    /* scratch offsets */
    size_t s_cinert, s_cvel, s_cdofdot, s_cacc, s_f, s_M, s_dinv, s_qfrc, s_v, s_jan, s_jax, s_gpos, s_gmat, s_rows, s_lrows;
    int* act_slot; /* per thread: active slot list (nslot) and limit list (nlim) */
    bgpbt_fw* data;
    bgpbt_fw* scratch;
    int* flagged;
    long* warn;
};

typedef struct bgpbt__v3 { bgpbt_fw x, y, z; } bgpbt__v3;
#define BGPBT__K(c) bgpbt_fw_set1(c)
BGPBT__INLINE bgpbt__v3 bgpbt__v3_ld(const bgpbt_fw* p) { bgpbt__v3 r; r.x = p[0]; r.y = p[1]; r.z = p[2]; return r; }
BGPBT__INLINE void bgpbt__v3_st(bgpbt_fw* p, bgpbt__v3 v) { p[0] = v.x; p[1] = v.y; p[2] = v.z; }
BGPBT__INLINE bgpbt__v3 bgpbt__v3_k(const float* c) { bgpbt__v3 r; r.x = BGPBT__K(c[0]); r.y = BGPBT__K(c[1]); r.z = BGPBT__K(c[2]); return r; }
BGPBT__INLINE bgpbt__v3 bgpbt__v3_add(bgpbt__v3 a, bgpbt__v3 b) {
    bgpbt__v3 r; r.x = bgpbt_fw_add(a.x, b.x); r.y = bgpbt_fw_add(a.y, b.y); r.z = bgpbt_fw_add(a.z, b.z); return r;
}
BGPBT__INLINE bgpbt__v3 bgpbt__v3_sub(bgpbt__v3 a, bgpbt__v3 b) {
    bgpbt__v3 r; r.x = bgpbt_fw_sub(a.x, b.x); r.y = bgpbt_fw_sub(a.y, b.y); r.z = bgpbt_fw_sub(a.z, b.z); return r;
}
BGPBT__INLINE bgpbt__v3 bgpbt__v3_scl(bgpbt__v3 a, bgpbt_fw s) {
    bgpbt__v3 r; r.x = bgpbt_fw_mul(a.x, s); r.y = bgpbt_fw_mul(a.y, s); r.z = bgpbt_fw_mul(a.z, s); return r;
}
BGPBT__INLINE bgpbt__v3 bgpbt__v3_mad(bgpbt__v3 a, bgpbt_fw s, bgpbt__v3 c) { /* a*s + c */
    bgpbt__v3 r; r.x = bgpbt_fw_muladd(a.x, s, c.x); r.y = bgpbt_fw_muladd(a.y, s, c.y); r.z = bgpbt_fw_muladd(a.z, s, c.z); return r;
}
BGPBT__INLINE bgpbt_fw bgpbt__v3_dot(bgpbt__v3 a, bgpbt__v3 b) {
    return bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(a.x, b.x), bgpbt_fw_mul(a.y, b.y)), bgpbt_fw_mul(a.z, b.z));
}
BGPBT__INLINE bgpbt__v3 bgpbt__v3_cross(bgpbt__v3 a, bgpbt__v3 b) {
    bgpbt__v3 r;
    r.x = bgpbt_fw_sub(bgpbt_fw_mul(a.y, b.z), bgpbt_fw_mul(a.z, b.y));
    r.y = bgpbt_fw_sub(bgpbt_fw_mul(a.z, b.x), bgpbt_fw_mul(a.x, b.z));
    r.z = bgpbt_fw_sub(bgpbt_fw_mul(a.x, b.y), bgpbt_fw_mul(a.y, b.x));
    return r;
}
BGPBT__INLINE bgpbt__v3 bgpbt__v3_blend(bgpbt_fm msk, bgpbt__v3 a, bgpbt__v3 b) {
    bgpbt__v3 r; r.x = bgpbt_fw_blend(msk, a.x, b.x); r.y = bgpbt_fw_blend(msk, a.y, b.y); r.z = bgpbt_fw_blend(msk, a.z, b.z); return r;
}
BGPBT__INLINE bgpbt__v3 bgpbt__m3_mul(const bgpbt_fw* R, bgpbt__v3 v) {
    bgpbt__v3 r;
    r.x = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(R[0], v.x), bgpbt_fw_mul(R[1], v.y)), bgpbt_fw_mul(R[2], v.z));
    r.y = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(R[3], v.x), bgpbt_fw_mul(R[4], v.y)), bgpbt_fw_mul(R[5], v.z));
    r.z = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(R[6], v.x), bgpbt_fw_mul(R[7], v.y)), bgpbt_fw_mul(R[8], v.z));
    return r;
}
BGPBT__INLINE bgpbt__v3 bgpbt__m3_col(const bgpbt_fw* R, int k) { bgpbt__v3 r; r.x = R[k]; r.y = R[3 + k]; r.z = R[6 + k]; return r; }
/* r = a * b for quaternions (w x y z); r may alias a or b */
BGPBT__INLINE void bgpbt__qw_mul(bgpbt_fw* r, const bgpbt_fw* a, const bgpbt_fw* b) {
    bgpbt_fw t0, t1, t2, t3;
    t0 = bgpbt_fw_sub(bgpbt_fw_sub(bgpbt_fw_mul(a[0], b[0]), bgpbt_fw_mul(a[1], b[1])), bgpbt_fw_add(bgpbt_fw_mul(a[2], b[2]), bgpbt_fw_mul(a[3], b[3])));
    t1 = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(a[0], b[1]), bgpbt_fw_mul(a[1], b[0])), bgpbt_fw_sub(bgpbt_fw_mul(a[2], b[3]), bgpbt_fw_mul(a[3], b[2])));
    t2 = bgpbt_fw_add(bgpbt_fw_sub(bgpbt_fw_mul(a[0], b[2]), bgpbt_fw_mul(a[1], b[3])), bgpbt_fw_add(bgpbt_fw_mul(a[2], b[0]), bgpbt_fw_mul(a[3], b[1])));
    t3 = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(a[0], b[3]), bgpbt_fw_mul(a[1], b[2])), bgpbt_fw_sub(bgpbt_fw_mul(a[3], b[0]), bgpbt_fw_mul(a[2], b[1])));
    r[0] = t0; r[1] = t1; r[2] = t2; r[3] = t3;
}
BGPBT__INLINE void bgpbt__qw_normalize(bgpbt_fw* q) {
    bgpbt_fw n2 = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(q[0], q[0]), bgpbt_fw_mul(q[1], q[1])), bgpbt_fw_add(bgpbt_fw_mul(q[2], q[2]), bgpbt_fw_mul(q[3], q[3])));
    bgpbt_fm tiny = bgpbt_fw_lt(n2, BGPBT__K(1e-20f));
    bgpbt_fw inv = bgpbt_fw_div(BGPBT__K(1.0f), bgpbt_fw_sqrt(bgpbt_fw_max(n2, BGPBT__K(1e-20f))));
    q[0] = bgpbt_fw_blend(tiny, bgpbt_fw_mul(q[0], inv), BGPBT__K(1.0f));
    q[1] = bgpbt_fw_blend(tiny, bgpbt_fw_mul(q[1], inv), bgpbt_fw_zero());
    q[2] = bgpbt_fw_blend(tiny, bgpbt_fw_mul(q[2], inv), bgpbt_fw_zero());
    q[3] = bgpbt_fw_blend(tiny, bgpbt_fw_mul(q[3], inv), bgpbt_fw_zero());
}
BGPBT__INLINE void bgpbt__qw_to_mat(const bgpbt_fw* q, bgpbt_fw* R) {
    bgpbt_fw two = BGPBT__K(2.0f), one = BGPBT__K(1.0f);
    bgpbt_fw xx = bgpbt_fw_mul(q[1], q[1]), yy = bgpbt_fw_mul(q[2], q[2]), zz = bgpbt_fw_mul(q[3], q[3]);
    bgpbt_fw xy = bgpbt_fw_mul(q[1], q[2]), xz = bgpbt_fw_mul(q[1], q[3]), yz = bgpbt_fw_mul(q[2], q[3]);
    bgpbt_fw wx = bgpbt_fw_mul(q[0], q[1]), wy = bgpbt_fw_mul(q[0], q[2]), wz = bgpbt_fw_mul(q[0], q[3]);
    R[0] = bgpbt_fw_sub(one, bgpbt_fw_mul(two, bgpbt_fw_add(yy, zz)));
    R[1] = bgpbt_fw_mul(two, bgpbt_fw_sub(xy, wz));
    R[2] = bgpbt_fw_mul(two, bgpbt_fw_add(xz, wy));
    R[3] = bgpbt_fw_mul(two, bgpbt_fw_add(xy, wz));
    R[4] = bgpbt_fw_sub(one, bgpbt_fw_mul(two, bgpbt_fw_add(xx, zz)));
    R[5] = bgpbt_fw_mul(two, bgpbt_fw_sub(yz, wx));
    R[6] = bgpbt_fw_mul(two, bgpbt_fw_sub(xz, wy));
    R[7] = bgpbt_fw_mul(two, bgpbt_fw_add(yz, wx));
    R[8] = bgpbt_fw_sub(one, bgpbt_fw_mul(two, bgpbt_fw_add(xx, yy)));
}
/* rotate v by unit quaternion q: v + 2w (u x v) + 2 u x (u x v) */
BGPBT__INLINE bgpbt__v3 bgpbt__qw_rot(const bgpbt_fw* q, bgpbt__v3 v) {
    bgpbt__v3 u, t;
    u.x = q[1]; u.y = q[2]; u.z = q[3];
    t = bgpbt__v3_scl(bgpbt__v3_cross(u, v), BGPBT__K(2.0f));
    return bgpbt__v3_add(bgpbt__v3_add(v, bgpbt__v3_scl(t, q[0])), bgpbt__v3_cross(u, t));
}
/* sin and cos of any x: x = k 2pi + t with a two-part 2pi, then the [-pi, pi] kernel. */
BGPBT__INLINE void bgpbt__fw_sincos(bgpbt_fw x, bgpbt_fw* s, bgpbt_fw* c) {
    bgpbt_fw k = bgpbt__fw_round(bgpbt_fw_mul(bgpbt_fw_clamp(x, BGPBT__K(-1e6f), BGPBT__K(1e6f)), BGPBT__K(0.15915494309189535f)));
    bgpbt_fw t = bgpbt_fw_sub(x, bgpbt_fw_mul(k, BGPBT__K(6.28125f)));
    t = bgpbt_fw_sub(t, bgpbt_fw_mul(k, BGPBT__K(1.9353071795864769e-3f)));
    t = bgpbt_fw_clamp(t, BGPBT__K(-3.14159265f), BGPBT__K(3.14159265f));
    bgpbt__fw_sincos_pi(t, s, c);
}

#define BGPBT__B(off) (blk + sim->off)
#define BGPBT__SC(off) (scr + sim->off)

/* Forward kinematics of one block: body poses, com positions, joint anchors/axes, cdof. */
BGPBT__PRIVATE void bgpbt__sim_kinematics(const bgpbt_sim* sim, bgpbt_fw* blk, bgpbt_fw* scr) {
    const bgpbt_sim_model* m = sim->m;
    bgpbt_fw* qpos = BGPBT__B(o_qpos);
    bgpbt_fw* xpos = BGPBT__B(o_xpos);
    bgpbt_fw* xquat = BGPBT__B(o_xquat);
    bgpbt_fw* xmat = BGPBT__B(o_xmat);
    bgpbt_fw* xipos = BGPBT__B(o_xipos);
    bgpbt_fw* cdof = BGPBT__B(o_cdof);
    bgpbt_fw* jan = BGPBT__SC(s_jan);
    bgpbt_fw* jax = BGPBT__SC(s_jax);
    bgpbt__v3 ref;
    int b, j, k;
    xpos[0] = xpos[1] = xpos[2] = bgpbt_fw_zero();
    xquat[0] = BGPBT__K(1.0f);
    xquat[1] = xquat[2] = xquat[3] = bgpbt_fw_zero();
    for (k = 0; k < 9; ++k) xmat[k] = BGPBT__K((k % 4) == 0 ? 1.0f : 0.0f);
    for (b = 1; b < m->nbody; ++b) {
        int p = m->body_parent[b];
        bgpbt__v3 pos;
        bgpbt_fw* q = xquat + 4 * b;
        if (m->body_free[b] >= 0) {
            int a = m->jnt_qposadr[m->body_free[b]];
            j = m->body_free[b];
            pos = bgpbt__v3_ld(qpos + a);
            q[0] = qpos[a + 3]; q[1] = qpos[a + 4]; q[2] = qpos[a + 5]; q[3] = qpos[a + 6];
            bgpbt__qw_normalize(q);
            bgpbt__v3_st(jan + 3 * j, pos);
        } else {
            bgpbt_fw bq[4];
            pos = bgpbt__v3_add(bgpbt__v3_ld(xpos + 3 * p), bgpbt__m3_mul(xmat + 9 * p, bgpbt__v3_k(m->body_pos + 3 * b)));
            for (k = 0; k < 4; ++k) bq[k] = BGPBT__K(m->body_quat[4 * b + k]);
            bgpbt__qw_mul(q, xquat + 4 * p, bq);
            for (j = m->body_jntadr[b]; j >= 0 && j < m->body_jntadr[b] + m->body_jntnum[b]; ++j) {
                int t = m->jnt_type[j], a = m->jnt_qposadr[j];
                bgpbt__v3 jp = bgpbt__v3_k(m->jnt_pos + 3 * j);
                bgpbt__v3 anchor = bgpbt__v3_add(bgpbt__qw_rot(q, jp), pos);
                bgpbt__v3 axis = bgpbt__qw_rot(q, bgpbt__v3_k(m->jnt_axis + 3 * j));
                bgpbt__v3_st(jan + 3 * j, anchor);
                bgpbt__v3_st(jax + 3 * j, axis);
                if (t == BGPBT_SIM_JOINT_SLIDE) {
                    pos = bgpbt__v3_mad(axis, bgpbt_fw_sub(qpos[a], BGPBT__K(m->jnt_ref[j])), pos);
                } else {
                    bgpbt_fw ql[4];
                    if (t == BGPBT_SIM_JOINT_HINGE) {
                        bgpbt_fw s, c;
                        bgpbt__fw_sincos(bgpbt_fw_mul(bgpbt_fw_sub(qpos[a], BGPBT__K(m->jnt_ref[j])), BGPBT__K(0.5f)), &s, &c);
                        ql[0] = c;
                        ql[1] = bgpbt_fw_mul(s, BGPBT__K(m->jnt_axis[3 * j]));
                        ql[2] = bgpbt_fw_mul(s, BGPBT__K(m->jnt_axis[3 * j + 1]));
                        ql[3] = bgpbt_fw_mul(s, BGPBT__K(m->jnt_axis[3 * j + 2]));
                    } else { /* ball */
                        ql[0] = qpos[a]; ql[1] = qpos[a + 1]; ql[2] = qpos[a + 2]; ql[3] = qpos[a + 3];
                        bgpbt__qw_normalize(ql);
                    }
                    bgpbt__qw_mul(q, q, ql);
                    pos = bgpbt__v3_sub(anchor, bgpbt__qw_rot(q, jp));
                }
            }
            bgpbt__qw_normalize(q);
        }
        bgpbt__v3_st(xpos + 3 * b, pos);
        bgpbt__qw_to_mat(q, xmat + 9 * b);
        bgpbt__v3_st(xipos + 3 * b, bgpbt__v3_add(pos, bgpbt__m3_mul(xmat + 9 * b, bgpbt__v3_k(m->body_com + 3 * b))));
    }
    /* reference point of the spatial algebra: the first body's origin */
    ref = m->nbody > 1 ? bgpbt__v3_ld(xpos + 3) : bgpbt__v3_ld(xpos);
    bgpbt__v3_st(BGPBT__B(o_ref), ref);
    for (j = 0; j < m->njnt; ++j) {
        int t = m->jnt_type[j], d = m->jnt_dofadr[j], b2 = m->jnt_body[j];
        bgpbt_fw* c = cdof + 6 * d;
        bgpbt__v3 anchor = bgpbt__v3_ld(jan + 3 * j), off = bgpbt__v3_sub(ref, anchor), ax;
        if (t == BGPBT_SIM_JOINT_FREE || t == BGPBT_SIM_JOINT_BALL) {
            if (t == BGPBT_SIM_JOINT_FREE) {
                for (k = 0; k < 18; ++k) c[k] = bgpbt_fw_zero();
                c[3] = c[6 + 4] = c[12 + 5] = BGPBT__K(1.0f);
                c += 18;
            }
            for (k = 0; k < 3; ++k) {
                ax = bgpbt__m3_col(xmat + 9 * b2, k);
                bgpbt__v3_st(c + 6 * k, ax);
                bgpbt__v3_st(c + 6 * k + 3, bgpbt__v3_cross(ax, off));
            }
        } else {
            ax = bgpbt__v3_ld(jax + 3 * j);
            if (t == BGPBT_SIM_JOINT_HINGE) {
                bgpbt__v3_st(c, ax);
                bgpbt__v3_st(c + 3, bgpbt__v3_cross(ax, off));
            } else {
                c[0] = c[1] = c[2] = bgpbt_fw_zero();
                bgpbt__v3_st(c + 3, ax);
            }
        }
    }
}

/* spatial algebra, MuJoCo layout: motion/force = (angular 3, linear 3); inertia = (I 6, h 3, m) */
BGPBT__INLINE void bgpbt__sp_cross_motion(bgpbt_fw* r, const bgpbt_fw* v, const bgpbt_fw* mo) {
    bgpbt__v3 va = bgpbt__v3_ld(v), vl = bgpbt__v3_ld(v + 3), ma = bgpbt__v3_ld(mo), ml = bgpbt__v3_ld(mo + 3);
    bgpbt__v3_st(r, bgpbt__v3_cross(va, ma));
    bgpbt__v3_st(r + 3, bgpbt__v3_add(bgpbt__v3_cross(va, ml), bgpbt__v3_cross(vl, ma)));
}
BGPBT__INLINE void bgpbt__sp_cross_force(bgpbt_fw* r, const bgpbt_fw* v, const bgpbt_fw* f) {
    bgpbt__v3 va = bgpbt__v3_ld(v), vl = bgpbt__v3_ld(v + 3), fa = bgpbt__v3_ld(f), fl = bgpbt__v3_ld(f + 3);
    bgpbt__v3_st(r, bgpbt__v3_add(bgpbt__v3_cross(va, fa), bgpbt__v3_cross(vl, fl)));
    bgpbt__v3_st(r + 3, bgpbt__v3_cross(va, fl));
}
BGPBT__INLINE void bgpbt__sp_inert_mul(bgpbt_fw* r, const bgpbt_fw* I, const bgpbt_fw* v) {
    bgpbt__v3 va = bgpbt__v3_ld(v), vl = bgpbt__v3_ld(v + 3), h = bgpbt__v3_ld(I + 6), Iv, t;
    Iv.x = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(I[0], va.x), bgpbt_fw_mul(I[3], va.y)), bgpbt_fw_mul(I[4], va.z));
    Iv.y = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(I[3], va.x), bgpbt_fw_mul(I[1], va.y)), bgpbt_fw_mul(I[5], va.z));
    Iv.z = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(I[4], va.x), bgpbt_fw_mul(I[5], va.y)), bgpbt_fw_mul(I[2], va.z));
    bgpbt__v3_st(r, bgpbt__v3_add(Iv, bgpbt__v3_cross(h, vl)));
    t = bgpbt__v3_sub(bgpbt__v3_scl(vl, I[9]), bgpbt__v3_cross(h, va));
    bgpbt__v3_st(r + 3, t);
}
BGPBT__INLINE bgpbt_fw bgpbt__sp_dot(const bgpbt_fw* a, const bgpbt_fw* b) {
    return bgpbt_fw_add(bgpbt__v3_dot(bgpbt__v3_ld(a), bgpbt__v3_ld(b)), bgpbt__v3_dot(bgpbt__v3_ld(a + 3), bgpbt__v3_ld(b + 3)));
}

/* x <- M^-1 x with M = L^T D L stored in the lower triangle (L below the diagonal), D^-1 in dinv.
   The loops run over precomputed ancestor lists (no pointer chasing). */
BGPBT__PRIVATE void bgpbt__sim_solve(const bgpbt_sim_model* m, const bgpbt_fw* M, const bgpbt_fw* dinv, bgpbt_fw* x) {
    int nv = m->nv, k, a;
    for (k = nv - 1; k >= 0; --k) {
        const int* an = m->anc + m->dof_anc_adr[k];
        const bgpbt_fw* L = M + (size_t)k * nv;
        bgpbt_fw xk = x[k];
        for (a = 0; a < m->dof_anc_num[k]; ++a) x[an[a]] = bgpbt_fw_sub(x[an[a]], bgpbt_fw_mul(L[an[a]], xk));
    }
    for (k = 0; k < nv; ++k) x[k] = bgpbt_fw_mul(x[k], dinv[k]);
    for (k = 0; k < nv; ++k) {
        const int* an = m->anc + m->dof_anc_adr[k];
        const bgpbt_fw* L = M + (size_t)k * nv;
        bgpbt_fw xk = x[k];
        for (a = 0; a < m->dof_anc_num[k]; ++a) xk = bgpbt_fw_sub(xk, bgpbt_fw_mul(L[an[a]], x[an[a]]));
        x[k] = xk;
    }
}
/* Three right-hand sides at once (a contact's normal and tangent rows): one pass over L, over
   the contact's dof ranges r only (a dof's ancestors are in its own tree, so the rest stays 0). */
BGPBT__PRIVATE void bgpbt__sim_solve3(const bgpbt_sim_model* m, const bgpbt_fw* M, const bgpbt_fw* dinv, bgpbt_fw* x, bgpbt_fw* y, bgpbt_fw* z,
                                      const int* r) {
    int nv = m->nv, k, a, q;
    for (q = 2; q >= 0; q -= 2) /* the ranges are ascending: visit the dofs from the last down */
        for (k = r[q + 1] - 1; k >= r[q]; --k) {
            const int* an = m->anc + m->dof_anc_adr[k];
            const bgpbt_fw* L = M + (size_t)k * nv;
            bgpbt_fw xk = x[k], yk = y[k], zk = z[k];
            for (a = 0; a < m->dof_anc_num[k]; ++a) {
                int i = an[a];
                bgpbt_fw l = L[i];
                x[i] = bgpbt_fw_sub(x[i], bgpbt_fw_mul(l, xk));
                y[i] = bgpbt_fw_sub(y[i], bgpbt_fw_mul(l, yk));
                z[i] = bgpbt_fw_sub(z[i], bgpbt_fw_mul(l, zk));
            }
        }
    for (q = 0; q < 4; q += 2)
        for (k = r[q]; k < r[q + 1]; ++k) {
            x[k] = bgpbt_fw_mul(x[k], dinv[k]);
            y[k] = bgpbt_fw_mul(y[k], dinv[k]);
            z[k] = bgpbt_fw_mul(z[k], dinv[k]);
        }
    for (q = 0; q < 4; q += 2)
        for (k = r[q]; k < r[q + 1]; ++k) {
            const int* an = m->anc + m->dof_anc_adr[k];
            const bgpbt_fw* L = M + (size_t)k * nv;
            bgpbt_fw xk = x[k], yk = y[k], zk = z[k];
            for (a = 0; a < m->dof_anc_num[k]; ++a) {
                int i = an[a];
                bgpbt_fw l = L[i];
                xk = bgpbt_fw_sub(xk, bgpbt_fw_mul(l, x[i]));
                yk = bgpbt_fw_sub(yk, bgpbt_fw_mul(l, y[i]));
                zk = bgpbt_fw_sub(zk, bgpbt_fw_mul(l, z[i]));
            }
            x[k] = xk; y[k] = yk; z[k] = zk;
        }
}
/* x <- M^-1 (sgn e_d): the backward pass only touches d and its ancestors. */
BGPBT__PRIVATE void bgpbt__sim_solve_unit(const bgpbt_sim_model* m, const bgpbt_fw* M, const bgpbt_fw* dinv, int d, bgpbt_fw sgn, bgpbt_fw* x) {
    int nv = m->nv, k, a, c;
    for (k = 0; k < nv; ++k) x[k] = bgpbt_fw_zero();
    x[d] = sgn;
    for (c = -1; c < m->dof_anc_num[d]; ++c) { /* d, then its ancestors (descending) */
        const int* an;
        const bgpbt_fw* L;
        bgpbt_fw xk;
        k = c < 0 ? d : m->anc[m->dof_anc_adr[d] + c];
        an = m->anc + m->dof_anc_adr[k];
        L = M + (size_t)k * nv;
        xk = x[k];
        for (a = 0; a < m->dof_anc_num[k]; ++a) x[an[a]] = bgpbt_fw_sub(x[an[a]], bgpbt_fw_mul(L[an[a]], xk));
    }
    for (k = 0; k < nv; ++k) x[k] = bgpbt_fw_mul(x[k], dinv[k]);
    for (k = 0; k < nv; ++k) {
        const int* an = m->anc + m->dof_anc_adr[k];
        const bgpbt_fw* L = M + (size_t)k * nv;
        bgpbt_fw xk = x[k];
        for (a = 0; a < m->dof_anc_num[k]; ++a) xk = bgpbt_fw_sub(xk, bgpbt_fw_mul(L[an[a]], x[an[a]]));
        x[k] = xk;
    }
}

/* Row data of one active contact slot in scratch: J[3][nv], W[3][nv] (= M^-1 J^T), then
   dinv[3], target, mu, active, point[3], frame n t1 t2 [9]. */
#define BGPBT__ROW_EXTRA 18
BGPBT__PRIVATE size_t bgpbt__sim_row_size(const bgpbt_sim_model* m) { return (size_t)6 * (size_t)m->nv + BGPBT__ROW_EXTRA; }

/* J row (into J, nv) for direction u at point pt, body bb minus body ba. */
BGPBT__PRIVATE void bgpbt__sim_jrow(const bgpbt_sim_model* m, const bgpbt_fw* cdof, bgpbt__v3 r, bgpbt__v3 u, int ba, int bb, bgpbt_fw* J,
                                    const int* range) {
    bgpbt__v3 w = bgpbt__v3_cross(r, u);
    int k;
    for (k = range[0]; k < range[1]; ++k) J[k] = bgpbt_fw_zero(); /* outside the ranges: never read */
    for (k = range[2]; k < range[3]; ++k) J[k] = bgpbt_fw_zero();
    for (k = 0; k < m->body_chainnum[bb]; ++k) {
        int d = m->chain[m->body_chainadr[bb] + k];
        const bgpbt_fw* c = cdof + 6 * d;
        J[d] = bgpbt_fw_add(J[d], bgpbt_fw_add(bgpbt__v3_dot(bgpbt__v3_ld(c), w), bgpbt__v3_dot(bgpbt__v3_ld(c + 3), u)));
    }
    for (k = 0; k < m->body_chainnum[ba]; ++k) {
        int d = m->chain[m->body_chainadr[ba] + k];
        const bgpbt_fw* c = cdof + 6 * d;
        J[d] = bgpbt_fw_sub(J[d], bgpbt_fw_add(bgpbt__v3_dot(bgpbt__v3_ld(c), w), bgpbt__v3_dot(bgpbt__v3_ld(c + 3), u)));
    }
}

BGPBT__INLINE bgpbt_fw bgpbt__dotn(const bgpbt_fw* a, const bgpbt_fw* b, int n) {
    bgpbt_fw s = bgpbt_fw_zero();
    int k;
    for (k = 0; k < n; ++k) s = bgpbt_fw_add(s, bgpbt_fw_mul(a[k], b[k]));
    return s;
}
BGPBT__INLINE void bgpbt__axpyn(bgpbt_fw* y, const bgpbt_fw* x, bgpbt_fw a, int n) {
    int k;
    for (k = 0; k < n; ++k) y[k] = bgpbt_fw_add(y[k], bgpbt_fw_mul(x[k], a));
}
/* The same over a contact's two dof ranges (ascending, so sums round as the full-length ones). */
BGPBT__INLINE bgpbt_fw bgpbt__dotr(const bgpbt_fw* a, const bgpbt_fw* b, const int* r) {
    bgpbt_fw s = bgpbt_fw_zero();
    int k;
    for (k = r[0]; k < r[1]; ++k) s = bgpbt_fw_add(s, bgpbt_fw_mul(a[k], b[k]));
    for (k = r[2]; k < r[3]; ++k) s = bgpbt_fw_add(s, bgpbt_fw_mul(a[k], b[k]));
    return s;
}
BGPBT__INLINE void bgpbt__axpyr(bgpbt_fw* y, const bgpbt_fw* x, bgpbt_fw a, const int* r) {
    int k;
    for (k = r[0]; k < r[1]; ++k) y[k] = bgpbt_fw_add(y[k], bgpbt_fw_mul(x[k], a));
    for (k = r[2]; k < r[3]; ++k) y[k] = bgpbt_fw_add(y[k], bgpbt_fw_mul(x[k], a));
}

/* Closest points of segments [a0,a1] and [b0,b1] (points allowed): parameters s, t in [0, 1]. */
BGPBT__PRIVATE void bgpbt__sim_segseg(bgpbt__v3 a0, bgpbt__v3 a1, bgpbt__v3 b0, bgpbt__v3 b1, bgpbt__v3* pa, bgpbt__v3* pb) {
    bgpbt__v3 d1 = bgpbt__v3_sub(a1, a0), d2 = bgpbt__v3_sub(b1, b0), r = bgpbt__v3_sub(a0, b0);
    bgpbt_fw a = bgpbt__v3_dot(d1, d1), e = bgpbt__v3_dot(d2, d2), f = bgpbt__v3_dot(d2, r), c = bgpbt__v3_dot(d1, r);
    bgpbt_fw bb = bgpbt__v3_dot(d1, d2), zero = bgpbt_fw_zero(), one = BGPBT__K(1.0f), tiny = BGPBT__K(1e-12f);
    bgpbt_fw ai = bgpbt_fw_div(one, bgpbt_fw_max(a, tiny)), ei = bgpbt_fw_div(one, bgpbt_fw_max(e, tiny));
    bgpbt_fw denom = bgpbt_fw_sub(bgpbt_fw_mul(a, e), bgpbt_fw_mul(bb, bb));
    bgpbt_fm ok = bgpbt_fw_gt(denom, bgpbt_fw_mul(BGPBT__K(1e-6f), bgpbt_fw_mul(a, e)));
    bgpbt_fw s = bgpbt_fw_blend(ok, zero, bgpbt_fw_clamp(bgpbt_fw_div(bgpbt_fw_sub(bgpbt_fw_mul(bb, f), bgpbt_fw_mul(c, e)), bgpbt_fw_max(denom, tiny)), zero, one));
    bgpbt_fw t = bgpbt_fw_mul(bgpbt_fw_add(bgpbt_fw_mul(bb, s), f), ei);
    bgpbt_fm tl = bgpbt_fw_lt(t, zero), th = bgpbt_fw_gt(t, one);
    bgpbt_fm apt = bgpbt_fw_le(a, tiny), bpt = bgpbt_fw_le(e, tiny);
    s = bgpbt_fw_blend(tl, s, bgpbt_fw_clamp(bgpbt_fw_mul(bgpbt_fw_neg(c), ai), zero, one));
    s = bgpbt_fw_blend(th, s, bgpbt_fw_clamp(bgpbt_fw_mul(bgpbt_fw_sub(bb, c), ai), zero, one));
    t = bgpbt_fw_clamp(t, zero, one);
    /* degenerate segments: a point against a segment */
    s = bgpbt_fw_blend(bpt, s, bgpbt_fw_clamp(bgpbt_fw_mul(bgpbt_fw_neg(c), ai), zero, one));
    t = bgpbt_fw_blend(bpt, t, zero);
    t = bgpbt_fw_blend(apt, t, bgpbt_fw_clamp(bgpbt_fw_mul(f, ei), zero, one));
    s = bgpbt_fw_blend(apt, s, zero);
    *pa = bgpbt__v3_mad(d1, s, a0);
    *pb = bgpbt__v3_mad(d2, t, b0);
}

BGPBT__INLINE void bgpbt__geom_seg(const bgpbt_sim_model* m, int g, const bgpbt_fw* gpos, const bgpbt_fw* gmat, bgpbt__v3* p0, bgpbt__v3* p1) {
    bgpbt__v3 c = bgpbt__v3_ld(gpos + 3 * g);
    if (m->geom_type[g] == BGPBT_SIM_GEOM_CAPSULE) {
        bgpbt__v3 ax = bgpbt__v3_scl(bgpbt__m3_col(gmat + 9 * g, 2), BGPBT__K(m->geom_size[3 * g + 1]));
        *p0 = bgpbt__v3_sub(c, ax);
        *p1 = bgpbt__v3_add(c, ax);
    } else {
        *p0 = c;
        *p1 = c;
    }
}

/* Box-box contact manifold of one lane, in scalar float (the clipping has a data-dependent
   number of vertices, which lanes cannot share). Separating-axis test over the 15 axes; the
   axis of least penetration decides the kind of contact, with a face of A preferred over a face
   of B, and faces preferred over edge pairs, unless the other is clearly better (so resting
   boxes do not flicker between manifolds):
   - face: the face of the other box most opposed to the reference face is clipped to the
     reference face's rectangle (Sutherland-Hodgman), each point at its height above the
     reference face, reduced to one point per quadrant (at most 4, in slots 0..3);
   - edge pair: one point (slot 0) between the closest points of the two supporting edges.
   Axes are columns of the row-major R. The normal points from A to B; dist < 0 is penetration;
   an empty slot has dist 1e30. Returns the number of points (0 when an axis separates by more
   than `reach`). */
BGPBT__PRIVATE void bgpbt__bb_axis(const float* R, int c, float* a) { a[0] = R[c]; a[1] = R[3 + c]; a[2] = R[6 + c]; }
BGPBT__PRIVATE float bgpbt__bb_dot(const float* a, const float* b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

BGPBT__PRIVATE int bgpbt__sim_boxbox(const float* pa, const float* Ra, const float* ha, const float* pb, const float* Rb, const float* hb,
                                     float reach, float pt[4][3], float* nrm, float* dist) {
    float A[3][3], B[3][3], C[3][3], AC[3][3], d[3], da[3], db[3];
    float best_face = -1e30f, best_edge = -1e30f, edge_n[3] = {0, 0, 1}, tol;
    int i, j, k, face = -1, ei = -1, ej = -1;
    for (i = 0; i < 3; ++i) {
        bgpbt__bb_axis(Ra, i, A[i]);
        bgpbt__bb_axis(Rb, i, B[i]);
        d[i] = pb[i] - pa[i];
    }
    for (i = 0; i < 3; ++i) {
        da[i] = bgpbt__bb_dot(A[i], d);
        db[i] = bgpbt__bb_dot(B[i], d);
        for (j = 0; j < 3; ++j) {
            C[i][j] = bgpbt__bb_dot(A[i], B[j]);
            AC[i][j] = fabsf(C[i][j]) + 1e-6f; /* parallel edges: keep the edge axes' test conservative */
        }
    }
    tol = ha[0];
    for (i = 0; i < 3; ++i) {
        tol = ha[i] < tol ? ha[i] : tol;
        tol = hb[i] < tol ? hb[i] : tol;
    }
    tol *= 0.02f;
    /* face axes: 0..2 of A, 3..5 of B */
    for (k = 0; k < 6; ++k) {
        float sep;
        if (k < 3) sep = fabsf(da[k]) - (ha[k] + hb[0] * AC[k][0] + hb[1] * AC[k][1] + hb[2] * AC[k][2]);
        else sep = fabsf(db[k - 3]) - (hb[k - 3] + ha[0] * AC[0][k - 3] + ha[1] * AC[1][k - 3] + ha[2] * AC[2][k - 3]);
        if (sep > reach) return 0;
        if (face < 0 || sep > best_face + (k >= 3 && face < 3 ? tol : 0.0f)) { best_face = sep; face = k; }
    }
    /* edge axes A_i x B_j */
    for (i = 0; i < 3; ++i)
        for (j = 0; j < 3; ++j) {
            float n[3], len, sep, ra = 0, rb = 0;
            n[0] = A[i][1] * B[j][2] - A[i][2] * B[j][1];
            n[1] = A[i][2] * B[j][0] - A[i][0] * B[j][2];
            n[2] = A[i][0] * B[j][1] - A[i][1] * B[j][0];
            len = sqrtf(bgpbt__bb_dot(n, n));
            if (len < 1e-4f) continue; /* parallel edges: the face axes cover it */
            for (k = 0; k < 3; ++k) n[k] /= len;
            for (k = 0; k < 3; ++k) {
                ra += ha[k] * fabsf(bgpbt__bb_dot(A[k], n));
                rb += hb[k] * fabsf(bgpbt__bb_dot(B[k], n));
            }
            sep = fabsf(bgpbt__bb_dot(d, n)) - ra - rb;
            if (sep > reach) return 0;
            if (sep > best_edge) {
                best_edge = sep;
                ei = i;
                ej = j;
                for (k = 0; k < 3; ++k) edge_n[k] = n[k];
            }
        }
    if (ei >= 0 && best_edge > best_face + tol) {
        /* edge pair: the supporting edge of A along +n and of B along -n */
        float n[3], a0[3], a1[3], b0[3], b1[3], ca[3], cb[3], u[3], w[3], r[3];
        float aa, ee, bb, cc, ff, den, s, t;
        for (k = 0; k < 3; ++k) n[k] = bgpbt__bb_dot(d, edge_n) < 0 ? -edge_n[k] : edge_n[k];
        for (k = 0; k < 3; ++k) { ca[k] = pa[k]; cb[k] = pb[k]; }
        for (i = 0; i < 3; ++i) {
            float sa = bgpbt__bb_dot(A[i], n) < 0 ? -ha[i] : ha[i], sb = bgpbt__bb_dot(B[i], n) < 0 ? hb[i] : -hb[i];
            if (i != ei) for (k = 0; k < 3; ++k) ca[k] += sa * A[i][k];
            if (i != ej) for (k = 0; k < 3; ++k) cb[k] += sb * B[i][k];
        }
        for (k = 0; k < 3; ++k) {
            a0[k] = ca[k] - ha[ei] * A[ei][k]; a1[k] = ca[k] + ha[ei] * A[ei][k];
            b0[k] = cb[k] - hb[ej] * B[ej][k]; b1[k] = cb[k] + hb[ej] * B[ej][k];
            u[k] = a1[k] - a0[k]; w[k] = b1[k] - b0[k]; r[k] = a0[k] - b0[k];
        }
        /* closest points of two non-parallel segments (clamped) */
        aa = bgpbt__bb_dot(u, u); ee = bgpbt__bb_dot(w, w); bb = bgpbt__bb_dot(u, w);
        cc = bgpbt__bb_dot(u, r); ff = bgpbt__bb_dot(w, r);
        den = aa * ee - bb * bb;
        s = den > 1e-12f ? (bb * ff - cc * ee) / den : 0.0f;
        s = s < 0 ? 0 : s > 1 ? 1 : s;
        t = ee > 1e-30f ? (bb * s + ff) / ee : 0.0f;
        if (t < 0 || t > 1) {
            t = t < 0 ? 0 : 1;
            s = aa > 1e-30f ? (bb * t - cc) / aa : 0.0f;
            s = s < 0 ? 0 : s > 1 ? 1 : s;
        }
        for (k = 0; k < 3; ++k) {
            nrm[k] = n[k];
            pt[0][k] = 0.5f * ((a0[k] + s * u[k]) + (b0[k] + t * w[k]));
        }
        dist[0] = best_edge;
        dist[1] = dist[2] = dist[3] = 1e30f;
        return 1;
    }
    {
        /* face: reference box (R, its face axis f) and incident box (I) */
        const int ref_is_a = face < 3, f = ref_is_a ? face : face - 3;
        float (*Rx)[3] = ref_is_a ? A : B, (*Ix)[3] = ref_is_a ? B : A;
        const float *hr = ref_is_a ? ha : hb, *hi = ref_is_a ? hb : ha, *pr = ref_is_a ? pa : pb, *pi = ref_is_a ? pb : pa;
        const int u = (f + 1) % 3, v = (f + 2) % 3;
        float nref[3], cr[3], ci[3], poly[2][8][3], best = -1.0f, sgn;
        int inc = 0, np = 4, q, c, out = 0, i1, i2;
        /* the reference face's outward normal points at the incident box */
        sgn = ((ref_is_a ? da[f] : -db[f]) < 0) ? -1.0f : 1.0f;
        for (k = 0; k < 3; ++k) {
            nref[k] = sgn * Rx[f][k];
            cr[k] = pr[k] + hr[f] * nref[k];
        }
        for (j = 0; j < 3; ++j) {
            float c2 = fabsf(bgpbt__bb_dot(Ix[j], nref));
            if (c2 > best) { best = c2; inc = j; }
        }
        sgn = bgpbt__bb_dot(Ix[inc], nref) > 0 ? -1.0f : 1.0f; /* the incident face faces the reference */
        for (k = 0; k < 3; ++k) ci[k] = pi[k] + sgn * hi[inc] * Ix[inc][k];
        i1 = (inc + 1) % 3;
        i2 = (inc + 2) % 3;
        /* incident corners in reference-face coordinates (x along u, y along v, z height) */
        for (q = 0; q < 4; ++q) {
            float s1 = (q == 1 || q == 2) ? 1.0f : -1.0f, s2 = (q >= 2) ? 1.0f : -1.0f, w[3];
            for (k = 0; k < 3; ++k) w[k] = ci[k] + s1 * hi[i1] * Ix[i1][k] + s2 * hi[i2] * Ix[i2][k] - cr[k];
            poly[0][q][0] = bgpbt__bb_dot(w, Rx[u]);
            poly[0][q][1] = bgpbt__bb_dot(w, Rx[v]);
            poly[0][q][2] = bgpbt__bb_dot(w, nref);
        }
        /* clip against x <= hu, -x <= hu, y <= hv, -y <= hv */
        for (c = 0; c < 4 && np > 0; ++c) {
            const int ax = c >> 1;
            const float sd = (c & 1) ? -1.0f : 1.0f, lim = ax == 0 ? hr[u] : hr[v];
            float (*src)[3] = poly[c & 1], (*dst)[3] = poly[(c & 1) ^ 1];
            int n2 = 0;
            for (q = 0; q < np; ++q) {
                const float* P = src[q];
                const float* Q = src[(q + 1) % np];
                float dp = sd * P[ax] - lim, dq = sd * Q[ax] - lim;
                if (dp <= 0 && n2 < 8) { dst[n2][0] = P[0]; dst[n2][1] = P[1]; dst[n2][2] = P[2]; ++n2; }
                if ((dp < 0 && dq > 0) || (dp > 0 && dq < 0)) {
                    float t = dp / (dp - dq);
                    if (n2 < 8)
                        for (k = 0; k < 3; ++k) dst[n2][k] = P[k] + t * (Q[k] - P[k]);
                    ++n2;
                    if (n2 > 8) n2 = 8;
                }
            }
            np = n2;
        }
        /* After 4 clips the polygon is back in poly[0]: up to 8 points, some of them near-duplicates
           when edges line up (equal boxes stacked). Keep one point per quadrant around the
           polygon's centre, the one farthest out along that quadrant's diagonal: at most 4 points,
           and a point keeps its slot from step to step, so the solver's warm start holds. */
        {
            float cx = 0, cy = 0, best_q[4];
            int pick[4], nin = 0;
            for (q = 0; q < np; ++q)
                if (poly[0][q][2] <= reach) { cx += poly[0][q][0]; cy += poly[0][q][1]; ++nin; }
            if (!nin) return 0;
            cx /= (float)nin;
            cy /= (float)nin;
            for (q = 0; q < 4; ++q) { pick[q] = -1; best_q[q] = -1.0f; }
            for (q = 0; q < np; ++q) {
                const float* P = poly[0][q];
                float dx = P[0] - cx, dy = P[1] - cy, reach_q;
                int quad = (dx > 0) + 2 * (dy > 0);
                if (P[2] > reach) continue;
                reach_q = fabsf(dx) + fabsf(dy);
                if (reach_q > best_q[quad]) { best_q[quad] = reach_q; pick[quad] = q; }
            }
            for (c = 0; c < 4; ++c) {
                const float* P;
                if (pick[c] < 0) { dist[c] = 1e30f; continue; }
                P = poly[0][pick[c]];
                for (k = 0; k < 3; ++k) pt[c][k] = cr[k] + P[0] * Rx[u][k] + P[1] * Rx[v][k] + 0.5f * P[2] * nref[k];
                dist[c] = P[2];
                ++out;
            }
        }
        for (k = 0; k < 3; ++k) nrm[k] = ref_is_a ? nref[k] : -nref[k];
        return out;
    }
}

/* One physics step of one block. */
BGPBT__PRIVATE void bgpbt__sim_substep(const bgpbt_sim* sim, bgpbt_fw* blk, bgpbt_fw* scr, int* act_list) {
    const bgpbt_sim_model* m = sim->m;
    const int nv = m->nv, nb = m->nbody;
    const float hf = m->opt.timestep;
    const bgpbt_fw h = BGPBT__K(hf), zero = bgpbt_fw_zero();
    bgpbt_fw* qpos = BGPBT__B(o_qpos);
    bgpbt_fw* qvel = BGPBT__B(o_qvel);
    bgpbt_fw* ctrl = BGPBT__B(o_ctrl);
    bgpbt_fw* lam = BGPBT__B(o_lam);
    bgpbt_fw* laml = BGPBT__B(o_laml);
    bgpbt_fw* xmat = BGPBT__B(o_xmat);
    bgpbt_fw* xpos = BGPBT__B(o_xpos);
    bgpbt_fw* xipos = BGPBT__B(o_xipos);
    bgpbt_fw* cdof = BGPBT__B(o_cdof);
    bgpbt_fw* cfrc = BGPBT__B(o_cfrc);
    bgpbt_fw* cinert = BGPBT__SC(s_cinert);
    bgpbt_fw* cvel = BGPBT__SC(s_cvel);
    bgpbt_fw* cdofdot = BGPBT__SC(s_cdofdot);
    bgpbt_fw* cacc = BGPBT__SC(s_cacc);
    bgpbt_fw* f = BGPBT__SC(s_f);
    bgpbt_fw* M = BGPBT__SC(s_M);
    bgpbt_fw* dinv = BGPBT__SC(s_dinv);
    bgpbt_fw* qfrc = BGPBT__SC(s_qfrc);
    bgpbt_fw* v = BGPBT__SC(s_v);
    bgpbt_fw* gpos = BGPBT__SC(s_gpos);
    bgpbt_fw* gmat = BGPBT__SC(s_gmat);
    bgpbt_fw* rows = BGPBT__SC(s_rows);
    bgpbt_fw* lrows = BGPBT__SC(s_lrows);
    const size_t rsz = bgpbt__sim_row_size(m), lsz = (size_t)nv + 4;
    bgpbt__v3 ref = bgpbt__v3_ld(BGPBT__B(o_ref));
    float bb_pt[4][3][BGPBT_FW_WIDTH] = {{{0}}}, bb_n[3][BGPBT_FW_WIDTH] = {{0}}, bb_dist[4][BGPBT_FW_WIDTH] = {{0}}; /* box-box manifold of the current pair (filled at its first slot) */
    const int live = sim->num_envs - (int)((size_t)(blk - sim->data) / sim->stride) * BGPBT_FW_WIDTH; /* envs in this block (>= lanes: full) */
    int b, i, j, k, d, nact = 0, nlact = 0, it;

    /* 1. body inertias about the reference point */
    for (b = 1; b < nb; ++b) {
        const float* Il = m->body_inertia + 6 * b;
        const bgpbt_fw* R = xmat + 9 * b;
        bgpbt_fw* ci = cinert + 10 * b;
        bgpbt_fw T[9], mass = BGPBT__K(m->body_mass[b]);
        bgpbt__v3 c = bgpbt__v3_sub(bgpbt__v3_ld(xipos + 3 * b), ref);
        bgpbt_fw cc;
        /* T = R * I_local (I symmetric: xx yy zz xy xz yz) */
        for (i = 0; i < 3; ++i) {
            T[3 * i + 0] = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(R[3 * i], BGPBT__K(Il[0])), bgpbt_fw_mul(R[3 * i + 1], BGPBT__K(Il[3]))), bgpbt_fw_mul(R[3 * i + 2], BGPBT__K(Il[4])));
            T[3 * i + 1] = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(R[3 * i], BGPBT__K(Il[3])), bgpbt_fw_mul(R[3 * i + 1], BGPBT__K(Il[1]))), bgpbt_fw_mul(R[3 * i + 2], BGPBT__K(Il[5])));
            T[3 * i + 2] = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(R[3 * i], BGPBT__K(Il[4])), bgpbt_fw_mul(R[3 * i + 1], BGPBT__K(Il[5]))), bgpbt_fw_mul(R[3 * i + 2], BGPBT__K(Il[2])));
        }
        {
            static const int ir[6] = {0, 1, 2, 0, 0, 1}, ic[6] = {0, 1, 2, 1, 2, 2};
            bgpbt_fw cv[3];
            cv[0] = c.x; cv[1] = c.y; cv[2] = c.z;
            cc = bgpbt__v3_dot(c, c);
            for (k = 0; k < 6; ++k) {
                bgpbt_fw val = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(T[3 * ir[k]], R[3 * ic[k]]), bgpbt_fw_mul(T[3 * ir[k] + 1], R[3 * ic[k] + 1])),
                                            bgpbt_fw_mul(T[3 * ir[k] + 2], R[3 * ic[k] + 2]));
                bgpbt_fw par = bgpbt_fw_mul(cv[ir[k]], cv[ic[k]]);
                if (k < 3) par = bgpbt_fw_sub(cc, par); else par = bgpbt_fw_neg(par);
                ci[k] = bgpbt_fw_add(val, bgpbt_fw_mul(mass, par));
            }
        }
        bgpbt__v3_st(ci + 6, bgpbt__v3_scl(c, mass));
        ci[9] = mass;
    }
    /* 2. velocities and cdof_dot (MuJoCo's comVel) */
    for (k = 0; k < 6; ++k) cvel[k] = zero;
    for (b = 1; b < nb; ++b) {
        int p = m->body_parent[b];
        bgpbt_fw* cv = cvel + 6 * b;
        for (k = 0; k < 6; ++k) cv[k] = cvel[6 * p + k];
        for (j = m->body_jntadr[b]; j >= 0 && j < m->body_jntadr[b] + m->body_jntnum[b]; ++j) {
            int t = m->jnt_type[j];
            d = m->jnt_dofadr[j];
            if (t == BGPBT_SIM_JOINT_FREE) {
                for (k = 0; k < 18; ++k) cdofdot[6 * d + k] = zero;
                for (i = 0; i < 3; ++i) for (k = 0; k < 6; ++k) cv[k] = bgpbt_fw_add(cv[k], bgpbt_fw_mul(cdof[6 * (d + i) + k], qvel[d + i]));
                d += 3;
            }
            if (t == BGPBT_SIM_JOINT_FREE || t == BGPBT_SIM_JOINT_BALL) {
                for (i = 0; i < 3; ++i) bgpbt__sp_cross_motion(cdofdot + 6 * (d + i), cv, cdof + 6 * (d + i));
                for (i = 0; i < 3; ++i) for (k = 0; k < 6; ++k) cv[k] = bgpbt_fw_add(cv[k], bgpbt_fw_mul(cdof[6 * (d + i) + k], qvel[d + i]));
            } else {
                bgpbt__sp_cross_motion(cdofdot + 6 * d, cv, cdof + 6 * d);
                for (k = 0; k < 6; ++k) cv[k] = bgpbt_fw_add(cv[k], bgpbt_fw_mul(cdof[6 * d + k], qvel[d]));
            }
        }
    }
    /* 3. bias forces by recursive Newton-Euler with zero acceleration (gravity as base acceleration) */
    cacc[0] = cacc[1] = cacc[2] = zero;
    cacc[3] = BGPBT__K(-m->opt.gravity[0]);
    cacc[4] = BGPBT__K(-m->opt.gravity[1]);
    cacc[5] = BGPBT__K(-m->opt.gravity[2]);
    for (b = 1; b < nb; ++b) {
        int p = m->body_parent[b];
        bgpbt_fw* ca = cacc + 6 * b;
        bgpbt_fw tmp[6], tmp2[6];
        for (k = 0; k < 6; ++k) ca[k] = cacc[6 * p + k];
        if (m->body_jntadr[b] >= 0) { /* the body's dofs are contiguous */
            int jl = m->body_jntadr[b] + m->body_jntnum[b] - 1, tl = m->jnt_type[jl];
            int d1 = m->jnt_dofadr[jl] + (tl == BGPBT_SIM_JOINT_FREE ? 6 : tl == BGPBT_SIM_JOINT_BALL ? 3 : 1);
            for (d = m->jnt_dofadr[m->body_jntadr[b]]; d < d1; ++d)
                for (k = 0; k < 6; ++k) ca[k] = bgpbt_fw_add(ca[k], bgpbt_fw_mul(cdofdot[6 * d + k], qvel[d]));
        }
        bgpbt__sp_inert_mul(f + 6 * b, cinert + 10 * b, ca);
        bgpbt__sp_inert_mul(tmp, cinert + 10 * b, cvel + 6 * b);
        bgpbt__sp_cross_force(tmp2, cvel + 6 * b, tmp);
        for (k = 0; k < 6; ++k) f[6 * b + k] = bgpbt_fw_add(f[6 * b + k], tmp2[k]);
    }
    for (b = nb - 1; b > 0; --b) {
        int p = m->body_parent[b];
        if (p > 0) for (k = 0; k < 6; ++k) f[6 * p + k] = bgpbt_fw_add(f[6 * p + k], f[6 * b + k]);
    }
    /* 4. forces: actuators, passive, minus bias */
    for (d = 0; d < nv; ++d) {
        bgpbt_fw fr = bgpbt_fw_neg(bgpbt__sp_dot(cdof + 6 * d, f + 6 * m->dof_body[d]));
        if (m->dof_damping[d] > 0) fr = bgpbt_fw_sub(fr, bgpbt_fw_mul(BGPBT__K(m->dof_damping[d]), qvel[d]));
        if (m->dof_stiffness[d] > 0) {
            int jj = m->dof_jnt[d];
            bgpbt_fw qd = bgpbt_fw_sub(qpos[m->jnt_qposadr[jj]], BGPBT__K(m->jnt_springref[jj]));
            qd = bgpbt_fw_add(qd, bgpbt_fw_mul(h, qvel[d])); /* implicit: K (q + h v - q_s) */
            fr = bgpbt_fw_sub(fr, bgpbt_fw_mul(BGPBT__K(m->dof_stiffness[d]), qd));
        }
        qfrc[d] = fr;
    }
    for (k = 0; k < m->nu; ++k) {
        bgpbt_fw u = ctrl[k];
        if (m->act_limited[k]) u = bgpbt_fw_clamp(u, BGPBT__K(m->act_range[2 * k]), BGPBT__K(m->act_range[2 * k + 1]));
        d = m->act_dof[k];
        qfrc[d] = bgpbt_fw_add(qfrc[d], bgpbt_fw_mul(u, BGPBT__K(m->act_gear[k])));
    }
    /* 5. mass matrix by CRBA (composite inertias accumulated into cinert), implicit terms, L^T D L */
    for (b = nb - 1; b > 0; --b) {
        int p = m->body_parent[b];
        if (p > 0) for (k = 0; k < 10; ++k) cinert[10 * p + k] = bgpbt_fw_add(cinert[10 * p + k], cinert[10 * b + k]);
    }
    for (i = 0; i < nv; ++i) {
        bgpbt_fw buf[6];
        bgpbt__sp_inert_mul(buf, cinert + 10 * m->dof_body[i], cdof + 6 * i);
        for (j = i; j >= 0; j = m->dof_parent[j]) M[i * nv + j] = bgpbt__sp_dot(cdof + 6 * j, buf);
        M[i * nv + i] = bgpbt_fw_add(M[i * nv + i], BGPBT__K(m->dof_armature[i] + hf * m->dof_damping[i] + hf * hf * m->dof_stiffness[i]));
    }
    for (k = nv - 1; k >= 0; --k) {
        bgpbt_fw inv = bgpbt_fw_div(BGPBT__K(1.0f), M[k * nv + k]);
        const int* ak = m->anc + m->dof_anc_adr[k];
        int na = m->dof_anc_num[k], x, y;
        dinv[k] = inv;
        for (x = 0; x < na; ++x) { /* i = ak[x]; its ancestors are ak[x+1..] (a chain) */
            bgpbt_fw* Mi = M + (size_t)ak[x] * nv;
            const bgpbt_fw* Mk = M + (size_t)k * nv;
            bgpbt_fw a = bgpbt_fw_mul(Mk[ak[x]], inv);
            for (y = x; y < na; ++y) Mi[ak[y]] = bgpbt_fw_sub(Mi[ak[y]], bgpbt_fw_mul(Mk[ak[y]], a));
            M[k * nv + ak[x]] = a;
        }
    }
    /* 6. unconstrained velocity */
    bgpbt__sim_solve(m, M, dinv, qfrc);
    for (d = 0; d < nv; ++d) v[d] = bgpbt_fw_add(qvel[d], bgpbt_fw_mul(h, qfrc[d]));

    /* 7. constraints: contacts */
    for (k = 0; k < 6 * nb; ++k) cfrc[k] = zero;
    BGPBT__B(o_ncon)[0] = zero;
    if (m->nslot > 0) {
        for (i = 0; i < m->ngeom; ++i) {
            int bi = m->geom_body[i];
            bgpbt_fw gm[9];
            int r, c;
            bgpbt__v3_st(gpos + 3 * i, bgpbt__v3_add(bgpbt__v3_ld(xpos + 3 * bi), bgpbt__m3_mul(xmat + 9 * bi, bgpbt__v3_k(m->geom_pos + 3 * i))));
            for (r = 0; r < 3; ++r)
                for (c = 0; c < 3; ++c)
                    gm[3 * r + c] = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(xmat[9 * bi + 3 * r], BGPBT__K(m->geom_mat[9 * i + c])),
                                                              bgpbt_fw_mul(xmat[9 * bi + 3 * r + 1], BGPBT__K(m->geom_mat[9 * i + 3 + c]))),
                                                 bgpbt_fw_mul(xmat[9 * bi + 3 * r + 2], BGPBT__K(m->geom_mat[9 * i + 6 + c])));
            for (r = 0; r < 9; ++r) gmat[9 * i + r] = gm[r];
        }
    }
    for (k = 0; k < m->nslot; ++k) {
        const bgpbt__sim_slot* sl = &m->slot[k];
        bgpbt__v3 pt, n, t1, t2, rr;
        bgpbt_fw dist, sv, target, act, beta;
        bgpbt_fm on;
        bgpbt_fw* row;
        int ga = sl->ga, gb = sl->gb;
        if (sl->kind != 0) { /* bounding spheres: skip the pair early when no lane is near */
            bgpbt__v3 dc = bgpbt__v3_sub(bgpbt__v3_ld(gpos + 3 * gb), bgpbt__v3_ld(gpos + 3 * ga));
            float ra = m->geom_type[ga] == BGPBT_SIM_GEOM_BOX ? sqrtf(m->geom_size[3 * ga] * m->geom_size[3 * ga] + m->geom_size[3 * ga + 1] * m->geom_size[3 * ga + 1] + m->geom_size[3 * ga + 2] * m->geom_size[3 * ga + 2])
                                                              : m->geom_size[3 * ga] + (m->geom_type[ga] == BGPBT_SIM_GEOM_CAPSULE ? m->geom_size[3 * ga + 1] : 0.0f);
            float rb = m->geom_type[gb] == BGPBT_SIM_GEOM_BOX ? sqrtf(m->geom_size[3 * gb] * m->geom_size[3 * gb] + m->geom_size[3 * gb + 1] * m->geom_size[3 * gb + 1] + m->geom_size[3 * gb + 2] * m->geom_size[3 * gb + 2])
                                                              : m->geom_size[3 * gb] + (m->geom_type[gb] == BGPBT_SIM_GEOM_CAPSULE ? m->geom_size[3 * gb + 1] : 0.0f);
            float reach = ra + rb + (sl->rest > 0 ? sl->rest : 0.0f) + BGPBT__SIM_SPEC_BAND + 1e-3f;
            if (!bgpbt_fm_any(bgpbt_fw_le(bgpbt__v3_dot(dc, dc), BGPBT__K(reach * reach)))) {
                lam[3 * k] = lam[3 * k + 1] = lam[3 * k + 2] = zero;
                continue;
            }
        }
        if (sl->kind == 0) {
            bgpbt__v3 p0 = bgpbt__v3_ld(gpos + 3 * ga), c = bgpbt__v3_ld(gpos + 3 * gb), q;
            n = bgpbt__m3_col(gmat + 9 * ga, 2);
            if (m->geom_type[gb] == BGPBT_SIM_GEOM_BOX) {
                bgpbt__v3 loc;
                loc.x = BGPBT__K((sl->sub & 1) ? m->geom_size[3 * gb] : -m->geom_size[3 * gb]);
                loc.y = BGPBT__K((sl->sub & 2) ? m->geom_size[3 * gb + 1] : -m->geom_size[3 * gb + 1]);
                loc.z = BGPBT__K((sl->sub & 4) ? m->geom_size[3 * gb + 2] : -m->geom_size[3 * gb + 2]);
                pt = bgpbt__v3_add(c, bgpbt__m3_mul(gmat + 9 * gb, loc));
                dist = bgpbt__v3_dot(n, bgpbt__v3_sub(pt, p0));
            } else {
                bgpbt_fw rad = BGPBT__K(m->geom_size[3 * gb]);
                q = c;
                if (m->geom_type[gb] == BGPBT_SIM_GEOM_CAPSULE) {
                    bgpbt__v3 ax = bgpbt__v3_scl(bgpbt__m3_col(gmat + 9 * gb, 2), BGPBT__K(sl->sub ? m->geom_size[3 * gb + 1] : -m->geom_size[3 * gb + 1]));
                    q = bgpbt__v3_add(c, ax);
                }
                pt = bgpbt__v3_sub(q, bgpbt__v3_scl(n, rad));
                dist = bgpbt_fw_sub(bgpbt__v3_dot(n, bgpbt__v3_sub(q, p0)), rad);
            }
        } else if (sl->kind == 3) { /* box A against box B: the pair's manifold, computed lane by lane at its first slot */
            if (sl->sub == 0) {
                float lp[6][BGPBT_FW_WIDTH], lr[18][BGPBT_FW_WIDTH];
                int l, q, c;
                for (c = 0; c < 3; ++c) {
                    bgpbt_fw_store(lp[c], gpos[3 * ga + c]);
                    bgpbt_fw_store(lp[3 + c], gpos[3 * gb + c]);
                }
                for (c = 0; c < 9; ++c) {
                    bgpbt_fw_store(lr[c], gmat[9 * ga + c]);
                    bgpbt_fw_store(lr[9 + c], gmat[9 * gb + c]);
                }
                for (l = 0; l < BGPBT_FW_WIDTH; ++l) {
                    float pa[3], pb[3], ra[9], rb[9], p4[4][3], nn[3], dd[4];
                    int np = 0;
                    for (c = 0; c < 3; ++c) { pa[c] = lp[c][l]; pb[c] = lp[3 + c][l]; }
                    for (c = 0; c < 9; ++c) { ra[c] = lr[c][l]; rb[c] = lr[9 + c][l]; }
                    if (l < live) /* padding lanes of the last block hold no env: no contact */
                        np = bgpbt__sim_boxbox(pa, ra, m->geom_size + 3 * ga, pb, rb, m->geom_size + 3 * gb,
                                           BGPBT__SIM_SPEC_BAND + (sl->rest > 0 ? sl->rest : 0.0f), p4, nn, dd);
                    for (q = 0; q < 4; ++q) {
                        int here = np > 0 && dd[q] < 1e29f;
                        bb_dist[q][l] = here ? dd[q] : 1e3f; /* an absent point is far away: inactive */
                        for (c = 0; c < 3; ++c) bb_pt[q][c][l] = here ? p4[q][c] : pa[c];
                    }
                    for (c = 0; c < 3; ++c) bb_n[c][l] = np ? nn[c] : (c == 2 ? 1.0f : 0.0f);
                }
            }
            pt.x = bgpbt_fw_load(bb_pt[sl->sub][0]);
            pt.y = bgpbt_fw_load(bb_pt[sl->sub][1]);
            pt.z = bgpbt_fw_load(bb_pt[sl->sub][2]);
            n.x = bgpbt_fw_load(bb_n[0]);
            n.y = bgpbt_fw_load(bb_n[1]);
            n.z = bgpbt_fw_load(bb_n[2]);
            dist = bgpbt_fw_load(bb_dist[sl->sub]);
        } else if (sl->kind == 2) { /* box A against a sphere at c (a sphere, or a point of a capsule's axis) */
            bgpbt__v3 bp = bgpbt__v3_ld(gpos + 3 * ga), c = bgpbt__v3_ld(gpos + 3 * gb), l, q, dl, nl;
            const bgpbt_fw* R = gmat + 9 * ga;
            bgpbt_fw rad = BGPBT__K(m->geom_size[3 * gb]), hx = BGPBT__K(m->geom_size[3 * ga]), hy = BGPBT__K(m->geom_size[3 * ga + 1]);
            bgpbt_fw hz = BGPBT__K(m->geom_size[3 * ga + 2]), len, px, py, pz, one = BGPBT__K(1.0f);
            bgpbt_fm inside, usex, usey;
            if (m->geom_type[gb] == BGPBT_SIM_GEOM_CAPSULE) {
                bgpbt__v3 ax = bgpbt__m3_col(gmat + 9 * gb, 2);
                bgpbt_fw hl = BGPBT__K(m->geom_size[3 * gb + 1]), t;
                if (sl->sub < 2) t = BGPBT__K(sl->sub ? m->geom_size[3 * gb + 1] : -m->geom_size[3 * gb + 1]);
                else t = bgpbt_fw_clamp(bgpbt__v3_dot(ax, bgpbt__v3_sub(bp, c)), bgpbt_fw_neg(hl), hl);
                c = bgpbt__v3_mad(ax, t, c);
            }
            /* the centre in the box frame: l = R^T (c - p) */
            dl = bgpbt__v3_sub(c, bp);
            l.x = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(R[0], dl.x), bgpbt_fw_mul(R[3], dl.y)), bgpbt_fw_mul(R[6], dl.z));
            l.y = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(R[1], dl.x), bgpbt_fw_mul(R[4], dl.y)), bgpbt_fw_mul(R[7], dl.z));
            l.z = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(R[2], dl.x), bgpbt_fw_mul(R[5], dl.y)), bgpbt_fw_mul(R[8], dl.z));
            q.x = bgpbt_fw_clamp(l.x, bgpbt_fw_neg(hx), hx);
            q.y = bgpbt_fw_clamp(l.y, bgpbt_fw_neg(hy), hy);
            q.z = bgpbt_fw_clamp(l.z, bgpbt_fw_neg(hz), hz);
            dl = bgpbt__v3_sub(l, q);
            len = bgpbt_fw_sqrt(bgpbt__v3_dot(dl, dl));
            inside = bgpbt_fw_lt(len, BGPBT__K(1e-7f));
            nl = bgpbt__v3_scl(dl, bgpbt_fw_div(one, bgpbt_fw_max(len, BGPBT__K(1e-7f))));
            /* centre inside the box: leave through the nearest face */
            px = bgpbt_fw_sub(hx, bgpbt_fw_abs(l.x));
            py = bgpbt_fw_sub(hy, bgpbt_fw_abs(l.y));
            pz = bgpbt_fw_sub(hz, bgpbt_fw_abs(l.z));
            usex = bgpbt_fm_and(bgpbt_fw_le(px, py), bgpbt_fw_le(px, pz));
            usey = bgpbt_fm_and(bgpbt_fm_not(usex), bgpbt_fw_le(py, pz));
            {
                bgpbt__v3 ni;
                bgpbt_fw pin = bgpbt_fw_blend(usex, bgpbt_fw_blend(usey, pz, py), px);
                ni.x = bgpbt_fw_blend(usex, zero, bgpbt_fw_blend(bgpbt_fw_lt(l.x, zero), one, BGPBT__K(-1.0f)));
                ni.y = bgpbt_fw_blend(usey, zero, bgpbt_fw_blend(bgpbt_fw_lt(l.y, zero), one, BGPBT__K(-1.0f)));
                ni.z = bgpbt_fw_blend(bgpbt_fm_or(usex, usey), bgpbt_fw_blend(bgpbt_fw_lt(l.z, zero), one, BGPBT__K(-1.0f)), zero);
                nl = bgpbt__v3_blend(inside, nl, ni);
                dist = bgpbt_fw_blend(inside, bgpbt_fw_sub(len, rad), bgpbt_fw_sub(bgpbt_fw_neg(pin), rad));
            }
            n.x = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(R[0], nl.x), bgpbt_fw_mul(R[1], nl.y)), bgpbt_fw_mul(R[2], nl.z));
            n.y = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(R[3], nl.x), bgpbt_fw_mul(R[4], nl.y)), bgpbt_fw_mul(R[5], nl.z));
            n.z = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(R[6], nl.x), bgpbt_fw_mul(R[7], nl.y)), bgpbt_fw_mul(R[8], nl.z));
            pt = bgpbt__v3_sub(c, bgpbt__v3_scl(n, bgpbt_fw_add(rad, bgpbt_fw_mul(dist, BGPBT__K(0.5f)))));
        } else {
            bgpbt__v3 a0, a1, b0, b1, pa, pb, dd;
            bgpbt_fw len, ra = BGPBT__K(m->geom_size[3 * ga]), rb = BGPBT__K(m->geom_size[3 * gb]);
            bgpbt_fm small;
            bgpbt__geom_seg(m, ga, gpos, gmat, &a0, &a1);
            bgpbt__geom_seg(m, gb, gpos, gmat, &b0, &b1);
            bgpbt__sim_segseg(a0, a1, b0, b1, &pa, &pb);
            dd = bgpbt__v3_sub(pb, pa);
            len = bgpbt_fw_sqrt(bgpbt__v3_dot(dd, dd));
            small = bgpbt_fw_lt(len, BGPBT__K(1e-9f));
            n = bgpbt__v3_scl(dd, bgpbt_fw_div(BGPBT__K(1.0f), bgpbt_fw_max(len, BGPBT__K(1e-9f))));
            n.z = bgpbt_fw_blend(small, n.z, BGPBT__K(1.0f));
            dist = bgpbt_fw_sub(bgpbt_fw_sub(len, ra), rb);
            pt = bgpbt__v3_mad(n, bgpbt_fw_add(ra, bgpbt_fw_mul(dist, BGPBT__K(0.5f))), pa);
        }
        sv = bgpbt_fw_sub(dist, BGPBT__K(sl->rest));
        on = bgpbt_fw_lt(sv, BGPBT__K(BGPBT__SIM_SPEC_BAND));
        if (!bgpbt_fm_any(on)) {
            lam[3 * k] = lam[3 * k + 1] = lam[3 * k + 2] = zero;
            continue;
        }
        act = bgpbt_fw_blend(on, zero, BGPBT__K(1.0f));
        row = rows + rsz * (size_t)nact;
        act_list[nact++] = k;
        /* tangent frame */
        {
            bgpbt_fm usex = bgpbt_fw_lt(bgpbt_fw_abs(n.z), BGPBT__K(0.9f));
            bgpbt__v3 e, tt;
            bgpbt_fw inv;
            e.x = bgpbt_fw_blend(usex, BGPBT__K(1.0f), zero);
            e.y = zero;
            e.z = bgpbt_fw_blend(usex, zero, BGPBT__K(1.0f));
            tt = bgpbt__v3_cross(e, n); /* perpendicular to n */
            inv = bgpbt_fw_div(BGPBT__K(1.0f), bgpbt_fw_sqrt(bgpbt_fw_max(bgpbt__v3_dot(tt, tt), BGPBT__K(1e-20f))));
            t1 = bgpbt__v3_scl(tt, inv);
            t2 = bgpbt__v3_cross(n, t1);
        }
        {
            float bf = hf / (sl->beta_tc > 0 ? sl->beta_tc : 0.02f);
            bf = bf < 0.05f ? 0.05f : bf > 0.5f ? 0.5f : bf;
            beta = BGPBT__K(bf);
        }
        /* separated: may close the gap but not cross it; penetrating: pushed out at rate beta */
        target = bgpbt_fw_blend(bgpbt_fw_gt(sv, zero),
                                bgpbt_fw_min(bgpbt_fw_mul(bgpbt_fw_max(zero, bgpbt_fw_neg(bgpbt_fw_add(sv, BGPBT__K(BGPBT__SIM_SLOP)))), bgpbt_fw_div(beta, h)),
                                             BGPBT__K(BGPBT__SIM_MAX_BIAS)),
                                bgpbt_fw_div(bgpbt_fw_neg(sv), h));
        rr = bgpbt__v3_sub(pt, ref);
        bgpbt__sim_jrow(m, cdof, rr, n, sl->ba, sl->bb, row, sl->dofs);
        bgpbt__sim_jrow(m, cdof, rr, t1, sl->ba, sl->bb, row + nv, sl->dofs);
        bgpbt__sim_jrow(m, cdof, rr, t2, sl->ba, sl->bb, row + 2 * nv, sl->dofs);
        for (i = 0; i < 3; ++i) { /* W = M^-1 J^T starts as a copy of J (over the ranges) */
            int q;
            for (q = 0; q < 4; q += 2)
                if (sl->dofs[q + 1] > sl->dofs[q])
                    memcpy(row + (3 + i) * nv + sl->dofs[q], row + i * nv + sl->dofs[q], (size_t)(sl->dofs[q + 1] - sl->dofs[q]) * sizeof(bgpbt_fw));
        }
        bgpbt__sim_solve3(m, M, dinv, row + 3 * nv, row + 4 * nv, row + 5 * nv, sl->dofs);
        for (i = 0; i < 3; ++i) {
            bgpbt_fw* W = row + 3 * nv + i * nv;
            bgpbt_fw A;
            A = bgpbt__dotr(row + i * nv, W, sl->dofs);
            row[6 * nv + i] = bgpbt_fw_mul(act, bgpbt_fw_div(BGPBT__K(1.0f), bgpbt_fw_max(A, BGPBT__K(1e-12f))));
            if (i > 0 && sl->mu <= 0) row[6 * nv + i] = zero;
        }
        row[6 * nv + 3] = target;
        row[6 * nv + 4] = BGPBT__K(sl->mu);
        row[6 * nv + 5] = act;
        bgpbt__v3_st(row + 6 * nv + 6, pt);
        bgpbt__v3_st(row + 6 * nv + 9, n);
        bgpbt__v3_st(row + 6 * nv + 12, t1);
        bgpbt__v3_st(row + 6 * nv + 15, t2);
        /* warm start (inactive lanes start from zero) */
        for (i = 0; i < 3; ++i) {
            lam[3 * k + i] = bgpbt_fw_mul(lam[3 * k + i], act);
            if (sl->mu <= 0 && i > 0) lam[3 * k + i] = zero;
            bgpbt__axpyr(v, row + 3 * nv + i * nv, lam[3 * k + i], sl->dofs);
        }
    }
    /* joint limits */
    for (k = 0; k < m->nlim; ++k) {
        int jj = m->lim_jnt[k];
        bgpbt_fw q = qpos[m->jnt_qposadr[jj]], lo = BGPBT__K(m->jnt_range[2 * jj]), hi = BGPBT__K(m->jnt_range[2 * jj + 1]);
        bgpbt_fw slo = bgpbt_fw_sub(q, lo), shi = bgpbt_fw_sub(hi, q);
        bgpbt_fm lower = bgpbt_fw_lt(slo, shi);
        bgpbt_fw sgn = bgpbt_fw_blend(lower, BGPBT__K(-1.0f), BGPBT__K(1.0f));
        bgpbt_fw s = bgpbt_fw_min(slo, shi), target, act, bf;
        bgpbt_fw* row;
        bgpbt_fm on;
        float bfs;
        d = m->jnt_dofadr[jj];
        s = bgpbt_fw_sub(s, BGPBT__K(m->jnt_lmargin[jj]));
        on = bgpbt_fw_lt(bgpbt_fw_sub(s, bgpbt_fw_mul(bgpbt_fw_abs(v[d]), BGPBT__K(2.0f * hf))), BGPBT__K(0.01f));
        if (!bgpbt_fm_any(on)) {
            laml[k] = zero;
            continue;
        }
        act = bgpbt_fw_blend(on, zero, BGPBT__K(1.0f));
        row = lrows + lsz * (size_t)nlact;
        act_list[m->nslot + nlact++] = k;
        bgpbt__sim_solve_unit(m, M, dinv, d, sgn, row);
        row[nv] = bgpbt_fw_mul(act, bgpbt_fw_div(BGPBT__K(1.0f), bgpbt_fw_max(bgpbt_fw_mul(row[d], sgn), BGPBT__K(1e-12f))));
        bfs = hf / (m->jnt_ltc[jj] > 0 ? m->jnt_ltc[jj] : 0.02f);
        bfs = bfs < 0.05f ? 0.05f : bfs > 0.5f ? 0.5f : bfs;
        bf = BGPBT__K(bfs);
        target = bgpbt_fw_blend(bgpbt_fw_gt(s, zero), bgpbt_fw_min(bgpbt_fw_mul(bgpbt_fw_neg(s), bgpbt_fw_div(bf, h)), BGPBT__K(BGPBT__SIM_MAX_BIAS)),
                                bgpbt_fw_div(bgpbt_fw_neg(s), h));
        row[nv + 1] = target;
        row[nv + 2] = sgn;
        row[nv + 3] = act;
        laml[k] = bgpbt_fw_mul(laml[k], act);
        bgpbt__axpyn(v, row, laml[k], nv);
    }
    /* projected Gauss-Seidel */
    for (it = 0; it < m->opt.iterations && (nact + nlact) > 0; ++it) {
        for (i = 0; i < nact; ++i) {
            int s = act_list[i];
            const int* r = m->slot[s].dofs;
            bgpbt_fw* row = rows + rsz * (size_t)i;
            bgpbt_fw* di = row + 6 * nv;
            bgpbt_fw vn = bgpbt__dotr(row, v, r), l0 = lam[3 * s], l1, dl;
            l1 = bgpbt_fw_max(bgpbt_fw_sub(l0, bgpbt_fw_mul(bgpbt_fw_sub(vn, di[3]), di[0])), zero);
            dl = bgpbt_fw_sub(l1, l0);
            lam[3 * s] = l1;
            bgpbt__axpyr(v, row + 3 * nv, dl, r);
            if (m->slot[s].mu > 0) {
                bgpbt_fw v1 = bgpbt__dotr(row + nv, v, r), v2 = bgpbt__dotr(row + 2 * nv, v, r);
                bgpbt_fw a1 = lam[3 * s + 1], a2 = lam[3 * s + 2];
                bgpbt_fw b1 = bgpbt_fw_sub(a1, bgpbt_fw_mul(v1, di[1])), b2 = bgpbt_fw_sub(a2, bgpbt_fw_mul(v2, di[2]));
                bgpbt_fw lim = bgpbt_fw_mul(di[4], l1);
                bgpbt_fw nrm = bgpbt_fw_sqrt(bgpbt_fw_add(bgpbt_fw_mul(b1, b1), bgpbt_fw_mul(b2, b2)));
                bgpbt_fw sc = bgpbt_fw_min(BGPBT__K(1.0f), bgpbt_fw_div(lim, bgpbt_fw_max(nrm, BGPBT__K(1e-20f))));
                b1 = bgpbt_fw_mul(b1, sc);
                b2 = bgpbt_fw_mul(b2, sc);
                {
                    bgpbt_fw d1 = bgpbt_fw_sub(b1, a1), d2 = bgpbt_fw_sub(b2, a2);
                    const bgpbt_fw* W1 = row + 4 * nv;
                    const bgpbt_fw* W2 = row + 5 * nv;
                    int q;
                    for (q = 0; q < 4; q += 2)
                        for (k = r[q]; k < r[q + 1]; ++k) v[k] = bgpbt_fw_add(bgpbt_fw_add(v[k], bgpbt_fw_mul(W1[k], d1)), bgpbt_fw_mul(W2[k], d2));
                }
                lam[3 * s + 1] = b1;
                lam[3 * s + 2] = b2;
            }
        }
        for (i = 0; i < nlact; ++i) {
            int s = act_list[m->nslot + i];
            bgpbt_fw* row = lrows + lsz * (size_t)i;
            int dd = m->jnt_dofadr[m->lim_jnt[s]];
            bgpbt_fw vn = bgpbt_fw_mul(v[dd], row[nv + 2]), l0 = laml[s], l1;
            l1 = bgpbt_fw_max(bgpbt_fw_sub(l0, bgpbt_fw_mul(bgpbt_fw_sub(vn, row[nv + 1]), row[nv])), zero);
            laml[s] = l1;
            bgpbt__axpyn(v, row, bgpbt_fw_sub(l1, l0), nv);
        }
    }
    /* contact forces per body (impulse / h) and the active count */
    for (i = 0; i < nact; ++i) {
        int s = act_list[i], ba = m->slot[s].ba, bb = m->slot[s].bb;
        bgpbt_fw* row = rows + rsz * (size_t)i;
        bgpbt_fw* e = row + 6 * nv;
        bgpbt_fw ih = BGPBT__K(1.0f / hf);
        bgpbt__v3 F = bgpbt__v3_scl(bgpbt__v3_ld(e + 9), lam[3 * s]), pt = bgpbt__v3_ld(e + 6), tq;
        bgpbt_fm touching = bgpbt_fw_gt(lam[3 * s], zero);
        F = bgpbt__v3_mad(bgpbt__v3_ld(e + 12), lam[3 * s + 1], F);
        F = bgpbt__v3_mad(bgpbt__v3_ld(e + 15), lam[3 * s + 2], F);
        F = bgpbt__v3_scl(F, ih);
        BGPBT__B(o_ncon)[0] = bgpbt_fw_add(BGPBT__B(o_ncon)[0], bgpbt_fw_blend(touching, zero, BGPBT__K(1.0f)));
        if (bb > 0) {
            tq = bgpbt__v3_cross(bgpbt__v3_sub(pt, bgpbt__v3_ld(xipos + 3 * bb)), F);
            bgpbt__v3_st(cfrc + 6 * bb, bgpbt__v3_add(bgpbt__v3_ld(cfrc + 6 * bb), F));
            bgpbt__v3_st(cfrc + 6 * bb + 3, bgpbt__v3_add(bgpbt__v3_ld(cfrc + 6 * bb + 3), tq));
        }
        if (ba > 0) {
            tq = bgpbt__v3_cross(bgpbt__v3_sub(pt, bgpbt__v3_ld(xipos + 3 * ba)), F);
            bgpbt__v3_st(cfrc + 6 * ba, bgpbt__v3_sub(bgpbt__v3_ld(cfrc + 6 * ba), F));
            bgpbt__v3_st(cfrc + 6 * ba + 3, bgpbt__v3_sub(bgpbt__v3_ld(cfrc + 6 * ba + 3), tq));
        }
    }
    /* 8. integrate positions with the new velocity */
    for (j = 0; j < m->njnt; ++j) {
        int t = m->jnt_type[j], a = m->jnt_qposadr[j];
        d = m->jnt_dofadr[j];
        if (t == BGPBT_SIM_JOINT_HINGE || t == BGPBT_SIM_JOINT_SLIDE) {
            qpos[a] = bgpbt_fw_add(qpos[a], bgpbt_fw_mul(h, v[d]));
        } else {
            bgpbt_fw w2, wn, half, s, c, so, dq[4];
            bgpbt_fm tiny;
            if (t == BGPBT_SIM_JOINT_FREE) {
                for (i = 0; i < 3; ++i) qpos[a + i] = bgpbt_fw_add(qpos[a + i], bgpbt_fw_mul(h, v[d + i]));
                a += 3;
                d += 3;
            }
            w2 = bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_mul(v[d], v[d]), bgpbt_fw_mul(v[d + 1], v[d + 1])), bgpbt_fw_mul(v[d + 2], v[d + 2]));
            wn = bgpbt_fw_sqrt(w2);
            half = bgpbt_fw_mul(wn, BGPBT__K(0.5f * hf));
            bgpbt__fw_sincos(half, &s, &c);
            tiny = bgpbt_fw_lt(wn, BGPBT__K(1e-12f));
            so = bgpbt_fw_blend(tiny, bgpbt_fw_div(s, bgpbt_fw_max(wn, BGPBT__K(1e-12f))), BGPBT__K(0.5f * hf));
            dq[0] = c;
            dq[1] = bgpbt_fw_mul(v[d], so);
            dq[2] = bgpbt_fw_mul(v[d + 1], so);
            dq[3] = bgpbt_fw_mul(v[d + 2], so);
            bgpbt__qw_mul(qpos + a, qpos + a, dq); /* body-frame angular velocity: q <- q * dq */
            bgpbt__qw_normalize(qpos + a);
        }
    }
    for (d = 0; d < nv; ++d) qvel[d] = v[d];
    bgpbt__sim_kinematics(sim, blk, scr);
}

BGPBT_API bgpbt_sim_config bgpbt_sim_config_default(void) {
    bgpbt_sim_config c;
    memset(&c, 0, sizeof c);
    c.num_envs = 1;
    c.frame_skip = 1;
    return c;
}

BGPBT__INLINE float* bgpbt__sim_lane(const bgpbt_sim* sim, int env, size_t off) {
    bgpbt_fw* blk = sim->data + (size_t)(env / BGPBT_FW_WIDTH) * sim->stride + off;
    return (float*)(void*)blk + (env % BGPBT_FW_WIDTH);
}
/* element idx of field off for env: lanes are BGPBT_FW_WIDTH floats apart */
#define BGPBT__LANE(sim, env, off, idx) (bgpbt__sim_lane((sim), (env), (off))[(size_t)(idx) * BGPBT_FW_WIDTH])

BGPBT__PRIVATE bgpbt_fw* bgpbt__sim_scratch(const bgpbt_sim* sim, int t) { return sim->scratch + (size_t)t * sim->scr_stride; }

BGPBT__PRIVATE void bgpbt__sim_reset_lane(bgpbt_sim* sim, int env, const float* qpos, const float* qvel) {
    const bgpbt_sim_model* m = sim->m;
    int k;
    for (k = 0; k < m->nq; ++k) BGPBT__LANE(sim, env, sim->o_qpos, k) = qpos ? qpos[k] : m->qpos0[k];
    for (k = 0; k < m->nv; ++k) BGPBT__LANE(sim, env, sim->o_qvel, k) = qvel ? qvel[k] : 0.0f;
    for (k = 0; k < m->nu; ++k) BGPBT__LANE(sim, env, sim->o_ctrl, k) = 0.0f;
    for (k = 0; k < 3 * m->nslot; ++k) BGPBT__LANE(sim, env, sim->o_lam, k) = 0.0f;
    for (k = 0; k < m->nlim; ++k) BGPBT__LANE(sim, env, sim->o_laml, k) = 0.0f;
    for (k = 0; k < 6 * m->nbody; ++k) BGPBT__LANE(sim, env, sim->o_cfrc, k) = 0.0f;
    BGPBT__LANE(sim, env, sim->o_ncon, 0) = 0.0f;
}

/* normalise quaternion coordinates of a qpos vector in place */
BGPBT__PRIVATE void bgpbt__sim_fix_quats(const bgpbt_sim_model* m, float* q) {
    int j;
    for (j = 0; j < m->njnt; ++j) {
        int a = m->jnt_qposadr[j];
        if (m->jnt_type[j] == BGPBT_SIM_JOINT_FREE) bgpbt__q_normalize(q + a + 3);
        else if (m->jnt_type[j] == BGPBT_SIM_JOINT_BALL) bgpbt__q_normalize(q + a);
    }
}

BGPBT_API bgpbt_result bgpbt_sim_create(const bgpbt_sim_model* model, const bgpbt_sim_config* config, bgpbt_sim** out) {
    bgpbt_sim_config c = config ? *config : bgpbt_sim_config_default();
    bgpbt_sim* sim;
    const bgpbt_sim_model* m = model;
    size_t o = 0, s = 0;
    int e, b, t;
    if (!out) return bgpbt__error(&c.logger, BGPBT_ERR_INVALID_ARGUMENT, "bgpbt_sim_create: out is NULL");
    *out = NULL;
    if (!m) return bgpbt__error(&c.logger, BGPBT_ERR_INVALID_ARGUMENT, "bgpbt_sim_create: model is NULL");
    if (c.num_envs == 0) c.num_envs = 1;
    if (c.frame_skip == 0) c.frame_skip = 1;
    if (c.num_envs < 0 || c.num_envs > (1 << 24))
        return bgpbt__error(&c.logger, BGPBT_ERR_OUT_OF_RANGE, "bgpbt_sim_create: num_envs %d out of range [1, 2^24]", c.num_envs);
    if (c.frame_skip < 0 || c.frame_skip > 100000)
        return bgpbt__error(&c.logger, BGPBT_ERR_OUT_OF_RANGE, "bgpbt_sim_create: frame_skip %d out of range [1, 100000]", c.frame_skip);
    sim = (bgpbt_sim*)bgpbt__calloc(&c.allocator, 1, sizeof *sim);
    if (!sim) return bgpbt__error(&c.logger, BGPBT_ERR_OUT_OF_MEMORY, "sim: out of memory");
    sim->m = m;
    sim->alloc = c.allocator;
    sim->log = c.logger;
    sim->num_envs = c.num_envs;
    sim->frame_skip = c.frame_skip;
    sim->nblock = (c.num_envs + BGPBT_FW_WIDTH - 1) / BGPBT_FW_WIDTH;
    sim->nscratch = bgpbt_max_threads();
    if (sim->nscratch < 1) sim->nscratch = 1;
    if (sim->nscratch > sim->nblock) sim->nscratch = sim->nblock;
#define BGPBT__O(field, n) (sim->field = o, o += (size_t)(n))
    BGPBT__O(o_qpos, m->nq); BGPBT__O(o_qvel, m->nv); BGPBT__O(o_ctrl, m->nu); BGPBT__O(o_lam, 3 * m->nslot);
    BGPBT__O(o_laml, m->nlim); BGPBT__O(o_xpos, 3 * m->nbody); BGPBT__O(o_xquat, 4 * m->nbody); BGPBT__O(o_xmat, 9 * m->nbody);
    BGPBT__O(o_xipos, 3 * m->nbody); BGPBT__O(o_cdof, 6 * m->nv); BGPBT__O(o_ref, 3); BGPBT__O(o_cfrc, 6 * m->nbody);
    BGPBT__O(o_ncon, 1);
#undef BGPBT__O
    sim->stride = o;
#define BGPBT__S(field, n) (sim->field = s, s += (size_t)(n))
    BGPBT__S(s_cinert, 10 * m->nbody); BGPBT__S(s_cvel, 6 * m->nbody); BGPBT__S(s_cdofdot, 6 * m->nv); BGPBT__S(s_cacc, 6 * m->nbody);
    BGPBT__S(s_f, 6 * m->nbody); BGPBT__S(s_M, (size_t)m->nv * m->nv); BGPBT__S(s_dinv, m->nv); BGPBT__S(s_qfrc, m->nv);
    BGPBT__S(s_v, m->nv); BGPBT__S(s_jan, 3 * m->njnt); BGPBT__S(s_jax, 3 * m->njnt); BGPBT__S(s_gpos, 3 * m->ngeom);
    BGPBT__S(s_gmat, 9 * m->ngeom); BGPBT__S(s_rows, bgpbt__sim_row_size(m) * (size_t)m->nslot);
    BGPBT__S(s_lrows, ((size_t)m->nv + 4) * (size_t)m->nlim);
#undef BGPBT__S
    sim->scr_stride = s + 1;
    sim->data = (bgpbt_fw*)bgpbt__calloc(&sim->alloc, sim->stride * (size_t)sim->nblock, sizeof(bgpbt_fw));
    sim->scratch = (bgpbt_fw*)bgpbt__calloc(&sim->alloc, sim->scr_stride * (size_t)sim->nscratch, sizeof(bgpbt_fw));
    sim->act_slot = (int*)bgpbt__calloc(&sim->alloc, (size_t)(m->nslot + m->nlim + 1) * (size_t)sim->nscratch, sizeof(int));
    sim->flagged = (int*)bgpbt__calloc(&sim->alloc, (size_t)sim->nblock * BGPBT_FW_WIDTH, sizeof(int));
    sim->warn = (long*)bgpbt__calloc(&sim->alloc, (size_t)sim->nblock * BGPBT_FW_WIDTH, sizeof(long));
    if (!sim->data || !sim->scratch || !sim->act_slot || !sim->flagged || !sim->warn) {
        bgpbt_sim_destroy(sim);
        return bgpbt__error(&c.logger, BGPBT_ERR_OUT_OF_MEMORY, "sim: out of memory for %d envs", c.num_envs);
    }
    for (e = 0; e < sim->nblock * BGPBT_FW_WIDTH; ++e) bgpbt__sim_reset_lane(sim, e, NULL, NULL);
    for (b = 0; b < sim->nblock; ++b) bgpbt__sim_kinematics(sim, sim->data + (size_t)b * sim->stride, sim->scratch);
    (void)t;
    *out = sim;
    return BGPBT_OK;
}

BGPBT_API void bgpbt_sim_destroy(bgpbt_sim* sim) {
    bgpbt_allocator a;
    if (!sim) return;
    a = sim->alloc;
    bgpbt__cfree(&a, sim->data, sim->stride * (size_t)sim->nblock, sizeof(bgpbt_fw));
    bgpbt__cfree(&a, sim->scratch, sim->scr_stride * (size_t)sim->nscratch, sizeof(bgpbt_fw));
    bgpbt__cfree(&a, sim->act_slot, (size_t)(sim->m->nslot + sim->m->nlim + 1) * (size_t)sim->nscratch, sizeof(int));
    bgpbt__cfree(&a, sim->flagged, (size_t)sim->nblock * BGPBT_FW_WIDTH, sizeof(int));
    bgpbt__cfree(&a, sim->warn, (size_t)sim->nblock * BGPBT_FW_WIDTH, sizeof(long));
    bgpbt__cfree(&a, sim, 1, sizeof *sim);
}

BGPBT_API const bgpbt_sim_model* bgpbt_sim_get_model(const bgpbt_sim* sim) { return sim ? sim->m : NULL; }
BGPBT_API int bgpbt_sim_num_envs(const bgpbt_sim* sim) { return sim ? sim->num_envs : 0; }
BGPBT_API int bgpbt_sim_frame_skip(const bgpbt_sim* sim) { return sim ? sim->frame_skip : 0; }
BGPBT_API bgpbt_result bgpbt_sim_set_frame_skip(bgpbt_sim* sim, int frame_skip) {
    if (!sim) return BGPBT_ERR_INVALID_ARGUMENT;
    if (frame_skip < 1 || frame_skip > 100000)
        return bgpbt__error(&sim->log, BGPBT_ERR_OUT_OF_RANGE, "sim: frame_skip %d out of range [1, 100000]", frame_skip);
    sim->frame_skip = frame_skip;
    return BGPBT_OK;
}

#define BGPBT__VOIDRET
#define BGPBT__SIM_CHECK_ENV(ret)                                                                  \
    if (!sim || env < 0 || env >= sim->num_envs) {                                               \
        if (sim) (void)bgpbt__error(&sim->log, BGPBT_ERR_OUT_OF_RANGE, "sim: env %d out of range", env); \
        return ret;                                                                              \
    }

BGPBT__PRIVATE void bgpbt__sim_refresh(bgpbt_sim* sim, int env) {
    /* recompute the kinematics of the env's block (a pure function of each lane's qpos) */
    bgpbt__sim_kinematics(sim, sim->data + (size_t)(env / BGPBT_FW_WIDTH) * sim->stride, sim->scratch);
}

BGPBT_API bgpbt_result bgpbt_sim_set_qpos(bgpbt_sim* sim, int env, const float* qpos) {
    const bgpbt_sim_model* m;
    int k;
    BGPBT__SIM_CHECK_ENV(BGPBT_ERR_OUT_OF_RANGE)
    m = sim->m;
    if (!qpos) return bgpbt__error(&sim->log, BGPBT_ERR_INVALID_ARGUMENT, "sim_set_qpos: qpos is NULL");
    if (!bgpbt__finite_n(qpos, m->nq)) return bgpbt__error(&sim->log, BGPBT_ERR_NOT_FINITE, "sim_set_qpos: non-finite value (env %d)", env);
    for (k = 0; k < m->nq; ++k) BGPBT__LANE(sim, env, sim->o_qpos, k) = qpos[k];
    {
        float q[4];
        int j;
        for (j = 0; j < m->njnt; ++j) {
            int a = m->jnt_qposadr[j] + (m->jnt_type[j] == BGPBT_SIM_JOINT_FREE ? 3 : 0);
            if (m->jnt_type[j] != BGPBT_SIM_JOINT_FREE && m->jnt_type[j] != BGPBT_SIM_JOINT_BALL) continue;
            for (k = 0; k < 4; ++k) q[k] = qpos[a + k];
            bgpbt__q_normalize(q);
            for (k = 0; k < 4; ++k) BGPBT__LANE(sim, env, sim->o_qpos, a + k) = q[k];
        }
    }
    for (k = 0; k < 3 * m->nslot; ++k) BGPBT__LANE(sim, env, sim->o_lam, k) = 0.0f;
    for (k = 0; k < m->nlim; ++k) BGPBT__LANE(sim, env, sim->o_laml, k) = 0.0f;
    bgpbt__sim_refresh(sim, env);
    return BGPBT_OK;
}
BGPBT_API bgpbt_result bgpbt_sim_set_qvel(bgpbt_sim* sim, int env, const float* qvel) {
    int k;
    BGPBT__SIM_CHECK_ENV(BGPBT_ERR_OUT_OF_RANGE)
    if (!qvel) return bgpbt__error(&sim->log, BGPBT_ERR_INVALID_ARGUMENT, "sim_set_qvel: qvel is NULL");
    if (!bgpbt__finite_n(qvel, sim->m->nv)) return bgpbt__error(&sim->log, BGPBT_ERR_NOT_FINITE, "sim_set_qvel: non-finite value (env %d)", env);
    for (k = 0; k < sim->m->nv; ++k) BGPBT__LANE(sim, env, sim->o_qvel, k) = qvel[k];
    return BGPBT_OK;
}
BGPBT_API bgpbt_result bgpbt_sim_set_ctrl(bgpbt_sim* sim, int env, const float* ctrl) {
    int k;
    BGPBT__SIM_CHECK_ENV(BGPBT_ERR_OUT_OF_RANGE)
    if (!ctrl && sim->m->nu) return bgpbt__error(&sim->log, BGPBT_ERR_INVALID_ARGUMENT, "sim_set_ctrl: ctrl is NULL");
    if (!bgpbt__finite_n(ctrl, sim->m->nu)) return bgpbt__error(&sim->log, BGPBT_ERR_NOT_FINITE, "sim_set_ctrl: non-finite value (env %d)", env);
    for (k = 0; k < sim->m->nu; ++k) BGPBT__LANE(sim, env, sim->o_ctrl, k) = ctrl[k];
    return BGPBT_OK;
}
BGPBT_API bgpbt_result bgpbt_sim_set_ctrl_all(bgpbt_sim* sim, const float* ctrl) {
    int e, k, nu;
    if (!sim) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!ctrl && sim->m->nu) return bgpbt__error(&sim->log, BGPBT_ERR_INVALID_ARGUMENT, "sim_set_ctrl_all: ctrl is NULL");
    nu = sim->m->nu;
    if (!bgpbt__finite_n(ctrl, nu * sim->num_envs)) return bgpbt__error(&sim->log, BGPBT_ERR_NOT_FINITE, "sim_set_ctrl_all: non-finite value");
    for (e = 0; e < sim->num_envs; ++e)
        for (k = 0; k < nu; ++k) BGPBT__LANE(sim, e, sim->o_ctrl, k) = ctrl[(size_t)e * nu + k];
    return BGPBT_OK;
}
BGPBT_API void bgpbt_sim_get_qpos(const bgpbt_sim* sim, int env, float* qpos) {
    int k;
    BGPBT__SIM_CHECK_ENV(BGPBT__VOIDRET)
    if (qpos) for (k = 0; k < sim->m->nq; ++k) qpos[k] = BGPBT__LANE(sim, env, sim->o_qpos, k);
}
BGPBT_API void bgpbt_sim_get_qvel(const bgpbt_sim* sim, int env, float* qvel) {
    int k;
    BGPBT__SIM_CHECK_ENV(BGPBT__VOIDRET)
    if (qvel) for (k = 0; k < sim->m->nv; ++k) qvel[k] = BGPBT__LANE(sim, env, sim->o_qvel, k);
}
BGPBT_API void bgpbt_sim_get_ctrl(const bgpbt_sim* sim, int env, float* ctrl) {
    int k;
    BGPBT__SIM_CHECK_ENV(BGPBT__VOIDRET)
    if (ctrl) for (k = 0; k < sim->m->nu; ++k) ctrl[k] = BGPBT__LANE(sim, env, sim->o_ctrl, k);
}
BGPBT_API bgpbt_result bgpbt_sim_reset_env(bgpbt_sim* sim, int env, const float* qpos, const float* qvel) {
    BGPBT__SIM_CHECK_ENV(BGPBT_ERR_OUT_OF_RANGE)
    if ((qpos && !bgpbt__finite_n(qpos, sim->m->nq)) || (qvel && !bgpbt__finite_n(qvel, sim->m->nv)))
        return bgpbt__error(&sim->log, BGPBT_ERR_NOT_FINITE, "sim_reset_env: non-finite qpos or qvel (env %d)", env);
    bgpbt__sim_reset_lane(sim, env, qpos, qvel);
    if (qpos) {
        float q[4];
        int j, k;
        for (j = 0; j < sim->m->njnt; ++j) {
            int a = sim->m->jnt_qposadr[j] + (sim->m->jnt_type[j] == BGPBT_SIM_JOINT_FREE ? 3 : 0);
            if (sim->m->jnt_type[j] != BGPBT_SIM_JOINT_FREE && sim->m->jnt_type[j] != BGPBT_SIM_JOINT_BALL) continue;
            for (k = 0; k < 4; ++k) q[k] = qpos[a + k];
            bgpbt__q_normalize(q);
            for (k = 0; k < 4; ++k) BGPBT__LANE(sim, env, sim->o_qpos, a + k) = q[k];
        }
    }
    sim->flagged[env] = 0;
    bgpbt__sim_refresh(sim, env);
    return BGPBT_OK;
}

/* Check each lane of a block; reset bad ones to qpos0. Returns 1 if any lane was reset. */
BGPBT__PRIVATE int bgpbt__sim_check_block(bgpbt_sim* sim, int blkid) {
    const bgpbt_sim_model* m = sim->m;
    bgpbt_fw* blk = sim->data + (size_t)blkid * sim->stride;
    bgpbt_fm good;
    float lanes[BGPBT_FW_WIDTH];
    int k, l, any = 0;
    bgpbt_fw lim = BGPBT__K(BGPBT__SIM_BAD_LIMIT);
    bgpbt_fw acc = BGPBT__K(1.0f);
    for (k = 0; k < m->nq; ++k) { /* NaN compares false: the lane's flag drops to 0 */
        good = bgpbt_fw_le(bgpbt_fw_abs(blk[sim->o_qpos + k]), lim);
        acc = bgpbt_fw_blend(good, bgpbt_fw_zero(), acc);
    }
    for (k = 0; k < m->nv; ++k) {
        good = bgpbt_fw_le(bgpbt_fw_abs(blk[sim->o_qvel + k]), lim);
        acc = bgpbt_fw_blend(good, bgpbt_fw_zero(), acc);
    }
    bgpbt_fw_store(lanes, acc);
    for (l = 0; l < BGPBT_FW_WIDTH; ++l) {
        int env = blkid * BGPBT_FW_WIDTH + l;
        if (lanes[l] == 1.0f) continue;
        bgpbt__sim_reset_lane(sim, env, NULL, NULL);
        sim->flagged[env] = 1;
        sim->warn[env]++;
        any = 1;
    }
    return any;
}

BGPBT_API bgpbt_result bgpbt_sim_step(bgpbt_sim* sim) {
    int nblock, fs;
    long b;
    if (!sim) return BGPBT_ERR_INVALID_ARGUMENT;
    nblock = sim->nblock;
    fs = sim->frame_skip;
    BGPBT_OMP(parallel for schedule(static) num_threads(sim->nscratch) if (sim->nscratch > 1))
    for (b = 0; b < nblock; ++b) {
        int tid = 0, s;
        bgpbt_fw* blk = sim->data + (size_t)b * sim->stride;
        bgpbt_fw* scr;
#if BGPBT__HAS_OPENMP
        tid = omp_get_thread_num();
#endif
        scr = bgpbt__sim_scratch(sim, tid);
        for (s = 0; s < fs; ++s) bgpbt__sim_substep(sim, blk, scr, sim->act_slot + (size_t)tid * (size_t)(sim->m->nslot + sim->m->nlim + 1));
        if (bgpbt__sim_check_block(sim, (int)b)) bgpbt__sim_kinematics(sim, blk, scr);
    }
    {
        int e;
        for (e = 0; e < sim->num_envs; ++e)
            if (sim->flagged[e] == 1) {
                sim->flagged[e] = 2; /* logged once */
                bgpbt__log(&sim->log, BGPBT_LOG_WARN, "sim: env %d became non-finite or absurd; reset to qpos0 and flagged", e);
            }
    }
    return BGPBT_OK;
}

BGPBT_API int bgpbt_sim_env_flagged(const bgpbt_sim* sim, int env) {
    BGPBT__SIM_CHECK_ENV(0)
    return sim->flagged[env] != 0;
}
BGPBT_API void bgpbt_sim_clear_flag(bgpbt_sim* sim, int env) {
    BGPBT__SIM_CHECK_ENV(BGPBT__VOIDRET)
    sim->flagged[env] = 0;
}
BGPBT_API long bgpbt_sim_warnings(const bgpbt_sim* sim) {
    long s = 0;
    int e;
    if (!sim) return 0;
    for (e = 0; e < sim->num_envs; ++e) s += sim->warn[e];
    return s;
}

/* ---- per-env observables (scalar reads of one lane) ---- */
#define BGPBT__SIM_CHECK_BODY(ret) BGPBT__SIM_CHECK_ENV(ret) if (body < 0 || body >= sim->m->nbody) return ret;

BGPBT_API void bgpbt_sim_body_pos(const bgpbt_sim* sim, int env, int body, float pos[3]) {
    int k;
    BGPBT__SIM_CHECK_BODY(BGPBT__VOIDRET)
    if (pos) for (k = 0; k < 3; ++k) pos[k] = BGPBT__LANE(sim, env, sim->o_xpos, 3 * body + k);
}
BGPBT_API void bgpbt_sim_body_quat(const bgpbt_sim* sim, int env, int body, float quat[4]) {
    int k;
    BGPBT__SIM_CHECK_BODY(BGPBT__VOIDRET)
    if (quat) for (k = 0; k < 4; ++k) quat[k] = BGPBT__LANE(sim, env, sim->o_xquat, 4 * body + k);
}
BGPBT_API void bgpbt_sim_body_mat(const bgpbt_sim* sim, int env, int body, float mat[9]) {
    int k;
    BGPBT__SIM_CHECK_BODY(BGPBT__VOIDRET)
    if (mat) for (k = 0; k < 9; ++k) mat[k] = BGPBT__LANE(sim, env, sim->o_xmat, 9 * body + k);
}
BGPBT_API void bgpbt_sim_body_com(const bgpbt_sim* sim, int env, int body, float com[3]) {
    int k;
    BGPBT__SIM_CHECK_BODY(BGPBT__VOIDRET)
    if (com) for (k = 0; k < 3; ++k) com[k] = BGPBT__LANE(sim, env, sim->o_xipos, 3 * body + k);
}
/* spatial velocity (about the reference point) of a body: sum over its chain of cdof * qvel */
BGPBT__PRIVATE void bgpbt__sim_body_cvel(const bgpbt_sim* sim, int env, int body, double cv[6]) {
    const bgpbt_sim_model* m = sim->m;
    int k, i;
    for (i = 0; i < 6; ++i) cv[i] = 0;
    for (k = 0; k < m->body_chainnum[body]; ++k) {
        int d = m->chain[m->body_chainadr[body] + k];
        double qv = BGPBT__LANE(sim, env, sim->o_qvel, d);
        for (i = 0; i < 6; ++i) cv[i] += BGPBT__LANE(sim, env, sim->o_cdof, 6 * d + i) * qv;
    }
}
BGPBT_API void bgpbt_sim_body_vel(const bgpbt_sim* sim, int env, int body, float lin[3], float ang[3]) {
    double cv[6], r[3];
    int k;
    BGPBT__SIM_CHECK_BODY(BGPBT__VOIDRET)
    bgpbt__sim_body_cvel(sim, env, body, cv);
    for (k = 0; k < 3; ++k) r[k] = (double)BGPBT__LANE(sim, env, sim->o_xipos, 3 * body + k) - BGPBT__LANE(sim, env, sim->o_ref, k);
    /* v(point) = v_ref + w x (point - ref) */
    if (lin) {
        lin[0] = (float)(cv[3] + cv[1] * r[2] - cv[2] * r[1]);
        lin[1] = (float)(cv[4] + cv[2] * r[0] - cv[0] * r[2]);
        lin[2] = (float)(cv[5] + cv[0] * r[1] - cv[1] * r[0]);
    }
    if (ang) for (k = 0; k < 3; ++k) ang[k] = (float)cv[k];
}
BGPBT_API void bgpbt_sim_body_contact(const bgpbt_sim* sim, int env, int body, float force[3], float torque[3]) {
    int k;
    BGPBT__SIM_CHECK_BODY(BGPBT__VOIDRET)
    for (k = 0; k < 3; ++k) {
        if (force) force[k] = BGPBT__LANE(sim, env, sim->o_cfrc, 6 * body + k);
        if (torque) torque[k] = BGPBT__LANE(sim, env, sim->o_cfrc, 6 * body + 3 + k);
    }
}
BGPBT_API void bgpbt_sim_site_pos(const bgpbt_sim* sim, int env, int site, float pos[3]) {
    float xp[3], R[9], lp[3];
    int b, k;
    BGPBT__SIM_CHECK_ENV(BGPBT__VOIDRET)
    if (site < 0 || site >= sim->m->nsite || !pos) return;
    b = sim->m->site_body[site];
    for (k = 0; k < 3; ++k) xp[k] = BGPBT__LANE(sim, env, sim->o_xpos, 3 * b + k);
    for (k = 0; k < 9; ++k) R[k] = BGPBT__LANE(sim, env, sim->o_xmat, 9 * b + k);
    bgpbt__m3_mulv(lp, R, sim->m->site_pos + 3 * site);
    for (k = 0; k < 3; ++k) pos[k] = xp[k] + lp[k];
}
BGPBT_API void bgpbt_sim_com(const bgpbt_sim* sim, int env, float com[3], float vel[3]) {
    const bgpbt_sim_model* m;
    double c[3] = {0, 0, 0}, v[3] = {0, 0, 0}, mt = 0;
    int b, k;
    BGPBT__SIM_CHECK_ENV(BGPBT__VOIDRET)
    m = sim->m;
    for (b = 1; b < m->nbody; ++b) {
        double mb = m->body_mass[b];
        float lv[3];
        if (mb <= 0) continue;
        mt += mb;
        bgpbt_sim_body_vel(sim, env, b, lv, NULL);
        for (k = 0; k < 3; ++k) {
            c[k] += mb * BGPBT__LANE(sim, env, sim->o_xipos, 3 * b + k);
            v[k] += mb * lv[k];
        }
    }
    if (mt <= 0) mt = 1;
    for (k = 0; k < 3; ++k) {
        if (com) com[k] = (float)(c[k] / mt);
        if (vel) vel[k] = (float)(v[k] / mt);
    }
}
BGPBT_API void bgpbt_sim_geom_pose(const bgpbt_sim* sim, int env, int geom, float pos[3], float mat[9]) {
    const bgpbt_sim_model* m;
    float xp[3], R[9], lp[3];
    int b, k, r, c;
    BGPBT__SIM_CHECK_ENV(BGPBT__VOIDRET)
    m = sim->m;
    if (geom < 0 || geom >= m->ngeom) return;
    b = m->geom_body[geom];
    for (k = 0; k < 3; ++k) xp[k] = BGPBT__LANE(sim, env, sim->o_xpos, 3 * b + k);
    for (k = 0; k < 9; ++k) R[k] = BGPBT__LANE(sim, env, sim->o_xmat, 9 * b + k);
    bgpbt__m3_mulv(lp, R, m->geom_pos + 3 * geom);
    if (pos) for (k = 0; k < 3; ++k) pos[k] = xp[k] + lp[k];
    if (mat)
        for (r = 0; r < 3; ++r)
            for (c = 0; c < 3; ++c)
                mat[3 * r + c] = R[3 * r] * m->geom_mat[9 * geom + c] + R[3 * r + 1] * m->geom_mat[9 * geom + 3 + c] +
                                 R[3 * r + 2] * m->geom_mat[9 * geom + 6 + c];
}
BGPBT_API int bgpbt_sim_num_contacts(const bgpbt_sim* sim, int env) {
    BGPBT__SIM_CHECK_ENV(0)
    return (int)BGPBT__LANE(sim, env, sim->o_ncon, 0);
}

/* ---- MJCF loader ------------------------------------------------------------------------------
   A small XML parser (elements, attributes, comments, <?...?>, <!...>; no entities, no text
   content) builds a tree; the tree is walked into a bgpbt_sim_builder. */

#define BGPBT__XML_MAX_DEPTH 64
#define BGPBT__XML_MAX_NODES 200000

typedef struct bgpbt__xnode {
    const char* name; int nlen; int line;
    int parent, child, last, next;
    int attr, nattr;
} bgpbt__xnode;
typedef struct bgpbt__xattr { const char* name; int nlen; const char* val; int vlen; } bgpbt__xattr;

typedef struct bgpbt__mj {
    bgpbt_allocator alloc;
    bgpbt_logger log;
    const char* src; size_t len;
    bgpbt__xnode* node; int nnode, cap_node;
    bgpbt__xattr* attr; int nattr, cap_attr;
    bgpbt_sim_builder* b;
    int degree, global, autolimits, inertia_mode; /* inertia_mode: 0 false, 1 true, 2 auto */
    char buf[4096];
    char msg[160];
    bgpbt_result last_err; /* code of the last error logged by a value parser */
} bgpbt__mj;

BGPBT__PRIVATE int bgpbt__mj_grow(bgpbt__mj* c, void** arr, int* cap, int need, size_t elem) {
    int nc;
    void* p;
    if (need <= *cap) return 1;
    nc = *cap ? *cap * 2 : 64;
    while (nc < need) nc *= 2;
    p = bgpbt__calloc(&c->alloc, (size_t)nc, elem);
    if (!p) return 0;
    if (*arr) {
        memcpy(p, *arr, (size_t)*cap * elem);
        bgpbt__cfree(&c->alloc, *arr, (size_t)*cap, elem);
    }
    *arr = p;
    *cap = nc;
    return 1;
}

BGPBT__PRIVATE int bgpbt__xml_namech(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == ':' || ch == '.';
}

BGPBT__PRIVATE bgpbt_result bgpbt__xml_parse(bgpbt__mj* c) {
    const char* s = c->src;
    size_t n = c->len, i = 0;
    int line = 1, cur = -1, depth = 0, root_done = 0;
#define BGPBT__XE(code, ...) return bgpbt__error(&c->log, code, __VA_ARGS__)
    while (i < n) {
        char ch = s[i];
        if (ch == '\n') { line++; i++; continue; }
        if (ch != '<') {
            if (ch == 0) BGPBT__XE(BGPBT_ERR_PARSE, "MJCF line %d: NUL byte in the text", line);
            if (cur < 0 && !(ch == ' ' || ch == '\t' || ch == '\r')) {
                if (!(i == 0 && n >= 3 && (unsigned char)s[0] == 0xEF && (unsigned char)s[1] == 0xBB && (unsigned char)s[2] == 0xBF))
                    BGPBT__XE(BGPBT_ERR_PARSE, "MJCF line %d: text outside the root element", line);
                i += 3;
                continue;
            }
            i++;
            continue;
        }
        if (i + 3 < n && s[i + 1] == '!' && s[i + 2] == '-' && s[i + 3] == '-') { /* comment */
            size_t j = i + 4;
            int l0 = line;
            while (j + 2 < n && !(s[j] == '-' && s[j + 1] == '-' && s[j + 2] == '>')) { if (s[j] == '\n') line++; j++; }
            if (j + 2 >= n) BGPBT__XE(BGPBT_ERR_PARSE, "MJCF line %d: unterminated comment", l0);
            i = j + 3;
            continue;
        }
        if (i + 1 < n && (s[i + 1] == '?' || s[i + 1] == '!')) { /* declaration or processing instruction */
            size_t j = i + 2;
            int l0 = line;
            if (i + 8 < n && memcmp(s + i, "<![CDATA[", 9) == 0) BGPBT__XE(BGPBT_ERR_UNSUPPORTED, "MJCF line %d: CDATA is not supported", line);
            while (j < n && s[j] != '>') { if (s[j] == '\n') line++; j++; }
            if (j >= n) BGPBT__XE(BGPBT_ERR_PARSE, "MJCF line %d: unterminated <? or <!", l0);
            i = j + 1;
            continue;
        }
        if (i + 1 < n && s[i + 1] == '/') { /* closing tag */
            size_t j = i + 2, st;
            st = j;
            while (j < n && bgpbt__xml_namech(s[j])) j++;
            if (cur < 0) BGPBT__XE(BGPBT_ERR_PARSE, "MJCF line %d: closing tag without an open element", line);
            if ((int)(j - st) != c->node[cur].nlen || memcmp(s + st, c->node[cur].name, j - st) != 0)
                BGPBT__XE(BGPBT_ERR_PARSE, "MJCF line %d: closing tag </%.*s> does not match <%.*s> (line %d)", line, (int)(j - st > 60 ? 60 : j - st),
                          s + st, c->node[cur].nlen > 60 ? 60 : c->node[cur].nlen, c->node[cur].name, c->node[cur].line);
            while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n')) { if (s[j] == '\n') line++; j++; }
            if (j >= n || s[j] != '>') BGPBT__XE(BGPBT_ERR_PARSE, "MJCF line %d: malformed closing tag", line);
            i = j + 1;
            cur = c->node[cur].parent;
            depth--;
            if (cur < 0) root_done = 1;
            continue;
        }
        { /* opening tag */
            size_t j = i + 1, st = j;
            int id, selfclose = 0;
            bgpbt__xnode* nd;
            while (j < n && bgpbt__xml_namech(s[j])) j++;
            if (j == st) BGPBT__XE(BGPBT_ERR_PARSE, "MJCF line %d: '<' not followed by an element name", line);
            if (root_done || (cur < 0 && c->nnode > 0)) BGPBT__XE(BGPBT_ERR_PARSE, "MJCF line %d: more than one root element", line);
            if (depth >= BGPBT__XML_MAX_DEPTH) BGPBT__XE(BGPBT_ERR_LIMIT, "MJCF line %d: elements nested deeper than %d", line, BGPBT__XML_MAX_DEPTH);
            if (c->nnode >= BGPBT__XML_MAX_NODES) BGPBT__XE(BGPBT_ERR_LIMIT, "MJCF line %d: more than %d elements", line, BGPBT__XML_MAX_NODES);
            if (!bgpbt__mj_grow(c, (void**)&c->node, &c->cap_node, c->nnode + 1, sizeof *c->node))
                BGPBT__XE(BGPBT_ERR_OUT_OF_MEMORY, "MJCF: out of memory");
            id = c->nnode++;
            nd = &c->node[id];
            nd->name = s + st; nd->nlen = (int)(j - st); nd->line = line;
            nd->parent = cur; nd->child = nd->last = nd->next = -1;
            nd->attr = c->nattr; nd->nattr = 0;
            if (cur >= 0) {
                if (c->node[cur].last >= 0) c->node[c->node[cur].last].next = id;
                else c->node[cur].child = id;
                c->node[cur].last = id;
            }
            for (;;) { /* attributes */
                size_t an, ae, vs;
                char q;
                int k;
                while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n')) { if (s[j] == '\n') line++; j++; }
                if (j >= n) BGPBT__XE(BGPBT_ERR_TRUNCATED, "MJCF line %d: the file ends inside <%.*s>", line, nd->nlen > 60 ? 60 : nd->nlen, nd->name);
                if (s[j] == '>') { j++; break; }
                if (s[j] == '/' && j + 1 < n && s[j + 1] == '>') { j += 2; selfclose = 1; break; }
                an = j;
                while (j < n && bgpbt__xml_namech(s[j])) j++;
                ae = j;
                if (ae == an) BGPBT__XE(BGPBT_ERR_PARSE, "MJCF line %d: bad character '%c' in <%.*s>", line, s[j] >= 32 && s[j] < 127 ? s[j] : '?', nd->nlen > 60 ? 60 : nd->nlen, nd->name);
                while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n')) { if (s[j] == '\n') line++; j++; }
                if (j >= n || s[j] != '=') BGPBT__XE(BGPBT_ERR_PARSE, "MJCF line %d: attribute '%.*s' without a value", line, (int)(ae - an > 60 ? 60 : ae - an), s + an);
                j++;
                while (j < n && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r' || s[j] == '\n')) { if (s[j] == '\n') line++; j++; }
                if (j >= n || (s[j] != '"' && s[j] != '\'')) BGPBT__XE(BGPBT_ERR_PARSE, "MJCF line %d: attribute value must be quoted", line);
                q = s[j++];
                vs = j;
                while (j < n && s[j] != q) { if (s[j] == '\n') line++; if (s[j] == '<' || s[j] == 0) break; j++; }
                if (j >= n || s[j] != q) BGPBT__XE(BGPBT_ERR_PARSE, "MJCF line %d: unterminated attribute value", line);
                for (k = nd->attr; k < c->nattr; ++k)
                    if (c->attr[k].nlen == (int)(ae - an) && memcmp(c->attr[k].name, s + an, ae - an) == 0)
                        BGPBT__XE(BGPBT_ERR_PARSE, "MJCF line %d: repeated attribute '%.*s'", line, (int)(ae - an > 60 ? 60 : ae - an), s + an);
                if (c->nattr >= 1000000) BGPBT__XE(BGPBT_ERR_LIMIT, "MJCF line %d: too many attributes", line);
                if (!bgpbt__mj_grow(c, (void**)&c->attr, &c->cap_attr, c->nattr + 1, sizeof *c->attr))
                    BGPBT__XE(BGPBT_ERR_OUT_OF_MEMORY, "MJCF: out of memory");
                nd = &c->node[id];
                c->attr[c->nattr].name = s + an; c->attr[c->nattr].nlen = (int)(ae - an);
                c->attr[c->nattr].val = s + vs; c->attr[c->nattr].vlen = (int)(j - vs);
                c->nattr++;
                nd->nattr++;
                j++;
            }
            i = j;
            if (!selfclose) { cur = id; depth++; }
            else if (cur < 0) root_done = 1;
        }
    }
    if (cur >= 0) BGPBT__XE(BGPBT_ERR_TRUNCATED, "MJCF: the file ends before </%.*s> (opened at line %d)", c->node[cur].nlen > 60 ? 60 : c->node[cur].nlen,
                            c->node[cur].name, c->node[cur].line);
    if (c->nnode == 0) BGPBT__XE(BGPBT_ERR_PARSE, "MJCF: no root element");
#undef BGPBT__XE
    return BGPBT_OK;
}

BGPBT__PRIVATE int bgpbt__xis(const bgpbt__mj* c, int nd, const char* name) {
    size_t l = strlen(name);
    return (size_t)c->node[nd].nlen == l && memcmp(c->node[nd].name, name, l) == 0;
}
BGPBT__PRIVATE const bgpbt__xattr* bgpbt__xattr_own(const bgpbt__mj* c, int nd, const char* name) {
    int k;
    size_t l = strlen(name);
    if (nd < 0) return NULL;
    for (k = c->node[nd].attr; k < c->node[nd].attr + c->node[nd].nattr; ++k)
        if ((size_t)c->attr[k].nlen == l && memcmp(c->attr[k].name, name, l) == 0) return &c->attr[k];
    return NULL;
}

/* Attribute lookup through the default classes: own value, then the class chain. `dcls` is the
   default node of the element's class (or -1), `tag` the element name inside defaults. */
BGPBT__PRIVATE const bgpbt__xattr* bgpbt__mj_get(const bgpbt__mj* c, int nd, int dcls, const char* tag, const char* name) {
    const bgpbt__xattr* a = bgpbt__xattr_own(c, nd, name);
    int d;
    if (a) return a;
    for (d = dcls; d >= 0 && bgpbt__xis(c, d, "default"); d = c->node[d].parent) {
        int ch;
        for (ch = c->node[d].child; ch >= 0; ch = c->node[ch].next)
            if (bgpbt__xis(c, ch, tag)) {
                a = bgpbt__xattr_own(c, ch, name);
                if (a) return a;
            }
    }
    return NULL;
}

BGPBT__PRIVATE const char* bgpbt__mj_str(bgpbt__mj* c, const bgpbt__xattr* a) {
    int l = a->vlen < (int)sizeof c->buf - 1 ? a->vlen : (int)sizeof c->buf - 1;
    memcpy(c->buf, a->val, (size_t)l);
    c->buf[l] = 0;
    return c->buf;
}
BGPBT__PRIVATE int bgpbt__mj_streq(const bgpbt__xattr* a, const char* s) {
    size_t l = strlen(s);
    return a && (size_t)a->vlen == l && memcmp(a->val, s, l) == 0;
}

/* Parse up to `maxn` numbers; returns the count or -1 (with an error logged) on bad input. */
BGPBT__PRIVATE int bgpbt__mj_nums(bgpbt__mj* c, int nd, const bgpbt__xattr* a, double* out, int maxn) {
    const char* p;
    int n = 0;
    if (a->vlen >= (int)sizeof c->buf - 1) {
        c->last_err = bgpbt__error(&c->log, BGPBT_ERR_LIMIT, "MJCF line %d: attribute '%.*s' is too long", c->node[nd].line, a->nlen > 60 ? 60 : a->nlen, a->name);
        return -1;
    }
    p = bgpbt__mj_str(c, a);
    for (;;) {
        char* e;
        double v;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
        if (!*p) break;
        v = strtod(p, &e);
        if (e == p || (*e && *e != ' ' && *e != '\t' && *e != '\n' && *e != '\r')) {
            c->last_err = bgpbt__error(&c->log, BGPBT_ERR_PARSE, "MJCF line %d: attribute '%.*s' of <%.*s>: not a number list", c->node[nd].line,
                         a->nlen > 60 ? 60 : a->nlen, a->name, c->node[nd].nlen > 60 ? 60 : c->node[nd].nlen, c->node[nd].name);
            return -1;
        }
        if (!(v - v == 0) || fabs(v) > 1e9) {
            c->last_err = bgpbt__error(&c->log, BGPBT_ERR_OUT_OF_RANGE, "MJCF line %d: attribute '%.*s' of <%.*s>: value not finite or beyond 1e9",
                         c->node[nd].line, a->nlen > 60 ? 60 : a->nlen, a->name, c->node[nd].nlen > 60 ? 60 : c->node[nd].nlen, c->node[nd].name);
            return -1;
        }
        if (n >= maxn) {
            c->last_err = bgpbt__error(&c->log, BGPBT_ERR_PARSE, "MJCF line %d: attribute '%.*s' of <%.*s>: more than %d numbers", c->node[nd].line,
                         a->nlen > 60 ? 60 : a->nlen, a->name, c->node[nd].nlen > 60 ? 60 : c->node[nd].nlen, c->node[nd].name, maxn);
            return -1;
        }
        out[n++] = v;
        p = e;
    }
    return n;
}

/* Exactly n numbers (or a prefix of at least `minn`) into a float array. Returns 1 found, 0 absent, -1 error. */
BGPBT__PRIVATE int bgpbt__mj_vec(bgpbt__mj* c, int nd, int dcls, const char* tag, const char* name, float* out, int minn, int maxn) {
    const bgpbt__xattr* a = bgpbt__mj_get(c, nd, dcls, tag, name);
    double v[16];
    int k, cnt;
    if (!a) return 0;
    cnt = bgpbt__mj_nums(c, nd, a, v, maxn < 16 ? maxn : 16);
    if (cnt < 0) return -1;
    if (cnt < minn) {
        c->last_err = bgpbt__error(&c->log, BGPBT_ERR_PARSE, "MJCF line %d: attribute '%s' of <%s> needs %d numbers, has %d", c->node[nd].line, name, tag, minn, cnt);
        return -1;
    }
    for (k = 0; k < cnt; ++k) out[k] = (float)v[k];
    return 1;
}

BGPBT__PRIVATE bgpbt_result bgpbt__mj_bad_attr(bgpbt__mj* c, int nd, const bgpbt__xattr* a) {
    return bgpbt__error(&c->log, BGPBT_ERR_UNSUPPORTED, "MJCF line %d: attribute '%.*s' of <%.*s> is not supported", c->node[nd].line,
                        a->nlen > 60 ? 60 : a->nlen, a->name, c->node[nd].nlen > 60 ? 60 : c->node[nd].nlen, c->node[nd].name);
}
/* Every attribute of nd must be in the space-separated list. */
BGPBT__PRIVATE bgpbt_result bgpbt__mj_check_attrs(bgpbt__mj* c, int nd, const char* list) {
    int k;
    for (k = c->node[nd].attr; k < c->node[nd].attr + c->node[nd].nattr; ++k) {
        const bgpbt__xattr* a = &c->attr[k];
        const char* p = list;
        int ok = 0;
        while (*p && !ok) {
            const char* e = p;
            while (*e && *e != ' ') e++;
            if ((int)(e - p) == a->nlen && memcmp(p, a->name, (size_t)a->nlen) == 0) ok = 1;
            p = *e ? e + 1 : e;
        }
        if (!ok) return bgpbt__mj_bad_attr(c, nd, a);
    }
    return BGPBT_OK;
}

#define BGPBT__MJ_JOINT_ATTRS "name class type pos axis range limited damping stiffness springref armature ref margin solreflimit solimplimit frictionloss group user"
#define BGPBT__MJ_GEOM_ATTRS "name class type size pos quat axisangle euler zaxis xyaxes fromto density mass friction contype conaffinity condim margin gap solref solimp solmix priority rgba material group user"
#define BGPBT__MJ_SITE_ATTRS "name class type pos quat size rgba group material axisangle euler zaxis xyaxes fromto user"
#define BGPBT__MJ_MOTOR_ATTRS "name class joint gear ctrlrange ctrllimited forcerange forcelimited group user"

BGPBT__PRIVATE bgpbt_result bgpbt__mj_unsupported_elem(bgpbt__mj* c, int nd, const char* why) {
    return bgpbt__error(&c->log, BGPBT_ERR_UNSUPPORTED, "MJCF line %d: element <%.*s> is not supported%s%s", c->node[nd].line,
                        c->node[nd].nlen > 60 ? 60 : c->node[nd].nlen, c->node[nd].name, why ? ": " : "", why ? why : "");
}

/* Validate the default tree: children are joint/geom/site/motor (checked), visual ones ignored. */
BGPBT__PRIVATE bgpbt_result bgpbt__mj_check_default(bgpbt__mj* c, int nd) {
    int ch;
    bgpbt_result r = bgpbt__mj_check_attrs(c, nd, "class");
    if (r) return r;
    if (c->node[nd].parent >= 0 && bgpbt__xis(c, c->node[nd].parent, "default") && !bgpbt__xattr_own(c, nd, "class"))
        return bgpbt__error(&c->log, BGPBT_ERR_PARSE, "MJCF line %d: a nested <default> needs a class", c->node[nd].line);
    for (ch = c->node[nd].child; ch >= 0; ch = c->node[ch].next) {
        if (bgpbt__xis(c, ch, "default")) r = bgpbt__mj_check_default(c, ch);
        else if (bgpbt__xis(c, ch, "joint")) r = bgpbt__mj_check_attrs(c, ch, BGPBT__MJ_JOINT_ATTRS);
        else if (bgpbt__xis(c, ch, "geom")) r = bgpbt__mj_check_attrs(c, ch, BGPBT__MJ_GEOM_ATTRS);
        else if (bgpbt__xis(c, ch, "site")) r = bgpbt__mj_check_attrs(c, ch, BGPBT__MJ_SITE_ATTRS);
        else if (bgpbt__xis(c, ch, "motor")) r = bgpbt__mj_check_attrs(c, ch, BGPBT__MJ_MOTOR_ATTRS);
        else if (bgpbt__xis(c, ch, "camera") || bgpbt__xis(c, ch, "light") || bgpbt__xis(c, ch, "material") || bgpbt__xis(c, ch, "mesh") ||
                 bgpbt__xis(c, ch, "general") || bgpbt__xis(c, ch, "position") || bgpbt__xis(c, ch, "velocity") || bgpbt__xis(c, ch, "tendon") ||
                 bgpbt__xis(c, ch, "equality") || bgpbt__xis(c, ch, "pair"))
            r = BGPBT_OK; /* defaults for elements we refuse or ignore elsewhere: harmless here */
        else r = bgpbt__mj_unsupported_elem(c, ch, "inside <default>");
        if (r) return r;
    }
    return BGPBT_OK;
}

/* The default node of class name (NULL/absent: the root default). */
BGPBT__PRIVATE int bgpbt__mj_find_class(const bgpbt__mj* c, const bgpbt__xattr* cls) {
    int i, root = -1;
    for (i = 0; i < c->nnode; ++i) {
        if (!bgpbt__xis(c, i, "default")) continue;
        if (c->node[i].parent == 0 && root < 0) root = i;
        if (cls) {
            const bgpbt__xattr* a = bgpbt__xattr_own(c, i, "class");
            if (a && a->vlen == cls->vlen && memcmp(a->val, cls->val, (size_t)a->vlen) == 0) return i;
            if (!a && cls->vlen == 4 && memcmp(cls->val, "main", 4) == 0 && c->node[i].parent == 0) return i;
        }
    }
    return cls ? -2 : root;
}

/* class of an element: its class attribute, else the inherited childclass */
BGPBT__PRIVATE int bgpbt__mj_class(bgpbt__mj* c, int nd, int inherited) {
    const bgpbt__xattr* a = bgpbt__xattr_own(c, nd, "class");
    int d;
    if (!a) return inherited;
    d = bgpbt__mj_find_class(c, a);
    if (d == -2) {
        bgpbt__error(&c->log, BGPBT_ERR_UNKNOWN_NAME, "MJCF line %d: unknown class '%.*s'", c->node[nd].line, a->vlen > 60 ? 60 : a->vlen, a->val);
        return -2;
    }
    return d;
}

BGPBT__PRIVATE void bgpbt__mat_to_quat(const double R[9], float q[4]) {
    double tr = R[0] + R[4] + R[8], w, x, y, z, s;
    if (tr > 0) {
        s = sqrt(tr + 1.0) * 2; w = 0.25 * s; x = (R[7] - R[5]) / s; y = (R[2] - R[6]) / s; z = (R[3] - R[1]) / s;
    } else if (R[0] > R[4] && R[0] > R[8]) {
        s = sqrt(1.0 + R[0] - R[4] - R[8]) * 2; w = (R[7] - R[5]) / s; x = 0.25 * s; y = (R[1] + R[3]) / s; z = (R[2] + R[6]) / s;
    } else if (R[4] > R[8]) {
        s = sqrt(1.0 + R[4] - R[0] - R[8]) * 2; w = (R[2] - R[6]) / s; x = (R[1] + R[3]) / s; y = 0.25 * s; z = (R[5] + R[7]) / s;
    } else {
        s = sqrt(1.0 + R[8] - R[0] - R[4]) * 2; w = (R[3] - R[1]) / s; x = (R[2] + R[6]) / s; y = (R[5] + R[7]) / s; z = 0.25 * s;
    }
    q[0] = (float)w; q[1] = (float)x; q[2] = (float)y; q[3] = (float)z;
    bgpbt__q_normalize(q);
}

/* Orientation from quat / axisangle / euler / zaxis / xyaxes: 1 found, 0 none, -1 error. */
BGPBT__PRIVATE int bgpbt__mj_orient(bgpbt__mj* c, int nd, int dcls, const char* tag, float q[4]) {
    float v[6];
    int r, found = 0;
    q[0] = 1; q[1] = q[2] = q[3] = 0;
    if ((r = bgpbt__mj_vec(c, nd, dcls, tag, "quat", v, 4, 4)) < 0) return -1;
    if (r) { memcpy(q, v, 4 * sizeof(float)); bgpbt__q_normalize(q); found++; }
    if ((r = bgpbt__mj_vec(c, nd, dcls, tag, "axisangle", v, 4, 4)) < 0) return -1;
    if (r) { bgpbt__q_from_axis_angle(q, v, c->degree ? v[3] * 3.14159265358979323846 / 180.0 : v[3]); found++; }
    if ((r = bgpbt__mj_vec(c, nd, dcls, tag, "euler", v, 3, 3)) < 0) return -1;
    if (r) { /* intrinsic x, y, z (MuJoCo's default eulerseq "xyz") */
        static const float ex[3] = {1, 0, 0}, ey[3] = {0, 1, 0}, ez[3] = {0, 0, 1};
        float qa[4], qb[4], qc[4];
        double sc = c->degree ? 3.14159265358979323846 / 180.0 : 1.0;
        bgpbt__q_from_axis_angle(qa, ex, v[0] * sc);
        bgpbt__q_from_axis_angle(qb, ey, v[1] * sc);
        bgpbt__q_from_axis_angle(qc, ez, v[2] * sc);
        bgpbt__q_mul(q, qa, qb);
        bgpbt__q_mul(q, q, qc);
        found++;
    }
    if ((r = bgpbt__mj_vec(c, nd, dcls, tag, "zaxis", v, 3, 3)) < 0) return -1;
    if (r) { bgpbt__q_from_zaxis(q, v); found++; }
    if ((r = bgpbt__mj_vec(c, nd, dcls, tag, "xyaxes", v, 6, 6)) < 0) return -1;
    if (r) {
        double x[3], y[3], z[3], nx, d, ny, R[9];
        int k;
        for (k = 0; k < 3; ++k) { x[k] = v[k]; y[k] = v[3 + k]; }
        nx = sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
        if (!(nx > 1e-9)) { c->last_err = bgpbt__error(&c->log, BGPBT_ERR_OUT_OF_RANGE, "MJCF line %d: xyaxes has a zero x axis", c->node[nd].line); return -1; }
        for (k = 0; k < 3; ++k) x[k] /= nx;
        d = x[0] * y[0] + x[1] * y[1] + x[2] * y[2];
        for (k = 0; k < 3; ++k) y[k] -= d * x[k];
        ny = sqrt(y[0] * y[0] + y[1] * y[1] + y[2] * y[2]);
        if (!(ny > 1e-9)) { c->last_err = bgpbt__error(&c->log, BGPBT_ERR_OUT_OF_RANGE, "MJCF line %d: xyaxes axes are parallel", c->node[nd].line); return -1; }
        for (k = 0; k < 3; ++k) y[k] /= ny;
        z[0] = x[1] * y[2] - x[2] * y[1]; z[1] = x[2] * y[0] - x[0] * y[2]; z[2] = x[0] * y[1] - x[1] * y[0];
        for (k = 0; k < 3; ++k) { R[3 * k] = x[k]; R[3 * k + 1] = y[k]; R[3 * k + 2] = z[k]; }
        bgpbt__mat_to_quat(R, q);
        found++;
    }
    if (found > 1) {
        c->last_err = bgpbt__error(&c->log, BGPBT_ERR_PARSE, "MJCF line %d: <%s> has more than one orientation attribute", c->node[nd].line, tag);
        return -1;
    }
    return found;
}

/* frame helpers for coordinate="global": world pose of the current body */
typedef struct bgpbt__mj_frame { float pos[3]; float quat[4]; } bgpbt__mj_frame;
/* world point -> body frame */
BGPBT__PRIVATE void bgpbt__mj_to_local_pt(const bgpbt__mj_frame* f, const float w[3], float l[3]) {
    float R[9], d[3];
    bgpbt__q_to_mat(f->quat, R);
    d[0] = w[0] - f->pos[0]; d[1] = w[1] - f->pos[1]; d[2] = w[2] - f->pos[2];
    bgpbt__m3_tmulv(l, R, d);
}
BGPBT__PRIVATE void bgpbt__mj_to_local_dir(const bgpbt__mj_frame* f, const float w[3], float l[3]) {
    float R[9];
    bgpbt__q_to_mat(f->quat, R);
    bgpbt__m3_tmulv(l, R, w);
}
BGPBT__PRIVATE void bgpbt__mj_to_local_quat(const bgpbt__mj_frame* f, const float w[4], float l[4]) {
    float inv[4];
    inv[0] = f->quat[0]; inv[1] = -f->quat[1]; inv[2] = -f->quat[2]; inv[3] = -f->quat[3];
    bgpbt__q_mul(l, inv, w);
}

BGPBT__PRIVATE const char* bgpbt__mj_name(bgpbt__mj* c, int nd, char* out, size_t cap) {
    const bgpbt__xattr* a = bgpbt__xattr_own(c, nd, "name");
    int l;
    if (!a) return NULL;
    l = a->vlen < (int)cap - 1 ? a->vlen : (int)cap - 1;
    memcpy(out, a->val, (size_t)l);
    out[l] = 0;
    return out;
}

/* true/false/auto attribute: 1, 0, or `dflt` */
BGPBT__PRIVATE int bgpbt__mj_bool(bgpbt__mj* c, int nd, const bgpbt__xattr* a, int dflt, int* err) {
    if (!a || bgpbt__mj_streq(a, "auto")) return dflt;
    if (bgpbt__mj_streq(a, "true")) return 1;
    if (bgpbt__mj_streq(a, "false")) return 0;
    c->last_err = bgpbt__error(&c->log, BGPBT_ERR_PARSE, "MJCF line %d: '%.*s' must be true, false or auto", c->node[nd].line, a->nlen > 60 ? 60 : a->nlen, a->name);
    *err = 1;
    return dflt;
}

BGPBT__PRIVATE bgpbt_result bgpbt__mj_geom(bgpbt__mj* c, int nd, int dcls, int body, const bgpbt__mj_frame* fr) {
    bgpbt_sim_geom_desc g = bgpbt_sim_geom_desc_default();
    const bgpbt__xattr* a;
    float v[6], fromto[6];
    char name[256];
    int r, hasft, k, err = 0;
    bgpbt_result res = bgpbt__mj_check_attrs(c, nd, BGPBT__MJ_GEOM_ATTRS);
    if (res) return res;
    if (dcls == -2) return BGPBT_ERR_UNKNOWN_NAME;
    g.body = body;
    g.name = bgpbt__mj_name(c, nd, name, sizeof name);
    a = bgpbt__mj_get(c, nd, dcls, "geom", "type");
    if (!a || bgpbt__mj_streq(a, "sphere")) g.type = BGPBT_SIM_GEOM_SPHERE;
    else if (bgpbt__mj_streq(a, "capsule")) g.type = BGPBT_SIM_GEOM_CAPSULE;
    else if (bgpbt__mj_streq(a, "box")) g.type = BGPBT_SIM_GEOM_BOX;
    else if (bgpbt__mj_streq(a, "plane")) g.type = BGPBT_SIM_GEOM_PLANE;
    else return bgpbt__error(&c->log, BGPBT_ERR_UNSUPPORTED, "MJCF line %d: geom type '%.*s' is not supported (sphere, capsule, box, plane)",
                             c->node[nd].line, a->vlen > 40 ? 40 : a->vlen, a->val);
    memset(g.size, 0, sizeof g.size);
    memset(v, 0, sizeof v);
    if ((r = bgpbt__mj_vec(c, nd, dcls, "geom", "size", v, 1, 3)) < 0) return c->last_err;
    if (r) { a = bgpbt__mj_get(c, nd, dcls, "geom", "size"); memcpy(g.size, v, 3 * sizeof(float)); }
    if ((r = bgpbt__mj_orient(c, nd, dcls, "geom", g.quat)) < 0) return c->last_err;
    if (bgpbt__mj_vec(c, nd, dcls, "geom", "pos", g.pos, 3, 3) < 0) return c->last_err;
    if ((hasft = bgpbt__mj_vec(c, nd, dcls, "geom", "fromto", fromto, 6, 6)) < 0) return c->last_err;
    if (c->global) {
        float t[4];
        bgpbt__mj_to_local_pt(fr, g.pos, v); memcpy(g.pos, v, 3 * sizeof(float));
        bgpbt__mj_to_local_quat(fr, g.quat, t); memcpy(g.quat, t, sizeof t);
        if (hasft) { bgpbt__mj_to_local_pt(fr, fromto, v); bgpbt__mj_to_local_pt(fr, fromto + 3, v + 3); memcpy(fromto, v, 6 * sizeof(float)); }
    }
    if (hasft) {
        float d[3];
        if (g.type != BGPBT_SIM_GEOM_CAPSULE && g.type != BGPBT_SIM_GEOM_BOX)
            return bgpbt__error(&c->log, BGPBT_ERR_UNSUPPORTED, "MJCF line %d: fromto is only supported for capsules and boxes", c->node[nd].line);
        for (k = 0; k < 3; ++k) { g.pos[k] = 0.5f * (fromto[k] + fromto[3 + k]); d[k] = fromto[3 + k] - fromto[k]; }
        bgpbt__q_from_zaxis(g.quat, d);
        if (g.type == BGPBT_SIM_GEOM_CAPSULE) g.size[1] = 0.5f * sqrtf(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        else { g.size[1] = g.size[0]; g.size[2] = 0.5f * sqrtf(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]); }
    }
    if (g.type == BGPBT_SIM_GEOM_PLANE) { g.size[0] = g.size[0] > 0 ? g.size[0] : 1; g.size[1] = g.size[1] > 0 ? g.size[1] : 1; g.size[2] = g.size[2] > 0 ? g.size[2] : 1; }
    if (bgpbt__mj_vec(c, nd, dcls, "geom", "density", &g.density, 1, 1) < 0) return c->last_err;
    if (bgpbt__mj_vec(c, nd, dcls, "geom", "mass", &g.mass, 1, 1) < 0) return c->last_err;
    if ((r = bgpbt__mj_vec(c, nd, dcls, "geom", "friction", v, 1, 3)) < 0) return c->last_err;
    if (r) g.friction = v[0];
    if ((r = bgpbt__mj_vec(c, nd, dcls, "geom", "contype", v, 1, 1)) < 0) return c->last_err;
    if (r) g.contype = (int)v[0];
    if ((r = bgpbt__mj_vec(c, nd, dcls, "geom", "conaffinity", v, 1, 1)) < 0) return c->last_err;
    if (r) g.conaffinity = (int)v[0];
    if ((r = bgpbt__mj_vec(c, nd, dcls, "geom", "condim", v, 1, 1)) < 0) return c->last_err;
    if (r) {
        g.condim = (int)v[0];
        if (g.condim != 1 && g.condim != 3 && g.condim != 4 && g.condim != 6)
            return bgpbt__error(&c->log, BGPBT_ERR_OUT_OF_RANGE, "MJCF line %d: condim must be 1, 3, 4 or 6", c->node[nd].line);
    }
    if (bgpbt__mj_vec(c, nd, dcls, "geom", "margin", &g.margin, 1, 1) < 0) return c->last_err;
    if (bgpbt__mj_vec(c, nd, dcls, "geom", "gap", &g.gap, 1, 1) < 0) return c->last_err;
    if ((r = bgpbt__mj_vec(c, nd, dcls, "geom", "solref", v, 2, 2)) < 0) return c->last_err;
    if (r) {
        if (v[0] <= 0) return bgpbt__error(&c->log, BGPBT_ERR_UNSUPPORTED, "MJCF line %d: solref with a non-positive time constant (direct stiffness) is not supported", c->node[nd].line);
        g.timeconst = v[0];
    }
    if ((r = bgpbt__mj_vec(c, nd, dcls, "geom", "rgba", v, 4, 4)) < 0) return c->last_err;
    if (r) memcpy(g.rgba, v, 4 * sizeof(float));
    (void)err;
    return bgpbt_sim_builder_add_geom(c->b, &g, NULL);
}

BGPBT__PRIVATE bgpbt_result bgpbt__mj_joint(bgpbt__mj* c, int nd, int dcls, int body, const bgpbt__mj_frame* fr, int isfree) {
    bgpbt_sim_joint_desc j = bgpbt_sim_joint_desc_default();
    const bgpbt__xattr* a;
    char name[256];
    float v[3];
    int r, hasrange, err = 0, lim;
    double sc;
    bgpbt_result res = bgpbt__mj_check_attrs(c, nd, isfree ? "name group" : BGPBT__MJ_JOINT_ATTRS);
    if (res) return res;
    if (dcls == -2) return BGPBT_ERR_UNKNOWN_NAME;
    j.body = body;
    j.name = bgpbt__mj_name(c, nd, name, sizeof name);
    if (isfree) {
        j.type = BGPBT_SIM_JOINT_FREE;
        return bgpbt_sim_builder_add_joint(c->b, &j, NULL);
    }
    a = bgpbt__mj_get(c, nd, dcls, "joint", "type");
    if (!a || bgpbt__mj_streq(a, "hinge")) j.type = BGPBT_SIM_JOINT_HINGE;
    else if (bgpbt__mj_streq(a, "slide")) j.type = BGPBT_SIM_JOINT_SLIDE;
    else if (bgpbt__mj_streq(a, "ball")) j.type = BGPBT_SIM_JOINT_BALL;
    else if (bgpbt__mj_streq(a, "free")) j.type = BGPBT_SIM_JOINT_FREE;
    else return bgpbt__error(&c->log, BGPBT_ERR_PARSE, "MJCF line %d: unknown joint type '%.*s'", c->node[nd].line, a->vlen > 40 ? 40 : a->vlen, a->val);
    sc = (j.type == BGPBT_SIM_JOINT_HINGE && c->degree) ? 3.14159265358979323846 / 180.0 : 1.0;
    if (bgpbt__mj_vec(c, nd, dcls, "joint", "pos", j.pos, 3, 3) < 0) return c->last_err;
    if (bgpbt__mj_vec(c, nd, dcls, "joint", "axis", j.axis, 3, 3) < 0) return c->last_err;
    if (c->global) {
        bgpbt__mj_to_local_pt(fr, j.pos, v); memcpy(j.pos, v, sizeof v);
        bgpbt__mj_to_local_dir(fr, j.axis, v); memcpy(j.axis, v, sizeof v);
    }
    if ((hasrange = bgpbt__mj_vec(c, nd, dcls, "joint", "range", j.range, 2, 2)) < 0) return c->last_err;
    j.range[0] = (float)(j.range[0] * sc);
    j.range[1] = (float)(j.range[1] * sc);
    lim = bgpbt__mj_bool(c, nd, bgpbt__mj_get(c, nd, dcls, "joint", "limited"), c->autolimits ? hasrange : 0, &err);
    if (err) return c->last_err;
    j.limited = lim;
    if (j.limited && j.type == BGPBT_SIM_JOINT_BALL)
        return bgpbt__error(&c->log, BGPBT_ERR_UNSUPPORTED, "MJCF line %d: limits on ball joints are not supported", c->node[nd].line);
    if (j.type == BGPBT_SIM_JOINT_FREE || j.type == BGPBT_SIM_JOINT_BALL) j.limited = 0;
    if (bgpbt__mj_vec(c, nd, dcls, "joint", "damping", &j.damping, 1, 1) < 0) return c->last_err;
    if (bgpbt__mj_vec(c, nd, dcls, "joint", "stiffness", &j.stiffness, 1, 1) < 0) return c->last_err;
    if (bgpbt__mj_vec(c, nd, dcls, "joint", "armature", &j.armature, 1, 1) < 0) return c->last_err;
    if (bgpbt__mj_vec(c, nd, dcls, "joint", "ref", &j.ref, 1, 1) < 0) return c->last_err;
    if (bgpbt__mj_vec(c, nd, dcls, "joint", "springref", &j.springref, 1, 1) < 0) return c->last_err;
    j.ref = (float)(j.ref * sc);
    j.springref = (float)(j.springref * sc);
    if (j.type == BGPBT_SIM_JOINT_FREE || j.type == BGPBT_SIM_JOINT_BALL) j.stiffness = 0; /* MuJoCo: no springs there either by default */
    if (bgpbt__mj_vec(c, nd, dcls, "joint", "margin", &j.limit_margin, 1, 1) < 0) return c->last_err;
    if ((r = bgpbt__mj_vec(c, nd, dcls, "joint", "solreflimit", v, 2, 2)) < 0) return c->last_err;
    if (r) {
        if (v[0] <= 0) return bgpbt__error(&c->log, BGPBT_ERR_UNSUPPORTED, "MJCF line %d: solreflimit with a non-positive time constant is not supported", c->node[nd].line);
        j.limit_timeconst = v[0];
    }
    if ((r = bgpbt__mj_vec(c, nd, dcls, "joint", "frictionloss", v, 1, 1)) < 0) return c->last_err;
    if (r && v[0] != 0) return bgpbt__error(&c->log, BGPBT_ERR_UNSUPPORTED, "MJCF line %d: joint frictionloss is not supported", c->node[nd].line);
    return bgpbt_sim_builder_add_joint(c->b, &j, NULL);
}

BGPBT__PRIVATE bgpbt_result bgpbt__mj_body(bgpbt__mj* c, int nd, int body, int childcls, const bgpbt__mj_frame* fr, int depth) {
    int ch;
    bgpbt_result r;
    int has_inertial = 0;
    /* inertial first (it sets the body's mass before geoms are considered) */
    for (ch = c->node[nd].child; ch >= 0; ch = c->node[ch].next) {
        if (!bgpbt__xis(c, ch, "inertial") || body == 0) continue;
        has_inertial = 1;
        if (c->inertia_mode == 1) continue; /* inertiafromgeom="true": geoms win */
        {
            float mass = 0, ipos[3] = {0, 0, 0}, iq[4], di[3] = {0, 0, 0}, fi[6];
            int rr, k;
            bgpbt_sim_body_desc* bd = &c->b->body[body].d;
            if ((r = bgpbt__mj_check_attrs(c, ch, "pos quat axisangle euler zaxis xyaxes mass diaginertia fullinertia"))) return r;
            if (bgpbt__mj_vec(c, ch, -1, "inertial", "mass", &mass, 1, 1) < 0) return c->last_err;
            if (bgpbt__mj_vec(c, ch, -1, "inertial", "pos", ipos, 3, 3) < 0) return c->last_err;
            if (bgpbt__mj_orient(c, ch, -1, "inertial", iq) < 0) return c->last_err;
            if (c->global) {
                float t[4];
                bgpbt__mj_to_local_pt(fr, ipos, t); memcpy(ipos, t, 3 * sizeof(float));
                bgpbt__mj_to_local_quat(fr, iq, t); memcpy(iq, t, sizeof t);
            }
            if (!(mass > 0)) return bgpbt__error(&c->log, BGPBT_ERR_OUT_OF_RANGE, "MJCF line %d: <inertial> needs a positive mass", c->node[ch].line);
            if ((rr = bgpbt__mj_vec(c, ch, -1, "inertial", "fullinertia", fi, 6, 6)) < 0) return c->last_err;
            if (rr) {
                memcpy(bd->inertia, fi, sizeof fi);
            } else {
                float R[9];
                static const int ir[6] = {0, 1, 2, 0, 0, 1}, ic[6] = {0, 1, 2, 1, 2, 2};
                if ((rr = bgpbt__mj_vec(c, ch, -1, "inertial", "diaginertia", di, 3, 3)) <= 0)
                    return rr < 0 ? c->last_err : bgpbt__error(&c->log, BGPBT_ERR_PARSE, "MJCF line %d: <inertial> needs diaginertia or fullinertia", c->node[ch].line);
                bgpbt__q_to_mat(iq, R);
                for (k = 0; k < 6; ++k)
                    bd->inertia[k] = R[3 * ir[k]] * di[0] * R[3 * ic[k]] + R[3 * ir[k] + 1] * di[1] * R[3 * ic[k] + 1] + R[3 * ir[k] + 2] * di[2] * R[3 * ic[k] + 2];
            }
            if (!(bd->inertia[0] > 0 && bd->inertia[1] > 0 && bd->inertia[2] > 0))
                return bgpbt__error(&c->log, BGPBT_ERR_OUT_OF_RANGE, "MJCF line %d: inertia must be positive", c->node[ch].line);
            bd->mass = mass;
            memcpy(bd->com, ipos, sizeof ipos);
        }
    }
    if (body > 0 && c->inertia_mode == 0 && !has_inertial) { /* massless unless inertial given */ }
    for (ch = c->node[nd].child; ch >= 0; ch = c->node[ch].next) {
        int cls = bgpbt__mj_class(c, ch, childcls);
        if (cls == -2) return BGPBT_ERR_UNKNOWN_NAME;
        if (bgpbt__xis(c, ch, "inertial")) continue;
        if (bgpbt__xis(c, ch, "geom")) {
            if ((r = bgpbt__mj_geom(c, ch, cls, body, fr))) return r;
            if (c->inertia_mode == 0 || (c->inertia_mode == 2 && has_inertial)) {
                /* geoms do not contribute mass: mark with zero density unless inertial is absent */
                c->b->geom[c->b->ngeom - 1].d.density = 0;
                c->b->geom[c->b->ngeom - 1].d.mass = 0;
            }
        } else if (bgpbt__xis(c, ch, "joint") || bgpbt__xis(c, ch, "freejoint")) {
            if (body == 0) return bgpbt__error(&c->log, BGPBT_ERR_PARSE, "MJCF line %d: a joint in <worldbody> itself", c->node[ch].line);
            if ((r = bgpbt__mj_joint(c, ch, cls, body, fr, bgpbt__xis(c, ch, "freejoint")))) return r;
        } else if (bgpbt__xis(c, ch, "site")) {
            float pos[3] = {0, 0, 0}, t[3];
            char name[256];
            if ((r = bgpbt__mj_check_attrs(c, ch, BGPBT__MJ_SITE_ATTRS))) return r;
            if (bgpbt__mj_vec(c, ch, cls, "site", "pos", pos, 3, 3) < 0) return c->last_err;
            if (c->global) { bgpbt__mj_to_local_pt(fr, pos, t); memcpy(pos, t, sizeof t); }
            if ((r = bgpbt_sim_builder_add_site(c->b, bgpbt__mj_name(c, ch, name, sizeof name), body, pos, NULL))) return r;
        } else if (bgpbt__xis(c, ch, "body")) {
            bgpbt_sim_body_desc bd = bgpbt_sim_body_desc_default();
            bgpbt__mj_frame f2;
            char name[256];
            int id, cc = childcls, orr;
            const bgpbt__xattr* a;
            if (depth > BGPBT__XML_MAX_DEPTH) return bgpbt__error(&c->log, BGPBT_ERR_LIMIT, "MJCF line %d: bodies nested too deep", c->node[ch].line);
            if ((r = bgpbt__mj_check_attrs(c, ch, "name pos quat axisangle euler zaxis xyaxes childclass mocap user gravcomp"))) return r;
            a = bgpbt__xattr_own(c, ch, "mocap");
            if (a && !bgpbt__mj_streq(a, "false")) return bgpbt__error(&c->log, BGPBT_ERR_UNSUPPORTED, "MJCF line %d: mocap bodies are not supported", c->node[ch].line);
            a = bgpbt__xattr_own(c, ch, "childclass");
            if (a) {
                cc = bgpbt__mj_find_class(c, a);
                if (cc == -2) return bgpbt__error(&c->log, BGPBT_ERR_UNKNOWN_NAME, "MJCF line %d: unknown childclass '%.*s'", c->node[ch].line, a->vlen > 60 ? 60 : a->vlen, a->val);
            }
            bd.parent = body;
            bd.name = bgpbt__mj_name(c, ch, name, sizeof name);
            if (bgpbt__mj_vec(c, ch, -1, "body", "pos", bd.pos, 3, 3) < 0) return c->last_err;
            if ((orr = bgpbt__mj_orient(c, ch, -1, "body", bd.quat)) < 0) return c->last_err;
            if (c->global) {
                float t[4];
                memcpy(f2.pos, bd.pos, sizeof f2.pos);
                memcpy(f2.quat, bd.quat, sizeof f2.quat);
                bgpbt__mj_to_local_pt(fr, bd.pos, t); memcpy(bd.pos, t, 3 * sizeof(float));
                bgpbt__mj_to_local_quat(fr, bd.quat, t); memcpy(bd.quat, t, sizeof t);
            } else { /* world pose of the child (only used in global mode, kept for symmetry) */
                float R[9], d[3];
                bgpbt__q_to_mat(fr->quat, R);
                bgpbt__m3_mulv(d, R, bd.pos);
                f2.pos[0] = fr->pos[0] + d[0]; f2.pos[1] = fr->pos[1] + d[1]; f2.pos[2] = fr->pos[2] + d[2];
                bgpbt__q_mul(f2.quat, fr->quat, bd.quat);
            }
            if ((r = bgpbt_sim_builder_add_body(c->b, &bd, &id))) return r;
            if ((r = bgpbt__mj_body(c, ch, id, cc, &f2, depth + 1))) return r;
        } else if (bgpbt__xis(c, ch, "camera") || bgpbt__xis(c, ch, "light")) {
            /* visual only */
        } else {
            return bgpbt__mj_unsupported_elem(c, ch, "inside <body>");
        }
    }
    return BGPBT_OK;
}

BGPBT__PRIVATE bgpbt_result bgpbt__mj_load(bgpbt__mj* c, bgpbt_sim_model** out) {
    int root = 0, ch, pass;
    bgpbt_result r;
    bgpbt_sim_options opt = bgpbt_sim_options_default();
    bgpbt_sim_model_config mc;
    if ((r = bgpbt__xml_parse(c))) return r;
    if (!bgpbt__xis(c, root, "mujoco")) return bgpbt__error(&c->log, BGPBT_ERR_PARSE, "MJCF line %d: the root element must be <mujoco>", c->node[root].line);
    if ((r = bgpbt__mj_check_attrs(c, root, "model"))) return r;
    c->degree = 1; c->global = 0; c->autolimits = 1; c->inertia_mode = 2;
    mc.allocator = c->alloc;
    mc.logger = c->log;
    if ((r = bgpbt_sim_builder_create(&mc, &c->b))) return r;
    /* pass 0: compiler, option, default, custom, size etc.; pass 1: worldbody; pass 2: contact, actuator */
    for (pass = 0; pass < 3; ++pass) {
        for (ch = c->node[root].child; ch >= 0; ch = c->node[ch].next) {
            if (bgpbt__xis(c, ch, "compiler")) {
                const bgpbt__xattr* a;
                if (pass) continue;
                if ((r = bgpbt__mj_check_attrs(c, ch, "angle coordinate inertiafromgeom settotalmass autolimits eulerseq meshdir texturedir assetdir discardvisual strippath"))) return r;
                if (c->node[ch].child >= 0) return bgpbt__mj_unsupported_elem(c, c->node[ch].child, "inside <compiler>");
                a = bgpbt__xattr_own(c, ch, "angle");
                if (a) { if (bgpbt__mj_streq(a, "radian")) c->degree = 0; else if (bgpbt__mj_streq(a, "degree")) c->degree = 1; else return bgpbt__error(&c->log, BGPBT_ERR_PARSE, "MJCF line %d: angle must be degree or radian", c->node[ch].line); }
                a = bgpbt__xattr_own(c, ch, "coordinate");
                if (a) { if (bgpbt__mj_streq(a, "global")) c->global = 1; else if (bgpbt__mj_streq(a, "local")) c->global = 0; else return bgpbt__error(&c->log, BGPBT_ERR_PARSE, "MJCF line %d: coordinate must be local or global", c->node[ch].line); }
                a = bgpbt__xattr_own(c, ch, "inertiafromgeom");
                if (a) { if (bgpbt__mj_streq(a, "true")) c->inertia_mode = 1; else if (bgpbt__mj_streq(a, "false")) c->inertia_mode = 0; else if (bgpbt__mj_streq(a, "auto")) c->inertia_mode = 2; else return bgpbt__error(&c->log, BGPBT_ERR_PARSE, "MJCF line %d: inertiafromgeom must be true, false or auto", c->node[ch].line); }
                a = bgpbt__xattr_own(c, ch, "autolimits");
                if (a) { int err = 0; c->autolimits = bgpbt__mj_bool(c, ch, a, 1, &err); if (err) return c->last_err; }
                a = bgpbt__xattr_own(c, ch, "eulerseq");
                if (a && !bgpbt__mj_streq(a, "xyz")) return bgpbt__error(&c->log, BGPBT_ERR_UNSUPPORTED, "MJCF line %d: only eulerseq=\"xyz\" is supported", c->node[ch].line);
                {
                    float tm = 0;
                    if (bgpbt__mj_vec(c, ch, -1, "compiler", "settotalmass", &tm, 1, 1) < 0) return c->last_err;
                    c->b->total_mass_target = tm;
                }
            } else if (bgpbt__xis(c, ch, "option")) {
                float v[3];
                int rr, k;
                const bgpbt__xattr* a;
                static const char* const zero_only[] = {"viscosity", "density", "wind", "magnetic"};
                if (pass) continue;
                if ((r = bgpbt__mj_check_attrs(c, ch, "timestep gravity integrator solver iterations tolerance cone jacobian impratio viscosity density wind magnetic ls_iterations noslip_iterations mpr_iterations ls_tolerance noslip_tolerance mpr_tolerance apirate collision o_margin o_solref o_solimp"))) return r;
                if (bgpbt__mj_vec(c, ch, -1, "option", "timestep", &opt.timestep, 1, 1) < 0) return c->last_err;
                if (bgpbt__mj_vec(c, ch, -1, "option", "gravity", opt.gravity, 3, 3) < 0) return c->last_err;
                if ((rr = bgpbt__mj_vec(c, ch, -1, "option", "iterations", v, 1, 1)) < 0) return c->last_err;
                if (rr) opt.iterations = (int)v[0] < 4 ? 4 : (int)v[0] > 30 ? 30 : (int)v[0];
                a = bgpbt__xattr_own(c, ch, "integrator");
                if (a && !bgpbt__mj_streq(a, "Euler") && !bgpbt__mj_streq(a, "RK4") && !bgpbt__mj_streq(a, "implicit") && !bgpbt__mj_streq(a, "implicitfast"))
                    return bgpbt__error(&c->log, BGPBT_ERR_PARSE, "MJCF line %d: unknown integrator", c->node[ch].line);
                for (k = 0; k < 4; ++k) {
                    float z[3] = {0, 0, 0};
                    if ((rr = bgpbt__mj_vec(c, ch, -1, "option", zero_only[k], z, 1, 3)) < 0) return c->last_err;
                    if (rr && (z[0] != 0 || z[1] != 0 || z[2] != 0))
                        return bgpbt__error(&c->log, BGPBT_ERR_UNSUPPORTED, "MJCF line %d: option %s must be zero (fluid forces are not supported)", c->node[ch].line, zero_only[k]);
                }
                if (!(opt.timestep > 0 && opt.timestep <= 1)) return bgpbt__error(&c->log, BGPBT_ERR_OUT_OF_RANGE, "MJCF line %d: timestep must be in (0, 1]", c->node[ch].line);
                {
                    int f;
                    for (f = c->node[ch].child; f >= 0; f = c->node[f].next)
                        if (!bgpbt__xis(c, f, "flag")) return bgpbt__mj_unsupported_elem(c, f, "inside <option>");
                }
            } else if (bgpbt__xis(c, ch, "default")) {
                if (pass) continue;
                if ((r = bgpbt__mj_check_default(c, ch))) return r;
            } else if (bgpbt__xis(c, ch, "custom")) {
                int nm;
                if (pass) continue;
                for (nm = c->node[ch].child; nm >= 0; nm = c->node[nm].next) {
                    if (bgpbt__xis(c, nm, "numeric")) {
                        double vals[512];
                        float fv[512];
                        int cnt = 0, size = -1, k;
                        const bgpbt__xattr* a;
                        char name[256];
                        if ((r = bgpbt__mj_check_attrs(c, nm, "name data size"))) return r;
                        a = bgpbt__xattr_own(c, nm, "data");
                        if (a && (cnt = bgpbt__mj_nums(c, nm, a, vals, 512)) < 0) return c->last_err;
                        a = bgpbt__xattr_own(c, nm, "size");
                        if (a) { double sv; if (bgpbt__mj_nums(c, nm, a, &sv, 1) != 1 || sv < 0 || sv > 512) return bgpbt__error(&c->log, BGPBT_ERR_OUT_OF_RANGE, "MJCF line %d: numeric size must be in [0, 512]", c->node[nm].line); size = (int)sv; }
                        if (size < cnt) size = cnt;
                        for (k = 0; k < size; ++k) fv[k] = k < cnt ? (float)vals[k] : 0.0f;
                        if ((r = bgpbt__sim_builder_numeric(c->b, bgpbt__mj_name(c, nm, name, sizeof name), fv, size))) return r;
                    } else if (!bgpbt__xis(c, nm, "text") && !bgpbt__xis(c, nm, "tuple")) {
                        return bgpbt__mj_unsupported_elem(c, nm, "inside <custom>");
                    }
                }
            } else if (bgpbt__xis(c, ch, "worldbody")) {
                bgpbt__mj_frame f;
                if (pass != 1) continue;
                if ((r = bgpbt__mj_check_attrs(c, ch, ""))) return r;
                memset(&f, 0, sizeof f);
                f.quat[0] = 1;
                if ((r = bgpbt__mj_body(c, ch, 0, bgpbt__mj_find_class(c, NULL), &f, 0))) return r;
            } else if (bgpbt__xis(c, ch, "actuator")) {
                int a2;
                if (pass != 2) continue;
                for (a2 = c->node[ch].child; a2 >= 0; a2 = c->node[a2].next) {
                    bgpbt_sim_actuator_desc d = bgpbt_sim_actuator_desc_default();
                    const bgpbt__xattr* a;
                    char name[256];
                    float g[6], fr[2];
                    int cls, rr, hasrange, err = 0;
                    if (!bgpbt__xis(c, a2, "motor")) return bgpbt__mj_unsupported_elem(c, a2, "only <motor> actuators are supported");
                    if ((r = bgpbt__mj_check_attrs(c, a2, BGPBT__MJ_MOTOR_ATTRS))) return r;
                    cls = bgpbt__mj_class(c, a2, bgpbt__mj_find_class(c, NULL));
                    if (cls == -2) return BGPBT_ERR_UNKNOWN_NAME;
                    d.name = bgpbt__mj_name(c, a2, name, sizeof name);
                    a = bgpbt__xattr_own(c, a2, "joint");
                    if (!a) return bgpbt__error(&c->log, BGPBT_ERR_UNSUPPORTED, "MJCF line %d: <motor> needs a joint (other transmissions are not supported)", c->node[a2].line);
                    {
                        int k;
                        d.joint = -1;
                        for (k = 0; k < c->b->njnt; ++k)
                            if (c->b->jnt[k].name >= 0 && (int)strlen(c->b->names + c->b->jnt[k].name) == a->vlen &&
                                memcmp(c->b->names + c->b->jnt[k].name, a->val, (size_t)a->vlen) == 0) d.joint = k;
                        if (d.joint < 0) return bgpbt__error(&c->log, BGPBT_ERR_UNKNOWN_NAME, "MJCF line %d: <motor> joint '%.*s' does not exist", c->node[a2].line, a->vlen > 60 ? 60 : a->vlen, a->val);
                    }
                    if ((rr = bgpbt__mj_vec(c, a2, cls, "motor", "gear", g, 1, 6)) < 0) return c->last_err;
                    d.gear = rr ? g[0] : 1.0f;
                    if ((hasrange = bgpbt__mj_vec(c, a2, cls, "motor", "ctrlrange", d.ctrlrange, 2, 2)) < 0) return c->last_err;
                    if (!hasrange) { d.ctrlrange[0] = 0; d.ctrlrange[1] = 0; }
                    d.ctrllimited = bgpbt__mj_bool(c, a2, bgpbt__mj_get(c, a2, cls, "motor", "ctrllimited"), c->autolimits ? hasrange : 0, &err);
                    if (err) return c->last_err;
                    if (bgpbt__mj_bool(c, a2, bgpbt__mj_get(c, a2, cls, "motor", "forcelimited"), 0, &err) || err) {
                        (void)fr;
                        return err ? c->last_err : bgpbt__error(&c->log, BGPBT_ERR_UNSUPPORTED, "MJCF line %d: forcelimited motors are not supported", c->node[a2].line);
                    }
                    if ((r = bgpbt_sim_builder_add_actuator(c->b, &d, NULL))) return r;
                }
            } else if (bgpbt__xis(c, ch, "contact")) {
                int e;
                if (pass != 2) continue;
                for (e = c->node[ch].child; e >= 0; e = c->node[e].next) {
                    const bgpbt__xattr *a1, *a2;
                    int k, i1 = -1, i2 = -1;
                    int is_ex = bgpbt__xis(c, e, "exclude");
                    if (!is_ex && !bgpbt__xis(c, e, "pair")) return bgpbt__mj_unsupported_elem(c, e, "inside <contact>");
                    if ((r = bgpbt__mj_check_attrs(c, e, is_ex ? "name body1 body2" : "name class geom1 geom2 friction condim margin gap solref solimp"))) return r;
                    a1 = bgpbt__xattr_own(c, e, is_ex ? "body1" : "geom1");
                    a2 = bgpbt__xattr_own(c, e, is_ex ? "body2" : "geom2");
                    if (!a1 || !a2) return bgpbt__error(&c->log, BGPBT_ERR_PARSE, "MJCF line %d: <%s> needs %s", c->node[e].line, is_ex ? "exclude" : "pair", is_ex ? "body1 and body2" : "geom1 and geom2");
                    if (is_ex) {
                        for (k = 0; k < c->b->nbody; ++k) {
                            const char* nmk = c->b->body[k].name >= 0 ? c->b->names + c->b->body[k].name : "";
                            if ((int)strlen(nmk) == a1->vlen && memcmp(nmk, a1->val, (size_t)a1->vlen) == 0) i1 = k;
                            if ((int)strlen(nmk) == a2->vlen && memcmp(nmk, a2->val, (size_t)a2->vlen) == 0) i2 = k;
                        }
                    } else {
                        for (k = 0; k < c->b->ngeom; ++k) {
                            const char* nmk = c->b->geom[k].name >= 0 ? c->b->names + c->b->geom[k].name : "";
                            if ((int)strlen(nmk) == a1->vlen && memcmp(nmk, a1->val, (size_t)a1->vlen) == 0) i1 = k;
                            if ((int)strlen(nmk) == a2->vlen && memcmp(nmk, a2->val, (size_t)a2->vlen) == 0) i2 = k;
                        }
                    }
                    if (i1 < 0 || i2 < 0) return bgpbt__error(&c->log, BGPBT_ERR_UNKNOWN_NAME, "MJCF line %d: <%s> names an unknown %s", c->node[e].line, is_ex ? "exclude" : "pair", is_ex ? "body" : "geom");
                    if (is_ex) { if ((r = bgpbt_sim_builder_exclude(c->b, i1, i2))) return r; }
                    else {
                        float fv[5];
                        int rr = bgpbt__mj_vec(c, e, -1, "pair", "friction", fv, 1, 5);
                        if (rr < 0) return c->last_err;
                        if ((r = bgpbt__sim_builder_pair(c->b, i1, i2, rr ? fv[0] : -1.0f))) return r;
                    }
                }
            } else if (bgpbt__xis(c, ch, "size") || bgpbt__xis(c, ch, "visual") || bgpbt__xis(c, ch, "asset") || bgpbt__xis(c, ch, "statistic") ||
                       bgpbt__xis(c, ch, "sensor") || bgpbt__xis(c, ch, "keyframe") || bgpbt__xis(c, ch, "extension")) {
                /* visual, memory or read-only elements: ignored */
            } else if (bgpbt__xis(c, ch, "tendon")) {
                /* A fixed tendon with no limit, spring, damper or friction exerts no force (the
                   humanoid's are like that): accepted and ignored. Anything else is refused. */
                int t;
                if (pass != 2) continue;
                for (t = c->node[ch].child; t >= 0; t = c->node[t].next) {
                    int cls = bgpbt__mj_class(c, t, bgpbt__mj_find_class(c, NULL)), jn, err = 0, k;
                    static const char* const forceful[4] = {"stiffness", "damping", "frictionloss", "armature"};
                    const bgpbt__xattr* a;
                    if (cls == -2) return BGPBT_ERR_UNKNOWN_NAME;
                    if (!bgpbt__xis(c, t, "fixed"))
                        return bgpbt__mj_unsupported_elem(c, t, "only passive fixed tendons (no limit, spring, damper or friction) are accepted");
                    if ((r = bgpbt__mj_check_attrs(c, t, "name class limited range stiffness damping frictionloss armature springlength margin solreflimit solimplimit solreffriction solimpfriction rgba width group user")))
                        return r;
                    if (bgpbt__mj_bool(c, t, bgpbt__mj_get(c, t, cls, "tendon", "limited"), c->autolimits && bgpbt__mj_get(c, t, cls, "tendon", "range") != NULL, &err) || err)
                        return err ? c->last_err : bgpbt__error(&c->log, BGPBT_ERR_UNSUPPORTED, "MJCF line %d: a limited <fixed> tendon is not supported (tendon limits are not implemented)", c->node[t].line);
                    for (k = 0; k < 4; ++k) {
                        float val = 0;
                        if (bgpbt__mj_vec(c, t, cls, "tendon", forceful[k], &val, 1, 1) < 0) return c->last_err;
                        if (val != 0)
                            return bgpbt__error(&c->log, BGPBT_ERR_UNSUPPORTED, "MJCF line %d: <fixed> tendon with %s is not supported (tendon forces are not implemented)", c->node[t].line, forceful[k]);
                    }
                    for (jn = c->node[t].child; jn >= 0; jn = c->node[jn].next) {
                        if (!bgpbt__xis(c, jn, "joint")) return bgpbt__mj_unsupported_elem(c, jn, "inside <fixed>");
                        if ((r = bgpbt__mj_check_attrs(c, jn, "joint coef"))) return r;
                        a = bgpbt__xattr_own(c, jn, "joint");
                        if (!a) return bgpbt__error(&c->log, BGPBT_ERR_PARSE, "MJCF line %d: tendon <joint> needs a joint", c->node[jn].line);
                        {
                            int q, found = 0;
                            for (q = 0; q < c->b->njnt; ++q)
                                if (c->b->jnt[q].name >= 0 && (int)strlen(c->b->names + c->b->jnt[q].name) == a->vlen &&
                                    memcmp(c->b->names + c->b->jnt[q].name, a->val, (size_t)a->vlen) == 0) found = 1;
                            if (!found) return bgpbt__error(&c->log, BGPBT_ERR_UNKNOWN_NAME, "MJCF line %d: tendon joint '%.*s' does not exist", c->node[jn].line, a->vlen > 60 ? 60 : a->vlen, a->val);
                        }
                    }
                }
            } else if (bgpbt__xis(c, ch, "equality")) {
                return bgpbt__mj_unsupported_elem(c, ch, "equality constraints are not supported");
            } else {
                return bgpbt__mj_unsupported_elem(c, ch, NULL);
            }
        }
        if (pass == 0) {
            if ((r = bgpbt_sim_builder_set_options(c->b, &opt))) return r;
        }
    }
    return bgpbt_sim_builder_finish(c->b, out);
}

BGPBT_API bgpbt_result bgpbt_sim_model_from_mjcf(const char* xml, size_t len, const bgpbt_sim_model_config* config,
                                                 bgpbt_sim_model** out) {
    bgpbt_sim_model_config mc = config ? *config : bgpbt_sim_model_config_default();
    bgpbt__mj* c;
    bgpbt_result r;
    if (!out) return bgpbt__error(&mc.logger, BGPBT_ERR_INVALID_ARGUMENT, "sim_model_from_mjcf: out is NULL");
    *out = NULL;
    if (!xml) return bgpbt__error(&mc.logger, BGPBT_ERR_INVALID_ARGUMENT, "sim_model_from_mjcf: xml is NULL");
    if (len > ((size_t)1 << 28)) return bgpbt__error(&mc.logger, BGPBT_ERR_LIMIT, "sim_model_from_mjcf: text longer than 256 MB");
    c = (bgpbt__mj*)bgpbt__calloc(&mc.allocator, 1, sizeof *c);
    if (!c) return bgpbt__error(&mc.logger, BGPBT_ERR_OUT_OF_MEMORY, "MJCF: out of memory");
    c->alloc = mc.allocator;
    c->log = mc.logger;
    c->src = xml;
    c->len = len;
    r = bgpbt__mj_load(c, out);
    if (c->b) bgpbt_sim_builder_destroy(c->b);
    bgpbt__cfree(&c->alloc, c->node, (size_t)c->cap_node, sizeof *c->node);
    bgpbt__cfree(&c->alloc, c->attr, (size_t)c->cap_attr, sizeof *c->attr);
    bgpbt__cfree(&c->alloc, c, 1, sizeof *c);
    if (r != BGPBT_OK && *out) { bgpbt_sim_model_destroy(*out); *out = NULL; }
    return r;
}

BGPBT_API bgpbt_result bgpbt_sim_model_load_mjcf(const char* path, const bgpbt_sim_model_config* config, bgpbt_sim_model** out) {
    bgpbt_sim_model_config mc = config ? *config : bgpbt_sim_model_config_default();
    FILE* f;
    long sz;
    char* buf;
    bgpbt_result r;
    if (!out) return BGPBT_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!path) return bgpbt__error(&mc.logger, BGPBT_ERR_INVALID_ARGUMENT, "sim_model_load_mjcf: path is NULL");
    f = BGPBT_SYS_FOPEN(path, "rb");
    if (!f) return bgpbt__error(&mc.logger, BGPBT_ERR_IO, "sim_model_load_mjcf: cannot open '%s'", path);
    if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return bgpbt__error(&mc.logger, BGPBT_ERR_IO, "sim_model_load_mjcf: cannot read '%s'", path);
    }
    if (sz > (1L << 28)) { fclose(f); return bgpbt__error(&mc.logger, BGPBT_ERR_LIMIT, "sim_model_load_mjcf: '%s' is larger than 256 MB", path); }
    buf = (char*)bgpbt__calloc(&mc.allocator, (size_t)sz + 1, 1);
    if (!buf) { fclose(f); return bgpbt__error(&mc.logger, BGPBT_ERR_OUT_OF_MEMORY, "MJCF: out of memory"); }
    if (sz > 0 && BGPBT_SYS_FREAD(buf, 1, (size_t)sz, f) != (size_t)sz) {
        fclose(f);
        bgpbt__cfree(&mc.allocator, buf, (size_t)sz + 1, 1);
        return bgpbt__error(&mc.logger, BGPBT_ERR_IO, "sim_model_load_mjcf: cannot read '%s'", path);
    }
    fclose(f);
    r = bgpbt_sim_model_from_mjcf(buf, (size_t)sz, &mc, out);
    bgpbt__cfree(&mc.allocator, buf, (size_t)sz + 1, 1);
    return r;
}

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
    /* optional, replaces reset_one: reset every copy whose mask byte is set, all at once (a
       batched simulator resets lanes together; reset_one is then NULL) */
    void (*reset_mask)(bgpbt_vecenv* v, const unsigned char* mask);
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
    unsigned char *term, *trunc, *unstable, *done;
    int n_terms;
    float* terms;                  /* n * n_terms */
    const char* const* term_names; /* n_terms */
    bgpbt_episode_stats stats;
};

BGPBT__PRIVATE int bgpbt__venv_threads(const bgpbt_vecenv* v) {
#if BGPBT__HAS_OPENMP
    int nt = v->num_threads > 0 ? v->num_threads : omp_get_max_threads();
    return nt < v->n ? nt : v->n; /* never more threads than copies */
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

static const bgpbt__env_backend bgpbt__user_backend = {bgpbt__user_reset_one, bgpbt__user_step_all, NULL, NULL};

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
    bgpbt__cfree(&a, v->done, n, 1);
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
    v->done = (unsigned char*)bgpbt__calloc(a, n, 1);
    if (!v->rngs || !v->obs || !v->final_obs || !v->act || !v->rewards || !v->ep_ret_f ||
        !v->ep_ret || !v->ep_ret_done || !v->ep_len || !v->ep_len_done || !v->iterm || !v->term || !v->trunc ||
        !v->unstable || !v->done)
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
        v->done[i] = 1;
        if (v->backend->reset_one) v->backend->reset_one(v, i);
    }
    if (v->backend->reset_mask) v->backend->reset_mask(v, v->done);
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
    if (v->backend->reset_one) v->backend->reset_one(v, env);
    else {
        memset(v->done, 0, (size_t)v->n);
        v->done[env] = 1;
        v->backend->reset_mask(v, v->done);
    }
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
    /* The bookkeeping below costs a few ns per copy: a parallel region (and its barrier, which
       is slow when the cores are shared) only pays for itself on large batches. User resets
       run here too, so they are parallel when the batch is large. */
    if ((size_t)n * (size_t)(od + 16) < ((size_t)1 << 16)) nt = 1;
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
        v->done[i] = (unsigned char)(t || v->trunc[i]);
        if (v->done[i]) {
            memcpy(v->final_obs + (size_t)i * (size_t)od, o, (size_t)od * sizeof(float));
            v->ep_ret_done[i] = v->ep_ret[i];
            v->ep_ret_f[i] = (float)v->ep_ret[i];
            v->ep_len_done[i] = v->ep_len[i];
            bgpbt__venv_clear_one(v, i);
            /* a fresh draw from this copy's stream */
            if (v->backend->reset_one) v->backend->reset_one(v, i);
        }
    }
    if (v->backend->reset_mask) {
        int any = 0;
        for (i = 0; i < n && !any; ++i) any = v->done[i];
        if (any) v->backend->reset_mask(v, v->done);
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
                                        float cu, float cv, float extent, bgpbt__env_draw* order,
                                        float frame_seconds) {
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
        int animate = frames > 1 && frame_seconds > 0.0f;
        float alpha = frames > 1 && !animate ? 0.25f + 0.75f * (float)(f + 1) / (float)frames : 1.0f;
        int m = 0;
        if (animate) /* visible from f/frames to (f+1)/frames of the loop */
            bgpbt__svgf(w, "<g visibility='hidden'><animate attributeName='visibility' values='hidden;visible;hidden' "
                        "keyTimes='0;%.5f;%.5f' calcMode='discrete' dur='%.3fs' repeatCount='indefinite'/>\n",
                        (double)f / (double)frames, (double)(f + 1) / (double)frames,
                        (double)frame_seconds * (double)frames);
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
        if (animate) bgpbt__svgf(w, "</g>\n");
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
        if (g->type < BGPBT_GEOM_PLANE || g->type > BGPBT_GEOM_BOX) return BGPBT_ERR_INVALID_ARGUMENT; /* unknown type */
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
                            10.0f, size_px, cen[view][0], cen[view][1], extent[view], order, o.frame_seconds);
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

static const char* const bgpbt__mjcf_inverted_pendulum[] = {
    "<mujoco model=\"inverted_pendulum\">",
    "<compiler angle=\"radian\" inertiafromgeom=\"true\" coordinate=\"local\"/>",
    "<option timestep=\"0.01\" gravity=\"0 0 -9.81\"/>",
    "<default>",
    "<joint damping=\"0.05\" armature=\"0\"/>",
    "<geom contype=\"0\" conaffinity=\"0\" density=\"1000\" rgba=\"0.75 0.55 0.35 1\"/>",
    "</default>",
    "<worldbody>",
    "<geom name=\"rail\" type=\"capsule\" fromto=\"-1.1 0 0 1.1 0 0\" size=\"0.02\" rgba=\"0.45 0.45 0.45 1\"/>",
    "<body name=\"cart\" pos=\"0 0 0\">",
    "<joint name=\"slider\" type=\"slide\" axis=\"1 0 0\" limited=\"true\" range=\"-1 1\"/>",
    "<geom name=\"cart\" type=\"capsule\" fromto=\"-0.1 0 0 0.1 0 0\" size=\"0.1\" rgba=\"0.35 0.5 0.75 1\"/>",
    "<body name=\"pole\" pos=\"0 0 0\">",
    "<joint name=\"hinge\" type=\"hinge\" axis=\"0 1 0\" limited=\"true\" range=\"-1.57 1.57\"/>",
    "<geom name=\"pole\" type=\"capsule\" fromto=\"0 0 0 0 0 0.6\" size=\"0.045\"/>",
    "</body>",
    "</body>",
    "</worldbody>",
    "<actuator>",
    "<motor joint=\"slider\" gear=\"100\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "</actuator>",
    "</mujoco>",
    NULL};
static const char* const bgpbt__mjcf_inverted_double_pendulum[] = {
    "<mujoco model=\"inverted_double_pendulum\">",
    "<compiler angle=\"radian\" inertiafromgeom=\"true\" coordinate=\"local\"/>",
    "<option timestep=\"0.01\" gravity=\"0 0 -9.81\"/>",
    "<default>",
    "<joint damping=\"0.05\" armature=\"0\"/>",
    "<geom contype=\"0\" conaffinity=\"0\" density=\"1000\" rgba=\"0.75 0.55 0.35 1\"/>",
    "</default>",
    "<worldbody>",
    "<geom name=\"rail\" type=\"capsule\" fromto=\"-1.1 0 0 1.1 0 0\" size=\"0.02\" rgba=\"0.45 0.45 0.45 1\"/>",
    "<body name=\"cart\" pos=\"0 0 0\">",
    "<joint name=\"slider\" type=\"slide\" axis=\"1 0 0\" limited=\"true\" range=\"-1 1\"/>",
    "<geom name=\"cart\" type=\"capsule\" fromto=\"-0.1 0 0 0.1 0 0\" size=\"0.1\" rgba=\"0.35 0.5 0.75 1\"/>",
    "<body name=\"pole1\" pos=\"0 0 0\">",
    "<joint name=\"hinge1\" type=\"hinge\" axis=\"0 1 0\" limited=\"false\"/>",
    "<geom name=\"pole1\" type=\"capsule\" fromto=\"0 0 0 0 0 0.6\" size=\"0.045\"/>",
    "<body name=\"pole2\" pos=\"0 0 0.6\">",
    "<joint name=\"hinge2\" type=\"hinge\" axis=\"0 1 0\" limited=\"false\"/>",
    "<geom name=\"pole2\" type=\"capsule\" fromto=\"0 0 0 0 0 0.6\" size=\"0.045\"/>",
    "</body>",
    "</body>",
    "</body>",
    "</worldbody>",
    "<actuator>",
    "<motor joint=\"slider\" gear=\"500\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "</actuator>",
    "</mujoco>",
    NULL};
static const char* const bgpbt__mjcf_reacher[] = {
    "<mujoco model=\"reacher\">",
    "<compiler angle=\"radian\" inertiafromgeom=\"true\" coordinate=\"local\"/>",
    "<option timestep=\"0.01\" gravity=\"0 0 -9.81\"/>",
    "<default>",
    "<joint damping=\"1\" armature=\"1\" limited=\"true\"/>",
    "<geom contype=\"0\" conaffinity=\"0\" density=\"1000\" rgba=\"0.0 0.4 0.6 1\"/>",
    "</default>",
    "<worldbody>",
    "<geom name=\"ground\" type=\"plane\" pos=\"0 0 0\" size=\"1 1 0.1\" rgba=\"0.9 0.9 0.9 1\"/>",
    "<geom name=\"root\" type=\"capsule\" fromto=\"0 0 0 0 0 0.02\" size=\"0.011\" rgba=\"0.9 0.4 0.6 1\"/>",
    "<body name=\"link0\" pos=\"0 0 0.01\">",
    "<joint name=\"joint0\" type=\"hinge\" axis=\"0 0 1\" limited=\"false\"/>",
    "<geom name=\"link0\" type=\"capsule\" fromto=\"0 0 0 0.1 0 0\" size=\"0.01\"/>",
    "<body name=\"link1\" pos=\"0.1 0 0\">",
    "<joint name=\"joint1\" type=\"hinge\" axis=\"0 0 1\" range=\"-3.0 3.0\"/>",
    "<geom name=\"link1\" type=\"capsule\" fromto=\"0 0 0 0.1 0 0\" size=\"0.01\"/>",
    "<geom name=\"fingertip\" type=\"sphere\" pos=\"0.11 0 0\" size=\"0.01\" rgba=\"0.0 0.8 0.6 1\"/>",
    "</body>",
    "</body>",
    "</worldbody>",
    "<actuator>",
    "<motor joint=\"joint0\" gear=\"200\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"joint1\" gear=\"200\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "</actuator>",
    "</mujoco>",
    NULL};
static const char* const bgpbt__mjcf_halfcheetah[] = {
    "<mujoco model=\"halfcheetah\">",
    "<compiler angle=\"radian\" inertiafromgeom=\"true\" coordinate=\"local\"/>",
    "<option timestep=\"0.01\" gravity=\"0 0 -9.81\"/>",
    "<default>",
    "<joint limited=\"true\" armature=\"0.1\" damping=\"0.01\"/>",
    "<geom contype=\"1\" conaffinity=\"0\" condim=\"3\" friction=\"0.6 0.1 0.1\" density=\"1000\" rgba=\"0.8 0.6 0.4 1\"/>",
    "</default>",
    "<worldbody>",
    "<geom name=\"floor\" type=\"plane\" pos=\"0 0 0\" size=\"40 40 40\" contype=\"0\" conaffinity=\"1\" rgba=\"0.8 0.9 0.8 1\"/>",
    "<body name=\"torso\" pos=\"0 0 0.7\">",
    "<joint name=\"rootx\" type=\"slide\" axis=\"1 0 0\" limited=\"false\" armature=\"0\" damping=\"0\"/>",
    "<joint name=\"rootz\" type=\"slide\" axis=\"0 0 1\" limited=\"false\" armature=\"0\" damping=\"0\"/>",
    "<joint name=\"rooty\" type=\"hinge\" axis=\"0 1 0\" limited=\"false\" armature=\"0\" damping=\"0\"/>",
    "<geom name=\"torso\" type=\"capsule\" fromto=\"-0.5 0 0 0.5 0 0\" size=\"0.046\"/>",
    "<geom name=\"head\" type=\"capsule\" fromto=\"0.5 0 0 0.65 0 0.2\" size=\"0.046\"/>",
    "<body name=\"bthigh\" pos=\"-0.5 0 0\">",
    "<joint name=\"bthigh\" type=\"hinge\" axis=\"0 1 0\" range=\"-0.52 1.05\" stiffness=\"240\" damping=\"6\"/>",
    "<geom name=\"bthigh\" type=\"capsule\" fromto=\"0 0 0 0.2 0 -0.26\" size=\"0.046\"/>",
    "<body name=\"bshin\" pos=\"0.2 0 -0.26\">",
    "<joint name=\"bshin\" type=\"hinge\" axis=\"0 1 0\" range=\"-0.785 0.785\" stiffness=\"180\" damping=\"4.5\"/>",
    "<geom name=\"bshin\" type=\"capsule\" fromto=\"0 0 0 -0.28 0 -0.14\" size=\"0.046\" rgba=\"0.9 0.6 0.6 1\"/>",
    "<body name=\"bfoot\" pos=\"-0.28 0 -0.14\">",
    "<joint name=\"bfoot\" type=\"hinge\" axis=\"0 1 0\" range=\"-0.4 0.785\" stiffness=\"120\" damping=\"3\"/>",
    "<geom name=\"bfoot\" type=\"capsule\" fromto=\"0 0 0 0.06 0 -0.19\" size=\"0.046\" rgba=\"0.9 0.6 0.6 1\"/>",
    "</body>",
    "</body>",
    "</body>",
    "<body name=\"fthigh\" pos=\"0.5 0 0\">",
    "<joint name=\"fthigh\" type=\"hinge\" axis=\"0 1 0\" range=\"-1 0.7\" stiffness=\"180\" damping=\"4.5\"/>",
    "<geom name=\"fthigh\" type=\"capsule\" fromto=\"0 0 0 -0.14 0 -0.24\" size=\"0.046\"/>",
    "<body name=\"fshin\" pos=\"-0.14 0 -0.24\">",
    "<joint name=\"fshin\" type=\"hinge\" axis=\"0 1 0\" range=\"-1.2 0.87\" stiffness=\"120\" damping=\"3\"/>",
    "<geom name=\"fshin\" type=\"capsule\" fromto=\"0 0 0 0.13 0 -0.18\" size=\"0.046\" rgba=\"0.9 0.6 0.6 1\"/>",
    "<body name=\"ffoot\" pos=\"0.13 0 -0.18\">",
    "<joint name=\"ffoot\" type=\"hinge\" axis=\"0 1 0\" range=\"-0.5 0.5\" stiffness=\"60\" damping=\"1.5\"/>",
    "<geom name=\"ffoot\" type=\"capsule\" fromto=\"0 0 0 0.09 0 -0.14\" size=\"0.046\" rgba=\"0.9 0.6 0.6 1\"/>",
    "</body>",
    "</body>",
    "</body>",
    "</body>",
    "</worldbody>",
    "<actuator>",
    "<motor joint=\"bthigh\" gear=\"120\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"bshin\" gear=\"90\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"bfoot\" gear=\"60\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"fthigh\" gear=\"120\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"fshin\" gear=\"60\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"ffoot\" gear=\"30\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "</actuator>",
    "</mujoco>",
    NULL};
static const char* const bgpbt__mjcf_hopper[] = {
    "<mujoco model=\"hopper\">",
    "<compiler angle=\"degree\" inertiafromgeom=\"true\" coordinate=\"local\"/>",
    "<option timestep=\"0.005\" gravity=\"0 0 -9.81\"/>",
    "<default>",
    "<joint limited=\"true\" armature=\"1\" damping=\"1\"/>",
    "<geom contype=\"1\" conaffinity=\"0\" condim=\"3\" friction=\"0.9 0.1 0.1\" density=\"1000\" rgba=\"0.8 0.6 0.4 1\"/>",
    "</default>",
    "<worldbody>",
    "<geom name=\"floor\" type=\"plane\" pos=\"0 0 0\" size=\"40 40 40\" contype=\"0\" conaffinity=\"1\" rgba=\"0.8 0.9 0.8 1\"/>",
    "<body name=\"torso\" pos=\"0 0 1.25\">",
    "<joint name=\"rootx\" type=\"slide\" axis=\"1 0 0\" limited=\"false\" armature=\"0\" damping=\"0\"/>",
    "<joint name=\"rootz\" type=\"slide\" axis=\"0 0 1\" limited=\"false\" armature=\"0\" damping=\"0\"/>",
    "<joint name=\"rooty\" type=\"hinge\" axis=\"0 1 0\" limited=\"false\" armature=\"0\" damping=\"0\"/>",
    "<geom name=\"torso\" type=\"capsule\" fromto=\"0 0 0.2 0 0 -0.2\" size=\"0.05\"/>",
    "<body name=\"thigh\" pos=\"0 0 -0.2\">",
    "<joint name=\"thigh\" type=\"hinge\" axis=\"0 -1 0\" range=\"-150 0\"/>",
    "<geom name=\"thigh\" type=\"capsule\" fromto=\"0 0 0 0 0 -0.45\" size=\"0.05\"/>",
    "<body name=\"leg\" pos=\"0 0 -0.45\">",
    "<joint name=\"leg\" type=\"hinge\" axis=\"0 -1 0\" range=\"-150 0\"/>",
    "<geom name=\"leg\" type=\"capsule\" fromto=\"0 0 0 0 0 -0.5\" size=\"0.04\"/>",
    "<body name=\"foot\" pos=\"0 0 -0.5\">",
    "<joint name=\"foot\" type=\"hinge\" axis=\"0 -1 0\" range=\"-45 45\"/>",
    "<geom name=\"foot\" type=\"capsule\" fromto=\"-0.13 0 0 0.26 0 0\" size=\"0.06\" rgba=\"0.9 0.6 0.6 1\"/>",
    "</body>",
    "</body>",
    "</body>",
    "</body>",
    "</worldbody>",
    "<actuator>",
    "<motor joint=\"thigh\" gear=\"200\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"leg\" gear=\"200\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"foot\" gear=\"200\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "</actuator>",
    "</mujoco>",
    NULL};
static const char* const bgpbt__mjcf_walker2d[] = {
    "<mujoco model=\"walker2d\">",
    "<compiler angle=\"degree\" inertiafromgeom=\"true\" coordinate=\"local\"/>",
    "<option timestep=\"0.005\" gravity=\"0 0 -9.81\"/>",
    "<default>",
    "<joint limited=\"true\" armature=\"0.01\" damping=\"0.1\"/>",
    "<geom contype=\"1\" conaffinity=\"0\" condim=\"3\" friction=\"0.9 0.1 0.1\" density=\"1000\" rgba=\"0.8 0.6 0.4 1\"/>",
    "</default>",
    "<worldbody>",
    "<geom name=\"floor\" type=\"plane\" pos=\"0 0 0\" size=\"40 40 40\" contype=\"0\" conaffinity=\"1\" rgba=\"0.8 0.9 0.8 1\"/>",
    "<body name=\"torso\" pos=\"0 0 1.25\">",
    "<joint name=\"rootx\" type=\"slide\" axis=\"1 0 0\" limited=\"false\" armature=\"0\" damping=\"0\"/>",
    "<joint name=\"rootz\" type=\"slide\" axis=\"0 0 1\" limited=\"false\" armature=\"0\" damping=\"0\"/>",
    "<joint name=\"rooty\" type=\"hinge\" axis=\"0 1 0\" limited=\"false\" armature=\"0\" damping=\"0\"/>",
    "<geom name=\"torso\" type=\"capsule\" fromto=\"0 0 0.2 0 0 -0.2\" size=\"0.05\"/>",
    "<body name=\"thigh\" pos=\"0 0 -0.2\">",
    "<joint name=\"thigh\" type=\"hinge\" axis=\"0 -1 0\" range=\"-150 0\"/>",
    "<geom name=\"thigh\" type=\"capsule\" fromto=\"0 0 0 0 0 -0.45\" size=\"0.05\"/>",
    "<body name=\"leg\" pos=\"0 0 -0.45\">",
    "<joint name=\"leg\" type=\"hinge\" axis=\"0 -1 0\" range=\"-150 0\"/>",
    "<geom name=\"leg\" type=\"capsule\" fromto=\"0 0 0 0 0 -0.5\" size=\"0.04\"/>",
    "<body name=\"foot\" pos=\"0 0 -0.5\">",
    "<joint name=\"foot\" type=\"hinge\" axis=\"0 -1 0\" range=\"-45 45\"/>",
    "<geom name=\"foot\" type=\"capsule\" fromto=\"0 0 0 0.2 0 0\" size=\"0.06\" rgba=\"0.9 0.6 0.6 1\"/>",
    "</body>",
    "</body>",
    "</body>",
    "<body name=\"thigh_left\" pos=\"0 0 -0.2\">",
    "<joint name=\"thigh_left\" type=\"hinge\" axis=\"0 -1 0\" range=\"-150 0\"/>",
    "<geom name=\"thigh_left\" type=\"capsule\" fromto=\"0 0 0 0 0 -0.45\" size=\"0.05\" rgba=\"0.7 0.3 0.6 1\"/>",
    "<body name=\"leg_left\" pos=\"0 0 -0.45\">",
    "<joint name=\"leg_left\" type=\"hinge\" axis=\"0 -1 0\" range=\"-150 0\"/>",
    "<geom name=\"leg_left\" type=\"capsule\" fromto=\"0 0 0 0 0 -0.5\" size=\"0.04\" rgba=\"0.7 0.3 0.6 1\"/>",
    "<body name=\"foot_left\" pos=\"0 0 -0.5\">",
    "<joint name=\"foot_left\" type=\"hinge\" axis=\"0 -1 0\" range=\"-45 45\"/>",
    "<geom name=\"foot_left\" type=\"capsule\" fromto=\"0 0 0 0.2 0 0\" size=\"0.06\" rgba=\"0.7 0.3 0.6 1\"/>",
    "</body>",
    "</body>",
    "</body>",
    "</body>",
    "</worldbody>",
    "<actuator>",
    "<motor joint=\"thigh\" gear=\"100\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"leg\" gear=\"100\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"foot\" gear=\"100\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"thigh_left\" gear=\"100\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"leg_left\" gear=\"100\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"foot_left\" gear=\"100\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "</actuator>",
    "</mujoco>",
    NULL};
static const char* const bgpbt__mjcf_ant[] = {
    "<mujoco model=\"ant\">",
    "<compiler angle=\"degree\" inertiafromgeom=\"true\" coordinate=\"local\"/>",
    "<option timestep=\"0.01\" gravity=\"0 0 -9.81\"/>",
    "<default>",
    "<joint limited=\"true\" armature=\"1\" damping=\"1\"/>",
    "<geom contype=\"1\" conaffinity=\"0\" condim=\"3\" friction=\"1 0.5 0.5\" density=\"5\" rgba=\"0.8 0.6 0.4 1\"/>",
    "</default>",
    "<worldbody>",
    "<geom name=\"floor\" type=\"plane\" pos=\"0 0 0\" size=\"40 40 40\" contype=\"0\" conaffinity=\"1\" rgba=\"0.8 0.9 0.8 1\"/>",
    "<body name=\"torso\" pos=\"0 0 0.6\">",
    "<joint name=\"root\" type=\"free\" limited=\"false\" armature=\"0\" damping=\"0\"/>",
    "<geom name=\"torso\" type=\"sphere\" size=\"0.25\"/>",
    "<body name=\"hip_1\" pos=\"0.2 0.2 0\">",
    "<joint name=\"hip_1\" type=\"hinge\" axis=\"0 0 1\" range=\"-30 30\"/>",
    "<geom name=\"hip_1\" type=\"capsule\" fromto=\"0 0 0 0.2 0.2 0\" size=\"0.08\"/>",
    "<body name=\"shin_1\" pos=\"0.2 0.2 0\">",
    "<joint name=\"knee_1\" type=\"hinge\" axis=\"-1 1 0\" range=\"-20 20\"/>",
    "<geom name=\"shin_1\" type=\"capsule\" fromto=\"0 0 0 0.2571 0.2571 -0.4333\" size=\"0.08\" rgba=\"0.9 0.6 0.6 1\"/>",
    "</body>",
    "</body>",
    "<body name=\"hip_2\" pos=\"-0.2 0.2 0\">",
    "<joint name=\"hip_2\" type=\"hinge\" axis=\"0 0 1\" range=\"-30 30\"/>",
    "<geom name=\"hip_2\" type=\"capsule\" fromto=\"0 0 0 -0.2 0.2 0\" size=\"0.08\"/>",
    "<body name=\"shin_2\" pos=\"-0.2 0.2 0\">",
    "<joint name=\"knee_2\" type=\"hinge\" axis=\"-1 -1 0\" range=\"-20 20\"/>",
    "<geom name=\"shin_2\" type=\"capsule\" fromto=\"0 0 0 -0.2571 0.2571 -0.4333\" size=\"0.08\" rgba=\"0.9 0.6 0.6 1\"/>",
    "</body>",
    "</body>",
    "<body name=\"hip_3\" pos=\"-0.2 -0.2 0\">",
    "<joint name=\"hip_3\" type=\"hinge\" axis=\"0 0 1\" range=\"-30 30\"/>",
    "<geom name=\"hip_3\" type=\"capsule\" fromto=\"0 0 0 -0.2 -0.2 0\" size=\"0.08\"/>",
    "<body name=\"shin_3\" pos=\"-0.2 -0.2 0\">",
    "<joint name=\"knee_3\" type=\"hinge\" axis=\"1 -1 0\" range=\"-20 20\"/>",
    "<geom name=\"shin_3\" type=\"capsule\" fromto=\"0 0 0 -0.2571 -0.2571 -0.4333\" size=\"0.08\" rgba=\"0.9 0.6 0.6 1\"/>",
    "</body>",
    "</body>",
    "<body name=\"hip_4\" pos=\"0.2 -0.2 0\">",
    "<joint name=\"hip_4\" type=\"hinge\" axis=\"0 0 1\" range=\"-30 30\"/>",
    "<geom name=\"hip_4\" type=\"capsule\" fromto=\"0 0 0 0.2 -0.2 0\" size=\"0.08\"/>",
    "<body name=\"shin_4\" pos=\"0.2 -0.2 0\">",
    "<joint name=\"knee_4\" type=\"hinge\" axis=\"1 1 0\" range=\"-20 20\"/>",
    "<geom name=\"shin_4\" type=\"capsule\" fromto=\"0 0 0 0.2571 -0.2571 -0.4333\" size=\"0.08\" rgba=\"0.9 0.6 0.6 1\"/>",
    "</body>",
    "</body>",
    "</body>",
    "</worldbody>",
    "<actuator>",
    "<motor joint=\"hip_1\" gear=\"150\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"knee_1\" gear=\"150\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"hip_2\" gear=\"150\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"knee_2\" gear=\"150\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"hip_3\" gear=\"150\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"knee_3\" gear=\"150\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"hip_4\" gear=\"150\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"knee_4\" gear=\"150\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "</actuator>",
    "</mujoco>",
    NULL};
static const char* const bgpbt__mjcf_humanoid[] = {
    "<mujoco model=\"humanoid\">",
    "<compiler angle=\"degree\" inertiafromgeom=\"true\" coordinate=\"local\"/>",
    "<option timestep=\"0.003\" gravity=\"0 0 -9.81\"/>",
    "<default>",
    "<joint limited=\"true\" armature=\"0.02\" damping=\"5\" stiffness=\"1\"/>",
    "<geom contype=\"0\" conaffinity=\"0\" condim=\"3\" friction=\"1 0.1 0.1\" density=\"1000\" rgba=\"0.8 0.6 0.4 1\"/>",
    "</default>",
    "<worldbody>",
    "<geom name=\"floor\" type=\"plane\" pos=\"0 0 0\" size=\"40 40 40\" contype=\"0\" conaffinity=\"1\" rgba=\"0.8 0.9 0.8 1\"/>",
    "<body name=\"torso\" pos=\"0 0 1.4\">",
    "<joint name=\"root\" type=\"free\" limited=\"false\" armature=\"0\" damping=\"0\" stiffness=\"0\"/>",
    "<geom name=\"torso\" type=\"capsule\" fromto=\"0 -0.07 0 0 0.07 0\" size=\"0.07\"/>",
    "<geom name=\"head\" type=\"sphere\" pos=\"0 0 0.19\" size=\"0.09\"/>",
    "<geom name=\"uwaist\" type=\"capsule\" fromto=\"-0.01 -0.06 -0.12 -0.01 0.06 -0.12\" size=\"0.06\"/>",
    "<body name=\"lwaist\" pos=\"-0.01 0 -0.26\">",
    "<joint name=\"abdomen_z\" type=\"hinge\" axis=\"0 0 1\" range=\"-45 45\" stiffness=\"20\"/>",
    "<joint name=\"abdomen_y\" type=\"hinge\" axis=\"0 1 0\" range=\"-75 30\" stiffness=\"10\"/>",
    "<geom name=\"lwaist\" type=\"capsule\" fromto=\"0 -0.06 0 0 0.06 0\" size=\"0.06\"/>",
    "<body name=\"pelvis\" pos=\"0 0 -0.165\">",
    "<joint name=\"abdomen_x\" type=\"hinge\" axis=\"1 0 0\" range=\"-35 35\" stiffness=\"10\"/>",
    "<geom name=\"butt\" type=\"capsule\" fromto=\"-0.02 -0.07 0 -0.02 0.07 0\" size=\"0.09\"/>",
    "<body name=\"right_thigh\" pos=\"0 -0.1 -0.04\">",
    "<joint name=\"right_hip_x\" type=\"hinge\" axis=\"1 0 0\" range=\"-25 5\" stiffness=\"10\"/>",
    "<joint name=\"right_hip_z\" type=\"hinge\" axis=\"0 0 1\" range=\"-60 35\" stiffness=\"10\"/>",
    "<joint name=\"right_hip_y\" type=\"hinge\" axis=\"0 1 0\" range=\"-110 20\" stiffness=\"20\"/>",
    "<geom name=\"right_thigh\" type=\"capsule\" fromto=\"0 0 0 0 0.01 -0.34\" size=\"0.06\"/>",
    "<body name=\"right_shin\" pos=\"0 0.01 -0.403\">",
    "<joint name=\"right_knee\" type=\"hinge\" axis=\"0 -1 0\" range=\"-160 0\"/>",
    "<geom name=\"right_shin\" type=\"capsule\" fromto=\"0 0 0 0 0 -0.3\" size=\"0.049\" contype=\"1\" rgba=\"0.9 0.6 0.6 1\"/>",
    "<geom name=\"right_foot\" type=\"sphere\" pos=\"0 0 -0.35\" size=\"0.075\" contype=\"1\" rgba=\"0.9 0.6 0.6 1\"/>",
    "</body>",
    "</body>",
    "<body name=\"left_thigh\" pos=\"0 0.1 -0.04\">",
    "<joint name=\"left_hip_x\" type=\"hinge\" axis=\"-1 0 0\" range=\"-25 5\" stiffness=\"10\"/>",
    "<joint name=\"left_hip_z\" type=\"hinge\" axis=\"0 0 -1\" range=\"-60 35\" stiffness=\"10\"/>",
    "<joint name=\"left_hip_y\" type=\"hinge\" axis=\"0 1 0\" range=\"-110 20\" stiffness=\"20\"/>",
    "<geom name=\"left_thigh\" type=\"capsule\" fromto=\"0 0 0 0 -0.01 -0.34\" size=\"0.06\"/>",
    "<body name=\"left_shin\" pos=\"0 -0.01 -0.403\">",
    "<joint name=\"left_knee\" type=\"hinge\" axis=\"0 -1 0\" range=\"-160 0\"/>",
    "<geom name=\"left_shin\" type=\"capsule\" fromto=\"0 0 0 0 0 -0.3\" size=\"0.049\" contype=\"1\" rgba=\"0.9 0.6 0.6 1\"/>",
    "<geom name=\"left_foot\" type=\"sphere\" pos=\"0 0 -0.35\" size=\"0.075\" contype=\"1\" rgba=\"0.9 0.6 0.6 1\"/>",
    "</body>",
    "</body>",
    "</body>",
    "</body>",
    "<body name=\"right_upper_arm\" pos=\"0 -0.17 0.06\">",
    "<joint name=\"right_shoulder1\" type=\"hinge\" axis=\"2 1 1\" range=\"-85 60\"/>",
    "<joint name=\"right_shoulder2\" type=\"hinge\" axis=\"0 -1 1\" range=\"-85 60\"/>",
    "<geom name=\"right_uarm\" type=\"capsule\" fromto=\"0 0 0 0.16 -0.16 -0.16\" size=\"0.04\"/>",
    "<body name=\"right_lower_arm\" pos=\"0.18 -0.18 -0.18\">",
    "<joint name=\"right_elbow\" type=\"hinge\" axis=\"0 -1 1\" range=\"-90 50\"/>",
    "<geom name=\"right_larm\" type=\"capsule\" fromto=\"0.01 0.01 0.01 0.17 0.17 0.17\" size=\"0.031\"/>",
    "<geom name=\"right_hand\" type=\"sphere\" pos=\"0.18 0.18 0.18\" size=\"0.04\"/>",
    "</body>",
    "</body>",
    "<body name=\"left_upper_arm\" pos=\"0 0.17 0.06\">",
    "<joint name=\"left_shoulder1\" type=\"hinge\" axis=\"2 -1 1\" range=\"-60 85\"/>",
    "<joint name=\"left_shoulder2\" type=\"hinge\" axis=\"0 1 1\" range=\"-60 85\"/>",
    "<geom name=\"left_uarm\" type=\"capsule\" fromto=\"0 0 0 0.16 0.16 -0.16\" size=\"0.04\"/>",
    "<body name=\"left_lower_arm\" pos=\"0.18 0.18 -0.18\">",
    "<joint name=\"left_elbow\" type=\"hinge\" axis=\"0 -1 -1\" range=\"-90 50\"/>",
    "<geom name=\"left_larm\" type=\"capsule\" fromto=\"0.01 -0.01 0.01 0.17 -0.17 0.17\" size=\"0.031\"/>",
    "<geom name=\"left_hand\" type=\"sphere\" pos=\"0.18 -0.18 0.18\" size=\"0.04\"/>",
    "</body>",
    "</body>",
    "</body>",
    "</worldbody>",
    "<actuator>",
    "<motor joint=\"abdomen_y\" gear=\"100\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"abdomen_z\" gear=\"100\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"abdomen_x\" gear=\"100\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"right_hip_x\" gear=\"100\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"right_hip_z\" gear=\"100\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"right_hip_y\" gear=\"300\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"right_knee\" gear=\"200\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"left_hip_x\" gear=\"100\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"left_hip_z\" gear=\"100\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"left_hip_y\" gear=\"300\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"left_knee\" gear=\"200\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"right_shoulder1\" gear=\"25\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"right_shoulder2\" gear=\"25\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"right_elbow\" gear=\"25\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"left_shoulder1\" gear=\"25\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"left_shoulder2\" gear=\"25\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"left_elbow\" gear=\"25\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "</actuator>",
    "</mujoco>",
    NULL};
static const char* const bgpbt__mjcf_ur5e[] = {
    "<mujoco model=\"ur5e\">",
    "<compiler angle=\"radian\" inertiafromgeom=\"true\" coordinate=\"local\"/>",
    "<option timestep=\"0.0025\" gravity=\"0 0 -9.81\"/>",
    "<default>",
    "<joint limited=\"true\" range=\"-6.2832 6.2832\" armature=\"0.1\" damping=\"5\"/>",
    "<geom contype=\"1\" conaffinity=\"0\" condim=\"3\" friction=\"1 0.1 0.1\" density=\"1000\" rgba=\"0.55 0.6 0.7 1\"/>",
    "</default>",
    "<worldbody>",
    "<geom name=\"floor\" type=\"plane\" pos=\"0 0 0\" size=\"40 40 40\" contype=\"0\" conaffinity=\"1\" rgba=\"0.8 0.9 0.8 1\"/>",
    "<geom name=\"base\" type=\"capsule\" fromto=\"0 0 0.02 0 0 0.09\" size=\"0.075\" contype=\"0\" rgba=\"0.3 0.3 0.35 1\"/>",
    "<body name=\"shoulder\" pos=\"0 0 0.1625\">",
    "<joint name=\"shoulder_pan\" type=\"hinge\" axis=\"0 0 1\"/>",
    "<geom name=\"shoulder\" type=\"capsule\" fromto=\"0 0 -0.05 0 0 0.05\" size=\"0.06\" rgba=\"0.3 0.5 0.8 1\"/>",
    "<body name=\"upper_arm\" pos=\"0 0.138 0\">",
    "<joint name=\"shoulder_lift\" type=\"hinge\" axis=\"0 1 0\"/>",
    "<geom name=\"upper_arm\" type=\"capsule\" fromto=\"0 0 0 0 0 0.425\" size=\"0.054\"/>",
    "<body name=\"forearm\" pos=\"0 -0.131 0.425\">",
    "<joint name=\"elbow\" type=\"hinge\" axis=\"0 1 0\" range=\"-3.1416 3.1416\"/>",
    "<geom name=\"forearm\" type=\"capsule\" fromto=\"0 0 0 0 0 0.392\" size=\"0.04\"/>",
    "<body name=\"wrist_1\" pos=\"0 0 0.392\">",
    "<joint name=\"wrist_1\" type=\"hinge\" axis=\"0 1 0\"/>",
    "<geom name=\"wrist_1\" type=\"capsule\" fromto=\"0 0 0 0 0.127 0\" size=\"0.035\" rgba=\"0.3 0.5 0.8 1\"/>",
    "<body name=\"wrist_2\" pos=\"0 0.127 0\">",
    "<joint name=\"wrist_2\" type=\"hinge\" axis=\"0 0 1\"/>",
    "<geom name=\"wrist_2\" type=\"capsule\" fromto=\"0 0 0 0 0 0.1\" size=\"0.035\" rgba=\"0.3 0.5 0.8 1\"/>",
    "<body name=\"wrist_3\" pos=\"0 0 0.1\">",
    "<joint name=\"wrist_3\" type=\"hinge\" axis=\"0 1 0\"/>",
    "<geom name=\"wrist_3\" type=\"capsule\" fromto=\"0 0 0 0 0.07 0\" size=\"0.03\" rgba=\"0.3 0.5 0.8 1\"/>",
    "<geom name=\"tool\" type=\"sphere\" pos=\"0 0.1 0\" size=\"0.03\" rgba=\"0.9 0.5 0.2 1\"/>",
    "</body>",
    "</body>",
    "</body>",
    "</body>",
    "</body>",
    "</body>",
    "</worldbody>",
    "<actuator>",
    "<motor joint=\"shoulder_pan\" gear=\"150\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"shoulder_lift\" gear=\"150\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"elbow\" gear=\"150\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"wrist_1\" gear=\"28\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"wrist_2\" gear=\"28\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"wrist_3\" gear=\"28\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "</actuator>",
    "</mujoco>",
    NULL};
static const char* const bgpbt__mjcf_fetch[] = {
    "<mujoco model=\"fetch\">",
    "<compiler angle=\"degree\" inertiafromgeom=\"true\" coordinate=\"local\"/>",
    "<option timestep=\"0.005\" gravity=\"0 0 -9.81\"/>",
    "<default>",
    "<joint limited=\"true\" armature=\"0.05\" damping=\"1\"/>",
    "<geom type=\"box\" contype=\"1\" conaffinity=\"0\" condim=\"3\" friction=\"1 0.1 0.1\" density=\"500\" rgba=\"0.8 0.6 0.4 1\"/>",
    "</default>",
    "<worldbody>",
    "<geom name=\"floor\" type=\"plane\" pos=\"0 0 0\" size=\"40 40 40\" contype=\"0\" conaffinity=\"1\" rgba=\"0.8 0.9 0.8 1\"/>",
    "<body name=\"torso\" pos=\"0 0 0.56\">",
    "<joint name=\"root\" type=\"free\" limited=\"false\" armature=\"0\" damping=\"0\"/>",
    "<geom name=\"torso\" type=\"box\" size=\"0.35 0.12 0.08\"/>",
    "<body name=\"head\" pos=\"0.38 0 0.08\">",
    "<joint name=\"neck\" type=\"hinge\" axis=\"0 1 0\" range=\"-30 30\"/>",
    "<geom name=\"head\" type=\"box\" pos=\"0.08 0 0.06\" size=\"0.1 0.07 0.07\" rgba=\"0.7 0.5 0.35 1\"/>",
    "</body>",
    "<body name=\"tail\" pos=\"-0.36 0 0.05\">",
    "<joint name=\"tail\" type=\"hinge\" axis=\"0 0 1\" range=\"-45 45\"/>",
    "<geom name=\"tail\" type=\"box\" pos=\"-0.12 0 0.03\" size=\"0.12 0.025 0.025\" rgba=\"0.7 0.5 0.35 1\"/>",
    "</body>",
    "<body name=\"thigh_fl\" pos=\"0.30 0.14 -0.05\">",
    "<joint name=\"hip_fl\" type=\"hinge\" axis=\"0 1 0\" range=\"-60 60\"/>",
    "<geom name=\"thigh_fl\" type=\"box\" pos=\"0 0 -0.115\" size=\"0.04 0.04 0.115\"/>",
    "<body name=\"shin_fl\" pos=\"0 0 -0.23\">",
    "<joint name=\"knee_fl\" type=\"hinge\" axis=\"0 1 0\" range=\"-90 30\"/>",
    "<geom name=\"shin_fl\" type=\"box\" pos=\"0 0 -0.115\" size=\"0.03 0.03 0.115\" rgba=\"0.9 0.6 0.6 1\"/>",
    "</body>",
    "</body>",
    "<body name=\"thigh_fr\" pos=\"0.30 -0.14 -0.05\">",
    "<joint name=\"hip_fr\" type=\"hinge\" axis=\"0 1 0\" range=\"-60 60\"/>",
    "<geom name=\"thigh_fr\" type=\"box\" pos=\"0 0 -0.115\" size=\"0.04 0.04 0.115\"/>",
    "<body name=\"shin_fr\" pos=\"0 0 -0.23\">",
    "<joint name=\"knee_fr\" type=\"hinge\" axis=\"0 1 0\" range=\"-90 30\"/>",
    "<geom name=\"shin_fr\" type=\"box\" pos=\"0 0 -0.115\" size=\"0.03 0.03 0.115\" rgba=\"0.9 0.6 0.6 1\"/>",
    "</body>",
    "</body>",
    "<body name=\"thigh_bl\" pos=\"-0.30 0.14 -0.05\">",
    "<joint name=\"hip_bl\" type=\"hinge\" axis=\"0 1 0\" range=\"-60 60\"/>",
    "<geom name=\"thigh_bl\" type=\"box\" pos=\"0 0 -0.115\" size=\"0.04 0.04 0.115\"/>",
    "<body name=\"shin_bl\" pos=\"0 0 -0.23\">",
    "<joint name=\"knee_bl\" type=\"hinge\" axis=\"0 1 0\" range=\"-90 30\"/>",
    "<geom name=\"shin_bl\" type=\"box\" pos=\"0 0 -0.115\" size=\"0.03 0.03 0.115\" rgba=\"0.9 0.6 0.6 1\"/>",
    "</body>",
    "</body>",
    "<body name=\"thigh_br\" pos=\"-0.30 -0.14 -0.05\">",
    "<joint name=\"hip_br\" type=\"hinge\" axis=\"0 1 0\" range=\"-60 60\"/>",
    "<geom name=\"thigh_br\" type=\"box\" pos=\"0 0 -0.115\" size=\"0.04 0.04 0.115\"/>",
    "<body name=\"shin_br\" pos=\"0 0 -0.23\">",
    "<joint name=\"knee_br\" type=\"hinge\" axis=\"0 1 0\" range=\"-90 30\"/>",
    "<geom name=\"shin_br\" type=\"box\" pos=\"0 0 -0.115\" size=\"0.03 0.03 0.115\" rgba=\"0.9 0.6 0.6 1\"/>",
    "</body>",
    "</body>",
    "</body>",
    "</worldbody>",
    "<actuator>",
    "<motor joint=\"hip_fl\" gear=\"80\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"knee_fl\" gear=\"60\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"hip_fr\" gear=\"80\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"knee_fr\" gear=\"60\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"hip_bl\" gear=\"80\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"knee_bl\" gear=\"60\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"hip_br\" gear=\"80\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"knee_br\" gear=\"60\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"neck\" gear=\"10\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "<motor joint=\"tail\" gear=\"10\" ctrllimited=\"true\" ctrlrange=\"-1 1\"/>",
    "</actuator>",
    "</mujoco>",
    NULL};


/* ---- [impl.env.tasks] the built-in tasks ----------------------------------------------------- */

enum {
    BGPBT__T_IP = 0, BGPBT__T_IDP, BGPBT__T_REACHER, BGPBT__T_CHEETAH, BGPBT__T_HOPPER,
    BGPBT__T_WALKER, BGPBT__T_ANT, BGPBT__T_HUMANOID, BGPBT__T_UR5E, BGPBT__T_FETCH, BGPBT__T_COUNT
};

/* the simulator behind the tasks (one model, a batch of copies): see the adapter below */
typedef struct bgpbt__tsim bgpbt__tsim;

typedef struct bgpbt__task_spec {
    const char* name;
    const char* const* mjcf;
    int obs_dim, act_dim, frame_skip, free_root;
    float noise_q, noise_v;
    int n_terms;
    const char* term_names[BGPBT_TASK_MAX_TERMS];
    float weights[BGPBT_TASK_MAX_TERMS];
    const char* track_body; /* body whose motion the reward follows (torso, tool, ...) */
    int gather;             /* BGPBT__G_* flags: what the observation and reward read */
} bgpbt__task_spec;

/* What a task reads each step beyond qpos, qvel and the tracked body's pose (reading less is
   faster: these are per-body lane gathers from the simulator's batched state). */
enum { BGPBT__G_POSES = 1, BGPBT__G_VELS = 2, BGPBT__G_TRACK_VEL = 4, BGPBT__G_CONTACT = 8, BGPBT__G_COM = 16 };

static const bgpbt__task_spec bgpbt__task_specs[BGPBT__T_COUNT] = {
    {"inverted_pendulum", bgpbt__mjcf_inverted_pendulum, 4, 1, 4, 0, 0.01f, 0.01f, 1,
     {"alive"}, {1.0f}, "pole", 0},
    {"inverted_double_pendulum", bgpbt__mjcf_inverted_double_pendulum, 10, 1, 5, 0, 0.01f, 0.01f, 3,
     {"alive", "distance", "velocity"}, {10.0f, 1.0f, 1.0f}, "pole2", 0},
    {"reacher", bgpbt__mjcf_reacher, 11, 2, 2, 0, 0.1f, 0.005f, 2,
     {"distance", "ctrl"}, {1.0f, 1.0f}, "link1", 0},
    {"halfcheetah", bgpbt__mjcf_halfcheetah, 23, 6, 5, 0, 0.1f, 0.1f, 2,
     {"forward", "ctrl"}, {1.0f, 0.1f}, "torso", 0},
    {"hopper", bgpbt__mjcf_hopper, 14, 3, 4, 0, 0.005f, 0.005f, 3,
     {"forward", "healthy", "ctrl"}, {1.0f, 1.0f, 1e-3f}, "torso", BGPBT__G_COM},
    {"walker2d", bgpbt__mjcf_walker2d, 20, 6, 4, 0, 0.005f, 0.005f, 3,
     {"forward", "healthy", "ctrl"}, {1.0f, 1.0f, 1e-3f}, "torso", BGPBT__G_COM},
    {"ant", bgpbt__mjcf_ant, 87, 8, 5, 1, 0.1f, 0.1f, 4,
     {"forward", "ctrl", "contact", "healthy"}, {1.0f, 0.5f, 5e-4f, 1.0f}, "torso",
     BGPBT__G_TRACK_VEL | BGPBT__G_CONTACT},
    {"humanoid", bgpbt__mjcf_humanoid, 233, 17, 5, 1, 0.01f, 0.01f, 3,
     {"forward", "ctrl", "healthy"}, {1.25f, 0.01f, 5.0f}, "torso",
     BGPBT__G_POSES | BGPBT__G_VELS | BGPBT__G_CONTACT | BGPBT__G_COM},
    {"ur5e", bgpbt__mjcf_ur5e, 52, 6, 8, 0, 0.05f, 0.05f, 2,
     {"progress", "hit"}, {0.1f, 1.0f}, "wrist_3", BGPBT__G_POSES | BGPBT__G_VELS | BGPBT__G_CONTACT},
    {"fetch", bgpbt__mjcf_fetch, 87, 10, 4, 1, 0.01f, 0.01f, 4,
     {"progress", "up", "height", "hit"}, {0.1f, 0.1f, 0.1f, 1.0f}, "torso",
     BGPBT__G_POSES | BGPBT__G_VELS | BGPBT__G_CONTACT},
};

/* Per-copy task state (floats): the tracked point before the step, the target, counters. */
enum { BGPBT__TS_PREV = 0, BGPBT__TS_TARGET = 3, BGPBT__TS_HITS = 6, BGPBT__TS_SIZE = 8 };

typedef struct bgpbt__task {
    const bgpbt__task_spec* spec;
    int kind, nq, nv, nu, nbody, frame_skip, track, free_root;
    float timestep, dt, noise_q, noise_v, hit_radius;
    float w[BGPBT_TASK_MAX_TERMS];
    float gear[32];
    bgpbt__tsim* sim;
    float* qpos0;        /* nq */
    float* ctrl;         /* n * nu */
    float* ts;           /* n * BGPBT__TS_SIZE */
    float* view;         /* n * view_stride: the last gathered state of each copy */
    size_t view_stride;
    float* scratch;      /* nq + nv: one reset draw */
    unsigned char* mask; /* n: copies to reset */
} bgpbt__task;

BGPBT_API bgpbt_task_options bgpbt_task_options_default(void) {
    bgpbt_task_options o;
    memset(&o, 0, sizeof o);
    return o;
}
BGPBT_API int bgpbt_task_count(void) { return BGPBT__T_COUNT; }
BGPBT_API const char* bgpbt_task_name(int index) {
    return index >= 0 && index < BGPBT__T_COUNT ? bgpbt__task_specs[index].name : NULL;
}
BGPBT__PRIVATE int bgpbt__task_find(const char* name) {
    int k;
    if (!name) return -1;
    for (k = 0; k < BGPBT__T_COUNT; ++k)
        if (strcmp(name, bgpbt__task_specs[k].name) == 0) return k;
    return -1;
}

BGPBT_API bgpbt_result bgpbt_task_mjcf(const char* name, char* buf, size_t cap, size_t* size) {
    int k = bgpbt__task_find(name), i;
    size_t len = 0;
    if (size) *size = 0;
    if (k < 0) return BGPBT_ERR_UNKNOWN_NAME;
    if (!size) return BGPBT_ERR_INVALID_ARGUMENT;
    for (i = 0; bgpbt__task_specs[k].mjcf[i]; ++i) len += strlen(bgpbt__task_specs[k].mjcf[i]) + 1;
    *size = len;
    if (!buf) return BGPBT_OK;
    if (cap <= len) {
        if (cap) buf[0] = '\0';
        return BGPBT_ERR_BUFFER_TOO_SMALL;
    }
    len = 0;
    for (i = 0; bgpbt__task_specs[k].mjcf[i]; ++i) {
        size_t l = strlen(bgpbt__task_specs[k].mjcf[i]);
        memcpy(buf + len, bgpbt__task_specs[k].mjcf[i], l);
        buf[len + l] = '\n';
        len += l + 1;
    }
    buf[len] = '\0';
    return BGPBT_OK;
}

/* Timestep from the model text (the one number the tables need without building the model). */
BGPBT__PRIVATE float bgpbt__task_timestep(const bgpbt__task_spec* s) {
    int i;
    for (i = 0; s->mjcf[i]; ++i) {
        const char* p = strstr(s->mjcf[i], "timestep=\"");
        if (p) return (float)strtod(p + 10, NULL);
    }
    return 0.01f;
}

BGPBT_API bgpbt_result bgpbt_task_get_info(const char* name, bgpbt_task_info* out) {
    int k = bgpbt__task_find(name), j;
    const bgpbt__task_spec* s;
    if (!out) return BGPBT_ERR_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    if (k < 0) return BGPBT_ERR_UNKNOWN_NAME;
    s = &bgpbt__task_specs[k];
    out->name = s->name;
    out->obs_dim = s->obs_dim;
    out->act_dim = s->act_dim;
    out->episode_length = 1000;
    out->frame_skip = s->frame_skip;
    out->timestep = bgpbt__task_timestep(s);
    out->dt = out->timestep * (float)s->frame_skip;
    out->num_terms = s->n_terms;
    for (j = 0; j < s->n_terms; ++j) {
        out->term_names[j] = s->term_names[j];
        out->default_weights[j] = s->weights[j];
    }
    out->reset_noise_qpos = s->noise_q;
    out->reset_noise_qvel = s->noise_v;
    return BGPBT_OK;
}

/* ---- the view of one copy: what the observation and reward functions read ------------------ */

typedef struct bgpbt__tview {
    float *qpos, *qvel;  /* nq, nv */
    float *xpos, *xquat; /* nbody x 3, nbody x 4 (w, x, y, z) */
    float *bvel;         /* nbody x 6: linear velocity of the body's com, angular velocity (world) */
    float *cfrc;         /* nbody x 6: contact force and torque on the body (world) */
    float *com;          /* 3: centre of mass of the whole model */
} bgpbt__tview;

BGPBT__PRIVATE size_t bgpbt__tview_floats(int nq, int nv, int nb) {
    /* rounded to 16 floats, so copies never share a cache line */
    size_t n = (size_t)nq + (size_t)nv + (size_t)nb * 19u + 3u;
    return (n + 15u) & ~(size_t)15u;
}
BGPBT__PRIVATE void bgpbt__tview_at(const bgpbt__task* t, int env, bgpbt__tview* v) {
    float* p = t->view + (size_t)env * t->view_stride;
    v->qpos = p; p += t->nq;
    v->qvel = p; p += t->nv;
    v->xpos = p; p += 3 * t->nbody;
    v->xquat = p; p += 4 * t->nbody;
    v->bvel = p; p += 6 * t->nbody;
    v->cfrc = p; p += 6 * t->nbody;
    v->com = p;
}

/* ---- [impl.env.tasks.sim] the simulator adapter -------------------------------------------- */

/* The adapter between the tasks and the simulator ([decl.sim]): one model, a batch of copies.
   Everything the tasks read about a copy goes through bgpbt__tsim_view. */
struct bgpbt__tsim {
    bgpbt_sim_model* model;
    bgpbt_sim* sim;
    bgpbt_sim_sizes sizes;
    float timestep;
};

BGPBT__PRIVATE void bgpbt__tsim_destroy(bgpbt__tsim* s, const bgpbt_allocator* a) {
    if (!s) return;
    if (s->sim) bgpbt_sim_destroy(s->sim);
    if (s->model) bgpbt_sim_model_destroy(s->model);
    bgpbt_mem_free(a, s, sizeof *s);
}

BGPBT__PRIVATE bgpbt_result bgpbt__tsim_create(const char* xml, size_t len, int n, int frame_skip,
                                               const bgpbt_allocator* a, const bgpbt_logger* log,
                                               bgpbt__tsim** out) {
    bgpbt__tsim* s = (bgpbt__tsim*)bgpbt__calloc(a, 1, sizeof *s);
    bgpbt_sim_model_config mc = bgpbt_sim_model_config_default();
    bgpbt_sim_config sc = bgpbt_sim_config_default();
    bgpbt_result r;
    *out = NULL;
    if (!s) return BGPBT_ERR_OUT_OF_MEMORY;
    mc.allocator = *a;
    mc.logger = *log;
    r = bgpbt_sim_model_from_mjcf(xml, len, &mc, &s->model);
    if (r != BGPBT_OK) {
        bgpbt__tsim_destroy(s, a);
        return r;
    }
    sc.num_envs = n;
    sc.frame_skip = frame_skip;
    sc.allocator = *a;
    sc.logger = *log;
    r = bgpbt_sim_create(s->model, &sc, &s->sim);
    if (r != BGPBT_OK) {
        bgpbt__tsim_destroy(s, a);
        return r;
    }
    s->sizes = bgpbt_sim_model_sizes(s->model);
    s->timestep = bgpbt_sim_model_options(s->model).timestep;
    *out = s;
    return BGPBT_OK;
}

BGPBT__PRIVATE void bgpbt__tsim_dims(const bgpbt__tsim* s, int* nq, int* nv, int* nu, int* nb, float* ts) {
    *nq = s->sizes.nq;
    *nv = s->sizes.nv;
    *nu = s->sizes.nu;
    *nb = s->sizes.nbody;
    *ts = s->timestep;
}
BGPBT__PRIVATE int bgpbt__tsim_body_id(const bgpbt__tsim* s, const char* name) {
    return bgpbt_sim_model_body_id(s->model, name);
}
BGPBT__PRIVATE const char* bgpbt__tsim_body_name(const bgpbt__tsim* s, int b) {
    return bgpbt_sim_model_body_name(s->model, b);
}
BGPBT__PRIVATE float bgpbt__tsim_gear(const bgpbt__tsim* s, int u) {
    bgpbt_sim_actuator_desc d;
    if (bgpbt_sim_model_actuator(s->model, u, &d) != BGPBT_OK) return 1.0f;
    return d.gear;
}
BGPBT__PRIVATE void bgpbt__tsim_qpos0(const bgpbt__tsim* s, float* q) {
    memcpy(q, bgpbt_sim_model_qpos0(s->model), (size_t)s->sizes.nq * sizeof(float));
}
/* Called from one thread at a time (the reset loop runs in index order). */
BGPBT__PRIVATE void bgpbt__tsim_set_state(bgpbt__tsim* s, int i, const float* q, const float* qd) {
    bgpbt_sim_reset_env(s->sim, i, q, qd);
}
BGPBT__PRIVATE void bgpbt__tsim_step(bgpbt__tsim* s, const float* ctrl) {
    bgpbt_sim_set_ctrl_all(s->sim, ctrl);
    bgpbt_sim_step(s->sim);
}
BGPBT__PRIVATE int bgpbt__tsim_unstable(const bgpbt__tsim* s, int i) { return bgpbt_sim_env_flagged(s->sim, i); }
BGPBT__PRIVATE const bgpbt_sim* bgpbt__tsim_sim(const bgpbt__tsim* s) { return s->sim; }

/* Read-only: safe from many threads at once. */
BGPBT__PRIVATE void bgpbt__tsim_view(const bgpbt__tsim* s, int i, bgpbt__tview* v, int track, int gather) {
    int b, nb = s->sizes.nbody;
    float vel[3];
    bgpbt_sim_get_qpos(s->sim, i, v->qpos);
    bgpbt_sim_get_qvel(s->sim, i, v->qvel);
    for (b = 0; b < nb; ++b) {
        if (b == track || (gather & BGPBT__G_POSES)) {
            bgpbt_sim_body_pos(s->sim, i, b, v->xpos + 3 * b);
            bgpbt_sim_body_quat(s->sim, i, b, v->xquat + 4 * b);
        }
        if ((gather & BGPBT__G_VELS) || (b == track && (gather & BGPBT__G_TRACK_VEL)))
            bgpbt_sim_body_vel(s->sim, i, b, v->bvel + 6 * b, v->bvel + 6 * b + 3);
        if (gather & BGPBT__G_CONTACT)
            bgpbt_sim_body_contact(s->sim, i, b, v->cfrc + 6 * b, v->cfrc + 6 * b + 3);
    }
    if (gather & BGPBT__G_COM) bgpbt_sim_com(s->sim, i, v->com, vel);
}
/* Every body's pose of copy i (for games and renderers). */
BGPBT__PRIVATE void bgpbt__tsim_poses(const bgpbt__tsim* s, int i, float* pos, float* quat) {
    int b;
    for (b = 0; b < s->sizes.nbody; ++b) {
        if (pos) bgpbt_sim_body_pos(s->sim, i, b, pos + 3 * b);
        if (quat) bgpbt_sim_body_quat(s->sim, i, b, quat + 4 * b);
    }
}

/* Row-major rotation matrix to a unit quaternion (w, x, y, z). */
/* The geoms of copy i for rendering; returns how many the model has (writes at most max). */
BGPBT__PRIVATE int bgpbt__tsim_geoms(const bgpbt__tsim* s, int i, bgpbt_render_geom* out, int max) {
    int g, k;
    for (g = 0; g < s->sizes.ngeom && g < max; ++g) {
        bgpbt_sim_geom_desc d;
        bgpbt_render_geom* o = &out[g];
        float mat[9];
        memset(o, 0, sizeof *o);
        if (bgpbt_sim_model_geom(s->model, g, &d) != BGPBT_OK) continue;
        o->type = d.type == BGPBT_SIM_GEOM_PLANE ? BGPBT_GEOM_PLANE
                : d.type == BGPBT_SIM_GEOM_SPHERE ? BGPBT_GEOM_SPHERE
                : d.type == BGPBT_SIM_GEOM_CAPSULE ? BGPBT_GEOM_CAPSULE : BGPBT_GEOM_BOX;
        for (k = 0; k < 3; ++k) o->size[k] = d.size[k];
        for (k = 0; k < 4; ++k) o->rgba[k] = d.rgba[k];
        bgpbt_sim_geom_pose(s->sim, i, g, o->pos, mat);
        {   /* the simulator's own rotation-to-quaternion conversion (double precision, normalised) */
            double md[9];
            for (k = 0; k < 9; ++k) md[k] = mat[k];
            bgpbt__mat_to_quat(md, o->quat);
        }
    }
    return s->sizes.ngeom;
}

/* ---- end of the simulator adapter */


/* rotate v by the inverse of q: world -> body frame */
BGPBT__PRIVATE void bgpbt__env_qrot_inv(const float q[4], const float v[3], float out[3]) {
    float qc[4];
    qc[0] = q[0]; qc[1] = -q[1]; qc[2] = -q[2]; qc[3] = -q[3];
    bgpbt__env_qrot(qc, v, out);
}
BGPBT__INLINE float bgpbt__clip1(float x) { return x > 1.0f ? 1.0f : x < -1.0f ? -1.0f : x; }

/* The point the reward tracks (before/after a step): torso x, COM, tool tip, ... */
BGPBT__PRIVATE void bgpbt__task_track_point(const bgpbt__task* t, const bgpbt__tview* v, float p[3]) {
    int b = t->track;
    switch (t->kind) {
        case BGPBT__T_HOPPER: case BGPBT__T_WALKER: case BGPBT__T_HUMANOID:
            p[0] = v->com[0]; p[1] = v->com[1]; p[2] = v->com[2];
            return;
        case BGPBT__T_REACHER: { /* fingertip: 0.11 along link1's x axis */
            float loc[3] = {0.11f, 0.0f, 0.0f}, w[3];
            bgpbt__env_qrot(v->xquat + 4 * b, loc, w);
            p[0] = v->xpos[3 * b] + w[0]; p[1] = v->xpos[3 * b + 1] + w[1]; p[2] = v->xpos[3 * b + 2] + w[2];
            return;
        }
        case BGPBT__T_IP: { /* pole centre: 0.3 along the pole's z axis */
            float loc[3] = {0.0f, 0.0f, 0.3f}, w[3];
            bgpbt__env_qrot(v->xquat + 4 * b, loc, w);
            p[0] = v->xpos[3 * b] + w[0]; p[1] = v->xpos[3 * b + 1] + w[1]; p[2] = v->xpos[3 * b + 2] + w[2];
            return;
        }
        case BGPBT__T_IDP: { /* pole tip: 0.6 along pole2's z axis */
            float loc[3] = {0.0f, 0.0f, 0.6f}, w[3];
            bgpbt__env_qrot(v->xquat + 4 * b, loc, w);
            p[0] = v->xpos[3 * b] + w[0]; p[1] = v->xpos[3 * b + 1] + w[1]; p[2] = v->xpos[3 * b + 2] + w[2];
            return;
        }
        case BGPBT__T_UR5E: { /* tool centre: 0.1 along wrist_3's y axis */
            float loc[3] = {0.0f, 0.1f, 0.0f}, w[3];
            bgpbt__env_qrot(v->xquat + 4 * b, loc, w);
            p[0] = v->xpos[3 * b] + w[0]; p[1] = v->xpos[3 * b + 1] + w[1]; p[2] = v->xpos[3 * b + 2] + w[2];
            return;
        }
        default:
            p[0] = v->xpos[3 * b]; p[1] = v->xpos[3 * b + 1]; p[2] = v->xpos[3 * b + 2];
            return;
    }
}

/* New target for copy env (reacher, ur5e, fetch), drawn from its stream. */
BGPBT__PRIVATE void bgpbt__task_new_target(const bgpbt__task* t, bgpbt_rng* rng, const float* from, float* target) {
    if (t->kind == BGPBT__T_REACHER) {
        float x, y;
        do {
            x = (float)bgpbt_rng_uniform(rng, -0.2, 0.2);
            y = (float)bgpbt_rng_uniform(rng, -0.2, 0.2);
        } while (x * x + y * y >= 0.04f);
        target[0] = x; target[1] = y; target[2] = 0.01f;
    } else if (t->kind == BGPBT__T_UR5E) {
        float r, az, el;
        do {
            r = (float)bgpbt_rng_uniform(rng, 0.35, 0.8);
            az = (float)bgpbt_rng_uniform(rng, -3.14159265, 3.14159265);
            el = (float)bgpbt_rng_uniform(rng, -0.3, 1.2);
            target[0] = r * cosf(el) * cosf(az);
            target[1] = r * cosf(el) * sinf(az);
            target[2] = 0.1625f + r * sinf(el);
        } while (target[2] < 0.1f);
    } else { /* fetch: 2..17 m from the torso, any direction, on the ground */
        float d = (float)bgpbt_rng_uniform(rng, 2.0, 17.0);
        float az = (float)bgpbt_rng_uniform(rng, -3.14159265, 3.14159265);
        target[0] = from[0] + d * cosf(az);
        target[1] = from[1] + d * sinf(az);
        target[2] = 0.0f;
    }
}

/* Observation of one copy. */
BGPBT__PRIVATE void bgpbt__task_obs(const bgpbt__task* t, const bgpbt__tview* v, const float* ts,
                                    const float* act, float* o) {
    int j, k = 0, b;
    const float* tq = v->xquat + 4 * t->track;
    switch (t->kind) {
        case BGPBT__T_IP:
            o[0] = v->qpos[0]; o[1] = v->qpos[1]; o[2] = v->qvel[0]; o[3] = v->qvel[1];
            return;
        case BGPBT__T_IDP: {
            float tip[3];
            bgpbt__task_track_point(t, v, tip);
            o[0] = v->qpos[0];
            o[1] = sinf(v->qpos[1]); o[2] = sinf(v->qpos[2]);
            o[3] = cosf(v->qpos[1]); o[4] = cosf(v->qpos[2]);
            o[5] = v->qvel[0]; o[6] = v->qvel[1]; o[7] = v->qvel[2];
            o[8] = tip[0] - v->qpos[0]; o[9] = tip[2];
            return;
        }
        case BGPBT__T_REACHER: {
            float tip[3];
            bgpbt__task_track_point(t, v, tip);
            o[0] = cosf(v->qpos[0]); o[1] = cosf(v->qpos[1]);
            o[2] = sinf(v->qpos[0]); o[3] = sinf(v->qpos[1]);
            o[4] = ts[BGPBT__TS_TARGET]; o[5] = ts[BGPBT__TS_TARGET + 1];
            o[6] = v->qvel[0]; o[7] = v->qvel[1];
            o[8] = tip[0] - ts[BGPBT__TS_TARGET];
            o[9] = tip[1] - ts[BGPBT__TS_TARGET + 1];
            o[10] = tip[2] - ts[BGPBT__TS_TARGET + 2];
            return;
        }
        case BGPBT__T_CHEETAH: case BGPBT__T_HOPPER: case BGPBT__T_WALKER: {
            /* planar: qpos = x, z, pitch, joints; the torso frame is the root's */
            int nj = t->nq - 3;
            o[k++] = v->xpos[3 * t->track + 2];
            for (j = 0; j < 4; ++j) o[k++] = tq[j];
            for (j = 0; j < nj; ++j) o[k++] = v->qpos[3 + j];
            o[k++] = v->qvel[0]; o[k++] = 0.0f; o[k++] = v->qvel[1];
            if (t->kind == BGPBT__T_CHEETAH) { o[k++] = 0.0f; o[k++] = v->qvel[2]; o[k++] = 0.0f; }
            for (j = 0; j < nj; ++j) o[k++] = v->qvel[3 + j];
            return;
        }
        case BGPBT__T_ANT: {
            const float* bv = v->bvel + 6 * t->track;
            o[k++] = v->xpos[3 * t->track + 2];
            for (j = 0; j < 4; ++j) o[k++] = tq[j];
            for (j = 7; j < t->nq; ++j) o[k++] = v->qpos[j];
            for (j = 0; j < 6; ++j) o[k++] = bv[j];
            for (j = 6; j < t->nv; ++j) o[k++] = v->qvel[j];
            for (j = 0; j < 6 * t->nbody; ++j) o[k++] = bgpbt__clip1(v->cfrc[j]);
            return;
        }
        case BGPBT__T_HUMANOID: {
            for (j = 2; j < t->nq; ++j) o[k++] = v->qpos[j];
            for (j = 0; j < t->nv; ++j) o[k++] = v->qvel[j];
            for (b = 1; b < t->nbody; ++b) {
                for (j = 0; j < 3; ++j) o[k++] = v->xpos[3 * b + j] - v->com[j];
                for (j = 0; j < 6; ++j) o[k++] = v->bvel[6 * b + j];
            }
            for (j = 0; j < t->nu; ++j) o[k++] = act ? act[j] * t->gear[j] * 0.01f : 0.0f;
            for (j = 0; j < 6 * t->nbody; ++j) o[k++] = bgpbt__clip1(v->cfrc[j]);
            return;
        }
        case BGPBT__T_UR5E: case BGPBT__T_FETCH: {
            float fwd[3], up[3], ex[3] = {1, 0, 0}, ez[3] = {0, 0, 1}, p[3], d[3], dist, dl[3];
            const float* rp = v->xpos + 3 * t->track;
            const float* rv = v->bvel + 6 * t->track;
            int fetch = t->kind == BGPBT__T_FETCH;
            bgpbt__task_track_point(t, v, p);
            if (fetch) { bgpbt__env_qrot(tq, ex, fwd); }
            else { float ey[3] = {0, 1, 0}; bgpbt__env_qrot(tq, ey, fwd); }
            bgpbt__env_qrot(tq, ez, up);
            for (j = 0; j < 3; ++j) d[j] = ts[BGPBT__TS_TARGET + j] - p[j];
            dist = sqrtf(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
            for (j = 0; j < 3; ++j) d[j] = dist > 1e-6f ? d[j] / dist : 0.0f;
            for (j = 0; j < 3; ++j) o[k++] = fwd[j];
            for (j = 0; j < 3; ++j) o[k++] = up[j];
            o[k++] = dist;
            if (fetch) bgpbt__env_qrot_inv(tq, d, dl);
            else { dl[0] = d[0]; dl[1] = d[1]; dl[2] = d[2]; }
            for (j = 0; j < 3; ++j) o[k++] = dl[j];
            for (b = 1; b < t->nbody; ++b) {
                float rel[3], vel[3], c = 0.0f;
                for (j = 0; j < 3; ++j) {
                    rel[j] = v->xpos[3 * b + j] - (fetch ? rp[j] : 0.0f);
                    vel[j] = v->bvel[6 * b + j] - (fetch ? rv[j] : 0.0f);
                    c += fabsf(v->cfrc[6 * b + j]);
                }
                if (fetch) { /* torso frame */
                    float r2[3], v2[3];
                    bgpbt__env_qrot_inv(tq, rel, r2);
                    bgpbt__env_qrot_inv(tq, vel, v2);
                    for (j = 0; j < 3; ++j) { rel[j] = r2[j]; vel[j] = v2[j]; }
                }
                for (j = 0; j < 3; ++j) o[k++] = rel[j];
                for (j = 0; j < 3; ++j) o[k++] = vel[j];
                o[k++] = c > 0.0f ? 1.0f : 0.0f;
            }
            return;
        }
        default: return;
    }
}

/* Reward terms (weighted) and termination of one copy after a step. `prev` is the tracked point
   before the step; ts may be updated (targets respawn). Returns terminated. */
BGPBT__PRIVATE int bgpbt__task_reward(const bgpbt__task* t, const bgpbt__tview* v, float* ts,
                                      const float* act, bgpbt_rng* rng, float* terms) {
    float p[3], sa = 0.0f, z;
    int j;
    const float* w = t->w;
    bgpbt__task_track_point(t, v, p);
    for (j = 0; j < t->nu; ++j) sa += act[j] * act[j];
    z = v->xpos[3 * t->track + 2];
    switch (t->kind) {
        case BGPBT__T_IP:
            terms[0] = w[0];
            return p[2] <= 0.2f; /* pole centre height above the hinge (the rail is at z 0) */
        case BGPBT__T_IDP: {
            float wv1 = v->qvel[1], wv2 = v->qvel[2];
            terms[0] = w[0];
            terms[1] = -w[1] * (0.01f * p[0] * p[0] + (p[2] - 2.0f) * (p[2] - 2.0f));
            terms[2] = -w[2] * (1e-3f * wv1 * wv1 + 5e-3f * wv2 * wv2);
            return p[2] <= 1.0f;
        }
        case BGPBT__T_REACHER: {
            float dx = p[0] - ts[BGPBT__TS_TARGET], dy = p[1] - ts[BGPBT__TS_TARGET + 1];
            float dz = p[2] - ts[BGPBT__TS_TARGET + 2];
            terms[0] = -w[0] * sqrtf(dx * dx + dy * dy + dz * dz);
            terms[1] = -w[1] * sa;
            return 0;
        }
        case BGPBT__T_CHEETAH:
            terms[0] = w[0] * (p[0] - ts[BGPBT__TS_PREV]) / t->dt;
            terms[1] = -w[1] * sa;
            return 0;
        case BGPBT__T_HOPPER: case BGPBT__T_WALKER:
            terms[0] = w[0] * (p[0] - ts[BGPBT__TS_PREV]) / t->dt;
            terms[1] = w[1];
            terms[2] = -w[2] * sa;
            return t->kind == BGPBT__T_HOPPER ? z < 0.7f : (z <= 0.7f || z >= 2.0f);
        case BGPBT__T_ANT: {
            float c = 0.0f;
            for (j = 0; j < 6 * t->nbody; ++j) { float f = bgpbt__clip1(v->cfrc[j]); c += f * f; }
            terms[0] = w[0] * (p[0] - ts[BGPBT__TS_PREV]) / t->dt;
            terms[1] = -w[1] * sa;
            terms[2] = -w[2] * c;
            terms[3] = w[3];
            return z < 0.2f || z > 1.0f;
        }
        case BGPBT__T_HUMANOID:
            terms[0] = w[0] * (p[0] - ts[BGPBT__TS_PREV]) / t->dt;
            terms[1] = -w[1] * sa;
            terms[2] = w[2];
            return z < 0.7f || z > 2.1f;
        case BGPBT__T_UR5E: case BGPBT__T_FETCH: {
            const float* prev = ts + BGPBT__TS_PREV;
            float* tg = ts + BGPBT__TS_TARGET;
            float d[3], dist, prog = 0.0f;
            for (j = 0; j < 3; ++j) d[j] = tg[j] - prev[j];
            if (t->kind == BGPBT__T_FETCH) d[2] = 0.0f; /* fetch runs on the ground plane */
            dist = sqrtf(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
            if (dist > 1e-6f)
                for (j = 0; j < 3; ++j) prog += (p[j] - prev[j]) * d[j] / dist;
            terms[0] = w[0] * prog;
            {
                float e[3], now;
                for (j = 0; j < 3; ++j) e[j] = tg[j] - p[j];
                if (t->kind == BGPBT__T_FETCH) e[2] = 0.0f;
                now = sqrtf(e[0] * e[0] + e[1] * e[1] + e[2] * e[2]);
                if (t->kind == BGPBT__T_UR5E) {
                    terms[1] = 0.0f;
                    if (now < t->hit_radius) {
                        terms[1] = w[1];
                        ts[BGPBT__TS_HITS] += 1.0f;
                        bgpbt__task_new_target(t, rng, p, tg);
                    }
                } else {
                    float up[3], fwd[3], ez[3] = {0, 0, 1}, ex[3] = {1, 0, 0};
                    const float* tq = v->xquat + 4 * t->track;
                    bgpbt__env_qrot(tq, ez, up);
                    bgpbt__env_qrot(tq, ex, fwd);
                    terms[1] = w[1] * t->dt * up[2];
                    terms[2] = w[2] * t->dt * z;
                    terms[3] = 0.0f;
                    if (now < t->hit_radius) {
                        float facing = now > 1e-6f ? (fwd[0] * e[0] + fwd[1] * e[1]) / now : 1.0f;
                        terms[3] = w[3] * facing;
                        ts[BGPBT__TS_HITS] += 1.0f;
                        bgpbt__task_new_target(t, rng, p, tg);
                    }
                }
            }
            return 0;
        }
        default: return 0;
    }
}

/* ---- the task backend of the vecenv ------------------------------------------------------------ */

BGPBT__PRIVATE void bgpbt__task_after_step_one(bgpbt_vecenv* v, int i) {
    bgpbt__task* t = (bgpbt__task*)v->task;
    bgpbt__tview tv;
    float* ts = t->ts + (size_t)i * BGPBT__TS_SIZE;
    float terms[BGPBT_TASK_MAX_TERMS], r = 0.0f, p[3];
    const float* a = v->act + (size_t)i * (size_t)v->act_dim;
    int j, term;
    bgpbt__tview_at(t, i, &tv);
    bgpbt__tsim_view(t->sim, i, &tv, t->track, t->spec->gather);
    term = bgpbt__task_reward(t, &tv, ts, a, &v->rngs[i], terms);
    for (j = 0; j < t->spec->n_terms; ++j) {
        r += terms[j];
        v->terms[(size_t)i * (size_t)v->n_terms + (size_t)j] = terms[j];
    }
    if (bgpbt__tsim_unstable(t->sim, i)) r = NAN; /* the vecenv ends it and counts it */
    v->rewards[i] = r;
    v->iterm[i] = term;
    bgpbt__task_track_point(t, &tv, p);
    ts[BGPBT__TS_PREV] = p[0]; ts[BGPBT__TS_PREV + 1] = p[1]; ts[BGPBT__TS_PREV + 2] = p[2];
    bgpbt__task_obs(t, &tv, ts, a, v->obs + (size_t)i * (size_t)v->obs_dim);
}

/* Threads for the per-copy observation loops: about 0.1 us per body and copy, so small batches
   run on one thread (a parallel region's barrier costs more, much more on a shared machine). */
BGPBT__PRIVATE int bgpbt__task_threads(const bgpbt_vecenv* v) {
    const bgpbt__task* t = (const bgpbt__task*)v->task;
    return (long)v->n * (long)t->nbody < 512 ? 1 : bgpbt__venv_threads(v);
}

BGPBT__PRIVATE void bgpbt__task_step_all(bgpbt_vecenv* v) {
    bgpbt__task* t = (bgpbt__task*)v->task;
    int i, n = v->n, nt = bgpbt__task_threads(v);
    (void)nt;
    /* ctrlrange is [-1, 1] in every model: the clipped action is the control */
    memcpy(t->ctrl, v->act, (size_t)n * (size_t)t->nu * sizeof(float));
    bgpbt__tsim_step(t->sim, t->ctrl);
    BGPBT_OMP(parallel for num_threads(nt) schedule(static) if(nt > 1))
    for (i = 0; i < n; ++i) bgpbt__task_after_step_one(v, i);
}

/* Draw fresh initial states for the masked copies, set them, observe them. */
BGPBT__PRIVATE void bgpbt__task_reset_mask(bgpbt_vecenv* v, const unsigned char* mask) {
    bgpbt__task* t = (bgpbt__task*)v->task;
    int i, n = v->n, nt = bgpbt__task_threads(v);
    (void)nt;
    /* draws and sets in index order, one thread: the simulator's per-copy reset is cheap and
       need not be thread-safe */
    for (i = 0; i < n; ++i) {
        float* q = t->scratch;
        float* qd = q + t->nq;
        bgpbt_rng* rng = &v->rngs[i];
        int j, first = t->free_root ? 7 : 0;
        if (!mask[i]) continue;
        memcpy(q, t->qpos0, (size_t)t->nq * sizeof(float));
        for (j = first; j < t->nq; ++j) q[j] += t->noise_q * (2.0f * bgpbt_rng_float(rng) - 1.0f);
        for (j = 0; j < t->nv; ++j) qd[j] = t->noise_v * (2.0f * bgpbt_rng_float(rng) - 1.0f);
        if (t->noise_q == 0.0f) memcpy(q, t->qpos0, (size_t)t->nq * sizeof(float)); /* no -0.0 */
        if (t->noise_v == 0.0f) memset(qd, 0, (size_t)t->nv * sizeof(float));
        bgpbt__tsim_set_state(t->sim, i, q, qd);
    }
    BGPBT_OMP(parallel for num_threads(nt) schedule(static) if(nt > 1))
    for (i = 0; i < n; ++i) {
        bgpbt__tview tv;
        float* ts = t->ts + (size_t)i * BGPBT__TS_SIZE;
        float p[3];
        if (!mask[i]) continue;
        bgpbt__tview_at(t, i, &tv);
        bgpbt__tsim_view(t->sim, i, &tv, t->track, t->spec->gather);
        memset(ts, 0, BGPBT__TS_SIZE * sizeof(float));
        bgpbt__task_track_point(t, &tv, p);
        ts[BGPBT__TS_PREV] = p[0]; ts[BGPBT__TS_PREV + 1] = p[1]; ts[BGPBT__TS_PREV + 2] = p[2];
        if (t->kind == BGPBT__T_REACHER || t->kind == BGPBT__T_UR5E || t->kind == BGPBT__T_FETCH)
            bgpbt__task_new_target(t, &v->rngs[i], p, ts + BGPBT__TS_TARGET);
        bgpbt__task_obs(t, &tv, ts, NULL, v->obs + (size_t)i * (size_t)v->obs_dim);
    }
}

BGPBT__PRIVATE void bgpbt__task_destroy(bgpbt_vecenv* v) {
    bgpbt__task* t = (bgpbt__task*)v->task;
    const bgpbt_allocator* a = &v->allocator;
    size_t n = (size_t)v->n;
    if (!t) return;
    if (t->sim) bgpbt__tsim_destroy(t->sim, a);
    bgpbt__cfree(a, t->qpos0, (size_t)t->nq, sizeof(float));
    bgpbt__cfree(a, t->ctrl, n * (size_t)t->nu, sizeof(float));
    bgpbt__cfree(a, t->ts, n * BGPBT__TS_SIZE, sizeof(float));
    bgpbt__cfree(a, t->view, n * t->view_stride, sizeof(float));
    bgpbt__cfree(a, t->scratch, (size_t)(t->nq + t->nv), sizeof(float));
    bgpbt__cfree(a, t->mask, n, 1);
    bgpbt_mem_free(a, t, sizeof *t);
    v->task = NULL;
}

static const bgpbt__env_backend bgpbt__task_backend = {NULL, bgpbt__task_step_all, bgpbt__task_destroy,
                                                     bgpbt__task_reset_mask};

BGPBT_API bgpbt_result bgpbt_vecenv_create_task(const char* name, const bgpbt_task_options* options,
                                                const bgpbt_vecenv_config* config, bgpbt_vecenv** out) {
    bgpbt_vecenv_config cfg = config ? *config : bgpbt_vecenv_config_default();
    bgpbt_task_options opt = options ? *options : bgpbt_task_options_default();
    const bgpbt__task_spec* s;
    bgpbt_vecenv* v = NULL;
    bgpbt__task* t;
    bgpbt_result r;
    char* xml = NULL;
    size_t xml_len = 0, n;
    int k, j;
    if (out) *out = NULL;
    if (!out) return bgpbt__error(&cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "vecenv_create_task: out is NULL");
    k = bgpbt__task_find(name);
    if (k < 0) {
        return bgpbt__error(&cfg.logger, BGPBT_ERR_UNKNOWN_NAME,
                            "vecenv_create_task: unknown task '%s' (known: inverted_pendulum, "
                            "inverted_double_pendulum, reacher, halfcheetah, hopper, walker2d, ant, "
                            "humanoid, ur5e, fetch)", name ? name : "(null)");
    }
    s = &bgpbt__task_specs[k];
    if ((r = bgpbt__venv_check_config(&cfg)) != BGPBT_OK) return r;
    if (opt.episode_length < 0 || opt.frame_skip < 0 || opt.frame_skip > 1000 ||
        opt.num_reward_weights < 0 || opt.num_reward_weights > s->n_terms || opt.hit_radius < 0.0f ||
        !bgpbt__isfinitef(opt.reset_noise_scale) || !bgpbt__isfinitef(opt.hit_radius))
        return bgpbt__error(&cfg.logger, BGPBT_ERR_OUT_OF_RANGE,
                            "vecenv_create_task('%s'): bad options (episode_length %d >= 0, frame_skip %d "
                            "in 0..1000, num_reward_weights %d in 0..%d, hit_radius >= 0, finite noise scale)",
                            s->name, opt.episode_length, opt.frame_skip, opt.num_reward_weights, s->n_terms);
    for (j = 0; j < opt.num_reward_weights; ++j)
        if (!bgpbt__isfinitef(opt.reward_weights[j]))
            return bgpbt__error(&cfg.logger, BGPBT_ERR_NOT_FINITE,
                                "vecenv_create_task('%s'): reward weight %d (%s) is not finite", s->name, j,
                                s->term_names[j]);
    r = bgpbt__venv_alloc(&cfg, s->name, s->obs_dim, s->act_dim, s->n_terms, 0, &v);
    if (r != BGPBT_OK) return r;
    v->max_steps = opt.episode_length > 0 ? opt.episode_length : 1000;
    v->term_names = s->term_names;
    v->backend = &bgpbt__task_backend;
    t = (bgpbt__task*)bgpbt__calloc(&cfg.allocator, 1, sizeof *t);
    if (!t) goto oom;
    v->task = t;
    t->spec = s;
    t->kind = k;
    t->frame_skip = opt.frame_skip > 0 ? opt.frame_skip : s->frame_skip;
    {
        float scale = opt.reset_noise_scale == 0.0f ? 1.0f : opt.reset_noise_scale < 0.0f ? 0.0f : opt.reset_noise_scale;
        t->noise_q = s->noise_q * scale;
        t->noise_v = s->noise_v * scale;
    }
    t->hit_radius = opt.hit_radius > 0.0f ? opt.hit_radius : (k == BGPBT__T_FETCH ? 2.0f : 0.05f);
    for (j = 0; j < s->n_terms; ++j) t->w[j] = j < opt.num_reward_weights ? opt.reward_weights[j] : s->weights[j];
    t->free_root = s->free_root;
    /* the model */
    bgpbt_task_mjcf(s->name, NULL, 0, &xml_len);
    xml = (char*)bgpbt_mem_alloc(&cfg.allocator, xml_len + 1, 16);
    if (!xml) goto oom;
    bgpbt_task_mjcf(s->name, xml, xml_len + 1, &xml_len);
    r = bgpbt__tsim_create(xml, xml_len, v->n, t->frame_skip, &cfg.allocator, &cfg.logger, &t->sim);
    bgpbt_mem_free(&cfg.allocator, xml, xml_len + 1);
    xml = NULL;
    if (r != BGPBT_OK) {
        bgpbt_vecenv_destroy(v);
        return r == BGPBT_ERR_OUT_OF_MEMORY ? r
                                            : bgpbt__error(&cfg.logger, BGPBT_ERR_INTERNAL,
                                                           "vecenv_create_task('%s'): the built-in model "
                                                           "did not load (%s)", s->name, bgpbt_result_string(r));
    }
    bgpbt__tsim_dims(t->sim, &t->nq, &t->nv, &t->nu, &t->nbody, &t->timestep);
    if (t->nu != s->act_dim || t->nu > 32) { /* cannot happen: the models are ours */
        bgpbt_vecenv_destroy(v);
        return bgpbt__error(&cfg.logger, BGPBT_ERR_INTERNAL, "vecenv_create_task('%s'): model has %d motors",
                            s->name, t->nu);
    }
    t->dt = t->timestep * (float)t->frame_skip;
    t->track = bgpbt__tsim_body_id(t->sim, s->track_body);
    for (j = 0; j < t->nu; ++j) t->gear[j] = bgpbt__tsim_gear(t->sim, j);
    n = (size_t)v->n;
    t->view_stride = bgpbt__tview_floats(t->nq, t->nv, t->nbody);
    t->qpos0 = (float*)bgpbt__calloc(&cfg.allocator, (size_t)t->nq, sizeof(float));
    t->ctrl = (float*)bgpbt__calloc(&cfg.allocator, n * (size_t)t->nu, sizeof(float));
    t->ts = (float*)bgpbt__calloc(&cfg.allocator, n * BGPBT__TS_SIZE, sizeof(float));
    t->view = (float*)bgpbt__calloc(&cfg.allocator, n * t->view_stride, sizeof(float));
    t->scratch = (float*)bgpbt__calloc(&cfg.allocator, (size_t)(t->nq + t->nv), sizeof(float));
    t->mask = (unsigned char*)bgpbt__calloc(&cfg.allocator, n, 1);
    if (!t->qpos0 || !t->ctrl || !t->ts || !t->view || !t->scratch || !t->mask) goto oom;
    bgpbt__tsim_qpos0(t->sim, t->qpos0);
    *out = v;
    return BGPBT_OK;
oom:
    if (xml) bgpbt_mem_free(&cfg.allocator, xml, xml_len + 1);
    bgpbt_vecenv_destroy(v);
    return bgpbt__error(&cfg.logger, BGPBT_ERR_OUT_OF_MEMORY, "vecenv_create_task('%s'): out of memory", s->name);
}

BGPBT_API bgpbt_result bgpbt_vecenv_state_sizes(const bgpbt_vecenv* v, int* nq, int* nv) {
    const bgpbt__task* t = v ? (const bgpbt__task*)v->task : NULL;
    if (nq) *nq = t ? t->nq : 0;
    if (nv) *nv = t ? t->nv : 0;
    if (v && !t) return bgpbt__error(&v->logger, BGPBT_ERR_INVALID_ARGUMENT, "vecenv_state_sizes: not a built-in task");
    return t ? BGPBT_OK : BGPBT_ERR_INVALID_ARGUMENT;
}
BGPBT_API bgpbt_result bgpbt_vecenv_get_state(const bgpbt_vecenv* v, int env, float* qpos, float* qvel) {
    const bgpbt__task* t = v ? (const bgpbt__task*)v->task : NULL;
    bgpbt__tview tv;
    if (!t) return BGPBT_ERR_INVALID_ARGUMENT;
    if (env < 0 || env >= v->n)
        return bgpbt__error(&v->logger, BGPBT_ERR_OUT_OF_RANGE, "vecenv_get_state: env %d outside 0..%d", env, v->n - 1);
    bgpbt__tview_at(t, env, &tv);
    if (qpos) memcpy(qpos, tv.qpos, (size_t)t->nq * sizeof(float));
    if (qvel) memcpy(qvel, tv.qvel, (size_t)t->nv * sizeof(float));
    return BGPBT_OK;
}
BGPBT_API bgpbt_result bgpbt_vecenv_set_state(bgpbt_vecenv* v, int env, const float* qpos, const float* qvel) {
    bgpbt__task* t = v ? (bgpbt__task*)v->task : NULL;
    bgpbt__tview tv;
    float* ts;
    float p[3];
    int j;
    if (!t) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!qpos || !qvel) return bgpbt__error(&v->logger, BGPBT_ERR_INVALID_ARGUMENT, "vecenv_set_state: qpos and qvel must not be NULL");
    if (env < 0 || env >= v->n)
        return bgpbt__error(&v->logger, BGPBT_ERR_OUT_OF_RANGE, "vecenv_set_state: env %d outside 0..%d", env, v->n - 1);
    if (!v->was_reset)
        return bgpbt__error(&v->logger, BGPBT_ERR_WRONG_ORDER, "vecenv_set_state: call bgpbt_vecenv_reset first");
    for (j = 0; j < t->nq; ++j)
        if (!bgpbt__isfinitef(qpos[j]))
            return bgpbt__error(&v->logger, BGPBT_ERR_NOT_FINITE, "vecenv_set_state: qpos[%d] is not finite", j);
    for (j = 0; j < t->nv; ++j)
        if (!bgpbt__isfinitef(qvel[j]))
            return bgpbt__error(&v->logger, BGPBT_ERR_NOT_FINITE, "vecenv_set_state: qvel[%d] is not finite", j);
    bgpbt__tsim_set_state(t->sim, env, qpos, qvel);
    bgpbt__tview_at(t, env, &tv);
    bgpbt__tsim_view(t->sim, env, &tv, t->track, t->spec->gather);
    ts = t->ts + (size_t)env * BGPBT__TS_SIZE;
    bgpbt__task_track_point(t, &tv, p);
    ts[BGPBT__TS_PREV] = p[0]; ts[BGPBT__TS_PREV + 1] = p[1]; ts[BGPBT__TS_PREV + 2] = p[2];
    bgpbt__task_obs(t, &tv, ts, NULL, v->obs + (size_t)env * (size_t)v->obs_dim);
    bgpbt__venv_clear_one(v, env);
    v->term[env] = v->trunc[env] = v->unstable[env] = 0;
    return BGPBT_OK;
}
BGPBT_API const bgpbt_sim* bgpbt_vecenv_sim(const bgpbt_vecenv* v) {
    const bgpbt__task* t = v ? (const bgpbt__task*)v->task : NULL;
    return t ? bgpbt__tsim_sim(t->sim) : NULL;
}

BGPBT_API int bgpbt_vecenv_num_bodies(const bgpbt_vecenv* v) {
    return v && v->task ? ((const bgpbt__task*)v->task)->nbody : 0;
}
BGPBT_API const char* bgpbt_vecenv_body_name(const bgpbt_vecenv* v, int body) {
    const bgpbt__task* t = v ? (const bgpbt__task*)v->task : NULL;
    if (!t || body < 0 || body >= t->nbody) return NULL;
    return bgpbt__tsim_body_name(t->sim, body);
}
BGPBT_API bgpbt_result bgpbt_vecenv_body_transforms(const bgpbt_vecenv* v, int env, float* pos, float* quat) {
    const bgpbt__task* t = v ? (const bgpbt__task*)v->task : NULL;
    if (!t) return BGPBT_ERR_INVALID_ARGUMENT;
    if (env < 0 || env >= v->n)
        return bgpbt__error(&v->logger, BGPBT_ERR_OUT_OF_RANGE, "vecenv_body_transforms: env %d outside 0..%d",
                            env, v->n - 1);
    bgpbt__tsim_poses(t->sim, env, pos, quat);
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_vecenv_render_geoms(const bgpbt_vecenv* v, int env, bgpbt_render_geom* out,
                                                 int max, int* count) {
    const bgpbt__task* t = v ? (const bgpbt__task*)v->task : NULL;
    int ng, has_target;
    if (count) *count = 0;
    if (!v) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!t || !count || max < 0 || (max > 0 && !out))
        return bgpbt__error(&v->logger, BGPBT_ERR_INVALID_ARGUMENT, "vecenv_render_geoms: %s",
                            t ? "count is NULL, max < 0 or out is NULL" : "not a built-in task");
    if (env < 0 || env >= v->n)
        return bgpbt__error(&v->logger, BGPBT_ERR_OUT_OF_RANGE, "vecenv_render_geoms: env %d outside 0..%d",
                            env, v->n - 1);
    ng = bgpbt__tsim_geoms(t->sim, env, out, max);
    has_target = t->kind == BGPBT__T_REACHER || t->kind == BGPBT__T_UR5E || t->kind == BGPBT__T_FETCH;
    if (has_target && ng < max) {
        const float* tg = t->ts + (size_t)env * BGPBT__TS_SIZE + BGPBT__TS_TARGET;
        bgpbt_render_geom* g = &out[ng];
        memset(g, 0, sizeof *g);
        g->type = BGPBT_GEOM_SPHERE;
        g->size[0] = t->kind == BGPBT__T_REACHER ? 0.009f : t->kind == BGPBT__T_UR5E ? 0.03f : 0.25f;
        g->pos[0] = tg[0]; g->pos[1] = tg[1]; g->pos[2] = tg[2] + (t->kind == BGPBT__T_FETCH ? 0.25f : 0.0f);
        g->quat[0] = 1.0f;
        g->rgba[0] = 0.9f; g->rgba[1] = 0.15f; g->rgba[2] = 0.15f; g->rgba[3] = 1.0f;
    }
    *count = ng + has_target;
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_vecenv_render_svg_file(const bgpbt_vecenv* v, int env, const char* path,
                                                    const bgpbt_render_options* options) {
    bgpbt_render_geom geoms[64];
    bgpbt_render_options o = options ? *options : bgpbt_render_options_default();
    int count = 0;
    bgpbt_result r = bgpbt_vecenv_render_geoms(v, env, geoms, 64, &count);
    if (r != BGPBT_OK) return r;
    if (!path) return bgpbt__error(&v->logger, BGPBT_ERR_INVALID_ARGUMENT, "vecenv_render_svg_file: path is NULL");
    if (!o.title) o.title = v->name;
    return bgpbt_render_svg_file(path, geoms, count < 64 ? count : 64, &o);
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
    const float* xcur;             /* the last training input: xin, or the caller's (in place) */
    float* xin;                    /* [max_batch][in] copy of the last training input */
    float* z[BGPBT_MLP_MAX_HIDDEN + 1]; /* hidden: act'(pre-activation), panel-major [pad/32][batch][32];
                                           output layer: the output, row-major [batch][pad] */
    float* h[BGPBT_MLP_MAX_HIDDEN];     /* hidden outputs, panel-major like z */
    float *g0, *g1;                /* backward ping-pong, panel-major [maxpad/32][batch][32] */
    float* wt;                     /* W^T of every layer, panel-major [pad_in/32][out][32] at wtoff[l] */
    size_t wtoff[BGPBT_MLP_MAX_HIDDEN + 1], wt_floats;
    float* ws;                     /* the dW GEMM's packed A block (bgpbt__gemm_epi.ws) */
    size_t ws_floats;
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
    bgpbt__cfree(a, n->wt, n->wt_floats, sizeof(float));
    bgpbt__cfree(a, n->ws, n->ws_floats, sizeof(float));
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
    n->wt_floats = 0;
    for (l = 0; l < n->nl; ++l) {
        n->wtoff[l] = n->wt_floats;
        n->wt_floats += (size_t)n->pad[l] * (size_t)n->dim[l + 1];
    }
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
    if (ok) ok = (n->wt = (float*)bgpbt__calloc(&c.allocator, n->wt_floats, sizeof(float))) != NULL;
    n->ws_floats = BGPBT__GEMM_WS(n->maxpad);
    if (ok) ok = (n->ws = (float*)bgpbt__calloc(&c.allocator, n->ws_floats, sizeof(float))) != NULL;
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

BGPBT_API bgpbt_mlp_config bgpbt_mlp_get_config(const bgpbt_mlp* n) { return n ? n->cfg : bgpbt_mlp_config_default(); }
BGPBT_API size_t bgpbt_mlp_num_params(const bgpbt_mlp* n) { return n ? n->np : 0; }
BGPBT_API long bgpbt_mlp_adam_steps(const bgpbt_mlp* n) { return n ? n->adam_t : 0; }

/* 1 / d: on AVX-512 and AVX2 the hardware estimate and one Newton step (within ~1 ulp on
   AVX-512, ~2 ulp on AVX2; a division costs 10-16 cycles per vector there), else a division. */
BGPBT__INLINE bgpbt_fw bgpbt__nn_rcp(bgpbt_fw d) {
#if defined(BGPBT_SIMD_AVX512)
    __m512 r = _mm512_rcp14_ps(d);
    return _mm512_fmadd_ps(_mm512_fnmadd_ps(d, r, _mm512_set1_ps(1.0f)), r, r);
#elif defined(BGPBT_SIMD_AVX2)
    __m256 r = _mm256_rcp_ps(d);
    return _mm256_fmadd_ps(_mm256_fnmadd_ps(d, r, _mm256_set1_ps(1.0f)), r, r);
#else
    return bgpbt_fw_div(bgpbt_fw_set1(1.0f), d);
#endif
}

/* sigmoid(x) = 1 / (1 + 2^y), y = -x log2(e), for the SiLU epilogue (19 vector operations, about
   one per cycle: on 64-wide layers the epilogue costs a quarter of the layer's GEMM, so every
   operation counts). x is clamped to [-87, 87] (the sigmoid is saturated beyond). y = n + f with
   n = round(y) taken from the low mantissa bits of y + 1.5 * 2^23, |f| <= 1/2 computed with
   log2(e) split in two floats (f exact to an ulp at |x| = 87 too); 2^f by its Taylor polynomial
   of degree 7 in f ln 2 (5e-9); 2^n added to the exponent bits. Measured against double on
   [-87, 87]: 1.5e-7 relative (AVX-512, scalar), 1.8e-7 (AVX2), 2.7e-6 (SSE2, no FMA: f then
   carries the rounding of x log2(e)). NaN gives NaN through y = x s. (A fitted degree-5
   polynomial, 2e-7, saves 8% of the epilogue; not taken: it flips which seeds of the learning
   tests succeed, and the tests were tuned on these bits.) */
BGPBT__INLINE bgpbt_fw bgpbt__nn_sigmoid(bgpbt_fw x) {
    const bgpbt_fw magic = bgpbt_fw_set1(12582912.0f); /* 1.5 * 2^23 */
    bgpbt_fw t = bgpbt_fw_min(bgpbt_fw_max(x, bgpbt_fw_set1(-87.0f)), bgpbt_fw_set1(87.0f));
    bgpbt_fw nf = bgpbt_fw_fma(t, bgpbt_fw_set1(-1.44269502162933349609375f), magic);
    bgpbt_fw f = bgpbt_fw_fma(t, bgpbt_fw_set1(-1.44269502162933349609375f), bgpbt_fw_sub(magic, nf));
    bgpbt_fw p;
    f = bgpbt_fw_fma(t, bgpbt_fw_set1(-1.92596298909109e-8f), f);
    p = bgpbt_fw_fma(bgpbt_fw_set1(1.5252733804059840e-5f), f, bgpbt_fw_set1(1.5403530393381609e-4f));
    p = bgpbt_fw_fma(p, f, bgpbt_fw_set1(1.3333558146428443e-3f));
    p = bgpbt_fw_fma(p, f, bgpbt_fw_set1(9.6181291076284772e-3f));
    p = bgpbt_fw_fma(p, f, bgpbt_fw_set1(5.5504108664821580e-2f));
    p = bgpbt_fw_fma(p, f, bgpbt_fw_set1(2.4022650695910071e-1f));
    p = bgpbt_fw_fma(p, f, bgpbt_fw_set1(6.9314718055994531e-1f));
    p = bgpbt_fw_fma(p, f, bgpbt_fw_set1(1.0f));
    return bgpbt__nn_rcp(bgpbt_fw_add(bgpbt_fw_set1(1.0f), bgpbt__fw_mul2n(p, nf)));
}

/* GEMM epilogues (see [impl.linalg.gemm]): they run on each finished MR x NR micro-tile while
   it is in L1, so no pass over the activations is left outside the GEMMs.
   Forward, hidden layer, training: x = c + bias; c <- act'(x) (the derivative cache), h <- act(x)
   (h laid out like c: panel-major).
   Forward otherwise: c <- act(x) (inference), or c <- x (output layer). */
#define BGPBT__NN_EPI_LOOP(...)                                                                  \
    for (r = 0; r < mr; ++r) {                                                                   \
        float* cr = c + (ptrdiff_t)r * ldc;                                                      \
        float* hr = train ? e->h + off + (ptrdiff_t)r * ldc : NULL;                              \
        for (jj = 0; jj < BGPBT__GEMM_NR; jj += BGPBT_FW_WIDTH) {                                \
            bgpbt_fw x = bgpbt_fw_add(bgpbt_fw_load(cr + jj), bgpbt_fw_load(bias + jj)), y, d;   \
            __VA_ARGS__                                                                          \
            if (train) {                                                                         \
                bgpbt_fw_store(cr + jj, d);                                                      \
                bgpbt_fw_store(hr + jj, y);                                                      \
            } else {                                                                             \
                bgpbt_fw_store(cr + jj, y);                                                      \
            }                                                                                    \
        }                                                                                        \
    }
BGPBT__PRIVATE void bgpbt__nn_epi_fwd(const bgpbt__gemm_epi* e, float* c, ptrdiff_t ldc, ptrdiff_t off, int i,
                                      int mr, int j) {
    const float* bias = e->bias + j;
    const int train = e->train;
    const bgpbt_fw one = bgpbt_fw_set1(1.0f);
    int r, jj;
    (void)i;
    switch (e->act) {
        case BGPBT_ACT_SILU: /* s = sigmoid(x), y = x s, act' = s + y (1 - s) */
            BGPBT__NN_EPI_LOOP(bgpbt_fw s = bgpbt__nn_sigmoid(x);
                               y = bgpbt_fw_mul(x, s); d = bgpbt_fw_fma(y, bgpbt_fw_sub(one, s), s);)
            break;
        case BGPBT_ACT_TANH:
            BGPBT__NN_EPI_LOOP(y = bgpbt_fw_tanh(x); d = bgpbt_fw_sub(one, bgpbt_fw_mul(y, y));)
            break;
        case BGPBT_ACT_RELU:
            BGPBT__NN_EPI_LOOP(y = bgpbt_fw_max(x, bgpbt_fw_zero());
                               d = bgpbt_fw_blend(bgpbt_fw_gt(x, bgpbt_fw_zero()), bgpbt_fw_zero(), one);)
            break;
        default:
            BGPBT__NN_EPI_LOOP(y = x; d = one;)
            break;
    }
}
#undef BGPBT__NN_EPI_LOOP

/* Backward: c <- c * act'(x) from the derivative cache, which is laid out like c. */
BGPBT__PRIVATE void bgpbt__nn_epi_bwd(const bgpbt__gemm_epi* e, float* c, ptrdiff_t ldc, ptrdiff_t off, int i,
                                      int mr, int j) {
    const float* d = e->d + off;
    int r, jj;
    (void)i; (void)j;
    for (r = 0; r < mr; ++r)
        for (jj = 0; jj < BGPBT__GEMM_NR; jj += BGPBT_FW_WIDTH) {
            ptrdiff_t o = (ptrdiff_t)r * ldc + jj;
            bgpbt_fw_store(c + o, bgpbt_fw_mul(bgpbt_fw_load(c + o), bgpbt_fw_load(d + o)));
        }
}

/* Forward of rows [0, rows) of x (row stride ldx) through every layer. With train, into the
   cache (derivatives and hidden outputs panel-major: the next layer's GEMM reads its A rows as
   contiguous 8 x 32 blocks, like the backward's gradients); otherwise through the ping-pong
   buffers, row-major, in place. Returns the output (row-major, stride pad[nl]). */
#if defined(BGPBT_SIMD_AVX512) || defined(BGPBT_SIMD_AVX2)
/* A 1-wide output layer (the value head): y[r * ldy] = A(r, :) . w + bias, eight rows at a
   time as eight scalar FMA chains (enough to hide the FMA latency), each row's sum the FMA
   chain of the GEMM in the same k blocks, so the bits are those of bgpbt__sgemm_ex, whose
   tiles would be 16 or more columns wide for one. (Hardware gathers of one row per lane were
   twice as slow: 4% of the 2x64 update against 2%.)
   A(r, p) = a[r * a_rs + (p / 32) * a_ps + p % 32]; w[p * 32] is the weight of input p. */
BGPBT__PRIVATE void bgpbt__nn_gemv1(int rows, int k, const float* a, ptrdiff_t a_rs, ptrdiff_t a_ps, const float* w,
                                   float bias, float* y, ptrdiff_t ldy) {
    enum { R = 8 };
    int r0, l, p, kb;
    for (r0 = 0; r0 < rows; r0 += R) {
        float c[R], acc[R];
        const float* ar[R];
        for (l = 0; l < R; ++l) {
            ar[l] = a + (ptrdiff_t)(r0 + l < rows ? r0 + l : rows - 1) * a_rs;
            c[l] = 0.0f; /* k >= 1 always: only -O3's flow analysis needs it */
        }
        for (kb = 0; kb < k; kb += BGPBT__GEMM_KC) {
            const int ke = k - kb < BGPBT__GEMM_KC ? k : kb + BGPBT__GEMM_KC;
            for (l = 0; l < R; ++l) acc[l] = 0.0f;
            for (p = kb; p < ke; ++p) {
                const ptrdiff_t o = (ptrdiff_t)(p / 32) * a_ps + p % 32;
                const float wp = w[(ptrdiff_t)p * 32];
                acc[0] = fmaf(ar[0][o], wp, acc[0]); acc[1] = fmaf(ar[1][o], wp, acc[1]);
                acc[2] = fmaf(ar[2][o], wp, acc[2]); acc[3] = fmaf(ar[3][o], wp, acc[3]);
                acc[4] = fmaf(ar[4][o], wp, acc[4]); acc[5] = fmaf(ar[5][o], wp, acc[5]);
                acc[6] = fmaf(ar[6][o], wp, acc[6]); acc[7] = fmaf(ar[7][o], wp, acc[7]);
            }
            for (l = 0; l < R; ++l) c[l] = kb ? c[l] + acc[l] : acc[l];
        }
        for (l = 0; l < R && r0 + l < rows; ++l) y[(ptrdiff_t)(r0 + l) * ldy] = c[l] + bias;
    }
}
#endif

BGPBT__PRIVATE float* bgpbt__mlp_run(bgpbt_mlp* n, const float* x, ptrdiff_t ldx, int rows, int train) {
    const float* in = x;
    ptrdiff_t ld = ldx, aps = 0;
    int l;
    bgpbt__gemm_epi epi; /* fields set one by one: a memset call shows in single-row latency */
    epi.fn = bgpbt__nn_epi_fwd;
    epi.colsum = NULL;
    epi.ws = NULL;
    epi.d = NULL;
    for (l = 0; l < n->nl; ++l) {
        int w = n->pad[l + 1], last = (l == n->nl - 1), tr = train && !last;
        float* z = train ? n->z[l] : ((l & 1) ? n->i1 : n->i0);
        epi.bias = n->params + n->boff[l];
        epi.act = last ? BGPBT_ACT_LINEAR : (int)n->cfg.activation;
        epi.train = tr;
        epi.h = tr ? n->h[l] : NULL;
        /* training hidden layers: z holds act' panel-major (rows x 32 per panel), h too;
           the output layer computes only its real columns (narrow tiles; padding untouched) */
#if defined(BGPBT_SIMD_AVX512) || defined(BGPBT_SIMD_AVX2)
        if (last && n->dim[l + 1] == 1 && rows >= BGPBT_FW_WIDTH && (double)rows * (double)ld < 2147483647.0) {
            bgpbt__nn_gemv1(rows, n->dim[l], in, ld, aps ? aps : 32, n->params + n->woff[l], *epi.bias, z, w);
            in = z;
            continue;
        }
#endif
        bgpbt__sgemm_ex(rows, last ? n->dim[l + 1] : w, n->dim[l], in, ld, 1, aps, n->params + n->woff[l], 32,
                        (ptrdiff_t)n->dim[l] * 32, z,
                        tr ? 32 : w, tr ? (ptrdiff_t)rows * 32 : 32, 0, &epi);
        in = tr ? n->h[l] : z;
        ld = tr ? 32 : w;
        aps = tr ? (ptrdiff_t)rows * 32 : 0;
    }
    return (float*)in;
}

BGPBT_API bgpbt_result bgpbt_mlp_forward(bgpbt_mlp* n, const float* x, int batch, float* y, int train) {
    int out, wo, i;
    if (!n) return BGPBT_ERR_INVALID_ARGUMENT;
    if ((!x && batch > 0) || batch < 0)
        return bgpbt__error(&n->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "mlp_forward: batch %d with input %p", batch, (const void*)x);
    out = n->dim[n->nl];
    wo = n->pad[n->nl];
    if (train) {
        const float* o;
        if (batch > n->cfg.max_batch)
            return bgpbt__error(&n->cfg.logger, BGPBT_ERR_LIMIT, "mlp: training batch %d above max_batch %d",
                                batch, n->cfg.max_batch);
        if (batch > 0) memcpy(n->xin, x, (size_t)batch * (size_t)n->dim[0] * sizeof(float));
        n->xcur = n->xin;
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

/* Training forward on x in place (no copy into the MLP): x must stay unchanged until the
   backward (the PPO minibatch buffers). The output stays in the cache (bgpbt_mlp_output). */
BGPBT__PRIVATE bgpbt_result bgpbt__mlp_forward_train_inplace(bgpbt_mlp* n, const float* x, int batch) {
    if (batch > n->cfg.max_batch)
        return bgpbt__error(&n->cfg.logger, BGPBT_ERR_LIMIT, "mlp: training batch %d above max_batch %d", batch,
                            n->cfg.max_batch);
    n->xcur = x;
    n->last_batch = batch;
    if (batch > 0) bgpbt__mlp_run(n, x, n->dim[0], batch, 1);
    return BGPBT_OK;
}

BGPBT_API const float* bgpbt_mlp_output(const bgpbt_mlp* n, int* ld) {
    if (ld) *ld = n ? n->pad[n->nl] : 0;
    if (!n) return NULL;
    return n->z[n->nl - 1];
}

/* Backward over the first `batch` rows of the last training forward (rows past them are left
   out of the gradients, as if their dy were zero: the PPO value network's bootstrap rows).
   accumulate: add to the gradients instead of overwriting them (the PPO update's row chunks),
   and reuse the transposed weights of the last call without it: the weights and dx (NULL or
   not) must be those of that call. */
BGPBT__PRIVATE void bgpbt__mlp_backward_rows(bgpbt_mlp* n, const float* dy, int batch, float* dx, int accumulate) {
    int l, i, j, out, wo;
    float *g, *gn;
    const ptrdiff_t ps = (ptrdiff_t)n->last_batch * 32; /* panel stride of the gradients and the act' cache */
    bgpbt__gemm_epi epw, epx;
    out = n->dim[n->nl];
    wo = n->pad[n->nl];
    g = n->g0;
    gn = n->g1;
    /* gradients are panel-major ([w/32][batch][32]): the dW GEMM reads them in place as B and
       the dX GEMM as A, 32 contiguous floats per row and panel */
    for (j = 0; j < wo; j += 32) {
        int je = out - j < 32 ? out - j : 32;
        float* gp = g + (ptrdiff_t)(j / 32) * ps;
        if (je < 0) je = 0;
        for (i = 0; i < batch; ++i) {
            memcpy(gp + (ptrdiff_t)i * 32, dy + (size_t)i * (size_t)out + (size_t)j, (size_t)je * sizeof(float));
            memset(gp + (ptrdiff_t)i * 32 + je, 0, (size_t)(32 - je) * sizeof(float));
        }
    }
    memset(&epw, 0, sizeof epw);
    memset(&epx, 0, sizeof epx);
    epx.fn = bgpbt__nn_epi_bwd;
    for (l = n->nl - 1; l >= 0; --l) {
        int w = n->pad[l + 1], fin = n->dim[l], pin = n->pad[l], fout = n->dim[l + 1];
        const float* hin = l == 0 ? n->xcur : n->h[l - 1];
        /* hin^T: the input row-major, or a hidden output panel-major (32 rows of hin^T per k) */
        ptrdiff_t ldin = l == 0 ? n->dim[0] : 32, hps = l == 0 || fin == 1 ? 0 : ps;
        /* dW = hin^T g, and db = the column sums of g as one more (all-ones) row of hin^T:
           k runs over the batch; hin^T is packed 8 rows at a time, g read in place */
        epw.colsum = n->grads + n->boff[l];
        epw.ws = n->ws;
        bgpbt__sgemm_ex(fin, l == n->nl - 1 ? fout : w, batch, hin, 1, ldin, hps, g, 32, ps, n->grads + n->woff[l], 32,
                        (ptrdiff_t)fin * 32, accumulate, &epw);
        if (l > 0 || dx) { /* gn = (g W^T) * act'(previous layer), through a zero-padded copy of W^T */
            float* wt = n->wt + n->wtoff[l];
            if (!accumulate) { /* the weights are unchanged between the calls of one accumulation */
                int a, b2;
                for (b2 = 0; b2 < fout; ++b2) { /* W^T, panel-major too: [in/32][out][32] */
                    const float* src = n->params + n->woff[l] + (size_t)(b2 / 32) * (size_t)fin * 32u + (size_t)(b2 % 32);
                    for (a = 0; a < fin; ++a)
                        wt[(size_t)(a / 32) * (size_t)fout * 32u + (size_t)b2 * 32u + (size_t)(a % 32)] = src[(size_t)a * 32u];
                    for (; a < pin; ++a) wt[(size_t)(a / 32) * (size_t)fout * 32u + (size_t)b2 * 32u + (size_t)(a % 32)] = 0.0f;
                }
            }
            epx.d = l > 0 ? n->z[l - 1] : NULL;
            bgpbt__sgemm_ex(batch, pin, fout, g, 32, 1, ps, wt, 32, (ptrdiff_t)fout * 32, gn, 32, ps, 0,
                            l > 0 ? &epx : NULL);
            if (l == 0)
                for (i = 0; i < batch; ++i)
                    for (j = 0; j < fin; ++j) dx[(size_t)i * (size_t)fin + (size_t)j] = gn[(ptrdiff_t)(j / 32) * ps + (ptrdiff_t)i * 32 + j % 32];
            { float* t = g; g = gn; gn = t; }
        }
    }
}

BGPBT_API bgpbt_result bgpbt_mlp_backward(bgpbt_mlp* n, const float* dy, int batch, float* dx) {
    if (!n) return BGPBT_ERR_INVALID_ARGUMENT;
    if ((!dy && batch > 0)) return bgpbt__error(&n->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "mlp_backward: dy is NULL");
    if (batch != n->last_batch || batch <= 0)
        return bgpbt__error(&n->cfg.logger, BGPBT_ERR_WRONG_ORDER,
                            "mlp: backward on %d rows needs a training forward on the same rows (last: %d)",
                            batch, n->last_batch);
    bgpbt__mlp_backward_rows(n, dy, batch, dx, 0);
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

BGPBT_API double bgpbt_mlp_grad_norm(const bgpbt_mlp* n) { return n ? sqrt(bgpbt__nn_sumsq(n->grads, n->np_pad)) : 0.0; }

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
    if (!bgpbt__isfinitef(a.learning_rate) || !(a.learning_rate > 0.0f) || !(a.beta1 > 0.0f && a.beta1 < 1.0f) ||
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

BGPBT_API void bgpbt_mlp_get_params(const bgpbt_mlp* n, float* out) { if (n && out) bgpbt__mlp_pack(n, n->params, out); }
BGPBT_API void bgpbt_mlp_get_grads(const bgpbt_mlp* n, float* out) { if (n && out) bgpbt__mlp_pack(n, n->grads, out); }
BGPBT_API bgpbt_result bgpbt_mlp_set_params(bgpbt_mlp* n, const float* p) {
    size_t i;
    if (!n) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!p) return bgpbt__error(&n->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "mlp_set_params: params is NULL");
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
    if (!dst) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!src) return bgpbt__error(&dst->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "mlp_copy: src is NULL");
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
    if (!n) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!size) return bgpbt__error(&n->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "mlp_save: size is NULL");
    w.buf = (unsigned char*)buf;
    w.cap = buf ? cap : 0;
    w.pos = 0;
    w.overflow = 0;
    bgpbt_container_begin(&w, BGPBT__MLP_KIND, BGPBT__MLP_VERSION);
    bgpbt__mlp_write(&w, n);
    bgpbt_container_end(&w, 0);
    *size = w.pos;
    if (buf && w.overflow)
        return bgpbt__error(&n->cfg.logger, BGPBT_ERR_BUFFER_TOO_SMALL, "mlp_save: %lu bytes needed, buffer has %lu",
                            (unsigned long)w.pos, (unsigned long)cap);
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
    { /* the blob must hold the parameters and both moments before anything is allocated */
        uint64_t np = 0, fan_in = (uint64_t)cfg.in_dim;
        int l;
        for (l = 0; l <= cfg.num_hidden; ++l) {
            uint64_t fo = (uint64_t)(l < cfg.num_hidden ? cfg.hidden[l] : cfg.out_dim);
            np += (fan_in + 1) * fo;
            fan_in = fo;
        }
        if (np > (uint64_t)(r.size - r.pos) / 12)
            return bgpbt__error(&cfg.logger, BGPBT_ERR_TRUNCATED, "mlp_load: the blob is shorter than its architecture needs");
    }
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
#define BGPBT__PPO_MAX_ACT 256 /* action dimensions (per-row scratch on the stack) */
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
    int is_task;
    char task[64];
    bgpbt_task_options topt;
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
    float *mb_vin, *mb_pin, *mb_tin, *mb_pol, *mb_tpol, *mb_dpol, *mb_dval, *mb_eps;
    int chunk_segs; /* segments per chunk of the PPO update; 0: bgpbt__ppo_chunk_segments (tests set it) */
    int last_piped; /* the last update ran the two-thread pipeline (tests read it) */
    double test_value_stall; /* tests: seconds the pipeline's value thread waits before each
                                chunk, so a policy thread that ran ahead would read stale values */
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
    const bgpbt_fw hi = bgpbt_fw_set1(clip), lo = bgpbt_fw_set1(-clip);
    int i, d;
    for (i = 0; i < rows; ++i) {
        const float* xr = x + (ptrdiff_t)i * ldx;
        float* o = out + (size_t)i * (size_t)D;
        /* min(hi, v) and max(lo, v) return v when it is NaN, like the scalar tail */
        for (d = 0; d + BGPBT_FW_WIDTH <= D; d += BGPBT_FW_WIDTH) {
            bgpbt_fw v = bgpbt_fw_mul(bgpbt_fw_sub(bgpbt_fw_load(xr + d), bgpbt_fw_load(mu + d)), bgpbt_fw_load(is + d));
            bgpbt_fw_store(o + d, bgpbt_fw_max(lo, bgpbt_fw_min(hi, v)));
        }
        if (d < D && D >= BGPBT_FW_WIDTH && (o + D <= xr || xr + D <= o)) {
            /* the tail as the last full vector, overlapping: the same values again */
            const int e = D - BGPBT_FW_WIDTH;
            bgpbt_fw v = bgpbt_fw_mul(bgpbt_fw_sub(bgpbt_fw_load(xr + e), bgpbt_fw_load(mu + e)), bgpbt_fw_load(is + e));
            bgpbt_fw_store(o + e, bgpbt_fw_max(lo, bgpbt_fw_min(hi, v)));
            d = D;
        }
        for (; d < D; ++d) {
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
        bgpbt_task_info info;
        if (!c.task) return bgpbt__error(&c.logger, BGPBT_ERR_INVALID_ARGUMENT, "agent: neither env_def nor task is set");
        if (strlen(c.task) >= 64 || bgpbt_task_get_info(c.task, &info) != BGPBT_OK)
            return bgpbt__error(&c.logger, BGPBT_ERR_UNKNOWN_NAME, "agent: no built-in task named '%s'", c.task);
    }
    if (c.env_def && (c.env_def->obs_dim < 1 || c.env_def->act_dim < 1 || c.env_def->act_dim > BGPBT__PPO_MAX_ACT || !c.env_def->reset || (!c.env_def->step && !c.env_def->step_batch)))
        return bgpbt__error(&c.logger, BGPBT_ERR_INVALID_ARGUMENT, "agent: env_def needs obs_dim, act_dim >= 1 and callbacks");
    a = &c.allocator;
    g = (bgpbt_agent*)bgpbt_mem_alloc(a, sizeof *g, 64);
    if (!g) return bgpbt__error(&c.logger, BGPBT_ERR_OUT_OF_MEMORY, "agent: out of memory");
    memset(g, 0, sizeof *g);
    g->cfg = c;
    if (c.env_def) {
        g->def = *c.env_def;
    } else { /* a built-in task: its sizes and time limit in def, created by name */
        bgpbt_task_info info;
        bgpbt_task_get_info(c.task, &info);
        g->is_task = 1;
        strcpy(g->task, c.task);
        g->topt = c.task_options ? *c.task_options : bgpbt_task_options_default();
        g->def.name = g->task;
        g->def.obs_dim = info.obs_dim;
        g->def.act_dim = info.act_dim;
        g->def.max_episode_steps = g->topt.episode_length ? g->topt.episode_length : info.episode_length;
    }
    g->cfg.env_def = g->is_task ? NULL : &g->def;
    g->cfg.task = g->is_task ? g->task : NULL;
    g->cfg.task_options = g->is_task ? &g->topt : NULL;
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

BGPBT_API bgpbt_ppo_hparams bgpbt_agent_get_hparams(const bgpbt_agent* g) { return g ? g->hp : bgpbt_ppo_hparams_default(); }
BGPBT_API bgpbt_result bgpbt_agent_set_hparams(bgpbt_agent* g, const bgpbt_ppo_hparams* h) {
    bgpbt_ppo_hparams c;
    bgpbt_result r;
    if (!g) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!h) return bgpbt__error(&g->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "agent_set_hparams: hparams is NULL");
    c = *h;
    r = bgpbt__ppo_check_hparams(&g->cfg.logger, &c);
    if (r == BGPBT_OK) g->hp = c;
    return r;
}
BGPBT_API bgpbt_ppo_arch bgpbt_agent_get_arch(const bgpbt_agent* g) { return g ? g->arch : bgpbt_ppo_arch_default(); }
BGPBT_API void bgpbt_agent_get_stats(const bgpbt_agent* g, bgpbt_agent_stats* out) {
    if (!out) return;
    if (g) *out = g->st;
    else memset(out, 0, sizeof *out);
}
BGPBT_API int bgpbt_agent_failed(const bgpbt_agent* g) { return g ? g->st.failed : 1; }
BGPBT_API int bgpbt_agent_obs_dim(const bgpbt_agent* g) { return g ? g->obs_dim : 0; }
BGPBT_API int bgpbt_agent_act_dim(const bgpbt_agent* g) { return g ? g->act_dim : 0; }
BGPBT_API bgpbt_mlp* bgpbt_agent_policy(bgpbt_agent* g) { return g ? g->pi : NULL; }
BGPBT_API bgpbt_mlp* bgpbt_agent_value(bgpbt_agent* g) { return g ? g->vf : NULL; }


/* softplus(r) and sigmoid(r) from one exp */
BGPBT__INLINE void bgpbt__sp_sig(float r, float* sp, float* sig) {
    float e = expf(-fabsf(r)); /* in (0, 1] */
    *sp = (r > 0.0f ? r : 0.0f) + log1pf(e);
    *sig = r >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
}

/* log N(u; loc, scale) summed over A dims (policy output row: loc[A], raw scale[A]) */
BGPBT__PRIVATE double bgpbt__ppo_logp(const float* pol, const float* u, int A) {
    double s = 0.0;
    int j;
    for (j = 0; j < A; ++j) {
        float sp, sg;
        double sc, z;
        bgpbt__sp_sig(pol[A + j], &sp, &sg);
        sc = (double)sp + 0.001;
        z = ((double)u[j] - pol[j]) / sc;
        s += -0.5 * z * z - (double)logf((float)sc) - BGPBT__LOG_SQRT_2PI;
    }
    return s;
}

BGPBT_API void bgpbt_ppo_gae(int T, const float* rewards, const float* values, const float* boot,
                             const unsigned char* term, const unsigned char* trunc, float discount,
                             float lambda, float* vs, float* adv) {
    double acc = 0.0, g = discount, next_vs;
    int t;
    if (T <= 0 || !rewards || !values || !boot || !term || !trunc || !vs || !adv) return;
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
   d(row loss)/d(output) where row loss = surr - ent_cost * H + kl_w * KL (not yet averaged).
   Transcendentals in float (one exp per softplus/sigmoid pair, one per tanh/log-det pair),
   sums in double. */
BGPBT__PRIVATE void bgpbt__ppo_row(const float* pol, const float* u, double logp_old, double adv, const float* eps,
                                   double clip, double ent_cost, const float* tpol, double kl_w, int A,
                                   float* dpol, double* out) {
    double sc[BGPBT__PPO_MAX_ACT], zz[BGPBT__PPO_MAX_ACT], lsc[BGPBT__PPO_MAX_ACT], dsg[BGPBT__PPO_MAX_ACT];
    double logp = 0.0, rho, surr_grad, H = 0.0, kl = 0.0;
    int j;
    for (j = 0; j < A; ++j) {
        float sp, sg;
        bgpbt__sp_sig(pol[A + j], &sp, &sg);
        sc[j] = (double)sp + 0.001;
        dsg[j] = sg; /* d scale / d raw */
        lsc[j] = (double)logf((float)sc[j]);
        zz[j] = ((double)u[j] - pol[j]) / sc[j];
        logp += -0.5 * zz[j] * zz[j] - lsc[j] - BGPBT__LOG_SQRT_2PI;
    }
    rho = exp(logp - logp_old);
    {
        double lo = 1.0 - clip, hi = 1.0 + clip, rc = rho < lo ? lo : rho > hi ? hi : rho;
        double unc = rho * adv, cl = rc * adv;
        out[0] = -(unc < cl ? unc : cl);
        /* gradient of -min(.): -adv through rho when the unclipped term is the minimum */
        surr_grad = (unc <= cl) ? -adv * rho : 0.0; /* d loss / d logp */
    }
    for (j = 0; j < A; ++j) {
        double s = sc[j], z = zz[j];
        /* d logp / d loc = z / s ; d logp / d s = (z^2 - 1) / s */
        double dloc = surr_grad * z / s, ds = surr_grad * (z * z - 1.0) / s;
        /* entropy: 0.5 + log sqrt(2 pi) + log s + log-det of tanh at x = loc + s eps, where
           log-det = 2 (log 2 - x - softplus(-2x)) and its derivative is -2 tanh(x) */
        double x = (double)pol[j] + s * (double)eps[j];
        float e2 = expf(-2.0f * fabsf((float)x));
        double sp2 = (x < 0.0 ? -2.0 * x : 0.0) + (double)log1pf(e2);
        double th = (double)((1.0f - e2) / (1.0f + e2)) * (x < 0.0 ? -1.0 : 1.0);
        double ld = 2.0 * (0.69314718055994531 - x - sp2);
        double dld = -2.0 * th;
        H += 0.5 + BGPBT__LOG_SQRT_2PI + lsc[j] + ld;
        dloc += -ent_cost * dld;
        ds += -ent_cost * (1.0 / s + dld * (double)eps[j]);
        if (tpol) { /* KL(N(mt, st) || N(m, s)) = log(s/st) + (st^2 + (mt - m)^2) / (2 s^2) - 1/2 */
            float tsp, tsg;
            double st, dm;
            bgpbt__sp_sig(tpol[A + j], &tsp, &tsg);
            st = (double)tsp + 0.001;
            dm = (double)tpol[j] - pol[j];
            kl += lsc[j] - (double)logf((float)st) + (st * st + dm * dm) / (2.0 * s * s) - 0.5;
            dloc += kl_w * (-dm / (s * s));
            ds += kl_w * (1.0 / s - (st * st + dm * dm) / (s * s * s));
        }
        dpol[j] = (float)dloc;
        dpol[A + j] = (float)(ds * dsg[j]);
    }
    out[1] = H;
    out[2] = kl;
}

/* log(1 + e) for e in [0, 1] without losing small e (Kahan: log(u) e / (u - 1), u = 1 + e) */
BGPBT__INLINE bgpbt_fw bgpbt__fw_log1p01(bgpbt_fw e) {
    bgpbt_fw u = bgpbt_fw_add(bgpbt_fw_set1(1.0f), e), d = bgpbt_fw_sub(u, bgpbt_fw_set1(1.0f));
    bgpbt_fm tiny = bgpbt_fw_eq(d, bgpbt_fw_zero());
    bgpbt_fw den = bgpbt_fw_blend(tiny, d, bgpbt_fw_set1(1.0f));
    return bgpbt_fw_blend(tiny, bgpbt_fw_mul(bgpbt_fw_log(u), bgpbt_fw_div(e, den)), e);
}

/* Where segment s of the rollout lives: env s % num_envs, unroll s / num_envs. Index of its
   first step in the [envs][steps] buffers, and its first observation in obs_buf ([envs][steps + 1]). */
BGPBT__INLINE size_t bgpbt__ppo_seg_step(const bgpbt_agent* g, int s, int steps_per_env) {
    const int E = g->cfg.num_envs;
    return (size_t)(s % E) * (size_t)steps_per_env + (size_t)(s / E) * (size_t)g->hp.unroll_length;
}
BGPBT__INLINE const float* bgpbt__ppo_seg_obs(const bgpbt_agent* g, int s, int steps_per_env) {
    const int E = g->cfg.num_envs;
    return g->obs_buf + ((size_t)(s % E) * (size_t)(steps_per_env + 1) + (size_t)(s / E) * (size_t)g->hp.unroll_length) *
                            (size_t)g->obs_dim;
}

#define BGPBT__PPO_VACT 32 /* the lane-parallel policy loss handles up to this many actions */

/* Policy rows [r0, r0 + W) of a minibatch (no teacher), one row per SIMD lane, in float: the
   same terms as bgpbt__ppo_row (surrogate, entropy with the tanh log-det, their gradient),
   with the vocabulary's exp/log instead of libm, one pass per action dimension. dpol rows
   are written already multiplied by inv; the row terms are added to sums in row order. */
BGPBT__PRIVATE void bgpbt__ppo_rows_w(bgpbt_agent* g, const int* seg, int steps_per_env, int r0, int rp, float inv,
                                      double* sum_surr, double* sum_h) {
    enum { W = BGPBT_FW_WIDTH };
    const int T = g->hp.unroll_length, A = g->act_dim;
    float P[2 * BGPBT__PPO_VACT][W], U[BGPBT__PPO_VACT][W], EP[BGPBT__PPO_VACT][W];
    float SC[BGPBT__PPO_VACT][W], Z[BGPBT__PPO_VACT][W], SG[BGPBT__PPO_VACT][W], IS[BGPBT__PPO_VACT][W];
    float LS[BGPBT__PPO_VACT][W];
    float lo[W], ad[W], o_s[W], o_h[W], D[2 * BGPBT__PPO_VACT][W];
    const bgpbt_fw one = bgpbt_fw_set1(1.0f), zero = bgpbt_fw_zero(), half = bgpbt_fw_set1(0.5f);
    const bgpbt_fw lsq = bgpbt_fw_set1((float)BGPBT__LOG_SQRT_2PI), ec = bgpbt_fw_set1((float)g->hp.entropy_cost);
    const bgpbt_fw vinv = bgpbt_fw_set1(inv);
    bgpbt_fw logp = zero, H = zero, rho, sg, adv;
    int l, j;
#if defined(BGPBT_SIMD_AVX512) || defined(BGPBT_SIMD_AVX2)
    /* hardware gathers: scalar stores followed by a vector load of the same bytes cannot be
       forwarded and stall the load (this block was 8% of a small-network update) */
    if ((size_t)g->cap_envs * (size_t)g->cap_steps * (size_t)(2 * A) < (size_t)0x7fffffff) {
        int ipol[W], ibase[W], irow[W];
        for (l = 0; l < W; ++l) { /* lanes past the end repeat the last row, then are dropped */
            int row = r0 + l < rp ? r0 + l : rp - 1, b = row / T, t = row - b * T;
            irow[l] = row;
            ipol[l] = row * 2 * A;
            ibase[l] = (int)bgpbt__ppo_seg_step(g, seg[b], steps_per_env) + t;
        }
#  if defined(BGPBT_SIMD_AVX512)
#    define BGPBT__GATHER(dst, base, idx, scale) \
        _mm512_storeu_ps(dst, _mm512_i32gather_ps(_mm512_mullo_epi32(_mm512_loadu_si512((const void*)(idx)), _mm512_set1_epi32(scale)), base, 4))
#  else
#    define BGPBT__GATHER(dst, base, idx, scale) \
        _mm256_storeu_ps(dst, _mm256_i32gather_ps(base, _mm256_mullo_epi32(_mm256_loadu_si256((const __m256i*)(idx)), _mm256_set1_epi32(scale)), 4))
#  endif
        for (j = 0; j < A; ++j) {
            BGPBT__GATHER(P[j], g->mb_pol + j, ipol, 1);
            BGPBT__GATHER(P[A + j], g->mb_pol + A + j, ipol, 1);
            BGPBT__GATHER(U[j], g->u_buf + j, ibase, A);
            BGPBT__GATHER(EP[j], g->mb_eps + j, irow, A);
        }
        BGPBT__GATHER(lo, g->logp_buf, ibase, 1);
        BGPBT__GATHER(ad, g->mb_adv, irow, 1);
#  undef BGPBT__GATHER
    } else
#endif
    for (l = 0; l < W; ++l) { /* gather (lanes past the end repeat the last row, then are dropped) */
        int row = r0 + l < rp ? r0 + l : rp - 1, b = row / T, t = row - b * T;
        size_t base = bgpbt__ppo_seg_step(g, seg[b], steps_per_env) + (size_t)t;
        const float* pol = g->mb_pol + (size_t)row * 2 * (size_t)A;
        const float* u = g->u_buf + base * (size_t)A;
        const float* eps = g->mb_eps + (size_t)row * (size_t)A;
        for (j = 0; j < A; ++j) {
            P[j][l] = pol[j];
            P[A + j][l] = pol[A + j];
            U[j][l] = u[j];
            EP[j][l] = eps[j];
        }
        lo[l] = g->logp_buf[base];
        ad[l] = g->mb_adv[row];
    }
    for (j = 0; j < A; ++j) {
        bgpbt_fw raw = bgpbt_fw_load(P[A + j]), e = bgpbt_fw_exp(bgpbt_fw_neg(bgpbt_fw_abs(raw)));
        bgpbt_fw sp = bgpbt_fw_add(bgpbt_fw_max(raw, zero), bgpbt__fw_log1p01(e));
        bgpbt_fw r1 = bgpbt__nn_rcp(bgpbt_fw_add(one, e)); /* reciprocals to an ulp or two: no divisions */
        bgpbt_fw s = bgpbt_fw_add(sp, bgpbt_fw_set1(0.001f)), is = bgpbt__nn_rcp(s), ls = bgpbt_fw_log(s), z;
        bgpbt_fw_store(SG[j], bgpbt_fw_blend(bgpbt_fw_ge(raw, zero), bgpbt_fw_mul(e, r1), r1));
        z = bgpbt_fw_mul(bgpbt_fw_sub(bgpbt_fw_load(U[j]), bgpbt_fw_load(P[j])), is);
        bgpbt_fw_store(SC[j], s);
        bgpbt_fw_store(IS[j], is);
        bgpbt_fw_store(LS[j], ls);
        bgpbt_fw_store(Z[j], z);
        logp = bgpbt_fw_sub(logp, bgpbt_fw_add(bgpbt_fw_mul(half, bgpbt_fw_mul(z, z)), bgpbt_fw_add(ls, lsq)));
    }
    rho = bgpbt_fw_exp(bgpbt_fw_sub(logp, bgpbt_fw_load(lo)));
    adv = bgpbt_fw_load(ad);
    {
        const float clip = (float)g->hp.clip_epsilon;
        bgpbt_fw rc = bgpbt_fw_clamp(rho, bgpbt_fw_set1(1.0f - clip), bgpbt_fw_set1(1.0f + clip));
        bgpbt_fw unc = bgpbt_fw_mul(rho, adv), cl = bgpbt_fw_mul(rc, adv);
        bgpbt_fw_store(o_s, bgpbt_fw_neg(bgpbt_fw_min(unc, cl)));
        /* d loss / d logp: -adv rho where the unclipped term is the minimum */
        sg = bgpbt_fw_blend(bgpbt_fw_le(unc, cl), zero, bgpbt_fw_neg(unc));
    }
    for (j = 0; j < A; ++j) {
        bgpbt_fw s = bgpbt_fw_load(SC[j]), z = bgpbt_fw_load(Z[j]), ep = bgpbt_fw_load(EP[j]);
        bgpbt_fw is = bgpbt_fw_load(IS[j]);
        bgpbt_fw dloc = bgpbt_fw_mul(bgpbt_fw_mul(sg, z), is);
        bgpbt_fw ds = bgpbt_fw_mul(bgpbt_fw_mul(sg, bgpbt_fw_sub(bgpbt_fw_mul(z, z), one)), is);
        /* entropy: 0.5 + log sqrt(2 pi) + log s + 2 (log 2 - x - softplus(-2x)), x = loc + s eps;
           d/dx of the log-det is -2 tanh(x) */
        bgpbt_fw x = bgpbt_fw_add(bgpbt_fw_load(P[j]), bgpbt_fw_mul(s, ep));
        bgpbt_fw ax = bgpbt_fw_abs(x), e2 = bgpbt_fw_exp(bgpbt_fw_mul(bgpbt_fw_set1(-2.0f), ax));
        bgpbt_fm neg = bgpbt_fw_lt(x, zero);
        bgpbt_fw sp2 = bgpbt_fw_add(bgpbt_fw_blend(neg, zero, bgpbt_fw_mul(bgpbt_fw_set1(-2.0f), x)), bgpbt__fw_log1p01(e2));
        bgpbt_fw th = bgpbt_fw_mul(bgpbt_fw_sub(one, e2), bgpbt__nn_rcp(bgpbt_fw_add(one, e2))), dld;
        th = bgpbt_fw_blend(neg, th, bgpbt_fw_neg(th));
        dld = bgpbt_fw_mul(bgpbt_fw_set1(-2.0f), th);
        H = bgpbt_fw_add(H, bgpbt_fw_add(bgpbt_fw_add(bgpbt_fw_add(half, lsq), bgpbt_fw_load(LS[j])),
                                         bgpbt_fw_mul(bgpbt_fw_set1(2.0f), bgpbt_fw_sub(bgpbt_fw_sub(bgpbt_fw_set1(0.69314718f), x), sp2))));
        dloc = bgpbt_fw_sub(dloc, bgpbt_fw_mul(ec, dld));
        ds = bgpbt_fw_sub(ds, bgpbt_fw_mul(ec, bgpbt_fw_add(is, bgpbt_fw_mul(dld, ep))));
        bgpbt_fw_store(D[j], bgpbt_fw_mul(dloc, vinv));
        bgpbt_fw_store(D[A + j], bgpbt_fw_mul(bgpbt_fw_mul(ds, bgpbt_fw_load(SG[j])), vinv));
    }
    bgpbt_fw_store(o_h, H);
    for (l = 0; l < W && r0 + l < rp; ++l) {
        float* dp = g->mb_dpol + (size_t)(r0 + l) * 2 * (size_t)A;
        for (j = 0; j < 2 * A; ++j) dp[j] = D[j][l];
        *sum_surr += (double)o_s[l];
        *sum_h += (double)o_h[l];
    }
}

/* Segments per chunk of the PPO update: a chunk's rows go through both networks, forward,
   loss and backward, while their activations are still in cache (the whole minibatch at once
   streams them from L3: 12% slower for 2x64 networks at 1024 segments x 5 steps, 20% for the
   default networks); about 512 rows was fastest for both sizes. The chunking depends only on
   the unroll length, so the gradient sums always run in one order. */
#ifndef BGPBT__PPO_CHUNK_ROWS
#  define BGPBT__PPO_CHUNK_ROWS 512
#endif
BGPBT__PRIVATE int bgpbt__ppo_chunk_segments(const bgpbt_agent* g) {
    int n = g->chunk_segs > 0 ? g->chunk_segs : BGPBT__PPO_CHUNK_ROWS / (g->hp.unroll_length + 1);
    return n < 1 ? 1 : n;
}

/* The value network's part of one chunk of the PPO update (segments [c0, c1) of seg): the
   chunk's value input (its (c1 - c0) T policy rows b*T + t, then its bootstrap rows t = T; the
   policy reads the first rows in place), the forward, the GAE targets and advantages of its
   segments, the value loss gradient and the backward (which leaves out the bootstrap rows: they
   carry no gradient). Adds the squared errors to *sum_v in row order. */
BGPBT__PRIVATE void bgpbt__ppo_value_chunk(bgpbt_agent* g, const int* seg, int B, int steps_per_env, int c0, int c1,
                                          int flags, double inv, double* sum_v) {
    const int T = g->hp.unroll_length, O = g->obs_dim, cn = c1 - c0, cp = cn * T;
    const float clipv = g->cfg.obs_clip, rs = (float)g->hp.reward_scaling;
    float* vin = g->mb_vin + (size_t)c0 * (size_t)(T + 1) * (size_t)O;
    const float* vout;
    int b, t, ld;
    (void)B; /* used by the prefetch only */
    for (b = c0; b < c1; ++b) {
        const float* src = bgpbt__ppo_seg_obs(g, seg[b], steps_per_env);
#if defined(BGPBT_SIMD_AVX512) || defined(BGPBT_SIMD_AVX2)
        if (b + 2 < B) { /* segments are scattered in the rollout: fetch two ahead */
            const char* p2 = (const char*)bgpbt__ppo_seg_obs(g, seg[b + 2], steps_per_env);
            size_t q, nbytes = (size_t)(T + 1) * (size_t)O * sizeof(float);
            for (q = 0; q < nbytes; q += 64) _mm_prefetch(p2 + q, _MM_HINT_T0);
        }
#endif
        bgpbt__nm_apply(g->nm_mu, g->nm_is, clipv, O, src, O, vin + (size_t)(b - c0) * (size_t)T * (size_t)O, T);
        bgpbt__nm_apply(g->nm_mu, g->nm_is, clipv, O, src + (size_t)T * (size_t)O, O, vin + ((size_t)cp + (size_t)(b - c0)) * (size_t)O, 1);
    }
    bgpbt__mlp_forward_train_inplace(g->vf, vin, cp + cn); /* rows within max_batch: checked by the caller */
    vout = bgpbt_mlp_output(g->vf, &ld);
    for (b = c0; b < c1; ++b) {
        size_t base = bgpbt__ppo_seg_step(g, seg[b], steps_per_env);
        float* rew = g->mb_pin;  /* scratch */
        float* vals = g->mb_vals; /* scratch: the segment's T + 1 values, contiguous */
        float *vs = g->mb_vs + (size_t)b * (size_t)T, *adv = g->mb_adv + (size_t)b * (size_t)T;
        for (t = 0; t < T; ++t) vals[t] = vout[((size_t)(b - c0) * (size_t)T + (size_t)t) * (size_t)ld];
        vals[T] = vout[((size_t)cp + (size_t)(b - c0)) * (size_t)ld];
        if (!(flags & 2)) {
            for (t = 0; t < T; ++t) rew[t] = g->rew_buf[base + (size_t)t] * rs;
            bgpbt_ppo_gae(T, rew, vals, g->boot_buf + base, g->term_buf + base, g->trunc_buf + base,
                          (float)g->hp.discount, (float)g->hp.gae_lambda, vs, adv);
        }
        for (t = 0; t < T; ++t) {
            double err = (double)vs[t] - (double)vals[t];
            *sum_v += err * err;
            g->mb_dval[(size_t)(b - c0) * (size_t)T + (size_t)t] = (float)(-2.0 * g->hp.value_coef * err * inv);
        }
    }
    bgpbt__mlp_backward_rows(g->vf, g->mb_dval, cp, NULL, c0 > 0);
}

/* The policy's part of one chunk, after its value part (it reads the chunk's value input and
   advantages): the teacher's forward (distillation), the policy's forward, the loss per row
   (one row per SIMD lane when lanes) and the backward. Adds the surrogate, entropy and KL terms
   to sums[0..2] in row order. */
BGPBT__PRIVATE void bgpbt__ppo_policy_chunk(bgpbt_agent* g, const int* seg, int steps_per_env, int c0, int c1,
                                           double kl_coef, int lanes, double inv, double* sums) {
    const int T = g->hp.unroll_length, A = g->act_dim, O = g->obs_dim, cp = (c1 - c0) * T;
    const size_t row0 = (size_t)c0 * (size_t)T; /* the chunk's first policy row */
    const float* vin = g->mb_vin + (size_t)c0 * (size_t)(T + 1) * (size_t)O;
    const int teacher = g->tpi && kl_coef > 0.0;
    const float* o;
    int b, t, i, ld;
    if (teacher) {
        for (b = c0; b < c1; ++b) {
            const float* src = bgpbt__ppo_seg_obs(g, seg[b], steps_per_env);
            bgpbt__nm_apply(g->t_mu, g->t_is, g->cfg.obs_clip, O, src, O, g->mb_tin + (size_t)(b - c0) * (size_t)T * (size_t)O, T);
        }
        bgpbt_mlp_forward(g->tpi, g->mb_tin, cp, g->mb_tpol + row0 * 2 * (size_t)A, 0);
    }
#if defined(BGPBT_SIMD_AVX512) || defined(BGPBT_SIMD_AVX2)
    for (b = c0; b < c1; ++b) { /* the loss's scattered rollout rows, into L2 during the forward */
        size_t base = bgpbt__ppo_seg_step(g, seg[b], steps_per_env), q;
        const char* u = (const char*)(g->u_buf + base * (size_t)A);
        for (q = 0; q < (size_t)T * (size_t)A * sizeof(float); q += 64) _mm_prefetch(u + q, _MM_HINT_T1);
        _mm_prefetch((const char*)(u + (size_t)T * (size_t)A * sizeof(float)) - 1, _MM_HINT_T1);
        _mm_prefetch((const char*)(g->logp_buf + base), _MM_HINT_T1);
        _mm_prefetch((const char*)(g->logp_buf + base + (size_t)T) - 1, _MM_HINT_T1);
    }
#endif
    bgpbt__mlp_forward_train_inplace(g->pi, vin, cp);
    o = bgpbt_mlp_output(g->pi, &ld);
    for (i = 0; i < cp; ++i)
        memcpy(g->mb_pol + (row0 + (size_t)i) * 2 * (size_t)A, o + (size_t)i * (size_t)ld, 2 * (size_t)A * sizeof(float));
    if (lanes) {
        for (i = (int)row0; i < (int)row0 + cp; i += BGPBT_FW_WIDTH)
            bgpbt__ppo_rows_w(g, seg, steps_per_env, i, (int)row0 + cp, (float)inv, &sums[0], &sums[1]);
    } else {
        float* dp = g->mb_dpol + row0 * 2 * (size_t)A;
        for (b = c0; b < c1; ++b) {
            size_t base = bgpbt__ppo_seg_step(g, seg[b], steps_per_env);
            const float* adv = g->mb_adv + (size_t)b * (size_t)T;
            for (t = 0; t < T; ++t) {
                size_t row = (size_t)b * (size_t)T + (size_t)t;
                double out[3];
                bgpbt__ppo_row(g->mb_pol + row * 2 * (size_t)A, g->u_buf + (base + (size_t)t) * (size_t)A,
                               (double)g->logp_buf[base + (size_t)t], (double)adv[t], g->mb_eps + row * (size_t)A,
                               g->hp.clip_epsilon, g->hp.entropy_cost, teacher ? g->mb_tpol + row * 2 * (size_t)A : NULL,
                               kl_coef / (double)A, A, g->mb_dpol + row * 2 * (size_t)A, out);
                sums[0] += out[0];
                sums[1] += out[1];
                sums[2] += out[2];
            }
        }
        for (i = 0; i < cp * 2 * A; ++i) dp[i] = (float)((double)dp[i] * inv);
    }
    bgpbt__mlp_backward_rows(g->pi, g->mb_dpol + row0 * 2 * (size_t)A, cp, NULL, c0 > 0);
}

/* Multiply-adds per row of one network's forward (the pipeline's balance test). */
BGPBT__PRIVATE double bgpbt__nn_row_macs(const bgpbt_mlp* n) {
    double s = 0.0;
    int l;
    for (l = 0; l < n->nl; ++l) s += (double)n->dim[l] * (double)n->dim[l + 1];
    return s;
}

/* Loss and gradients of both networks on minibatch segments seg[0..B) (no parameter change).
   flags: 1 = reuse the entropy noise of the previous call, 2 = reuse its GAE targets (the tests
   use both to check gradients by finite differences with the targets held fixed, as the
   stop-gradient intends), 4 = the row-by-row policy loss (bgpbt__ppo_row, double sums) even
   where the lane-parallel one applies (the tests compare the two).
   The minibatch runs in chunks of segments (bgpbt__ppo_chunk_segments), each through both
   networks forward, loss and backward while its activations are in cache; the gradients add up
   over the chunks in row order. With two or more threads and networks of similar cost (the 2x64
   pairs, whose GEMMs are too small to split), the two networks run as a pipeline on two threads:
   the value network on chunk c + 1 while the policy works on chunk c. Every network still runs
   its chunks in order, so the bits are those of one thread. Otherwise the GEMMs split. */
BGPBT__PRIVATE bgpbt_result bgpbt__ppo_loss_grad(bgpbt_agent* g, const int* seg, int B, int steps_per_env,
                                                double kl_coef, int flags) {
    const int T = g->hp.unroll_length, A = g->act_dim, rp = B * T, nb = bgpbt__ppo_chunk_segments(g);
    /* without a teacher the policy loss runs one row per SIMD lane (bgpbt__ppo_rows_w) */
    const int lanes = !(g->tpi && kl_coef > 0.0) && A <= BGPBT__PPO_VACT && !(flags & 4);
    double sums[3] = {0.0, 0.0, 0.0}, sum_v = 0.0, inv = 1.0 / (double)rp;
    int c0, piped = 0;
    if ((nb < B ? nb : B) * (T + 1) > g->vf->cfg.max_batch || (nb < B ? nb : B) * T > g->pi->cfg.max_batch)
        return bgpbt__error(&g->cfg.logger, BGPBT_ERR_LIMIT, "ppo: a chunk of %d segments exceeds the networks' max_batch", nb);
    /* the entropy noise of every row first: the stream does not depend on the chunking */
    if (!(flags & 1)) bgpbt_rng_normals(&g->rng, g->mb_eps, (size_t)rp * (size_t)A);
#if BGPBT__HAS_OPENMP
    {
        double cpi = bgpbt__nn_row_macs(g->pi), cvf = bgpbt__nn_row_macs(g->vf);
        if (nb < B && bgpbt_max_threads() > 1 && !omp_in_parallel() && cpi < 3.0 * cvf && cvf < 3.0 * cpi) {
            int ready = 0; /* segments whose value part is done */
            BGPBT_OMP(parallel num_threads(2))
            {
                if (omp_get_num_threads() == 2) {
                    BGPBT_OMP(single nowait)
                    piped = 1;
                    if (omp_get_thread_num() == 0) {
                        for (c0 = 0; c0 < B; c0 += nb) {
                            int c1 = B - c0 < nb ? B : c0 + nb;
                            if (g->test_value_stall > 0.0) {
                                double t0 = bgpbt_time_seconds();
                                while (bgpbt_time_seconds() - t0 < g->test_value_stall) {
                                }
                            }
                            bgpbt__ppo_value_chunk(g, seg, B, steps_per_env, c0, c1, flags, inv, &sum_v);
                            BGPBT_OMP(flush)
                            BGPBT_OMP(atomic write)
                            ready = c1;
                        }
                    } else {
                        int c, have = 0;
                        for (c = 0; c < B; c += nb) {
                            int c1 = B - c < nb ? B : c + nb;
                            while (have < c1) {
                                BGPBT_OMP(atomic read)
                                have = ready;
                            }
                            BGPBT_OMP(flush)
                            bgpbt__ppo_policy_chunk(g, seg, steps_per_env, c, c1, kl_coef, lanes, inv, sums);
                        }
                    }
                }
            }
        }
    }
#endif
    g->last_piped = piped;
    if (!piped)
        for (c0 = 0; c0 < B; c0 += nb) {
            int c1 = B - c0 < nb ? B : c0 + nb;
            bgpbt__ppo_value_chunk(g, seg, B, steps_per_env, c0, c1, flags, inv, &sum_v);
            bgpbt__ppo_policy_chunk(g, seg, steps_per_env, c0, c1, kl_coef, lanes, inv, sums);
        }
    g->st.last_policy_loss = sums[0] * inv;
    g->st.last_value_loss = g->hp.value_coef * sum_v * inv;
    g->st.last_entropy = sums[1] * inv;
    g->st.last_kl = sums[2] * inv / (double)A;
    g->st.last_loss = g->st.last_policy_loss + g->st.last_value_loss - g->hp.entropy_cost * g->st.last_entropy +
                      kl_coef * g->st.last_kl;
    /* a non-finite loss is refused here (the gradients it left are not used) */
    if (!bgpbt__isfinite(g->st.last_loss)) return BGPBT_ERR_AGENT_FAILED;
    return BGPBT_OK;
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
            float sp, sg, s;
            bgpbt__sp_sig(pol[A + j], &sp, &sg);
            s = sp + 0.001f;
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
    if (g->is_task) return bgpbt_vecenv_create_task(g->task, &g->topt, &vc, v);
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
    if (!g) return BGPBT_ERR_INVALID_ARGUMENT;
    if (env_steps < 0) return bgpbt__error(&g->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "agent_train: env_steps %lld < 0", env_steps);
    return bgpbt__agent_run(g, env_steps, NULL);
}

BGPBT_API bgpbt_result bgpbt_agent_distill(bgpbt_agent* g, const bgpbt_agent* teacher, const bgpbt_distill_config* distill,
                                           long long env_steps) {
    bgpbt_distill_config d = distill ? *distill : bgpbt_distill_config_default();
    bgpbt_distill_config def = bgpbt_distill_config_default();
    bgpbt_result r;
    int T, B;
    if (!g) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!teacher || env_steps < 0 || teacher == g)
        return bgpbt__error(&g->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "distill: needs a teacher other than the student and env_steps >= 0");
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
    size_t k;
    if (!g) return BGPBT_ERR_INVALID_ARGUMENT;
    if ((!obs && batch > 0) || !actions || batch < 0)
        return bgpbt__error(&g->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "agent_act: batch %d, obs and actions must not be NULL", batch);
    /* a NaN observation would come back as NaN actions: refuse it (the game use case) */
    for (k = 0; k < (size_t)batch * (size_t)g->obs_dim; ++k)
        if (!bgpbt__isfinitef(obs[k]))
            return bgpbt__error(&g->cfg.logger, BGPBT_ERR_NOT_FINITE, "agent_act: observation %lu of row %lu is %g",
                                (unsigned long)(k % (size_t)g->obs_dim), (unsigned long)(k / (size_t)g->obs_dim), (double)obs[k]);
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
    if (!d) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!s) return bgpbt__error(&d->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "agent_copy_from: src is NULL");
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
    if (!g) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!size) return bgpbt__error(&g->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "agent_save: size is NULL");
    w.buf = (unsigned char*)buf;
    w.cap = buf ? cap : 0;
    w.pos = 0;
    w.overflow = 0;
    bgpbt_container_begin(&w, BGPBT__AGENT_KIND, BGPBT__AGENT_VERSION);
    bgpbt__agent_write(&w, g);
    bgpbt_container_end(&w, 0);
    *size = w.pos;
    if (buf && w.overflow)
        return bgpbt__error(&g->cfg.logger, BGPBT_ERR_BUFFER_TOO_SMALL, "agent_save: %lu bytes needed, buffer has %lu",
                            (unsigned long)w.pos, (unsigned long)cap);
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
    c.fit_tol = 1e-7;
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

/* M = L^{-T} as bgpbt_linalg_lower_inverse computes it, with the divisions by the diagonal
   replaced by products with its reciprocals rd (n entries, filled here). */
BGPBT__PRIVATE void bgpbt__gp_lower_inverse(const double* l, int ld, int n, double* m, double* rd) {
    int j;
    for (j = 0; j < n; ++j) rd[j] = 1.0 / l[(size_t)j * ld + j];
    bgpbt__lower_inverse(l, ld, n, m, ld, rd);
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
    if (!(c.fit_tol > 0.0) || !(c.fit_tol < 1.0)) c.fit_tol = 1e-7;
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

#if defined(BGPBT__D4)
/* exp(x) for x <= 0 on 4 doubles: Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, degree-12
   Taylor polynomial (truncation < 2e-16 relative), times 2^n built in the exponent bits;
   x < -708 gives 0. Within 2 ulp of libm's exp over the range (the GP's kernels only need
   exp of non-positive arguments). */
BGPBT__INLINE __m256d bgpbt__exp4_neg(__m256d x) {
    const __m256d magic = _mm256_set1_pd(6755399441055744.0); /* 1.5 * 2^52: round to integer */
    __m256d lo = _mm256_set1_pd(-708.0), under = _mm256_cmp_pd(x, lo, _CMP_LT_OQ);
    __m256d t, nd, r, p;
    __m256i ni;
    x = _mm256_max_pd(x, lo);
    t = _mm256_fmadd_pd(x, _mm256_set1_pd(1.4426950408889634074), magic);
    nd = _mm256_sub_pd(t, magic);
    r = _mm256_fnmadd_pd(nd, _mm256_set1_pd(6.93147180369123816490e-01), x);
    r = _mm256_fnmadd_pd(nd, _mm256_set1_pd(1.90821492927058770002e-10), r);
    p = _mm256_set1_pd(1.0 / 479001600.0);
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 39916800.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 3628800.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 362880.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 40320.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 5040.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 720.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 120.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 24.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0 / 6.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(0.5));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0));
    p = _mm256_fmadd_pd(p, r, _mm256_set1_pd(1.0));
    /* the low bits of t hold n (t = magic + n exactly): 2^n = (n + 1023) << 52 */
    ni = _mm256_sub_epi64(_mm256_castpd_si256(t), _mm256_castpd_si256(magic));
    ni = _mm256_slli_epi64(_mm256_add_epi64(ni, _mm256_set1_epi64x(1023)), 52);
    p = _mm256_mul_pd(p, _mm256_castsi256_pd(ni));
    return _mm256_andnot_pd(under, p);
}

BGPBT__INLINE double bgpbt__hsum4(__m256d v) {
    double t[4];
    _mm256_storeu_pd(t, v);
    return (t[0] + t[1]) + (t[2] + t[3]);
}

/* Continuous kernels (no categorical dims), 4 pairs at a time along a row: K's lower
   triangle into ws->Lw (+ noise on the diagonal; it is factored in place), k into ws->Kc and
   s k_t dk_x/dr^2 into
   ws->Dc for the gradient pass. The features are stored transposed in ws->z (dim c of point j
   at z[c * cap + j]) so that a row's pairs are contiguous. Rows are padded to a multiple of 4
   into the (unused) strict upper triangle. */
BGPBT__PRIVATE void bgpbt__gp_kmat_cont4(const bgpbt_gp* gp, const bgpbt__gpws* ws, const bgpbt__gpk* K, double noise) {
    int n = gp->n, ld = gp->cap, nc = gp->ncont, i, c, j;
    double* zT = ws->z;
    for (c = 0; c < nc; ++c) {
        double il = K->inv_ls[c];
        for (j = 0; j < n; ++j) zT[(size_t)c * ld + j] = gp->X[(size_t)j * gp->dim + gp->cont[c]] * il;
        for (; j < ((n + 3) & ~3) && j < ld; ++j) zT[(size_t)c * ld + j] = 0.0;
    }
    BGPBT_OMP(parallel for schedule(dynamic, 16) if (n >= 128))
    for (i = 0; i < n; ++i) {
        double *row = ws->Lw + (size_t)i * ld, *kc = ws->Kc + (size_t)i * ld, *dc = ws->Dc + (size_t)i * ld;
        const double* tt = gp->t;
        __m256d sv = _mm256_set1_pd(K->s), hl = _mm256_set1_pd(K->half_log1me), ti = _mm256_set1_pd(tt[i]);
        __m256d sgn = _mm256_set1_pd(-0.0);
        int jj;
        for (jj = 0; jj <= i; jj += 4) {
            __m256d r2 = _mm256_setzero_pd(), kx, dk, kt = _mm256_set1_pd(1.0), k;
            for (c = 0; c < nc; ++c) {
                const double* zc = zT + (size_t)c * ld;
                __m256d d = _mm256_sub_pd(_mm256_set1_pd(zc[i]), _mm256_loadu_pd(zc + jj));
                r2 = _mm256_fmadd_pd(d, d, r2);
            }
            if (K->matern) {
                __m256d r = _mm256_sqrt_pd(_mm256_mul_pd(_mm256_set1_pd(5.0), r2));
                __m256d e = bgpbt__exp4_neg(_mm256_sub_pd(_mm256_setzero_pd(), r));
                __m256d one_r = _mm256_add_pd(_mm256_set1_pd(1.0), r);
                kx = _mm256_mul_pd(_mm256_fmadd_pd(_mm256_set1_pd(5.0 / 3.0), r2, one_r), e);
                dk = _mm256_mul_pd(_mm256_mul_pd(_mm256_set1_pd(-5.0 / 6.0), one_r), e);
            } else {
                kx = bgpbt__exp4_neg(_mm256_mul_pd(_mm256_set1_pd(-0.5), r2));
                dk = _mm256_mul_pd(_mm256_set1_pd(-0.5), kx);
            }
            if (K->tv) {
                __m256d dt = _mm256_andnot_pd(sgn, _mm256_sub_pd(ti, _mm256_loadu_pd(tt + jj)));
                kt = bgpbt__exp4_neg(_mm256_mul_pd(dt, hl));
            }
            k = _mm256_mul_pd(_mm256_mul_pd(sv, kx), kt);
            _mm256_storeu_pd(row + jj, k);
            _mm256_storeu_pd(kc + jj, k);
            _mm256_storeu_pd(dc + jj, _mm256_mul_pd(_mm256_mul_pd(sv, kt), dk));
        }
        row[i] += noise;
    }
}

/* The gradient pass of the continuous kernels on the pair cache: per row, the weights
   w_j = alpha_i alpha_j - K^{-1}_ij (half on the diagonal) give the outputscale and eps terms
   (sums of w k) and base_j = -2 w_j s k_t dk/dr^2 (stored over Dc); each lengthscale term is
   then one pass over the row, sum_j base_j (z_ic - z_jc)^2. Rows are reduced in index order. */
BGPBT__PRIVATE void bgpbt__gp_grad_cont4(const bgpbt_gp* gp, const bgpbt__gpws* ws, const bgpbt__gpk* K, double noise, double* grad) {
    int n = gp->n, ld = gp->cap, P = gp->np, nc = gp->ncont, i, q;
    double* a = ws->g;
    double* alpha = a + (size_t)n * P;
    const double* zT = ws->z;
    int ard = gp->n_ls > 1, eps = gp->i_eps >= 0;
    BGPBT_OMP(parallel for schedule(dynamic, 8) if (n >= 64))
    for (i = 0; i < n; ++i) {
        double* g = a + (size_t)i * P;
        const double *Wr = ws->Kw + (size_t)i * ld, *kc = ws->Kc + (size_t)i * ld, *tt = gp->t;
        double* base = ws->Dc + (size_t)i * ld;
        __m256d ai = _mm256_set1_pd(alpha[i]), gs4 = _mm256_setzero_pd(), ge4 = gs4, m2 = _mm256_set1_pd(-2.0);
        __m256d ti = _mm256_set1_pd(tt[i]), sgn = _mm256_set1_pd(-0.0);
        double gs, ge, wd;
        int j, c, jv = i & ~3; /* pairs j < jv in full vectors; j in [jv, i] (with the diagonal) scalar */
        for (q = 0; q < P; ++q) g[q] = 0.0;
        for (j = 0; j < jv; j += 4) {
            __m256d w = _mm256_fmsub_pd(ai, _mm256_loadu_pd(alpha + j), _mm256_loadu_pd(Wr + j));
            __m256d kw = _mm256_mul_pd(w, _mm256_loadu_pd(kc + j));
            gs4 = _mm256_add_pd(gs4, kw);
            if (eps) ge4 = _mm256_fmadd_pd(kw, _mm256_andnot_pd(sgn, _mm256_sub_pd(ti, _mm256_loadu_pd(tt + j))), ge4);
            _mm256_storeu_pd(base + j, _mm256_mul_pd(_mm256_mul_pd(m2, w), _mm256_loadu_pd(base + j)));
        }
        gs = bgpbt__hsum4(gs4);
        ge = bgpbt__hsum4(ge4);
        for (; j <= i; ++j) {
            double w = (alpha[i] * alpha[j] - Wr[j]) * (j == i ? 0.5 : 1.0), kw = w * kc[j];
            gs += kw;
            if (eps) ge += kw * fabs(tt[i] - tt[j]);
            base[j] = -2.0 * w * base[j];
        }
        wd = alpha[i] * alpha[i] - Wr[i];
        if (gp->i_scale >= 0) g[gp->i_scale] = gs;
        if (gp->i_noise >= 0) g[gp->i_noise] = wd * 0.5 * noise;
        if (eps) g[gp->i_eps] = ge * 0.5 * K->dlog1me;
        if (gp->n_ls) {
            double gl = 0.0;
            for (c = 0; c < nc; ++c) {
                const double* zc = zT + (size_t)c * ld;
                __m256d zi = _mm256_set1_pd(zc[i]), acc = _mm256_setzero_pd();
                double sc;
                for (j = 0; j < jv; j += 4) {
                    __m256d d = _mm256_sub_pd(zi, _mm256_loadu_pd(zc + j));
                    acc = _mm256_fmadd_pd(_mm256_mul_pd(_mm256_loadu_pd(base + j), d), d, acc);
                }
                sc = bgpbt__hsum4(acc);
                for (; j <= i; ++j) { double d = zc[i] - zc[j]; sc += base[j] * d * d; }
                if (ard) g[gp->i_ls + c] = sc;
                else gl += sc;
            }
            if (!ard) g[gp->i_ls] = gl;
        }
    }
    for (q = 0; q < P; ++q) grad[q] = 0.0;
    for (i = 0; i < n; ++i)
        for (q = 0; q < P; ++q) grad[q] += a[(size_t)i * P + q];
    if (gp->i_mean >= 0) { double s = 0.0; for (i = 0; i < n; ++i) s += alpha[i]; grad[gp->i_mean] = s; }
}
#endif

/* The LML value pass at hyperparameters h: kernel matrix (and the pair cache), Cholesky, alpha;
   uses the workspace ws. The gradient pass (bgpbt__gp_lml_grad) needs the value pass just done
   with the same h in the same workspace (it reuses L, alpha, the features and the pair cache),
   so a line search can reject a step without paying for K^{-1}. The gradient is "natural":
   d/dm, d/dlog s, d/dlog s_n, d/deps, d/dlog l, d/dlog w in the raw layout's slots. */
BGPBT__PRIVATE void bgpbt__gp_lml_grad(const bgpbt_gp* gp, const bgpbt__gpws* ws, const bgpbt_gp_hypers* hp, double* grad);

BGPBT__PRIVATE bgpbt_result bgpbt__gp_lml(const bgpbt_gp* gp, const bgpbt__gpws* ws, const bgpbt_gp_hypers* hp, double* lml) {
    bgpbt_gp_hypers h = *hp;
    bgpbt__gpk K;
    int n = gp->n, ld = gp->cap, i;
    double logdet = 0.0, quad = 0.0, jit;
    double* a = ws->g; /* per-row gradient partial sums, then alpha */
    double* alpha;
    bgpbt_result r;
    int cache;
    bgpbt__gp_consts(gp, &h, &K);
    cache = gp->ncat == 0;
#if defined(BGPBT__D4)
    if (cache) bgpbt__gp_kmat_cont4(gp, ws, &K, h.noise);
    else
#endif
    bgpbt__gp_feats_to(gp, &K, n, ws->z);
    if (!cache) bgpbt__gp_kmat(gp, &K, h.noise, n, ws->z, ws->Kw);
#if !defined(BGPBT__D4)
    else {
        int zs = gp->dim + 1;
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
#endif
#if defined(BGPBT__D4)
    if (cache) {
        /* K was built in Lw: factor it in place (no copy, no finiteness pass); only when that
           fails, rebuild K from the pair cache and take the checked path with jitter */
        r = bgpbt_linalg_cholesky(ws->Lw, n, ld);
        if (r != BGPBT_OK) {
            for (i = 0; i < n; ++i) {
                memcpy(ws->Kw + (size_t)i * ld, ws->Kc + (size_t)i * ld, (size_t)(i + 1) * sizeof(double));
                ws->Kw[(size_t)i * ld + i] += h.noise;
            }
            r = bgpbt_linalg_cholesky_jitter(ws->Kw, ld, ws->Lw, ld, n, &jit, NULL);
        }
    } else
#endif
    r = bgpbt_linalg_cholesky_jitter(ws->Kw, ld, ws->Lw, ld, n, &jit, NULL);
    if (r != BGPBT_OK) return r;
    alpha = a + (size_t)n * gp->np; /* grow_buf has cap * MAXP >= n * (P + 1) entries (P <= 68) */
    for (i = 0; i < n; ++i) alpha[i] = gp->y[i] - h.mean;
    bgpbt_linalg_solve_lower(ws->Lw, ld, n, alpha);
    for (i = 0; i < n; ++i) quad += alpha[i] * alpha[i];
    for (i = 0; i < n; ++i) logdet += log(ws->Lw[(size_t)i * ld + i]);
    bgpbt_linalg_solve_lower_t(ws->Lw, ld, n, alpha);
    *lml = -0.5 * quad - logdet - 0.5 * n * 1.8378770664093454836;
    return BGPBT_OK;
}

BGPBT__PRIVATE void bgpbt__gp_lml_grad(const bgpbt_gp* gp, const bgpbt__gpws* ws, const bgpbt_gp_hypers* hp, double* grad) {
    bgpbt_gp_hypers h = *hp;
    bgpbt__gpk K;
    int n = gp->n, ld = gp->cap, i, P = gp->np, zs = gp->dim + 1;
    double* a = ws->g;
    double* alpha = a + (size_t)n * P;
    int cache = gp->ncat == 0;
    bgpbt__gp_consts(gp, &h, &K);
    /* W = alpha alpha^T - K^{-1} (lower), then dLML/dp = 0.5 sum_ij W_ij dK_ij/dp */
    bgpbt__gp_lower_inverse(ws->Lw, ld, n, ws->Mw, alpha + n); /* ws->g has room after alpha */
    bgpbt__gp_kinv(ws->Mw, ld, n, ws->Kw);
#if defined(BGPBT__D4)
    if (cache) { bgpbt__gp_grad_cont4(gp, ws, &K, h.noise, grad); return; }
#endif
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
    }
}

/* natural gradient (d/dlog p, d/deps) -> gradient in the raw coordinates */
BGPBT__PRIVATE void bgpbt__gp_chain_raw(const bgpbt_gp* gp, const double* raw, double* grad) {
    int q;
    if (gp->i_scale >= 0) grad[gp->i_scale] *= bgpbt__gp_pos_d(raw[gp->i_scale], gp->s_lo, gp->s_hi);
    if (gp->i_noise >= 0) grad[gp->i_noise] *= bgpbt__gp_pos_d(raw[gp->i_noise], gp->nz_lo, gp->nz_hi);
    if (gp->i_eps >= 0) { double sg = bgpbt__sigmoid(raw[gp->i_eps]); grad[gp->i_eps] *= (gp->e_hi - gp->e_lo) * sg * (1.0 - sg); }
    for (q = 0; q < gp->n_ls; ++q) grad[gp->i_ls + q] *= bgpbt__gp_pos_d(raw[gp->i_ls + q], gp->ls_lo, gp->ls_hi);
    for (q = 0; q < gp->n_cw; ++q) grad[gp->i_cw + q] *= bgpbt__gp_pos_d(raw[gp->i_cw + q], gp->cw_lo, gp->cw_hi);
}

BGPBT_API bgpbt_result bgpbt_gp_lml(bgpbt_gp* gp, const double* raw, double* lml, double* grad) {
    bgpbt_gp_hypers h;
    double v = 0.0;
    bgpbt_result r;
    if (!gp) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!raw || !lml) return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "gp_lml: raw or lml is NULL");
    {
        int k;
        for (k = 0; k < gp->np; ++k)
            if (!(raw[k] - raw[k] == 0.0))
                return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_NOT_FINITE, "gp_lml: raw[%d] is %g", k, raw[k]);
    }
    if (gp->n == 0) { *lml = 0.0; if (grad) memset(grad, 0, (size_t)gp->np * sizeof(double)); return BGPBT_OK; }
    bgpbt__gp_decode(gp, raw, &h);
    r = bgpbt__gp_lml(gp, &gp->ws[0], &h, &v);
    *lml = v;
    if (r == BGPBT_OK && grad) {
        bgpbt__gp_lml_grad(gp, &gp->ws[0], &h, grad);
        bgpbt__gp_chain_raw(gp, raw, grad);
    }
    return r;
}

/* ---- fitting ------------------------------------------------------------------------------- */

/* The optimiser works in "natural" coordinates v with hard boxes, as scikit-learn does: v = m
   (unbounded), log s, log s_n, log l, log w in [log lo, log hi], and for the time kernel
   v = log(-log(1 - eps)) (the log of its inverse time scale) in the image of [eps_lo, eps_hi].
   In the raw (sigmoid) coordinates a hyperparameter that wants its bound runs off to infinity
   with a vanishing gradient, and L-BFGS spent most of its evaluations creeping after it; with a
   box it stops at the bound (projected L-BFGS). The result is stored in the raw coordinates. */
BGPBT__PRIVATE double bgpbt__gp_eps_v(double eps) { return log(-log1p(-eps)); }
BGPBT__PRIVATE double bgpbt__gp_v_eps(double v) { return -expm1(-exp(v)); }

BGPBT__PRIVATE void bgpbt__gp_vbox(const bgpbt_gp* gp, double* lo, double* hi) {
    int q;
    if (gp->i_mean >= 0) { lo[gp->i_mean] = -HUGE_VAL; hi[gp->i_mean] = HUGE_VAL; }
    if (gp->i_scale >= 0) { lo[gp->i_scale] = log(gp->s_lo); hi[gp->i_scale] = log(gp->s_hi); }
    if (gp->i_noise >= 0) { lo[gp->i_noise] = log(gp->nz_lo); hi[gp->i_noise] = log(gp->nz_hi); }
    if (gp->i_eps >= 0) { lo[gp->i_eps] = bgpbt__gp_eps_v(gp->e_lo); hi[gp->i_eps] = bgpbt__gp_eps_v(gp->e_hi); }
    for (q = 0; q < gp->n_ls; ++q) { lo[gp->i_ls + q] = log(gp->ls_lo); hi[gp->i_ls + q] = log(gp->ls_hi); }
    for (q = 0; q < gp->n_cw; ++q) { lo[gp->i_cw + q] = log(gp->cw_lo); hi[gp->i_cw + q] = log(gp->cw_hi); }
}

/* hypers -> v (inside the box) */
BGPBT__PRIVATE void bgpbt__gp_h2v(const bgpbt_gp* gp, const bgpbt_gp_hypers* h, double* v) {
    int q;
    if (gp->i_mean >= 0) v[gp->i_mean] = h->mean;
    if (gp->i_scale >= 0) v[gp->i_scale] = log(bgpbt__clampd(h->outputscale, gp->s_lo, gp->s_hi));
    if (gp->i_noise >= 0) v[gp->i_noise] = log(bgpbt__clampd(h->noise, gp->nz_lo, gp->nz_hi));
    if (gp->i_eps >= 0) v[gp->i_eps] = bgpbt__gp_eps_v(bgpbt__clampd(h->eps, gp->e_lo, gp->e_hi));
    for (q = 0; q < gp->n_ls; ++q) v[gp->i_ls + q] = log(bgpbt__clampd(h->lengthscale[gp->cont[q]], gp->ls_lo, gp->ls_hi));
    for (q = 0; q < gp->n_cw; ++q) v[gp->i_cw + q] = log(bgpbt__clampd(h->cat_weight[gp->cat[q]], gp->cw_lo, gp->cw_hi));
}

/* v -> hypers (fixed ones as bgpbt__gp_decode sets them) */
BGPBT__PRIVATE void bgpbt__gp_v2h(const bgpbt_gp* gp, const double* v, bgpbt_gp_hypers* h) {
    int i;
    h->mean = gp->i_mean >= 0 ? v[gp->i_mean] : gp->cfg.mean_init;
    h->outputscale = gp->i_scale >= 0 ? bgpbt__clampd(exp(v[gp->i_scale]), gp->s_lo, gp->s_hi) : gp->s_lo;
    h->noise = gp->i_noise >= 0 ? bgpbt__clampd(exp(v[gp->i_noise]), gp->nz_lo, gp->nz_hi) : gp->nz_lo;
    h->eps = gp->i_eps >= 0 ? bgpbt__clampd(bgpbt__gp_v_eps(v[gp->i_eps]), gp->e_lo, gp->e_hi) : gp->e_lo;
    if (!gp->cfg.time_varying) h->eps = 0.0;
    for (i = 0; i < BGPBT_GP_MAX_DIM; ++i) { h->lengthscale[i] = 0.0; h->cat_weight[i] = 0.0; }
    for (i = 0; i < gp->ncont; ++i) {
        int r = gp->n_ls > 1 ? i : 0;
        h->lengthscale[gp->cont[i]] = gp->i_ls >= 0 ? bgpbt__clampd(exp(v[gp->i_ls + r]), gp->ls_lo, gp->ls_hi) : gp->ls_lo;
    }
    for (i = 0; i < gp->ncat; ++i) {
        int r = gp->n_cw > 1 ? i : 0;
        h->cat_weight[gp->cat[i]] = gp->i_cw >= 0 ? bgpbt__clampd(exp(v[gp->i_cw + r]), gp->cw_lo, gp->cw_hi) : gp->cw_lo;
    }
}

/* negative LML as the L-BFGS objective at v; +inf when the matrix cannot be factored */
BGPBT__PRIVATE double bgpbt__gp_obj(const bgpbt_gp* gp, const bgpbt__gpws* ws, const double* v, int* evals) {
    bgpbt_gp_hypers h;
    double f;
    (*evals)++;
    bgpbt__gp_v2h(gp, v, &h);
    if (bgpbt__gp_lml(gp, ws, &h, &f) != BGPBT_OK || !(f - f == 0.0)) return HUGE_VAL;
    return -f;
}
/* gradient of the objective at v, right after bgpbt__gp_obj(v) succeeded; 0 if not finite */
BGPBT__PRIVATE int bgpbt__gp_obj_grad(const bgpbt_gp* gp, const bgpbt__gpws* ws, const double* v, double* g) {
    bgpbt_gp_hypers h;
    int q;
    bgpbt__gp_v2h(gp, v, &h);
    bgpbt__gp_lml_grad(gp, ws, &h, g);
    if (gp->i_eps >= 0) { /* d/dv = d/deps (1 - eps) a, a = -log(1 - eps) = exp(v) */
        double a = exp(v[gp->i_eps]);
        g[gp->i_eps] *= exp(-a) * a;
    }
    for (q = 0; q < gp->np; ++q) {
        g[q] = -g[q];
        if (!(g[q] - g[q] == 0.0)) return 0;
    }
    return 1;
}

#define BGPBT__LBFGS_M 8

/* Minimise the negative LML from x (in place) inside the box [lo, hi] by projected L-BFGS:
   a variable at a bound whose gradient pushes outwards is held (active); the two-loop
   recursion runs on the free variables; the line search backtracks along the projected path
   (Armijo on the projected step). Stops when an iteration gains less than gp->cfg.fit_tol
   relatively (scipy's test) or the largest free gradient entry is below 1e-5 (scipy's pgtol).
   Returns the final value (inf if none finite). */
BGPBT__PRIVATE double bgpbt__gp_lbfgs(const bgpbt_gp* gp, const bgpbt__gpws* ws, double* x, const double* lo,
                                      const double* hi, int maxit, int* evals, int* iters) {
    int P = gp->np, it, k, hist = 0, head = 0;
    double g[BGPBT__GP_MAXP], d[BGPBT__GP_MAXP], xn[BGPBT__GP_MAXP], gn[BGPBT__GP_MAXP];
    double S[BGPBT__LBFGS_M][BGPBT__GP_MAXP], Y[BGPBT__LBFGS_M][BGPBT__GP_MAXP];
    double rho[BGPBT__LBFGS_M], al[BGPBT__LBFGS_M];
    unsigned char fr[BGPBT__GP_MAXP];
    double f;
    for (k = 0; k < P; ++k) x[k] = bgpbt__clampd(x[k], lo[k], hi[k]);
    f = bgpbt__gp_obj(gp, ws, x, evals);
    if (!(f < HUGE_VAL) || !bgpbt__gp_obj_grad(gp, ws, x, g)) return HUGE_VAL;
    for (it = 0; it < maxit; ++it) {
        double gd = 0.0, step, gmax = 0.0, dmax = 0.0, fn = HUGE_VAL, sy = 0.0, yy = 0.0, rel;
        int ls, ok = 0;
        for (k = 0; k < P; ++k) {
            fr[k] = !((x[k] <= lo[k] && g[k] > 0.0) || (x[k] >= hi[k] && g[k] < 0.0));
            d[k] = fr[k] ? -g[k] : 0.0;
            if (fabs(d[k]) > gmax) gmax = fabs(d[k]);
        }
        if (gmax <= 1e-5) break;
        /* two-loop recursion on the free variables */
        {
            int m, idx;
            for (m = 0; m < hist; ++m) {
                double s = 0.0;
                idx = (head - 1 - m + BGPBT__LBFGS_M) % BGPBT__LBFGS_M;
                for (k = 0; k < P; ++k) if (fr[k]) s += S[idx][k] * d[k];
                al[idx] = rho[idx] * s;
                for (k = 0; k < P; ++k) if (fr[k]) d[k] -= al[idx] * Y[idx][k];
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
                for (k = 0; k < P; ++k) if (fr[k]) s += Y[idx][k] * d[k];
                s = rho[idx] * s;
                for (k = 0; k < P; ++k) if (fr[k]) d[k] += (al[idx] - s) * S[idx][k];
            }
        }
        for (k = 0; k < P; ++k) { if (!fr[k]) d[k] = 0.0; gd += g[k] * d[k]; }
        if (!(gd < 0.0)) { /* not a descent direction: restart from steepest descent */
            hist = 0;
            gd = 0.0;
            for (k = 0; k < P; ++k) { d[k] = fr[k] ? -g[k] : 0.0; gd -= d[k] * d[k]; }
        }
        for (k = 0; k < P; ++k) if (fabs(d[k]) > dmax) dmax = fabs(d[k]);
        step = hist == 0 ? (gmax > 1.0 ? 1.0 / gmax : 1.0) : 1.0;
        if (step * dmax > 5.0) step = 5.0 / dmax; /* e^5 in a scale per step at most */
        for (ls = 0; ls < 25; ++ls) {
            double dd = 0.0;
            for (k = 0; k < P; ++k) { xn[k] = bgpbt__clampd(x[k] + step * d[k], lo[k], hi[k]); dd += g[k] * (xn[k] - x[k]); }
            if (!(dd < 0.0)) break; /* the projection left no descent */
            fn = bgpbt__gp_obj(gp, ws, xn, evals);
            if (fn < HUGE_VAL && fn <= f + 1e-4 * dd) {
                ok = bgpbt__gp_obj_grad(gp, ws, xn, gn); /* only accepted steps pay for K^{-1} */
                if (!ok) fn = HUGE_VAL;
                break;
            }
            step *= fn < HUGE_VAL ? 0.5 : 0.1;
        }
        if (!ok) {
            if (hist > 0) { hist = 0; continue; } /* retry once along the steepest descent */
            break;
        }
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
        if (rel <= gp->cfg.fit_tol) break;
    }
    return f;
}

BGPBT_API bgpbt_result bgpbt_gp_fit(bgpbt_gp* gp) {
    double xs[BGPBT__GP_MAXWS][BGPBT__GP_MAXP], fs[BGPBT__GP_MAXWS], lo[BGPBT__GP_MAXP], hi[BGPBT__GP_MAXP];
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
    bgpbt__gp_vbox(gp, lo, hi);
    for (s = 0; s < ns; ++s) {
        double raw[BGPBT__GP_MAXP];
        bgpbt_gp_hypers h;
        for (k = 0; k < P; ++k)
            raw[k] = s == 0 ? gp->raw[k] : k == gp->i_mean ? 0.5 * bgpbt_rng_normal(&gp->rng) : bgpbt_rng_uniform(&gp->rng, -3.0, 3.0);
        bgpbt__gp_decode(gp, raw, &h);
        bgpbt__gp_h2v(gp, &h, xs[s]);
    }
    /* one start per thread: long independent runs without barriers (the linear algebra inside
       runs its nested parallel regions on one thread). A start's workspace is its thread's
       (pure scratch, so the result does not depend on which): starts that share a thread
       reuse warm memory instead of faulting in fresh pages (a few thousand per fit at n = 200,
       10-20% of its time on this VM). */
    BGPBT_OMP(parallel for schedule(dynamic, 1) num_threads(ns) if (ns > 1 && gp->n >= 32))
    for (s = 0; s < ns; ++s) {
        int w = 0;
#if BGPBT__HAS_OPENMP
        w = omp_get_thread_num();
#endif
        ev[s] = 0;
        it[s] = 0;
        fs[s] = bgpbt__gp_lbfgs(gp, &gp->ws[w], xs[s], lo, hi, gp->cfg.fit_max_iter, &ev[s], &it[s]);
    }
    for (s = 0; s < ns; ++s) {
        info.starts++;
        info.evaluations += ev[s];
        info.iterations += it[s];
        if (!(fs[s] < HUGE_VAL)) { info.failed_starts++; continue; }
        if (fs[s] < fbest) { fbest = fs[s]; best = s; }
    }
    if (best >= 0) {
        bgpbt_gp_hypers h;
        bgpbt__gp_v2h(gp, xs[best], &h);
        bgpbt__gp_encode(gp, &h, gp->raw);
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

BGPBT_API void bgpbt_gp_get_fit_info(const bgpbt_gp* gp, bgpbt_gp_fit_info* info) {
    if (!info) return;
    if (gp) *info = gp->info;
    else memset(info, 0, sizeof *info);
}
BGPBT_API void bgpbt_gp_get_hypers(const bgpbt_gp* gp, bgpbt_gp_hypers* h) {
    if (!h) return;
    if (gp) *h = gp->h;
    else memset(h, 0, sizeof *h);
}
BGPBT_API int bgpbt_gp_num_params(const bgpbt_gp* gp) { return gp ? gp->np : 0; }
BGPBT_API void bgpbt_gp_get_params(const bgpbt_gp* gp, double* raw) {
    if (gp && raw && gp->np) memcpy(raw, gp->raw, (size_t)gp->np * sizeof(double));
}
BGPBT_API bgpbt_result bgpbt_gp_set_params(bgpbt_gp* gp, const double* raw) {
    int k;
    if (!gp) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!raw) return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "gp_set_params: raw is NULL");
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
    if (!gp) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!h) return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "gp_set_hypers: hypers is NULL");
    if (!(h->mean - h->mean == 0.0) || !(h->outputscale > 0.0) || !(h->noise > 0.0) || !(h->eps >= 0.0 && h->eps < 1.0))
        return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_OUT_OF_RANGE, "gp_set_hypers: mean %g outputscale %g noise %g eps %g", h->mean, h->outputscale, h->noise, h->eps);
    for (i = 0; i < gp->dim; ++i)
        if (!(h->lengthscale[i] >= 0.0 && h->lengthscale[i] < HUGE_VAL) || !(h->cat_weight[i] >= 0.0 && h->cat_weight[i] < HUGE_VAL))
            return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_OUT_OF_RANGE, "gp_set_hypers: lengthscale/weight of dim %d is bad", i);
    memcpy(raw, gp->raw, sizeof raw);
    bgpbt__gp_encode(gp, h, raw);
    return bgpbt_gp_set_params(gp, raw);
}

BGPBT_API int bgpbt_gp_num_data(const bgpbt_gp* gp) { return gp ? gp->n : 0; }
BGPBT_API double bgpbt_gp_noise(const bgpbt_gp* gp) { return gp ? gp->h.noise : 0.0; }
BGPBT_API const double* bgpbt_gp_targets(const bgpbt_gp* gp) { return gp ? gp->y : NULL; }
BGPBT_API bgpbt_result bgpbt_gp_output_affine(const bgpbt_gp* gp, double* shift, double* scale) {
    if (!gp) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!shift || !scale)
        return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "gp_output_affine: shift or scale is NULL");
    *shift = gp->y_shift;
    *scale = gp->y_scale;
    return gp->cfg.output == BGPBT_GP_COPULA ? BGPBT_ERR_UNSUPPORTED : BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_gp_set_pending(bgpbt_gp* gp, const double* Xp, const double* tp, int np) {
    bgpbt_result r;
    int i;
    if (!gp) return BGPBT_ERR_INVALID_ARGUMENT;
    if (np < 0 || (np > 0 && !Xp)) return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "gp_set_pending: np < 0 or Xp NULL");
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
#if defined(BGPBT__D4)
    if (gp->ncat == 0 && m >= 8 && N > 0) {
        /* continuous kernels, 4 data points at a time: the factored rows' features transposed
           into the (idle) likelihood scratch gp->z, rows padded to a multiple of 4 */
        int nc = gp->ncont, ld = gp->cap, Np = (N + 3) & ~3, i;
        double* zT = gp->z;
        for (c = 0; c < nc; ++c) {
            for (i = 0; i < N; ++i) zT[(size_t)c * ld + i] = gp->zf[(size_t)i * zs + c];
            for (; i < Np; ++i) zT[(size_t)c * ld + i] = 0.0;
        }
        for (c = 0; c < m; ++c) {
            double zc[BGPBT_GP_MAX_DIM + 1];
            double tc = t ? t[c] : gp->t_latest;
            double* row = gp->kc + (size_t)c * gp->cap;
            __m256d sv = _mm256_set1_pd(K->s), hl = _mm256_set1_pd(K->half_log1me), tv = _mm256_set1_pd(tc), sgn = _mm256_set1_pd(-0.0);
            int cc;
            bgpbt__gp_feat(gp, K, X + (size_t)c * gp->dim, zc);
            for (i = 0; i < Np; i += 4) {
                __m256d r2 = _mm256_setzero_pd(), kx, kt = _mm256_set1_pd(1.0);
                for (cc = 0; cc < nc; ++cc) {
                    __m256d d = _mm256_sub_pd(_mm256_set1_pd(zc[cc]), _mm256_loadu_pd(zT + (size_t)cc * ld + i));
                    r2 = _mm256_fmadd_pd(d, d, r2);
                }
                if (K->matern) {
                    __m256d r = _mm256_sqrt_pd(_mm256_mul_pd(_mm256_set1_pd(5.0), r2));
                    __m256d e = bgpbt__exp4_neg(_mm256_sub_pd(_mm256_setzero_pd(), r));
                    kx = _mm256_mul_pd(_mm256_fmadd_pd(_mm256_set1_pd(5.0 / 3.0), r2, _mm256_add_pd(_mm256_set1_pd(1.0), r)), e);
                } else {
                    kx = bgpbt__exp4_neg(_mm256_mul_pd(_mm256_set1_pd(-0.5), r2));
                }
                if (K->tv) kt = bgpbt__exp4_neg(_mm256_mul_pd(_mm256_andnot_pd(sgn, _mm256_sub_pd(tv, _mm256_loadu_pd(gp->t + i))), hl));
                _mm256_storeu_pd(row + i, _mm256_mul_pd(_mm256_mul_pd(sv, kx), kt));
            }
            if (kss) kss[c] = bgpbt__gp_kself(K);
        }
        return;
    }
#endif
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
    if (!gp) return BGPBT_ERR_INVALID_ARGUMENT;
    if (m < 0 || (m > 0 && !X)) return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "gp_predict: m = %d, X %p", m, (const void*)X);
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
    if (Nv == 0) { /* no data yet: the prior (and no data buffers to touch) */
        double kss0 = bgpbt__gp_kself(&K);
        for (c0 = 0; c0 < m; ++c0) {
            if (mean) mean[c0] = gp->h.mean;
            if (var) var[c0] = kss0;
        }
        return BGPBT_OK;
    }
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
    int n, Nv, i, c, zs;
    const double *Linv, *L;
    if (!gp) return BGPBT_ERR_INVALID_ARGUMENT;
    zs = gp->dim + 1;
    if (!x) return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "gp_predict_grad: x is NULL");
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
    if (Nv == 0) { /* no data yet: the prior, flat */
        if (mean) *mean = gp->h.mean;
        if (var) *var = bgpbt__gp_kself(&K);
        for (i = 0; i < gp->dim; ++i) {
            if (dmean) dmean[i] = 0.0;
            if (dvar) dvar[i] = 0.0;
        }
        return BGPBT_OK;
    }
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
    if (!gp) return BGPBT_ERR_INVALID_ARGUMENT;
    if (m < 0 || ns < 0 || (m > 0 && (!X || !out || !rng)))
        return bgpbt__error(&gp->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "gp_sample: m = %d, ns = %d, X, out and rng must not be NULL", m, ns);
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
    if (!s) return;
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
    if (!s) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!p) return bgpbt__error(&s->logger, BGPBT_ERR_INVALID_ARGUMENT, "space: the parameter is NULL");
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
    if (!s) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!name) return bgpbt__error(&s->logger, BGPBT_ERR_INVALID_ARGUMENT, "space: a parameter needs a name");
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
    if (!s) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!name) return bgpbt__error(&s->logger, BGPBT_ERR_INVALID_ARGUMENT, "space: the name is NULL");
    for (i = 0; i < s->dim; ++i)
        if (!strcmp(s->params[i].name, name)) { if (index) *index = i; return BGPBT_OK; }
    return bgpbt__error(&s->logger, BGPBT_ERR_UNKNOWN_NAME, "space: no parameter named '%s'", name);
}

BGPBT_API bgpbt_result bgpbt_bo_space_check(const bgpbt_bo_space* s, const double* v) {
    int i;
    if (!s) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!v) return bgpbt__error(&s->logger, BGPBT_ERR_INVALID_ARGUMENT, "space: the values are NULL");
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
    if (!u) return bgpbt__error(&s->logger, BGPBT_ERR_INVALID_ARGUMENT, "bo_space_encode: u is NULL");
    for (i = 0; i < s->dim; ++i) u[i] = bgpbt__bo_enc1(&s->params[i], values[i]);
    return BGPBT_OK;
}
BGPBT_API void bgpbt_bo_space_decode(const bgpbt_bo_space* s, const double* u, double* values) {
    int i;
    if (!s || !u || !values) return;
    for (i = 0; i < s->dim; ++i) values[i] = bgpbt__bo_dec1(&s->params[i], u[i]);
}
BGPBT_API void bgpbt_bo_space_sample(const bgpbt_bo_space* s, bgpbt_rng* rng, double* values) {
    int i;
    if (!s || !rng || !values) return;
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
    c.guided_restart = 1;
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
    c.guided_restart = 0;
    return c;
}

/* ---- the optimiser ------------------------------------------------------------------------- */

#define BGPBT__BO_NFAIL 16
#define BGPBT__BO_NRB 32 /* region bests kept for guided restarts */

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
    /* guided restarts: the best point of each finished region (ring), the chosen centre */
    int nrb, rb_head, have_gc;
    double rb_vals[BGPBT__BO_NRB * BGPBT_BO_MAX_DIM], rb_y[BGPBT__BO_NRB];
    double gc_vals[BGPBT_BO_MAX_DIM];
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

BGPBT_API const bgpbt_bo_space* bgpbt_bo_get_space(const bgpbt_bo* bo) { return bo ? &bo->space : NULL; }
BGPBT_API bgpbt_gp* bgpbt_bo_get_gp(bgpbt_bo* bo) { return bo ? bo->gp : NULL; }
BGPBT_API bgpbt_rng* bgpbt_bo_get_rng(bgpbt_bo* bo) { return bo ? &bo->rng : NULL; }
BGPBT_API int bgpbt_bo_num_observations(const bgpbt_bo* bo) { return bo ? bo->n : 0; }

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
    if (!bgpbt__isfinite(c.beta) || !bgpbt__isfinite(c.step_size))
        return bgpbt__error(log, BGPBT_ERR_NOT_FINITE, "bo_create: beta %g or step_size %g is not finite", c.beta, c.step_size);
    if (c.beta <= 0.0) c.beta = 3.0;
    if (c.n_init <= 0) { c.n_init = 2 * nfree; if (c.n_init < 4) c.n_init = 4; if (c.n_init > 20) c.n_init = 20; }
    if (c.n_restarts <= 0) c.n_restarts = 3;
    if (c.n_steps < 0) c.n_steps = 0; else if (c.n_steps == 0) c.n_steps = 40;
    if (c.n_steps > BGPBT_BO_MAX_STEPS)
        return bgpbt__error(log, BGPBT_ERR_OUT_OF_RANGE, "bo_create: n_steps %d exceeds %d", c.n_steps, BGPBT_BO_MAX_STEPS);
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
    int restarts, sh, ex;
    if (!bo) return;
    restarts = bo->tr.restarts;
    sh = bo->tr.shrinks;
    ex = bo->tr.expansions;
    memset(&bo->tr, 0, sizeof bo->tr);
    bo->tr.length = bo->cfg.tr.length_init;
    bo->tr.cat_length = bo->cfg.tr.cat_length_init;
    bo->tr.restarts = restarts;
    bo->tr.shrinks = sh;
    bo->tr.expansions = ex;
}

BGPBT_API int bgpbt_bo_tr_report(bgpbt_bo* bo, int success) {
    const bgpbt_bo_tr_config* c;
    int ncat = 0, i;
    if (!bo) return 0;
    c = &bo->cfg.tr;
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

BGPBT_API void bgpbt_bo_tr_get(const bgpbt_bo* bo, bgpbt_bo_tr_state* state) {
    if (!state) return;
    if (bo) *state = bo->tr;
    else memset(state, 0, sizeof *state);
}
BGPBT_API bgpbt_result bgpbt_bo_tr_set(bgpbt_bo* bo, const bgpbt_bo_tr_state* s) {
    if (!bo) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!s) return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "bo_tr_set: state is NULL");
    if (!(s->length > 0.0 && s->length < HUGE_VAL) || !(s->cat_length > 0.0 && s->cat_length < HUGE_VAL) ||
        s->succ < 0 || s->fail < 0 || s->restarts < 0)
        return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_OUT_OF_RANGE, "bo_tr_set: bad state (length %g, cat_length %g, succ %d, fail %d)", s->length, s->cat_length, s->succ, s->fail);
    bo->tr = *s;
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_bo_guided_center(const bgpbt_bo* bo, double* values) {
    if (!bo || !values) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!bo->have_gc) return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_WRONG_ORDER, "bo_guided_center: the current region did not start from a guided restart");
    memcpy(values, bo->gc_vals, (size_t)bo->dim * sizeof(double));
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_bo_tr_box(const bgpbt_bo* bo, double* lo, double* hi, int* hamming) {
    if (!bo) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!bo->have_box) return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_WRONG_ORDER, "bo_tr_box: no suggestion made yet");
    if (lo) memcpy(lo, bo->box_lo, (size_t)bo->dim * sizeof(double));
    if (hi) memcpy(hi, bo->box_hi, (size_t)bo->dim * sizeof(double));
    if (hamming) *hamming = bo->hamming;
    return BGPBT_OK;
}

BGPBT_API bgpbt_result bgpbt_bo_best(const bgpbt_bo* bo, double* values, double* y) {
    if (!bo) return BGPBT_ERR_INVALID_ARGUMENT;
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
    if (!bo) return BGPBT_ERR_INVALID_ARGUMENT;
    if (n < 0 || (n > 0 && (!values || !y)))
        return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "bo_set_data: n = %d, values and y must not be NULL", n);
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
    bo->nrb = bo->rb_head = bo->have_gc = 0;
    bo->init_pos = bo->cfg.n_init; /* a scheduler supplies its own data: no initial design */
    return BGPBT_OK;
}

BGPBT_API void bgpbt_bo_clear_pending(bgpbt_bo* bo) { if (bo) bo->npend = 0; }

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
    if (!bo) return BGPBT_ERR_INVALID_ARGUMENT;
    if (q < 1 || !values) return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "bo_suggest: q = %d (>= 1) and values must not be NULL", q);
    if (req && (req->n_pending < 0 || (req->n_pending > 0 && !req->pending)))
        return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "bo_suggest: n_pending = %d with NULL pending", req->n_pending);
    return bgpbt__bo_propose(bo, req, q, values, 0);
}

/* Latin hypercube point i of the region's initial design (strata permuted per dim from a
   stream derived from the region number, so the design needs no storage). After a guided
   restart: point 0 is the guided centre, the others are strata of the initial box around it
   (categorical dims: the centre's, up to the initial Hamming radius of them resampled). */
BGPBT__PRIVATE void bgpbt__bo_init_point(bgpbt_bo* bo, int idx, const double* ctx, double* v) {
    int i, n = bo->cfg.n_init, ncat = 0, radius = 0;
    double cu[BGPBT_BO_MAX_DIM];
    if (bo->have_gc) {
        for (i = 0; i < bo->dim; ++i) {
            const bgpbt_bo_param* p = &bo->space.params[i];
            cu[i] = bgpbt__bo_auto(p) ? 0.5 : bgpbt__bo_enc1(p, bo->gc_vals[i]);
            if (p->type == BGPBT_BO_CATEGORICAL) ncat++;
        }
        radius = bo->cfg.tr.cat_fraction ? (int)floor(bo->cfg.tr.cat_length_init * ncat + 0.5) : (int)bo->cfg.tr.cat_length_init;
        if (radius < 1) radius = 1;
    }
    for (i = 0; i < bo->dim; ++i) {
        const bgpbt_bo_param* p = &bo->space.params[i];
        bgpbt_rng r;
        int perm[256], stratum;
        bgpbt_rng_init(&r, bo->cfg.seed ^ 0x1a7e5ull, (uint64_t)bo->tr.restarts * 1024u + (uint64_t)i);
        if (n <= 256) { bgpbt_rng_permutation(&r, perm, n); stratum = perm[idx % n]; }
        else stratum = idx % n;
        if (p->is_context) continue;
        if (bo->have_gc) {
            if (idx == 0 || p->type == BGPBT_BO_CATEGORICAL) v[i] = bo->gc_vals[i];
            else {
                double lo = bgpbt__clampd(cu[i] - 0.5 * bo->cfg.tr.length_init, 0.0, 1.0);
                double hi = bgpbt__clampd(cu[i] + 0.5 * bo->cfg.tr.length_init, 0.0, 1.0);
                v[i] = bgpbt__bo_dec1(p, lo + (hi - lo) * (stratum + bgpbt_rng_double(&bo->rng)) / n);
            }
        } else if (p->type == BGPBT_BO_CATEGORICAL) v[i] = (double)(stratum % p->num_choices);
        else v[i] = bgpbt__bo_dec1(p, (stratum + bgpbt_rng_double(&bo->rng)) / n);
    }
    if (bo->have_gc && idx > 0 && ncat > 0) { /* resample up to `radius` categorical dims */
        int order[BGPBT_BO_MAX_DIM], k, changed = 0;
        bgpbt_rng_permutation(&bo->rng, order, bo->dim);
        for (k = 0; k < bo->dim && changed < radius; ++k) {
            const bgpbt_bo_param* p = &bo->space.params[order[k]];
            if (p->type != BGPBT_BO_CATEGORICAL || p->is_context) continue;
            v[order[k]] = (double)bgpbt_rng_below(&bo->rng, (uint32_t)p->num_choices);
            changed++;
        }
    }
    for (i = 0; i < bo->nctx; ++i) {
        const bgpbt_bo_param* p = &bo->space.params[bo->ctx[i]];
        v[bo->ctx[i]] = ctx ? ctx[i] : (bgpbt__bo_auto(p) ? 0.0 : bgpbt__bo_dec1(p, 0.5));
    }
}

/* CASMOPOLITAN's guided restart: the centre (values) minimising mu - 1.96 sigma of an auxiliary
   GP trained on the region bests, over min(100 d, 5000) uniform random points. */
BGPBT__PRIVATE bgpbt_result bgpbt__bo_guide(bgpbt_bo* bo, double* center) {
    const bgpbt_allocator* A = &bo->cfg.allocator;
    enum { CH = 256 };
    bgpbt_gp_config g = bo->cfg.gp;
    bgpbt_gp* aux = NULL;
    double *U = NULL, *C = NULL, *mu = NULL, *var = NULL, bestu[BGPBT_BO_MAX_DIM], ctxu[BGPBT_BO_MAX_DIM], abest = HUGE_VAL;
    int dim = bo->dim, i, k, nfree = 0, ncand, done, rbest = 0;
    bgpbt_result r;
    for (i = 0; i < dim; ++i) if (!bo->space.params[i].is_context) nfree++;
    ncand = 100 * nfree < 5000 ? 100 * nfree : 5000;
    g.dim = dim;
    for (i = 0; i < BGPBT_GP_MAX_DIM; ++i) g.num_categories[i] = 0;
    for (i = 0; i < dim; ++i)
        if (bo->space.params[i].type == BGPBT_BO_CATEGORICAL) g.num_categories[i] = bo->space.params[i].num_choices;
    g.ard = 0;
    g.time_varying = 0;
    g.allocator = bo->cfg.allocator;
    g.logger = bo->cfg.logger;
    if (!g.seed) g.seed = bo->cfg.seed ^ 0x5eedull;
    r = bgpbt_gp_create(&g, &aux);
    if (r != BGPBT_OK) return r;
    U = (double*)bgpbt__calloc(A, (size_t)bo->nrb, sizeof(double) * (size_t)dim);
    C = (double*)bgpbt__calloc(A, (size_t)CH, sizeof(double) * (size_t)dim);
    mu = (double*)bgpbt__calloc(A, (size_t)CH, sizeof(double));
    var = (double*)bgpbt__calloc(A, (size_t)CH, sizeof(double));
    if (!U || !C || !mu || !var) { r = bgpbt__error(&bo->cfg.logger, BGPBT_ERR_OUT_OF_MEMORY, "bo: out of memory in a guided restart"); goto done; }
    for (k = 0; k < bo->nrb; ++k) {
        r = bgpbt_bo_space_encode(&bo->space, bo->rb_vals + (size_t)k * dim, U + (size_t)k * dim);
        if (r != BGPBT_OK) goto done;
        if (bo->rb_y[k] < bo->rb_y[rbest]) rbest = k;
    }
    memcpy(ctxu, U + (size_t)rbest * dim, (size_t)dim * sizeof(double));
    r = bgpbt_gp_set_data(aux, U, NULL, bo->rb_y, bo->nrb);
    if (r != BGPBT_OK) goto done;
    if (bo->nrb >= 2 && bgpbt_gp_fit(aux) != BGPBT_OK) {
        r = bgpbt_gp_set_data(aux, U, NULL, bo->rb_y, bo->nrb); /* fit failed: the prior hyperparameters */
        if (r != BGPBT_OK) goto done;
    }
    for (done = 0; done < ncand; done += CH) {
        int m = ncand - done < CH ? ncand - done : CH;
        for (k = 0; k < m; ++k) {
            double* u = C + (size_t)k * dim;
            for (i = 0; i < dim; ++i) {
                const bgpbt_bo_param* p = &bo->space.params[i];
                if (p->is_context) u[i] = ctxu[i];
                else if (p->type == BGPBT_BO_CATEGORICAL) u[i] = (double)bgpbt_rng_below(&bo->rng, (uint32_t)p->num_choices);
                else u[i] = bgpbt__bo_snap(p, bgpbt_rng_double(&bo->rng));
            }
        }
        r = bgpbt_gp_predict(aux, C, NULL, m, mu, var);
        if (r != BGPBT_OK) goto done;
        for (k = 0; k < m; ++k) {
            double a = mu[k] - 1.96 * sqrt(var[k]);
            if (a < abest) { abest = a; memcpy(bestu, C + (size_t)k * dim, (size_t)dim * sizeof(double)); }
        }
    }
    if (!(abest < HUGE_VAL)) { r = BGPBT_ERR_NOT_FINITE; goto done; }
    bgpbt_bo_space_decode(&bo->space, bestu, center);
    for (i = 0; i < dim; ++i) /* context dims: those of the best region best */
        if (bo->space.params[i].is_context) center[i] = bo->rb_vals[(size_t)rbest * dim + i];
done:
    bgpbt_gp_destroy(aux);
    bgpbt__cfree(A, U, (size_t)bo->nrb, sizeof(double) * (size_t)dim);
    bgpbt__cfree(A, C, (size_t)CH, sizeof(double) * (size_t)dim);
    bgpbt__cfree(A, mu, (size_t)CH, sizeof(double));
    bgpbt__cfree(A, var, (size_t)CH, sizeof(double));
    return r;
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
    if (!bo) return BGPBT_ERR_INVALID_ARGUMENT;
    if (q < 1 || !values) return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "bo_ask: q = %d (>= 1) and values must not be NULL", q);
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
        int i, bi = -1;
        bgpbt__log(&bo->cfg.logger, BGPBT_LOG_INFO, "bo: trust region collapsed (length %g); restart %d", bo->tr.length, bo->tr.restarts + 1);
        for (i = bo->region_start; i < bo->n; ++i) if (bi < 0 || bo->y[i] < bo->y[bi]) bi = i;
        if (bi >= 0) { /* remember the region's best for guided restarts */
            memcpy(bo->rb_vals + (size_t)bo->rb_head * bo->dim, bo->vals + (size_t)bi * bo->dim, (size_t)bo->dim * sizeof(double));
            bo->rb_y[bo->rb_head] = bo->y[bi];
            bo->rb_head = (bo->rb_head + 1) % BGPBT__BO_NRB;
            if (bo->nrb < BGPBT__BO_NRB) bo->nrb++;
        }
        bo->have_gc = 0;
        if (bo->cfg.tr.guided_restart && bo->nrb > 0) {
            bgpbt_result r = bgpbt__bo_guide(bo, bo->gc_vals);
            if (r == BGPBT_OK) bo->have_gc = 1;
            else bgpbt__log(&bo->cfg.logger, BGPBT_LOG_WARN, "bo: guided restart failed (%s); random initial design", bgpbt_result_string(r));
        }
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
    if (!bo) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!values) return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "bo_tell: values is NULL");
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
    if (!bo) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!f || n_evals < 0) return bgpbt__error(&bo->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "bo_minimize: f is NULL or n_evals < 0");
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
    double lo, hi, u;
    if (!p) return 0.0;
    lo = p->lo;
    hi = p->hi;
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
    double lo, hi, v;
    if (!p) return 0.0;
    lo = p->lo;
    hi = p->hi;
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
        if (p->type == BGPBT_PBT_INT && (fabs(p->lo) > 1e9 || fabs(p->hi) > 1e9)) /* they become ints */
            return bgpbt__error(log, BGPBT_ERR_OUT_OF_RANGE, "pbt: integer parameter '%.31s' has bounds beyond 1e9", p->name);
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
    /* acq_steps is bounded so that a corrupt or hostile saved state cannot make one ask run
       for minutes (the fuzzer found a state with 4.2M steps: 10 s per ask) */
    if (c->tr_succtol < 1 || c->tr_failtol < 1 || c->gp_window < 2 || c->gp_window > 100000 || c->acq_restarts < 1 ||
        c->acq_steps < 1 || c->acq_steps > BGPBT_BO_MAX_STEPS || c->min_gp_points < 1 || !(c->lcb_beta >= 0) ||
        !(c->pb2_c2 > 0))
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
    /* release: ids held after the last round that no job produces and no job distils from,
       and (training rounds) that are not members sitting this round out (budget used up) */
    for (k = 0; k < s->n_alive; ++k) {
        int id = s->alive[k], needed = 0, i;
        for (j = 0; j < n && !needed; ++j) needed = s->jobs[j].agent == id || s->jobs[j].teacher == id;
        if (kind == BGPBT_PBT_ROUND_TRAIN)
            for (i = 0; i < s->n_pop && !needed; ++i) needed = s->pop[i].id == id && !s->pop[i].dead;
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
    /* sources must have budget left: a copy of a finished agent would never train (and,
       having no job, would never be made) */
    for (k = 0; k < nq; ++k)
        if (bgpbt__pbt_score(&s->pop[order[k]]) > -HUGE_VAL && s->pop[order[k]].steps < c->max_steps) top[n_top++] = order[k];
    for (k = 0; k < n_alive; ++k) {
        int i2 = order[k];
        if (k >= n_alive - nq || s->pop[i2].failed) replace[i2] = 1;
    }
    for (k = 0; k < n_top; ++k) replace[top[k]] = 0;
    if (n_top == 0) {
        int all_failed = 1;
        for (i = 0; i < s->n_pop; ++i) if (!s->pop[i].dead && !s->pop[i].failed) all_failed = 0;
        if (!all_failed) { /* the best have no budget left: no exploit, everyone continues */
            for (i = 0; i < s->n_pop; ++i) {
                bgpbt__pbt_member* m = &s->pop[i];
                if (m->dead) continue;
                m->parent = m->id;
                m->teacher = -1;
                m->source = BGPBT_PBT_SRC_PREVIOUS;
                m->ret_before = m->ret;
                m->steps_before = m->steps;
            }
            return;
        }
        /* every agent failed: start again from scratch, keeping slots */
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
            /* only with room to train the new generation after its distillation */
            if ((s->stall >= c->patience || tmax - s->gen_start > c->distill_every) &&
                tmax + c->distill_budget + bgpbt__pbt_tready(s, tmax) <= c->max_steps) {
                int n_students = c->n_arch_candidates + s->n_archive + 1;
                long long cost = bgpbt__pbt_sh_cost(c, n_students);
                if (c->max_total_steps <= 0 || s->total_steps + cost <= c->max_total_steps) s->switch_pending = 1;
            }
        }
    }
}

BGPBT_API bgpbt_result bgpbt_pbt_ask(bgpbt_pbt* s, const bgpbt_pbt_round** round) {
    bgpbt_result r;
    if (!s) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!round) return bgpbt__error(&s->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "pbt_ask: round is NULL");
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
    /* BO context dims: BG-PBT [architecture..., R_before]; PB2 [R_before] (its time column is
       the kernel's time input, not a context dim) */
    int n_hp = c->n_hp, n_ctx = pb2 ? 1 : g->n_ctx, dim = n_hp + n_ctx, i, k, tag = BGPBT_PBT_SRC_RANDOM;
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
    bc.logger = c->logger;
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
    bc.gp.logger = c->logger;
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
    if (!s) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!size) return bgpbt__error(&s->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "pbt_save: size is NULL");
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
    if (!target) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!data) return bgpbt__error(&target->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "pbt_load: data is NULL");
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
        /* job_member indexes the member lists only while the round is open: a closed init or
           distillation round has already moved its candidates into the population */
        if ((s->round_open && (s->job_member[i] < 0 || s->job_member[i] >= lim)) || s->res_steps[i] < 0) bad = 1;
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
    if (!s) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!path) return bgpbt__error(&s->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "pbt_write_csv: path is NULL");
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

/* ---- the built-in runner -------------------------------------------------------------------- */

BGPBT_API bgpbt_pbt_run_config bgpbt_pbt_run_config_default(void) {
    bgpbt_pbt_run_config c;
    memset(&c, 0, sizeof c);
    c.pbt = bgpbt_pbt_config_default();
    c.agent = bgpbt_agent_config_default();
    c.progress = 1;
    return c;
}

BGPBT__PRIVATE int bgpbt__pbt_name_is(const bgpbt_pbt_param* p, const char* a, const char* b) {
    return !strcmp(p->name, a) || (b && !strcmp(p->name, b));
}

BGPBT_API void bgpbt_pbt_ppo_hparams(const bgpbt_pbt_config* c, const double* hp, const bgpbt_ppo_hparams* base,
                                     bgpbt_ppo_hparams* out) {
    int k;
    if (!out) return;
    *out = base ? *base : bgpbt_ppo_hparams_default();
    if (!c || !hp) return;
    for (k = 0; k < c->n_hp; ++k) {
        const bgpbt_pbt_param* p = &c->hp[k];
        double v = hp[k];
        if (bgpbt__pbt_name_is(p, "lr", "learning_rate")) out->learning_rate = v;
        else if (bgpbt__pbt_name_is(p, "gamma", "discount")) out->discount = v;
        else if (bgpbt__pbt_name_is(p, "entropy_cost", NULL)) out->entropy_cost = v;
        else if (bgpbt__pbt_name_is(p, "unroll_length", NULL)) out->unroll_length = (int)floor(v + 0.5);
        else if (bgpbt__pbt_name_is(p, "log2_batch_size", NULL)) out->batch_size = 1 << (int)floor(v + 0.5);
        else if (bgpbt__pbt_name_is(p, "batch_size", NULL)) out->batch_size = (int)floor(v + 0.5);
        else if (bgpbt__pbt_name_is(p, "num_update_epochs", "update_epochs")) out->update_epochs = (int)floor(v + 0.5);
        else if (bgpbt__pbt_name_is(p, "reward_scaling", NULL)) out->reward_scaling = v;
        else if (bgpbt__pbt_name_is(p, "gae_lambda", "lambda")) out->gae_lambda = v;
        else if (bgpbt__pbt_name_is(p, "clip_epsilon", "ppo_epsilon")) out->clip_epsilon = v;
        else if (bgpbt__pbt_name_is(p, "num_minibatches", NULL)) out->num_minibatches = (int)floor(v + 0.5);
    }
}

BGPBT_API void bgpbt_pbt_ppo_arch(const bgpbt_pbt_config* c, const int* arch, const bgpbt_ppo_arch* base,
                                  bgpbt_ppo_arch* out) {
    int k;
    if (!out) return;
    *out = base ? *base : bgpbt_ppo_arch_default();
    if (!c || !arch) return;
    for (k = 0; k < c->n_arch; ++k) {
        const bgpbt_pbt_param* p = &c->arch[k];
        int v = arch[k];
        if (bgpbt__pbt_name_is(p, "policy_layers", NULL)) out->policy_layers = v;
        else if (bgpbt__pbt_name_is(p, "policy_log2_width", NULL)) out->policy_width = 1 << v;
        else if (bgpbt__pbt_name_is(p, "policy_width", NULL)) out->policy_width = v;
        else if (bgpbt__pbt_name_is(p, "value_layers", NULL)) out->value_layers = v;
        else if (bgpbt__pbt_name_is(p, "value_log2_width", NULL)) out->value_width = 1 << v;
        else if (bgpbt__pbt_name_is(p, "value_width", NULL)) out->value_width = v;
    }
}

/* PPO agents as runner ops; user = the run context (config and resolved scheduler config). */
typedef struct bgpbt__pbt_ppo_ctx {
    bgpbt_agent_config agent;
    bgpbt_pbt_config pbt;
} bgpbt__pbt_ppo_ctx;

BGPBT__PRIVATE bgpbt_result bgpbt__pbt_ppo_create(void* user, const int* arch, const double* hp, uint64_t seed, void** out) {
    const bgpbt__pbt_ppo_ctx* x = (const bgpbt__pbt_ppo_ctx*)user;
    bgpbt_agent_config ac = x->agent;
    bgpbt_agent* a = NULL;
    bgpbt_result r;
    bgpbt_pbt_ppo_hparams(&x->pbt, hp, &x->agent.hparams, &ac.hparams);
    bgpbt_pbt_ppo_arch(&x->pbt, arch, &x->agent.arch, &ac.arch);
    ac.seed = seed;
    r = bgpbt_agent_create(&ac, &a);
    *out = a;
    return r;
}
BGPBT__PRIVATE void bgpbt__pbt_ppo_destroy(void* user, void* agent) {
    (void)user;
    bgpbt_agent_destroy((bgpbt_agent*)agent);
}
BGPBT__PRIVATE bgpbt_result bgpbt__pbt_ppo_clone(void* user, const void* src, uint64_t seed, void** out) {
    const bgpbt__pbt_ppo_ctx* x = (const bgpbt__pbt_ppo_ctx*)user;
    bgpbt_agent_config ac = x->agent;
    bgpbt_agent* a = NULL;
    bgpbt_result r;
    ac.arch = bgpbt_agent_get_arch((const bgpbt_agent*)src);
    ac.hparams = bgpbt_agent_get_hparams((const bgpbt_agent*)src);
    ac.seed = seed;
    r = bgpbt_agent_create(&ac, &a);
    if (r == BGPBT_OK) r = bgpbt_agent_copy_from(a, (const bgpbt_agent*)src);
    if (r != BGPBT_OK) {
        bgpbt_agent_destroy(a);
        *out = NULL;
        return r;
    }
    bgpbt_agent_reseed(a, seed);
    *out = a;
    return BGPBT_OK;
}
BGPBT__PRIVATE bgpbt_result bgpbt__pbt_ppo_train(void* user, void* agent, const void* teacher, const bgpbt_pbt_job* job,
                                                 double* ret, long long* steps_run) {
    const bgpbt__pbt_ppo_ctx* x = (const bgpbt__pbt_ppo_ctx*)user;
    bgpbt_agent* a = (bgpbt_agent*)agent;
    bgpbt_ppo_hparams h;
    bgpbt_agent_stats before, after;
    bgpbt_result r;
    double mean = (double)NAN;
    bgpbt_pbt_ppo_hparams(&x->pbt, job->hp, &x->agent.hparams, &h);
    r = bgpbt_agent_set_hparams(a, &h);
    if (r != BGPBT_OK) return r;
    bgpbt_agent_get_stats(a, &before);
    if (teacher) {
        bgpbt_distill_config d = bgpbt_distill_config_default();
        d.alpha_start = x->pbt.distill_alpha_start;
        d.alpha_end = x->pbt.distill_alpha_end;
        d.anneal_steps = (long long)(x->pbt.distill_anneal_frac * (double)job->distill_total);
        if (d.anneal_steps < 1) d.anneal_steps = 1;
        r = bgpbt_agent_distill(a, (const bgpbt_agent*)teacher, &d, job->steps);
    } else {
        r = bgpbt_agent_train(a, job->steps);
    }
    bgpbt_agent_get_stats(a, &after);
    *steps_run = (after.env_steps - before.env_steps) + (after.distill_steps - before.distill_steps);
    if (teacher && after.distill_steps - before.distill_steps > 0 && after.env_steps != before.env_steps)
        *steps_run = after.distill_steps - before.distill_steps > after.env_steps - before.env_steps
                         ? after.distill_steps - before.distill_steps : after.env_steps - before.env_steps;
    if (*steps_run <= 0) *steps_run = job->steps;
    if (r != BGPBT_OK) return r;
    r = bgpbt_agent_evaluate(a, &mean, NULL);
    *ret = mean;
    return r;
}
BGPBT__PRIVATE bgpbt_result bgpbt__pbt_ppo_save(void* user, const void* agent, void* buf, size_t cap, size_t* size) {
    (void)user;
    return bgpbt_agent_save((const bgpbt_agent*)agent, buf, cap, size);
}
BGPBT__PRIVATE bgpbt_result bgpbt__pbt_ppo_load(void* user, const void* data, size_t size, void** out) {
    const bgpbt__pbt_ppo_ctx* x = (const bgpbt__pbt_ppo_ctx*)user;
    bgpbt_agent_config ac = x->agent;
    bgpbt_agent* a = NULL;
    bgpbt_result r = bgpbt_agent_create(&ac, &a);
    if (r == BGPBT_OK) r = bgpbt_agent_load(a, data, size);
    if (r != BGPBT_OK) {
        bgpbt_agent_destroy(a);
        a = NULL;
    }
    *out = a;
    return r;
}

/* The agents the runner holds, by id. */
typedef struct bgpbt__pbt_table {
    int n, cap;
    int* ids;
    void** agents;
} bgpbt__pbt_table;

BGPBT__PRIVATE void** bgpbt__pbt_table_find(bgpbt__pbt_table* t, int id) {
    int i;
    for (i = 0; i < t->n; ++i) if (t->ids[i] == id) return &t->agents[i];
    return NULL;
}
BGPBT__PRIVATE bgpbt_result bgpbt__pbt_table_put(bgpbt__pbt_table* t, int id, void* agent) {
    if (t->n == t->cap) return BGPBT_ERR_LIMIT;
    t->ids[t->n] = id;
    t->agents[t->n] = agent;
    t->n++;
    return BGPBT_OK;
}
BGPBT__PRIVATE void* bgpbt__pbt_table_take(bgpbt__pbt_table* t, int id) {
    int i;
    for (i = 0; i < t->n; ++i)
        if (t->ids[i] == id) {
            void* a = t->agents[i];
            t->ids[i] = t->ids[t->n - 1];
            t->agents[i] = t->agents[t->n - 1];
            t->n--;
            return a;
        }
    return NULL;
}

#define BGPBT__RUN_KIND BGPBT_FOURCC('R', 'U', 'N', ' ')

/* Checkpoint: the scheduler and every held agent, in one container. */
BGPBT__PRIVATE bgpbt_result bgpbt__pbt_checkpoint(const bgpbt_pbt* s, const bgpbt_pbt_agent_ops* ops, const bgpbt__pbt_table* t,
                                                  const char* path, const bgpbt_logger* log) {
    const bgpbt_allocator* A = &s->cfg.allocator;
    size_t total = BGPBT_CONTAINER_HEADER_SIZE + 16, sz = 0;
    size_t* sizes = NULL;
    unsigned char* buf = NULL;
    bgpbt_writer w;
    bgpbt_result r;
    int i;
    char prev[4200];
    sizes = (size_t*)bgpbt__calloc(A, (size_t)t->n + 1, sizeof(size_t));
    if (!sizes) return BGPBT_ERR_OUT_OF_MEMORY;
    r = bgpbt_pbt_save(s, NULL, 0, &sizes[t->n]);
    total += sizes[t->n] + 8;
    for (i = 0; i < t->n && r == BGPBT_OK; ++i) {
        r = ops->save(ops->user, t->agents[i], NULL, 0, &sizes[i]);
        total += sizes[i] + 12;
    }
    if (r == BGPBT_OK) {
        buf = (unsigned char*)bgpbt_mem_alloc(A, total, 64);
        if (!buf) r = BGPBT_ERR_OUT_OF_MEMORY;
    }
    if (r == BGPBT_OK) {
        memset(&w, 0, sizeof w);
        w.buf = buf;
        w.cap = total;
        bgpbt_container_begin(&w, BGPBT__RUN_KIND, 1);
        bgpbt_write_u64(&w, (uint64_t)sizes[t->n]);
        r = bgpbt_pbt_save(s, w.buf + w.pos, w.cap - w.pos, &sz);
        w.pos += sz;
        bgpbt_write_u32(&w, (uint32_t)t->n);
        for (i = 0; i < t->n && r == BGPBT_OK; ++i) {
            bgpbt_write_i32(&w, t->ids[i]);
            bgpbt_write_u64(&w, (uint64_t)sizes[i]);
            if (w.cap - w.pos < sizes[i]) { r = BGPBT_ERR_INTERNAL; break; }
            r = ops->save(ops->user, t->agents[i], w.buf + w.pos, w.cap - w.pos, &sz);
            if (sz != sizes[i]) r = BGPBT_ERR_INTERNAL;
            w.pos += sz;
        }
        bgpbt_container_end(&w, 0);
        if (w.overflow && r == BGPBT_OK) r = BGPBT_ERR_INTERNAL;
    }
    if (r == BGPBT_OK) {
        /* keep the previous checkpoint as <path>.prev. POSIX: a second name (hard link) for
           it, so <path> itself is never missing: a failed or interrupted write below leaves
           the previous checkpoint at <path>, intact. Without hard links (or on a link error)
           there is no .prev this time; the save goes on. */
        int have_prev = 0;
        if (strlen(path) + 6 < sizeof prev) {
            FILE* f = BGPBT_SYS_FOPEN(path, "rb");
            snprintf(prev, sizeof prev, "%.4100s.prev", path);
            if (f) {
                fclose(f);
#if defined(_WIN32)
                have_prev = BGPBT_SYS_RENAME(path, prev) == 0;
#else
                (void)remove(prev);
                (void)BGPBT_SYS_LINK(path, prev);
#endif
            }
        }
        r = bgpbt_file_write_atomic(path, buf, w.pos);
        if (r != BGPBT_OK) {
            if (have_prev) (void)BGPBT_SYS_RENAME(prev, path); /* put the previous one back */
            bgpbt__error(log, r, "pbt run: cannot write the checkpoint '%s'", path);
        }
    }
    if (buf) bgpbt_mem_free(A, buf, total);
    bgpbt__cfree(A, sizes, (size_t)t->n + 1, sizeof(size_t));
    return r;
}

/* Restore scheduler + agents from a checkpoint file; on any error nothing is changed. */
BGPBT__PRIVATE bgpbt_result bgpbt__pbt_restore(bgpbt_pbt* s, const bgpbt_pbt_agent_ops* ops, bgpbt__pbt_table* t,
                                               const char* path, const bgpbt_logger* log) {
    const bgpbt_allocator* A = &s->cfg.allocator;
    void* data = NULL;
    size_t size = 0;
    bgpbt_reader r;
    bgpbt_result res;
    uint64_t ssize;
    uint32_t n, i;
    bgpbt__pbt_table nt;
    res = bgpbt_file_read(path, A, (size_t)1 << 40, &data, &size);
    if (res != BGPBT_OK) return bgpbt__error(log, res, "pbt run: cannot read the checkpoint '%s'", path);
    res = bgpbt_container_open(data, size, BGPBT__RUN_KIND, 1, NULL, &r);
    if (res != BGPBT_OK) {
        bgpbt__error(log, res, "pbt run: checkpoint '%s' refused: %s", path, bgpbt_result_string(res));
        bgpbt_mem_free(A, data, size);
        return res;
    }
    ssize = bgpbt_read_u64(&r);
    if (r.failed || ssize > r.size - r.pos) {
        bgpbt_mem_free(A, data, size);
        return bgpbt__error(log, BGPBT_ERR_TRUNCATED, "pbt run: checkpoint '%s' is truncated", path);
    }
    memset(&nt, 0, sizeof nt);
    nt.cap = t->cap;
    nt.ids = (int*)bgpbt__calloc(A, (size_t)nt.cap, sizeof(int));
    nt.agents = (void**)bgpbt__calloc(A, (size_t)nt.cap, sizeof(void*));
    if (!nt.ids || !nt.agents) { res = BGPBT_ERR_OUT_OF_MEMORY; goto fail; }
    {
        bgpbt_pbt* tmp = NULL;
        bgpbt_pbt_config c = s->cfg;
        res = bgpbt_pbt_create(&c, &tmp);
        if (res == BGPBT_OK) res = bgpbt_pbt_load(tmp, r.buf + r.pos, (size_t)ssize);
        if (res != BGPBT_OK) {
            bgpbt_pbt_destroy(tmp);
            bgpbt__error(log, res, "pbt run: checkpoint '%s': scheduler state refused", path);
            goto fail;
        }
        r.pos += (size_t)ssize;
        n = bgpbt_read_count(&r, (uint32_t)nt.cap, 12);
        for (i = 0; i < n && !r.failed; ++i) {
            int id = bgpbt_read_i32(&r);
            uint64_t asz = bgpbt_read_u64(&r);
            void* agent = NULL;
            if (r.failed || asz > r.size - r.pos) { r.failed = 1; break; }
            res = ops->load(ops->user, r.buf + r.pos, (size_t)asz, &agent);
            if (res != BGPBT_OK) break;
            bgpbt__pbt_table_put(&nt, id, agent);
            r.pos += (size_t)asz;
        }
        if (res == BGPBT_OK && (r.failed || r.pos != r.size)) res = BGPBT_ERR_TRUNCATED;
        /* every id the scheduler expects to be held must be there */
        for (i = 0; res == BGPBT_OK && (int)i < tmp->n_alive; ++i)
            if (!bgpbt__pbt_table_find(&nt, tmp->alive[i])) {
                res = bgpbt__error(log, BGPBT_ERR_BAD_FORMAT, "pbt run: checkpoint '%s' lacks agent %d", path, tmp->alive[i]);
            }
        if (res != BGPBT_OK) {
            bgpbt_pbt_destroy(tmp);
            bgpbt__error(log, res, "pbt run: checkpoint '%s': agents refused", path);
            goto fail;
        }
        /* commit: swap the scheduler state and the table */
        {
            bgpbt_pbt swap = *s;
            *s = *tmp;
            *tmp = swap;
            bgpbt_pbt_destroy(tmp);
        }
        for (i = 0; (int)i < t->n; ++i) ops->destroy(ops->user, t->agents[i]);
        bgpbt__cfree(A, t->ids, (size_t)t->cap, sizeof(int));
        bgpbt__cfree(A, t->agents, (size_t)t->cap, sizeof(void*));
        *t = nt;
    }
    bgpbt_mem_free(A, data, size);
    return BGPBT_OK;
fail:
    for (i = 0; (int)i < nt.n; ++i) ops->destroy(ops->user, nt.agents[i]);
    bgpbt__cfree(A, nt.ids, (size_t)nt.cap, sizeof(int));
    bgpbt__cfree(A, nt.agents, (size_t)nt.cap, sizeof(void*));
    bgpbt_mem_free(A, data, size);
    return res;
}

BGPBT__PRIVATE void bgpbt__pbt_fmt_time(char* buf, size_t n, double sec) {
    if (!(sec >= 0) || sec > 1e8) snprintf(buf, n, "?");
    else if (sec < 60) snprintf(buf, n, "%.0fs", sec);
    else if (sec < 3600) snprintf(buf, n, "%dm%02ds", (int)(sec / 60), (int)fmod(sec, 60));
    else snprintf(buf, n, "%dh%02dm", (int)(sec / 3600), (int)fmod(sec / 60, 60));
}

BGPBT__PRIVATE void bgpbt__pbt_progress(const bgpbt_pbt* s, double t0, long long steps0) {
    double rets[BGPBT_PBT_MAX_POP], best = -HUGE_VAL, med = (double)NAN, el = bgpbt_time_seconds() - t0, rate, eta = -1;
    int n = bgpbt_pbt_population(s, NULL, rets), i, j, m = 0;
    long long done = s->total_steps - steps0, remaining = 0, tmax = bgpbt__pbt_max_lineage(s);
    char eta_s[32];
    for (i = 0; i < n; ++i) if (rets[i] > -HUGE_VAL) rets[m++] = rets[i];
    for (i = 1; i < m; ++i) { double v = rets[i]; for (j = i - 1; j >= 0 && rets[j] > v; --j) rets[j + 1] = rets[j]; rets[j + 1] = v; }
    if (m > 0) { best = rets[m - 1]; med = m % 2 ? rets[m / 2] : 0.5 * (rets[m / 2 - 1] + rets[m / 2]); }
    rate = el > 0 ? (double)done / el : 0;
    remaining = (long long)s->cfg.pop_size * (s->cfg.max_steps - tmax);
    if (s->cfg.max_total_steps > 0 && s->cfg.max_total_steps - s->total_steps < remaining)
        remaining = s->cfg.max_total_steps - s->total_steps;
    if (remaining < 0) remaining = 0;
    if (rate > 0) eta = (double)remaining / rate;
    if (s->phase == BGPBT__PBT_DONE) eta = 0;
    bgpbt__pbt_fmt_time(eta_s, sizeof eta_s, eta);
    fprintf(stderr, "round %d%s | env steps %.3g | %.3g steps/s | best %.4g median %.4g | gen %d | TR %.3g | ETA %s\n",
            s->round_index, s->round_kind == BGPBT_PBT_ROUND_DISTILL ? " (distill)" : s->round_kind == BGPBT_PBT_ROUND_INIT ? " (init)" : "",
            (double)s->total_steps, rate, best, med, s->generation, s->tr_len, eta_s);
}

BGPBT_API bgpbt_result bgpbt_pbt_run(const bgpbt_pbt_run_config* config, bgpbt_pbt_run_result* result) {
    bgpbt_pbt_agent_ops ppo_ops;
    const bgpbt_pbt_agent_ops* ops;
    bgpbt__pbt_ppo_ctx* ctx = NULL;
    bgpbt_pbt* s = NULL;
    bgpbt__pbt_table t;
    const bgpbt_logger* log;
    const bgpbt_allocator* A;
    bgpbt_result r = BGPBT_OK;
    char path_ckpt[4100], path[4200];
    const char* prefix;
    double t0 = bgpbt_time_seconds();
    long long steps0 = 0;
    int rounds_this_call = 0, j, plots_every;
    void** teachers = NULL;
    bgpbt_result* job_res = NULL;
    double* job_ret = NULL;
    long long* job_steps = NULL;
    int cap_jobs = 0;
    if (!config) return BGPBT_ERR_INVALID_ARGUMENT;
    log = &config->pbt.logger;
    A = &config->pbt.allocator;
    prefix = config->out_prefix;
    if (prefix && strlen(prefix) > 4000) return bgpbt__error(log, BGPBT_ERR_LIMIT, "pbt run: out_prefix is too long");
    if (result) memset(result, 0, sizeof *result);
    plots_every = config->plots_every > 0 ? config->plots_every : 1;
    memset(&t, 0, sizeof t);
    r = bgpbt_pbt_create(&config->pbt, &s);
    if (r != BGPBT_OK) return r;
    if (config->ops) {
        ops = config->ops;
        if (!ops->create || !ops->destroy || !ops->clone || !ops->train || !ops->save || !ops->load) {
            bgpbt_pbt_destroy(s);
            return bgpbt__error(log, BGPBT_ERR_INVALID_ARGUMENT, "pbt run: every agent operation must be set");
        }
    } else {
        ctx = (bgpbt__pbt_ppo_ctx*)bgpbt__calloc(A, 1, sizeof *ctx);
        if (!ctx) { bgpbt_pbt_destroy(s); return BGPBT_ERR_OUT_OF_MEMORY; }
        ctx->agent = config->agent;
        if (!ctx->agent.logger.fn) ctx->agent.logger = config->pbt.logger;
        ctx->pbt = s->cfg;
        memset(&ppo_ops, 0, sizeof ppo_ops);
        ppo_ops.user = ctx;
        ppo_ops.create = bgpbt__pbt_ppo_create;
        ppo_ops.destroy = bgpbt__pbt_ppo_destroy;
        ppo_ops.clone = bgpbt__pbt_ppo_clone;
        ppo_ops.train = bgpbt__pbt_ppo_train;
        ppo_ops.save = bgpbt__pbt_ppo_save;
        ppo_ops.load = bgpbt__pbt_ppo_load;
        ops = &ppo_ops;
    }
    cap_jobs = s->cap;
    t.cap = 4 * s->cap + 16;
    t.ids = (int*)bgpbt__calloc(A, (size_t)t.cap, sizeof(int));
    t.agents = (void**)bgpbt__calloc(A, (size_t)t.cap, sizeof(void*));
    teachers = (void**)bgpbt__calloc(A, (size_t)cap_jobs, sizeof(void*));
    job_res = (bgpbt_result*)bgpbt__calloc(A, (size_t)cap_jobs, sizeof(bgpbt_result));
    job_ret = (double*)bgpbt__calloc(A, (size_t)cap_jobs, sizeof(double));
    job_steps = (long long*)bgpbt__calloc(A, (size_t)cap_jobs, sizeof(long long));
    if (!t.ids || !t.agents || !teachers || !job_res || !job_ret || !job_steps) { r = BGPBT_ERR_OUT_OF_MEMORY; goto done; }
    if (prefix) snprintf(path_ckpt, sizeof path_ckpt, "%.4000scheckpoint.bgpbt", prefix);
    if (prefix && config->resume) {
        FILE* f = fopen(path_ckpt, "rb");
        if (f) {
            fclose(f);
            r = bgpbt__pbt_restore(s, ops, &t, path_ckpt, log);
            if (r != BGPBT_OK) {
                snprintf(path, sizeof path, "%.4100s.prev", path_ckpt);
                bgpbt__log(log, BGPBT_LOG_WARN, "pbt run: trying the previous checkpoint '%s'", path);
                r = bgpbt__pbt_restore(s, ops, &t, path, log);
            }
            if (r != BGPBT_OK) goto done;
            if (ctx) ctx->pbt = s->cfg;
            if (result) result->resumed_at = s->round_index;
            bgpbt__log(log, BGPBT_LOG_INFO, "pbt run: resumed after round %d", s->round_index);
        }
    }
    steps0 = s->total_steps;
    for (;;) {
        const bgpbt_pbt_round* rd;
        int n, fatal = 0;
        if (config->max_rounds > 0 && rounds_this_call >= config->max_rounds) break;
        r = bgpbt_pbt_ask(s, &rd);
        if (r != BGPBT_OK) goto done;
        n = rd->n_jobs;
        if (n == 0) break;
        /* 1. copies and fresh agents, from the states at the end of the last round */
        {
            void* made[BGPBT_PBT_MAX_POP];
            int k;
            for (j = 0; j < n; ++j) made[j] = NULL;
            for (j = 0; j < n && r == BGPBT_OK; ++j) {
                const bgpbt_pbt_job* jb = &rd->jobs[j];
                teachers[j] = NULL;
                if (jb->parent == jb->agent) {
                    if (!bgpbt__pbt_table_find(&t, jb->agent)) r = bgpbt__error(log, BGPBT_ERR_INTERNAL, "pbt run: agent %d is missing", jb->agent);
                } else if (jb->parent < 0) {
                    r = ops->create(ops->user, jb->arch, jb->hp, jb->seed, &made[j]);
                } else {
                    void** src = bgpbt__pbt_table_find(&t, jb->parent);
                    if (!src) r = bgpbt__error(log, BGPBT_ERR_INTERNAL, "pbt run: parent %d is missing", jb->parent);
                    else r = ops->clone(ops->user, *src, jb->seed, &made[j]);
                }
                if (r == BGPBT_OK && jb->teacher >= 0) { /* a private copy of the teacher */
                    void** te = bgpbt__pbt_table_find(&t, jb->teacher);
                    if (!te) r = bgpbt__error(log, BGPBT_ERR_INTERNAL, "pbt run: teacher %d is missing", jb->teacher);
                    else r = ops->clone(ops->user, *te, jb->seed ^ 0x7EAC4E5ull, &teachers[j]);
                }
            }
            if (r != BGPBT_OK) {
                for (k = 0; k < n; ++k) {
                    if (made[k]) ops->destroy(ops->user, made[k]);
                    if (teachers[k]) ops->destroy(ops->user, teachers[k]);
                }
                goto done;
            }
            /* 2. releases, then the new agents join the table */
            for (k = 0; k < rd->n_release; ++k) {
                void* a = bgpbt__pbt_table_take(&t, rd->release[k]);
                if (a) ops->destroy(ops->user, a);
            }
            for (j = 0; j < n; ++j)
                if (made[j] && bgpbt__pbt_table_put(&t, rd->jobs[j].agent, made[j]) != BGPBT_OK) {
                    ops->destroy(ops->user, made[j]);
                    r = bgpbt__error(log, BGPBT_ERR_INTERNAL, "pbt run: agent table full");
                }
            if (r != BGPBT_OK) {
                for (k = 0; k < n; ++k) if (teachers[k]) ops->destroy(ops->user, teachers[k]);
                goto done;
            }
        }
        /* 3. the jobs, in parallel */
        {
            void* agents[BGPBT_PBT_MAX_POP];
            for (j = 0; j < n; ++j) agents[j] = *bgpbt__pbt_table_find(&t, rd->jobs[j].agent);
#if BGPBT__HAS_OPENMP
            BGPBT_OMP(parallel for schedule(dynamic, 1) num_threads(config->threads > 0 ? config->threads : omp_get_max_threads()))
#endif
            for (j = 0; j < n; ++j) {
                job_ret[j] = (double)NAN;
                job_steps[j] = 0;
                job_res[j] = ops->train(ops->user, agents[j], teachers[j], &rd->jobs[j], &job_ret[j], &job_steps[j]);
            }
            for (j = 0; j < n; ++j) {
                if (teachers[j]) ops->destroy(ops->user, teachers[j]);
                teachers[j] = NULL;
                if (job_res[j] != BGPBT_OK && job_res[j] != BGPBT_ERR_AGENT_FAILED && job_res[j] != BGPBT_ERR_NOT_FINITE &&
                    job_res[j] != BGPBT_ERR_UNSTABLE)
                    fatal = 1;
            }
            if (fatal) {
                for (j = 0; j < n; ++j)
                    if (job_res[j] != BGPBT_OK && job_res[j] != BGPBT_ERR_AGENT_FAILED)
                        r = bgpbt__error(log, job_res[j], "pbt run: job %d (agent %d) failed: %s", j, rd->jobs[j].agent,
                                         bgpbt_result_string(job_res[j]));
                goto done;
            }
        }
        /* 4. tell in job order */
        for (j = 0; j < n; ++j) {
            int failed = job_res[j] != BGPBT_OK;
            r = bgpbt_pbt_tell(s, j, job_ret[j], job_steps[j] > 0 ? job_steps[j] : rd->jobs[j].steps, failed);
            if (r != BGPBT_OK) goto done;
        }
        rounds_this_call++;
        /* 5. files */
        if (prefix) {
            snprintf(path, sizeof path, "%.4000slog.csv", prefix);
            r = bgpbt_pbt_write_csv(s, path);
            if (r == BGPBT_OK && (rounds_this_call % plots_every == 0)) r = bgpbt_pbt_write_plots(s, prefix);
            if (r == BGPBT_OK) r = bgpbt__pbt_checkpoint(s, ops, &t, path_ckpt, log);
            if (r != BGPBT_OK) goto done;
        }
        if (config->progress) bgpbt__pbt_progress(s, t0, steps0);
    }
    if (prefix) {
        int id;
        snprintf(path, sizeof path, "%.4000slog.csv", prefix);
        r = bgpbt_pbt_write_csv(s, path);
        if (r == BGPBT_OK && s->n_rows > 0) r = bgpbt_pbt_write_plots(s, prefix);
        if (r == BGPBT_OK && bgpbt_pbt_best(s, &id, NULL, NULL) == BGPBT_OK) {
            void** a = bgpbt__pbt_table_find(&t, id);
            size_t sz = 0;
            if (a && ops->save(ops->user, *a, NULL, 0, &sz) == BGPBT_OK && sz > 0) {
                void* buf = bgpbt_mem_alloc(A, sz, 64);
                if (!buf) r = BGPBT_ERR_OUT_OF_MEMORY;
                else {
                    r = ops->save(ops->user, *a, buf, sz, &sz);
                    snprintf(path, sizeof path, "%.4000sbest.agent", prefix);
                    if (r == BGPBT_OK) r = bgpbt_file_write_atomic(path, buf, sz);
                    if (r != BGPBT_OK) bgpbt__error(log, r, "pbt run: cannot write the best agent '%s'", path);
                    bgpbt_mem_free(A, buf, sz);
                }
            }
        }
        if (r != BGPBT_OK) goto done;
    }
done:
    if (result && s) {
        int id = -1;
        double best = -HUGE_VAL;
        result->rounds = s->round_index;
        result->finished = s->phase == BGPBT__PBT_DONE;
        result->total_steps = s->total_steps;
        if (bgpbt_pbt_best(s, &id, &best, NULL) == BGPBT_OK) { result->best_agent = id; result->best_return = best; }
        result->seconds = bgpbt_time_seconds() - t0;
    }
    if (t.agents) for (j = 0; j < t.n; ++j) ops->destroy(ops->user, t.agents[j]);
    bgpbt__cfree(A, t.ids, (size_t)t.cap, sizeof(int));
    bgpbt__cfree(A, t.agents, (size_t)t.cap, sizeof(void*));
    bgpbt__cfree(A, teachers, (size_t)cap_jobs, sizeof(void*));
    bgpbt__cfree(A, job_res, (size_t)cap_jobs, sizeof(bgpbt_result));
    bgpbt__cfree(A, job_ret, (size_t)cap_jobs, sizeof(double));
    bgpbt__cfree(A, job_steps, (size_t)cap_jobs, sizeof(long long));
    bgpbt__cfree(A, ctx, 1, sizeof *ctx);
    bgpbt_pbt_destroy(s);
    return r;
}

/* ---- [impl.pbt.driver] the runner's pieces for drivers (see [decl.pbt.driver]) -------------- */

BGPBT_API bgpbt_result bgpbt_pbt_ppo_ops_create(const bgpbt_pbt_config* resolved, const bgpbt_agent_config* agent,
                                                bgpbt_pbt_agent_ops* ops) {
    bgpbt__pbt_ppo_ctx* ctx;
    if (!ops) return BGPBT_ERR_INVALID_ARGUMENT;
    memset(ops, 0, sizeof *ops);
    if (!resolved) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!agent) return bgpbt__error(&resolved->logger, BGPBT_ERR_INVALID_ARGUMENT, "pbt_ppo_ops_create: agent config is NULL");
    ctx = (bgpbt__pbt_ppo_ctx*)bgpbt__calloc(&resolved->allocator, 1, sizeof *ctx);
    if (!ctx) return BGPBT_ERR_OUT_OF_MEMORY;
    ctx->agent = *agent;
    if (!ctx->agent.logger.fn) ctx->agent.logger = resolved->logger; /* as bgpbt_pbt_run */
    ctx->pbt = *resolved;
    ops->user = ctx;
    ops->create = bgpbt__pbt_ppo_create;
    ops->destroy = bgpbt__pbt_ppo_destroy;
    ops->clone = bgpbt__pbt_ppo_clone;
    ops->train = bgpbt__pbt_ppo_train;
    ops->save = bgpbt__pbt_ppo_save;
    ops->load = bgpbt__pbt_ppo_load;
    return BGPBT_OK;
}

BGPBT_API void bgpbt_pbt_ppo_ops_destroy(bgpbt_pbt_agent_ops* ops) {
    bgpbt__pbt_ppo_ctx* ctx;
    if (!ops || !ops->user) return;
    ctx = (bgpbt__pbt_ppo_ctx*)ops->user;
    {
        bgpbt_allocator A = ctx->pbt.allocator;
        bgpbt__cfree(&A, ctx, 1, sizeof *ctx);
    }
    memset(ops, 0, sizeof *ops);
}

BGPBT_API bgpbt_result bgpbt_pbt_checkpoint_save(const bgpbt_pbt* s, const bgpbt_pbt_agent_ops* ops, int n, const int* ids,
                                                 void* const* agents, const char* path) {
    bgpbt__pbt_table t;
    if (!s) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!ops || !ops->save || !path || n < 0 || (n > 0 && (!ids || !agents)))
        return bgpbt__error(&s->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "pbt_checkpoint_save: ops, path, n, ids or agents missing");
    if (strlen(path) > 4000) return bgpbt__error(&s->cfg.logger, BGPBT_ERR_LIMIT, "pbt: checkpoint path is too long");
    t.n = t.cap = n;
    t.ids = (int*)ids;            /* read only: bgpbt__pbt_checkpoint takes the table as const */
    t.agents = (void**)agents;
    return bgpbt__pbt_checkpoint(s, ops, &t, path, &s->cfg.logger);
}

BGPBT_API bgpbt_result bgpbt_pbt_checkpoint_load(bgpbt_pbt* s, const bgpbt_pbt_agent_ops* ops, const char* path, int cap,
                                                 int* ids, void** agents, int* n) {
    const bgpbt_allocator* A;
    bgpbt__pbt_table t;
    bgpbt_result r;
    int i;
    if (!s) return BGPBT_ERR_INVALID_ARGUMENT;
    if (!ops || !ops->load || !ops->destroy || !path || cap < 1 || !ids || !agents || !n)
        return bgpbt__error(&s->cfg.logger, BGPBT_ERR_INVALID_ARGUMENT, "pbt_checkpoint_load: ops, path, cap, ids, agents or n missing");
    A = &s->cfg.allocator;
    memset(&t, 0, sizeof t);
    t.cap = cap;
    t.ids = (int*)bgpbt__calloc(A, (size_t)cap, sizeof(int));
    t.agents = (void**)bgpbt__calloc(A, (size_t)cap, sizeof(void*));
    if (!t.ids || !t.agents) { r = BGPBT_ERR_OUT_OF_MEMORY; goto done; }
    r = bgpbt__pbt_restore(s, ops, &t, path, &s->cfg.logger);
    if (r != BGPBT_OK) goto done;
    for (i = 0; i < t.n; ++i) { ids[i] = t.ids[i]; agents[i] = t.agents[i]; }
    *n = t.n;
done:
    bgpbt__cfree(A, t.ids, (size_t)cap, sizeof(int));
    bgpbt__cfree(A, t.agents, (size_t)cap, sizeof(void*));
    return r;
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
