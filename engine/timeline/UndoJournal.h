#pragma once
// Every mutation registers its undo before it acts. Undos run when the
// injection ends, and whatever is still pending runs at the end of the run,
// on failure and on interrupt, newest first. The journal file in the results
// directory says what was left pending if the engine itself died.
#include <cstdio>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "common/Error.h"

namespace kapture {

class UndoJournal {
 public:
  explicit UndoJournal(const std::string& path);
  ~UndoJournal();
  UndoJournal(const UndoJournal&) = delete;
  UndoJournal& operator=(const UndoJournal&) = delete;

  int push(std::string description, std::function<Status()> undo);
  // Runs one undo now (its scheduled end). Returns its error, if any.
  Status run(int id);
  // Runs everything still pending, newest first; returns the errors.
  std::vector<Error> run_all();
  size_t pending() const;

 private:
  struct Entry {
    int id;
    std::string description;
    std::function<Status()> undo;
  };
  void log(const char* state, const Entry& e, const std::string& error = "");

  mutable std::mutex mu_;
  std::vector<Entry> entries_;
  int next_id_ = 1;
  std::FILE* file_ = nullptr;
};

}  // namespace kapture
