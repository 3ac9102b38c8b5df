#pragma once
// Errors are values carrying where they came from until the CLI turns them
// into a message and an exit code.
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace kapture {

enum class ErrorKind {
  Usage,        // bad command line or scenario: exit 2
  Unreachable,  // target could not be reached or set up: exit 3
  Runtime,      // anything else that stopped a run
};

struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based; 0 = unknown
  int column = 0;  // 1-based; 0 = unknown
};

struct Error {
  ErrorKind kind = ErrorKind::Usage;
  std::string message;
  SourceLocation where;

  // "file:line:column: message", the form editors and compilers use.
  std::string describe() const {
    std::string out;
    if (!where.file.empty()) {
      out += where.file;
      // Appended piece by piece: GCC 12 warns falsely on "x" + std::string&&.
      if (where.line > 0) {
        out += ':';
        out += std::to_string(where.line);
      }
      if (where.column > 0) {
        out += ':';
        out += std::to_string(where.column);
      }
      out += ": ";
    }
    out += message;
    return out;
  }
};

inline Error usage_error(std::string message, SourceLocation where = {}) {
  return Error{ErrorKind::Usage, std::move(message), std::move(where)};
}
inline Error unreachable_error(std::string message) {
  return Error{ErrorKind::Unreachable, std::move(message), {}};
}
inline Error runtime_error(std::string message) {
  return Error{ErrorKind::Runtime, std::move(message), {}};
}

// A value or the error explaining why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// For operations that produce nothing but may fail.
using Status = std::optional<Error>;

}  // namespace kapture
