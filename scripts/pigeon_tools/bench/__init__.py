"""`make bench`: the built zip in the local runtime against a real local RabbitMQ, every figure
a ratio against a baseline or a limit measured in the same run, on the same machine."""
