#include "plan/Plan.h"

#include <cstdio>
#include <random>
#include <sstream>

#include "common/Units.h"

namespace kapture {

Plan resolve_plan(const Scenario& s, const std::string& target_name) {
  Plan plan;
  plan.scenario = &s;
  plan.seed = s.seed;
  plan.target = target_name;
  // Chaos picks have their own stream so adding a workload does not change
  // which broker goes down.
  std::mt19937_64 rng(s.seed ^ 0x6b61707475726521ULL);
  std::map<std::string, LoadSpec> current;
  for (const auto& w : s.workloads) current[w.name] = LoadSpec{};  // idle until a phase names it
  int64_t t = 0;
  for (const auto& ph : s.phases) {
    PlannedPhase p;
    p.name = ph.name;
    p.nominal_start_us = t;
    p.duration_us = ph.duration_us;
    for (const auto& u : ph.until) p.until.push_back(&u);
    if (ph.benchmark) p.benchmark = &*ph.benchmark;
    for (const auto& [name, load] : ph.loads) current[name] = load;
    p.loads = current;
    // A ramp ends at its `to` rate; the next phase that does not name the
    // workload keeps that rate.
    for (auto& [name, load] : current) {
      if (load.kind == LoadSpec::Kind::Ramp) {
        LoadSpec steady;
        steady.rate = load.to;
        steady.where = load.where;
        load = steady;
      }
    }
    for (const auto& step : ph.steps) {
      std::vector<int64_t> offsets;
      if (step.at_us) offsets.push_back(*step.at_us);
      else if (step.every_us && *step.every_us > 0)
        for (int64_t o = step.start_us; o + step.for_us <= ph.duration_us; o += *step.every_us) offsets.push_back(o);
      std::map<int, int64_t> last_hit;  // broker -> offset of this step's last hit on it
      for (int64_t o : offsets) {
        PlannedInjection inj;
        inj.offset_us = o;
        inj.for_us = step.for_us;
        inj.action.verb = step.verb;
        inj.action.broker = step.broker;
        inj.action.delay_us = step.delay_us;
        inj.action.workload = step.workload;
        inj.action.count = step.count;
        inj.action.topic = step.topic;
        inj.action.partitions = step.partitions;
        inj.action.dry_run = step.dry_run;
        inj.action.rate = step.rate;
        inj.action.threads = step.threads;
        inj.action.pods = step.pods;
        inj.action.node = step.node;
        inj.action.grace_period_us = step.grace_period_us;
        inj.action.kube_name = step.kube_name;
        inj.action.kube_namespace = step.kube_namespace;
        inj.action.replicas = step.replicas;
        inj.action.for_us = step.for_us;
        if (chaos_verb_is_kube(step.verb)) inj.action.seed = rng();
        inj.where = step.where;
        inj.step_name = step.name;
        if (!chaos_verb_takes_broker(step.verb) || step.broker.kind != BrokerChoice::Kind::Random) {
          p.injections.push_back(inj);
          continue;
        }
        // chaoskube's rules: `count` distinct brokers per hit, none hit again
        // within `spacing` or while this step still holds it down.
        std::vector<int> eligible;
        for (int b = 1; b <= std::max(1, s.kafka.brokers); ++b) {
          auto it = last_hit.find(b);
          if (it == last_hit.end() || (o - it->second >= step.spacing_us && o - it->second >= step.for_us)) eligible.push_back(b);
        }
        for (int k = 0; k < step.count && !eligible.empty(); ++k) {
          size_t pick = static_cast<size_t>(rng() % eligible.size());
          inj.action.broker.kind = BrokerChoice::Kind::Id;
          inj.action.broker.id = eligible[pick];
          last_hit[eligible[pick]] = o;
          eligible.erase(eligible.begin() + static_cast<long>(pick));
          p.injections.push_back(inj);
        }
      }
    }
    t += ph.duration_us;
    plan.phases.push_back(p);
  }
  plan.total_us = t;
  return plan;
}

std::map<std::string, int64_t> expected_records(const Plan& plan) {
  std::map<std::string, int64_t> out;
  for (const auto& p : plan.phases) {
    double secs = static_cast<double>(p.duration_us) / 1e6;
    for (const auto& [name, l] : p.loads) {
      if (out[name] < 0) continue;
      if (l.kind == LoadSpec::Kind::Max) out[name] = -1;
      else if (l.kind == LoadSpec::Kind::Ramp) out[name] += static_cast<int64_t>((l.from + l.to) / 2 * secs);
      else out[name] += static_cast<int64_t>(l.rate * secs);
    }
  }
  return out;
}

std::string describe_load(const LoadSpec& l) {
  switch (l.kind) {
    case LoadSpec::Kind::Max: return "max (as fast as the target accepts)";
    case LoadSpec::Kind::Ramp: return "ramp " + format_rate(l.from) + " -> " + format_rate(l.to);
    case LoadSpec::Kind::Rate:
      if (l.rate == 0) return "idle";
      return format_rate(l.rate) + (l.arrivals == Arrivals::Poisson ? " poisson" : " constant");
  }
  return "?";
}

static std::string describe_action(const PlannedInjection& i) {
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "x" + std::string&&.
  std::string s = i.action.dry_run ? "dry run: " : "";
  s += chaos_verb_name(i.action.verb);
  if (chaos_verb_takes_broker(i.action.verb)) {
    s += ' ';
    s += i.action.broker.describe();
  }
  if (i.action.verb == ChaosVerb::ConsumerCrash) {
    s += ' ';
    s += i.action.workload;
  }
  if (i.action.verb == ChaosVerb::BrokerDelay) {
    s += " +";
    s += format_duration_us(i.action.delay_us);
  }
  if (i.action.verb == ChaosVerb::AddBrokers) {
    s += ' ';
    s += std::to_string(i.action.count);
  }
  if (i.action.verb == ChaosVerb::AddPartitions) {
    s += ' ';
    s += i.action.topic;
    s += " to ";
    s += std::to_string(i.action.partitions);
  }
  if (i.action.verb == ChaosVerb::ScaleProducer) {
    s += ' ';
    s += i.action.workload;
    if (i.action.rate >= 0) {
      s += " rate ";
      s += format_rate(i.action.rate);
    }
    if (i.action.threads > 0) {
      s += " threads ";
      s += std::to_string(i.action.threads);
    }
  }
  if (i.action.verb == ChaosVerb::PodKill || i.action.verb == ChaosVerb::PodEvict) {
    s += ' ';
    s += i.action.pods.describe();
    if (i.action.count > 1) s += " (" + std::to_string(i.action.count) + " per hit)";
    if (i.action.grace_period_us >= 0) s += ", grace " + format_duration_us(i.action.grace_period_us);
    return s;
  }
  if (i.action.verb == ChaosVerb::NodeCordon || i.action.verb == ChaosVerb::NodeDrain) {
    s += ' ';
    s += i.action.node.describe();
  }
  if (i.action.verb == ChaosVerb::ScaleStatefulSet || i.action.verb == ChaosVerb::ScaleDeployment) {
    s += '/';
    s += i.action.kube_name;
    s += " to ";
    s += std::to_string(i.action.replicas);
    s += i.for_us > 0 ? ", restored after " + format_duration_us(i.for_us) : std::string(", restored at the end of the run");
    return s;
  }
  if (chaos_verb_is_scale(i.action.verb)) return s;
  s += " for ";
  s += format_duration_us(i.for_us);
  return s;
}

std::string format_plan(const Plan& plan) {
  const Scenario& s = *plan.scenario;
  std::ostringstream o;
  o << "plan: " << s.name << " (seed " << plan.seed << ", target " << plan.target << ")\n";
  if (s.workers > 0)
    o << "workers: " << s.workers << " (the kafka-producer workloads run in " << s.workers
      << (plan.target == "kubernetes" ? " pods of an Indexed Job" : " worker processes") << ", each with 1/" << s.workers << " of every rate)\n";
  if (!s.kafka.topics.empty()) {
    o << "topics:\n";
    for (const auto& t : s.kafka.topics)
      o << "  " << t.name << "  partitions " << t.partitions << ", replication " << t.replication_factor << "\n";
  }
  if (s.webapp.declared)
    o << "webapp: " << (s.webapp.url.empty() ? "started for the run (serve webapp, acks " + s.webapp.acks + ")" : s.webapp.url) << "\n";
  for (const auto& r : s.sses)
    o << "sse " << r.name << ": " << r.connections << (r.connections == 1 ? " reader of " : " readers of ") << r.url
      << (r.verifies.empty() ? "" : ", each must get every message " + r.verifies + " had answered 2xx") << "\n";
  o << "timeline:\n";
  char buf[256];
  for (const auto& p : plan.phases) {
    std::string len = format_duration_us(p.duration_us);
    if (!p.until.empty()) len = "<= " + len;
    std::snprintf(buf, sizeof buf, "  +%-8s phase %-12s %s", format_duration_us(p.nominal_start_us).c_str(), p.name.c_str(), len.c_str());
    o << buf;
    for (size_t i = 0; i < p.until.size(); ++i) o << (i ? " and " : ", ends when ") << p.until[i]->text;
    o << "\n";
    for (const auto& [name, l] : p.loads) o << "             load  " << name << ": " << describe_load(l) << "\n";
    for (const auto& i : p.injections) {
      std::snprintf(buf, sizeof buf, "  +%-8s   %s %s", format_duration_us(p.nominal_start_us + i.offset_us).c_str(),
                    chaos_verb_is_scale(i.action.verb) ? "scale" : "chaos", describe_action(i).c_str());
      o << buf;
      if (!chaos_verb_is_scale(i.action.verb) && i.action.verb != ChaosVerb::PodKill && i.action.verb != ChaosVerb::PodEvict) o << "  (undo at +" << format_duration_us(p.nominal_start_us + i.offset_us + i.for_us) << ")";
      o << "\n";
    }
  }
  o << "total: " << format_duration_us(plan.total_us) << (plan.total_us ? " at most" : "") << "\n";
  for (const auto& [name, n] : expected_records(plan))
    o << "records: " << name << " " << (n < 0 ? std::string("unbounded (max rate)") : "about " + std::to_string(n)) << "\n";
  if (!s.expectations.empty()) {
    o << "expect:\n";
    for (const auto& e : s.expectations) o << "  " << e.text() << "\n";
  }
  return o.str();
}

nlohmann::json plan_to_json(const Plan& plan) {
  nlohmann::json j;
  j["scenario"] = plan.scenario->name;
  j["seed"] = plan.seed;
  j["target"] = plan.target;
  if (plan.scenario->workers > 0) j["workers"] = plan.scenario->workers;
  j["total_us"] = plan.total_us;
  for (const auto& p : plan.phases) {
    nlohmann::json pj;
    pj["name"] = p.name;
    pj["nominal_start_us"] = p.nominal_start_us;
    pj["duration_us"] = p.duration_us;
    for (const auto* u : p.until) pj["until"].push_back(u->text);
    for (const auto& [name, l] : p.loads) pj["loads"][name] = describe_load(l);
    pj["injections"] = nlohmann::json::array();
    for (const auto& i : p.injections)
      pj["injections"].push_back({{"offset_us", i.offset_us},
                                  {"for_us", i.for_us},
                                  {"verb", chaos_verb_name(i.action.verb)},
                                  {"broker", chaos_verb_takes_broker(i.action.verb) ? i.action.broker.describe() : ""},
                                  {"delay_us", i.action.delay_us},
                                  {"dry_run", i.action.dry_run}});
    j["phases"].push_back(pj);
  }
  return j;
}

}  // namespace kapture
