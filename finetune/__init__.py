"""Training backends and the out-of-fold engine.

Every backend follows scikit-learn's estimator contract (``fit`` / ``predict_proba`` /
``classes_``) and is registered once in :mod:`finetune.backends.registry`.
"""
