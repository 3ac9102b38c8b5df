#include "metrics/MetricCatalog.h"

namespace kapture {

const std::vector<MetricInfo>& metric_catalog() {
  static const std::vector<MetricInfo> catalog = {
      {"produce.latency", MetricKind::Histogram, MetricUnit::Microseconds,
       "intended send time (from the arrival schedule) to delivery report: coordinated-omission free"},
      {"produce.send_latency", MetricKind::Histogram, MetricUnit::Microseconds,
       "actual send (produce call) to delivery report"},
      {"produce.schedule_lag", MetricKind::Histogram, MetricUnit::Microseconds,
       "actual send minus intended send: how late the generator was"},
      {"produce.intended", MetricKind::Counter, MetricUnit::Count, "records the arrival schedule asked for"},
      {"produce.dropped", MetricKind::Counter, MetricUnit::Count,
       "records the schedule asked for that the generator never sent (it fell behind)"},
      {"produce.sent", MetricKind::Counter, MetricUnit::Count, "records handed to the Kafka client"},
      {"produce.acked", MetricKind::Counter, MetricUnit::Count, "records acknowledged by the brokers"},
      {"produce.failed", MetricKind::Counter, MetricUnit::Count,
       "records whose delivery failed (including those still unacknowledged when the run ended)"},
      {"produce.queue_full", MetricKind::Counter, MetricUnit::Count,
       "times the client's local queue was full (backpressure from the cluster)"},
      {"produce.bytes", MetricKind::Counter, MetricUnit::Bytes, "payload bytes acknowledged"},
      {"produce.in_flight", MetricKind::Gauge, MetricUnit::Count, "records sent but not yet acknowledged or failed"},
      {"etl.consumed", MetricKind::Counter, MetricUnit::Count, "records the ETL consumers read from Kafka"},
      {"etl.written", MetricKind::Counter, MetricUnit::Count, "records written to every sink and committed"},
      {"etl.redelivered", MetricKind::Counter, MetricUnit::Count, "records a sink already had (redelivery after a failure)"},
      {"etl.filtered", MetricKind::Counter, MetricUnit::Count, "records the transform dropped"},
      {"etl.dead_letter", MetricKind::Counter, MetricUnit::Count, "poison records (unparseable, no id): counted, skipped, listed in the summary"},
      {"etl.sink_errors", MetricKind::Counter, MetricUnit::Count, "failed sink writes (each retried with backoff)"},
      {"etl.rebalances", MetricKind::Counter, MetricUnit::Count, "consumer group rebalances (assignments and revocations)"},
      {"etl.commits", MetricKind::Counter, MetricUnit::Count, "offset commits"},
      {"etl.latency", MetricKind::Histogram, MetricUnit::Microseconds,
       "end to end: the record's creation time to the end of its sink write (wall clock)"},
      {"etl.redis.write_latency", MetricKind::Histogram, MetricUnit::Microseconds, "one batch written to Redis"},
      {"etl.postgres.write_latency", MetricKind::Histogram, MetricUnit::Microseconds, "one batch written to PostgreSQL"},
      {"etl.batch_size", MetricKind::Histogram, MetricUnit::Count, "records per sink batch"},
      {"etl.redis.written", MetricKind::Counter, MetricUnit::Count, "records written to Redis"},
      {"etl.postgres.written", MetricKind::Counter, MetricUnit::Count, "records written to PostgreSQL"},
      {"etl.lag", MetricKind::Gauge, MetricUnit::Count, "consumer lag: high watermark minus committed offset, summed over partitions"},
      {"ledger.acked", MetricKind::Counter, MetricUnit::Count, "acknowledged ids the ledger recorded"},
      {"ledger.failed", MetricKind::Counter, MetricUnit::Count, "ids whose send failed"},
      {"ledger.lost", MetricKind::Counter, MetricUnit::Count, "acknowledged but absent from PostgreSQL after the drain"},
      {"ledger.duplicates", MetricKind::Counter, MetricUnit::Count, "ids present more than once"},
      {"ledger.unexpected", MetricKind::Counter, MetricUnit::Count, "present in PostgreSQL but never acknowledged"},
      {"ledger.aggregate_mismatches", MetricKind::Counter, MetricUnit::Count,
       "Redis sales_by_state cells that differ from the sums over PostgreSQL rows"},
      {"chaos.injected", MetricKind::Counter, MetricUnit::Count, "chaos injections made"},
      {"chaos.undone", MetricKind::Counter, MetricUnit::Count, "chaos injections undone"},
      {"scale.steps", MetricKind::Counter, MetricUnit::Count, "scale steps done (each waited until it took effect)"},
      {"kafka.brokers", MetricKind::Gauge, MetricUnit::Count, "brokers the cluster's metadata lists as alive"},
      {"kafka.under_replicated", MetricKind::Gauge, MetricUnit::Count, "partitions with fewer in-sync replicas than replicas"},
      {"kafka.offline_partitions", MetricKind::Gauge, MetricUnit::Count, "partitions without a leader"},
      {"kafka.leader_changes", MetricKind::Counter, MetricUnit::Count,
       "partition leadership moves to another broker, seen by the cluster observer (polled)"},
      {"kafka.leader_recovery", MetricKind::Histogram, MetricUnit::Microseconds,
       "a broker taken out of service until every partition it led has a live leader again"},
      {"kafka.isr_recovery", MetricKind::Histogram, MetricUnit::Microseconds,
       "a broker back in service until no partition is under-replicated"},
      {"produce.retries", MetricKind::Counter, MetricUnit::Count, "produce requests the Kafka client retried (librdkafka statistics)"},
      {"produce.producer_restarts", MetricKind::Counter, MetricUnit::Count,
       "producers replaced after a fatal client error (their unacknowledged records count as failed)"},
      {"produce.client_errors", MetricKind::Counter, MetricUnit::Count,
       "errors the Kafka client reported (broker connections lost, all brokers down, ...)"},
      {"engine.cpu_percent", MetricKind::Gauge, MetricUnit::Count, "the engine process's CPU use in the last second (100 = one core)"},
      {"engine.rss_bytes", MetricKind::Gauge, MetricUnit::Bytes, "the engine process's resident memory"},
      {"http.latency", MetricKind::Histogram, MetricUnit::Microseconds,
       "http: intended send time (from the arrival schedule) to the response's end: coordinated-omission free"},
      {"http.response_latency", MetricKind::Histogram, MetricUnit::Microseconds,
       "http: the request actually going out on a connection to the response's end (what wrk and ab report)"},
      {"http.intended", MetricKind::Counter, MetricUnit::Count, "http requests the arrival schedule (or the closed loop) asked for"},
      {"http.sent", MetricKind::Counter, MetricUnit::Count, "http requests handed to the client"},
      {"http.dropped", MetricKind::Counter, MetricUnit::Count,
       "http requests the schedule asked for that were never sent (the client's backlog was full when their phase ended)"},
      {"http.responses", MetricKind::Counter, MetricUnit::Count, "http responses received (any status)"},
      {"http.status_2xx", MetricKind::Counter, MetricUnit::Count, "http responses with a 2xx status"},
      {"http.status_3xx", MetricKind::Counter, MetricUnit::Count, "http responses with a 3xx status"},
      {"http.status_4xx", MetricKind::Counter, MetricUnit::Count, "http responses with a 4xx status"},
      {"http.status_5xx", MetricKind::Counter, MetricUnit::Count, "http responses with a 5xx status"},
      {"http.timeouts", MetricKind::Counter, MetricUnit::Count, "http requests that ran out of their timeout"},
      {"http.connect_errors", MetricKind::Counter, MetricUnit::Count,
       "http requests that failed to connect (refused, unresolvable host, TLS handshake)"},
      {"http.errors", MetricKind::Counter, MetricUnit::Count,
       "http requests that failed otherwise (connection reset, protocol errors, still unanswered after the drain)"},
      {"http.check_failed", MetricKind::Counter, MetricUnit::Count, "http responses the Lua response() check refused"},
      {"http.bytes_in", MetricKind::Counter, MetricUnit::Bytes, "http bytes received: response headers and bodies"},
      {"http.bytes_out", MetricKind::Counter, MetricUnit::Bytes, "http bytes sent: request headers and bodies"},
      {"http.connections", MetricKind::Counter, MetricUnit::Count, "http connections the client opened (keep-alive reuses them)"},
      {"http.in_flight", MetricKind::Gauge, MetricUnit::Count, "http requests sent and not yet answered or failed"},
      {"sse.delivery_delay", MetricKind::Histogram, MetricUnit::Microseconds,
       "a message's arrival at an sse reader minus the send time it carries (the poster's intended send time)"},
      {"sse.events", MetricKind::Counter, MetricUnit::Count, "server-sent events the readers received (keep-alives not counted)"},
      {"sse.messages", MetricKind::Counter, MetricUnit::Count, "events carrying this run's messages (an id and a send time)"},
      {"sse.replayed", MetricKind::Counter, MetricUnit::Count, "events at a position the reader had seen, after a reconnect"},
      {"sse.unparsed", MetricKind::Counter, MetricUnit::Count, "events without a JSON id and send time"},
      {"sse.old_events", MetricKind::Counter, MetricUnit::Count, "events with messages sent before the run started"},
      {"sse.reconnects", MetricKind::Counter, MetricUnit::Count, "times a reader lost its stream and connected again"},
      {"sse.verified", MetricKind::Counter, MetricUnit::Count, "acknowledged (2xx) messages of the verified http workload, at the end"},
      {"sse.lost", MetricKind::Counter, MetricUnit::Count, "acknowledged messages some reader never received, at the end"},
      {"sse.duplicates", MetricKind::Counter, MetricUnit::Count, "messages a reader received at two or more positions of the topic"},
      {"sse.unacknowledged", MetricKind::Counter, MetricUnit::Count,
       "messages received whose post was not answered 2xx (a timed-out post that got through)"},
  };
  return catalog;
}

std::optional<MetricInfo> find_metric(std::string_view name) {
  for (const auto& m : metric_catalog()) {
    if (m.name == name) return m;
  }
  return std::nullopt;
}

std::vector<std::string_view> metric_label_names(std::string_view name) {
  // Recorded per topic by the producers' delivery reports.
  if (name == "produce.latency" || name == "produce.acked" || name == "produce.failed" || name == "produce.bytes") return {"topic"};
  return {};
}

}  // namespace kapture
