// Compiled into every executable of the ThreadSanitizer build only
// (KAPTURE_TSAN, CMakeLists.txt). Debian's librdkafka creates its threads and
// locks its mutexes with C11 <threads.h> (thrd_create, mtx_lock, cnd_wait,
// call_once), which glibc implements by calling its pthread functions
// internally, past GCC 12's libtsan: it intercepts pthread_* but not the C11
// API. Unseen, a librdkafka thread crashes in its first malloc (TSan never set
// it up) and every hand-over between librdkafka's threads and ours would look
// like a race. These definitions in the executable take precedence over
// glibc's (the dynamic linker binds librdkafka's thrd_create@GLIBC_2.34 to
// them) and call the pthread functions through the PLT, where TSan sees them.
// glibc's types match: thrd_t is pthread_t, mtx_t/cnd_t/once_flag are the
// size and layout of pthread_mutex_t/pthread_cond_t/pthread_once_t.
#include <pthread.h>

#include <cerrno>
#include <cstdint>
#include <ctime>
#include <new>

namespace {

// glibc's <threads.h> values (not included: these declarations replace its).
enum { thrd_success = 0, thrd_busy = 1, thrd_error = 2, thrd_nomem = 3, thrd_timedout = 4 };
enum { mtx_plain = 0, mtx_recursive = 1, mtx_timed = 2 };

int result(int err) {
  switch (err) {
    case 0: return thrd_success;
    case ENOMEM: return thrd_nomem;
    case ETIMEDOUT: return thrd_timedout;
    case EBUSY: return thrd_busy;
    default: return thrd_error;
  }
}

struct Start {
  int (*func)(void*);
  void* arg;
};

void* start(void* p) {
  Start s = *static_cast<Start*>(p);
  delete static_cast<Start*>(p);
  return reinterpret_cast<void*>(static_cast<intptr_t>(s.func(s.arg)));
}

}  // namespace

extern "C" {

int thrd_create(pthread_t* thr, int (*func)(void*), void* arg) {
  auto* s = new (std::nothrow) Start{func, arg};
  if (!s) return thrd_nomem;
  int err = pthread_create(thr, nullptr, start, s);
  if (err) delete s;
  return err == EAGAIN ? thrd_nomem : result(err);
}

int thrd_join(pthread_t thr, int* res) {
  void* r = nullptr;
  if (pthread_join(thr, &r) != 0) return thrd_error;
  if (res) *res = static_cast<int>(reinterpret_cast<intptr_t>(r));
  return thrd_success;
}

int thrd_detach(pthread_t thr) { return result(pthread_detach(thr)); }

int mtx_init(pthread_mutex_t* m, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  if (type & mtx_recursive) pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  int err = pthread_mutex_init(m, &attr);
  pthread_mutexattr_destroy(&attr);
  return result(err);
}
int mtx_lock(pthread_mutex_t* m) { return result(pthread_mutex_lock(m)); }
int mtx_trylock(pthread_mutex_t* m) { return result(pthread_mutex_trylock(m)); }
int mtx_timedlock(pthread_mutex_t* m, const struct timespec* t) { return result(pthread_mutex_timedlock(m, t)); }
int mtx_unlock(pthread_mutex_t* m) { return result(pthread_mutex_unlock(m)); }
void mtx_destroy(pthread_mutex_t* m) { pthread_mutex_destroy(m); }

int cnd_init(pthread_cond_t* c) { return result(pthread_cond_init(c, nullptr)); }
int cnd_signal(pthread_cond_t* c) { return result(pthread_cond_signal(c)); }
int cnd_broadcast(pthread_cond_t* c) { return result(pthread_cond_broadcast(c)); }
int cnd_wait(pthread_cond_t* c, pthread_mutex_t* m) { return result(pthread_cond_wait(c, m)); }
int cnd_timedwait(pthread_cond_t* c, pthread_mutex_t* m, const struct timespec* t) { return result(pthread_cond_timedwait(c, m, t)); }
void cnd_destroy(pthread_cond_t* c) { pthread_cond_destroy(c); }

void call_once(pthread_once_t* flag, void (*func)(void)) { pthread_once(flag, func); }

}  // extern "C"
