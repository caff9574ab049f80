// SPDX-License-Identifier: GPL-2.0-only
// C++ whose hot code is inlined templates (std::sort, a method): the
// --inline agreement test on native code (tests/e2e/inline_cxx.sh).
#include <vector>
#include <algorithm>
#include <cstdlib>
#include <ctime>
namespace ns {
template <class T> struct Acc {
	T total = 0;
	inline void add(T v) { total += v * 3 + (v >> 2); }
};
template <class T> __attribute__((noinline)) T work(std::vector<T> &v) {
	Acc<T> a;
	std::sort(v.begin(), v.end());
	for (auto x : v) a.add(x);
	return a.total;
}
}
int main(int argc, char **argv) {
	time_t end = time(nullptr) + (argc > 1 ? atoi(argv[1]) : 2);
	long s = 0;
	while (time(nullptr) < end) {
		std::vector<long> v;
		for (long i = 0; i < 20000; i++) v.push_back((i * 7919) % 10007);
		s += ns::work(v);
	}
	return s < 0;  /* uses s; the sum stays positive, so the status is 0 */
}
