"""The paper's experiments as a resumable command: ``python -m baselines_tf2.reproduce --help``.

``grid`` lists the runs, ``runner`` runs them as separate processes, ``random_policy`` measures
Table 1's zero point, ``report`` rebuilds tables and plots from the committed curves.
"""
