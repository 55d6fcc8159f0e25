/// The feedback journal: per-producer rings, side thread, durable local log, PostgreSQL and Redis sinks.
