// profctl symbolization test program: C++ functions with mangled names
// (a namespace, a class method, a template instance, an overload).
#include <cstdlib>
#include <vector>

namespace shapes {
struct Widget {
  long spin(int turns);
};

__attribute__((noinline)) long Widget::spin(int turns) {
  long acc = 0;
  for (int i = 0; i < turns; i++) acc += i * 3;
  return acc;
}

template <typename T>
__attribute__((noinline)) T twice(T v) { return v + v; }

__attribute__((noinline)) double area(double w, double h) { return w * h; }
__attribute__((noinline)) long area(long w) { return w * w; }
}  // namespace shapes

int main(int argc, char **argv) {
  shapes::Widget w;
  long n = argc > 1 ? std::atol(argv[1]) : 10;
  std::vector<long> v;
  v.push_back(w.spin(static_cast<int>(n)));
  v.push_back(shapes::twice<long>(n));
  v.push_back(static_cast<long>(shapes::area(1.5, static_cast<double>(n))));
  v.push_back(shapes::area(n));
  return static_cast<int>(v.size() == 4 ? 0 : 1);
}
