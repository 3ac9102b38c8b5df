#include "drivers/kafka/KafkaAdmin.h"

#include <memory>

namespace kapture {

namespace {

struct QueueDeleter {
  void operator()(rd_kafka_queue_t* q) const { rd_kafka_queue_destroy(q); }
};
struct EventDeleter {
  void operator()(rd_kafka_event_t* e) const { rd_kafka_event_destroy(e); }
};
using Queue = std::unique_ptr<rd_kafka_queue_t, QueueDeleter>;
using Event = std::unique_ptr<rd_kafka_event_t, EventDeleter>;

// Waits for the admin result; a request-level error becomes the Status.
Result<Event> await_result(rd_kafka_queue_t* q, const std::string& what, const std::string& endpoint) {
  Event ev(rd_kafka_queue_poll(q, 60000));
  if (!ev) return unreachable_error("Kafka at " + endpoint + ": " + what + " timed out");
  if (rd_kafka_event_error(ev.get()))
    return unreachable_error("Kafka at " + endpoint + ": " + what + " failed: " + rd_kafka_event_error_string(ev.get()));
  return ev;
}

// The first per-topic error, ignoring `ok_err`.
Status topic_errors(const rd_kafka_topic_result_t** results, size_t n, rd_kafka_resp_err_t ok_err, const std::string& what,
                    const std::string& endpoint) {
  for (size_t i = 0; i < n; ++i) {
    rd_kafka_resp_err_t e = rd_kafka_topic_result_error(results[i]);
    if (!e || e == ok_err) continue;
    std::string msg = "Kafka at " + endpoint + ": " + what + " ";
    msg += rd_kafka_topic_result_name(results[i]);
    msg += ": ";
    const char* s = rd_kafka_topic_result_error_string(results[i]);
    msg += s ? s : rd_kafka_err2str(e);
    return e == RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR || e == RD_KAFKA_RESP_ERR_INVALID_CONFIG ||
                   e == RD_KAFKA_RESP_ERR_INVALID_PARTITIONS
               ? usage_error(msg)
               : unreachable_error(msg);
  }
  return std::nullopt;
}

}  // namespace

Status create_topics(rd_kafka_t* rk, const std::vector<const TopicSpec*>& topics, const std::string& endpoint) {
  if (topics.empty()) return std::nullopt;
  std::vector<rd_kafka_NewTopic_t*> specs;
  auto free_specs = [&] {
    for (auto* x : specs) rd_kafka_NewTopic_destroy(x);
  };
  char err[512];
  for (const auto* t : topics) {
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(t->name.c_str(), t->partitions, t->replication_factor, err, sizeof err);
    if (!nt) {
      free_specs();
      return usage_error("topic " + t->name + ": " + err, t->where);
    }
    specs.push_back(nt);
    for (const auto& [k, v] : t->configs) {
      if (rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str())) {
        free_specs();
        return usage_error("topic " + t->name + ": cannot set config " + k, t->where);
      }
    }
  }
  Queue q(rd_kafka_queue_new(rk));
  rd_kafka_CreateTopics(rk, specs.data(), specs.size(), nullptr, q.get());
  free_specs();
  auto ev = await_result(q.get(), "CreateTopics", endpoint);
  if (!ev) return ev.error();
  const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev->get());
  size_t n = 0;
  const rd_kafka_topic_result_t** results = res ? rd_kafka_CreateTopics_result_topics(res, &n) : nullptr;
  return topic_errors(results, n, RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, "cannot create topic", endpoint);
}

Status delete_topics(rd_kafka_t* rk, const std::vector<std::string>& topics, const std::string& endpoint) {
  if (topics.empty()) return std::nullopt;
  std::vector<rd_kafka_DeleteTopic_t*> specs;
  for (const auto& t : topics) specs.push_back(rd_kafka_DeleteTopic_new(t.c_str()));
  Queue q(rd_kafka_queue_new(rk));
  rd_kafka_DeleteTopics(rk, specs.data(), specs.size(), nullptr, q.get());
  for (auto* x : specs) rd_kafka_DeleteTopic_destroy(x);
  auto ev = await_result(q.get(), "DeleteTopics", endpoint);
  if (!ev) return ev.error();
  const rd_kafka_DeleteTopics_result_t* res = rd_kafka_event_DeleteTopics_result(ev->get());
  size_t n = 0;
  const rd_kafka_topic_result_t** results = res ? rd_kafka_DeleteTopics_result_topics(res, &n) : nullptr;
  return topic_errors(results, n, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, "cannot delete topic", endpoint);
}

Result<std::map<std::string, std::map<std::string, std::string>>> describe_topic_configs(rd_kafka_t* rk,
                                                                                      const std::vector<std::string>& topics,
                                                                                      const std::string& endpoint) {
  std::map<std::string, std::map<std::string, std::string>> out;
  if (topics.empty()) return out;
  std::vector<rd_kafka_ConfigResource_t*> resources;
  for (const auto& t : topics) resources.push_back(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, t.c_str()));
  Queue q(rd_kafka_queue_new(rk));
  rd_kafka_DescribeConfigs(rk, resources.data(), resources.size(), nullptr, q.get());
  for (auto* r : resources) rd_kafka_ConfigResource_destroy(r);
  auto ev = await_result(q.get(), "DescribeConfigs", endpoint);
  if (!ev) return ev.error();
  const rd_kafka_DescribeConfigs_result_t* res = rd_kafka_event_DescribeConfigs_result(ev->get());
  size_t n = 0;
  const rd_kafka_ConfigResource_t** described = res ? rd_kafka_DescribeConfigs_result_resources(res, &n) : nullptr;
  for (size_t i = 0; i < n; ++i) {
    if (rd_kafka_ConfigResource_error(described[i])) continue;  // a topic that went away: nothing to say
    auto& configs = out[rd_kafka_ConfigResource_name(described[i])];
    size_t m = 0;
    const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(described[i], &m);
    for (size_t k = 0; k < m; ++k) {
      if (rd_kafka_ConfigEntry_source(entries[k]) != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG) continue;
      const char* v = rd_kafka_ConfigEntry_value(entries[k]);
      configs[rd_kafka_ConfigEntry_name(entries[k])] = v ? v : "";
    }
  }
  return out;
}

Status create_partitions(rd_kafka_t* rk, const std::string& topic, int total, const std::string& endpoint) {
  char err[512];
  rd_kafka_NewPartitions_t* np = rd_kafka_NewPartitions_new(topic.c_str(), static_cast<size_t>(total), err, sizeof err);
  if (!np) return usage_error("topic " + topic + ": " + err);
  Queue q(rd_kafka_queue_new(rk));
  rd_kafka_CreatePartitions(rk, &np, 1, nullptr, q.get());
  rd_kafka_NewPartitions_destroy(np);
  auto ev = await_result(q.get(), "CreatePartitions", endpoint);
  if (!ev) return ev.error();
  const rd_kafka_CreatePartitions_result_t* res = rd_kafka_event_CreatePartitions_result(ev->get());
  size_t n = 0;
  const rd_kafka_topic_result_t** results = res ? rd_kafka_CreatePartitions_result_topics(res, &n) : nullptr;
  return topic_errors(results, n, RD_KAFKA_RESP_ERR_NO_ERROR, "cannot add partitions to", endpoint);
}

}  // namespace kapture
