#pragma once
// A spdlog sink that redacts (common/Redact.h) each message before handing
// it to the real sink: warnings quote client libraries (librdkafka's log,
// libpq, hiredis, libcurl), which may quote a secret.
#include <memory>
#include <string>

#include <spdlog/sinks/sink.h>

#include "common/Redact.h"

namespace kapture {

class RedactingSink : public spdlog::sinks::sink {
 public:
  explicit RedactingSink(std::shared_ptr<spdlog::sinks::sink> inner) : inner_(std::move(inner)) {}
  void log(const spdlog::details::log_msg& msg) override {
    std::string text = redact(std::string(msg.payload.data(), msg.payload.size()));
    spdlog::details::log_msg safe = msg;
    safe.payload = spdlog::string_view_t(text.data(), text.size());
    inner_->log(safe);
  }
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override { inner_->set_formatter(std::move(formatter)); }

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
};

}  // namespace kapture
