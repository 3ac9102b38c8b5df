#pragma once
// SIGINT/SIGTERM are blocked in every thread and taken by one watcher thread
// with sigwait, which calls back into ordinary code: no global flag, nothing
// async-signal-unsafe. Construct it before any other thread starts.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <thread>

namespace kapture {

class SignalWatcher {
 public:
  SignalWatcher() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGUSR1);  // our own wake-up at shutdown
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this] { watch(); });
  }
  ~SignalWatcher() {
    done_ = true;
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
  }
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

  void on_signal(std::function<void()> fn) {
    std::lock_guard lock(mu_);
    fn_ = std::move(fn);
    if (received_ && fn_) fn_();
  }
  bool received() const { return received_; }

 private:
  void watch() {
    while (!done_) {
      int sig = 0;
      if (sigwait(&set_, &sig) != 0) continue;
      if (sig == SIGUSR1) continue;
      received_ = true;
      std::lock_guard lock(mu_);
      if (fn_) fn_();
    }
  }
  sigset_t set_;
  std::thread thread_;
  std::atomic<bool> done_{false};
  std::atomic<bool> received_{false};
  std::mutex mu_;
  std::function<void()> fn_;
};

}  // namespace kapture
