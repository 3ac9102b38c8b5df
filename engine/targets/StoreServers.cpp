#include "targets/StoreServers.h"

#include <spdlog/spdlog.h>

namespace kapture {

std::string StoreServers::redis_url(const Scenario& s) const {
  if (!s.redis.declared) return "";
  return !redis_override_.empty() ? redis_override_ : s.redis.url;
}

std::string StoreServers::postgres_url(const Scenario& s) const {
  if (!s.postgres.declared) return "";
  return !postgres_override_.empty() ? postgres_override_ : s.postgres.url;
}

Status StoreServers::start(const Scenario& s) {
  redis_url_ = redis_url(s);
  postgres_url_ = postgres_url(s);
  if (starts_redis(s)) {
    redis_server_ = std::make_unique<RedisServer>();
    if (auto err = redis_server_->start()) return err;
    redis_url_ = redis_server_->url();
    spdlog::debug("started redis-server at {}", redis_url_);
  }
  if (starts_postgres(s)) {
    postgres_server_ = std::make_unique<PostgresServer>();
    if (auto err = postgres_server_->start()) return err;
    postgres_url_ = postgres_server_->url();
    spdlog::debug("started PostgreSQL at {}", postgres_url_);
  }
  return std::nullopt;
}

void StoreServers::stop() {
  if (redis_server_) redis_server_->stop();
  if (postgres_server_) postgres_server_->stop();
  redis_server_.reset();
  postgres_server_.reset();
}

Result<ChaosInjection> StoreServers::inject(const ChaosAction& action) {
  ChaosInjection inj;
  switch (action.verb) {
    case ChaosVerb::RedisKill: {
      if (!redis_server_) return usage_error("redis-kill needs a Redis the engine started");
      RedisServer* r = redis_server_.get();
      inj.undo = [r]() -> Status { return r->restart(); };
      if (auto err = r->kill_and_restart_later()) return *err;
      inj.description = "redis-server killed (SIGKILL); restarted when the step ends";
      inj.details = {{"store", "redis"}, {"signal", "SIGKILL"}};
      return inj;
    }
    case ChaosVerb::RedisPause: {
      if (!redis_server_) return usage_error("redis-pause needs a Redis the engine started");
      RedisServer* r = redis_server_.get();
      inj.undo = [r]() -> Status { return r->resume(); };
      if (auto err = r->pause()) return *err;
      inj.description = "redis-server paused (SIGSTOP)";
      inj.details = {{"store", "redis"}, {"signal", "SIGSTOP"}};
      return inj;
    }
    case ChaosVerb::PostgresKill: {
      if (!postgres_server_) return usage_error("postgres-kill needs a PostgreSQL the engine started");
      PostgresServer* p = postgres_server_.get();
      inj.undo = [p]() -> Status { return p->restart(); };
      if (auto err = p->kill_hard()) return *err;
      inj.description = "postgres killed (SIGKILL); restarted (crash recovery) when the step ends";
      inj.details = {{"store", "postgres"}, {"signal", "SIGKILL"}};
      return inj;
    }
    case ChaosVerb::PostgresPause: {
      if (!postgres_server_) return usage_error("postgres-pause needs a PostgreSQL the engine started");
      PostgresServer* p = postgres_server_.get();
      inj.undo = [p]() -> Status { return p->resume(); };
      if (auto err = p->pause()) return *err;
      inj.description = "postgres paused (SIGSTOP)";
      inj.details = {{"store", "postgres"}, {"signal", "SIGSTOP"}};
      return inj;
    }
    default: return runtime_error(std::string("internal: ") + chaos_verb_name(action.verb) + " is not a store action");
  }
}

std::vector<Error> check_store_chaos(const Scenario& s, const StoreServers& stores) {
  std::vector<Error> errors;
  for (const auto& phase : s.phases) {
    for (const auto& step : phase.steps) {
      bool redis = step.verb == ChaosVerb::RedisKill || step.verb == ChaosVerb::RedisPause;
      bool pg = step.verb == ChaosVerb::PostgresKill || step.verb == ChaosVerb::PostgresPause;
      if (redis && !stores.starts_redis(s))
        errors.push_back(usage_error(std::string(chaos_verb_name(step.verb)) +
                                         " needs a Redis the engine starts; one given by url is left alone",
                                     step.where));
      if (pg && !stores.starts_postgres(s))
        errors.push_back(usage_error(std::string(chaos_verb_name(step.verb)) +
                                         " needs a PostgreSQL the engine starts; one given by url is left alone",
                                     step.where));
    }
  }
  return errors;
}

}  // namespace kapture
