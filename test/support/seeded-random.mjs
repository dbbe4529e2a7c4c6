// The one seeded random number generator of the tests and benchmarks
// (mulberry32: small, well mixed, 32-bit state), so generated profiles,
// workloads and stores are the same on every run and every machine.

/**
 * @param {number} seed
 * @returns {() => number} floats in [0, 1)
 */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
