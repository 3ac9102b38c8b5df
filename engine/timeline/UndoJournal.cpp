#include "timeline/UndoJournal.h"

#include <fstream>
#include <map>

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
  if (!e.replay.is_null() && std::string(state) == "pending") j["replay"] = e.replay;
  std::string line = j.dump() + "\n";
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fflush(file_);
}

int UndoJournal::push(std::string description, std::function<Status()> undo, nlohmann::json replay) {
  std::lock_guard lock(mu_);
  Entry e{next_id_++, std::move(description), std::move(undo), std::move(replay)};
  log("pending", e);
  entries_.push_back(std::move(e));
  return entries_.back().id;
}

int UndoJournal::attach(int id, std::function<Status()> undo) {
  std::lock_guard lock(mu_);
  for (auto& e : entries_)
    if (e.id == id) e.undo = std::move(undo);
  return id;
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

namespace kapture {

Result<std::vector<UndoJournal::PendingUndo>> UndoJournal::read_pending(const std::string& path) {
  std::ifstream in(path);
  if (!in) return usage_error(path + ": cannot read the undo journal (is this a results directory?)");
  std::map<int, PendingUndo> pending;
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty()) continue;
    // The last line may be cut short by a crash: skip what does not parse.
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("id")) continue;
    int id = j.value("id", 0);
    std::string state = j.value("state", "");
    // Only "done" settles an entry: a failed undo is still owed.
    if (state == "pending") pending[id] = PendingUndo{id, j.value("undo", ""), j.value("replay", nlohmann::json())};
    else if (state == "done") pending.erase(id);
  }
  std::vector<PendingUndo> out;
  for (auto it = pending.rbegin(); it != pending.rend(); ++it) out.push_back(it->second);
  return out;
}

void UndoJournal::append_outcome(const std::string& path, const PendingUndo& e, const Status& outcome) {
  std::ofstream out(path, std::ios::app);
  nlohmann::json j = {{"id", e.id}, {"state", outcome ? "recover_failed" : "done"}, {"undo", e.description}, {"by", "recover"}};
  if (outcome) j["error"] = outcome->message;
  out << j.dump() << "\n";
}

}  // namespace kapture
