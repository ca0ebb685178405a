"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py dienynas.wsgi:app`."""

import multiprocessing
import os

bind = os.environ.get("DIENYNAS_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("DIENYNAS_WORKERS", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("DIENYNAS_THREADS", 4))
worker_class = "gthread"
timeout = 60
graceful_timeout = 30
keepalive = 5
max_requests = 5000
max_requests_jitter = 500
# nginx (deploy/nginx.conf) writes the access log; gunicorn's own would repeat every line at a
# cost to each request (DIENYNAS_ACCESS_LOG=- turns it on, to standard output)
accesslog = os.environ.get("DIENYNAS_ACCESS_LOG") or None
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
