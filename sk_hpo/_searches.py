"""The public search classes: each wires one algorithm to the engine."""

import numbers
import os
import re
import warnings

import numpy as np

from ._base import BaseModelSearchCV
from ._bayes import ACQ_FUNCS, GPOptimizer
from ._genetic import GeneticAlgorithm
from ._internals import Interval, StrOptions, validate_parameter_constraints
from ._multi_fidelity import MultiFidelityMixin
from ._optimizer import INITIAL_POINT_GENERATORS, RandomSampler
from ._space import _describe
from ._tpe import TPE, default_gamma

# The multi-fidelity options of TPESearchCV and BayesSearchCV; their values
# are checked in fit, where the estimator and the data are known.
_FIDELITY_CONSTRAINTS = {
    "resource": [str, None],
    "min_resources": [StrOptions({"smallest"}), Interval(numbers.Integral, 1, None, closed="left")],
    "max_resources": [StrOptions({"auto"}), Interval(numbers.Integral, 1, None, closed="left")],
    "factor": [Interval(numbers.Real, 1, None, closed="neither")],
    "hyperband": ["boolean"],
    "continuation": ["boolean", StrOptions({"auto"})],
    "model_directory": [str, os.PathLike, None],
    "max_model_bytes": [Interval(numbers.Integral, 1, None, closed="left")],
}

_FIDELITY_PARAMETERS = """    resource : str, default=None
        Multi-fidelity search (BOHB: Falkner et al. 2018): candidates are
        raced by successive halving on a growing resource, and new ones are
        proposed by this search's model fitted to the results of the highest
        resource level that has enough of them.  ``"n_samples"`` trains on
        subsamples of each CV split; otherwise the name of an integer
        parameter of the estimator that sets the cost (``"max_iter"``,
        ``"n_estimators"``, ``"epochs"``, ``"net__epochs"`` in a pipeline),
        which must not be searched.  ``n_iter`` counts the candidates
        started; each rung keeps the best ``1 / factor`` for the next level.
        ``cv_results_`` gains scikit-learn's Halving columns ``iter`` (the
        resource level, 0 the smallest) and ``n_resources``, and
        ``bracket``; ``best_params_`` is the best at ``max_resources`` (it
        includes the resource), so the refit trains at full resource.
        None: every candidate is evaluated at full cost.
    min_resources : int or "smallest", default="smallest"
        The resource of the first rung.  ``"smallest"``: 1 for a parameter;
        for ``"n_samples"``, ``2 * n_splits`` (times the number of classes
        for a classifier), as in scikit-learn's Halving searches.
    max_resources : int or "auto", default="auto"
        The resource of the last rung.  ``"auto"``: the number of samples for
        ``"n_samples"``, else the estimator's own value of ``resource``.
        Levels run from ``max_resources`` down by ``factor`` while they stay
        at or above ``min_resources``.
    factor : float, default=3
        Ratio between consecutive resource levels, and between the
        candidates of consecutive rungs.
    hyperband : bool, default=False
        Cycle through Hyperband's brackets (from many candidates at the
        least resource to a few at full resource, each costing about the
        same), which guards against a low resource that misranks
        candidates.  False runs only the most aggressive bracket, again
        and again (successive halving).
    continuation : "auto" or bool, default="auto"
        A promoted candidate continues, fold by fold, from the model its
        previous rung trained, and trains only what the next level adds
        (as KerasTuner's Hyperband and Ray Tune's ASHA do).  How is found
        out from the estimator: a SciKeras network with ``resource="epochs"``
        keeps its weights, optimizer state and epoch counter (a fit that
        ``EarlyStopping`` stopped is not trained further); an estimator
        with ``warm_start`` is refitted with ``warm_start=True``, adding the
        missing trees or iterations where the resource counts the whole
        model (forests, gradient boosting: the same model as from scratch),
        or training the difference where it counts each call (``MLP*``,
        ``SGD*``, ``LogisticRegression``: not the model training from
        scratch gives, as the solver restarts).  ``"auto"``: where the
        estimator can; True: raise if it cannot; False: every rung trains
        from scratch.  ``continuation_`` says what was done.
    model_directory : str or path, default=None
        Where the lower rungs' fold models are kept while they may be
        continued: a new directory is made in it and removed when ``fit``
        ends.  None: the system's temporary directory.  For a Dask cluster
        on several machines, a path every worker sees.  Each file is signed
        with a key this ``fit`` holds in memory; a file it did not write is
        never loaded.
    max_model_bytes : int, default=1_000_000_000
        The most the kept models may take on disk; the oldest are evicted
        first.  An evicted model is made again by retraining the
        candidate's lower rungs, with the same result."""

_FIDELITY_ATTRIBUTES = """    n_resources_ : list of int
        With ``resource``: the resource of each level, smallest first.
    min_resources_, max_resources_ : int
        With ``resource``: the smallest and the largest level.
    n_candidates_ : list of int
        With ``resource``: the candidates evaluated at each level.
    n_brackets_ : int
        With ``resource``: the successive-halving brackets run.
    continuation_ : {"epochs", "total", "increment"} or None
        With ``resource``: how promoted candidates continued training
        (see ``continuation``); None: each rung trained from scratch."""

_COMMON_PARAMETERS = """\
    estimator : estimator object
        Cloned and fitted for each candidate; needs ``fit`` and a score
        (its ``score`` method, or ``scoring``).
    search_spaces : dict or list of dict
        Parameter names (``step__param`` inside a ``Pipeline``) mapped to a
        :class:`~sk_hpo.Real`, :class:`~sk_hpo.Integer` or
        :class:`~sk_hpo.Categorical`, a list of values, a
        ``(low, high)`` or ``(low, high, prior)`` tuple of numbers (a range,
        as scikit-optimize reads it), or a ``scipy.stats`` distribution, so
        a ``RandomizedSearchCV`` space drops in unchanged.  A list of dicts
        gives alternative branches, searched jointly under one budget.  A
        list with ``(dict, n_iter)`` pairs is scikit-optimize's form: each
        entry is searched in turn, for its own count (``n_iter`` where it
        gives none), by an algorithm of its own (not in ``GeneticSearchCV``
        or with ``resource``, which run schedules of their own).
        :class:`~sk_hpo.PerLayer` gives one parameter per layer, present
        only in candidates with that many layers (``model__units_0``,
        ``model__units_1``...).
    n_iter : int, default=50
        Number of distinct candidates to evaluate.  A proposal equal to an
        evaluated candidate is answered from its result and costs nothing.
    scoring : str, callable, list, tuple or dict, default=None
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`.  With
        several metrics the search maximises the ``refit`` metric, or the
        first metric of ``scoring`` when ``refit`` is not a metric name.
    n_jobs : int, default=None
        Fits run in parallel (joblib; ``parallel_backend("dask")`` works).
    n_points : int, default=1
        Candidates proposed per batch; a batch is evaluated in parallel, so
        use ``n_points >= n_jobs``.
    refit : bool, str or callable, default=True
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`.
    cv : int, cross-validation generator or iterable, default=None
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`.
    verbose : int, default=0
        0 prints nothing.  1 shows a progress bar (tqdm's, if installed;
        else a line per batch): candidates done, elapsed and remaining
        time, the best score so far and its parameters.  2 and more add
        scikit-learn's own messages per batch of fits (from 3, per fit).
    pre_dispatch : int or str, default="2*n_jobs"
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`.
    random_state : int, RandomState instance or None, default=None
        The same value gives the same candidates in the same order,
        whatever ``n_jobs``.
    error_score : "raise" or float, default=np.nan
        Score of a failed fit.  A failed candidate is told to the algorithm
        as the worst result, whatever ``error_score``; the search stops with
        scikit-learn's error only if its first 10 candidates (or all of a
        smaller budget) fail.
    return_train_score : bool, default=False
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`.
    callbacks : callable or list of callables, default=None
        Called with a :class:`~sk_hpo.callbacks.SearchState` after each
        batch; returning True stops the search (the best so far is
        refitted).  See :mod:`sk_hpo.callbacks` for ready stoppers.
    initial_params : list of dict, default=None
        Parameter settings evaluated first, before the algorithm proposes
        anything: the estimator's defaults, a previous search's best...
        Each dict gives a value for every parameter of one branch of the
        space; they count toward ``n_iter`` and the algorithm learns from
        them like from its own candidates.
    storage : str or os.PathLike, default=None
        An SQLite database file (created if missing) where every finished
        batch is recorded at once: parameters, per-split scores, fit and
        score times, status and error, and the algorithm's state.  ``fit``
        again with the same storage continues the search: stored
        candidates enter ``cv_results_`` without a fit, count toward
        ``n_iter``, and the algorithm proposes what it would have proposed
        had the search never stopped.  A crash or a killed process loses
        at most the batch being evaluated.  The file holds only data (JSON
        text, numbers and NumPy arrays read without pickle), so resuming
        from a file someone else wrote cannot run code; a damaged or
        hand-edited file is refused or its state set aside, with the file
        and the study named.
    study_name : str, default=None
        The search's name in ``storage``, so several searches can share a
        file; the class name by default.  A stored study made for another
        search space, estimator, data, scoring or ``cv`` is refused.
    resume : bool, default=True
        With False, a stored study of the same name is discarded and the
        search starts again.
    asynchronous : bool, default=False
        Keep every worker busy: each (candidate, split) fit is its own task,
        and the moment a candidate's last split finishes it is told to the
        algorithm, stored, shown and passed to the callbacks, and a new
        candidate is proposed for the free worker, accounting for the ones
        still running (see :mod:`sk_hpo._async`).  Use it with several
        workers and fits whose times differ (sizes of networks, numbers of
        trees): no worker waits for the slowest fit of a batch, nor for the
        algorithm.  Runs on joblib's loky, multiprocessing and threading
        backends and on ``dask.distributed`` (``joblib.parallel_backend(
        "dask")``), with ``n_jobs`` workers; ``n_points`` and
        ``pre_dispatch`` are not used.  ``cv_results_`` rows come in
        completion order and each candidate is its own batch for the
        callbacks.  **It gives up reproducibility**: the candidates depend
        on which fits finish first, so the same ``random_state`` gives the
        same candidates only with one worker.  With ``storage``, each
        candidate is stored the moment it finishes (a killed process loses
        only the candidates running), and a resumed search re-tells the
        stored candidates to a new algorithm."""

_COMMON_ATTRIBUTES = """\
    cv_results_ : dict of numpy (masked) ndarrays
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`, in
        evaluation order, with the same keys and dtypes.
    best_estimator_, best_score_, best_params_, best_index_, scorer_, \
n_splits_, refit_time_, multimetric_, classes_, n_features_in_
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`.
    n_duplicates_ : int
        Proposals that repeated a candidate, answered without a fit.
    search_space_ : SearchSpace
        The parsed search space.
    optimizer_ : object
        The ask/tell algorithm, with its ``points`` and ``losses``.
    n_resumed_ : int
        Candidates loaded from ``storage`` rather than fitted."""


def _common_parameters(**changes):
    """``_COMMON_PARAMETERS`` with entries replaced, or dropped where None."""
    entries = re.split(r"\n(?=    \w+ : )", _COMMON_PARAMETERS)
    out = []
    for entry in entries:
        name = entry.split(" : ")[0].strip()
        if name not in changes:
            out.append(entry)
        elif changes[name] is not None:
            out.append(changes[name].rstrip("\n"))
    return "\n".join(out)


def _document(cls=None, **changes):
    """Fill a search's docstring with the common parameters and attributes."""
    def fill(cls):
        cls.__doc__ = cls.__doc__.format(
            common=_common_parameters(**changes),
            fidelity=_FIDELITY_PARAMETERS,
            attributes=_COMMON_ATTRIBUTES,
            fidelity_attributes=_FIDELITY_ATTRIBUTES,
        )
        return cls

    return fill(cls) if cls is not None else fill


@_document
class RandomSearchCV(BaseModelSearchCV):
    """Random search over sk_hpo search spaces.

    The baseline of the model-based searches, with what they share and
    scikit-learn's ``RandomizedSearchCV`` lacks: joint search over
    alternative sub-spaces under one budget, no candidate fitted twice,
    stopping callbacks, and a search that survives failing candidates.

    Parameters
    ----------
{common}

    Attributes
    ----------
{attributes}

    See Also
    --------
    TPESearchCV : the model-based search that learns from the results.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from sk_hpo import RandomSearchCV, Real
    >>> X, y = load_iris(return_X_y=True)
    >>> search = RandomSearchCV(SVC(), {{"C": Real(1e-2, 1e2, "log-uniform")}},
    ...                         n_iter=5, random_state=0).fit(X, y)
    >>> len(search.cv_results_["params"])
    5

    With ``storage``, a second ``fit`` continues where the first stopped:

    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "search.db")
    >>> search.set_params(n_iter=3, storage=path).fit(X, y).n_resumed_
    0
    >>> search.set_params(n_iter=5).fit(X, y).n_resumed_
    3
    >>> len(search.cv_results_["params"])
    5
    """

    def _make_optimizer(self, space, seed):
        return RandomSampler(space, seed)


@_document
class TPESearchCV(MultiFidelityMixin, BaseModelSearchCV):
    """Tree-structured Parzen Estimator search.

    After ``n_startup_trials`` random candidates, the results are split
    into the ``gamma(n)`` best and the rest; each group gets a kernel
    density, and the next candidate is the one, among 48 drawn from the
    density of the best, with the highest density ratio best / rest
    (Bergstra et al. 2011; 48 measured better than Optuna's and
    Hyperopt's 24, ``benchmarks/results/tpe_defaults.md``).  Alternative
    branches of a conditional space are modelled on their own
    observations, and the choice of branch like a categorical parameter.

    Parameters
    ----------
{common}
{fidelity}
    n_startup_trials : int, default=10
        Random candidates before the model is used (Optuna's default; 5 and
        20 measured no better on our test functions,
        ``benchmarks/results/tpe_defaults.md``).
    gamma : callable, default=``sk_hpo._tpe.default_gamma``
        ``gamma(n)`` is how many of ``n`` results count as good:
        ``min(ceil(0.15 n), 25)`` by default.  Watanabe (2023, "Tree-Structured
        Parzen Estimator: Understanding Its Algorithm Components and Their
        Roles for Better Empirical Performance") recommends a linear
        quantile; 0.15 measured better than Optuna's 0.1 and Hyperopt's
        ``0.25 sqrt(n)`` on our test functions.
    multivariate : bool, default=True
        Model the dimensions of a branch jointly: a mixture of product
        kernels, whose components are sampled whole, so correlations between
        parameters are kept.  ``False`` models each dimension independently
        (Hyperopt's original TPE).  Falkner et al. (2018) and Watanabe (2023)
        find the joint kernel better; on our test functions it was better on
        4 of 5 (Hartmann-6, Rosenbrock-10 and the mixed function clearly).
        Bandwidths follow Hyperopt's rule (the larger gap to a neighbouring
        observation) with a minimum of ``1 / min(100, n + 2)`` of the range,
        and never less than one cell for integers.
    prior_weight : float, default=1.0
        Weight of the uninformative prior component of each density,
        relative to one observation (Optuna's default).

    Attributes
    ----------
{attributes}
{fidelity_attributes}

    See Also
    --------
    RandomSearchCV : the same search space, sampled at random.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from sk_hpo import TPESearchCV, Real
    >>> X, y = load_iris(return_X_y=True)
    >>> search = TPESearchCV(SVC(), {{"C": Real(1e-2, 1e2, "log-uniform"),
    ...                              "kernel": ["rbf", "linear"]}},
    ...                      n_iter=15, random_state=0).fit(X, y)
    >>> bool(search.best_score_ > 0.95)
    True
    """

    _parameter_constraints: dict = {
        **BaseModelSearchCV._parameter_constraints,
        **_FIDELITY_CONSTRAINTS,
        "n_startup_trials": [Interval(numbers.Integral, 1, None, closed="left")],
        "gamma": [callable],
        "multivariate": ["boolean"],
        "prior_weight": [Interval(numbers.Real, 0, None, closed="neither")],
    }

    def __init__(
        self,
        estimator,
        search_spaces,
        *,
        n_iter=50,
        scoring=None,
        n_jobs=None,
        n_points=1,
        refit=True,
        cv=None,
        verbose=0,
        pre_dispatch="2*n_jobs",
        random_state=None,
        error_score=np.nan,
        return_train_score=False,
        callbacks=None,
        initial_params=None,
        storage=None,
        study_name=None,
        resume=True,
        asynchronous=False,
        resource=None,
        min_resources="smallest",
        max_resources="auto",
        factor=3,
        hyperband=False,
        continuation="auto",
        model_directory=None,
        max_model_bytes=1_000_000_000,
        n_startup_trials=10,
        gamma=default_gamma,
        multivariate=True,
        prior_weight=1.0,
    ):
        super().__init__(
            estimator,
            search_spaces,
            n_iter=n_iter,
            scoring=scoring,
            n_jobs=n_jobs,
            n_points=n_points,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            random_state=random_state,
            error_score=error_score,
            return_train_score=return_train_score,
            callbacks=callbacks,
            initial_params=initial_params,
            storage=storage,
            study_name=study_name,
            resume=resume,
            asynchronous=asynchronous,
        )
        self.resource = resource
        self.min_resources = min_resources
        self.max_resources = max_resources
        self.factor = factor
        self.hyperband = hyperband
        self.continuation = continuation
        self.model_directory = model_directory
        self.max_model_bytes = max_model_bytes
        self.n_startup_trials = n_startup_trials
        self.gamma = gamma
        self.multivariate = multivariate
        self.prior_weight = prior_weight

    def _n_startup(self):
        return self.n_startup_trials

    def _make_optimizer(self, space, seed):
        return TPE(
            space,
            seed,
            n_startup_trials=self.n_startup_trials,
            gamma=self.gamma,
            multivariate=self.multivariate,
            prior_weight=self.prior_weight,
        )


# The size of the acquisition's optimisation, which only scikit-optimize's
# ``acq_optimizer_kwargs`` sets (GPOptimizer's defaults were measured best:
# ``benchmarks/results/bayes_defaults.md``).
_ACQ_OPTIMIZER_CONSTRAINTS = {
    "n_candidates": [Interval(numbers.Integral, 1, None, closed="left")],
    "n_polish": [Interval(numbers.Integral, 0, None, closed="left")],
}

# scikit-optimize's ``optimizer_kwargs`` and what each becomes here.
_SKOPT_KEYS = {
    "n_initial_points": "n_initial_points",
    "initial_point_generator": "initial_point_generator",
    "acq_func": "acq_func",
    "acq_func_kwargs": None,  # {"xi", "kappa"}
    "acq_optimizer": None,  # "auto", "lbfgs", "sampling"
    "acq_optimizer_kwargs": None,  # {"n_points", "n_restarts_optimizer"}
    "base_estimator": None,  # only "GP"
}


@_document
class BayesSearchCV(MultiFidelityMixin, BaseModelSearchCV):
    """Bayesian optimisation with a Gaussian process.

    A drop-in for scikit-optimize's ``BayesSearchCV``: the same
    ``search_spaces``, ``n_iter``, ``n_points`` and ``optimizer_kwargs``.
    After ``n_initial_points`` candidates from a scrambled Sobol sequence,
    a Gaussian process (Matérn-5/2 kernel with one length scale per
    dimension and a learned noise term, hyperparameters by maximum a
    posteriori) models the scores, and each next candidate maximises the
    acquisition function over random candidates and candidates near the
    best ones, polished by L-BFGS-B.  Categories are one-hot inputs;
    integers are proposed as integers; a conditional space (a list of
    dicts) is one model with a branch indicator.  Scores are standardised
    and power-warped first, and failed candidates count as the worst seen,
    so outliers and failures do not distort the model.  The acquisition
    scores the next observed score (the model's uncertainty plus the noise
    it learned), so on noisy cross-validated scores the search keeps trying
    new candidates where the model expects the best ones, rather than
    leaving a region it knows well.  A batch of ``n_points`` candidates is
    made diverse by the kriging believer.

    Parameters
    ----------
{common}
{fidelity}
    n_initial_points : int, default=10
        Candidates of the initial design, before the model is used
        (scikit-optimize's default).
    initial_point_generator : {{"sobol", "halton", "lhs", "random"}}, default="sobol"
        The initial design; the quasi-random sequences cover the space more
        evenly than random draws.
    acq_func : {{"auto", "EI", "PI", "LCB", "gp_hedge"}}, default="auto"
        The acquisition function: expected improvement (computed as its
        logarithm, Ament et al. 2023), probability of improvement, lower
        confidence bound, or the GP-Hedge portfolio of the three (Hoffman
        et al. 2011; scikit-optimize's default).  ``"auto"`` is GP-Hedge,
        which measured better than EI, PI or LCB alone on our test
        functions, clearly so at 60 evaluations; at 30 LCB came close
        (``benchmarks/results/bayes_defaults.md``).
    xi : float, default=0.01
        Margin of improvement for EI and PI, in standard deviations of the
        warped losses (the scores standardised, then power-warped).
    kappa : float, default=1.96
        Weight of the standard deviation in LCB.
    optimizer_kwargs : dict, default=None
        scikit-optimize's form of the options above, which it takes
        precedence over: ``n_initial_points``, ``initial_point_generator``,
        ``acq_func``, ``acq_func_kwargs`` (``xi``, ``kappa``),
        ``acq_optimizer`` (``"sampling"`` skips the polishing),
        ``acq_optimizer_kwargs`` (``n_points``: the candidates,
        ``n_restarts_optimizer``: the polished ones) and
        ``base_estimator`` (``"GP"`` only, in any case).  Each value is
        checked as the parameter it stands for.

    Attributes
    ----------
{attributes}
{fidelity_attributes}

    See Also
    --------
    TPESearchCV : cheaper per candidate, for long searches or many
        categorical and conditional parameters.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from sk_hpo import BayesSearchCV, Real
    >>> X, y = load_iris(return_X_y=True)
    >>> search = BayesSearchCV(SVC(), {{"C": Real(1e-2, 1e2, "log-uniform"),
    ...                                "kernel": ["rbf", "linear"]}},
    ...                        n_iter=15, random_state=0).fit(X, y)
    >>> bool(search.best_score_ > 0.95)
    True
    """

    _parameter_constraints: dict = {
        **BaseModelSearchCV._parameter_constraints,
        **_FIDELITY_CONSTRAINTS,
        "n_initial_points": [Interval(numbers.Integral, 1, None, closed="left")],
        "initial_point_generator": [StrOptions(set(INITIAL_POINT_GENERATORS))],
        "acq_func": [StrOptions(set(ACQ_FUNCS))],
        "xi": [Interval(numbers.Real, 0, None, closed="left")],
        "kappa": [Interval(numbers.Real, 0, None, closed="left")],
        "optimizer_kwargs": [dict, None],
    }

    def __init__(
        self,
        estimator,
        search_spaces,
        *,
        n_iter=50,
        scoring=None,
        n_jobs=None,
        n_points=1,
        refit=True,
        cv=None,
        verbose=0,
        pre_dispatch="2*n_jobs",
        random_state=None,
        error_score=np.nan,
        return_train_score=False,
        callbacks=None,
        initial_params=None,
        storage=None,
        study_name=None,
        resume=True,
        asynchronous=False,
        resource=None,
        min_resources="smallest",
        max_resources="auto",
        factor=3,
        hyperband=False,
        continuation="auto",
        model_directory=None,
        max_model_bytes=1_000_000_000,
        n_initial_points=10,
        initial_point_generator="sobol",
        acq_func="auto",
        xi=0.01,
        kappa=1.96,
        optimizer_kwargs=None,
    ):
        super().__init__(
            estimator,
            search_spaces,
            n_iter=n_iter,
            scoring=scoring,
            n_jobs=n_jobs,
            n_points=n_points,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            random_state=random_state,
            error_score=error_score,
            return_train_score=return_train_score,
            callbacks=callbacks,
            initial_params=initial_params,
            storage=storage,
            study_name=study_name,
            resume=resume,
            asynchronous=asynchronous,
        )
        self.resource = resource
        self.min_resources = min_resources
        self.max_resources = max_resources
        self.factor = factor
        self.hyperband = hyperband
        self.continuation = continuation
        self.model_directory = model_directory
        self.max_model_bytes = max_model_bytes
        self.n_initial_points = n_initial_points
        self.initial_point_generator = initial_point_generator
        self.acq_func = acq_func
        self.xi = xi
        self.kappa = kappa
        self.optimizer_kwargs = optimizer_kwargs

    def _optimizer_options(self):
        options = {
            "n_initial_points": self.n_initial_points,
            "initial_point_generator": self.initial_point_generator,
            "acq_func": self.acq_func,
            "xi": self.xi,
            "kappa": self.kappa,
        }
        constraints = {**self._parameter_constraints, **_ACQ_OPTIMIZER_CONSTRAINTS}
        options.update(_from_skopt_kwargs(self.optimizer_kwargs or {}, constraints))
        return options

    def _n_startup(self):
        return self._optimizer_options()["n_initial_points"]

    def _make_optimizer(self, space, seed):
        return GPOptimizer(space, seed, **self._optimizer_options())

    def _configure_workers(self, optimizer, n_workers):
        # Told one candidate at a time, the GP would refit its hyperparameters
        # at every result, and its proposals could not keep up with many
        # workers and fast fits: refit about as often as batches of one
        # candidate per free worker would (workers / splits), and only
        # condition on the new results in between.
        # Polishing the three acquisitions' best candidates is most of a
        # proposal: with several workers, polish them in one L-BFGS-B problem,
        # not three (one worker waits for every proposal whichever way, and
        # proposes as batches of one do).
        for part in getattr(optimizer, "optimizers", [optimizer]):  # sub-spaces: each
            if isinstance(part, GPOptimizer):
                part.refit_every = max(1, n_workers // self.n_splits_)
                part.polish_jointly = n_workers > 1


def _from_skopt_kwargs(kwargs, constraints):
    """scikit-optimize's ``optimizer_kwargs`` as GPOptimizer options.

    The keys are translated to the flat parameters' names, and each value
    is checked against that parameter's ``constraints`` (the error names
    the key as the user wrote it).
    """
    unknown = sorted(set(kwargs) - set(_SKOPT_KEYS), key=str)
    if unknown:
        raise ValueError(
            f"optimizer_kwargs: unknown key(s) {unknown}; supported are {sorted(_SKOPT_KEYS)}."
        )
    base = kwargs.get("base_estimator", "GP")
    if not isinstance(base, str) or base.upper() != "GP":
        raise ValueError(
            f"optimizer_kwargs['base_estimator']={_describe(base)} is not supported: "
            "BayesSearchCV's model is a Gaussian process ('GP'); TPESearchCV models "
            "with Parzen estimators."
        )
    acq_optimizer = kwargs.get("acq_optimizer", "auto")
    if acq_optimizer not in ("auto", "lbfgs", "sampling"):
        raise ValueError(
            f"optimizer_kwargs['acq_optimizer']={_describe(acq_optimizer)} is not one of "
            "('auto', 'lbfgs', 'sampling')."
        )
    given = {}  # the key as written -> (the parameter it stands for, its value)
    for key, value in kwargs.items():
        if _SKOPT_KEYS[key]:
            given[f"optimizer_kwargs[{key!r}]"] = (_SKOPT_KEYS[key], value)
    for key, allowed in (("acq_func_kwargs", {"xi": "xi", "kappa": "kappa"}),
                         ("acq_optimizer_kwargs", {"n_points": "n_candidates",
                                                   "n_restarts_optimizer": "n_polish"})):
        inner = kwargs.get(key) or {}
        if not isinstance(inner, dict) or set(inner) - set(allowed):
            raise ValueError(
                f"optimizer_kwargs[{key!r}] must be a dict with keys among "
                f"{sorted(allowed)}, got {_describe(inner)}."
            )
        given.update({f"optimizer_kwargs[{key!r}][{k!r}]": (allowed[k], v) for k, v in inner.items()})
    validate_parameter_constraints(
        {path: constraints[name] for path, (name, _) in given.items()},
        {path: value for path, (_, value) in given.items()},
        caller_name="BayesSearchCV",
    )
    options = {name: value for name, value in given.values()}
    if acq_optimizer == "sampling":
        options["n_polish"] = 0
    return options


_GENETIC_N_ITER = """\
    n_iter : int, default=None
        Distinct candidates to evaluate.  When given it wins over
        ``generations``: the search runs as many generations as it takes to
        evaluate ``n_iter`` candidates (the last one possibly incomplete),
        and warns that ``generations`` is ignored.  When None, the budget is
        ``population_size * (generations + 1)``.  A child equal to an
        evaluated candidate takes its known score and costs nothing."""


@_document(n_iter=_GENETIC_N_ITER, n_points=None)
class GeneticSearchCV(BaseModelSearchCV):
    """Genetic-algorithm search that never fits the same candidate twice.

    The first generation is a space-filling (Sobol) design of
    ``population_size`` candidates.  Each later generation is bred from the
    population: parents chosen by tournament, crossed over gene by gene (a
    blend of the two values for numbers, uniform for categories), and
    mutated (a Gaussian step for numbers whose size adapts by the
    one-fifth success rule, another value for categories).  The
    ``elitism`` best survive; the rest of the population is the best of
    the new generation.  A generation is one batch: its candidates are
    fitted in parallel with ``n_jobs``.  A child identical to a candidate
    already evaluated takes its known score, is not fitted again and does
    not count against the budget.  In a conditional space, parents of
    different branches do not mix, and a child never carries parameters of
    a branch it is not in.

    Parameters
    ----------
{common}
    population_size : int, default=10
        Individuals per generation; each generation evaluates this many new
        candidates, in parallel.
    generations : int, default=None
        Generations after the first one, when ``n_iter`` is None; None
        means 4 (50 candidates with the default population, as the other
        searches' ``n_iter``).
    crossover_probability : float, default=0.8
        Chance that a child has two parents rather than one.
    mutation_probability : float, default=None
        Chance that each parameter of a child mutates; None is ``1 / d``
        for a branch of ``d`` parameters.  A child that would copy its
        parent always gets one mutation.
    tournament_size : int, default=5
        Individuals drawn per tournament; the best becomes a parent.  5
        measured better than 2 and 3 (sklearn-genetic-opt's default) on
        our test functions (``benchmarks/results/genetic_defaults.md``).
    elitism : int, default=1
        The best individuals that survive into the next population whatever
        the new generation scores (at most ``population_size``).
    mutation_step : float, default=0.1
        Initial standard deviation of a numeric mutation, as a fraction of
        the parameter's range (of its logarithm for log-uniform ones).  It
        adapts after every generation: larger when more than a fifth of
        the children beat their better parent, smaller otherwise
        (Rechenberg's one-fifth rule), between 0.01 and 0.5.

    Attributes
    ----------
{attributes}
    history_ : dict of lists
        One entry per generation, like sklearn-genetic-opt's logbook:
        ``generation``, ``n_evaluated`` (distinct candidates so far),
        ``n_individuals`` (of this generation, counting repeats answered
        without a fit), ``n_failed``, ``best_score`` (best so far),
        ``max_score``, ``mean_score``, ``std_score``, ``min_score`` (of the
        generation's successful candidates) and ``mutation_step``.
        ``pandas.DataFrame(search.history_)`` gives the table.
    n_generations_ : int
        Generations run.

    See Also
    --------
    TPESearchCV, BayesSearchCV : model-based searches, better for small
        budgets of expensive fits.

    Notes
    -----
    ``cv_results_`` has a ``generation`` column: the generation of each
    candidate, counted from 0.  Stopping callbacks run after every
    generation; ``NoImprovementStopper(n_generations=...)`` counts
    generations.

    With ``asynchronous=True`` no generation waits for its last member:
    whenever a worker frees, a child is bred from the population as it
    stands (until the design has filled it, another design point), and the
    population is renewed as soon as ``population_size`` children have
    been scored, whichever they are.  ``generation`` is the population a
    candidate was bred from (0: the design); ``history_`` has a row per
    population, with the children scored while it was current; stopping
    callbacks run after every candidate, and
    ``NoImprovementStopper(n_generations=...)`` counts these generations.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from sk_hpo import GeneticSearchCV, Real
    >>> X, y = load_iris(return_X_y=True)
    >>> search = GeneticSearchCV(SVC(), {{"C": Real(1e-2, 1e2, "log-uniform"),
    ...                                  "kernel": ["rbf", "linear"]}},
    ...                          population_size=6, generations=2,
    ...                          random_state=0).fit(X, y)
    >>> len(search.cv_results_["params"]), search.n_generations_
    (18, 3)
    >>> bool(search.best_score_ > 0.95)
    True
    """

    # Generations only set the budget, which a stored algorithm state does not depend on.
    _NOT_ALGORITHM = frozenset({"generations"})

    _parameter_constraints: dict = {
        **BaseModelSearchCV._parameter_constraints,
        "n_iter": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "population_size": [Interval(numbers.Integral, 2, None, closed="left")],
        "generations": [Interval(numbers.Integral, 0, None, closed="left"), None],
        "crossover_probability": [Interval(numbers.Real, 0, 1, closed="both")],
        "mutation_probability": [Interval(numbers.Real, 0, 1, closed="both"), None],
        "tournament_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "elitism": [Interval(numbers.Integral, 0, None, closed="left")],
        "mutation_step": [Interval(numbers.Real, 0, 1, closed="right")],
    }
    _parameter_constraints.pop("n_points")

    def __init__(
        self,
        estimator,
        search_spaces,
        *,
        n_iter=None,
        scoring=None,
        n_jobs=None,
        refit=True,
        cv=None,
        verbose=0,
        pre_dispatch="2*n_jobs",
        random_state=None,
        error_score=np.nan,
        return_train_score=False,
        callbacks=None,
        initial_params=None,
        storage=None,
        study_name=None,
        resume=True,
        asynchronous=False,
        population_size=10,
        generations=None,
        crossover_probability=0.8,
        mutation_probability=None,
        tournament_size=5,
        elitism=1,
        mutation_step=0.1,
    ):
        super().__init__(
            estimator,
            search_spaces,
            n_iter=n_iter,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            random_state=random_state,
            error_score=error_score,
            return_train_score=return_train_score,
            callbacks=callbacks,
            initial_params=initial_params,
            storage=storage,
            study_name=study_name,
            resume=resume,
            asynchronous=asynchronous,
        )
        del self.n_points  # a generation is the batch
        self.population_size = population_size
        self.generations = generations
        self.crossover_probability = crossover_probability
        self.mutation_probability = mutation_probability
        self.tournament_size = tournament_size
        self.elitism = elitism
        self.mutation_step = mutation_step

    def _searches_subspaces(self):
        return False  # a population breeds across the whole space

    def _budget(self):
        if self.n_iter is not None:
            if self.generations is not None:
                warnings.warn(
                    f"GeneticSearchCV: n_iter={self.n_iter} and generations="
                    f"{self.generations} were both given; n_iter wins and generations "
                    "is ignored.",
                    UserWarning,
                )
            return self.n_iter
        generations = 4 if self.generations is None else self.generations
        return self.population_size * (generations + 1)

    def _batch_size(self):
        return self.population_size

    def _make_optimizer(self, space, seed):
        if self.elitism > self.population_size:
            raise ValueError(
                f"The 'elitism' parameter of GeneticSearchCV must be <= population_size="
                f"{self.population_size}, got {self.elitism}."
            )
        return GeneticAlgorithm(
            space,
            seed,
            population_size=self.population_size,
            tournament_size=self.tournament_size,
            crossover_probability=self.crossover_probability,
            mutation_probability=self.mutation_probability,
            elitism=self.elitism,
            mutation_step=self.mutation_step,
            steady_state=bool(self.asynchronous),
        )

    def _run_search(self, evaluate_candidates):
        super()._run_search(evaluate_candidates)
        self.history_ = _history_as_scores(self.optimizer_.history)
        self.n_generations_ = len(self.history_["generation"])


def _history_as_scores(history):
    """The optimizer's per-generation losses as scores (greater is better)."""

    def score(loss):
        return float(-loss) if np.isfinite(loss) else np.nan

    columns = {
        "generation": lambda e: e["generation"],
        "n_evaluated": lambda e: e["n_evaluated"],
        "n_individuals": lambda e: e["n_individuals"],
        "n_failed": lambda e: e["n_failed"],
        "best_score": lambda e: score(e["best_loss"]),
        "max_score": lambda e: score(e["min_loss"]),
        "mean_score": lambda e: score(e["mean_loss"]),
        "std_score": lambda e: e["std_loss"],
        "min_score": lambda e: score(e["max_loss"]),
        "mutation_step": lambda e: e["mutation_step"],
    }
    return {name: [get(entry) for entry in history] for name, get in columns.items()}
