variable "env" {
  description = "Environment tag of Pigeon's metrics (PIGEON_ENV)."
  type        = string
}

variable "service" {
  description = "Datadog's service tag of the monitors: the function's DD_SERVICE (the pigeon module passes one value to both)."
  type        = string
  default     = "pigeon"
  nullable    = false
}

variable "function_name" {
  description = "Name of the Lambda function, for the Lambda integration metrics (tag functionname)."
  type        = string
}

variable "notify" {
  description = "Who the monitors notify, as Datadog @-handles (e.g. [\"@pagerduty-socorro\", \"@slack-socorro-alerts\"])."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for h in var.notify : startswith(h, "@")])
    error_message = "notify must list Datadog @-handles."
  }
}

variable "accepted_window" {
  description = "Window for the accepted-dropped-to-zero monitor: no accepted crash in this long while the function runs."
  type        = string
  default     = "last_30m"

  validation {
    condition     = can(regex("^last_[0-9]+[mhd]$", var.accepted_window))
    error_message = "accepted_window must look like last_30m, last_1h or last_1d."
  }
}

variable "silence_window_minutes" {
  description = "The no-invocations monitor's window: no invocation this long (the alarms module's silence_window_minutes; Datadog alerts once data has been missing twice as long)."
  type        = number
  default     = 60
  nullable    = false

  validation {
    condition     = contains([5, 10, 15, 30, 60, 120, 240, 1440], var.silence_window_minutes)
    error_message = "silence_window_minutes must be 5, 10, 15, 30, 60, 120, 240 or 1440."
  }
}

variable "traffic_enabled" {
  description = "The traffic gate: the no-invocations monitor exists only once it is open (before, nothing invokes the function by design)."
  type        = bool
  nullable    = false
}

variable "tags" {
  description = "Tags for the dashboard's monitors, as key:value strings."
  type        = list(string)
  default     = []
}
