"""RabbitMQ for development and tests, from Debian's rabbitmq-server: one owner for a node's
config, TLS, start and stop (`node`), the developer's node behind `make broker` and `make run`
(`local`), and the AMQP handshake probe (`probe`)."""
