#pragma once
// A Kubernetes API load workload's metrics for the current second (see
// SecondRecorder): counters, histograms and gauges by series name, labelled
// ones included (kube.request_latency{resource="configmaps",verb="create"}).
// One per workload, shared by its threads under KubeMetrics' lock: a dense
// histogram per series and thread would cost megabytes at 1000 connections,
// and gauges (in flight, population) are the workload's, not a thread's.
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "metrics/Histogram.h"
#include "metrics/SecondRecorder.h"

namespace kapture {

class KubeRecorder : public SecondRecorder {
 public:
  // `always`: counters handed over every second, as 0 when nothing happened
  // (so `count(kube.errors) == 0` has data to judge).
  KubeRecorder(MetricsStore& store, const std::vector<std::string>& always) : SecondRecorder(store) {
    for (const auto& n : always) counters_[n] = 0;
  }

  void count(const std::string& name, int64_t n = 1) { counters_[name] += n; }
  void observe(const std::string& name, int64_t value) {
    auto& h = histograms_[name];
    if (!h) h = std::make_unique<Histogram>();
    h->record(value < 0 ? 0 : value);
  }
  // A gauge keeps its value until set again.
  void gauge(const std::string& name, double value) { gauges_[name] = value; }

 protected:
  void fill(SecondSample& s) const override {
    for (const auto& [name, v] : counters_) s.counters[name] = v;
    for (const auto& [name, v] : gauges_) s.gauges[name] = v;
    for (const auto& [name, h] : histograms_) put(s, name.c_str(), *h);
  }
  void clear() override {
    for (auto& [name, v] : counters_) v = 0;
    for (auto& [name, h] : histograms_)
      if (h->count()) h->reset();
  }

 private:
  std::map<std::string, int64_t> counters_;
  std::map<std::string, std::unique_ptr<Histogram>> histograms_;
  std::map<std::string, double> gauges_;
};

}  // namespace kapture
