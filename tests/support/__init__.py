"""What the test suites share; nothing here is collected as a test.

- ``polling``: ``poll_until`` / ``apoll_until``, the one way a test waits (deadlines, no fixed sleeps).
- ``blocking_io``: the ``no_blocking_io`` fixture (registered in tests/conftest.py) trigger tests run under.
- ``scripted``: ``Script``, the one scripted transport that drives an API's exchanges without a server.
- ``api_settings``: connection settings for the server-less (unit) tests.
- ``dagrun``: run a DAG with ``dag.test()`` and read back what it did.
- ``execution_api``: one in-process Execution API per test process on Airflow 3.1/3.2, as 3.3 keeps it.
- ``trigger_store``: a trigger rebuilt from its stored kwargs, as the triggerer gets it; its one event.
- ``triggerer``: Airflow 3.3's own TriggerRunner, driven in the test process (event watchers).
- ``events``: one profile per API for the event-watcher tests.
- ``jobs``: start scripted jobs on the emulator the way an upstream system would.
- ``emulator_http``, ``raw_faktory``: bare clients of the emulated HTTP APIs and of its Faktory port.
- ``odd_api``: a server that answers like a broken jobs API; ``tls``: a TLS front for the emulator.
- ``airflow_versions``: skip markers for tests that need a given Airflow version.
"""
