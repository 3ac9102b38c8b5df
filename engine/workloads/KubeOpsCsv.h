#pragma once
// `csv: true` on a kube-churn or kube-lifecycle: every API request of the
// workload as one line of <results>/kube-ops-NAME.csv:
//   start_us,end_us,verb,resource,object,status,error
// start_us and end_us are Unix epoch microseconds (the clock of the
// kapture.io/sent-us annotations, so a line matches the object's annotation
// and the API server's audit log); status is the HTTP status of the final
// answer (0: none came); error the API's message, quoted when needed. Lines
// are buffered and all written by close() (stop), none lost.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/Error.h"

namespace kapture {

class KubeOpsCsv {
 public:
  static Result<std::unique_ptr<KubeOpsCsv>> open(const std::string& path);
  ~KubeOpsCsv();
  KubeOpsCsv(const KubeOpsCsv&) = delete;
  KubeOpsCsv& operator=(const KubeOpsCsv&) = delete;

  static const char* header();  // with its newline
  // One line, with its newline.
  static std::string line(int64_t start_us, int64_t end_us, std::string_view verb, std::string_view resource,
                          std::string_view object, long status, std::string_view error);
  // A field as CSV has it: quoted (quotes doubled) when it holds a comma,
  // a quote or a line break.
  static std::string field(std::string_view text);

  void write(int64_t start_us, int64_t end_us, std::string_view verb, std::string_view resource, std::string_view object,
             long status, std::string_view error);
  // Writes what is buffered and closes; later writes are ignored.
  Status close();
  const std::string& path() const { return path_; }

 private:
  KubeOpsCsv(std::FILE* f, std::string path) : file_(f), path_(std::move(path)) {}
  std::mutex mu_;
  std::FILE* file_ = nullptr;
  std::string path_;
  bool failed_ = false;
};

}  // namespace kapture
