variable "name" {
  description = "Name of the secret (and alias of its KMS key), e.g. pigeon/stage/rabbitmq."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9/_+=.@-]{1,512}$", var.name))
    error_message = "name may hold letters, digits and /_+=.@- only."
  }
}

variable "description" {
  description = "Description of the secret."
  type        = string
  default     = "RabbitMQ connection for Pigeon, JSON in one form: url (an amqps URL with its credentials), urls (a list of them, one per node), or host, username, password, port, virtual_host and tls."
}

variable "recovery_window_in_days" {
  description = "Days a deleted secret can be restored (0 deletes at once, 7-30 otherwise)."
  type        = number
  default     = 30

  validation {
    condition     = var.recovery_window_in_days == 0 || (var.recovery_window_in_days >= 7 && var.recovery_window_in_days <= 30)
    error_message = "recovery_window_in_days must be 0 or from 7 to 30."
  }
}

variable "key_deletion_window_in_days" {
  description = "Waiting period before the KMS key is deleted (7-30 days)."
  type        = number
  default     = 30

  validation {
    condition     = var.key_deletion_window_in_days >= 7 && var.key_deletion_window_in_days <= 30
    error_message = "key_deletion_window_in_days must be from 7 to 30."
  }
}

variable "tags" {
  description = "Tags for the secret and its key."
  type        = map(string)
  default     = {}
}
