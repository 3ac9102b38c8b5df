#pragma once
// A bounded set of threads that end on their own (an HTTP/2 connection, an
// event stream's reader). A finished thread is joined when the next one
// starts, so the set never holds more than its limit of live threads and
// never blocks on one that is still going; the destructor joins the rest,
// which the owner must have told to end.
#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

namespace kapture {

class ThreadSet {
 public:
  explicit ThreadSet(size_t limit) : limit_(limit) {}
  ~ThreadSet() { join_all(); }
  ThreadSet(const ThreadSet&) = delete;
  ThreadSet& operator=(const ThreadSet&) = delete;

  // Runs `body` on a new thread; false (and nothing runs) when `limit`
  // threads are still running. An exception escaping `body` ends it, not
  // the process.
  bool start(std::function<void()> body);
  void join_all();

 private:
  struct Member {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> finished;
  };
  void join_finished();  // under mutex_

  size_t limit_;
  std::mutex mutex_;
  std::list<Member> members_;
};

}  // namespace kapture
