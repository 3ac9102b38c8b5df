#include "slo/SloExpression.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <algorithm>
#include <map>
#include <optional>

#include "common/Units.h"
#include "metrics/MetricCatalog.h"

namespace kapture {
namespace {

struct Token {
  enum class Type { Ident, Number, Op, LParen, RParen, End } type = Type::End;
  std::string text;
  size_t offset = 0;
};

// Parentheses nest this deep at most: the parser recurses into each, and a
// scenario file must not be able to overflow the stack with "((((...".
constexpr int kMaxNesting = 32;

class Parser {
 public:
  // `in_recovery`: parsing the condition of a recovery_time(...).
  explicit Parser(std::string_view text, bool in_recovery = false) : text_(text), in_recovery_(in_recovery) {}

  Result<SloExpression> parse() {
    e_.text = std::string(text_);
    if (!lex()) return err_;
    bool starts_recovery = peek().type == Token::Type::Ident && peek().text == "recovery_time";
    // Refused before parsing it, which would recurse once per nested level.
    if (starts_recovery && in_recovery_)
      return fail_at(peek(), "recovery_time's condition is checked second by second: no 'during', 'over' or nested recovery_time");
    int lhs = starts_recovery ? recovery() : sum();
    if (failed_) return err_;
    const Token& t = peek();
    if (t.type != Token::Type::Op || !is_cmp(t.text))
      return fail_at(t, "expected a comparison (<, <=, >, >=, ==, !=) " + found(t));
    e_.cmp = t.text;
    ++pos_;
    int rhs = sum();
    if (failed_) return err_;
    if (!e_.recovery.empty()) {
      if (peek().type != Token::Type::Ident || peek().text != "after")
        return fail_at(peek(), "recovery_time needs 'after STEP' (a step's name or a chaos verb) " + found(peek()));
      ++pos_;
      if (peek().type != Token::Type::Ident) return fail_at(peek(), "expected a step name after 'after' " + found(peek()));
      e_.after = peek().text;
      e_.after_offset = peek().offset;
      ++pos_;
      if (peek().type == Token::Type::Ident && peek().text == "ends") {
        e_.after_end = true;
        ++pos_;
      }
    }
    std::string trailing;
    size_t trailing_offset = 0;
    while (peek().type == Token::Type::Ident && (peek().text == "during" || peek().text == "over")) {
      Token kw = peek();
      ++pos_;
      if (!e_.recovery.empty()) return fail_at(kw, "recovery_time looks from its step to the end of the run; '" + kw.text + "' does not apply");
      if (kw.text == "during") {
        const Token& ph = peek();
        if (ph.type != Token::Type::Ident) return fail_at(ph, "expected a phase name after 'during' " + found(ph));
        if (!trailing.empty()) return fail_at(kw, "only one final 'during'");
        trailing = ph.text;
        trailing_offset = ph.offset;
        ++pos_;
      } else if (!over_clause(kw)) {
        return err_;
      }
    }
    if (peek().type != Token::Type::End) return fail_at(peek(), "unexpected " + describe(peek()));
    if (!trailing.empty() && e_.over_us > 0) {
      // The windows slide over that phase; aggregates keep their own windows.
      e_.range_phase = trailing;
      e_.range_phase_offset = trailing_offset;
    } else if (!trailing.empty()) {
      for (auto& n : e_.nodes) {
        if (n.kind == SloNode::Kind::Aggregate && n.during.empty()) {
          n.during = trailing;
          n.during_offset = trailing_offset;
        }
      }
    }
    e_.lhs = lhs;
    e_.rhs = rhs;
    SloDimension l = e_.nodes[lhs].dim, r = e_.nodes[rhs].dim;
    if (l != r) {
      // A bare number against a latency is the classic mistake: say which unit.
      return fail_offset(tokens_[cmp_index()].offset,
                         "cannot compare " + dim_name(l) + " with " + dim_name(r) + hint(l, r));
    }
    return e_;
  }

 private:
  static bool is_cmp(const std::string& s) {
    return s == "<" || s == "<=" || s == ">" || s == ">=" || s == "==" || s == "!=";
  }
  static std::string dim_name(SloDimension d) {
    switch (d) {
      case SloDimension::Time: return "a duration";
      case SloDimension::Rate: return "a rate";
      case SloDimension::Bytes: return "a size";
      default: return "a plain number";
    }
  }
  static std::string hint(SloDimension l, SloDimension r) {
    SloDimension want = l == SloDimension::Number ? r : l;
    if (l != SloDimension::Number && r != SloDimension::Number) return "";
    switch (want) {
      case SloDimension::Time: return " (write the threshold with a unit, e.g. 250ms)";
      case SloDimension::Rate: return " (write the threshold as a rate, e.g. 1000/s)";
      case SloDimension::Bytes: return " (write the threshold with a unit, e.g. 1MiB)";
      default: return "";
    }
  }
  size_t cmp_index() const {
    for (size_t i = 0; i < tokens_.size(); ++i)
      if (tokens_[i].type == Token::Type::Op && is_cmp(tokens_[i].text)) return i;
    return 0;
  }
  static std::string describe(const Token& t) {
    if (t.type == Token::Type::End) return "end of expression";
    return "'" + t.text + "'";
  }
  static std::string found(const Token& t) { return "but found " + describe(t); }

  bool lex() {
    size_t i = 0;
    while (i < text_.size()) {
      char c = text_[i];
      if (std::isspace(static_cast<unsigned char>(c))) {
        ++i;
        continue;
      }
      Token t;
      t.offset = i;
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t j = i;
        while (j < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[j])) || text_[j] == '_' ||
                                    text_[j] == '.' || text_[j] == '-'))
          ++j;
        // A trailing '-' belongs to an operator, not the name.
        while (j > i && text_[j - 1] == '-') --j;
        // A label filter belongs to the metric name: produce.latency{topic="a"}.
        if (j < text_.size() && text_[j] == '{') {
          bool quoted = false;
          size_t k = j + 1;
          for (; k < text_.size() && (quoted || text_[k] != '}'); ++k) {
            if (text_[k] == '\\' && quoted) ++k;
            else if (text_[k] == '"') quoted = !quoted;
          }
          if (k >= text_.size()) {
            fail_offset(j, "unclosed '{' of a label filter");
            return false;
          }
          j = k + 1;
        }
        t.type = Token::Type::Ident;
        t.text = std::string(text_.substr(i, j - i));
        i = j;
      } else if (std::isdigit(static_cast<unsigned char>(c)) || (c == '.' && i + 1 < text_.size() &&
                                                                  std::isdigit(static_cast<unsigned char>(text_[i + 1])))) {
        size_t j = i;
        while (j < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[j])) || text_[j] == '.')) ++j;
        while (j < text_.size() && std::isalpha(static_cast<unsigned char>(text_[j]))) ++j;
        // "1900/s": a rate unit glued to the number.
        if (j + 1 < text_.size() && text_[j] == '/' && (text_[j + 1] == 's' || text_[j + 1] == 'm' || text_[j + 1] == 'h') &&
            (j + 2 == text_.size() || !std::isalnum(static_cast<unsigned char>(text_[j + 2]))))
          j += 2;
        t.type = Token::Type::Number;
        t.text = std::string(text_.substr(i, j - i));
        i = j;
      } else if (c == '(' || c == ')') {
        t.type = c == '(' ? Token::Type::LParen : Token::Type::RParen;
        t.text = std::string(1, c);
        ++i;
      } else if (c == '<' || c == '>' || c == '=' || c == '!') {
        size_t len = (i + 1 < text_.size() && text_[i + 1] == '=') ? 2 : 1;
        t.type = Token::Type::Op;
        t.text = std::string(text_.substr(i, len));
        if (t.text == "=" || t.text == "!") {
          fail_offset(i, "unknown operator '" + t.text + "' (did you mean '" + t.text + "=' ?)");
          return false;
        }
        i += len;
      } else if (c == '+' || c == '-' || c == '*' || c == '/') {
        t.type = Token::Type::Op;
        t.text = std::string(1, c);
        ++i;
      } else {
        fail_offset(i, std::string("unexpected character '") + c + "'");
        return false;
      }
      tokens_.push_back(t);
    }
    Token end;
    end.type = Token::Type::End;
    end.offset = text_.size();
    tokens_.push_back(end);
    return true;
  }

  // `over 30s [for N consecutive [windows]]`, after the keyword.
  bool over_clause(const Token& kw) {
    if (e_.over_us > 0) {
      fail_at(kw, "only one 'over'");
      return false;
    }
    const Token& d = peek();
    auto us = d.type == Token::Type::Number ? parse_duration_us(d.text) : std::nullopt;
    if (!us || *us < 1000000 || *us % 1000000 != 0) {
      fail_at(d, "expected a window of whole seconds after 'over', e.g. over 30s, " + found(d));
      return false;
    }
    e_.over_us = *us;
    ++pos_;
    if (peek().type == Token::Type::Ident && peek().text == "for") {
      ++pos_;
      const Token& n = peek();
      char* end = nullptr;
      long count = n.type == Token::Type::Number ? std::strtol(n.text.c_str(), &end, 10) : 0;
      if (n.type != Token::Type::Number || *end || count < 1) {
        fail_at(n, "expected a number of windows after 'for', e.g. for 3 consecutive, " + found(n));
        return false;
      }
      e_.consecutive = static_cast<int>(count);
      ++pos_;
      if (peek().type != Token::Type::Ident || peek().text != "consecutive") {
        fail_at(peek(), "expected 'consecutive' " + found(peek()));
        return false;
      }
      ++pos_;
      if (peek().type == Token::Type::Ident && peek().text == "windows") ++pos_;
    }
    return true;
  }

  // recovery_time(COND): COND is parsed on its own, columns kept.
  int recovery() {
    Token name = peek();
    ++pos_;
    if (peek().type != Token::Type::LParen) {
      fail_at(peek(), "expected '(' after recovery_time " + found(peek()));
      return 0;
    }
    size_t open = pos_, depth = 0, close = 0;
    for (size_t i = open; i < tokens_.size(); ++i) {
      if (tokens_[i].type == Token::Type::LParen) ++depth;
      if (tokens_[i].type == Token::Type::RParen && --depth == 0) {
        close = i;
        break;
      }
    }
    if (close == 0) {
      fail_at(tokens_[open], "unclosed '(' of recovery_time");
      return 0;
    }
    size_t from = tokens_[open].offset + 1, to = tokens_[close].offset;
    auto inner = Parser(text_.substr(from, to - from), true).parse();
    if (!inner) {
      fail_offset(from + static_cast<size_t>(std::max(0, inner.error().where.column - 1)), inner.error().message);
      return 0;
    }
    if (!inner->recovery.empty() || inner->over_us > 0 || inner->has_during()) {
      fail_at(tokens_[open + 1], "recovery_time's condition is checked second by second: no 'during', 'over' or nested recovery_time");
      return 0;
    }
    pos_ = close + 1;
    for (auto& n : inner->nodes) n.metric_offset += from;  // columns within the whole expression
    e_.recovery.push_back(std::move(*inner));
    SloNode n;
    n.kind = SloNode::Kind::Aggregate;
    n.agg = SloNode::Agg::Recovery;
    n.agg_text = name.text;
    n.dim = SloDimension::Time;
    return add(n);
  }

  // "produce.latency{topic=\"a\"}": checks the filter against the labels the
  // metric carries and returns the canonical series name (labels sorted).
  std::optional<std::string> series_name(const Token& m, const std::string& base, std::string_view filter) {
    if (filter.empty()) return base;
    size_t at = m.offset + base.size();
    std::map<std::string, std::string> labels;
    size_t i = 1;  // past '{'
    auto skip_space = [&] {
      while (i < filter.size() && std::isspace(static_cast<unsigned char>(filter[i]))) ++i;
    };
    for (;;) {
      skip_space();
      if (i < filter.size() && filter[i] == '}' && labels.empty()) break;
      size_t k = i;
      while (i < filter.size() && (std::isalnum(static_cast<unsigned char>(filter[i])) || filter[i] == '_')) ++i;
      std::string key(filter.substr(k, i - k));
      if (key.empty()) return fail_offset(at + k, "expected a label name in the filter"), std::nullopt;
      auto names = metric_label_names(base);
      if (std::find(names.begin(), names.end(), key) == names.end()) {
        std::string known;
        for (auto n : names) known += (known.empty() ? "" : ", ") + std::string(n);
        fail_offset(at + k, "metric " + base + " has no label '" + key + "'" +
                                (known.empty() ? " (it has no labels)" : " (its labels: " + known + ")"));
        return std::nullopt;
      }
      skip_space();
      if (i >= filter.size() || filter[i] != '=') return fail_offset(at + i, "expected '=' after the label name"), std::nullopt;
      ++i;
      skip_space();
      if (i >= filter.size() || filter[i] != '"') return fail_offset(at + i, "expected a quoted label value, e.g. topic=\"bps.texas\""), std::nullopt;
      std::string value;
      for (++i; i < filter.size() && filter[i] != '"'; ++i) {
        if (filter[i] == '\\' && i + 1 < filter.size()) ++i;
        value += filter[i];
      }
      if (i >= filter.size()) return fail_offset(at + i, "unclosed label value"), std::nullopt;
      ++i;
      if (labels.count(key)) return fail_offset(at + k, "label '" + key + "' given twice"), std::nullopt;
      labels[key] = value;
      skip_space();
      if (i < filter.size() && filter[i] == ',') {
        ++i;
        continue;
      }
      if (i < filter.size() && filter[i] == '}') break;
      return fail_offset(at + i, "expected ',' or '}' in the label filter"), std::nullopt;
    }
    if (labels.empty()) return base;
    std::string out = base + "{";
    bool first = true;
    for (const auto& [k, v] : labels) {
      out += (first ? "" : ",") + k + "=\"";
      for (char c : v) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      out += '"';
      first = false;
    }
    return out + "}";
  }

  const Token& peek() const { return tokens_[pos_]; }

  Error fail_offset(size_t offset, std::string message) {
    if (!failed_) {
      failed_ = true;
      err_ = usage_error(std::move(message), SourceLocation{"", 1, static_cast<int>(offset) + 1});
    }
    return err_;
  }
  Error fail_at(const Token& t, std::string message) { return fail_offset(t.offset, std::move(message)); }

  int add(SloNode n) {
    e_.nodes.push_back(std::move(n));
    return static_cast<int>(e_.nodes.size()) - 1;
  }

  int binary(char op, int l, int r, size_t offset) {
    SloDimension dl = e_.nodes[l].dim, dr = e_.nodes[r].dim;
    SloNode n;
    n.kind = SloNode::Kind::Binary;
    n.op = op;
    n.lhs = l;
    n.rhs = r;
    if (op == '+' || op == '-') {
      if (dl != dr) fail_offset(offset, "cannot add or subtract " + dim_name(dl) + " and " + dim_name(dr));
      n.dim = dl;
    } else if (op == '*') {
      if (dl != SloDimension::Number && dr != SloDimension::Number)
        fail_offset(offset, "cannot multiply " + dim_name(dl) + " by " + dim_name(dr));
      n.dim = dl == SloDimension::Number ? dr : dl;
    } else {
      if (dr == SloDimension::Number) n.dim = dl;
      else if (dl == dr) n.dim = SloDimension::Number;  // a ratio
      else fail_offset(offset, "cannot divide " + dim_name(dl) + " by " + dim_name(dr));
    }
    return add(n);
  }

  int sum() {
    int l = product();
    while (!failed_ && peek().type == Token::Type::Op && (peek().text == "+" || peek().text == "-")) {
      Token op = peek();
      ++pos_;
      int r = product();
      if (failed_) return l;
      l = binary(op.text[0], l, r, op.offset);
    }
    return l;
  }

  int product() {
    int l = factor();
    while (!failed_ && peek().type == Token::Type::Op && (peek().text == "*" || peek().text == "/")) {
      Token op = peek();
      ++pos_;
      int r = factor();
      if (failed_) return l;
      l = binary(op.text[0], l, r, op.offset);
    }
    return l;
  }

  int factor() {
    Token t = peek();
    if (t.type == Token::Type::LParen) {
      if (depth_ == kMaxNesting) {
        fail_at(t, "parentheses nested more than " + std::to_string(kMaxNesting) + " deep");
        return 0;
      }
      ++pos_;
      ++depth_;
      int inner = sum();
      --depth_;
      if (failed_) return inner;
      if (peek().type != Token::Type::RParen) {
        fail_at(peek(), "expected ')' " + found(peek()));
        return inner;
      }
      ++pos_;
      return inner;
    }
    if (t.type == Token::Type::Number) {
      ++pos_;
      return number(t);
    }
    if (t.type == Token::Type::Ident) {
      ++pos_;
      return aggregate(t);
    }
    fail_at(t, "expected a number or an aggregate such as p99(produce.latency) " + found(t));
    return 0;
  }

  int number(const Token& t) {
    SloNode n;
    n.kind = SloNode::Kind::Number;
    size_t unit_at = 0;
    while (unit_at < t.text.size() && (std::isdigit(static_cast<unsigned char>(t.text[unit_at])) || t.text[unit_at] == '.'))
      ++unit_at;
    std::string unit = t.text.substr(unit_at);
    if (unit.empty()) {
      char* end = nullptr;
      n.number = std::strtod(t.text.c_str(), &end);
      if (*end) fail_at(t, "bad number '" + t.text + "'");
      n.dim = SloDimension::Number;
    } else if (unit[0] == '/') {
      auto r = parse_rate_per_s(t.text);
      if (!r) fail_at(t, "bad rate '" + t.text + "'");
      n.number = r.value_or(0);
      n.dim = SloDimension::Rate;
    } else if (auto d = parse_duration_us(t.text)) {
      n.number = static_cast<double>(*d);
      n.dim = SloDimension::Time;
    } else if (auto b = parse_size_bytes(t.text)) {
      n.number = static_cast<double>(*b);
      n.dim = SloDimension::Bytes;
    } else {
      fail_at(t, "unknown unit in '" + t.text + "' (durations: us, ms, s, m, h; rates: /s, /m, /h; sizes: B, KiB, MiB, KB, MB)");
    }
    return add(n);
  }

  int aggregate(const Token& name) {
    SloNode n;
    n.kind = SloNode::Kind::Aggregate;
    n.agg_text = name.text;
    const std::string& a = name.text;
    // A bare metric name: `ledger.lost == 0` means count(ledger.lost) == 0,
    // and a gauge's bare name means its last value.
    if (peek().type != Token::Type::LParen) {
      std::string base = metric_base_name(a);
      if (auto info = find_metric(base)) {
        auto series = series_name(name, base, std::string_view(a).substr(base.size()));
        if (!series) return 0;
        n.metric = *series;
        n.metric_offset = name.offset;
        if (info->kind == MetricKind::Gauge) {
          n.agg = SloNode::Agg::Last;
          n.agg_text = "last";
        } else {
          n.agg = SloNode::Agg::Count;
          n.agg_text = "count";
        }
        n.dim = info->unit == MetricUnit::Bytes ? SloDimension::Bytes
                : (info->kind == MetricKind::Gauge && info->unit == MetricUnit::Microseconds) ? SloDimension::Time
                                                                                             : SloDimension::Number;
        return add(with_during(n));
      }
    }
    if (a == "recovery_time") {
      fail_at(name, "recovery_time(...) must start the expression: recovery_time(COND) < 20s after STEP");
      return 0;
    }
    if (a == "avg") n.agg = SloNode::Agg::Avg;
    else if (a == "min") n.agg = SloNode::Agg::Min;
    else if (a == "max") n.agg = SloNode::Agg::Max;
    else if (a == "rate") n.agg = SloNode::Agg::Rate;
    else if (a == "count") n.agg = SloNode::Agg::Count;
    else if (a == "last") n.agg = SloNode::Agg::Last;
    else if (a.size() >= 2 && a[0] == 'p' && std::isdigit(static_cast<unsigned char>(a[1]))) {
      char* end = nullptr;
      double p = std::strtod(a.c_str() + 1, &end);
      // p999 is the usual shorthand for p99.9
      if (*end == 0 && a.find('.') == std::string::npos && p > 100) {
        p = p / std::pow(10.0, std::floor(std::log10(p)) - 1);
      }
      // Digits and a dot only: strtod would also take "p1e400" (infinite,
      // then NaN, which no bound check refuses) and hex ("p0x10").
      if (*end || a.find_first_not_of("0123456789.", 1) != std::string::npos || !(p > 0 && p <= 100)) {
        fail_at(name, "bad percentile '" + a + "' (use p50, p90, p99, p99.9 ...)");
        return 0;
      }
      n.agg = SloNode::Agg::Percentile;
      n.percentile = p;
    } else {
      fail_at(name, "unknown aggregate '" + a + "' (use pNN, avg, min, max, rate, count, last)");
      return 0;
    }
    if (peek().type != Token::Type::LParen) {
      fail_at(peek(), "expected '(' after '" + a + "' " + found(peek()));
      return 0;
    }
    ++pos_;
    Token m = peek();
    if (m.type != Token::Type::Ident) {
      fail_at(m, "expected a metric name " + found(m));
      return 0;
    }
    ++pos_;
    if (peek().type != Token::Type::RParen) {
      fail_at(peek(), "expected ')' " + found(peek()));
      return 0;
    }
    ++pos_;
    std::string base = metric_base_name(m.text);
    n.metric_offset = m.offset;
    auto info = find_metric(base);
    if (!info) {
      std::string known;
      for (const auto& mi : metric_catalog()) known += (known.empty() ? "" : ", ") + std::string(mi.name);
      fail_at(m, "unknown metric '" + base + "' (known: " + known + ")");
      return 0;
    }
    auto series = series_name(m, base, std::string_view(m.text).substr(base.size()));
    if (!series) return 0;
    n.metric = *series;
    bool hist = info->kind == MetricKind::Histogram;
    bool gauge = info->kind == MetricKind::Gauge;
    SloDimension unit_dim = info->unit == MetricUnit::Microseconds ? SloDimension::Time
                            : info->unit == MetricUnit::Bytes      ? SloDimension::Bytes
                                                                   : SloDimension::Number;
    switch (n.agg) {
      case SloNode::Agg::Percentile:
      case SloNode::Agg::Avg:
        if (!hist && !(gauge && n.agg == SloNode::Agg::Avg)) {
          fail_at(name, "'" + a + "' needs a histogram metric; " + m.text + " is a " + (gauge ? "gauge" : "counter") +
                            " (use count, rate" + (gauge ? ", last, min, max" : "") + ")");
          return 0;
        }
        n.dim = unit_dim;
        break;
      case SloNode::Agg::Min:
      case SloNode::Agg::Max:
        if (!hist && !gauge) {
          fail_at(name, "'" + a + "' needs a histogram or gauge metric; " + m.text + " is a counter (use count or rate)");
          return 0;
        }
        n.dim = unit_dim;
        break;
      case SloNode::Agg::Last:
        if (!gauge) {
          fail_at(name, "'last' needs a gauge metric; " + m.text + " is a " + (hist ? "histogram" : "counter"));
          return 0;
        }
        n.dim = unit_dim;
        break;
      case SloNode::Agg::Rate:
        if (gauge) {
          fail_at(name, "'rate' needs a counter or histogram; " + m.text + " is a gauge");
          return 0;
        }
        n.dim = SloDimension::Rate;
        break;
      case SloNode::Agg::Recovery: break;  // parsed by recovery(), never here
      case SloNode::Agg::Count:
        if (gauge) {
          fail_at(name, "'count' needs a counter or histogram; " + m.text + " is a gauge (use last)");
          return 0;
        }
        n.dim = info->unit == MetricUnit::Bytes ? SloDimension::Bytes : SloDimension::Number;
        break;
    }
    return add(with_during(n));
  }

  SloNode with_during(SloNode n) {
    if (peek().type == Token::Type::Ident && peek().text == "during") {
      // Only take it if a phase name follows and this is not the trailing
      // `during` of the whole expression (which is handled by parse()).
      size_t save = pos_;
      ++pos_;
      if (peek().type == Token::Type::Ident) {
        bool trailing = tokens_[pos_ + 1].type == Token::Type::End;
        if (!trailing) {
          n.during = peek().text;
          n.during_offset = peek().offset;
          ++pos_;
        } else {
          pos_ = save;
        }
      } else {
        fail_at(peek(), "expected a phase name after 'during' " + found(peek()));
      }
    }
    return n;
  }

  std::string_view text_;
  bool in_recovery_ = false;
  int depth_ = 0;  // parentheses open around the current factor
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  SloExpression e_;
  bool failed_ = false;
  Error err_;
};

}  // namespace

std::vector<std::pair<std::string, size_t>> SloExpression::phases_named() const {
  std::vector<std::pair<std::string, size_t>> out;
  for (const auto& n : nodes)
    if (n.kind == SloNode::Kind::Aggregate && !n.during.empty()) out.emplace_back(n.during, n.during_offset);
  if (!range_phase.empty()) out.emplace_back(range_phase, range_phase_offset);
  return out;
}

std::vector<std::pair<std::string, size_t>> SloExpression::metrics_named() const {
  std::vector<std::pair<std::string, size_t>> out;
  for (const auto& n : nodes)
    if (n.kind == SloNode::Kind::Aggregate && n.agg != SloNode::Agg::Recovery) out.emplace_back(n.metric, n.metric_offset);
  for (const auto& r : recovery)
    for (const auto& m : r.metrics_named()) out.push_back(m);
  return out;
}

bool SloExpression::has_during() const { return !phases_named().empty(); }

std::string metric_base_name(std::string_view series) { return std::string(series.substr(0, series.find('{'))); }

Result<SloExpression> parse_slo(std::string_view text) {
  Parser p(text);
  return p.parse();
}

SloOutcome evaluate_slo(const SloExpression& e, const SloData& data) {
  SloOutcome out;
  // The parser adds a node after its operands, so one pass in order computes
  // every node from values already known, in the order a recursive walk of
  // lhs then rhs would, and without recursion: `1 + 1 + ... + 1` is a tree as
  // deep as the expression is long.
  std::vector<double> value(e.nodes.size(), 0.0);
  for (size_t i = 0; i < e.nodes.size(); ++i) {
    const SloNode& n = e.nodes[i];
    switch (n.kind) {
      case SloNode::Kind::Number: value[i] = n.number; break;
      case SloNode::Kind::Aggregate: {
        bool have = n.agg == SloNode::Agg::Recovery ? data.recovery(e, value[i]) : data.aggregate(n, n.during, value[i]);
        if (!have) out.no_data = true;
        break;
      }
      case SloNode::Kind::Binary: {
        double l = value[n.lhs], r = value[n.rhs];
        switch (n.op) {
          case '+': value[i] = l + r; break;
          case '-': value[i] = l - r; break;
          case '*': value[i] = l * r; break;
          default: value[i] = r == 0 ? (l == 0 ? 0 : INFINITY) : l / r; break;
        }
        break;
      }
    }
  }
  out.lhs = value[e.lhs];
  out.rhs = value[e.rhs];
  out.dim = e.nodes[e.lhs].dim;
  const std::string& c = e.cmp;
  // Equality on measured values: compare with a tolerance that absorbs the
  // floating point of rates, not the histogram resolution.
  double tol = 1e-9 * std::max(1.0, std::max(std::fabs(out.lhs), std::fabs(out.rhs)));
  if (c == "<") out.pass = out.lhs < out.rhs;
  else if (c == "<=") out.pass = out.lhs <= out.rhs + tol;
  else if (c == ">") out.pass = out.lhs > out.rhs;
  else if (c == ">=") out.pass = out.lhs + tol >= out.rhs;
  else if (c == "==") out.pass = std::fabs(out.lhs - out.rhs) <= tol;
  else out.pass = std::fabs(out.lhs - out.rhs) > tol;
  if (out.no_data) out.pass = false;
  return out;
}

std::string format_slo_value(double value, SloDimension dim) {
  if (std::isinf(value)) return value > 0 ? "infinite" : "-infinite";  // a recovery that never came
  char buf[64];
  switch (dim) {
    case SloDimension::Time:
      if (std::fabs(value) >= 1e6) std::snprintf(buf, sizeof buf, "%.3gs", value / 1e6);
      else if (std::fabs(value) >= 1e3) std::snprintf(buf, sizeof buf, "%.4gms", value / 1e3);
      else std::snprintf(buf, sizeof buf, "%.4gus", value);
      break;
    case SloDimension::Rate: std::snprintf(buf, sizeof buf, "%.6g/s", value); break;
    case SloDimension::Bytes:
      // Binary units, as the header documents ("5.2MiB"), not "5.4526e+06B".
      if (std::fabs(value) >= 1073741824.0) std::snprintf(buf, sizeof buf, "%.4gGiB", value / 1073741824.0);
      else if (std::fabs(value) >= 1048576.0) std::snprintf(buf, sizeof buf, "%.4gMiB", value / 1048576.0);
      else if (std::fabs(value) >= 1024.0) std::snprintf(buf, sizeof buf, "%.4gKiB", value / 1024.0);
      else std::snprintf(buf, sizeof buf, "%.6gB", value);
      break;
    default: std::snprintf(buf, sizeof buf, "%.6g", value); break;
  }
  return buf;
}

}  // namespace kapture
