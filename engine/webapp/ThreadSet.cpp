#include "webapp/ThreadSet.h"

#include <spdlog/spdlog.h>

#include <exception>

namespace kapture {

bool ThreadSet::start(std::function<void()> body) {
  std::lock_guard lock(mutex_);
  join_finished();
  if (members_.size() >= limit_) return false;
  auto finished = std::make_shared<std::atomic<bool>>(false);
  std::thread t([body = std::move(body), finished]() mutable {
    try {
      // Moved here so that what it holds is released inside the try, and
      // before the thread counts as finished.
      auto run = std::move(body);
      run();
    } catch (const std::exception& e) {
      spdlog::error("thread ended by an exception: {}", e.what());
    } catch (...) {
      spdlog::error("thread ended by an unknown exception");
    }
    *finished = true;
  });
  members_.push_back(Member{std::move(t), std::move(finished)});
  return true;
}

void ThreadSet::join_finished() {
  for (auto it = members_.begin(); it != members_.end();) {
    if (*it->finished) {
      it->thread.join();
      it = members_.erase(it);
    } else {
      ++it;
    }
  }
}

void ThreadSet::join_all() {
  // Joined outside the lock, so that a thread that is ending can still
  // start another one; that one is joined in the next round.
  for (;;) {
    std::list<Member> all;
    {
      std::lock_guard lock(mutex_);
      all.swap(members_);
    }
    if (all.empty()) return;
    for (auto& m : all) m.thread.join();
  }
}

}  // namespace kapture
