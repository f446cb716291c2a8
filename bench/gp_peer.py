"""scikit-learn / NumPy twins of bench/bench_gp.c (run by it with /usr/bin/python3).

fit_predict: GaussianProcessRegressor(ConstantKernel * Matern(ARD, nu=2.5) + WhiteKernel,
normalize_y=True, n_restarts_optimizer=3), fit on n points in [0,1]^d with
y = sum(sin(5 x)) + 0.1 N(0,1), then predict mean and std at 1000 points; the optimizer is
scipy's L-BFGS-B, wrapped only to count log-marginal-likelihood evaluations. cholesky:
numpy.linalg.cholesky of an n x n SPD matrix. Prints `name value unit` lines: the fastest of
the repeats in seconds (the minimum, like bench_gp.c: on a shared machine it is the estimate least
disturbed by other processes).
Usage: gp_peer.py fit N D REPEATS | chol N REPEATS"""
import sys, time
import numpy as np
import scipy.optimize
import warnings
warnings.filterwarnings("ignore")

def fit_predict(n, d, repeats):
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel
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
    times = []
    for _ in range(repeats):
        evals[0] = 0
        k = ConstantKernel(1.0) * Matern(length_scale=np.ones(d), nu=2.5) + WhiteKernel(1e-3)
        gp = GaussianProcessRegressor(kernel=k, normalize_y=True, n_restarts_optimizer=3, optimizer=opt, random_state=0)
        t0 = time.perf_counter()
        gp.fit(X, y)
        gp.predict(Xs, return_std=True)
        times.append(time.perf_counter() - t0)
    print(f"sk.fit_predict.n{n}.d{d} {min(times):.6g} s")
    print(f"sk.lml_evals.n{n}.d{d} {evals[0]} evals")

def chol(n, repeats):
    rng = np.random.default_rng(2)
    B = rng.standard_normal((n, n)); A = B @ B.T / n + np.eye(n)
    np.linalg.cholesky(A)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter(); np.linalg.cholesky(A); times.append(time.perf_counter() - t0)
    print(f"np.cholesky.n{n} {min(times):.6g} s")

if __name__ == "__main__":
    if sys.argv[1] == "fit": fit_predict(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else: chol(int(sys.argv[2]), int(sys.argv[3]))
