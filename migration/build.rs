//! Hashes the migrations' source into `MIGRATION_SOURCE_HASH`, so a migration edited
//! before it lands changes `fingerprint()` (test templates are rebuilt, never stale).

use std::fs;

fn main() {
    println!("cargo:rerun-if-changed=src");
    let mut files: Vec<_> = fs::read_dir("src").map(|d| d.flatten().map(|e| e.path()).collect()).unwrap_or_default();
    files.sort();
    let mut h: u64 = 0xcbf29ce484222325;
    for f in files {
        for b in fs::read(&f).unwrap_or_default() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    println!("cargo:rustc-env=MIGRATION_SOURCE_HASH={h:016x}");
}
