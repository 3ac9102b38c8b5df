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

#include <nlohmann/json.hpp>

#include "common/Error.h"

namespace kapture {

class UndoJournal {
 public:
  explicit UndoJournal(const std::string& path);
  ~UndoJournal();
  UndoJournal(const UndoJournal&) = delete;
  UndoJournal& operator=(const UndoJournal&) = delete;

  // `replay` says how to undo without this process (`kapture-engine
  // recover`): {"op": "scale", ...}; null when it cannot be replayed.
  int push(std::string description, std::function<Status()> undo, nlohmann::json replay = nullptr);
  // Sets (or replaces) the undo of an entry pushed earlier; returns its id.
  int attach(int id, std::function<Status()> undo);
  // Runs one undo now (its scheduled end). Returns its error, if any.
  Status run(int id);
  // Runs everything still pending, newest first; returns the errors.
  std::vector<Error> run_all();
  size_t pending() const;

  // A journal file read back: the entries whose last state is "pending"
  // (the run died before undoing them), newest first.
  struct PendingUndo {
    int id = 0;
    std::string description;
    nlohmann::json replay;
  };
  static Result<std::vector<PendingUndo>> read_pending(const std::string& path);
  // For `recover`: appends "done"/"failed" lines for entries of a read journal.
  static void append_outcome(const std::string& path, const PendingUndo& e, const Status& outcome);

 private:
  struct Entry {
    int id;
    std::string description;
    std::function<Status()> undo;
    nlohmann::json replay;
  };
  void log(const char* state, const Entry& e, const std::string& error = "");

  mutable std::mutex mu_;
  std::vector<Entry> entries_;
  int next_id_ = 1;
  std::FILE* file_ = nullptr;
};

}  // namespace kapture
