"""gunicorn settings for production: `gunicorn -c deploy/gunicorn.conf.py dienynas.wsgi:app`."""

import multiprocessing
import os

bind = os.environ.get("DIENYNAS_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("DIENYNAS_WORKERS", multiprocessing.cpu_count() * 2))
threads = int(os.environ.get("DIENYNAS_THREADS", 4))
worker_class = "gthread"
# One queue for all workers: a worker takes a connection only when one of its threads is free,
# so a request waits in the kernel's listen queue for whichever worker frees a thread first.
# With gunicorn's default (1000 connections a worker) the worker that happened to accept a
# connection kept it, and its queue, while others idled: under load the slowest 5 % of diary
# pages took four times the median (bench/README.md, 2026-12-07). nginx opens a connection per
# request (no upstream keep-alive), so gunicorn keeps none open.
worker_connections = threads
keepalive = 0
timeout = 60
graceful_timeout = 30
max_requests = 5000
max_requests_jitter = 500
# nginx (deploy/nginx.conf) writes the access log; gunicorn's own would repeat every line at a
# cost to each request (DIENYNAS_ACCESS_LOG=- turns it on, to standard output)
accesslog = os.environ.get("DIENYNAS_ACCESS_LOG") or None
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
