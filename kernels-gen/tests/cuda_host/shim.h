// Host shim for the CUDA pass module: just enough CUDA for g++ to compile a model's module and
// run it on the CPU. A block is NLSQ's block size of std::threads; warp shuffles exchange
// values through a barrier per warp, __syncthreads meets at a barrier per block, shared
// variables are statics (blocks run one after another), and atomics are the compiler's.
#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>
using namespace std;
struct nlsq_dim3 { unsigned int x, y, z; };
static thread_local nlsq_dim3 threadIdx, blockIdx;
static nlsq_dim3 blockDim, gridDim;
#define __device__
#define __global__
#define __shared__ static
#define __forceinline__ inline
#define __launch_bounds__(n)
#define __restrict__ __restrict
static inline int __double2hiint(double d) { unsigned long long b; memcpy(&b, &d, 8); return (int)(unsigned int)(b >> 32); }
static inline unsigned int __float_as_uint(float f) { unsigned int b; memcpy(&b, &f, 4); return b; }
static std::barrier<>* nlsq_block_barrier;
static std::barrier<>* nlsq_warp_barriers[32];
static unsigned long long nlsq_slots[1024];
static inline void __syncthreads() { nlsq_block_barrier->arrive_and_wait(); }
template <class T> static inline T __shfl_down_sync(unsigned, T v, int off) {
    static_assert(sizeof(T) <= 8, "a register");
    const unsigned t = threadIdx.x, lane = t & 31u;
    std::barrier<>* b = nlsq_warp_barriers[t >> 5];
    unsigned long long bits = 0;
    memcpy(&bits, &v, sizeof(T));
    nlsq_slots[t] = bits;
    b->arrive_and_wait();
    const unsigned long long o = lane + (unsigned)off < 32u ? nlsq_slots[t + (unsigned)off] : bits;
    b->arrive_and_wait();
    T r;
    memcpy(&r, &o, sizeof(T));
    return r;
}
template <class T> static inline T atomicAdd(T* a, T v) { return __atomic_fetch_add(a, v, __ATOMIC_SEQ_CST); }
static inline unsigned long long atomicMin(unsigned long long* a, unsigned long long v) {
    unsigned long long o = __atomic_load_n(a, __ATOMIC_SEQ_CST);
    while (v < o && !__atomic_compare_exchange_n(a, &o, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
    return o;
}
