#include "drivers/redis/RedisSink.h"

#include "drivers/JsonFields.h"

#include <sys/time.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <set>
#include <string_view>
#include <utility>

namespace kapture {

namespace {

// Applies a transaction's aggregates at most once: `seen:<id>` is set NX and
// only a new id increments. KEYS: seen:<id>, then sales:<state> (when
// ARGV[1] == '1'), then store:<id> (when ARGV[2] == '1'). ARGV[3]: total;
// ARGV[4]: number of product lines n, then n pairs category, quantity.
// The hashes' types are checked first, so a failing script writes nothing
// (Redis does not roll back a script that fails halfway).
const char kAggregateScript[] = R"(for k = 2, #KEYS do
  local t = redis.call('TYPE', KEYS[k])['ok']
  if t ~= 'hash' and t ~= 'none' then
    return redis.error_reply('WRONGTYPE ' .. KEYS[k] .. ' holds a ' .. t .. ', not a hash')
  end
end
if redis.call('SET', KEYS[1], '1', 'NX') then
  local k = 2
  if ARGV[1] == '1' then
    local n = tonumber(ARGV[4])
    for i = 1, n do
      redis.call('HINCRBY', KEYS[k], ARGV[3 + 2 * i], ARGV[4 + 2 * i])
    end
    k = k + 1
  end
  if ARGV[2] == '1' then
    redis.call('HINCRBY', KEYS[k], 'transactions', 1)
    redis.call('HINCRBYFLOAT', KEYS[k], 'revenue', ARGV[3])
  end
  return 1
end
return 0
)";

const char kSalesPrefix[] = "sales:";
const char kStorePrefix[] = "store:";
const char kSeenPrefix[] = "seen:";

struct ReplyDeleter {
  void operator()(redisReply* r) const {
    if (r) freeReplyObject(r);
  }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

std::string reply_text(const redisReply* r) { return std::string(r->str ? r->str : "", r->len); }

timeval to_timeval(int ms) {
  if (ms <= 0) ms = 5000;
  timeval tv{};
  tv.tv_sec = ms / 1000;
  tv.tv_usec = static_cast<suseconds_t>((ms % 1000) * 1000);
  return tv;
}

// One command, binary-safe, waiting for its reply.
ReplyPtr command_argv(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<size_t> lens;
  for (const auto& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  return ReplyPtr(static_cast<redisReply*>(redisCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data())));
}

std::string record_label(const SinkRecord& r) {
  std::string s = "record '";
  s += r.id;
  s += "'";
  return s;
}

Status fill(const FieldTemplate& t, const SinkRecord& r, std::string& out) {
  out.clear();
  std::string piece;
  for (const auto& part : t.parts) {
    if (!part.is_field) {
      out += part.text;
      continue;
    }
    const nlohmann::json* v = json_at(r.doc, part.path);
    if (v && json_scalar_text(*v, piece)) {
      out += piece;
    } else if (part.text == "id" && !r.id.empty()) {
      out += r.id;
    } else {
      std::string msg = record_label(r);
      msg += " has no string or number field '";
      msg += part.text;
      msg += "' (needed by the redis key template '";
      msg += t.source;
      msg += "')";
      return runtime_error(msg);
    }
  }
  return std::nullopt;
}

// SCAN MATCH pattern for a template: literals escaped, fields as '*'.
std::string glob_for(const FieldTemplate& t) {
  std::string g;
  for (const auto& part : t.parts) {
    if (part.is_field) {
      if (g.empty() || g.back() != '*') g += '*';
      continue;
    }
    for (char c : part.text) {
      if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') g += '\\';
      g += c;
    }
  }
  if (g.empty()) return std::string(1, '*');  // not g = "*": GCC 12 -Wrestrict false positive
  return g;
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

Result<int64_t> integral(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_unsigned()) return static_cast<int64_t>(v.get<uint64_t>());
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) return static_cast<int64_t>(d);
  }
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (!s.empty()) {
      char* end = nullptr;
      errno = 0;
      long long x = std::strtoll(s.c_str(), &end, 10);
      if (errno == 0 && end && *end == '\0') return static_cast<int64_t>(x);
    }
  }
  return runtime_error("not an integer");
}

std::string number_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump();  // shortest text that reads back as the same double
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool percent_decode(const std::string& in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

bool all_digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

nlohmann::json reply_to_json(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_INTEGER: return static_cast<int64_t>(r->integer);
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS: return reply_text(r);
    case REDIS_REPLY_NIL: return nullptr;
    case REDIS_REPLY_ARRAY: {
      nlohmann::json a = nlohmann::json::array();
      for (size_t i = 0; i < r->elements; ++i) a.push_back(reply_to_json(r->element[i]));
      return a;
    }
    default: return reply_text(r);  // errors inside arrays (EXEC) as text
  }
}

// Error replies that mean "not ready yet" rather than "wrong".
bool transient_reply_error(const std::string& msg) {
  return starts_with(msg, "LOADING") || starts_with(msg, "MASTERDOWN") || starts_with(msg, "TRYAGAIN") ||
         starts_with(msg, "BUSY ");
}

}  // namespace

// ---------------------------------------------------------------------------
// URL
// ---------------------------------------------------------------------------

Result<RedisSinkOptions> parse_redis_url(const std::string& url) {
  RedisSinkOptions o;
  // Messages show the URL with any password replaced.
  std::string shown = url;
  auto fail = [&](const std::string& why) -> Error {
    std::string msg = "redis URL '";
    msg += shown;
    msg += "': ";
    msg += why;
    return usage_error(msg);
  };
  const std::string scheme = "redis://";
  size_t at = url.rfind('@');
  size_t sep = url.find("://");
  if (at != std::string::npos && sep != std::string::npos && at >= sep + 3) {
    size_t colon = url.find(':', sep + 3);
    shown = url.substr(0, colon != std::string::npos && colon < at ? colon + 1 : sep + 3);
    shown += "***";
    shown += url.substr(at);
  }
  if (url.size() < scheme.size() || url.compare(0, scheme.size(), scheme) != 0) {
    if (url.rfind("rediss://", 0) == 0) return fail("TLS (rediss://) is not supported");
    if (url.rfind("unix://", 0) == 0) return fail("unix sockets are not supported; use redis://host:port");
    return fail("expected redis://[[user]:password@]host[:port][/db]");
  }
  std::string rest = url.substr(scheme.size());
  if (rest.find('?') != std::string::npos || rest.find('#') != std::string::npos)
    return fail("query parameters and fragments are not supported");
  at = rest.rfind('@');
  if (at != std::string::npos) {
    std::string userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    size_t colon = userinfo.find(':');
    if (colon == std::string::npos)
      return fail("give the password as ':password@' (or 'user:password@'), not 'password@'");
    if (!percent_decode(userinfo.substr(0, colon), o.username) ||
        !percent_decode(userinfo.substr(colon + 1), o.password))
      return fail("bad %-escape in the user or password");
    if (o.password.empty()) return fail("empty password after ':'");
  }
  std::string hostport = rest, path;
  size_t slash = rest.find('/');
  if (slash != std::string::npos) {
    hostport = rest.substr(0, slash);
    path = rest.substr(slash + 1);
  }
  std::string port_text;
  if (!hostport.empty() && hostport[0] == '[') {
    size_t close = hostport.find(']');
    if (close == std::string::npos) return fail("'[' without ']' in the host");
    o.host = hostport.substr(1, close - 1);
    std::string after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return fail("unexpected text after the host");
      port_text = after.substr(1);
      if (port_text.empty()) return fail("empty port after ':'");
    }
  } else {
    size_t colon = hostport.find(':');
    o.host = hostport.substr(0, colon);
    if (colon != std::string::npos) {
      port_text = hostport.substr(colon + 1);
      if (port_text.empty()) return fail("empty port after ':'");
    }
  }
  if (o.host.empty()) return fail("no host");
  if (!port_text.empty()) {
    if (!all_digits(port_text) || port_text.size() > 5) return fail("port '" + port_text + "' is not a number");
    int port = std::stoi(port_text);
    if (port < 1 || port > 65535) return fail("port " + port_text + " is out of range (1-65535)");
    o.port = port;
  }
  if (!path.empty()) {
    if (!all_digits(path) || path.size() > 9) return fail("database '" + path + "' is not a number");
    o.db = std::stoi(path);
  }
  return o;
}

// ---------------------------------------------------------------------------
// Connection
// ---------------------------------------------------------------------------

RedisSink::RedisSink(RedisSinkOptions options)
    : options_(std::move(options)), key_(parse_field_template(options_.key_template)) {}

std::string RedisSink::endpoint() const {
  std::string e;
  if (options_.host.find(':') != std::string::npos) {
    e += '[';
    e += options_.host;
    e += ']';
  } else {
    e += options_.host;
  }
  e += ':';
  e += std::to_string(options_.port);
  e += '/';
  e += std::to_string(options_.db);
  return e;
}

Error RedisSink::io_error(const std::string& doing) {
  std::string msg = "redis ";
  msg += endpoint();
  msg += ": ";
  msg += doing;
  msg += ": ";
  if (ctx_ && ctx_->err) {
    std::string reason = ctx_->errstr;
    if (reason.find("temporarily unavailable") != std::string::npos ||
        reason.find("timed out") != std::string::npos) {  // the socket timeout (EAGAIN)
      msg += "no answer within ";
      msg += std::to_string(options_.timeout_ms > 0 ? options_.timeout_ms : 5000);
      msg += " ms (server paused or overloaded?)";
    } else {
      msg += reason;
    }
  } else {
    msg += "connection lost";
  }
  ctx_.reset();
  return unreachable_error(msg);
}

Error RedisSink::reply_error(const std::string& doing, const std::string& message) {
  std::string msg = "redis ";
  msg += endpoint();
  msg += ": ";
  msg += doing;
  msg += ": ";
  msg += message;
  ctx_.reset();
  return transient_reply_error(message) ? unreachable_error(msg) : runtime_error(msg);
}

Status RedisSink::connect() {
  ctx_.reset();
  timeval tv = to_timeval(options_.timeout_ms);
  redisContext* raw = options_.host.size() > 0 && options_.host[0] == '/'
                          ? redisConnectUnixWithTimeout(options_.host.c_str(), tv)
                          : redisConnectWithTimeout(options_.host.c_str(), options_.port, tv);
  if (!raw) {
    std::string msg = "redis ";
    msg += endpoint();
    msg += ": cannot connect: out of memory";
    return unreachable_error(msg);
  }
  ctx_.reset(raw);
  if (ctx_->err) return io_error("cannot connect");
  if (redisSetTimeout(ctx_.get(), tv) != REDIS_OK) return io_error("cannot set the timeout");

  auto run = [&](std::vector<std::string> argv, const std::string& doing) -> Status {
    ReplyPtr r = command_argv(ctx_.get(), argv);
    if (!r) return io_error(doing);
    if (r->type == REDIS_REPLY_ERROR) {
      Error e = reply_error(doing, reply_text(r.get()));
      e.kind = ErrorKind::Unreachable;  // connect() only fails as unreachable
      return e;
    }
    return std::nullopt;
  };
  if (!options_.password.empty()) {
    std::vector<std::string> argv{"AUTH"};
    if (!options_.username.empty()) argv.push_back(options_.username);
    argv.push_back(options_.password);
    if (auto err = run(argv, "AUTH failed")) return err;
  }
  if (options_.db != 0) {
    if (auto err = run({"SELECT", std::to_string(options_.db)}, "SELECT failed")) return err;
  } else if (options_.password.empty()) {
    if (auto err = run({"PING"}, "PING failed")) return err;
  }
  return std::nullopt;
}

Status RedisSink::ensure_connected() {
  if (ctx_) return std::nullopt;
  return connect();
}

Result<std::string> RedisSink::load_script() {
  if (auto err = ensure_connected()) return *err;
  ReplyPtr r(static_cast<redisReply*>(redisCommand(ctx_.get(), "SCRIPT LOAD %s", kAggregateScript)));
  if (!r) return io_error("SCRIPT LOAD");
  if (r->type == REDIS_REPLY_ERROR) return reply_error("SCRIPT LOAD", reply_text(r.get()));
  if (r->type != REDIS_REPLY_STRING) return reply_error("SCRIPT LOAD", "unexpected reply type");
  script_sha_ = reply_text(r.get());
  return script_sha_;
}

Status RedisSink::prepare() {
  if (!options_.sales_by_state && !options_.store_counters) return std::nullopt;
  auto sha = load_script();
  if (!sha) return sha.error();
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------

namespace {

void append_bulk(std::string& out, std::string_view s) {
  out += '$';
  out += std::to_string(s.size());
  out += "\r\n";
  out += s;
  out += "\r\n";
}

}  // namespace

// SET only (no aggregates, so no script): the batch is formatted as RESP
// straight into one reused buffer and handed to hiredis in one piece, rather
// than as one argument vector (and copies of key and value) per command.
Result<SinkWriteResult> RedisSink::write_set_only(const std::vector<SinkRecord>& batch) {
  SinkWriteResult result;
  if (!key_) return usage_error("redis key template " + key_.error().message);
  const std::string ttl = std::to_string(options_.ttl_s);
  pipeline_.clear();
  size_t bytes = 0;
  for (const auto& rec : batch) bytes += rec.json.size() + 64;
  pipeline_.reserve(bytes);
  std::string doc_text;
  for (const auto& rec : batch) {
    if (auto err = fill(*key_, rec, key_text_)) return *err;
    const std::string* value = &rec.json;
    if (rec.json.empty()) {
      doc_text = rec.doc.dump();
      value = &doc_text;
    }
    pipeline_ += options_.ttl_s > 0 ? "*5\r\n$3\r\nSET\r\n" : "*3\r\n$3\r\nSET\r\n";
    append_bulk(pipeline_, key_text_);
    append_bulk(pipeline_, *value);
    if (options_.ttl_s > 0) {
      pipeline_ += "$2\r\nEX\r\n";
      append_bulk(pipeline_, ttl);
    }
  }
  if (auto err = ensure_connected()) return *err;
  if (redisAppendFormattedCommand(ctx_.get(), pipeline_.data(), pipeline_.size()) != REDIS_OK)
    return io_error("pipelining the batch");
  std::optional<std::string> first_error;
  for (size_t i = 0; i < batch.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(ctx_.get(), &raw) != REDIS_OK || !raw) return io_error("writing the batch");
    ReplyPtr r(static_cast<redisReply*>(raw));
    if (r->type == REDIS_REPLY_ERROR && !first_error) first_error = reply_text(r.get());
  }
  if (first_error) return reply_error("writing the batch", *first_error);
  result.written = static_cast<int64_t>(batch.size());
  return result;
}

Result<SinkWriteResult> RedisSink::write(const std::vector<SinkRecord>& batch) {
  SinkWriteResult result;
  if (batch.empty()) return result;
  const bool aggregates = options_.sales_by_state || options_.store_counters;
  if (!options_.set && !aggregates) {
    result.written = static_cast<int64_t>(batch.size());
    return result;
  }
  if (!aggregates) return write_set_only(batch);

  // Every command of the batch, built (and validated) before anything is sent.
  struct Cmd {
    bool script = false;
    std::vector<std::string> argv;
  };
  std::vector<Cmd> cmds;
  cmds.reserve(batch.size() * ((options_.set ? 1 : 0) + (aggregates ? 1 : 0)));
  if (options_.set && !key_) return usage_error("redis key template " + key_.error().message);
  const std::string ttl = std::to_string(options_.ttl_s);
  std::string text;
  for (const auto& rec : batch) {
    if (options_.set) {
      Cmd c;
      c.argv.reserve(5);
      c.argv.emplace_back("SET");
      if (auto err = fill(*key_, rec, text)) return *err;
      c.argv.push_back(text);
      c.argv.push_back(rec.json.empty() ? rec.doc.dump() : rec.json);
      if (options_.ttl_s > 0) {
        c.argv.emplace_back("EX");
        c.argv.push_back(ttl);
      }
      cmds.push_back(std::move(c));
    }
    if (!aggregates) continue;
    Cmd c;
    c.script = true;
    std::vector<std::string> keys, args;
    std::string seen = kSeenPrefix;
    seen += rec.id;
    if (rec.id.empty()) {
      const nlohmann::json* id = json_at(rec.doc, {"id"});
      if (!id || !json_scalar_text(*id, text)) return runtime_error("a record without an id cannot be aggregated");
      seen += text;
    }
    keys.push_back(seen);
    args.emplace_back(options_.sales_by_state ? "1" : "0");
    args.emplace_back(options_.store_counters ? "1" : "0");
    args.emplace_back("0");  // total, set below
    args.emplace_back("0");  // product lines, set below
    if (options_.sales_by_state) {
      const nlohmann::json* state = json_at(rec.doc, {"store", "location", "state"});
      if (!state || !json_scalar_text(*state, text)) {
        std::string msg = record_label(rec);
        msg += " has no store.location.state (needed by sales_by_state)";
        return runtime_error(msg);
      }
      std::string key = kSalesPrefix;
      key += text;
      keys.push_back(key);
      int64_t lines = 0;
      const nlohmann::json* products = json_at(rec.doc, {"products"});
      if (products && products->is_array()) {
        for (const auto& p : *products) {
          const nlohmann::json* cat = json_at(p, {"category"});
          const nlohmann::json* qty = json_at(p, {"quantity"});
          Result<int64_t> q = qty ? integral(*qty) : Result<int64_t>(runtime_error("missing"));
          if (!cat || !json_scalar_text(*cat, text) || !q) {
            std::string msg = record_label(rec);
            msg += ": every product needs a category and an integer quantity (sales_by_state)";
            return runtime_error(msg);
          }
          args.push_back(text);
          args.push_back(std::to_string(*q));
          ++lines;
        }
      } else if (products && !products->is_null()) {
        std::string msg = record_label(rec);
        msg += ": products is not an array";
        return runtime_error(msg);
      }
      args[3] = std::to_string(lines);
    }
    if (options_.store_counters) {
      const nlohmann::json* sid = json_at(rec.doc, {"store", "id"});
      const nlohmann::json* total = json_at(rec.doc, {"total"});
      if (!sid || !json_scalar_text(*sid, text) || !total || !(total->is_number() || total->is_string())) {
        std::string msg = record_label(rec);
        msg += " needs store.id and a numeric total (store_counters)";
        return runtime_error(msg);
      }
      std::string key = kStorePrefix;
      key += text;
      keys.push_back(key);
      args[2] = number_text(*total);
    }
    c.argv.reserve(3 + keys.size() + args.size());
    c.argv.emplace_back("EVALSHA");
    c.argv.emplace_back();  // the script's SHA, filled in when sent
    c.argv.push_back(std::to_string(keys.size()));
    for (auto& k : keys) c.argv.push_back(std::move(k));
    for (auto& a : args) c.argv.push_back(std::move(a));
    cmds.push_back(std::move(c));
  }

  if (auto err = ensure_connected()) return *err;
  if (aggregates && script_sha_.empty()) {
    auto sha = load_script();
    if (!sha) return sha.error();
  }

  // One pipeline; then, if the script was missing (a restarted or flushed
  // server), load it again and resend only those commands, once.
  std::vector<size_t> pending(cmds.size());
  for (size_t i = 0; i < cmds.size(); ++i) pending[i] = i;
  for (int attempt = 0; attempt < 2 && !pending.empty(); ++attempt) {
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (size_t i : pending) {
      Cmd& c = cmds[i];
      if (c.script) c.argv[1] = script_sha_;
      ptrs.clear();
      lens.clear();
      for (const auto& a : c.argv) {
        ptrs.push_back(a.data());
        lens.push_back(a.size());
      }
      if (redisAppendCommandArgv(ctx_.get(), static_cast<int>(c.argv.size()), ptrs.data(), lens.data()) != REDIS_OK)
        return io_error("pipelining the batch");
    }
    std::vector<size_t> noscript;
    std::optional<std::string> first_error;
    for (size_t i : pending) {
      void* raw = nullptr;
      if (redisGetReply(ctx_.get(), &raw) != REDIS_OK || !raw) return io_error("writing the batch");
      ReplyPtr r(static_cast<redisReply*>(raw));
      const Cmd& c = cmds[i];
      if (r->type == REDIS_REPLY_ERROR) {
        std::string msg = reply_text(r.get());
        if (c.script && starts_with(msg, "NOSCRIPT") && attempt == 0) {
          noscript.push_back(i);
        } else if (!first_error) {
          first_error = msg;
        }
        continue;
      }
      if (c.script) {
        if (r->type != REDIS_REPLY_INTEGER) {
          if (!first_error) first_error = "unexpected reply to EVALSHA";
        } else if (r->integer == 0) {
          ++result.redelivered;
        }
      }
    }
    if (first_error) return reply_error("writing the batch", *first_error);
    pending = std::move(noscript);
    if (!pending.empty()) {
      auto sha = load_script();
      if (!sha) return sha.error();
    }
  }
  if (!pending.empty()) return reply_error("writing the batch", "NOSCRIPT after reloading the script");
  result.written = static_cast<int64_t>(batch.size()) - result.redelivered;
  return result;
}

// ---------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------

Result<std::vector<std::string>> RedisSink::scan(const std::string& pattern) {
  if (auto err = ensure_connected()) return *err;
  std::set<std::string> keys;  // SCAN may return a key more than once
  std::string cursor = "0";
  do {
    const char* argv[] = {"SCAN", cursor.c_str(), "MATCH", pattern.c_str(), "COUNT", "1000"};
    size_t lens[] = {4, cursor.size(), 5, pattern.size(), 5, 4};
    ReplyPtr r(static_cast<redisReply*>(redisCommandArgv(ctx_.get(), 6, argv, lens)));
    if (!r) return io_error("SCAN");
    if (r->type == REDIS_REPLY_ERROR) return reply_error("SCAN", reply_text(r.get()));
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[1]->type != REDIS_REPLY_ARRAY)
      return reply_error("SCAN", "unexpected reply");
    cursor = reply_text(r->element[0]);
    const redisReply* list = r->element[1];
    for (size_t i = 0; i < list->elements; ++i) keys.insert(reply_text(list->element[i]));
  } while (cursor != "0");
  return std::vector<std::string>(keys.begin(), keys.end());
}

Result<std::map<std::string, std::map<std::string, int64_t>>> RedisSink::sales_by_state() {
  auto keys = scan(std::string(kSalesPrefix) + "*");
  if (!keys) return keys.error();
  std::map<std::string, std::map<std::string, int64_t>> out;
  for (const auto& k : *keys) {
    if (redisAppendCommand(ctx_.get(), "HGETALL %b", k.data(), k.size()) != REDIS_OK) return io_error("HGETALL");
  }
  std::optional<std::string> failure;
  for (const auto& k : *keys) {
    void* raw = nullptr;
    if (redisGetReply(ctx_.get(), &raw) != REDIS_OK || !raw) return io_error("HGETALL");
    ReplyPtr r(static_cast<redisReply*>(raw));
    if (r->type == REDIS_REPLY_ERROR) {  // e.g. WRONGTYPE: not one of ours
      if (!failure) failure = reply_text(r.get());
      continue;
    }
    if (r->type != REDIS_REPLY_ARRAY) continue;
    auto& cats = out[k.substr(std::strlen(kSalesPrefix))];
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
      std::string field = reply_text(r->element[i]);
      std::string value = reply_text(r->element[i + 1]);
      char* end = nullptr;
      long long v = std::strtoll(value.c_str(), &end, 10);
      if (!end || *end != '\0') {
        if (!failure) {
          failure = k;
          *failure += ' ';
          *failure += field;
          *failure += " is not an integer: ";
          *failure += value;
        }
        continue;
      }
      cats[field] = static_cast<int64_t>(v);
    }
  }
  if (failure) return reply_error("reading sales:*", *failure);
  return out;
}

Result<int64_t> RedisSink::count_set_keys() {
  if (!key_) return usage_error("redis key template " + key_.error().message);
  const FieldTemplate* t = &*key_;
  const std::string pattern = glob_for(*t);
  auto keys = scan(pattern);
  if (!keys) return keys.error();
  // A pattern as wide as "*" or "s*" would also match the aggregates' own
  // keys: those count only when the template itself starts in their space.
  const std::string literal_prefix = t->parts.empty() || t->parts[0].is_field ? "" : t->parts[0].text;
  int64_t n = 0;
  for (const auto& k : *keys) {
    bool foreign = false;
    for (const char* agg : {kSeenPrefix, kSalesPrefix, kStorePrefix})
      if (starts_with(k, agg) && !starts_with(literal_prefix, agg)) foreign = true;
    if (!foreign) ++n;
  }
  return n;
}

Result<nlohmann::json> RedisSink::command(const std::vector<std::string>& argv) {
  if (argv.empty()) return usage_error("redis command: empty argument list");
  if (auto err = ensure_connected()) return *err;
  ReplyPtr r = command_argv(ctx_.get(), argv);
  if (!r) return io_error(argv[0]);
  if (r->type == REDIS_REPLY_ERROR) {
    // An error reply leaves the connection usable: keep it.
    std::string msg = "redis ";
    msg += endpoint();
    msg += ": ";
    msg += argv[0];
    msg += ": ";
    msg += reply_text(r.get());
    return transient_reply_error(reply_text(r.get())) ? unreachable_error(msg) : runtime_error(msg);
  }
  return reply_to_json(r.get());
}

}  // namespace kapture
