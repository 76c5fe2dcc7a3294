// What the host-emulation programs (cuda/dev/*_host.cpp) share: CHECK lines and the failure count,
// random test data, bit-for-bit and relative-error comparisons, and the `host` entry point that prints
// "RESULT <name> host OK|FAIL (<n> failed)" (CudaDevHostEmulationTest reads both).
#pragma once
#include "dev/host_threads.h"
#include "common.cuh"  // to_f32, from_f32

#include <cstdio>
#include <string>

namespace host_checks {

inline int failures = 0;
inline void check(bool ok, const std::string& what) {
    printf("CHECK %-100s %s\n", what.c_str(), ok ? "OK" : "FAIL");
    if (!ok) failures++;
}

inline unsigned long long rng = 0x2545F4914F6CDD1Dull;
inline double uniform() {  // xorshift64*, [0, 1)
    rng ^= rng >> 12; rng ^= rng << 25; rng ^= rng >> 27;
    return (double)((rng * 0x2545F4914F6CDD1Dull) >> 11) * 0x1.0p-53;
}
// count values uniform in [lo, hi), each rounded once to T
template <typename T> std::vector<T> random_tensor(size_t count, double lo, double hi) {
    std::vector<T> v(count);
    for (T& e : v) e = from_f32<T>((float)(lo + (hi - lo) * uniform()));
    return v;
}
inline std::vector<float> random_floats(size_t count, double lo, double hi) { return random_tensor<float>(count, lo, hi); }
// outputs start as NaN, so an element a kernel does not write fails every comparison
template <typename T> std::vector<T> poisoned(size_t count) { return std::vector<T>(count, from_f32<T>(NAN)); }
template <typename T> bool same_bits(const std::vector<T>& a, const std::vector<T>& b) {
    return a.size() == b.size() && memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0;
}
template <typename T> bool all_finite(const std::vector<T>& a) {
    for (const T& e : a) if (!std::isfinite(to_f32(e))) return false;
    return true;
}
// ||got - ref|| / ||ref||; a non-finite element (an unwritten poisoned one) makes it infinite
template <typename G> double rel_err(const std::vector<G>& got, const std::vector<double>& ref) {
    double num = 0, den = 0;
    for (size_t i = 0; i < ref.size(); i++) {
        const double g = to_f32(got[i]);
        if (!std::isfinite(g)) return INFINITY;
        num += (g - ref[i]) * (g - ref[i]);
        den += ref[i] * ref[i];
    }
    return std::sqrt(num / std::max(den, 1e-300));
}
inline int ceil_div(long long a, long long b) { return (int)((a + b - 1) / b); }

// main() of a host program: `prog host` runs body() and prints the RESULT line.
template <typename Body> int host_main(int argc, char** argv, const char* name, Body body) {
    if (argc < 2 || std::string(argv[1]) != "host") {
        fprintf(stderr, "usage: %s host\n", argv[0]);
        return 2;
    }
    body();
    printf("RESULT %s host %s (%d failed)\n", name, failures ? "FAIL" : "OK", failures);
    return failures ? 1 : 0;
}

}  // namespace host_checks
