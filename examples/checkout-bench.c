/* A small CPU benchmark used by the README's examples: a fake checkout that
 * hashes a cart, prices it and renders a receipt. Build with -DSLOW_PRICING
 * to plant the regression the `profctl diff` example catches.
 * Build: cc -O0 -fno-omit-frame-pointer (every function keeps its frame) -o checkout-bench checkout-bench.c */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static volatile uint64_t sink;

__attribute__((noinline)) uint64_t hash_cart(uint64_t x) {
  for (int i = 0; i < 40000; i++) x = (x ^ (x >> 31)) * 0x9e3779b97f4a7c15ull + i;
  return x;
}

__attribute__((noinline)) uint64_t price_items(uint64_t x) {
#ifdef SLOW_PRICING
  int rounds = 60000;
#else
  int rounds = 20000;
#endif
  for (int i = 0; i < rounds; i++) x = x * 6364136223846793005ull + 1442695040888963407ull;
  return x;
}

__attribute__((noinline)) uint64_t render_receipt(uint64_t x) {
  for (int i = 0; i < 25000; i++) x += (x << 7) ^ (x >> 3) ^ (uint64_t)i;
  return x;
}

__attribute__((noinline)) uint64_t checkout(uint64_t x) {
  x = hash_cart(x);
  x = price_items(x);
  return render_receipt(x);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 20000;
  uint64_t x = 1;
  for (int i = 0; i < n; i++) x = checkout(x);
  sink = x;
  return 0;
}
