#include "drivers/kube/KubeWatchStream.h"

namespace kapture {

long watch_status_code(const nlohmann::json& status) {
  if (!status.is_object()) return 0;
  auto code = status.find("code");
  if (code != status.end() && code->is_number_integer()) return code->get<long>();
  // Some servers leave the code out and say only the reason.
  auto reason = status.find("reason");
  if (reason != status.end() && reason->is_string() && (*reason == "Expired" || *reason == "Gone")) return 410;
  return 0;
}

bool KubeWatchStream::feed(std::string_view bytes, const std::function<bool(const KubeWatchEvent&)>& on_event) {
  if (end_ != End::None) return false;
  buf_.append(bytes);
  size_t start = 0;
  while (end_ == End::None) {
    size_t nl = buf_.find('\n', start);
    if (nl == std::string::npos) break;
    std::string_view text(buf_.data() + start, nl - start);
    start = nl + 1;
    if (!line(text, on_event)) break;
  }
  buf_.erase(0, start);
  return end_ == End::None;
}

bool KubeWatchStream::line(std::string_view text, const std::function<bool(const KubeWatchEvent&)>& on_event) {
  while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.remove_suffix(1);
  if (text.empty()) return true;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string() || !j.contains("object")) {
    garbage_ = std::string(text.substr(0, 300));
    end_ = End::Garbage;
    return false;
  }
  KubeWatchEvent ev{j["type"].get<std::string>(), std::move(j["object"])};
  if (ev.type == "ERROR") {
    error_status_ = std::move(ev.object);
    end_ = watch_status_code(error_status_) == 410 ? End::Gone : End::Error;
    return false;
  }
  if (ev.object.is_object()) {
    auto md = ev.object.find("metadata");
    if (md != ev.object.end() && md->is_object()) {
      auto rv = md->find("resourceVersion");
      if (rv != md->end() && rv->is_string() && !rv->get_ref<const std::string&>().empty()) resource_version_ = rv->get<std::string>();
    }
  }
  ++events_;
  if (!on_event(ev)) {
    end_ = End::Callback;
    return false;
  }
  return true;
}

}  // namespace kapture
