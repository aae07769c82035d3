//! The machine's limit for never-seen RS256 tokens: aws-lc's RSA-2048
//! PKCS#1 v1.5 SHA-256 verification alone (the check the addon makes), on
//! one thread and on one thread per core, with no JavaScript, no parsing and
//! no hand-offs. `npm run bench` reports each getSession pattern as a
//! fraction of the all-core figure.
//!
//! Run by bench/run.js as
//! `cargo bench --no-default-features --bench verify_limit -- <measure ms>`
//! (without the napi layer: a binary cannot link napi's symbols, which only
//! Node provides). `BENCH_RSA_N`, `BENCH_RSA_E` (base64url JWK members) and
//! `BENCH_JWT` (an RS256 token signed by that key) make it verify the
//! bench's own token; without them it signs one with a key of its own.
//! The last line of output is JSON: `{ threads, oneCore, allCores }` in
//! verifications per second.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    KeyPair, ParsedPublicKey, RsaKeyPair, RsaPublicKeyComponents, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// What one verification checks: the signing input and its signature.
struct SignedInput {
    key: ParsedPublicKey,
    message: Vec<u8>,
    signature: Vec<u8>,
}

fn decode(what: &str, text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap_or_else(|error| panic!("{what} is not base64url: {error}"))
}

fn from_environment() -> Option<SignedInput> {
    let n = std::env::var("BENCH_RSA_N").ok()?;
    let e = std::env::var("BENCH_RSA_E").ok()?;
    let jwt = std::env::var("BENCH_JWT").ok()?;
    let (message, signature) = jwt.rsplit_once('.').expect("BENCH_JWT has a signature part");
    let components = RsaPublicKeyComponents { n: decode("BENCH_RSA_N", &n), e: decode("BENCH_RSA_E", &e) };
    let key = components.to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256).expect("BENCH_RSA_N/E is an RSA key");
    Some(SignedInput { key, message: message.as_bytes().to_vec(), signature: decode("BENCH_JWT signature", signature) })
}

/// A fresh RSA-2048 key and a token-sized message signed with it.
fn self_signed() -> SignedInput {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).expect("an RSA-2048 key");
    let message = vec![b'x'; 300];
    let mut signature = vec![0; pair.public_modulus_len()];
    pair.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), &message, &mut signature).expect("a signature");
    let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, pair.public_key().as_ref()).expect("the public key");
    SignedInput { key, message, signature }
}

/// Verifications per second on `threads` threads verifying side by side.
fn verifications_per_second(input: &Arc<SignedInput>, threads: usize, warm_up: Duration, measure: Duration) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (input, stop) = (input.clone(), stop.clone());
            thread::spawn(move || {
                let mut counted = 0u64;
                let mut measuring_since = None;
                let started = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    let valid = input.key.verify_sig(&input.message, &input.signature).is_ok();
                    assert!(valid, "the signature verifies");
                    match measuring_since {
                        Some(_) => counted += 1,
                        None if started.elapsed() >= warm_up => measuring_since = Some(Instant::now()),
                        None => {}
                    }
                }
                let elapsed = measuring_since.map_or(Duration::ZERO, |since| since.elapsed());
                (counted, elapsed)
            })
        })
        .collect();
    thread::sleep(warm_up + measure);
    stop.store(true, Ordering::Relaxed);
    workers
        .into_iter()
        .map(|worker| worker.join().expect("a verifying thread"))
        .map(|(counted, elapsed)| counted as f64 / elapsed.as_secs_f64().max(f64::EPSILON))
        .sum()
}

fn main() {
    // `cargo bench` passes `--bench` after ours; the first number is the duration.
    let measure_ms = std::env::args().skip(1).find_map(|arg| arg.parse::<u64>().ok()).unwrap_or(2000);
    let measure = Duration::from_millis(measure_ms);
    let warm_up = Duration::from_millis(200);
    let input = Arc::new(from_environment().unwrap_or_else(self_signed));
    let threads = thread::available_parallelism().map_or(1, |cores| cores.get());
    let one_core = verifications_per_second(&input, 1, warm_up, measure);
    let all_cores = verifications_per_second(&input, threads, warm_up, measure);
    println!("RSA-2048 verify: {one_core:.0}/s on one thread, {all_cores:.0}/s on {threads}");
    println!("{{\"threads\":{threads},\"oneCore\":{one_core:.0},\"allCores\":{all_cores:.0}}}");
}
