"""The sans-I/O layer: one adapter per jobs API, no sockets, no event loop (``registry.build_api`` picks one).

Nothing is imported here, so a DAG file that needs ``Job`` or ``JobStatus`` (apis/job.py) does
not load every adapter while the DAG processor parses it.
"""
