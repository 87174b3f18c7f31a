"""What the running system tells its operators: structured log lines carrying the id
of the request that caused them (logs.py), and Prometheus metrics (metrics.py).

Neither imports Flask: the web app (views/observability.py, views/metrics.py) and the
worker (tasks.py) both use them.
"""
