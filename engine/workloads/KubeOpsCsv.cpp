#include "workloads/KubeOpsCsv.h"

#include <cerrno>
#include <cstring>

#include "common/Redact.h"

namespace kapture {

Result<std::unique_ptr<KubeOpsCsv>> KubeOpsCsv::open(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return runtime_error("cannot write " + path + ": " + std::strerror(errno));
  // Large buffer: a line per request at thousands of requests a second.
  std::setvbuf(f, nullptr, _IOFBF, 1 << 20);
  std::unique_ptr<KubeOpsCsv> csv(new KubeOpsCsv(f, path));
  if (std::fputs(header(), f) < 0) csv->failed_ = true;
  return csv;
}

KubeOpsCsv::~KubeOpsCsv() { (void)close(); }

const char* KubeOpsCsv::header() { return "start_us,end_us,verb,resource,object,status,error\n"; }

std::string KubeOpsCsv::field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string KubeOpsCsv::line(int64_t start_us, int64_t end_us, std::string_view verb, std::string_view resource,
                             std::string_view object, long status, std::string_view error) {
  std::string out = std::to_string(start_us);
  out += ',';
  out += std::to_string(end_us);
  out += ',';
  out += field(verb);
  out += ',';
  out += field(resource);
  out += ',';
  out += field(object);
  out += ',';
  out += std::to_string(status);
  out += ',';
  // API errors are rare and may quote a client library: redacted (not free).
  out += error.empty() ? std::string() : field(redact(error));
  out += '\n';
  return out;
}

void KubeOpsCsv::write(int64_t start_us, int64_t end_us, std::string_view verb, std::string_view resource, std::string_view object,
                       long status, std::string_view error) {
  std::string l = line(start_us, end_us, verb, resource, object, status, error);
  std::lock_guard lock(mu_);
  if (!file_) return;
  if (std::fwrite(l.data(), 1, l.size(), file_) != l.size()) failed_ = true;
}

Status KubeOpsCsv::close() {
  std::lock_guard lock(mu_);
  if (!file_) return std::nullopt;
  bool bad = std::fflush(file_) != 0;
  bad = std::fclose(file_) != 0 || bad;
  file_ = nullptr;
  if (bad || failed_) return runtime_error("cannot write " + path_ + ": " + std::strerror(errno));
  return std::nullopt;
}

}  // namespace kapture
