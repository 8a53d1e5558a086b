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
static inline int __double2hiint(double d) { unsigned long long b; memcpy(&b, &d, 8); return (int)(unsigned int)(b >> 32); }
static inline unsigned int __float_as_uint(float f) { unsigned int b; memcpy(&b, &f, 4); return b; }
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
// The model's `exp` as the CPU backend evaluates it: the runtime's block exp
// (nlsq-runtime/src/block/math.rs, fdlibm's algorithm without branches), the same operations in
// the same order, so that the kernel and the CPU backend iterate alike. Kernel code only: it
// follows every header.
static inline double nlsq_from_bits(unsigned long long b) { return __longlong_as_double(b); }
static inline unsigned long long nlsq_to_bits(double d) { unsigned long long b; memcpy(&b, &d, 8); return b; }
static inline double nlsq_round_to_int(double v, long long* k) {
    const double shifter = 6755399441055744.0;
    const double t = v + shifter;
    *k = (long long)(nlsq_to_bits(t) - nlsq_to_bits(shifter));
    return t - shifter;
}
static inline double nlsq_pow2(long long k) { return nlsq_from_bits((unsigned long long)(k + 1023) << 52); }
static inline double nlsq_block_exp(double x) {
    const double ln2_hi = nlsq_from_bits(0x3fe62e42fee00000ull);
    const double ln2_lo = nlsq_from_bits(0x3dea39ef35793c76ull);
    const double p1 = nlsq_from_bits(0x3fc555555555553eull);
    const double p2 = nlsq_from_bits(0xbf66c16c16bebd93ull);
    const double p3 = nlsq_from_bits(0x3f11566aaf25de2cull);
    const double p4 = nlsq_from_bits(0xbebbbd41c5d26bf1ull);
    const double p5 = nlsq_from_bits(0x3e66376972bea4d0ull);
    const double xc = x < -746.0 ? -746.0 : (x > 710.0 ? 710.0 : x);
    long long k, k1;
    const double kf = nlsq_round_to_int(xc * 1.4426950408889634, &k);
    const double hi = xc - kf * ln2_hi;
    const double lo = kf * ln2_lo;
    const double r = hi - lo;
    const double t = r * r;
    const double c = r - t * (p1 + t * (p2 + t * (p3 + t * (p4 + t * p5))));
    const double y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    nlsq_round_to_int(kf * 0.5, &k1);
    return y * nlsq_pow2(k1) * nlsq_pow2(k - k1);
}
static inline double nlsq_exp_of(double x) { return nlsq_block_exp(x); }
static inline float nlsq_exp_of(float x) { return expf(x); }
#define exp(x) nlsq_exp_of(x)
