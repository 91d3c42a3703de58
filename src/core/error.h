// Errors carry a kind so that the runner (the only one that decides a pipe's
// fate) can tell a retryable hiccup from a cause that needs a human.
#pragma once
#include <stdexcept>
#include <string>

namespace ferry {

enum class ErrorKind {
  Transient,  // network, destination restart, lock timeout: retry with backoff
  Permanent,  // permission, missing table, unmappable type: fail the pipe
  Config,     // bad user input (config file, CLI, API request)
  SourceLost, // source cannot be resumed (slot dropped, binlog purged): resync recovers
};

const char* to_string(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }
  bool transient() const { return kind_ == ErrorKind::Transient; }

 private:
  ErrorKind kind_;
};

inline Error transient_error(const std::string& m) { return Error(ErrorKind::Transient, m); }
inline Error permanent_error(const std::string& m) { return Error(ErrorKind::Permanent, m); }
inline Error config_error(const std::string& m) { return Error(ErrorKind::Config, m); }

}  // namespace ferry
