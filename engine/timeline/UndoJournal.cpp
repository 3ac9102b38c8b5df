#include "timeline/UndoJournal.h"

#include <nlohmann/json.hpp>

namespace kapture {

UndoJournal::UndoJournal(const std::string& path) {
  if (!path.empty()) file_ = std::fopen(path.c_str(), "w");
}

UndoJournal::~UndoJournal() {
  run_all();
  if (file_) std::fclose(file_);
}

void UndoJournal::log(const char* state, const Entry& e, const std::string& error) {
  if (!file_) return;
  nlohmann::json j = {{"id", e.id}, {"state", state}, {"undo", e.description}};
  if (!error.empty()) j["error"] = error;
  std::string line = j.dump() + "\n";
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

int UndoJournal::push(std::string description, std::function<Status()> undo) {
  std::lock_guard lock(mu_);
  Entry e{next_id_++, std::move(description), std::move(undo)};
  log("pending", e);
  entries_.push_back(std::move(e));
  return entries_.back().id;
}

Status UndoJournal::run(int id) {
  Entry e;
  {
    std::lock_guard lock(mu_);
    auto it = std::find_if(entries_.begin(), entries_.end(), [id](const Entry& x) { return x.id == id; });
    if (it == entries_.end()) return std::nullopt;
    e = std::move(*it);
    entries_.erase(it);
  }
  Status st = e.undo ? e.undo() : std::nullopt;
  std::lock_guard lock(mu_);
  log(st ? "failed" : "done", e, st ? st->message : "");
  return st;
}

std::vector<Error> UndoJournal::run_all() {
  std::vector<Error> errors;
  for (;;) {
    int id;
    {
      std::lock_guard lock(mu_);
      if (entries_.empty()) break;
      id = entries_.back().id;
    }
    if (auto st = run(id)) errors.push_back(*st);
  }
  return errors;
}

size_t UndoJournal::pending() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

}  // namespace kapture
