#include "scenario/BodyTemplate.h"

#include <charconv>

namespace kapture {

namespace {

void append_text(BodyTemplate& t, std::string_view s) {
  if (s.empty()) return;
  if (!t.parts.empty() && t.parts.back().kind == BodyTemplate::Kind::Text) t.parts.back().text += s;
  else t.parts.push_back({BodyTemplate::Kind::Text, std::string(s), 0});
}

}  // namespace

Result<BodyTemplate> parse_body_template(const std::string& text) {
  BodyTemplate t;
  size_t i = 0;
  while (i < text.size()) {
    size_t dollar = text.find('$', i);
    if (dollar == std::string::npos || dollar + 1 == text.size()) {
      append_text(t, std::string_view(text).substr(i));
      break;
    }
    append_text(t, std::string_view(text).substr(i, dollar - i));
    char next = text[dollar + 1];
    if (next == '$') {
      append_text(t, "$");
      i = dollar + 2;
      continue;
    }
    if (next != '{') {
      append_text(t, "$");
      i = dollar + 1;
      continue;
    }
    const std::string at = " (character " + std::to_string(dollar + 1) + ")";
    size_t close = text.find('}', dollar);
    if (close == std::string::npos) return usage_error("'${' without a closing '}'" + at);
    std::string name = text.substr(dollar + 2, close - dollar - 2);
    std::string arg;
    if (size_t colon = name.find(':'); colon != std::string::npos) {
      arg = name.substr(colon + 1);
      name = name.substr(0, colon);
    }
    BodyTemplate::Part p;
    if (name == "seq") p.kind = BodyTemplate::Kind::Seq;
    else if (name == "now_ms") p.kind = BodyTemplate::Kind::NowMs;
    else if (name == "now_us") p.kind = BodyTemplate::Kind::NowUs;
    else if (name == "worker") p.kind = BodyTemplate::Kind::Worker;
    else if (name == "rand") p.kind = BodyTemplate::Kind::Rand;
    else if (name == "text") p.kind = BodyTemplate::Kind::Letters;
    else
      return usage_error("unknown placeholder '${" + text.substr(dollar + 2, close - dollar - 2) + "}'" + at +
                         "; known: ${seq}, ${now_ms}, ${now_us}, ${worker}, ${rand:N}, ${text:N}");
    bool takes_n = p.kind == BodyTemplate::Kind::Rand || p.kind == BodyTemplate::Kind::Letters;
    if (takes_n) {
      auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), p.n);
      if (arg.empty() || ec != std::errc() || end != arg.data() + arg.size() || p.n == 0 ||
          (p.kind == BodyTemplate::Kind::Letters && p.n > 1000000))
        return usage_error("${" + name + ":N} needs N, a whole number from 1" +
                           std::string(p.kind == BodyTemplate::Kind::Letters ? " to 1000000" : "") + at);
    } else if (!arg.empty()) {
      return usage_error("${" + name + "} takes no ':" + arg + "'" + at);
    }
    t.parts.push_back(p);
    i = close + 1;
  }
  return t;
}

void render_body_template(const BodyTemplate& t, const BodyTemplateValues& v, std::mt19937_64& rng, std::string& out) {
  for (const auto& p : t.parts) {
    switch (p.kind) {
      case BodyTemplate::Kind::Text: out += p.text; break;
      case BodyTemplate::Kind::Seq: out += std::to_string(v.seq); break;
      case BodyTemplate::Kind::NowMs: out += std::to_string(v.now_us / 1000); break;
      case BodyTemplate::Kind::NowUs: out += std::to_string(v.now_us); break;
      case BodyTemplate::Kind::Worker: out += std::to_string(v.worker); break;
      case BodyTemplate::Kind::Rand: out += std::to_string(rng() % p.n); break;
      case BodyTemplate::Kind::Letters:
        for (uint64_t k = 0; k < p.n; ++k) out += static_cast<char>('a' + rng() % 26);
        break;
    }
  }
}

}  // namespace kapture
