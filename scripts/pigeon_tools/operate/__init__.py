"""Operating Pigeon: redrive the on-failure queue (`redrive`), backfill a date range from the
bucket (`backfill`). Both send events through the function itself, deployed or in the local
runtime, so that its one decision path applies."""
