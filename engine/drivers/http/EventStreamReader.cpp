#include "drivers/http/EventStreamReader.h"

#include <string_view>

#include "drivers/http/CurlHandles.h"

namespace kapture {

void EventStreamParser::feed(const char* data, size_t n, const EventStreamReader::OnEvent& on_event) {
  std::string_view in(data, n);
  while (!in.empty()) {
    size_t nl = in.find('\n');
    if (nl == std::string_view::npos) {
      partial_.append(in);
      return;
    }
    std::string_view piece = in.substr(0, nl);
    in.remove_prefix(nl + 1);
    if (!partial_.empty()) {
      partial_.append(piece);
      std::string whole = std::move(partial_);
      partial_.clear();
      line(whole, on_event);
    } else {
      line(piece, on_event);
    }
  }
}

// The event-stream format (WHATWG HTML, "server-sent events"): a blank line
// ends an event; "field: value" lines, one optional space after the colon;
// lines starting with ':' are comments (keep-alives).
void EventStreamParser::line(std::string_view l, const EventStreamReader::OnEvent& on_event) {
  if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  if (l.empty()) {
    if (has_data_) on_event(event_);
    event_.data.clear();
    has_data_ = false;
    return;  // the id stays: the spec keeps the last event id
  }
  if (l[0] == ':') return;
  size_t colon = l.find(':');
  std::string_view field = l.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view() : l.substr(colon + 1);
  if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
  if (field == "data") {
    if (has_data_) event_.data += '\n';
    event_.data.append(value);
    has_data_ = true;
  } else if (field == "id") {
    event_.id.assign(value);
  }
}

namespace {

struct Transfer {
  const std::atomic<bool>* stop;
  const EventStreamReader::OnEvent* on_event;
  const std::function<void()>* connected;
  const std::function<void()>* tick;
  EventStreamParser parser;
  CURL* easy = nullptr;
  bool announced = false;
  long status = 0;
  std::string error_body;  // what a non-200 answer said
};

size_t on_bytes(char* data, size_t size, size_t n, void* p) {
  auto* t = static_cast<Transfer*>(p);
  if (t->status == 0) curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
  if (t->status != 200) {
    if (t->error_body.size() < 512) t->error_body.append(data, std::min<size_t>(size * n, 512));
    return size * n;
  }
  if (!t->announced) {
    t->announced = true;
    if (*t->connected) (*t->connected)();
  }
  t->parser.feed(data, size * n, *t->on_event);
  return size * n;
}

// curl calls this at least once a second, data or not: the way to stop a
// stream that is quiet.
int on_progress(void* p, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(p);
  // Connected once the headers said 200, before any event: a stream of a
  // quiet topic may send nothing for a while.
  if (!t->announced) {
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status == 200) {
      t->status = status;
      t->announced = true;
      if (*t->connected) (*t->connected)();
    }
  }
  if (*t->tick) (*t->tick)();
  return t->stop->load(std::memory_order_relaxed) ? 1 : 0;
}

}  // namespace

Status EventStreamReader::read(const std::atomic<bool>& stop, const OnEvent& on_event, const std::function<void()>& connected,
                               const std::function<void()>& tick, const std::string& last_event_id) {
  curl_global_once();
  CurlEasy easy(curl_easy_init());
  if (!easy) return runtime_error("curl_easy_init failed");
  Transfer t{&stop, &on_event, &connected, &tick, {}, easy.get(), false, 0, {}};
  CurlSlist headers(curl_slist_append(nullptr, "Accept: text/event-stream"));
  if (!last_event_id.empty()) headers.reset(curl_slist_append(headers.release(), ("Last-Event-ID: " + last_event_id).c_str()));
  CURL* c = easy.get();
  curl_easy_setopt(c, CURLOPT_URL, options_.url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_bytes);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout_ms));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
  if (options_.insecure) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  CURLcode rc = curl_easy_perform(c);
  if (stop.load()) return std::nullopt;
  if (t.status == 0) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &t.status);
  if (t.status != 0 && t.status != 200) {
    while (!t.error_body.empty() && (t.error_body.back() == '\n' || t.error_body.back() == '\r')) t.error_body.pop_back();
    return unreachable_error("GET " + options_.url + ": HTTP " + std::to_string(t.status) + (t.error_body.empty() ? "" : ": " + t.error_body));
  }
  if (rc != CURLE_OK) return unreachable_error("GET " + options_.url + ": " + curl_easy_strerror(rc));
  return unreachable_error("GET " + options_.url + ": the server ended the event stream");
}

}  // namespace kapture
