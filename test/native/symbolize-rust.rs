// profctl symbolization test program: Rust functions whose symbol names are
// mangled (legacy or v0, chosen by -C symbol-mangling-version).
mod engine {
    #[inline(never)]
    pub fn crunch_numbers(n: u64) -> u64 {
        (0..n).fold(0u64, |a, x| a.wrapping_mul(31).wrapping_add(x))
    }
}

fn main() {
    let n = std::env::args().count() as u64 * 1000;
    std::process::exit((engine::crunch_numbers(n) % 2) as i32);
}
