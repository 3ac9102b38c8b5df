#pragma once
// RAII for libcurl handles, and the one process-wide curl_global_init.
#include <curl/curl.h>

#include <memory>
#include <mutex>

namespace kapture {

struct CurlEasyCleanup {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct CurlMultiCleanup {
  void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};
struct CurlSlistCleanup {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyCleanup>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiCleanup>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistCleanup>;

// curl_global_init is not thread-safe; the first user does it, once. It is
// never undone: cleanup is not thread-safe either, and the process ends soon.
inline void curl_global_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace kapture
