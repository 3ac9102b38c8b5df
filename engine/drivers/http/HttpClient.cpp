#include "drivers/http/HttpClient.h"

#include "drivers/http/CurlHandles.h"

#include "drivers/http/PlainHttpClient.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace kapture {

namespace {

using Easy = CurlEasy;
using Multi = CurlMulti;
using Slist = CurlSlist;

void global_init() { curl_global_once(); }

constexpr size_t kMaxKeptBody = 1 << 20;  // what a Lua check sees of a body at most

HttpResult::Outcome classify(CURLcode code) {
  switch (code) {
    case CURLE_OK: return HttpResult::Outcome::Response;
    case CURLE_OPERATION_TIMEDOUT: return HttpResult::Outcome::Timeout;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
      return HttpResult::Outcome::ConnectError;
    default: return HttpResult::Outcome::Error;
  }
}

}  // namespace

struct CurlHttpClient::Transfer {
  Easy easy;
  Slist headers;
  HttpRequest req;
  bool keep = false;
  size_t slot = 0;  // index in Impl::active
  std::string body_in;
  std::map<std::string, std::string> headers_in;
  char error[CURL_ERROR_SIZE] = {0};

  static size_t on_body(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    size_t len = size * n;
    if (t->keep && t->body_in.size() < kMaxKeptBody) t->body_in.append(data, std::min(len, kMaxKeptBody - t->body_in.size()));
    return len;
  }
  static size_t on_header(char* data, size_t size, size_t n, void* self) {
    auto* t = static_cast<Transfer*>(self);
    size_t len = size * n;
    std::string line(data, len);
    if (line.rfind("HTTP/", 0) == 0) {
      t->headers_in.clear();  // a new response (after 100 Continue)
      return len;
    }
    auto colon = line.find(':');
    if (colon == std::string::npos) return len;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    size_t b = colon + 1, e = line.size();
    while (b < e && (line[b] == ' ' || line[b] == '\t')) ++b;
    while (e > b && (line[e - 1] == '\r' || line[e - 1] == '\n' || line[e - 1] == ' ')) --e;
    t->headers_in[name] = line.substr(b, e - b);
    return len;
  }
};

struct CurlHttpClient::Impl {
  Multi multi;
  std::vector<std::unique_ptr<Transfer>> idle;    // easy handles kept for reuse
  std::vector<std::unique_ptr<Transfer>> active;  // added to the multi handle
  // The first URL submitted, parsed once (CURLOPT_CURLU): every request to
  // it skips libcurl's URL parse: 8% less CPU per request at max rate
  // against a 64-byte response (bench/http, one worker). libcurl only reads the
  // handle (it copies it at each transfer's start and after a wait in its
  // queue), so one lives as long as the client. Other URLs (made by Lua)
  // go as CURLOPT_URL, as does this one if it does not parse here.
  std::string parsed_url;
  CURLU* parsed = nullptr;
  bool parse_tried = false;

  CURLU* parsed_for(const std::string& url) {
    if (!parse_tried) {
      parse_tried = true;
      parsed_url = url;
      parsed = curl_url();
      // The flags libcurl parses a CURLOPT_URL with.
      if (parsed && curl_url_set(parsed, CURLUPART_URL, url.c_str(), CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
        curl_url_cleanup(parsed);
        parsed = nullptr;
      }
    }
    return parsed && url == parsed_url ? parsed : nullptr;
  }

  ~Impl() {
    for (auto& t : active) curl_multi_remove_handle(multi.get(), t->easy.get());
    active.clear();  // easy handles go before the multi handle
    idle.clear();
    if (parsed) curl_url_cleanup(parsed);  // after the easy handles that used it
  }
};

CurlHttpClient::CurlHttpClient(const HttpClientOptions& opts) : opts_(opts), impl_(std::make_unique<Impl>()) {}

CurlHttpClient::~CurlHttpClient() = default;

Result<std::unique_ptr<HttpClient>> HttpClient::create(const HttpClientOptions& opts) {
  if (!opts.http2 && PlainHttpClient::serves(opts.url)) {
    auto plain = PlainHttpClient::create(opts);
    if (plain) return std::unique_ptr<HttpClient>(std::move(*plain));
    // The host does not resolve now: libcurl tries (and reports) per request.
  }
  auto curl = CurlHttpClient::create(opts);
  if (!curl) return curl.error();
  return std::unique_ptr<HttpClient>(std::move(*curl));
}

Result<std::unique_ptr<CurlHttpClient>> CurlHttpClient::create(const HttpClientOptions& opts) {
  global_init();
  std::unique_ptr<CurlHttpClient> c(new CurlHttpClient(opts));
  c->impl_->multi.reset(curl_multi_init());
  CURLM* m = c->impl_->multi.get();
  if (!m) return runtime_error("cannot create a libcurl multi handle");
  // The pool: at most `connections` connections, to the host and in all;
  // transfers beyond them wait in curl's queue for a free one (HTTP/1.1) or
  // share one as HTTP/2 streams.
  curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(opts.connections));
  curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(opts.connections));
  curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, static_cast<long>(opts.connections));
  curl_multi_setopt(m, CURLMOPT_PIPELINING, opts.http2 ? CURLPIPE_MULTIPLEX : CURLPIPE_NOTHING);
  return c;
}

Status CurlHttpClient::submit(HttpRequest req) {
  std::unique_ptr<Transfer> t;
  if (!impl_->idle.empty()) {
    t = std::move(impl_->idle.back());
    impl_->idle.pop_back();
    curl_easy_reset(t->easy.get());
  } else {
    t = std::make_unique<Transfer>();
    t->easy.reset(curl_easy_init());
    if (!t->easy) return runtime_error("cannot create a libcurl easy handle");
  }
  t->req = std::move(req);
  t->keep = opts_.keep_bodies;
  t->body_in.clear();
  t->headers_in.clear();
  t->error[0] = 0;
  Slist headers;
  for (const auto& h : t->req.headers) {
    curl_slist* l = curl_slist_append(headers.get(), h.c_str());
    if (!l) return runtime_error("out of memory for request headers");
    (void)headers.release();
    headers.reset(l);
  }
  CURL* e = t->easy.get();
  const HttpRequest& r = t->req;
  if (CURLU* u = impl_->parsed_for(r.url)) curl_easy_setopt(e, CURLOPT_CURLU, u);
  else curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(e, CURLOPT_PRIVATE, t.get());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Transfer::on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
  if (opts_.keep_bodies) {
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Transfer::on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
  }
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(1, opts_.timeout_us / 1000)));
  curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
  if (opts_.http2) {
    bool tls = r.url.rfind("https://", 0) == 0;
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, tls ? CURL_HTTP_VERSION_2TLS : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
    // Wait for a connection that can multiplex rather than open another.
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
  } else {
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
  }
  if (opts_.insecure) {
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  if (r.method == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body.data());
    if (r.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    // No "Expect: 100-continue" round trip for large bodies.
    curl_slist* l = curl_slist_append(headers.get(), "Expect:");
    if (l) {
      (void)headers.release();
      headers.reset(l);
    }
  } else if (r.method != "GET") {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }
  t->headers = std::move(headers);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers.get());
  CURLMcode mc = curl_multi_add_handle(impl_->multi.get(), e);
  if (mc != CURLM_OK) return runtime_error(std::string("libcurl refused a transfer: ") + curl_multi_strerror(mc));
  t->slot = impl_->active.size();
  impl_->active.push_back(std::move(t));
  ++in_flight_;
  return std::nullopt;
}

void CurlHttpClient::complete(Transfer* t, int code_int, int64_t now, const Completion& done) {
  auto code = static_cast<CURLcode>(code_int);
  CURL* e = t->easy.get();
  HttpResult r;
  r.outcome = classify(code);
  r.intended_us = t->req.intended_us;
  r.tag = t->req.tag;
  r.done_us = now;
  curl_off_t pretransfer = 0, total = 0, down = 0, up = 0;
  long header_size = 0, request_size = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &r.status);
  curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
  curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &total);
  curl_easy_getinfo(e, CURLINFO_SIZE_DOWNLOAD_T, &down);
  curl_easy_getinfo(e, CURLINFO_SIZE_UPLOAD_T, &up);
  curl_easy_getinfo(e, CURLINFO_HEADER_SIZE, &header_size);
  curl_easy_getinfo(e, CURLINFO_REQUEST_SIZE, &request_size);
  curl_easy_getinfo(e, CURLINFO_NUM_CONNECTS, &r.new_connections);
  // Sent when curl was about to transfer, after waiting for a connection
  // (and connecting): total minus pre-transfer time is how long the request
  // and its response took on the connection, whatever curl's clock started
  // at (it restarts when a transfer leaves the queue for a connection).
  r.sent_us = total > 0 && total >= pretransfer ? std::max(t->req.submitted_us, now - static_cast<int64_t>(total - pretransfer))
                                                : t->req.submitted_us;
  r.bytes_in = static_cast<int64_t>(down) + header_size;
  // The request line and headers, plus a body curl sent apart from them.
  r.bytes_out = std::max<int64_t>(request_size, static_cast<int64_t>(up));
  if (r.bytes_out < static_cast<int64_t>(t->req.body.size()) && code == CURLE_OK) r.bytes_out += static_cast<int64_t>(t->req.body.size());
  if (r.outcome != HttpResult::Outcome::Response) r.error = t->error[0] ? t->error : curl_easy_strerror(code);
  if (t->keep) {
    r.body = std::move(t->body_in);
    r.headers = std::move(t->headers_in);
  }
  done(r);
}

void CurlHttpClient::poll(int timeout_ms, const std::function<int64_t()>& now_us, const Completion& done) {
  CURLM* m = impl_->multi.get();
  int running = 0;
  // Wait first, then one curl_multi_perform. Transfers submitted since the
  // last call are not held up by the wait: curl_multi_add_handle (and a
  // transfer leaving curl's queue for a connection) sets a timer due now,
  // and curl_multi_poll returns at once for a due timer as for a ready
  // socket. A perform before the wait as well cost a second pass over every
  // transfer (a poll(2) on each one's socket) per round. One worker at
  // rate: max against a 64-byte response (bench/http's static server) made
  // 12,000 to 55,000 requests/s that way, at times with its thread mostly
  // idle; 65,000 to 69,000, its thread busy, with this order and the parsed
  // URL (Impl::parsed_for).
  if (timeout_ms > 0) {
    // Waits the whole timeout when nothing is in flight, too.
    curl_multi_poll(m, nullptr, 0, timeout_ms, nullptr);
  }
  curl_multi_perform(m, &running);
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(m, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* e = msg->easy_handle;
    CURLcode code = msg->data.result;
    char* priv = nullptr;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, &priv);
    auto* tp = reinterpret_cast<Transfer*>(priv);
    if (!tp || tp->slot >= impl_->active.size() || impl_->active[tp->slot].get() != tp) continue;
    size_t slot = tp->slot;
    std::unique_ptr<Transfer> t = std::move(impl_->active[slot]);
    if (slot + 1 != impl_->active.size()) {
      impl_->active[slot] = std::move(impl_->active.back());
      impl_->active[slot]->slot = slot;
    }
    impl_->active.pop_back();
    curl_multi_remove_handle(m, e);
    --in_flight_;
    complete(t.get(), code, now_us(), done);
    t->headers.reset();
    t->req = HttpRequest{};
    impl_->idle.push_back(std::move(t));
  }
}

void CurlHttpClient::abort_all(const std::function<int64_t()>& now_us, const Completion& done) {
  CURLM* m = impl_->multi.get();
  for (auto& t : impl_->active) {
    curl_multi_remove_handle(m, t->easy.get());
    HttpResult r;
    r.outcome = HttpResult::Outcome::Error;
    r.intended_us = t->req.intended_us;
    r.tag = t->req.tag;
    r.sent_us = t->req.submitted_us;
    r.done_us = now_us();
    r.error = "aborted: still unanswered when the drain ended";
    done(r);
    impl_->idle.push_back(std::move(t));
  }
  impl_->active.clear();
  in_flight_ = 0;
}

}  // namespace kapture
