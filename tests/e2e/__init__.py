"""End-to-end suite: a live Airflow 3.3 deployment on loopback (``make test-e2e``)."""
