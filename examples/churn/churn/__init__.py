"""The churn reference model for cd4ml-operator.

Modules, each importable on its own image:
    data        deterministic data sets per data version (standard library only)
    baseline    histograms at training quantiles, PSI (numpy)
    train       the TrainingRun's trainer (scikit-learn)
    metrics     the server's Prometheus collector
    feedback    self-contained request ids, feedback scoring
    server      the MLServer runtime; serve: the serving container's entry point
    traffic     traffic and feedback generator (standard library only)
"""
