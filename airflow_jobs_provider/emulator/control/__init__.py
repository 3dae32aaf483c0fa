"""The control endpoint under ``/_emulator/`` and its client.

``endpoint`` scripts jobs, inspects them and shows the access log; ``faults``, ``faktory`` and
``airbyte`` add the fault rules and the Faktory and Airbyte settings; ``client`` is the
stdlib-only ``EmulatorServer`` that tests and demos use from any thread or process.
"""
