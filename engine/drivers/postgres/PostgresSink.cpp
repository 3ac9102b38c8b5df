#include "drivers/postgres/PostgresSink.h"

#include "common/Redact.h"
#include "drivers/JsonFields.h"

#include <libpq-fe.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

namespace kapture {

namespace {

// Statements per batch stay below this many rows.
constexpr size_t kRowsPerStatement = 1000;

// Serializes concurrent prepare() calls (CREATE TABLE IF NOT EXISTS races).
constexpr long long kSchemaLockKey = 0x6b61707475726531LL;  // "kapture1"

const char kSchema[] = R"(
CREATE TABLE IF NOT EXISTS location (
  zipcode TEXT PRIMARY KEY,
  city TEXT,
  state TEXT,
  state_code TEXT,
  lat DOUBLE PRECISION,
  lon DOUBLE PRECISION
);
CREATE TABLE IF NOT EXISTS store (
  id BIGINT PRIMARY KEY,
  name TEXT,
  zipcode TEXT REFERENCES location (zipcode)
);
CREATE TABLE IF NOT EXISTS customer (
  id BIGINT PRIMARY KEY,
  name TEXT,
  zipcode TEXT REFERENCES location (zipcode)
);
CREATE TABLE IF NOT EXISTS transaction (
  id TEXT PRIMARY KEY,
  store_id BIGINT REFERENCES store (id),
  customer_id BIGINT REFERENCES customer (id),
  created_ms BIGINT,
  date_time TIMESTAMPTZ,
  total NUMERIC(12,2),
  run_id TEXT
);
CREATE INDEX IF NOT EXISTS transaction_run_id_idx ON transaction (run_id);
CREATE TABLE IF NOT EXISTS transaction_product (
  transaction_id TEXT REFERENCES transaction (id),
  line INT,
  category TEXT,
  brand TEXT,
  size TEXT,
  price NUMERIC(10,2),
  quantity INT,
  PRIMARY KEY (transaction_id, line)
);
)";

// A present, non-null field: nulls count as missing in the tables.
const nlohmann::json* lookup(const nlohmann::json& doc, std::initializer_list<const char*> path) {
  const nlohmann::json* v = json_at(doc, path);
  return v && !v->is_null() ? v : nullptr;
}

std::optional<int64_t> integral(const nlohmann::json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_unsigned()) return static_cast<int64_t>(v.get<uint64_t>());
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9e15) return static_cast<int64_t>(d);
    return std::nullopt;
  }
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s.empty()) return std::nullopt;
    char* end = nullptr;
    errno = 0;
    long long x = std::strtoll(s.c_str(), &end, 10);
    if (errno == 0 && end && *end == '\0') return static_cast<int64_t>(x);
  }
  return std::nullopt;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty() || from == to) return;
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
}

// Error text: one line, without the password, at most 300 characters.
std::string clean_message(std::string s, const std::string& password) {
  replace_all(s, password, "***");
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  if (out.size() > 300) {
    out.resize(297);
    out += "...";
  }
  return out;
}

bool is_uri(const std::string& url) {
  return url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
}

struct BadRecord {
  std::string message;
};

}  // namespace

PostgresSink::PostgresSink(PostgresSinkOptions options) : options_(std::move(options)) {
  // Endpoint and password from libpq's own parser (URIs and key=value strings).
  std::string host, port, db, user;
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(options_.url.c_str(), &err);
  if (opts) {
    for (PQconninfoOption* o = opts; o->keyword; ++o) {
      if (!o->val) continue;
      std::string k = o->keyword;
      if (k == "host" || (k == "hostaddr" && host.empty())) host = o->val;
      else if (k == "port") port = o->val;
      else if (k == "dbname") db = o->val;
      else if (k == "user") user = o->val;
      else if (k == "password") password_ = o->val;
    }
    PQconninfoFree(opts);
  }
  if (err) PQfreemem(err);
  if (!opts) {
    // Not a valid URL: connect() reports libpq's reason; name it without
    // the password (redact() finds a URL's userinfo password by its shape).
    endpoint_ = clean_message(redact(options_.url), password_);
  } else {
    if (host.empty()) host = "localhost";
    if (port.empty()) port = "5432";
    if (db.empty()) db = user.empty() ? "postgres" : user;
    endpoint_ = host;
    endpoint_ += ':';
    endpoint_ += port;
    endpoint_ += '/';
    endpoint_ += db;
  }

  conninfo_ = options_.url;
  if (options_.url.find("connect_timeout") == std::string::npos) {
    int seconds = options_.timeout_ms <= 0 ? 5 : (options_.timeout_ms + 999) / 1000;
    if (seconds < 2) seconds = 2;  // libpq's minimum
    if (is_uri(options_.url)) {
      conninfo_ += options_.url.find('?') == std::string::npos ? '?' : '&';
    } else {
      conninfo_ += ' ';
    }
    conninfo_ += "connect_timeout=";
    conninfo_ += std::to_string(seconds);
  }
}

std::string PostgresSink::endpoint() const { return endpoint_; }

int PostgresSink::call_timeout_ms() const { return options_.timeout_ms > 0 ? options_.timeout_ms : 5000; }

// One thread per sink, started on first use, idle unless a call is running.
// When a call outlives its deadline it shuts the socket down (through a dup
// of the descriptor, so it can never touch a descriptor number libpq has
// closed and something else reused): libpq's wait returns, the call fails.
struct PostgresSink::Watchdog {
  using Clock = std::chrono::steady_clock;
  std::mutex m;
  std::condition_variable cv;
  bool stop = false, armed = false, fired = false;
  int fd = -1;
  Clock::time_point deadline;
  std::thread thread;

  Watchdog() : thread([this] { loop(); }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(m);
      stop = true;
    }
    cv.notify_all();
    thread.join();
  }
  void loop() {
    std::unique_lock<std::mutex> lock(m);
    while (!stop) {
      if (!armed) {
        cv.wait(lock);
      } else if (Clock::now() >= deadline) {
        ::shutdown(fd, SHUT_RDWR);
        fired = true;
        armed = false;
      } else {
        cv.wait_until(lock, deadline);
      }
    }
  }
  void arm(int socket_fd, int ms) {
    {
      std::lock_guard<std::mutex> lock(m);
      armed = true;
      fired = false;
      fd = socket_fd;
      deadline = Clock::now() + std::chrono::milliseconds(ms);
    }
    cv.notify_all();
  }
  // True when it fired since arm(); no shutdown happens after this returns.
  bool disarm() {
    std::lock_guard<std::mutex> lock(m);
    armed = false;
    bool f = fired;
    fired = false;
    return f;
  }
};

PostgresSink::~PostgresSink() {
  watchdog_.reset();
  drop_connection();
}

void PostgresSink::arm_watchdog() {
  if (watch_fd_ < 0) return;
  if (!watchdog_) watchdog_ = std::make_unique<Watchdog>();
  watchdog_->arm(watch_fd_, call_timeout_ms());
}

bool PostgresSink::disarm_watchdog() { return watchdog_ && watchdog_->disarm(); }

void PostgresSink::drop_connection() {
  disarm_watchdog();
  conn_.reset();
  if (watch_fd_ >= 0) ::close(watch_fd_);
  watch_fd_ = -1;
}

Error PostgresSink::failure(const char* doing, const std::string& what, bool lost) {
  std::string msg = "postgres ";
  msg += endpoint_;
  msg += ": ";
  msg += doing;
  msg += ": ";
  std::string detail = what.empty() ? std::string("unknown error") : what;
  // libpq quotes a URL it cannot parse: show the URL as given, not with our additions.
  // An unparsable URL has no password_ from libpq: redact() finds it by shape.
  replace_all(detail, conninfo_, options_.url);
  msg += clean_message(redact(detail), password_);
  if (lost) {
    drop_connection();
    return unreachable_error(msg);
  }
  return runtime_error(msg);
}

template <typename T, typename F>
Result<T> PostgresSink::guarded(const char* doing, F&& f) {
  auto open = [&] {
    try {
      return conn_ && conn_->is_open();
    } catch (...) {
      return false;
    }
  };
  arm_watchdog();
  std::string what;
  bool lost = false;
  try {
    Result<T> r = f();
    if (disarm_watchdog()) drop_connection();  // fired as the call finished: the result stands, the connection is gone
    return r;
  } catch (const pqxx::broken_connection& e) {
    what = e.what();
    lost = true;
  } catch (const pqxx::in_doubt_error& e) {
    what = e.what();
    lost = true;
  } catch (const pqxx::statement_completion_unknown& e) {
    what = e.what();
    lost = true;
  } catch (const BadRecord& e) {
    what = e.message;
  } catch (const std::exception& e) {
    what = e.what();
    lost = !open();
  } catch (...) {
    what = "unknown exception";
    lost = !open();
  }
  if (disarm_watchdog()) {
    std::string timed_out = "no answer within ";
    timed_out += std::to_string(call_timeout_ms());
    timed_out += " ms (server paused or overloaded?); ";
    timed_out += what;
    what = std::move(timed_out);
    lost = true;
  }
  return failure(doing, what, lost);
}

Status PostgresSink::connect() {
  drop_connection();
  auto r = guarded<bool>("cannot connect", [&]() -> Result<bool> {
    conn_ = std::make_unique<pqxx::connection>(conninfo_);
    // A broken connection must fail the call (and be replaced by connect()),
    // not be silently reopened by libpqxx on a new socket.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    conn_->inhibit_reactivation(true);
#pragma GCC diagnostic pop
    watch_fd_ = ::dup(conn_->sock());
    arm_watchdog();
    pqxx::nontransaction n(*conn_);
    n.exec("SET client_min_messages TO warning");  // no NOTICEs on stderr
    n.commit();
    return true;
  });
  if (!r) {
    drop_connection();
    Error e = r.error();
    e.kind = ErrorKind::Unreachable;
    return e;
  }
  return std::nullopt;
}

Status PostgresSink::ensure_connected() {
  if (conn_) return std::nullopt;
  return connect();
}

Status PostgresSink::prepare() {
  if (auto err = ensure_connected()) return err;
  auto r = guarded<bool>("creating the schema", [&]() -> Result<bool> {
    pqxx::work txn(*conn_);
    std::string lock = "SELECT pg_advisory_xact_lock(";
    lock += std::to_string(kSchemaLockKey);
    lock += ')';
    txn.exec(lock);
    txn.exec(kSchema);
    txn.commit();
    return true;
  });
  if (!r) return r.error();
  return std::nullopt;
}

Result<SinkWriteResult> PostgresSink::write(const std::vector<SinkRecord>& batch) {
  SinkWriteResult result;
  if (batch.empty()) return result;
  if (auto err = ensure_connected()) return *err;
  return guarded<SinkWriteResult>("writing a batch", [&]() -> Result<SinkWriteResult> {
    pqxx::work txn(*conn_);
    auto bad = [](const SinkRecord& rec, const std::string& what) {
      std::string msg = "record '";
      msg += rec.id;
      msg += "': ";
      msg += what;
      return BadRecord{msg};
    };
    auto text = [&](const nlohmann::json* v) -> std::string {
      std::string s;
      if (!v) return "NULL";
      if (json_scalar_text(*v, s)) return txn.quote(s);
      if (v->is_boolean()) return v->get<bool>() ? "'true'" : "'false'";
      return txn.quote(v->dump());
    };
    auto number = [&](const nlohmann::json* v) -> std::string {
      if (!v) return "NULL";
      if (v->is_number()) return v->dump();  // digits, '.', 'e', '-': safe unquoted; NaN dumps as null
      if (v->is_string()) return txn.quote(v->get<std::string>());
      return "NULL";
    };

    // Rows, deduplicated and sorted by key (a fixed lock order across
    // concurrent writers).
    std::map<std::string, std::string> locations;  // zipcode -> row
    std::map<int64_t, std::string> stores, customers;
    std::map<std::string, const SinkRecord*> txs;
    auto add_location = [&](const SinkRecord& rec, const nlohmann::json* loc) -> std::string {
      const nlohmann::json* zip = loc ? lookup(*loc, {"zipcode"}) : nullptr;
      std::string z;
      if (!zip) return "NULL";
      if (!json_scalar_text(*zip, z)) throw bad(rec, "location.zipcode is not a string");
      if (!locations.count(z)) {
        std::string row = "(";
        row += txn.quote(z);
        row += ',';
        row += text(lookup(*loc, {"city"}));
        row += ',';
        row += text(lookup(*loc, {"state"}));
        row += ',';
        row += text(lookup(*loc, {"state_code"}));
        row += ',';
        row += number(lookup(*loc, {"coordinates", "lat"}));
        row += ',';
        row += number(lookup(*loc, {"coordinates", "lon"}));
        row += ')';
        locations.emplace(z, std::move(row));
      }
      return txn.quote(z);
    };
    auto add_party = [&](const SinkRecord& rec, const char* what, std::map<int64_t, std::string>& into) -> std::string {
      const nlohmann::json* party = lookup(rec.doc, {what});
      const nlohmann::json* id = party ? lookup(*party, {"id"}) : nullptr;
      if (!id) return "NULL";
      auto n = integral(*id);
      if (!n) {
        std::string w = what;
        w += ".id is not an integer";
        throw bad(rec, w);
      }
      std::string zip = add_location(rec, lookup(*party, {"location"}));
      if (!into.count(*n)) {
        std::string row = "(";
        row += std::to_string(*n);
        row += ',';
        row += text(lookup(*party, {"name"}));
        row += ',';
        row += zip;
        row += ')';
        into.emplace(*n, std::move(row));
      }
      return std::to_string(*n);
    };

    std::map<std::string, std::string> tx_rows;  // id -> row
    std::string id_text;
    for (const auto& rec : batch) {
      std::string id = rec.id;
      if (id.empty()) {
        const nlohmann::json* v = lookup(rec.doc, {"id"});
        if (!v || !json_scalar_text(*v, id_text)) throw bad(rec, "no transaction id");
        id = id_text;
      }
      if (txs.count(id)) continue;  // twice in one batch: the second is a redelivery
      txs.emplace(id, &rec);
      std::string store_id = add_party(rec, "store", stores);
      std::string customer_id = add_party(rec, "customer", customers);
      std::string row = "(";
      row += txn.quote(id);
      row += ',';
      row += store_id;
      row += ',';
      row += customer_id;
      row += ',';
      if (rec.created_ms != 0) {
        row += std::to_string(rec.created_ms);
      } else {
        const nlohmann::json* c = lookup(rec.doc, {"created_ms"});
        auto ms = c ? integral(*c) : std::nullopt;
        row += ms ? std::to_string(*ms) : std::string("NULL");
      }
      row += ',';
      const nlohmann::json* dt = lookup(rec.doc, {"dateTime"});
      if (dt && dt->is_string()) {
        row += txn.quote(dt->get<std::string>());
        row += "::timestamptz";
      } else if (rec.created_ms != 0) {
        row += "to_timestamp(";
        row += std::to_string(rec.created_ms);
        row += " / 1000.0)";
      } else {
        row += "NULL";
      }
      row += ',';
      row += number(lookup(rec.doc, {"total"}));
      row += ',';
      row += options_.run_id.empty() ? std::string("NULL") : txn.quote(options_.run_id);
      row += ')';
      tx_rows.emplace(id, std::move(row));
    }

    // INSERT ... VALUES in chunks; returns the rows of RETURNING, if any.
    auto insert = [&](const std::string& head, const std::vector<const std::string*>& rows, const std::string& tail,
                      std::vector<std::string>* returned) {
      for (size_t i = 0; i < rows.size(); i += kRowsPerStatement) {
        std::string sql = head;
        sql += " VALUES ";
        size_t end = std::min(rows.size(), i + kRowsPerStatement);
        for (size_t j = i; j < end; ++j) {
          if (j > i) sql += ',';
          sql += *rows[j];
        }
        sql += ' ';
        sql += tail;
        pqxx::result r = txn.exec(sql);
        if (returned)
          for (const auto& row : r) returned->emplace_back(row[0].c_str());
      }
    };
    auto values = [](const auto& m) {
      std::vector<const std::string*> v;
      v.reserve(m.size());
      for (const auto& kv : m) v.push_back(&kv.second);
      return v;
    };
    insert("INSERT INTO location (zipcode, city, state, state_code, lat, lon)", values(locations), "ON CONFLICT DO NOTHING",
           nullptr);
    insert("INSERT INTO store (id, name, zipcode)", values(stores), "ON CONFLICT DO NOTHING", nullptr);
    insert("INSERT INTO customer (id, name, zipcode)", values(customers), "ON CONFLICT DO NOTHING", nullptr);
    std::vector<std::string> fresh;
    insert("INSERT INTO transaction (id, store_id, customer_id, created_ms, date_time, total, run_id)", values(tx_rows),
           "ON CONFLICT (id) DO NOTHING RETURNING id", &fresh);

    // Product lines of the new transactions only: a transaction already there
    // got its lines in the same database transaction.
    std::set<std::string> fresh_ids(fresh.begin(), fresh.end());
    std::vector<std::string> product_rows;
    for (const auto& [id, rec] : txs) {
      if (!fresh_ids.count(id)) continue;
      const nlohmann::json* products = lookup(rec->doc, {"products"});
      if (!products) continue;
      if (!products->is_array()) throw bad(*rec, "products is not an array");
      int line = 0;
      for (const auto& p : *products) {
        ++line;
        const nlohmann::json* qty = lookup(p, {"quantity"});
        std::optional<int64_t> q = qty ? integral(*qty) : std::nullopt;
        if (qty && !q) throw bad(*rec, "a product quantity is not an integer");
        std::string row = "(";
        row += txn.quote(id);
        row += ',';
        row += std::to_string(line);
        row += ',';
        row += text(lookup(p, {"category"}));
        row += ',';
        row += text(lookup(p, {"brand"}));
        row += ',';
        row += text(lookup(p, {"size"}));
        row += ',';
        row += number(lookup(p, {"price"}));
        row += ',';
        row += q ? std::to_string(*q) : std::string("NULL");
        row += ')';
        product_rows.push_back(std::move(row));
      }
    }
    std::vector<const std::string*> product_ptrs;
    product_ptrs.reserve(product_rows.size());
    for (const auto& r : product_rows) product_ptrs.push_back(&r);
    insert("INSERT INTO transaction_product (transaction_id, line, category, brand, size, price, quantity)", product_ptrs,
           "ON CONFLICT DO NOTHING", nullptr);
    txn.commit();

    SinkWriteResult out;
    out.written = static_cast<int64_t>(fresh_ids.size());
    out.redelivered = static_cast<int64_t>(batch.size()) - out.written;
    return out;
  });
}

Status PostgresSink::transaction_ids(StoredIds& ids, int chunk_rows) {
  if (auto err = ensure_connected()) return *err;
  auto r = guarded<bool>("reading transaction ids", [&]() -> Result<bool> {
    pqxx::read_transaction txn(*conn_);
    // A cursor, so neither libpq nor we hold every row at once.
    txn.exec("DECLARE kapture_ids NO SCROLL CURSOR FOR SELECT id, count(*) FROM transaction GROUP BY id");
    for (;;) {
      pqxx::result chunk = txn.exec("FETCH " + std::to_string(std::max(chunk_rows, 1)) + " FROM kapture_ids");
      if (chunk.empty()) break;
      for (const auto& row : chunk) ids.add(std::string_view(row[0].c_str(), row[0].size()), row[1].as<int64_t>());
    }
    txn.commit();
    return true;
  });
  if (!r) return r.error();
  return std::nullopt;
}

Result<std::map<std::string, std::map<std::string, int64_t>>> PostgresSink::sales_by_state() {
  using Sales = std::map<std::string, std::map<std::string, int64_t>>;
  if (auto err = ensure_connected()) return *err;
  return guarded<Sales>("reading sales by state", [&]() -> Result<Sales> {
    pqxx::read_transaction txn(*conn_);
    pqxx::result r = txn.exec(
        "SELECT l.state, p.category, SUM(p.quantity) FROM transaction_product p "
        "JOIN transaction t ON t.id = p.transaction_id "
        "JOIN store s ON s.id = t.store_id "
        "JOIN location l ON l.zipcode = s.zipcode "
        "GROUP BY 1, 2");
    Sales out;
    for (const auto& row : r) {
      std::string state = row[0].is_null() ? "" : row[0].c_str();
      std::string category = row[1].is_null() ? "" : row[1].c_str();
      out[state][category] = row[2].is_null() ? 0 : row[2].as<int64_t>();
    }
    txn.commit();
    return out;
  });
}

Result<nlohmann::json> PostgresSink::query(const std::string& sql) {
  if (auto err = ensure_connected()) return *err;
  return guarded<nlohmann::json>("query", [&]() -> Result<nlohmann::json> {
    pqxx::read_transaction txn(*conn_);  // BEGIN READ ONLY
    txn.exec("SET TRANSACTION READ ONLY");
    // The extended protocol takes a single statement, so "COMMIT; INSERT ..."
    // cannot step out of the read-only transaction.
    pqxx::result r = txn.exec_params(sql);
    nlohmann::json rows = nlohmann::json::array();
    const auto ncols = r.columns();
    for (const auto& row : r) {
      nlohmann::json obj = nlohmann::json::object();
      for (pqxx::row::size_type c = 0; c < ncols; ++c) {
        const auto& f = row[c];
        const char* name = r.column_name(c);
        if (f.is_null()) {
          obj[name] = nullptr;
          continue;
        }
        switch (r.column_type(c)) {
          case 16:  // bool
            obj[name] = std::string(f.c_str()) == "t";
            break;
          case 20:  // int8
          case 21:  // int2
          case 23:  // int4
            obj[name] = f.as<int64_t>();
            break;
          case 700:  // float4
          case 701:  // float8
            obj[name] = f.as<double>();
            break;
          default:  // numeric and everything else: the text form
            obj[name] = std::string(f.c_str(), f.size());
        }
      }
      rows.push_back(std::move(obj));
    }
    txn.abort();  // a SET in the query does not outlive it (and there is nothing to commit)
    return rows;
  });
}

}  // namespace kapture
