"""The emulated Faktory server: ``server`` (the TCP protocol), ``broker`` (queues and jobs, no
sockets) and ``worker`` (the built-in worker that runs scripted jobs)."""
