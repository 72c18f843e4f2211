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

variable "tags" {
  description = "Tags for the dashboard's monitors, as key:value strings."
  type        = list(string)
  default     = []
}
