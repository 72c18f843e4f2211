variable "region" {
  description = "AWS region of the bucket and the function."
  type        = string
  default     = "us-west-2"
}

variable "bucket_name" {
  description = "The existing crash-report bucket."
  type        = string
}

variable "artifact_dir" {
  description = "Directory, relative to this one, holding CI's pigeon.zip, pigeon.zip.sha256 and pigeon.version.json."
  type        = string
  default     = "artifact"
}

variable "traffic_enabled" {
  description = "The traffic gate, required: false on the first apply; true once the broker secret (output secret_arn) has a value."
  type        = bool
  nullable    = false
}
