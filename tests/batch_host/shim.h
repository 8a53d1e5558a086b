// Host shim for the CUDA batch kernels: just enough CUDA for g++ to compile a batch module and
// run its one-thread-per-fit kernel sequentially, fit by fit (no staging, no warps: the warp
// intrinsics below are placeholders for the template instantiation only).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
using namespace std;
struct nlsq_dim3 { unsigned int x, y, z; };
static nlsq_dim3 threadIdx, blockIdx, blockDim, gridDim;
#define __device__
#define __global__
#define __shared__
#define __forceinline__ inline
#define __launch_bounds__(n)
#define __restrict__ __restrict
static inline double __longlong_as_double(unsigned long long v) { double d; memcpy(&d, &v, 8); return d; }
template <class T> static inline T __shfl_xor_sync(unsigned, T v, int) { return v; }
template <class T> static inline T __shfl_down_sync(unsigned, T v, int) { return v; }
static inline bool __all_sync(unsigned, bool p) { return p; }
static inline bool __any_sync(unsigned, bool p) { return p; }
static inline void __syncthreads() {}
template <class T> static inline T atomicAdd(T* a, T v) { T o = *a; *a += v; return o; }
