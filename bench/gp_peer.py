"""scikit-learn / NumPy twins of bench/bench_gp.c (run by it with /usr/bin/python3).

fit_predict: GaussianProcessRegressor(ConstantKernel * Matern(ARD, nu=2.5) + WhiteKernel,
normalize_y=True, n_restarts_optimizer=3), fit on n points in [0,1]^d with
y = sum(sin(5 x)) + 0.1 N(0,1), then predict mean and std at 1000 points; the optimizer is
scipy's L-BFGS-B, wrapped only to count log-marginal-likelihood evaluations. cholesky:
numpy.linalg.cholesky of an n x n SPD matrix. One BLAS thread (bench_gp.c also sets
OPENBLAS_NUM_THREADS=1; threadpoolctl makes sure), like our side. Prints `name value unit`
lines: the median of the repeats in seconds, wall time (sk.fit_predict, np.cholesky) and
process CPU time (sk.fit_predict_cpu), and the LML evaluations of one fit.
The fit reads bench_gp.c's data set from FILE (n, d, X, y, Xs as raw doubles) and prints the
fitted log marginal likelihood too, so the two fits can be compared.
Usage: gp_peer.py fit N D REPEATS [FILE] | chol N REPEATS"""
import os, sys, time
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np
import scipy.optimize
import warnings
warnings.filterwarnings("ignore")
try:
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
except Exception:
    pass

def fit_predict(n, d, repeats, path=None):
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
    if path:  # the data bench_gp.c generated and fits
        a = np.fromfile(path, dtype=np.float64)
        assert int(a[0]) == n and int(a[1]) == d
        X = a[2:2 + n * d].reshape(n, d); y = a[2 + n * d:2 + n * d + n]
        Xs = a[2 + n * d + n:].reshape(1000, d)
    else:
        rng = np.random.default_rng(1)
        X = rng.random((n, d)); y = np.sin(5 * X).sum(1) + 0.1 * rng.standard_normal(n)
        Xs = rng.random((1000, d))
    evals = [0]
    def opt(obj_func, initial_theta, bounds):
        def f(theta):
            evals[0] += 1
            return obj_func(theta, eval_gradient=True)
        r = scipy.optimize.minimize(f, initial_theta, method="L-BFGS-B", jac=True, bounds=bounds)
        return r.x, r.fun
    wall, cpu = [], []
    for _ in range(repeats):
        evals[0] = 0
        k = ConstantKernel(1.0) * Matern(length_scale=np.ones(d), nu=2.5) + WhiteKernel(1e-3)
        gp = GaussianProcessRegressor(kernel=k, normalize_y=True, n_restarts_optimizer=3, optimizer=opt, random_state=0)
        t0 = time.perf_counter(); c0 = time.process_time()
        gp.fit(X, y)
        gp.predict(Xs, return_std=True)
        cpu.append(time.process_time() - c0); wall.append(time.perf_counter() - t0)
    print(f"sk.fit_predict.n{n}.d{d} {np.median(wall):.6g} s")
    print(f"sk.fit_predict_cpu.n{n}.d{d} {np.median(cpu):.6g} s")
    print(f"sk.lml_evals.n{n}.d{d} {evals[0]} evals")
    print(f"sk.lml.n{n}.d{d} {gp.log_marginal_likelihood_value_:.10g} nats")

def chol(n, repeats):
    rng = np.random.default_rng(2)
    B = rng.standard_normal((n, n)); A = B @ B.T / n + np.eye(n)
    np.linalg.cholesky(A)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter(); np.linalg.cholesky(A); times.append(time.perf_counter() - t0)
    print(f"np.cholesky.n{n} {np.median(times):.6g} s")

if __name__ == "__main__":
    if sys.argv[1] == "fit": fit_predict(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] if len(sys.argv) > 5 else None)
    else: chol(int(sys.argv[2]), int(sys.argv[3]))
