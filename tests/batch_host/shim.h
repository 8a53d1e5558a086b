// Host shim for the CUDA batch kernels: just enough CUDA for g++ to compile a batch module and
// run it on the CPU: the one-thread-per-fit kernel fit by fit, and the one-warp-per-fit kernel
// with 32 std::threads as the lanes, the warp intrinsics exchanging values through a barrier
// (a lane that skipped a shuffle its warp took would deadlock here, as it would misbehave on a
// GPU), and the thread kernel with y staged in "shared memory" by whole blocks of threads
// meeting at __syncthreads.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <barrier>
#include <thread>
#include <vector>
using namespace std;
struct nlsq_dim3 { unsigned int x, y, z; };
static thread_local nlsq_dim3 threadIdx, blockIdx;
static nlsq_dim3 blockDim, gridDim;
#define __device__
#define __global__
#define __shared__
#define __forceinline__ inline
#define __launch_bounds__(n)
#define __restrict__ __restrict
static inline double __longlong_as_double(unsigned long long v) { double d; memcpy(&d, &v, 8); return d; }
static std::barrier<>* nlsq_warp_barrier;
static unsigned long long nlsq_warp_slots[32];
static inline unsigned nlsq_lane() { return threadIdx.x & 31u; }
static inline unsigned long long nlsq_exchange(unsigned long long v, unsigned from) {
    nlsq_warp_slots[nlsq_lane()] = v;
    nlsq_warp_barrier->arrive_and_wait();
    const unsigned long long o = nlsq_warp_slots[from];
    nlsq_warp_barrier->arrive_and_wait();
    return o;
}
template <class T> static inline T __shfl_xor_sync(unsigned, T v, int off) {
    static_assert(sizeof(T) <= 8, "a register");
    unsigned long long b = 0;
    memcpy(&b, &v, sizeof(T));
    b = nlsq_exchange(b, nlsq_lane() ^ (unsigned)off);
    T r;
    memcpy(&r, &b, sizeof(T));
    return r;
}
template <class T> static inline T __shfl_down_sync(unsigned, T v, int) { return v; }
static inline int nlsq_count(bool p) {
    nlsq_warp_slots[nlsq_lane()] = p ? 1 : 0;
    nlsq_warp_barrier->arrive_and_wait();
    int n = 0;
    for (int l = 0; l < 32; ++l) n += (int)nlsq_warp_slots[l];
    nlsq_warp_barrier->arrive_and_wait();
    return n;
}
static inline bool __all_sync(unsigned, bool p) { return nlsq_count(p) == 32; }
static inline bool __any_sync(unsigned, bool p) { return nlsq_count(p) > 0; }
static std::barrier<>* nlsq_block_barrier;
static inline void __syncthreads() {
    if (nlsq_block_barrier) nlsq_block_barrier->arrive_and_wait();
}
template <class T> static inline T atomicAdd(T* a, T v) { T o = *a; *a += v; return o; }
