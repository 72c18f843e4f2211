"""Pigeon: S3 raw-crash notifications to RabbitMQ queues for the crash processor."""
